# Everything runs from a project virtualenv and a pinned Node install of the
# test provider, so `make test` gives the same result on a laptop and in CI.

PYTHON ?= python3
VENV ?= .venv
PY39 ?= $(HOME)/.pyenv/versions/3.9.18/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OIDC_DIR := tests/oidc
NODE_STAMP := $(OIDC_DIR)/node_modules/.installed
# A py-oidc-auth server for interop tests, in its own virtualenv (it needs Python 3.10+).
OIDC_AUTH_VENV := $(VENV)-oidc-auth
OIDC_AUTH_STAMP := $(OIDC_AUTH_VENV)/.installed
OIDC_AUTH_PYTHON ?= python3
PYTEST_ARGS ?=

# ruff cannot read setup.cfg, so its settings live here, once. Optional[X]
# stays allowed: on 3.9, typing.get_type_hints() cannot evaluate `X | None`.
RUFF_ARGS := --target-version py39 --line-length 100 --select E,F,W,I,B,UP,SIM,RUF \
	--ignore UP007,UP045

.PHONY: all venv npm oidc-auth redis test lint typecheck pytest demo bench bench-fleet bench-peers soak test-py39 clean

all: test

venv: $(STAMP)

$(STAMP): setup.cfg setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

npm: $(NODE_STAMP)

$(NODE_STAMP): $(OIDC_DIR)/package.json $(OIDC_DIR)/package-lock.json
	cd $(OIDC_DIR) && npm ci --no-audit --no-fund
	touch $@

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check $(RUFF_ARGS) h2oauth_lite tests

# mypy exits with an error on a package that has no modules yet.
typecheck: $(STAMP)
	@if find h2oauth_lite -name '*.py' | grep -q .; then \
		echo "$(BIN)/mypy --strict h2oauth_lite"; \
		$(BIN)/mypy --strict h2oauth_lite; \
	else \
		echo "typecheck: no modules in h2oauth_lite yet"; \
	fi

oidc-auth: $(OIDC_AUTH_STAMP)

$(OIDC_AUTH_STAMP): tests/py_oidc_auth/requirements.txt
	$(OIDC_AUTH_PYTHON) -m venv $(OIDC_AUTH_VENV)
	$(OIDC_AUTH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-r tests/py_oidc_auth/requirements.txt
	touch $@

# A real redis-server (7.x) for the fleet tests: Debian 12 ships 7.0. Installed
# with apt where the machine has it and we are root; elsewhere, say what to install.
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server; \
		else \
			echo "redis-server is missing: install Redis 7 (e.g. apt-get install redis-server)"; \
			exit 1; \
		fi; \
	}
	@redis-server --version

pytest: $(STAMP) $(NODE_STAMP) $(OIDC_AUTH_STAMP) redis
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m tests.demo

bench: $(STAMP) $(NODE_STAMP) redis
	$(BIN)/python -m tests.bench.run
	$(BIN)/python -m tests.bench.fleet

bench-fleet: $(STAMP) redis
	$(BIN)/python -m tests.bench.fleet

bench-peers: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m tests.bench.peers

soak: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m tests.bench.soak

# The oldest supported Python, in its own virtualenv; not part of `make test`.
test-py39:
	$(MAKE) test PYTHON=$(PY39) VENV=.venv39

clean:
	rm -rf .venv .venv39 .venv-oidc-auth .venv39-oidc-auth .venv-h2ogpte $(OIDC_DIR)/node_modules build dist *.egg-info \
		.mypy_cache .ruff_cache .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

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
# Airflow 3 for the integration tests, in its own virtualenv (it needs Python 3.10+),
# pinned by a committed freeze, with this package installed editable into it.
AIRFLOW_VENV := .venv-airflow
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed
AIRFLOW_PYTHON ?= python3
AIRFLOW_REQUIREMENTS := tests/interop/airflow/requirements.txt
PYTEST_ARGS ?=
# The lowest versions setup.cfg allows: `make test-min` runs the whole suite on them,
# with the oldest supported Python, so the floors stay true (tests/test_packaging.py
# checks that these and setup.cfg agree).
MIN_VENV ?= .venv-min
MIN_PYTHON ?= $(if $(wildcard $(PY39)),$(PY39),$(PYTHON))
MIN_REQUIREMENTS := requests==2.30.0 urllib3==2.0.7 PyJWT[crypto]==2.4.0 redis==4.2.0
MIN_STAMP := $(MIN_VENV)/.installed

# ruff cannot read setup.cfg, so its settings live here, once. Optional[X]
# stays allowed: on 3.9, typing.get_type_hints() cannot evaluate `X | None`.
RUFF_ARGS := --target-version py39 --line-length 100 --select E,F,W,I,B,UP,SIM,RUF \
	--ignore UP007,UP045

.PHONY: all venv npm oidc-auth airflow redis test lint typecheck pytest test-min demo bench \
	bench-airflow bench-fleet bench-peers soak test-py39 clean

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

test: lint typecheck pytest test-min

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

$(OIDC_AUTH_STAMP): tests/interop/py_oidc_auth/requirements.txt
	$(OIDC_AUTH_PYTHON) -m venv $(OIDC_AUTH_VENV)
	$(OIDC_AUTH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-r tests/interop/py_oidc_auth/requirements.txt
	touch $@

airflow: $(AIRFLOW_STAMP)

# Without a Python 3.10+ the venv is not built and the Airflow tests skip (they fail under CI).
$(AIRFLOW_STAMP): $(AIRFLOW_REQUIREMENTS) setup.cfg setup.py
	@if $(AIRFLOW_PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then \
		set -ex; \
		$(AIRFLOW_PYTHON) -m venv $(AIRFLOW_VENV); \
		$(AIRFLOW_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip; \
		$(AIRFLOW_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
			-r $(AIRFLOW_REQUIREMENTS); \
		$(AIRFLOW_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .; \
		touch $@; \
	else \
		echo "airflow: $(AIRFLOW_PYTHON) is not Python 3.10+, so the Airflow tests will skip"; \
	fi

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

pytest: $(STAMP) $(NODE_STAMP) $(OIDC_AUTH_STAMP) $(AIRFLOW_STAMP) redis
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(MIN_STAMP): setup.cfg setup.py Makefile
	rm -rf $(MIN_VENV)
	$(MIN_PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		$(MIN_REQUIREMENTS) pytest pytest-timeout hypothesis
	$(MIN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# The Airflow suite runs in Airflow's own venv with Airflow's pinned requests, so it
# proves nothing about the floors; `make pytest` runs it.
test-min: $(MIN_STAMP) $(NODE_STAMP) $(OIDC_AUTH_STAMP) redis
	H2OAUTH_LITE_MIN_REQUIREMENTS="$(MIN_REQUIREMENTS)" OIDC_AUTH_PYTHON=$(OIDC_AUTH_VENV)/bin/python \
		$(MIN_VENV)/bin/python -m pytest --ignore=tests/interop/test_airflow.py $(PYTEST_ARGS)

demo: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m tests.demo

bench: $(STAMP) $(NODE_STAMP) redis
	$(BIN)/python -m tests.bench.run
	$(BIN)/python -m tests.bench.fleet

bench-fleet: $(STAMP) redis
	$(BIN)/python -m tests.bench.fleet

bench-airflow: $(STAMP) $(AIRFLOW_STAMP)
	$(BIN)/python -m tests.bench.airflow

bench-peers: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m tests.bench.peers

soak: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m tests.bench.soak

# The oldest supported Python, in its own virtualenv; not part of `make test`.
test-py39:
	$(MAKE) test PYTHON=$(PY39) VENV=.venv39

clean:
	rm -rf .venv .venv39 .venv-min .venv-oidc-auth .venv39-oidc-auth .venv-h2ogpte $(AIRFLOW_VENV) \
		$(OIDC_DIR)/node_modules build dist *.egg-info \
		.mypy_cache .ruff_cache .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

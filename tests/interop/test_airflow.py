"""H2OAuthHook inside real Airflow 3 (the pinned ``.venv-airflow``, built by ``make airflow``).

pytest runs here, without Airflow; every Airflow step is a subprocess of the
Airflow virtualenv with its own ``AIRFLOW_HOME`` (sqlite) in a temporary
directory. The token endpoint and the protected API are a loopback server in
this process (tests/interop/airflow_idp.py), which counts every request and
knows every secret it handed out, so the task logs, XComs and rendered
templates can be scanned for all of them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import pytest
import requests

from h2oauth_lite.integrations import airflow_provider
from tests.interop.airflow_env import (
    AIRFLOW,
    DAGS,
    HERE,
    VENV,
    Airflow,
    dags_test,
    figures_line,
    json_connection,
    result_of,
    running_airflow,
    task_env,
    uri_connection,
)
from tests.interop.airflow_idp import IdP, start_idp
from tests.support.loopback import LoopbackServer

pytestmark = [pytest.mark.interop, pytest.mark.slow, pytest.mark.timeout(600)]


def _require_airflow() -> None:
    if AIRFLOW.is_file() and (VENV / ".installed").is_file():
        return
    reason = f"{VENV} is missing: `make airflow` builds it (Python 3.10+)"
    # CI must prove the integration; a skip there would hide a broken install.
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"Airflow is required under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Airflow]:
    _require_airflow()
    with running_airflow(tmp_path_factory.mktemp("airflow-home")) as flow:
        yield flow


@pytest.fixture
def idp() -> Iterator[tuple[IdP, LoopbackServer]]:
    state, server = start_idp(lifetime=2.0)
    try:
        yield state, server
    finally:
        server.stop()


def assert_no_secret(text: str, state: IdP, *, where: str) -> None:
    leaked = [secret for secret in state.every_secret() if secret in text]
    assert not leaked, f"{len(leaked)} secret(s) in {where}"


# -- registration ---------------------------------------------------------------------


def test_providers_list_shows_h2oauth_lite(airflow: Airflow) -> None:
    listed = airflow.run("providers", "list", "-o", "json")
    assert listed.returncode == 0, listed.stdout[-3000:]
    providers = {entry["package_name"]: entry for entry in json.loads(listed.stdout)}
    assert providers["h2oauth-lite"]["version"] == "0.1.0"
    assert "OAuth 2.0" in providers["h2oauth-lite"]["description"]


def test_connection_form_comes_from_the_provider_info(
    airflow: Airflow, idp: tuple[IdP, LoopbackServer]
) -> None:
    state, server = idp
    probe = airflow.run(
        str(HERE / "hook_probe.py"),
        "h2oauth_default",
        "wrong_secret",
        python=True,
        extra_env={
            # The same client, once as JSON with the right secret, once as a URI with a wrong one.
            "AIRFLOW_CONN_H2OAUTH_DEFAULT": json_connection(server, state),
            "AIRFLOW_CONN_WRONG_SECRET": uri_connection(server, state, "not-the-secret"),
        },
    )
    result = result_of(probe)
    expected = airflow_provider.UI_FIELD_BEHAVIOUR
    behaviour = result["field_behaviour"]
    assert behaviour["hidden_fields"] == expected["hidden_fields"]
    assert behaviour["relabeling"] == expected["relabeling"]
    assert behaviour["placeholders"]["host"] == expected["placeholders"]["host"]
    assert result["widgets"] == sorted(
        f"extra__h2oauth__{name}" for name in airflow_provider.CONN_FIELDS
    )
    assert result["provider_version"] == "0.1.0"
    # Read declaratively: Airflow 3.3 did not call the deprecated hook method.
    assert result["hook_warnings"] == []
    good, bad = (
        result["test_connection"]["h2oauth_default"],
        result["test_connection"]["wrong_secret"],
    )
    assert good[0] is True and good[1].startswith("token received, expires in ")
    assert bad == [
        False,
        "Authentication request failed (status: 401 Unauthorized): token request "
        f"(client_credentials grant) at {server.url}/token; error: invalid_client; "
        "description: bad client",
    ]
    assert_no_secret(probe.stdout + probe.stderr, state, where="test_connection output")


def test_the_test_button_through_the_rest_api(
    airflow: Airflow, idp: tuple[IdP, LoopbackServer]
) -> None:
    state, server = idp
    session = requests.Session()
    token = session.get(f"{airflow.api_url}/auth/token", timeout=10).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    answers = {}
    for label, secret in (("good", state.client_secret), ("bad", "not-the-secret")):
        body = {
            "connection_id": f"form_{label}",
            "conn_type": "h2oauth",
            "host": f"{server.url}/token",
            "login": state.client_id,
            "password": secret,
            "extra": json.dumps({"scope": "api"}),
        }
        response = session.post(f"{airflow.api_url}/api/v2/connections/test", json=body, timeout=60)
        assert response.status_code == 200, response.text
        answers[label] = response.json()
    assert answers["good"]["status"] is True
    assert answers["good"]["message"].startswith("token received, expires in ")
    assert answers["bad"]["status"] is False
    assert answers["bad"]["message"].startswith("Authentication request failed (status: 401")
    assert_no_secret(json.dumps(answers), state, where="Test button answers")


# -- tasks ------------------------------------------------------------------------------


def test_example_dag_through_dag_test_with_a_uri_connection(
    airflow: Airflow, idp: tuple[IdP, LoopbackServer]
) -> None:
    state, server = idp
    completed = airflow.run(
        str(HERE / "run_dag_test.py"),
        str(DAGS / "h2oauth_example.py"),
        "example_dag",
        json.dumps({"calls": 5, "pause": 0.0}),
        python=True,
        extra_env=task_env(server, uri_connection(server, state)),
    )
    result = result_of(completed)
    assert result["run"] == "success", completed.stdout[-3000:]
    assert sorted(result["tasks"].values()) == ["success"] * 6
    figures = state.figures()
    assert figures["api_calls"] == 30
    assert figures["api_refusals"] == 0
    assert_no_secret(completed.stdout + completed.stderr, state, where="dag.test() output")


def test_airflow_tasks_test_registers_the_tokens_with_the_masker(
    airflow: Airflow, idp: tuple[IdP, LoopbackServer]
) -> None:
    state, server = idp
    seed = state.seed()
    control = "visible-" + os.urandom(6).hex()
    completed = airflow.run(
        "tasks",
        "test",
        "h2oauth_checks",
        "log_token",
        "-t",
        json.dumps({"control": control}),
        extra_env=task_env(server, json_connection(server, state, refresh_token=seed)),
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    assert state.figures()["api_calls"] == 1
    assert state.figures()["api_refusals"] == 0
    # `tasks test` runs the task in the CLI process and prints its log to the console.
    # What the task prints goes through the masker there; Airflow 3.3's console
    # handler does not pass stdlib logging records through it, not even for Airflow's
    # own connection passwords (the task log files of real runs do: see the
    # LocalExecutor test below), so only the print is checked here.
    printed = [line for line in output.splitlines() if "printed header:" in line]
    assert printed == ["printed header: Bearer ***"]
    assert f"control value: {control}" in output


def test_local_executor_task_log_files_xcom_and_templates_hold_no_token(
    airflow: Airflow, idp: tuple[IdP, LoopbackServer]
) -> None:
    state, server = idp
    seed = state.seed()
    control = "visible-" + os.urandom(6).hex()
    env = task_env(server, json_connection(server, state, refresh_token=seed))
    dags_test(airflow, "h2oauth_checks", {"control": control}, env)
    log_files = sorted(
        airflow.home.glob("logs/dag_id=h2oauth_checks/**/task_id=log_token/**/*.log")
    )
    assert log_files, "no task log file written"
    task_log = "\n".join(path.read_text() for path in log_files)
    assert '"access token: ***"' in task_log
    assert '"refresh token: ***"' in task_log
    assert "Bearer ***" in task_log
    assert f"control value: {control}" in task_log
    assert state.refresh_tokens[seed][1] is True  # the seed was used; its descendant logged
    assert_no_secret(airflow.logs(), state, where="the Airflow log files")
    stored = airflow.database_text()
    assert control in stored and state.client_id in stored  # the scan reads the right rows
    assert_no_secret(stored, state, where="XComs and rendered templates")


def test_six_tasks_of_25_calls_refresh_once_per_expiry(
    airflow: Airflow, idp: tuple[IdP, LoopbackServer]
) -> None:
    state, server = idp
    started = time.monotonic()
    output = dags_test(
        airflow,
        "h2oauth_example",
        {"calls": 25, "pause": 0.2},
        task_env(server, json_connection(server, state)),
    )
    print(
        "\n"
        + figures_line(
            "6 tasks x 25 calls, 2 s tokens, client credentials", state, time.monotonic() - started
        )
    )
    figures = state.figures()
    assert figures["api_calls"] == 150
    assert figures["api_refusals"] == 0
    assert figures["failed_token_requests"] == 0
    # Every token requested served calls: no task process refreshed what another had.
    assert figures["token_requests"] <= figures["tokens_used_at_api"] + 1
    assert state.duplicates(window=0.5) <= 1
    assert output.count("state=success") >= 1
    assert_no_secret(airflow.logs(), state, where="the Airflow log files")


def test_a_rotating_refresh_token_from_the_connection_survives_every_task(
    airflow: Airflow, idp: tuple[IdP, LoopbackServer]
) -> None:
    state, server = idp
    seed = state.seed()
    env = task_env(server, json_connection(server, state, refresh_token=seed))
    started = time.monotonic()
    dags_test(airflow, "h2oauth_example", {"calls": 25, "pause": 0.2}, env)
    print(
        "\n"
        + figures_line(
            "6 tasks x 25 calls, 2 s tokens, rotating refresh token",
            state,
            time.monotonic() - started,
        )
    )
    # A second run names the same, long spent, seed: the stored descendant carries on.
    dags_test(airflow, "h2oauth_example", {"calls": 3, "pause": 0.0}, env)
    figures = state.figures()
    assert figures["api_calls"] == 150 + 18
    assert figures["api_refusals"] == 0
    assert figures["refresh_token_reuse"] == 0
    assert figures["failed_token_requests"] == 0
    assert figures["token_requests"] <= figures["tokens_used_at_api"] + 1
    store = airflow.home / "cache" / "h2oauth-lite" / "airflow"
    assert (store / "h2oauth_default.json").is_file()
    assert_no_secret(airflow.logs(), state, where="the Airflow log files")

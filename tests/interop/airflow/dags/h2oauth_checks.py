"""A careless task: it logs its tokens and headers. Airflow must show them as ***."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import requests
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import Variable, dag, task

from h2oauth_lite.integrations.airflow import H2OAuthHook

log = logging.getLogger(__name__)


def show(client: str, control: str) -> str:
    return f"{client} {control}"


@dag(schedule=None, start_date=datetime.datetime(2026, 1, 1), params={"control": "control"})
def h2oauth_checks() -> None:
    @task
    def log_token(params: Any = None) -> dict[str, Any]:
        hook = H2OAuthHook()
        token = hook.get_token()
        request = requests.Request("GET", Variable.get("protected_api_url"), auth=hook.get_auth())
        prepared = request.prepare()
        log.info("access token: %s", token.access_token)
        log.info("refresh token: %s", token.refresh_token)
        log.info("request headers: %s", dict(prepared.headers))
        print("printed header:", prepared.headers["Authorization"])
        log.info("control value: %s", params["control"])
        with requests.Session() as session:
            response = session.send(prepared, timeout=10)
        return {"status": response.status_code, "token_type": token.token_type}

    templated = PythonOperator(
        task_id="templated",
        python_callable=show,
        op_kwargs={"client": "{{ conn.h2oauth_default.login }}", "control": "{{ params.control }}"},
    )
    log_token() >> templated


checks_dag = h2oauth_checks()

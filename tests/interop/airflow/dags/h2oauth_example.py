"""Six mapped tasks call a protected API with the tokens of the h2oauth_default connection."""

from __future__ import annotations

import datetime
import time
from typing import Any

import requests
from airflow.sdk import Variable, dag, task

from h2oauth_lite.integrations.airflow import H2OAuthHook


@dag(schedule=None, start_date=datetime.datetime(2026, 1, 1), params={"calls": 25, "pause": 0.0})
def h2oauth_example() -> None:
    @task
    def call_api(part: int, params: Any = None) -> int:
        auth = H2OAuthHook().get_auth()  # conn id: h2oauth_default
        url = Variable.get("protected_api_url")
        with requests.Session() as session:
            for _ in range(params["calls"]):
                session.get(url, params={"part": part}, auth=auth, timeout=10).raise_for_status()
                time.sleep(params["pause"])
        return params["calls"]

    call_api.expand(part=list(range(6)))


example_dag = h2oauth_example()

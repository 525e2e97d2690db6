"""A throwaway Airflow 3 installation for tests and benchmarks: the pinned
``.venv-airflow`` (``make airflow``), an ``AIRFLOW_HOME`` with a sqlite database
in a given directory, and an API server for the LocalExecutor's task processes
and the connection form's Test button.

Every Airflow step is a subprocess of the Airflow virtualenv, so the caller
(pytest, a benchmark) runs without Airflow.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import requests

from tests.interop.airflow_idp import IdP
from tests.support.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "airflow"
DAGS = HERE / "dags"
VENV = ROOT / ".venv-airflow"
AIRFLOW = VENV / "bin" / "airflow"
PYTHON = VENV / "bin" / "python"
STEP_TIMEOUT = 240
SHUTDOWN_GRACE = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Airflow:
    home: Path
    env: dict[str, str]
    api_url: str
    steps: int = 0

    def run(
        self, *args: str, extra_env: Optional[Mapping[str, str]] = None, python: bool = False
    ) -> subprocess.CompletedProcess[str]:
        command = [str(PYTHON if python else AIRFLOW), *args]
        self.steps += 1
        # Kept in the Airflow home (not read by the scans), for whoever debugs a failure.
        out = self.home / f"step-{self.steps}.out"
        with out.open("w+") as sink:
            try:
                code = subprocess.run(
                    command,
                    env={**self.env, **(extra_env or {})},
                    cwd=self.home,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    timeout=STEP_TIMEOUT,
                    stdin=subprocess.DEVNULL,
                ).returncode
            except subprocess.TimeoutExpired:
                sink.seek(0)
                raise AssertionError(
                    f"{args[:3]} timed out; output tail:\n{sink.read()[-4000:]}"
                ) from None
            sink.seek(0)
            return subprocess.CompletedProcess(command, code, sink.read(), "")

    def logs(self) -> str:
        """Every log file Airflow wrote under its home (task logs and the rest)."""
        return "\n".join(
            path.read_text(errors="replace") for path in sorted(self.home.rglob("*.log"))
        )

    def database_text(self) -> str:
        """The XComs and rendered template fields of every task run, as text."""
        with sqlite3.connect(self.home / "airflow.db") as db:
            rows = db.execute("SELECT value FROM xcom").fetchall()
            rows += db.execute(
                "SELECT rendered_fields FROM rendered_task_instance_fields"
            ).fetchall()
        return "\n".join(str(row[0]) for row in rows)


def result_of(completed: subprocess.CompletedProcess[str]) -> Any:
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise AssertionError(f"no RESULT line; output tail:\n{completed.stdout[-3000:]}")


@contextlib.contextmanager
def running_airflow(home: Path) -> Iterator[Airflow]:
    """Airflow with its home in ``home``: database migrated, API server up until exit."""
    port = free_port()
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # Six tasks run at once; more worker processes would only cost start-up time.
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(24).hex(),
            "AIRFLOW__API__SECRET_KEY": os.urandom(24).hex(),
            # The hook's default token store lives in the worker's cache directory.
            "XDG_CACHE_HOME": str(home / "cache"),
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    started = time.monotonic()
    flow = Airflow(home, env, f"http://127.0.0.1:{port}")
    migrated = flow.run("db", "migrate")
    assert migrated.returncode == 0, migrated.stdout[-3000:]
    # The API server runs the execution API that LocalExecutor's task processes talk to,
    # and the REST endpoint behind the connection form's Test button.
    server = subprocess.Popen(
        [str(AIRFLOW), "api-server", "--host", "127.0.0.1", "--port", str(port), "-w", "1"],
        env=env,
        cwd=home,
        stdin=subprocess.DEVNULL,
        stdout=(home / "api-server.out").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{flow.api_url}/api/v2/monitor/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert server.poll() is None, (home / "api-server.out").read_text()[-3000:]
            assert time.monotonic() < deadline, "the Airflow API server did not start"
            time.sleep(0.3)
        print(
            f"\nAirflow home ready (db migrate + API server) in {time.monotonic() - started:.1f} s"
        )
        yield flow
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=20)


def json_connection(server: LoopbackServer, state: IdP, **extra: Any) -> str:
    return json.dumps(
        {
            "conn_type": "h2oauth",
            "host": f"{server.url}/token",
            "login": state.client_id,
            "password": state.client_secret,
            "extra": extra,
        }
    )


def uri_connection(server: LoopbackServer, state: IdP, secret: Optional[str] = None) -> str:
    quoted = urllib.parse.quote(secret if secret is not None else state.client_secret, safe="")
    # Airflow's URI form for a host with its own scheme: conn_type://scheme://user:pw@host/path
    return f"h2oauth://http://{state.client_id}:{quoted}@127.0.0.1:{server.port}/token"


def task_env(server: LoopbackServer, connection: str) -> dict[str, str]:
    return {
        "AIRFLOW_CONN_H2OAUTH_DEFAULT": connection,
        "AIRFLOW_VAR_PROTECTED_API_URL": f"{server.url}/api",
    }


def dags_test(airflow: Airflow, dag_id: str, conf: Mapping[str, Any], env: dict[str, str]) -> str:
    """``airflow dags test --use-executor``: LocalExecutor runs each task in a process of its own.

    Airflow 3.3's LocalExecutor sometimes leaves one idle worker that never exits
    after the run has finished; the run's outcome is in the output by then, so a
    process still there after :data:`SHUTDOWN_GRACE` seconds is stopped.
    """
    airflow.steps += 1
    out = airflow.home / f"step-{airflow.steps}.out"
    with out.open("w") as sink:
        process = subprocess.Popen(
            [str(AIRFLOW), "dags", "test", dag_id, "--use-executor", "-c", json.dumps(conf)],
            env={**airflow.env, **env},
            cwd=airflow.home,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + STEP_TIMEOUT
        finished_at: Optional[float] = None
        while process.poll() is None and time.monotonic() < deadline:
            if finished_at is None and "DagRun Finished" in out.read_text():
                finished_at = time.monotonic()
            if finished_at is not None and time.monotonic() - finished_at > SHUTDOWN_GRACE:
                break
            time.sleep(0.2)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    output = out.read_text()
    assert finished_at is not None or process.returncode == 0, output[-3000:]
    finished = [line for line in output.splitlines() if "DagRun Finished" in line]
    assert len(finished) == 1 and "state=success" in finished[0], output[-3000:]
    return output


def figures_line(label: str, state: IdP, seconds: float) -> str:
    figures = state.figures()
    figures["duplicate_refreshes"] = state.duplicates(window=0.5)
    return f"{label} ({seconds:.1f} s): " + ", ".join(f"{k}={v}" for k, v in figures.items())

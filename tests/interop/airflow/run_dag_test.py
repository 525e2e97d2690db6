"""Run one DAG file's DAG in this process with ``dag.test()``; print the run's states as JSON.

Usage: python run_dag_test.py <dag file> <variable holding the DAG> <run conf JSON>
"""

from __future__ import annotations

import json
import runpy
import sys


def main() -> None:
    path, name, conf = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    dag = runpy.run_path(path)[name]
    run = dag.test(run_conf=conf)
    states = {
        f"{ti.task_id}[{ti.map_index}]": str(ti.state) for ti in run.get_task_instances()
    }
    print("RESULT " + json.dumps({"run": str(run.state), "tasks": states}))


if __name__ == "__main__":
    main()

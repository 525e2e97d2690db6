"""Ending the test servers that run as child processes, and reading what they logged."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

__all__ = ["read_log", "stop_child"]


def stop_child(process: subprocess.Popen[bytes], log_path: Path, *, timeout: float) -> None:
    """Close its stdin (the servers exit on that), kill it if it lingers, remove its log."""
    if process.poll() is None:
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    if process.stdout is not None:
        process.stdout.close()
    log_path.unlink(missing_ok=True)


def read_log(log_path: Path) -> str:
    """What the server wrote to its log file, or "" once it is gone."""
    try:
        return log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""

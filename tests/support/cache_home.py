"""Every test gets its own user cache directory.

The CLI's environment mode keeps tokens in the default token store file
(``$XDG_CACHE_HOME/h2oauth-lite``); without this, one test's stored token
would answer the next test's run, and tests would write the user's real cache.
Child processes inherit the variable.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_cache_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    path = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(path))
    return path

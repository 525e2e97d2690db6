"""The defaults h2o-authn users rely on, defined once for the TokenProvider and discovery."""

from __future__ import annotations

from datetime import timedelta

__all__ = ["DEFAULT_DISCOVERY_CLIENT", "DEFAULT_HTTP_TIMEOUT"]

# h2o-authn waits 5 s for an answer (this library's own default is 10 s).
DEFAULT_HTTP_TIMEOUT = timedelta(seconds=5)
# The client of a discovered H2O Cloud environment that scripts use unless told otherwise.
DEFAULT_DISCOVERY_CLIENT = "platform"

"""The library's logger: silent unless the application configures logging.

Nothing logged here may contain a token, secret, assertion or key; messages
name hosts, grant types, status codes and error codes only.
"""

import logging

logger = logging.getLogger("h2oauth_lite")
logger.addHandler(logging.NullHandler())

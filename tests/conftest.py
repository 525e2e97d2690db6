from tests.loopback import loopback
from tests.oidc_fixture import oidc, oidc_factory

__all__ = ["loopback", "oidc", "oidc_factory"]

from tests.discovery_server import cloud
from tests.loopback import loopback
from tests.oidc_fixture import oidc, oidc_factory

__all__ = ["cloud", "loopback", "oidc", "oidc_factory"]

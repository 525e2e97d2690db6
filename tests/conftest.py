from tests.support.discovery_server import cloud
from tests.support.idp import oidc, oidc_factory
from tests.support.loopback import loopback

__all__ = ["cloud", "loopback", "oidc", "oidc_factory"]

from tests.support.cache_home import isolated_cache_home
from tests.support.discovery_server import cloud
from tests.support.idp import oidc, oidc_factory
from tests.support.loopback import loopback
from tests.support.redis_server import redis_server

__all__ = ["cloud", "isolated_cache_home", "loopback", "oidc", "oidc_factory", "redis_server"]

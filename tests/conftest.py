from tests.cache_home import isolated_cache_home
from tests.discovery_server import cloud
from tests.loopback import loopback
from tests.oidc_fixture import oidc, oidc_factory
from tests.redis_fixture import redis_server

__all__ = ["cloud", "isolated_cache_home", "loopback", "oidc", "oidc_factory", "redis_server"]

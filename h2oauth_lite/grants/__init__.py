"""Grants: one token request each, no caching.

The token-endpoint client (:mod:`.endpoint`: where, who, how requests
travel, revocation and introspection) and the grants that hold it:
client credentials, refresh token, JWT bearer, token exchange; the one
retry a DPoP nonce asks for. May import the wire,
client authentication and the pure modules; never the cache, stores,
logins or consumers above it.
"""

"""Stores: tokens that outlive a process and are shared between processes and hosts.

The store contract (:mod:`.base`: ``TokenStoreBackend``, ``StoredEntry``),
entry keys (:mod:`.keys`), the file :class:`~.file.TokenStore` and its
cross-process lock, :class:`~.redis.RedisTokenStore` (redis-py, imported
only when one is made), a store named by one string (:mod:`.spec`), and the
link between an AuthCache and a store (refresh once across processes, keep
rotated refresh tokens, survive an outage). May import the pure modules and
the protocols; never a grant, the cache or anything above.
"""

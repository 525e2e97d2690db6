"""Stores: tokens that outlive a process and are shared between processes.

The file :class:`~.file.TokenStore`, its cross-process lock, the host keys,
and the link between an AuthCache and a store (refresh once across
processes, keep rotated refresh tokens). May import the pure modules and
the protocols; never a grant, the cache or anything above.
"""

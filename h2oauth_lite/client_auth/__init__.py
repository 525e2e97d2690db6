"""Client authentication: how a client proves who it is to the token endpoint.

The :class:`~.base.ClientAuth` contract; basic, post and none with a shared
secret; client_secret_jwt and private_key_jwt with signed assertions, and
the private keys they sign with. May import only the pure modules.
"""

"""Client authentication: how a client proves who it is to the token endpoint.

The :class:`~.base.ClientAuth` contract; basic, post and none with a shared
secret; client_secret_jwt and private_key_jwt with signed assertions, and
the private keys they sign with; tls_client_auth and
self_signed_tls_client_auth (the certificate is the credential); DPoP keys
and the proofs that show possession of them. May import only the pure
modules.
"""

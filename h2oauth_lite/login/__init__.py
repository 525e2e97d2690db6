"""Interactive logins: a person at a browser or a terminal.

The login server (:class:`~.server.LoginServer`: an OpenID provider or a
py-oidc-auth host), the device and authorization-code flows on a held
token-endpoint client, the loopback redirect listener, and
``authenticate()``. May import everything below it: grants, the cache,
stores, the wire.
"""

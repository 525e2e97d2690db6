"""Shared test infrastructure, no tests: servers, fixtures and fakes every suite uses.

``loopback`` (a real HTTP server for answers a real provider would not give),
``answers`` (``token_body()``, scripted answers), ``idp`` (the real
oidc-provider fixture and the client authentication of each of its clients),
``discovery_server`` (a loopback H2O Cloud), ``threads`` (callers released
together), ``processes`` (ending child servers), ``clock`` (one fake
``Clock``) and ``fakes`` (one ``FakeProvider``). Fixtures are registered in
``tests/conftest.py``.
"""

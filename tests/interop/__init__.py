"""Suites against real peers (oidc-provider, py-oidc-auth, h2ogpte) and their harnesses."""

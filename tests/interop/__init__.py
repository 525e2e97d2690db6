"""Suites against real peers (oidc-provider, py-oidc-auth, h2ogpte) and inside real
systems (Airflow), with their harnesses."""

"""Suites that run this library inside other real systems (Airflow)."""

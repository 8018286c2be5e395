"""Nightjar: a customer decisioning pipeline on Dagster and DuckDB, one package per domain."""

"""Dagster's run, event-log and schedule storage: PostgreSQL when DAGSTER_PG_HOST is set, else SQLite.

The root dagster.yaml names ``NightjarInstance`` as its ``instance_class`` and has no ``storage``
block. Dagster reads dagster.yaml from $DAGSTER_HOME only, and one YAML file cannot choose
between two storage blocks, so the choice is made here, where Dagster asks the instance class
for its defaults, from environment variables only:

- ``DAGSTER_PG_HOST`` set: PostgreSQL through dagster-postgres (exactly the built-in
  ``storage: postgres:`` block), with ``DAGSTER_PG_PORT`` (default 5432), ``DAGSTER_PG_USER``
  (postgres), ``DAGSTER_PG_PASSWORD`` (none), ``DAGSTER_PG_DB`` (postgres);
- otherwise the local default: SQLite files under $DAGSTER_HOME.

The stored config refers to the variables by name (``{env: DAGSTER_PG_PASSWORD}``), as a
hand-written dagster.yaml would, so the password is resolved in each process and never written
into Dagster's instance reference, a log or a command line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import yaml
from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef
from dagster._serdes import ConfigurableClassData

PG_HOST = "DAGSTER_PG_HOST"
PG_DEFAULTS = {"DAGSTER_PG_PORT": 5432, "DAGSTER_PG_USER": "postgres", "DAGSTER_PG_DB": "postgres"}


def postgres_storage_config(env: Mapping[str, str]) -> dict | None:
    """The ``storage: postgres:`` block the environment asks for, or None for the local default."""
    if not env.get(PG_HOST, "").strip():
        return None

    def value(var: str):
        return {"env": var} if env.get(var) else PG_DEFAULTS[var]

    db = {
        "hostname": {"env": PG_HOST},
        "port": value("DAGSTER_PG_PORT"),
        "username": value("DAGSTER_PG_USER"),
        "db_name": value("DAGSTER_PG_DB"),
        # SQLAlchemy 2.1 picks psycopg 3 for plain "postgresql://"; dagster-postgres needs psycopg2.
        "scheme": "postgresql+psycopg2",
    }
    if env.get("DAGSTER_PG_PASSWORD"):
        db["password"] = {"env": "DAGSTER_PG_PASSWORD"}
    return {"postgres_db": db}


class NightjarInstance(DagsterInstance):
    """Dagster's own instance; only its default storage depends on the environment."""

    @classmethod
    def config_schema(cls) -> dict:
        return {}

    @classmethod
    def config_defaults(cls, base_dir: str) -> Mapping[str, ConfigurableClassData | None]:
        defaults = dict(InstanceRef.config_defaults(base_dir))
        pg = postgres_storage_config(os.environ)
        if pg is not None:
            defaults["storage"] = ConfigurableClassData(
                "dagster_postgres", "DagsterPostgresStorage", yaml.dump(pg, default_flow_style=False)
            )
        return defaults

"""Config of the remote sources: errors name the key path and the fix."""

from __future__ import annotations

import pytest

from pipeline.config import parse_config
from pipeline.core.settings import ConfigError
from tests.conftest import example_dict


def problems(source: dict, **pos) -> list[tuple[str, str]]:
    data = example_dict()
    data["sources"].append(source)
    for t in data["transactions"]:
        if t["name"] == "pos":
            t.update(source=source["name"], **pos)
    with pytest.raises(ConfigError) as e:
        parse_config(data, "nightjar.yaml", ".")
    return e.value.problems


SFTP = {
    "name": "partner",
    "kind": "sftp",
    "host": "h",
    "username": "u",
    "password_env": "PW",
    "known_hosts": "kh",
}


def test_sftp_needs_a_secret_and_host_key_checking():
    assert problems({**SFTP, "password_env": None}) == [
        ("sources[1].password_env", "give password_env, private_key_env or private_key_path")
    ]
    got = problems({**SFTP, "known_hosts": None})
    assert got[0][0] == "sources[1].known_hosts" and "host-key checking is on" in got[0][1]


def test_an_unknown_kind_and_a_typo_name_the_key():
    assert problems({"name": "x", "kind": "ftp"})[0] == (
        "sources[1].kind",
        "unknown source kind; use one of local_files, sftp, gcs, bigquery, ga4, mssql, rest",
    )
    assert problems({**SFTP, "hots": "h"})[0][0] == "sources[1].hots"


def test_query_sources_need_a_query_per_transaction_and_a_declared_watermark():
    bq = {"name": "bq", "kind": "bigquery", "project": "p", "queries": {}}
    assert problems(bq, file_name=None)[0] == (
        "transactions[0].source",
        "source 'bq' has no query for 'pos' (add sources[].queries.pos)",
    )
    crm = {
        "name": "crm",
        "kind": "mssql",
        "connection_string_env": "C",
        "queries": {"pos": {"sql": "SELECT 1", "watermark": "nope"}},
    }
    assert (
        "the watermark 'nope' of source 'crm' is not a field of 'pos'" in problems(crm, file_name=None)[0][1]
    )


def test_file_sources_need_a_file_name_and_ga4_names_are_checked():
    assert (
        problems({"name": "lake", "kind": "gcs", "bucket": "b"}, file_name=None)[0][0]
        == "transactions[0].file_name"
    )
    got = problems({"name": "g", "kind": "ga4", "project": "p`; DROP", "dataset": "d"})
    assert got[0][0] == "sources[1].project" and "only letters, digits, _ and -" in got[0][1]

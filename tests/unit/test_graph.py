"""The asset graph built from the example config, held against a snapshot (syrupy).

Moving code between packages must not change what Dagster sees: asset keys, their dependencies,
partitions, groups, pools, backfill policies, checks, jobs, schedules and sensors. Update the
snapshot (`pytest --snapshot-update`) only for a change that means to change the graph.
"""

from __future__ import annotations

import dagster as dg

from tests.conftest import UPLOADED_CONVERSIONS as UPLOADS
from tests.conftest import example_dict, make_config


def describe(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        policy = node.backfill_policy
        assets[key.to_user_string()] = {
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "group": node.group_name,
            "partitions": None
            if partitions is None
            else f"{type(partitions).__name__} from {partitions.start:%Y-%m-%d}",
            "backfill": None if policy is None else str(policy.policy_type),
            "pool": node.pools and sorted(node.pools),
            "kinds": sorted(node.kinds),
            "checks": sorted(c.name for c in node.check_keys),
            "automation": None
            if node.automation_condition is None
            else node.automation_condition.get_label(),
        }
    checks = {}
    for check in sorted(graph.asset_check_keys, key=lambda c: (c.asset_key.to_user_string(), c.name)):
        spec = graph.get_check_spec(check)
        checks[f"{check.asset_key.to_user_string()}:{check.name}"] = {
            "blocking": spec.blocking,
            "additional_deps": sorted(d.asset_key.to_user_string() for d in spec.additional_deps),
        }
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs()),
        "schedules": sorted((s.name, s.cron_schedule) for s in defs.schedules or []),
        "sensors": sorted(s.name for s in defs.sensors or []),
        "resources": sorted(defs.resources or {}),
    }


def test_the_asset_graph_of_the_example_config_is_unchanged(tmp_path, snapshot):
    from pipeline.definitions import build_definitions

    data = example_dict()
    config = make_config(tmp_path, models=data["models"])
    assert describe(build_definitions(config)) == snapshot


REMOTE = {
    "sftp": ({"kind": "sftp", "host": "h", "username": "u", "password_env": "PW", "known_hosts": "kh"}, {}),
    "gcs": ({"kind": "gcs", "bucket": "b"}, {}),
    "bigquery": (
        {"kind": "bigquery", "project": "p", "queries": {"pos": {"sql": "SELECT 1"}}},
        {"file_name": None},
    ),
    "ga4": ({"kind": "ga4", "project": "p", "dataset": "d"}, {"file_name": None}),
    "mssql": (
        {"kind": "mssql", "connection_string_env": "C", "queries": {"pos": {"sql": "SELECT 1"}}},
        {"file_name": None},
    ),
}


def test_the_asset_graph_with_each_remote_source_is_unchanged(tmp_path, snapshot):
    from pipeline.definitions import build_definitions

    graphs = {}
    for kind, (source, pos_changes) in REMOTE.items():
        data = example_dict()
        source = {"name": f"remote_{kind}", **source}
        transactions = [
            {**t, "source": source["name"], **pos_changes} if t["name"] == "pos" else t
            for t in data["transactions"]
        ]
        config = make_config(tmp_path / kind, sources=data["sources"] + [source], transactions=transactions)
        graphs[kind] = describe(build_definitions(config))
    assert graphs == snapshot


def test_results_depends_on_every_table_it_reads(tmp_path):
    """`results` reads, besides customers, identities, events and predictions, the transactions its
    audience and variant rules test and, in a range, the conversion datasets' tables (it measures the
    conversions of the days it learns from before deciding): the example's `channel` audience tests
    web_sessions, its conversions read pos (defined and uploaded ones). `results` declared neither, so
    a run of it selected with its upstream assets (`+results`) did not load them first."""
    from pipeline.definitions import build_definitions

    data = example_dict()
    data["transactions"].append(UPLOADS)
    data["conversions"]["uploaded"] = UPLOADS["name"]
    data["variants"][0]["rules"] = [
        {"transaction": "campaign_events", "field": "event", "formula": {"eq": "open"}}
    ]
    keys = ("transactions", "conversions", "variants", "experiments", "groups", "models")
    config = make_config(tmp_path, **{k: data[k] for k in keys})
    graph = describe(build_definitions(config))["assets"]
    assert graph["results"]["deps"] == [
        "customer_identities",
        "customers",
        "events",
        "predictions",
        "tx_campaign_events",  # discount_10's rule
        "tx_pos",  # the conversion definitions
        "tx_uploaded_conversions",  # the uploaded conversions
        "tx_web_sessions",  # channel's audience
    ]
    assert {"tx_pos", "tx_uploaded_conversions"} <= set(graph["conversions"]["deps"])

"""The read API: `nightjar serve` (uvicorn on 127.0.0.1) spoken to by a real HTTP client, and a bounded
schemathesis run over its OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from pipeline.activation.publish import current_snapshot
from pipeline.core.warehouse import connect
from pipeline.models.scoring import explain
from tests.assets.activation.conftest import KEY, LAST, OTHER_KEY, World


@pytest.fixture(scope="module")
def client(api: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api, headers={"X-API-Key": KEY}, timeout=30) as c:
        yield c


def snapshot_rows(world: World, query: str, params: dict) -> list[tuple]:
    snapshot = current_snapshot(world.root)
    assert snapshot is not None
    with duckdb.connect(str(snapshot.database), read_only=True) as con:
        return con.execute(query, params).fetchall()


def test_results_of_a_date_are_exactly_that_days_rows(client: httpx.Client, activation_world: World):
    day = LAST - dt.timedelta(days=1)  # the day the demo's experiments present their variants (day 9)
    expected = snapshot_rows(
        activation_world,
        "SELECT customer_id, experiment, variant, score FROM results WHERE date = $d ORDER BY ALL",
        {"d": day},
    )
    assert expected
    got, page = [], 1
    while True:  # small pages, so the paging is exercised too
        body = client.get(
            "/v1/results", params={"date": day.isoformat(), "page": page, "page_size": 50}
        ).json()
        assert body["meta"]["errors"] == [] and body["meta"]["page"]["total"] == len(expected)
        got += body["data"]
        if page * 50 >= len(expected):
            break
        page += 1
    assert {r["date"] for r in got} == {day.isoformat()}
    assert sorted((r["customer_id"], r["experiment"], r["variant"], r["score"]) for r in got) == expected
    empty = client.get("/v1/results", params={"date": "2025-01-01"}).json()
    assert empty["data"] == [] and empty["meta"]["page"]["total"] == 0


def test_customer_endpoints_return_exactly_the_snapshots_rows(client: httpx.Client, activation_world: World):
    (customer,) = snapshot_rows(
        activation_world,
        "SELECT customer_id FROM results JOIN recommendations USING (customer_id) ORDER BY 1 LIMIT 1",
        {},
    )[0]
    predictions = client.get(f"/v1/customers/{customer}/predictions").json()["data"]
    assert [(p["date"], p["model"], p["score"]) for p in predictions] == [
        (d.isoformat(), m, s)
        for d, m, s in snapshot_rows(
            activation_world,
            "SELECT date, model, score FROM predictions WHERE customer_id = $c ORDER BY date, model",
            {"c": customer},
        )
    ]
    recommendations = client.get(f"/v1/customers/{customer}/recommendations").json()["data"]
    assert [r["items"] for r in recommendations] == [
        r[0]
        for r in snapshot_rows(
            activation_world,
            "SELECT items FROM recommendations WHERE customer_id = $c ORDER BY date, model",
            {"c": customer},
        )
    ]
    decisions = client.get(f"/v1/customers/{customer}/decisions").json()["data"]
    assert [(d["experiment"], d["variant"], d["send_at"]) for d in decisions] == [
        (e, v, s and str(s))
        for e, v, s in snapshot_rows(
            activation_world,
            "SELECT experiment, variant, send_at FROM results WHERE customer_id = $c "
            "ORDER BY date, experiment",
            {"c": customer},
        )
    ]
    missing = client.get("/v1/customers/nobody-at-all/predictions")
    assert missing.status_code == 404
    assert missing.json() == {
        "meta": {
            "errors": ["no customer 'nobody-at-all' in the snapshot"],
            "validation": [],
            "snapshot": served(activation_world),  # the version it was read from, as a 200 names it
            "page": None,
        },
        "data": None,
    }


def served(world: World) -> str:
    snapshot = current_snapshot(world.root)
    assert snapshot is not None
    return snapshot.version


def test_a_404_names_the_snapshot_it_was_read_from(client: httpx.Client, activation_world: World):
    # every 404 read from the snapshot carried "snapshot": null while a 200 of the same version named it
    version = served(activation_world)
    training = next(m for m in client.get("/v1/models").json()["data"] if m["status"] == "FINISHED")
    missing = [
        "/v1/customers/nobody/decisions",
        "/v1/experiments/nope/report",
        "/v1/models/nope/trainings",
        f"/v1/models/{training['model']}/trainings/1999-01-01/beeswarm",
        f"/v1/models/{training['model']}/trainings/{training['version']}/waterfall/nobody",
        "/v1/datasets/nope/loads",
    ]
    answers = {url: client.get(url) for url in missing}
    assert {u: (r.status_code, r.json()["meta"]["snapshot"]) for u, r in answers.items()} == {
        u: (404, version) for u in missing
    }
    assert client.get("/v1/models").json()["meta"]["snapshot"] == version
    # no snapshot read: an unknown path, a wrong key, an invalid parameter
    unread = [client.get("/v1/nowhere"), client.get("/v1/models", headers={"X-API-Key": "wrong"})]
    unread.append(client.get("/v1/results", params={"page": 0}))
    assert [(r.status_code, r.json()["meta"]["snapshot"]) for r in unread] == [
        (404, None),
        (401, None),
        (422, None),
    ]


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY + "x"}])
def test_a_wrong_or_missing_key_is_401_in_the_envelope(api: str, headers: dict):
    response = httpx.get(f"{api}/v1/results", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["data"] is None and "API key" in body["meta"]["errors"][0]


def test_every_key_of_the_list_is_accepted(api: str):
    assert httpx.get(f"{api}/v1/models", headers={"X-API-Key": OTHER_KEY}).status_code == 200


def test_models_experiments_attribution_and_datasets(client: httpx.Client, activation_world: World):
    models = client.get("/v1/models").json()["data"]
    assert {m["model"] for m in models} == {"purchase_30d", "churn_60d", "product_recommender", "ltv"}
    trained = next(m for m in models if m["status"] == "FINISHED" and m["model"] == "purchase_30d")
    assert 0 < trained["metrics"]["auc"] <= 1
    impact = client.get(f"/v1/models/purchase_30d/trainings/{trained['version']}/feature-impact").json()[
        "data"
    ]
    assert [f["rank"] for f in impact] == list(range(1, len(impact) + 1))
    top, second = impact[0]["feature"], impact[1]["feature"]
    points = client.get(
        f"/v1/models/purchase_30d/trainings/{trained['version']}/dependence",
        params={"feature": top, "secondary": second},
    ).json()["data"]
    assert points and {p["secondary_feature"] for p in points} == {second}
    assert client.get("/v1/models/nope/trainings").status_code == 404
    assert client.get("/v1/models/purchase_30d/trainings/1999-01-01/beeswarm").status_code == 404
    assert client.get("/v1/experiments/offer/report").status_code == 200
    assert client.get("/v1/experiments/nope/report").status_code == 404
    attribution = client.get("/v1/attribution/summary", params={"model": "Last Click"}).json()["data"]
    expected = snapshot_rows(
        activation_world, "SELECT sum(value) FROM attribution_summary WHERE model = 'Last Click'", {}
    )[0][0]
    assert sum(r["value"] for r in attribution) == pytest.approx(expected)
    datasets = {d["dataset"]: d for d in client.get("/v1/datasets").json()["data"]}
    assert datasets["pos"]["loads"] == client.get("/v1/datasets/pos/loads").json()["meta"]["page"]["total"]
    invalid = client.get("/v1/results", params={"date": "not-a-date", "page": 0})
    assert invalid.status_code == 422
    assert {tuple(v["loc"]) for v in invalid.json()["meta"]["validation"]} == {
        ("query", "date"),
        ("query", "page"),
    }


def test_a_customers_waterfall_is_their_explanation_on_the_models_base_value(
    client: httpx.Client, activation_world: World
):
    config = activation_world.config
    version = snapshot_rows(
        activation_world,
        "SELECT max(version) FROM model_trainings WHERE model = 'purchase_30d' AND status = 'FINISHED'",
        {},
    )[0][0]
    steps = snapshot_rows(
        activation_world,
        "SELECT customer_id, feature, shap FROM model_beeswarm WHERE model = 'purchase_30d' AND version = $v "
        "AND customer_id = (SELECT min(customer_id) FROM model_beeswarm WHERE model = 'purchase_30d' "
        "AND version = $v)",
        {"v": version},
    )
    customer = steps[0][0]
    url = f"/v1/models/purchase_30d/trainings/{version}/waterfall/{customer}"
    got = client.get(url).json()["data"]
    shaps = [c["shap"] for c in got["contributions"]]
    assert sorted((c["feature"], c["shap"]) for c in got["contributions"]) == sorted(s[1:] for s in steps)
    assert [abs(x) for x in shaps] == sorted((abs(x) for x in shaps), reverse=True)  # largest first
    assert got["features_explained"] == len(steps) == min(10, got["features"])
    assert got["explained_score"] == pytest.approx(got["base_value"] + sum(shaps))
    # the base value is LightGBM's: the bias column of the version's SHAP values (`nightjar explain`)
    with connect(config.warehouse_path, read_only=True) as con:
        e = explain(
            con, config, config.model("purchase_30d"), customer, config.warehouse_path.parent / "models"
        )
    assert e.version == version and got["base_value"] == pytest.approx(e.base_value, abs=1e-12)
    assert client.get(url.replace(customer, "nobody")).json()["meta"]["errors"] == [
        "customer 'nobody' is not in the explanation sample of this training"
    ]
    assert client.get(url.replace(str(version), "1999-01-01")).status_code == 404


def test_openapi_docs(api: str):
    schema = httpx.get(f"{api}/openapi.json").json()
    assert "/v1/results" in schema["paths"] and "APIKeyHeader" in schema["components"]["securitySchemes"]
    assert httpx.get(f"{api}/docs").status_code == 200


def test_no_request_makes_a_server_error(api: str):
    """Every operation of the OpenAPI schema, with generated parameters (a few examples each): no 5xx,
    always the envelope."""
    schema = schemathesis.openapi.from_url(f"{api}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    statuses: set[int] = set()
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=3,
            deadline=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def call(case) -> None:
            response = case.call_and_validate(headers={"X-API-Key": KEY}, checks=[not_a_server_error])
            assert set(response.json()) == {"meta", "data"}
            statuses.add(response.status_code)

        call()
    assert 200 in statuses

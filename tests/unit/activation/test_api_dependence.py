"""The read API's dependence points: a secondary feature's value for every point, whichever feature."""

from __future__ import annotations

import datetime as dt

import duckdb
from fastapi.testclient import TestClient

from pipeline.activation.api import create_app
from pipeline.activation.publish import publish
from pipeline.core.sql import sql
from pipeline.core.warehouse import published_folder

KEY = "k"
VERSION = dt.date(2026, 1, 8)
AGES = [("c1", 30.0), ("c2", 40.0), ("c3", 50.0)]
# model_dependence holds every feature's value and SHAP for the same sample of customers; the beeswarm
# only the top features of a smaller sample (here: num_age alone, for c1 alone)
DEPENDENCE = [
    (c, f, v, s, "num_age", a)
    for c, age, visits in (("c1", 30.0, 2.0), ("c2", 40.0, 5.0), ("c3", 50.0, 9.0))
    for f, v, s, a in (("num_age", age, 0.1, visits), ("count_web_30d", visits, 0.2, age))
]


def test_the_secondary_value_is_each_points_value_of_that_feature_beyond_the_beeswarm(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(sql("core/schema"))
        con.execute(
            "CREATE TABLE model_trainings (model VARCHAR, version DATE, status VARCHAR, model_path VARCHAR);"
            "CREATE TABLE model_dependence (model VARCHAR, version DATE, customer_id VARCHAR, "
            "feature VARCHAR, value DOUBLE, shap DOUBLE, secondary_feature VARCHAR, secondary_value DOUBLE);"
            "CREATE TABLE model_beeswarm (model VARCHAR, version DATE, customer_id VARCHAR, feature VARCHAR, "
            "value DOUBLE, value_text VARCHAR, shap DOUBLE)"
        )
        con.execute("INSERT INTO model_trainings VALUES ('m', $v, 'FINISHED', NULL)", {"v": VERSION})
        con.executemany(
            "INSERT INTO model_dependence VALUES ('m', $1, $2, $3, $4, $5, $6, $7)",
            [(VERSION, *row) for row in DEPENDENCE],
        )
        con.execute(
            "INSERT INTO model_beeswarm VALUES ('m', $v, 'c1', 'num_age', 30, '', 0.1)", {"v": VERSION}
        )
        publish(con, warehouse, dt.datetime(2026, 1, 8, 3, tzinfo=dt.UTC))
    app = create_app(published_folder(warehouse), (KEY,))
    url = f"/v1/models/m/trainings/{VERSION}/dependence"
    with TestClient(app, headers={"X-API-Key": KEY}, raise_server_exceptions=False) as client:

        def points(feature: str, secondary: str | None = None) -> list[tuple]:
            params = {"feature": feature} | ({"secondary": secondary} if secondary else {})
            data = client.get(url, params=params).json()["data"]
            return [(p["customer_id"], p["secondary_feature"], p["secondary_value"]) for p in data]

        # num_age is in the beeswarm for c1 only; it was read from there, so c2 and c3 came back null
        assert points("count_web_30d", "num_age") == [(c, "num_age", a) for c, a in AGES]
        # count_web_30d is in no beeswarm at all: every value was null
        assert [v for _, _, v in points("num_age", "count_web_30d")] == [2.0, 5.0, 9.0]
        assert [v for _, _, v in points("count_web_30d")] == [30.0, 40.0, 50.0]  # the stored one
        assert [v for _, _, v in points("num_age", "no_such_feature")] == [None, None, None]

"""The touches keep only the columns some model's match criteria test (the others are NULL)."""

import duckdb

from pipeline.attribution.config import TOUCH_FIELDS
from pipeline.attribution.models import Model
from pipeline.attribution.touches import CRITERIA_COLUMNS, touch_criteria_columns
from pipeline.core.rules import condition


def _model(name: str, *criteria: tuple[str, str, object]) -> Model:
    conds = tuple(condition(f, op, v, TOUCH_FIELDS) for f, op, v in criteria)
    return Model(name=name, model_type="last", lookback_days=30, criteria=conds)


def _columns(models: list[Model]) -> dict[str, object]:
    row = (
        "SELECT 'NEWSLETTER' AS campaign, 'g' AS source, 'cpc' AS medium, 't' AS term, 'c' AS content, "
        "'pageView' AS type, 'WEB' AS context, 7.5::DECIMAL(38, 18) AS value"
    )
    con = duckdb.connect()
    got = con.execute(f"SELECT {touch_criteria_columns(models)} FROM ({row}) AS u")
    names = [d[0] for d in got.description]
    return dict(zip(names, got.fetchall()[0], strict=True))


def test_only_tested_columns_are_read():
    got = _columns([_model("a", ("campaign", "eq", "NEWSLETTER")), _model("b", ("value", "gt", 5))])
    assert list(got) == list(CRITERIA_COLUMNS)
    assert got["campaign"] == "NEWSLETTER"
    assert float(got["value"]) == 7.5
    assert all(got[c] is None for c in CRITERIA_COLUMNS if c not in ("campaign", "value"))


def test_no_criteria_reads_none_with_the_types_kept():
    con = duckdb.connect()
    columns = f"SELECT {touch_criteria_columns([_model('a')])} FROM (SELECT 1) AS u"
    assert con.execute(columns).fetchall()[0] == (None,) * len(CRITERIA_COLUMNS)
    types = con.execute(f"SELECT typeof(COLUMNS(*)) FROM ({columns})").fetchall()[0]
    assert [t.replace(" ", "") for t in types] == [t.replace(" ", "") for t in CRITERIA_COLUMNS.values()]

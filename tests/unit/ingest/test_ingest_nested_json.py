"""Nested JSON lines: a field `parent__child` is found inside the object `parent` (one level by
default, `flatten_depth` to change), a field's `path` names where it is; a flat key of the same
name still counts first."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.config import parse_config
from pipeline.core.settings import ConfigError
from pipeline.ingest.write import LOADED
from tests.unit.ingest.malformed_corpus import CONFIG, World, check_load, check_rejects, jl

FIELDS = [
    {"name": "order_id", "type": "String", "required": True},
    {"name": "customer__id", "type": "String"},
    {"name": "sold_at", "type": "Date"},
    {"name": "amount", "type": "Decimal", "path": "ecommerce.value"},
    {"name": "ecommerce__items__qty", "type": "Int"},
]
LINES = jl(
    {
        "order_id": "o1",
        "customer": {"id": "c1", "name": "x"},
        "sold_at": "2026-01-31",
        "ecommerce": {"value": 3.5, "items": {"qty": 2}},
    },
    {"order_id": "o2", "customer__id": "c2", "sold_at": "2026-01-31", "amount": "1.25"},  # flat keys
    {"order_id": "o3", "customer": "c3", "sold_at": "2026-01-31"},  # not an object: no id inside
)


def _world(tmp_path: Path, **options) -> World:
    tx = {
        "name": "orders",
        "source": "landing",
        "file_name": "orders",
        "customer_field": "customer__id",
        "time_field": "sold_at",
        "fields": FIELDS,
        **options,
    }
    return World(tmp_path, {**CONFIG, "customers": None, "transactions": [tx]})


def _rows(w: World) -> list[tuple]:
    return w.q('SELECT order_id, "customer__id", amount, "ecommerce__items__qty" FROM tx_orders ORDER BY 1')


def test_nested_objects_flatten_into_fields(tmp_path: Path) -> None:
    w = _world(tmp_path, flatten_depth=2)
    try:
        r = w.load_tx("orders", "jsonl", LINES)
        check_load(w, r, LOADED, 3, 2, 1)
        check_rejects(w, r, {3: ("customer__id", ("missing (required)",))})
        assert _rows(w) == [("o1", "c1", Decimal("3.5"), 2), ("o2", "c2", Decimal("1.25"), None)]
    finally:
        w.close()


def test_flatten_depth_bounds_the_levels(tmp_path: Path) -> None:
    w = _world(tmp_path)  # one level: ecommerce__items__qty is items__qty inside ecommerce: absent
    try:
        check_load(w, w.load_tx("orders", "jsonl", LINES), LOADED, 3, 2, 1)
        assert [r[3] for r in _rows(w)] == [None, None]
    finally:
        w.close()
    w = _world(tmp_path / "flat", flatten_depth=0)  # no flattening: only the flat keys count
    try:
        r = w.load_tx("orders", "jsonl", LINES)
        check_load(w, r, LOADED, 3, 1, 2)
        assert [x[0] for x in _rows(w)] == ["o2"]
    finally:
        w.close()


def test_path_must_be_keys(tmp_path: Path) -> None:
    bad = [dict(f) for f in FIELDS]
    bad[3]["path"] = "ecommerce..value"
    tx = {
        "name": "o",
        "source": "landing",
        "file_name": "o",
        "customer_field": "customer__id",
        "time_field": "sold_at",
        "fields": bad,
    }
    with pytest.raises(ConfigError, match="fields.3.path|fields\\[3\\].path"):
        parse_config({**CONFIG, "customers": None, "transactions": [tx]}, "t.yaml", tmp_path)


def test_arrays_of_values_become_lists_in_string_fields(tmp_path: Path) -> None:
    fields = [*FIELDS, {"name": "tags", "type": "String"}]
    tx = {
        "name": "orders",
        "source": "landing",
        "file_name": "orders",
        "customer_field": "customer__id",
        "time_field": "sold_at",
        "fields": fields,
    }
    w = World(tmp_path, {**CONFIG, "customers": None, "transactions": [tx]})
    try:
        lines = jl(
            {"order_id": "o1", "customer__id": "c1", "sold_at": "2026-01-31", "tags": ["promo", "new", 3]},
            {"order_id": "o2", "customer__id": "c2", "sold_at": "2026-01-31", "tags": "[not json"},
            {"order_id": "o3", "customer__id": "c3", "sold_at": "2026-01-31", "amount": [1, 2]},
        )
        r = w.load_tx("orders", "jsonl", lines)
        check_load(w, r, LOADED, 3, 2, 1)
        check_rejects(w, r, {3: ("amount", ("not a single value",))})  # a Decimal takes no list
        assert w.q("SELECT order_id, tags FROM tx_orders ORDER BY 1") == [
            ("o1", "promo, new, 3"),
            ("o2", "[not json"),
        ]
    finally:
        w.close()

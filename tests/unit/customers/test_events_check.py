"""The events check `every_event_has_a_known_customer_or_is_anonymous` counts an event whose customer is
not in the identity map: a key that is its own customer (`identity.unknown_keys: own_id`) is in the map."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.config import parse_config
from pipeline.core.warehouse import connect
from pipeline.customers.events import build_events, unknown_customer_events
from pipeline.customers.identity import build_identities
from pipeline.ingest.sources.local_files import landed_file
from pipeline.ingest.transactions import ingest_transaction

DAY = dt.date(2026, 1, 1)


def test_events_of_keys_that_are_their_own_customers_are_known(tmp_path: Path) -> None:
    data = {
        "start_date": "2026-01-01",
        "warehouse": "w.duckdb",
        "sources": [{"name": "landing", "kind": "local_files", "folder": "files"}],
        "transactions": [
            {
                "name": "visits",
                "source": "landing",
                "file_name": "visits",
                "customer_field": "visitor",
                "time_field": "at",
                "fields": [{"name": "visitor", "type": "String"}, {"name": "at", "type": "Timestamp"}],
            }
        ],
    }
    config = parse_config(data, tmp_path / "t.yaml", tmp_path)  # no customer data: unknown_keys own_id
    (tmp_path / "files").mkdir()
    path = tmp_path / "files" / "visits_20260101.csv"
    path.write_text("visitor,at\nV1,2026-01-01 08:00:00\nv1,2026-01-01 09:00:00\nV2,2026-01-01 10:00:00\n")
    with connect(config.warehouse_path) as con:
        ingest_transaction(con, config.transaction("visits"), "upload", landed_file(path, DAY), DAY)
        build_identities(con, config)
        build_events(con, config, DAY)
        customers = con.execute("SELECT customer_id FROM events ORDER BY ALL").fetchall()
        assert customers == [("v1",), ("v1",), ("v2",)]
        assert unknown_customer_events(con, DAY, DAY) == 0
        # an event pointing at a customer the map does not have is still counted
        con.execute("UPDATE events SET customer_id = 'ghost' WHERE customer_key = 'V2'")
        assert unknown_customer_events(con, DAY, DAY) == 1
        # and so is one whose customer the map holds as excluded only
        con.execute("UPDATE customer_identities SET excluded = TRUE WHERE customer_id = 'v1'")
        assert unknown_customer_events(con, DAY, DAY) == 3

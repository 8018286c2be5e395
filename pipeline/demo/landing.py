"""The demo world's landing files: the transaction files (with ~0.5% of their rows broken on
purpose), the customer files, and the formatting of their cells."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from pipeline.demo.population import CUSTOMER_COLUMNS, RATES, zero_pad

# a deliberately broken row: file name, 1-based row number, kind, field
BadRow = tuple[str, int, str, str]


class Transaction(NamedTuple):
    """A transaction file: config name, file name, extension and how each kind of bad row looks."""

    name: str
    file_name: str
    ext: str
    bad: dict[str, tuple[str, tuple]]  # kind -> (field, possible bad values)


POS = Transaction(
    "pos",
    "trans_pos",
    "csv",
    {
        "bad_date": ("purchased_at", ("13/45/2026", "yesterday")),
        "text_in_number": ("amount", ("ten",)),
        "missing_customer_id": ("customer_id", ("",)),
        "wrong_column_count": ("columns", ("x",)),
    },
)
WEB = Transaction(
    "web_sessions",
    "web_sessions",
    "jsonl",
    {
        "bad_date": ("started_at", ("not a time",)),
        "text_in_number": ("page_views", ("many",)),
        "missing_customer_id": ("customer_id", (None,)),
    },
)
CAMPAIGN = Transaction(
    "campaign_events",
    "campaign_events",
    "csv",
    {
        "bad_date": ("occurred_at", ("abc",)),
        "missing_customer_id": ("customer_id", ("",)),
        "wrong_column_count": ("columns", ("x",)),
    },
)


def seq_ids(prefix: str, n: int) -> np.ndarray:
    """prefix000001, prefix000002, ..."""
    return prefix + zero_pad(np.arange(1, n + 1), max(6, len(str(n))))


def hms(sec: np.ndarray) -> np.ndarray:
    """Seconds of the day as hh:mm:ss."""
    return zero_pad(sec // 3600, 2) + ":" + zero_pad(sec // 60 % 60, 2) + ":" + zero_pad(sec % 60, 2)


def money(cents: np.ndarray) -> np.ndarray:
    """Cents as a decimal string with two places."""
    return (cents // 100).astype(str) + "." + zero_pad(cents % 100, 2)


class Landing:
    """Writes the landing files, breaks ~0.5% of the transaction rows on purpose and keeps the counts."""

    def __init__(self, folder: Path, rng: np.random.Generator):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.rng = folder, rng
        self.files = 0
        self.rows: dict[str, int] = {}
        self.bad: list[BadRow] = []
        self._tx_rows = self._tx_bad = 0

    def _count(self, dataset: str, rows: int) -> None:
        self.files += 1
        self.rows[dataset] = self.rows.get(dataset, 0) + rows

    def customers(self, day: dt.date, rows: list[list], first: bool = False, duplicate: bool = False) -> None:
        """The first file as {"header", "data"} JSON, later ones as CSV; optionally one duplicate row."""
        name = f"customers_{day:%Y%m%d}.{'json' if first else 'csv'}"
        if duplicate and rows:
            rows.append(list(rows[self.rng.integers(len(rows))]))
            self.bad.append((name, len(rows), "duplicate_customuid", "customuid"))
        if first:
            data = {"header": list(CUSTOMER_COLUMNS), "data": rows}
            (self.folder / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        else:
            with open(self.folder / name, "w", encoding="utf-8", newline="") as f:
                f.write(", ".join(CUSTOMER_COLUMNS) + "\n")
                csv.writer(f, lineterminator="\n").writerows(rows)
        self._count("customers", len(rows))

    def transactions(self, spec: Transaction, day: dt.date, columns: dict[str, np.ndarray]) -> None:
        """Write one transaction file with its share of deliberately bad rows."""
        n = len(next(iter(columns.values())))
        name = f"{spec.file_name}_{day:%Y%m%d}.{spec.ext}"
        bad = self._pick_bad(spec, name, n)
        for field in {spec.bad[kind][0] for _, kind in bad} - {"columns"}:
            columns[field] = columns[field].astype(object)
        for row, kind in bad:
            field, values = spec.bad[kind]
            if field != "columns":
                columns[field][row] = values[row % len(values)]
        path = self.folder / name
        if spec.ext == "jsonl":
            path.write_text(
                pd.DataFrame(columns).to_json(orient="records", lines=True) if n else "", encoding="utf-8"
            )
        else:
            rows = np.column_stack(list(columns.values())).tolist() if n else []
            for row, kind in bad:
                if kind == "wrong_column_count":
                    rows[row].append("x")
            with open(path, "w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(columns)
                writer.writerows(rows)
        self._count(spec.name, n)

    def _pick_bad(self, spec: Transaction, name: str, n: int) -> list[tuple[int, str]]:
        """Rows (0-based) and kinds to break, keeping the running share at the bad-row rate.

        No file gets more than twice the rate (1%), so each load stays under max_reject_rate (2%).
        """
        self._tx_rows += n
        due = int(RATES["bad_row_rate"] * self._tx_rows) - self._tx_bad
        k = int(np.clip(due, 0, int(2 * RATES["bad_row_rate"] * n)))
        self._tx_bad += k
        picked = list(
            zip(
                np.sort(self.rng.choice(n, k, replace=False)).tolist(),
                self.rng.choice(list(spec.bad), k).tolist(),
                strict=True,
            )
        )
        self.bad.extend((name, row + 1, kind, spec.bad[kind][0]) for row, kind in picked)
        return picked

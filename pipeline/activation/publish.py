"""The published read snapshot: the tables people read, as Parquet plus a small DuckDB file of views.

DuckDB allows one writer or many readers, never both, so nothing but the pipeline opens the
warehouse: notebooks, BI tools, the read API and the report read the snapshot. Its layout, beside
the warehouse (``pipeline.core.warehouse.published_folder``)::

    published/
      current -> versions/20260115T020312-1a2b3c      a symlink, switched atomically
      versions/20260115T020312-1a2b3c/
        snapshot.duckdb                           views over the Parquet below (absolute paths)
        manifest.json                             version, time, tables and their row counts
        fingerprints.json                         per table and day: rows and a fingerprint of them
        tables/results/date=2026-01-08/....parquet  a daily table: hive-partitioned by its day
        tables/experiment_report/data.parquet     any other table: one file
        tables/model_base_values/data.parquet     each model version's base value (its waterfalls')
      .lock                                       held by the one publication at work (see below)

A version is written under a hidden name, renamed into ``versions/`` when complete, its views
created and its row counts checked against the warehouse, and only then does ``current`` point at
it (a new symlink renamed over the old one: ``rename(2)`` is atomic). A reader that opens
``current/snapshot.duckdb`` therefore sees one whole version, old or new, never a mix, and keeps
seeing that version (its views name the version's own folder) while newer ones are published. The
last :data:`KEEP` versions with a manifest are kept; older ones, and folders a killed publication
left without one, are removed.

One publication at a time, across processes (a run's ``published`` step, ``nightjar forget``, two
Dagster instances): each holds the lock ``published/.lock`` (an OS file lock, gone with its process)
from its first write to its cleanup, so none takes another's unfinished version for a killed one.

A forget that the published versions may still hold is pending (``forget_pending``, written in the
forget's transaction: pipeline/customers/forget.py): a publication that sees one keeps no older
version, and its caller then clears the markers it saw (:func:`clear_forgets`). So a forget killed
before its own publication ended is finished by the next one.

Only what changed is written. Each version records, per table, its columns and, per day of a daily
table (the whole table for the others), its rows and a fingerprint of them (``fingerprints.json``).
A part whose columns, rows and fingerprint equal the current version's is not written again: its
files are hard links to that version's (same bytes, and a version's files are never rewritten, so
removing the older version keeps them). A nightly run then writes the days its assets replaced and
the tables that changed, not 90 days of every daily table. The days of a table whose writer records
their fingerprints as it writes them (``attribution_credits``: pipeline/core/parts.py) are not hashed
again: their records are compared, and only days without a valid record are hashed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import filelock
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from pipeline.activation.explanations import BASE_VALUES, base_values
from pipeline.core.catalog import IDENTIFIER_KINDS
from pipeline.core.parts import fingerprints_sql, fresh_parts
from pipeline.core.sql import ident, sql
from pipeline.core.warehouse import cache_at_most, published_folder, scalar, table_exists
from pipeline.customers.forget import FORGET_PENDING

PUBLISHED = "published"  # the asset
CURRENT = "current"
VERSIONS = "versions"
SNAPSHOT = "snapshot.duckdb"
MANIFEST = "manifest.json"
FINGERPRINTS = "fingerprints.json"
WHOLE_PART = ""  # the part key of a table published as one file
# the most rows a publication reads and writes at once (write_batches)
BATCH_ROWS = 16_000_000
KEEP = 3  # versions kept: a reader holding an older one open may lose its files
PRUNE_THREAD = "nightjar-prune"  # the thread removing a publication's stale versions
REMOVING = ".removing"  # the suffix of a stale version's hidden name while its files are removed
LOCK = ".lock"  # published/.lock: held by the one publication at work (it holds who that is)
LOCK_WAIT = 600.0  # seconds a publication waits for another to end (SF10's took 124.5 s), then fails

# The daily tables and the day each row belongs to (their Parquet is hive-partitioned by it).
DAILY = {
    "predictions": "date",
    "results": "date",
    "conversions": "date",
    "attribution_summary": "date",
    "attribution_credits": "_partition_date",
    "loads": "partition_date",
    "rejects": "partition_date",
}
# The tables published whole (plus every kpi_* table and `customers` without raw identifiers).
WHOLE = (
    "experiment_report",
    "model_trainings",
    "model_feature_impact",
    "model_beeswarm",
    "model_dependence",
    "policy_evaluation",
)
CUSTOMERS = "customers"
RAW_IDENTIFIERS = tuple(k for k in IDENTIFIER_KINDS if k != "customuid")  # customuid is the customer_id
RECOMMENDATIONS = "recommendations"  # a view: the predictions of recommender models (their items)


class PublishError(RuntimeError):
    """The snapshot could not be published; the previous one stays current."""


@dataclass(frozen=True)
class Snapshot:
    version: str
    folder: Path  # the version's own folder (not through `current`)
    published_at: str
    tables: dict[str, dict] = field(default_factory=dict)  # name -> {"rows": n, "partitioned_by": col|None}
    # the pending forgets this publication finished (no older version is left): clear_forgets clears them
    forgets: tuple[str, ...] = ()

    @property
    def database(self) -> Path:
        return self.folder / SNAPSHOT


def current_snapshot(root: Path) -> Snapshot | None:
    """The snapshot ``root/current`` points at now (resolved once: use its folder from then on)."""
    try:
        folder = (root / CURRENT).resolve(strict=True)
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Snapshot(manifest["version"], folder, manifest["published_at"], manifest["tables"])


def published_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse's tables that are published, in a stable order."""
    names = {r[0] for r in con.execute(sql("activation/tables")).fetchall()}
    wanted = [*DAILY, *WHOLE, CUSTOMERS]
    return [t for t in wanted if t in names] + sorted(t for t in names if t.startswith("kpi_"))


def _select(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The table as published, as one SELECT (no trailing semicolon: it is used as a subquery)."""
    if table != CUSTOMERS:
        return sql("activation/select_all", idents={"table": table}).strip().rstrip(";")
    columns = {r[0] for r in con.execute(sql("activation/columns"), {"table": table}).fetchall()}
    raw = "".join(f", {ident(c)}" for c in RAW_IDENTIFIERS if c in columns)
    return sql("activation/published_customers", fragments={"raw": raw}).strip().rstrip(";")


def write_batches(days: list[dt.date], rows: dict[dt.date, int], most: int) -> list[list[dt.date]]:
    """``days`` (in order) cut into consecutive batches of at most ``most`` rows (``rows``: each day's),
    a day of more rows alone: each batch is read and written at once."""
    batches: list[list[dt.date]] = []
    held = 0
    for d in days:  # a loop over days, not rows
        if not batches or held + rows[d] > most:
            batches.append([])
            held = 0
        batches[-1].append(d)
        held += rows[d]
    return batches


def dictionary_columns(columns: list[str], types: list[str]) -> list[str]:
    """The columns written with Parquet's dictionary encoding: text that repeats (a model, a channel, a
    variant), not the ids (``*_id``), nearly all distinct. Arrow's writer tries a dictionary for every
    column and falls back to plain values after its first megabyte: for `attribution_credits` at SF1
    that try cost a quarter of the write (bench/NOTES.md)."""
    return [c for c, t in zip(columns, types, strict=True) if t == "VARCHAR" and not c.endswith("_id")]


def fingerprints(con: duckdb.DuckDBPyConnection, select: str, day: str | None) -> dict[str, list]:
    """Per part of a table as published (``select``): per ``day`` (ISO date) of a daily table, else one
    part (:data:`WHOLE_PART`): [rows, fingerprint] (sql/core/parts/fingerprints.sql)."""
    rows = con.execute(fingerprints_sql(select, day)).fetchall()
    return {part or WHOLE_PART: [n, fp] for part, n, fp in rows}


def _link(source: Path, target: Path) -> None:
    """``target`` as a copy of the folder ``source``'s files, by hard links (a copy across devices)."""
    target.mkdir(parents=True)
    for f in source.iterdir():
        try:
            os.link(f, target / f.name)
        except OSError:
            shutil.copy2(f, target / f.name)


def _write_table(
    con: duckdb.DuckDBPyConnection, table: str, folder: Path, before: dict | None, before_folder: Path
) -> tuple[dict, dict]:
    """Write one table as Parquet under ``folder/<table>``, the parts that equal ``before`` (its entry of
    the current version's fingerprints, in ``before_folder``) linked instead of written; returns its
    manifest entry and its fingerprints."""
    target = folder / table
    target.mkdir(parents=True)
    select = _select(con, table)
    relation = con.sql(select)
    columns = relation.columns
    schema = [columns, [str(t) for t in relation.types]]
    dictionary = dictionary_columns(*schema)
    day = DAILY.get(table)
    # a daily table whose writer records its days' fingerprints: only the days without one are hashed
    recorded = fresh_parts(con, table, day, record=False) if day and table != CUSTOMERS else None
    parts = recorded if recorded is not None else fingerprints(con, select, day)
    if day and WHOLE_PART in parts:  # a row without a day (a load that failed before it had one)
        day, parts = None, fingerprints(con, select, None)
    rows = sum(n for n, _ in parts.values())
    day = day if rows else None  # an empty daily table: one (empty) file
    prints = {"schema": schema, "partitioned_by": day, "parts": parts}
    # the parts the current version holds as they are now: linked, not written again
    old, old_parts = before_folder / table, {}
    if before and before["schema"] == schema and before["partitioned_by"] == day:
        old_parts = before["parts"]
    if day:
        linked = sorted(p for p in parts if old_parts.get(p) == parts[p] and (old / f"{day}={p}").is_dir())
        changed = [dt.date.fromisoformat(p) for p in sorted(set(parts) - set(linked))]
        query = sql("activation/select_days", idents={"day": day}, fragments={"select": select})
        batches = write_batches(changed, {d: parts[d.isoformat()][0] for d in changed}, BATCH_ROWS)
        with cache_at_most(con) if batches else contextlib.nullcontext():
            for days in batches:  # a loop over batches of days, not rows
                pads.write_dataset(
                    con.sql(query, params={"days": days}).to_arrow_reader(),
                    target,
                    format="parquet",
                    file_options=pads.ParquetFileFormat().make_write_options(use_dictionary=dictionary),
                    partitioning=[day],
                    partitioning_flavor="hive",
                    basename_template="part-{i}.parquet",
                    existing_data_behavior="overwrite_or_ignore",  # each day in one batch: its own folder
                )
        for p in linked:
            _link(old / f"{day}={p}", target / f"{day}={p}")
        return {"rows": rows, "partitioned_by": day, "columns": columns}, prints
    if old_parts and old_parts == parts and (old / "data.parquet").is_file():
        target.rmdir()
        _link(old, target)
    else:
        pq.write_table(relation.to_arrow_table(), target / "data.parquet", use_dictionary=dictionary)
    return {"rows": rows, "partitioned_by": None, "columns": columns}, prints


def _fingerprints_of(snapshot: Snapshot | None) -> dict:
    """The fingerprints of a published version (none for a version published without them)."""
    try:
        return json.loads((snapshot.folder / FINGERPRINTS).read_text(encoding="utf-8")) if snapshot else {}
    except (OSError, ValueError):
        return {}


def literal(text: str) -> str:
    """A SQL string literal (for a path Nightjar made itself: views cannot take parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _create_views(database: Path, folder: Path, tables: dict[str, dict]) -> None:
    with duckdb.connect(str(database)) as con:
        for name, entry in tables.items():
            day = entry["partitioned_by"]
            files = folder / "tables" / name / ("**/*.parquet" if day else "data.parquet")
            fragments = {"files": literal(str(files)), "columns": ", ".join(map(ident, entry["columns"]))}
            if day:
                fragments["types"] = f"{{{literal(day)}: 'DATE'}}"
            query = "activation/read_hive" if day else "activation/read_file"
            con.execute(sql(query, idents={"name": name}, fragments=fragments))
        if "predictions" in tables:
            con.execute(sql("activation/recommendations_view"))


def _check_rows(database: Path, tables: dict[str, dict]) -> None:
    """Each view returns the rows the warehouse had (the row-count check of a publication)."""
    with duckdb.connect(str(database), read_only=True) as con:
        for name, entry in tables.items():
            seen = scalar(con, sql("core/row_count", idents={"table": name}))
            if seen != entry["rows"]:
                raise PublishError(f"published {name} has {seen} rows, the warehouse {entry['rows']}")


def switch(root: Path, version: str) -> None:
    """Point ``root/current`` at ``versions/<version>`` in one atomic rename."""
    tmp = root / f".{CURRENT}.{secrets.token_hex(4)}"
    os.symlink(Path(VERSIONS) / version, tmp)
    os.replace(tmp, root / CURRENT)


def prune(root: Path, keep: int = KEEP, wait: bool = True) -> list[str]:
    """Remove all but the newest ``keep`` versions (never the current one) and unfinished ones.

    A version counts once its manifest is written (the last step before the switch); a folder in
    ``versions/`` without one was left by a publication killed between its rename and the switch: it
    was never current, so no reader holds it, and it goes (publications run one at a time, across
    processes: call it under :func:`publishing`, as :func:`publish` does). A stale version is first
    renamed to a hidden name (out of the listing at once), then its files are removed. Without ``wait``
    they are removed by a thread (:data:`PRUNE_THREAD`, which the process waits for before it exits):
    removing a version's hundreds of linked files waits on the disk (0.5-1.3 s at SF1, almost no CPU),
    which the run's next steps need not wait for. A hidden folder left behind (the process was killed
    first) goes with the next prune."""
    versions = root / VERSIONS
    current = (root / CURRENT).resolve().name if (root / CURRENT).exists() else None
    listed = sorted((p for p in versions.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)
    done = [p for p in listed if (p / MANIFEST).is_file()]
    unfinished = [p for p in listed if p not in done]
    stale = [p for p in done[:-keep] + unfinished if p.name != current]
    hidden = [p for p in versions.iterdir() if p.name.startswith(".")]
    for p in stale:
        with contextlib.suppress(OSError):  # gone already: another prune took it
            hidden.append(p.rename(versions / f".{p.name}{REMOVING}"))
    if wait:
        _remove(hidden)
    elif hidden:
        threading.Thread(target=_remove, args=(hidden,), name=PRUNE_THREAD).start()
    return [p.name for p in stale] + [p.name for p in hidden if not p.name.endswith(REMOVING)]


def _remove(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _holder() -> str:
    """This process, as a publication waiting for it names it: its id and program, never its arguments
    (`nightjar forget`'s hold a customer's identifier)."""
    argv = sys.orig_argv
    program = Path(argv[0]).name + (f" -m {argv[2]}" if argv[1:2] == ["-m"] and len(argv) > 2 else "")
    return f"process {os.getpid()} ({program})"


def _record_holder(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{_holder()}\n".encode(), 0)


def _held_by(root: Path) -> str:
    try:
        return (root / LOCK).read_text(encoding="utf-8").strip() or "another process"
    except OSError:
        return "another process"


@contextlib.contextmanager
def publishing(
    root: Path, log: Callable[[str], None] | None = None, wait: float | None = None
) -> Iterator[None]:
    """Hold ``root``'s publication lock (``root/.lock``) while a publication writes, switches and removes
    versions: one publication at a time, across processes. Waits up to ``wait`` seconds
    (:data:`LOCK_WAIT`) for another one to end, saying so to ``log``, then raises :class:`PublishError`."""
    wait = LOCK_WAIT if wait is None else wait
    root.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(root / LOCK, on_acquired=_record_holder)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        if log:
            log(f"waiting for another publication of {root} ({_held_by(root)}) to end")
        try:
            lock.acquire(timeout=wait)
        except filelock.Timeout:
            raise PublishError(
                f"another publication of {root} ({_held_by(root)}) is still under way after {wait:g} s: "
                "try again when it is done"
            ) from None
    try:
        yield
    finally:
        lock.release()


def pending_forgets(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """The forgets whose rows a published version may still hold (``forget_pending``)."""
    if not table_exists(con, FORGET_PENDING):
        return ()
    return tuple(r[0] for r in con.execute(sql("activation/pending_forgets")).fetchall())


def clear_forgets(con: duckdb.DuckDBPyConnection, forgets: Sequence[str]) -> None:
    """Clear the markers of the forgets a publication finished (its ``Snapshot.forgets``), on a writable
    connection: a forget committed since then stays pending."""
    if forgets:
        con.execute(sql("activation/clear_forgets"), {"forgets": list(forgets)})


def publish(
    con: duckdb.DuckDBPyConnection,
    warehouse: Path,
    now: dt.datetime | None = None,
    log: Callable[[str], None] | None = None,
    alone: bool = False,
    lock_wait: float | None = None,
) -> Snapshot:
    """Publish the warehouse's readable tables as a new snapshot version and make it current, then remove
    the versions beyond the last :data:`KEEP`, holding the publication lock throughout (:func:`publishing`).

    With ``alone``, or when a forget is pending, every older version is removed, waiting until its files
    are gone: none may still hold what the warehouse no longer does (a reader holding one open loses its
    files). The snapshot returned lists the pending forgets it finished: clear them with
    :func:`clear_forgets` once the connection may write."""
    root = published_folder(warehouse).resolve()
    with publishing(root, log, lock_wait):
        forgets = pending_forgets(con)
        snapshot = _publish_version(con, warehouse, root, now or dt.datetime.now(dt.UTC))
        alone = alone or bool(forgets)
        removed = prune(root, keep=1 if alone else KEEP, wait=alone)
    if log:
        log(
            f"published {len(snapshot.tables)} tables as {snapshot.version}"
            + (f"; removed {len(removed)} old" if removed else "")
            + ("; kept no older version" if alone else "")
            + (f" (finishing {len(forgets)} forget(s))" if forgets else "")
        )
    return replace(snapshot, forgets=forgets)


def _publish_version(
    con: duckdb.DuckDBPyConnection, warehouse: Path, root: Path, now: dt.datetime
) -> Snapshot:
    """Write a new version and switch ``current`` to it (the previous one stays current on failure)."""
    version = f"{now:%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"
    partial = root / VERSIONS / f".{version}.partial"
    folder = root / VERSIONS / version
    (partial / "tables").mkdir(parents=True)
    previous = current_snapshot(root)
    before = _fingerprints_of(previous)
    before_tables = previous.folder / "tables" if previous else root / VERSIONS / ".none"
    try:
        tables, prints = {}, {}
        for t in published_tables(con):
            tables[t], prints[t] = _write_table(con, t, partial / "tables", before.get(t), before_tables)
        (partial / FINGERPRINTS).write_text(json.dumps(prints) + "\n", encoding="utf-8")
        bases = base_values(con, Path(warehouse).resolve().parent / "models")
        if bases is not None:  # what a waterfall adds to the explanation tables
            (partial / "tables" / BASE_VALUES).mkdir()
            pq.write_table(bases, partial / "tables" / BASE_VALUES / "data.parquet")
            tables[BASE_VALUES] = {
                "rows": bases.num_rows,
                "partitioned_by": None,
                "columns": bases.column_names,
            }
        os.rename(partial, folder)
        _create_views(folder / SNAPSHOT, folder, tables)
        _check_rows(folder / SNAPSHOT, tables)
        snapshot = Snapshot(version, folder, now.isoformat(timespec="seconds"), tables)
        manifest = {"version": version, "published_at": snapshot.published_at, "tables": tables}
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        switch(root, version)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        if (root / CURRENT).resolve() != folder:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return snapshot

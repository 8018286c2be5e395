"""The DuckDB warehouse: short-lived connections, UTC, bookkeeping tables created on first write."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipeline.core.sql import bind, sql

# The concurrency pool of every asset and check that opens the warehouse (limit 1: one writer).
POOL = "duckdb"


class WarehouseError(RuntimeError):
    """The warehouse file cannot be opened or written."""

    # True when waiting may help (another process holds DuckDB's lock on the file).
    transient: bool = False


class WarehouseLocked(WarehouseError):
    """Another process has the warehouse open for writing (DuckDB has one writer); try again later."""

    transient = True


# The type of event values, conversion values and money sums: a Decimal at its declared scale (up to 18)
# and the sum of many, exactly; a Float's double to 18 decimals (the double itself is kept beside it).
EXACT_VALUE = "DECIMAL(38,18)"
# What an exact EXACT_VALUE sum holds (under 1e20), with a margin for the doubles' rounding of the bound it
# is compared with: a sum that could reach it is taken apart in whole parts and fractions (attribution's
# summary_wide.sql, the experiments' report_counts.sql and write_conversions.sql, the KPIs' money sums:
# sql/core/exact_sum_wide.sql)
EXACT_SUM_LIMIT = 9e19


def exact_sum(value: str, wide: bool) -> str:
    """The SQL expression of the exact sum (EXACT_VALUE, 0 without any) of the values ``value`` (a column
    or expression) of a group: sql/core/exact_sum.sql, or where they could add up to 1e20 (``wide``),
    sql/core/exact_sum_wide.sql: NULL from 1e20 on (too large to hold exactly), the same bits below."""
    if not wide:
        return sql("core/exact_sum", fragments={"value": value})
    parts = {part: sql(f"core/exact_sum_{part}", fragments={"value": value}) for part in ("whole", "rest")}
    return sql("core/exact_sum_wide", fragments=parts)


MEMORY_LIMIT_ENV = "NIGHTJAR_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"


def memory_limit() -> str | None:
    """DuckDB's memory_limit for warehouse connections: $NIGHTJAR_DUCKDB_MEMORY_LIMIT (a DuckDB size such as
    "8GB"; empty: DuckDB's own default, 80% of the RAM), else 2GB. Beyond it DuckDB spills to disk
    (``<warehouse>.tmp``) instead of growing: a 90-day backfill otherwise keeps what it wrote cached."""
    value = os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT).strip()
    return value or None


_SIZE = re.compile(r"^\s*([\d.]+)\s*([KMGTPE]?i?B|bytes)\s*$", re.I)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50, "E": 1 << 60}


def size_bytes(text: str) -> int:
    """A DuckDB memory size as its setting reads (``476.8 MiB``, ``1.8 GiB``, ``512 bytes``) in bytes;
    decimal units (``500MB``) count 1000s."""
    found = _SIZE.match(text)
    if not found:
        raise ValueError(f"not a DuckDB memory size: {text!r}")
    number, unit = found.groups()
    unit = unit.upper()
    if unit == "BYTES":
        return int(float(number))
    base = 1 if unit.endswith("IB") or len(unit) == 1 else 0
    scale = _UNITS[unit[0]] if base else 1000 ** ("KMGTPE".index(unit[0]) + 1)
    return int(float(number) * scale)


# A long read's cache: DuckDB keeps every block a scan reads cached up to its memory_limit (the
# published snapshot's read of a backfill's credits: 1.5 GB at SF1, 4.8 GB at SF10), beside what the
# reader's consumer holds; within cache_at_most it evicts them as it goes.
CACHE_SHARE = 0.25
CACHE_FLOOR = 256 << 20


@contextmanager
def cache_at_most(con: duckdb.DuckDBPyConnection, share: float = CACHE_SHARE) -> Iterator[None]:
    """Within: the connection's memory_limit at ``share`` of what it is (CACHE_FLOOR at least, never
    above it), so a scan of a large table does not keep its blocks cached; then as it was."""
    ((shown,),) = con.execute(sql("core/memory_limit")).fetchall()  # the one setting
    limit = size_bytes(shown)
    lowered = min(limit, max(int(limit * share), CACHE_FLOOR))
    con.execute(sql("core/set_memory_limit"), {"size": f"{lowered} bytes"})
    try:
        yield
    finally:  # as connect set it (DuckDB shows the limit rounded)
        configured = memory_limit()
        if configured:
            con.execute(sql("core/set_memory_limit"), {"size": configured})
        else:
            con.execute(sql("core/reset_memory_limit"))


@contextmanager
def any_insert_order(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Within: the connection's inserts need not keep the order of the rows they insert (DuckDB's
    preserve_insertion_order off: the parallel pieces are not gathered in order); then as it was.
    For tables nothing reads in their physical order."""
    ((ordered,),) = con.execute(sql("core/insertion_order")).fetchall()  # the one setting
    con.execute(sql("core/set_insertion_order"), {"ordered": False})
    try:
        yield
    finally:
        con.execute(sql("core/set_insertion_order"), {"ordered": bool(ordered)})


SPILL_FILE = re.compile(r"^duckdb_temp_(\d+)_")  # DuckDB's spill files name the process that wrote them


def spill_folder(path: Path) -> Path:
    """Where DuckDB spills what does not fit in memory_limit: ``<warehouse>.tmp`` beside the file."""
    return path.with_name(path.name + ".tmp")


def remove_stale_spill_files(path: Path) -> int:
    """Delete the spill files of processes that are gone (a killed run leaves gigabytes behind, and
    DuckDB never removes another process's files); returns how many. Live processes' files stay."""
    removed = 0
    folder = spill_folder(path)
    for f in folder.iterdir() if folder.is_dir() else ():
        if (m := SPILL_FILE.match(f.name)) and not _alive(int(m.group(1))):
            f.unlink(missing_ok=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def published_folder(warehouse: str | Path) -> Path:
    """Where the read snapshot of a warehouse is published (pipeline/activation/publish.py): beside it."""
    return Path(warehouse).parent / "published"


_HOLDER = re.compile(r"lock is held in (.+?) \(PID (\d+)\)")


def lock_holder(message: str) -> str:
    """Who holds DuckDB's lock, from its error message: the process id and its command line."""
    found = _HOLDER.search(message)
    if not found:
        return "another process"
    program, pid = found.groups()
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        command = " ".join(
            Path(a.decode(errors="replace")).name if i == 0 else a.decode(errors="replace")
            for i, a in enumerate(argv[:4])
            if a
        )
    except OSError:
        command = program
    return f"process {pid} ({' '.join(command.split())})"  # one line, whatever the arguments hold


@contextmanager
def connect(path: str | Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse for one short piece of work and close it afterwards."""
    path = Path(path)
    if not read_only:
        remove_stale_spill_files(path)
    if read_only and not path.exists():
        raise WarehouseError(
            f"the warehouse {path} does not exist yet: run the pipeline first (e.g. `make demo`)"
        )
    try:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only)
    except (duckdb.IOException, OSError) as e:
        if "lock" in str(e).lower():
            raise WarehouseLocked(
                f"the warehouse {path} is in use by {lock_holder(str(e))} (DuckDB allows one writer or "
                f"many readers, never both): try again when it is done, or read the published snapshot "
                f"{published_folder(path) / 'current' / 'snapshot.duckdb'}"
            ) from None
        if "not a valid DuckDB database" in str(e):
            raise WarehouseError(
                f"the warehouse {path} is not a DuckDB database (damaged, or another kind of file): "
                "restore it from a copy, or move it away and rebuild it with a backfill"
            ) from e
        raise WarehouseError(f"cannot open the warehouse {path}: {e}") from e
    try:
        con.execute("SET TimeZone = 'UTC'")
        # spills go beside the warehouse, where remove_stale_spill_files finds a dead run's files
        con.execute("SET temp_directory = $dir", {"dir": str(spill_folder(path))})
        if limit := memory_limit():
            try:
                con.execute("SET memory_limit = $limit", {"limit": limit})
            except duckdb.Error as e:
                raise WarehouseError(
                    f"{MEMORY_LIMIT_ENV}={limit!r} is not a DuckDB memory size (e.g. 4GB): {e}"
                ) from e
        if not read_only:
            con.execute(sql("core/writer_settings"))  # checkpoint when the connection closes
            con.execute(sql("core/schema"))
        yield con
    except duckdb.OutOfMemoryException as e:
        # a statement that cannot spill (e.g. an ordered list per group) needs more than the limit
        raise WarehouseError(
            f"DuckDB ran out of its memory_limit ({memory_limit() or 'its default'}) on the warehouse "
            f"{path}: set {MEMORY_LIMIT_ENV} higher for data this size (e.g. 6GB), then run again: {e}"
        ) from e
    except duckdb.IOException as e:
        # e.g. a full disk: DuckDB rolls the open transaction back, the file keeps its last commit
        raise WarehouseError(
            f"cannot write the warehouse {path} (is the disk full or the file not writable?): {e}"
        ) from e
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back (and re-raised) on any error."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        _fault_point_before_commit()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _fault_point_before_commit() -> None:
    """Fault injection for the crash tests: with NIGHTJAR_FAULT_PAUSE_BEFORE_COMMIT=SECONDS every
    transaction says so on stderr and waits that long before COMMIT, so a test can SIGKILL the
    process exactly in the middle of a write. Unset (always, outside tests) it does nothing."""
    pause = os.environ.get("NIGHTJAR_FAULT_PAUSE_BEFORE_COMMIT")
    if pause:
        print("nightjar fault point: pausing before COMMIT", file=sys.stderr, flush=True)
        time.sleep(float(pause))


def scalar(con: duckdb.DuckDBPyConnection, query: str, params: list | dict | None = None):
    """The single value a query returns."""
    return con.execute(query, params or []).fetchall()[0][0]


def execute_statements(con: duckdb.DuckDBPyConnection, query: str, params: dict) -> None:
    """Run a query of several statements (each ending with ``;`` at a line's end), each bound to the
    ``params`` it names."""
    for statement in filter(str.strip, query.split(";\n")):
        con.execute(statement, bind(statement, params))


def compact(path: str | Path) -> tuple[int, int]:
    """Rewrite the warehouse file so that the bytes of deleted rows are gone from disk (DuckDB reuses
    freed blocks but does not wipe them): copy the database into a new file, then put it in the old
    one's place. Returns the file's size before and after. Run it when nothing else writes."""
    path = Path(path)
    fresh = path.with_name(path.name + ".compact")
    fresh.unlink(missing_ok=True)
    before = path.stat().st_size
    with connect(path) as con:  # the writer's lock: no one writes while the copy is made
        source = scalar(con, "SELECT current_database()")
        con.execute(sql("core/compact_attach"), {"target": str(fresh)})
        con.execute(sql("core/compact_copy", idents={"source": source}))
        con.execute(sql("core/compact_detach"))
    os.replace(fresh, path)
    return before, path.stat().st_size


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        scalar(
            con,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?",
            [table],
        )
    )


def migrate_column_types(con: duckdb.DuckDBPyConnection, table: str, types: dict[str, str]) -> list[str]:
    """Give the columns ``types`` (name -> DuckDB type, e.g. "DECIMAL(38,18)") of an existing ``table``
    the types the code now declares (``CREATE TABLE IF NOT EXISTS`` leaves an old table as it is);
    a column that has its type already is not rewritten. Returns the columns altered."""
    have = dict(con.execute(sql("core/column_types"), {"table": table}).fetchall())
    altered = [c for c, t in types.items() if c in have and have[c] != t]
    for column in altered:
        idents = {"table": table, "column": column}
        con.execute(sql("core/alter_column_type", idents=idents, fragments={"type": types[column]}))
    return altered


def migrate_nullable(con: duckdb.DuckDBPyConnection, table: str, columns: Iterable[str]) -> list[str]:
    """Let the ``columns`` of an existing ``table`` be NULL as the code now declares them (``CREATE TABLE IF
    NOT EXISTS`` leaves an old table's NOT NULL as it is); a column that may be NULL already is not
    altered. Returns the columns altered."""
    strict = {r[0] for r in con.execute(sql("core/nullable_columns"), {"table": table}).fetchall()}
    altered = [c for c in columns if c in strict]
    for column in altered:
        con.execute(sql("core/drop_not_null", idents={"table": table, "column": column}))
    return altered


# Errors of a statement against the warehouse's schema (a missing table or column): waiting cannot fix them
STATEMENT_ERRORS = (duckdb.CatalogException, duckdb.BinderException, duckdb.ParserException)


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file every asset reads and writes (one writer at a time: pool `duckdb`)."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection; a warehouse error fails the step, retried (see pipeline.core.retries) only when
        transient."""
        try:
            with connect(self.path, read_only=read_only) as con:
                yield con
        except WarehouseError as e:
            if e.transient:
                raise
            raise dg.Failure(description=str(e), allow_retries=False) from e
        except STATEMENT_ERRORS as e:  # a table or column that is not there stays so: no retry
            raise dg.Failure(description=str(e), allow_retries=False) from e

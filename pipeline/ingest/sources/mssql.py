"""SQL Server source (pyodbc): run the configured query for one day and fetch the result in
batches (``fetchmany``) into Arrow, staged as Parquet for the one ingestion path. pyodbc is
imported when a connection is made, not with the config.

Incremental modes (ODBC parameters are positional ``?`` markers, never formatted into the SQL):

* window (default): the query receives the partition's start and end (two ``?``: start, end);
* watermark: the query receives the highest value of the watermark column loaded into the
  partitions before this day (or 1900-01-01 on the first run) and the partition's end, so a
  re-run of a day asks for exactly the same rows.

SQL-Server-specific pieces (the type mapping below, the datetimeoffset converter) are pure
functions, tested on the values and descriptions pyodbc returns.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import Field

from pipeline.core.settings import ProjectBase
from pipeline.core.sql import sql as sql_file
from pipeline.core.warehouse import WarehouseError, WarehouseResource, table_exists
from pipeline.ingest.sources.files import LandedFile, SourceError
from pipeline.ingest.sources.registry import Dataset, Inputs, SourceKind, register
from pipeline.ingest.sources.remote import (
    QuerySpec,
    RemoteSource,
    TransientError,
    missing_query,
    stage_batches,
    with_retries,
)

SQL_SS_DATETIMEOFFSET = -155  # the ODBC type code of SQL Server's datetimeoffset
MIN_WATERMARK = dt.datetime(1900, 1, 1)


class MssqlSource(RemoteSource):
    kind: Literal["mssql"]
    connection_string_env: str  # env var holding the whole ODBC connection string
    batch_size: int = Field(default=10_000, ge=1)
    queries: dict[str, QuerySpec] = Field(default_factory=dict)


def arrow_type(type_code, precision: int | None, scale: int | None) -> pa.DataType:
    """The Arrow type of a result column, from pyodbc's ``cursor.description`` entry.

    SQL Server: nvarchar/varchar/uniqueidentifier -> str (uuid.UUID with pyodbc.native_uuid);
    bit -> bool; int/bigint -> int; decimal/numeric/money -> Decimal with precision and scale;
    datetime2/datetime -> datetime (microseconds; datetime2's 100 ns digit is dropped by ODBC);
    date -> date; float/real -> float; varbinary -> bytes.
    """
    if type_code is bool:
        return pa.bool_()
    if type_code is int:
        return pa.int64()
    if type_code is float:
        return pa.float64()
    if type_code is decimal.Decimal:
        p = precision if precision and 0 < precision <= 38 else 38
        s = scale if scale is not None and 0 <= scale <= p else min(10, p)
        return pa.decimal128(p, s)
    if type_code is dt.datetime:
        return pa.timestamp("us")
    if type_code is dt.date:
        return pa.date32()
    if type_code is dt.time:
        return pa.time64("us")
    if type_code in (bytes, bytearray):
        return pa.binary()
    return pa.string()  # str, uuid.UUID and anything else: as text


def _column(values: tuple, t: pa.DataType) -> pa.Array:
    if pa.types.is_string(t):
        texts = [None if v is None else uuid_text(v) if isinstance(v, uuid.UUID) else str(v) for v in values]
        return pa.array(texts, type=t)
    return pa.array(values, type=t)


def to_batch(description, rows: list[tuple]) -> pa.RecordBatch:
    """One fetched batch (pyodbc rows) as an Arrow record batch of the mapped types."""
    names = [d[0] for d in description]
    types = [arrow_type(d[1], d[4], d[5]) for d in description]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.RecordBatch.from_arrays(
        [_column(c, t) for c, t in zip(columns, types, strict=True)],
        schema=pa.schema(list(zip(names, types, strict=True))),
    )


def datetimeoffset(raw: bytes) -> dt.datetime:
    """pyodbc output converter for datetimeoffset: the ODBC struct as an aware UTC datetime."""
    year, month, day, hour, minute, second, ns, tz_h, tz_m = struct.unpack("<6hI2h", raw)
    local = dt.datetime(
        year,
        month,
        day,
        hour,
        minute,
        second,
        ns // 1000,
        tzinfo=dt.timezone(dt.timedelta(hours=tz_h, minutes=tz_m)),
    )
    return local.astimezone(dt.UTC)


def batches(cursor, size: int) -> Iterator[pa.RecordBatch]:
    """The cursor's result, ``size`` rows at a time."""
    while rows := cursor.fetchmany(size):
        yield to_batch(cursor.description, rows)


_SECRET_KEYS = re.compile(r"(?i)\b(pwd|password)\s*=\s*(\{[^}]*\}|[^;]*)")


def redact(message: str, connection_string: str) -> str:
    """A driver message with every secret of the connection string taken out."""
    for m in _SECRET_KEYS.finditer(connection_string):
        value = m.group(2).strip("{}")
        if value:
            message = message.replace(value, "***")
    return message


# SQLSTATEs of a lost or refused connection and of timeouts: worth another attempt.
TRANSIENT_STATES = ("08S01", "08S02", "08001", "08004", "HYT00", "HYT01", "40001")
# Drivers that report a lost connection as a general error (psqlODBC: HY000) say so in words.
LOST_CONNECTION = (
    r"(?i)closed the connection|communication link failure|connection reset|broken pipe|TCP Provider"
)


def _error(source: str, conn_str: str, e: Exception, what: str) -> SourceError:
    state = e.args[0] if getattr(e, "args", None) and isinstance(e.args[0], str) else ""
    text = redact(str(e.args[1] if len(getattr(e, "args", ())) > 1 else e), conn_str).splitlines()[0][:300]
    login = state in ("28000", "28P01") or re.search(r"(?i)login failed|password authentication failed", text)
    hint = " (check the connection string's user and password)" if login else ""
    prefix = "" if text.startswith(f"[{state}]") else f"[{state}] "
    lost = state in TRANSIENT_STATES or re.search(LOST_CONNECTION, text)
    kind = TransientError if lost and not login else SourceError
    return kind(f"mssql source {source!r}: {what}: {prefix}{text}{hint}")


def fetch_to_parquet(
    source: str,
    conn_str: str,
    sql: str,
    params: list,
    size: int,
    path: Path,
    timeout: int = 15,
    retries: int = 2,
) -> int:
    """Run ``sql`` with ``params`` and write its result to ``path`` in batches of ``size`` rows;
    a lost connection is tried again (the whole query: the staged file is rewritten)."""
    return with_retries(
        f"mssql source {source!r}",
        lambda: _fetch_once(source, conn_str, sql, params, size, path, timeout),
        retries,
    )


def _fetch_once(
    source: str, conn_str: str, sql: str, params: list, size: int, path: Path, timeout: int
) -> int:
    import pyodbc

    try:
        con = pyodbc.connect(conn_str, timeout=timeout, readonly=True)
    except pyodbc.Error as e:
        raise _error(source, conn_str, e, "cannot connect") from None
    try:
        con.add_output_converter(SQL_SS_DATETIMEOFFSET, datetimeoffset)
        cur = con.cursor()
        cur.execute(sql, *params)
        if cur.description is None:
            raise SourceError(f"mssql source {source!r}: the query returns no result set")
        empty = to_batch(cur.description, [])
        return stage_batches(batches(cur, size), path, lambda: empty.schema)
    except pyodbc.Error as e:
        raise _error(source, conn_str, e, "the query failed") from None
    finally:
        con.close()


def day_parameters(day: dt.date, watermark: object | None, incremental: bool) -> list:
    """The ``?`` values of a day: (start, end) for window, (last watermark, end) for watermark."""
    start = dt.datetime.combine(day, dt.time())
    end = start + dt.timedelta(days=1)
    if incremental:
        return [MIN_WATERMARK if watermark is None else watermark, end]
    return [start, end]


def fetch_day(
    source: str,
    conn_str: str,
    sql: str,
    watermark_column: str | None,
    watermark: object | None,
    day: dt.date,
    size: int,
    path: Path,
) -> LandedFile:
    params = day_parameters(day, watermark, watermark_column is not None)
    fetch_to_parquet(source, conn_str, sql, params, size, path)
    return LandedFile(path=path, day=day, size=path.stat().st_size, mtime=0.0)


def uuid_text(u: uuid.UUID | str) -> str:
    """uniqueidentifier values as text, whichever way pyodbc returns them."""
    return str(u).upper() if isinstance(u, uuid.UUID) else u


# --- the source kind: its Dagster resource, an asset run's days, checks ----------------------


class MssqlResource(dg.ConfigurableResource):
    """A SQL Server database reached through ODBC (pyodbc); the whole connection string is secret."""

    source: str
    connection_string: str
    batch_size: int = 10_000


def resource(config: ProjectBase, s: MssqlSource) -> MssqlResource:
    return MssqlResource(
        source=s.name, connection_string=dg.EnvVar(s.connection_string_env), batch_size=s.batch_size
    )


def last_watermark(warehouse: WarehouseResource, table: str, column: str, day: dt.date):
    """The highest ``column`` value loaded into the partitions before ``day`` (None if none)."""
    if not Path(warehouse.path).exists():  # no warehouse yet: the first run
        return None
    try:
        with warehouse.connect(read_only=True) as con:
            if not table_exists(con, table):
                return None
            query = sql_file("ingest/sources/last_watermark", idents={"column": column, "table": table})
            return con.execute(query, {"d": day}).fetchall()[0][0]
    except WarehouseError as e:  # never guess a watermark: that would ask for the wrong rows
        raise SourceError(f"cannot read the last watermark of {table}.{column}: {e}") from None


def _comparable(v):
    """Dates and timestamps compare as naive timestamps (a Date watermark is its midnight)."""
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time())
    return v


def fetch(
    context, res: MssqlResource, source: MssqlSource, spec: Dataset, days: list[dt.date], tmp: Path
) -> Inputs:
    """Run the dataset's query for each day (window or watermark), staged as Parquet in ``tmp``."""
    q = source.queries[spec.name]
    inputs: Inputs = {}
    try:
        mark = (
            last_watermark(context.resources.warehouse, spec.table, q.watermark, days[0])
            if q.watermark
            else None
        )
    except SourceError as e:
        return {day: str(e) for day in days}
    for day in days:
        try:
            f = fetch_day(
                res.source,
                res.connection_string,
                q.sql,
                q.watermark,
                mark,
                day,
                res.batch_size,
                tmp / f"{spec.name}_{day:%Y%m%d}.parquet",
            )
        except SourceError as e:
            inputs[day] = str(e)
            continue
        inputs[day] = f
        if q.watermark:  # the next day of this run starts after what this day fetched
            top = _comparable(pc.max(pq.read_table(f.path, columns=[q.watermark]).column(0)).as_py())
            if top is not None and (mark is None or top > _comparable(mark)):
                mark = top
    return inputs


def check_transaction(source: MssqlSource, dataset: str, fields: list[str]) -> str | None:
    if missing := missing_query(source, source.queries, dataset):
        return missing
    mark = source.queries[dataset].watermark
    if mark and mark not in fields:
        return f"the watermark {mark!r} of source {source.name!r} is not a field of {dataset!r}"
    return None


KIND = register(
    SourceKind(
        name="mssql",
        settings=MssqlSource,
        resource=resource,
        fetch=fetch,
        check_transaction=check_transaction,
    )
)

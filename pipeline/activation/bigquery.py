"""A BigQuery table as an export destination: ``bigquery://<source>/<dataset>.<table>``.

The source is a ``kind: bigquery`` source of the config (its project, location, credentials_env,
endpoint), as for ingestion. A night's rows replace that day's rows of the table, idempotently:

1. the table is created when missing (the export's columns, time-partitioned by day on ``date``),
   else its columns are checked against the export's;
2. the day's rows are loaded into a staging table beside it (a Parquet load job; the staging table
   expires after a day should the export die before it removes it) and counted there;
3. one ``MERGE`` statement deletes the day's old rows and inserts the staged ones: BigQuery applies a
   statement whole or not at all, so readers see the old day or the new one, never a mix, and a
   re-run leaves one copy;
4. the day's rows in the table are counted (the row-count check), and the staging table is dropped.

A MERGE rather than a multi-statement transaction (BEGIN ... DELETE ... INSERT ... COMMIT): both are
atomic on BigQuery, but the BigQuery emulator the tests run against cannot bind query parameters in a
multi-statement script, and a single statement needs none of the script machinery.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.core.sql import sql
from pipeline.ingest.sources.files import SourceError
from pipeline.ingest.sources.remote import with_retries

DAY_COLUMN = "date"  # every export's day (sql/activation/export/*.sql): the table's partition column
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,1023}$")
# the BigQuery client's (legacy) names of the types the API may also spell in standard SQL
SAME_TYPE = {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN", "STRUCT": "RECORD"}
STAGE_HOURS = 24  # a staging table left by an export that died expires after this


class BigQueryError(RuntimeError):
    """The table cannot be written as asked; the day's rows at the destination are as they were."""


def parse_table(path: str) -> tuple[str, str]:
    """(dataset, table) of ``<dataset>.<table>``."""
    parts = path.split(".")
    if len(parts) != 2 or not all(NAME.match(p) for p in parts):
        raise BigQueryError(
            f"{path!r}: name a table as <dataset>.<table> (letters, digits and underscores), "
            "e.g. bigquery://warehouse/marketing.results"
        )
    return parts[0], parts[1]


# (test of an Arrow type, the BigQuery type of its column)
_SCALARS = (
    (pa.types.is_string, "STRING"),
    (pa.types.is_large_string, "STRING"),
    (pa.types.is_boolean, "BOOLEAN"),
    (pa.types.is_integer, "INTEGER"),
    (pa.types.is_floating, "FLOAT"),
    (pa.types.is_date, "DATE"),
    (pa.types.is_timestamp, "TIMESTAMP"),
)


def column_type(t: pa.DataType, column: str) -> tuple[str, str]:
    """(BigQuery type, mode) of an Arrow column type."""
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        inner, _ = column_type(t.value_type, column)
        return inner, "REPEATED"
    scalar = next((name for test, name in _SCALARS if test(t)), None)
    if scalar is not None:
        return scalar, "NULLABLE"
    if pa.types.is_decimal(t):
        fits = t.scale <= 9 and t.precision - t.scale <= 29
        return ("NUMERIC" if fits else "BIGNUMERIC"), "NULLABLE"
    raise BigQueryError(f"column {column!r} has a type BigQuery tables are not written with here ({t})")


def bigquery_schema(schema: pa.Schema) -> list:
    from google.cloud import bigquery

    return [bigquery.SchemaField(f.name, *column_type(f.type, f.name)) for f in schema]


def as_utc(table: pa.Table) -> pa.Table:
    """Timestamps without a zone (the warehouse keeps UTC so) marked as UTC: BigQuery TIMESTAMPs."""
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type) and f.type.tz is None:
            table = table.set_column(i, f.name, pc.assume_timezone(table.column(i), "UTC"))
    return table


def quoted(*parts: str) -> str:
    """A backtick-quoted BigQuery name (the parts were checked: no backtick, no line break)."""
    if any(not p or "`" in p or "\n" in p for p in parts):
        raise BigQueryError(f"{'.'.join(parts)!r} cannot be quoted as a BigQuery name")
    return "`" + ".".join(parts) + "`"


def _kind(field) -> tuple[str, str, str]:
    return field.name, SAME_TYPE.get(field.field_type, field.field_type), field.mode or "NULLABLE"


def check_columns(existing: list, wanted: list, where: str) -> None:
    """Every exported column is in the existing table with the same type and mode."""
    have = {f.name: _kind(f) for f in existing}
    wrong = [_kind(f) for f in wanted if have.get(f.name) != _kind(f)]
    if wrong:
        show = ", ".join(f"{n} {t}{' REPEATED' if m == 'REPEATED' else ''}" for n, t, m in wrong)
        raise BigQueryError(
            f"{where} exists without the export's column(s) {show}; drop it or export to a new table"
        )


def ensure_table(client, table_id: str, fields: list) -> None:
    """Create the table (partitioned by day on ``date``) when it is missing; else check its columns."""
    from google.api_core import exceptions as gexc
    from google.cloud import bigquery

    try:
        check_columns(client.get_table(table_id).schema, fields, table_id)
        return
    except gexc.NotFound:
        pass
    dataset = table_id.rsplit(".", 1)[0]
    try:
        client.get_dataset(dataset)
    except gexc.NotFound:
        raise BigQueryError(
            f"there is no dataset {dataset}: create it (in the location you want) before exporting to it"
        ) from None
    table = bigquery.Table(table_id, schema=fields)
    table.time_partitioning = bigquery.TimePartitioning(type_="DAY", field=DAY_COLUMN)
    client.create_table(table, exists_ok=True)


def _count(client, table: str, day: dt.date) -> int:
    from google.cloud import bigquery

    query = sql("activation/bigquery/count_day", fragments={"table": table, "day": quoted(DAY_COLUMN)})
    params = [bigquery.ScalarQueryParameter("day", "DATE", day)]
    rows = client.query(query, job_config=bigquery.QueryJobConfig(query_parameters=params)).result()
    return int(next(iter(rows))[0])


def merge_statement(project: str, dataset: str, table: str, stage: str, columns: list[str]) -> str:
    """The MERGE that replaces the day's rows of ``table`` by those of ``stage`` (sql/activation/bigquery)."""
    return sql(
        "activation/bigquery/replace_day",
        fragments={
            "target": quoted(project, dataset, table),
            "stage": quoted(project, dataset, stage),
            "day": quoted(DAY_COLUMN),
            "columns": ", ".join(quoted(c) for c in columns),
            "values": ", ".join(f"s.{quoted(c)}" for c in columns),
        },
    )


def replace_day(
    client,
    source: str,
    project: str,
    path: str,
    local: Path,
    day: dt.date,
    retries: int = 2,
    log: Callable[[str], None] | None = None,
) -> int:
    """Replace the ``day`` rows of table ``path`` (<dataset>.<table>) of ``project`` by the rows of the
    Parquet file ``local``; returns the rows now there."""
    from google.cloud import bigquery

    from pipeline.ingest.sources.bigquery import _error

    dataset, name = parse_table(path)
    rows = as_utc(pq.read_table(local))
    if DAY_COLUMN not in rows.column_names:
        raise BigQueryError(f"a BigQuery export needs the {DAY_COLUMN!r} column (its partition column)")
    if (bad := pc.sum(pc.not_equal(rows.column(DAY_COLUMN), pa.scalar(day)))).as_py():
        raise BigQueryError(f"{bad} row(s) are not of {day}")
    fields = bigquery_schema(rows.schema)
    staged = local.with_name(f"{local.stem}.bigquery.parquet")
    pq.write_table(rows, staged)
    table_id = f"{project}.{dataset}.{name}"

    def attempt() -> int:
        stage_name = f"_nightjar_stage_{name}_{day:%Y%m%d}_{secrets.token_hex(4)}"[:1024]
        stage_id = f"{project}.{dataset}.{stage_name}"
        step = "the table"
        try:
            ensure_table(client, table_id, fields)
            step = "the staging table"
            stage = bigquery.Table(stage_id, schema=fields)
            stage.expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=STAGE_HOURS)
            client.create_table(stage)
            load = bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.PARQUET,
                write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
                schema=fields,
            )
            parquet = bigquery.ParquetOptions()
            parquet.enable_list_inference = True  # a Parquet LIST is a REPEATED column, not a RECORD
            load.parquet_options = parquet
            step = "the load of the staging table"
            with staged.open("rb") as f:
                client.load_table_from_file(f, stage_id, job_config=load).result()
            expected = rows.num_rows
            if (n := _count(client, quoted(project, dataset, stage_name), day)) != expected:
                raise BigQueryError(f"{table_id}: {n} rows staged, {expected} expected; nothing replaced")
            step = f"the replacement of {day}"
            params = [bigquery.ScalarQueryParameter("day", "DATE", day)]
            statement = merge_statement(project, dataset, name, stage_name, rows.column_names)
            client.query(statement, job_config=bigquery.QueryJobConfig(query_parameters=params)).result()
            step = "the row-count check"
            if (n := _count(client, quoted(project, dataset, name), day)) != expected:
                raise BigQueryError(f"{table_id}: {n} rows of {day} after the export, {expected} expected")
            return expected
        except (BigQueryError, SourceError):
            raise
        except Exception as e:  # noqa: BLE001 - every client error becomes a message naming the source
            raise _error(source, e, f"{step} of {table_id}") from None
        finally:
            try:
                client.delete_table(stage_id, not_found_ok=True)
            except Exception:  # noqa: BLE001 - it expires by itself; the export's outcome stands
                if log:
                    log(f"bigquery source {source!r}: the staging table {stage_id} was left (it expires)")

    return with_retries(f"bigquery source {source!r}: export to {table_id}", attempt, retries, log=log)

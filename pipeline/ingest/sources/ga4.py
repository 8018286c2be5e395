"""GA4 export source, on top of the BigQuery source: read the day's ``events_YYYYMMDD`` table
(``events_intraday_YYYYMMDD`` when the daily table is not there yet), then flatten page views,
session starts and purchases with DuckDB (sql/ingest/sources/ga4_events.sql) into the columns of a
GA4 transaction, each with its default channel group. The source reaches BigQuery through the
BigQuery source's resource.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

import dagster as dg
import duckdb
import pyarrow as pa
from pydantic import field_validator

from pipeline.core.settings import ProjectBase
from pipeline.core.sql import bind, ident, sql
from pipeline.ingest.sources.bigquery import BigQueryResource, query_batches
from pipeline.ingest.sources.files import LandedFile, SourceError
from pipeline.ingest.sources.registry import Dataset, Inputs, SourceKind, register
from pipeline.ingest.sources.remote import RemoteSource, stage_batches


class Ga4Source(RemoteSource):
    kind: Literal["ga4"]
    project: str
    dataset: str  # the export's dataset, analytics_<property id>
    credentials_env: str | None = None
    endpoint: str | None = None

    @field_validator("project", "dataset")
    @classmethod
    def _bq_name(cls, v: str) -> str:  # they are part of a table name, so only these characters
        if not re.fullmatch(r"[A-Za-z0-9_-]+", v):
            raise ValueError(f"{v!r} may hold only letters, digits, _ and -")
        return v


# The default channel grouping's source lists (a practical subset of GA4's source categories).
SEARCH = r"(.*\.)?(google|bing|yahoo|baidu|duckduckgo|yandex|ecosia|naver|ask|aol|qwant|startpage)(\..*)?"
SOCIAL = (
    r"(.*\.)?(facebook|fb|instagram|ig|linkedin|lnkd\.in|twitter|t\.co|x|tiktok|pinterest|reddit|youtube"
    r"|snapchat|threads|whatsapp)(\..*)?"
)
PAID = r"(.*cp.*|ppc|retargeting|paid.*)"
CHANNELS = (
    "Organic Search",
    "Paid Search",
    "Email",
    "Referral",
    "Direct",
    "Organic Social",
    "Paid Social",
    "Display",
    "Affiliates",
    "Other",
)
# What the flattening reads; collected_traffic_source exists in exports since mid-2023.
COLUMNS = (
    "event_name",
    "event_timestamp",
    "user_id",
    "user_pseudo_id",
    "event_params",
    "traffic_source",
    "collected_traffic_source",
    "ecommerce",
    "items",
)
DEFAULTS = {
    "user_id": "NULL::VARCHAR",
    "traffic_source": "NULL::STRUCT(name VARCHAR, medium VARCHAR, source VARCHAR)",
    "collected_traffic_source": (
        "NULL::STRUCT(manual_source VARCHAR, manual_medium VARCHAR, manual_campaign_name VARCHAR)"
    ),
    "ecommerce": "NULL::STRUCT(purchase_revenue DOUBLE, transaction_id VARCHAR)",
    "items": "NULL::STRUCT(item_id VARCHAR, item_name VARCHAR, quantity BIGINT)[]",
}
# The fields a GA4 transaction declares (see README): name -> type.
FIELDS = {
    "event_id": "String",
    "customer_id": "String",
    "user_id": "String",
    "user_pseudo_id": "String",
    "event_time": "Timestamp",
    "event_type": "String",
    "session_id": "String",
    "page_location": "String",
    "source": "String",
    "medium": "String",
    "campaign": "String",
    "channel": "String",
    "transaction_id": "String",
    "revenue": "Float",
    "items": "String",
    "item_count": "Int",
}


def export_table(client, source: str, project: str, dataset: str, day: dt.date) -> tuple[str, list[str]]:
    """The day's export table (daily, else intraday) and its top-level column names."""
    from google.api_core import exceptions as gexc

    for name in (f"events_{day:%Y%m%d}", f"events_intraday_{day:%Y%m%d}"):
        try:
            t = client.get_table(f"{project}.{dataset}.{name}")
        except gexc.NotFound:
            continue
        except Exception as e:  # noqa: BLE001
            raise SourceError(
                f"ga4 source {source!r}: cannot read {project}.{dataset}.{name}: {type(e).__name__}: "
                f"{str(e).splitlines()[0][:200]}"
            ) from None
        return f"{project}.{dataset}.{name}", [f.name for f in t.schema]
    raise SourceError(
        f"ga4 source {source!r}: no export table events_{day:%Y%m%d} or events_intraday_{day:%Y%m%d} "
        f"in {project}.{dataset}"
    )


def flatten(raw: pa.Table | Path, out: Path) -> int:
    """Flatten GA4 export rows (an Arrow table or a Parquet file of them) into ``out`` (Parquet)."""
    con = duckdb.connect()
    try:
        if isinstance(raw, pa.Table):
            con.register("_ga4_in", raw)
            have = raw.column_names
        else:
            con.read_parquet(str(raw)).create_view("_ga4_in")
            have = [r[0] for r in con.execute("DESCRIBE _ga4_in").fetchall()]
        missing = [
            c for c in ("event_name", "event_timestamp", "user_pseudo_id", "event_params") if c not in have
        ]
        if missing:
            raise SourceError(f"the GA4 export lacks the column(s) {missing}")
        columns = ["*"] + [f"{v} AS {ident(k)}" for k, v in DEFAULTS.items() if k not in have]
        con.execute(sql("ingest/sources/ga4_raw", fragments={"columns": ", ".join(columns)}))
        q = sql("ingest/sources/ga4_events")
        reader = con.sql(
            q, params=bind(q, {"search": SEARCH, "social": SOCIAL, "paid": PAID})
        ).to_arrow_reader(50_000)
        return stage_batches(reader, out, lambda: reader.schema)
    finally:
        con.close()


def fetch_day(client, source: str, project: str, dataset: str, day: dt.date, path: Path) -> LandedFile:
    """The day's flattened GA4 events as a staged Parquet file for the one ingestion path."""
    table, columns = export_table(client, source, project, dataset, day)
    wanted = ", ".join(c for c in COLUMNS if c in columns)
    raw = path.with_name(path.stem + ".raw.parquet")
    query_batches(
        client,
        source,
        f"SELECT {wanted} FROM `{table}` WHERE event_name IN ('page_view', 'session_start', 'purchase')",
        [],
        raw,
    )
    try:
        flatten(raw, path)
    except (duckdb.Error, SourceError) as e:
        raise SourceError(
            f"ga4 source {source!r}: cannot flatten {table}: {str(e).splitlines()[0]}"
        ) from None
    return LandedFile(path=path, day=day, size=path.stat().st_size, mtime=0.0)


# --- the source kind: the BigQuery resource, an asset run's days -----------------------------


def resource(config: ProjectBase, s: Ga4Source) -> BigQueryResource:
    return BigQueryResource(
        source=s.name,
        project=s.project,
        location=None,
        credentials_file=dg.EnvVar(s.credentials_env) if s.credentials_env else None,
        endpoint=s.endpoint,
    )


def fetch(
    context, res: BigQueryResource, source: Ga4Source, spec: Dataset, days: list[dt.date], tmp: Path
) -> Inputs:
    """Read and flatten each day's export into a Parquet file in ``tmp``."""
    inputs: Inputs = {}
    for day in days:
        try:
            client = res.client()
            inputs[day] = fetch_day(
                client,
                res.source,
                source.project,
                source.dataset,
                day,
                tmp / f"{spec.name}_{day:%Y%m%d}.parquet",
            )
        except SourceError as e:
            inputs[day] = str(e)
    return inputs


KIND = register(SourceKind(name="ga4", settings=Ga4Source, resource=resource, fetch=fetch))

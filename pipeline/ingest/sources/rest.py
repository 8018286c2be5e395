"""REST source: pull a dataset's records from a paginated JSON API into a JSON-lines file, which is
then loaded as a range file (each record into its time_field day; ``replaces: none`` with a
``key`` upserts records seen again).

Pagination by page number, offset, cursor or `next` link; authentication from environment
variables (bearer token, a token header such as ActiveCampaign's ``Api-Token``, or basic);
429 and 5xx answers are retried with exponential backoff, honouring ``Retry-After`` (urllib3's
``Retry``). With ``incremental``, a request asks only for records whose field is above the
highest value already loaded into ``tx_<name>`` (the warehouse is the cursor: it moves only when
a load succeeded, so a failed run asks again for the same records).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin

import dagster as dg
import requests
from pydantic import Field, field_validator
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from pipeline.core.settings import ProjectBase, Settings
from pipeline.core.sql import sql as sql_file
from pipeline.core.warehouse import WarehouseError, WarehouseResource, table_exists
from pipeline.ingest.sources.files import LandedFile, SourceError
from pipeline.ingest.sources.registry import Dataset, SourceKind, register
from pipeline.ingest.sources.remote import RemoteSource

RETRY_STATUSES = (429, 500, 502, 503, 504)


class RestAuth(Settings):
    """``bearer`` (``Authorization: Bearer <token>``), ``header`` (``<header>: <token>``) or
    ``basic`` (user name and password); the secrets are named environment variables."""

    type: Literal["bearer", "header", "basic"]
    token_env: str | None = None
    header: str = "Authorization"
    username_env: str | None = None
    password_env: str | None = None


class Pagination(Settings):
    """How the pages of an endpoint are asked for: none, ``page`` (a page number from
    ``start_page``), ``offset`` (records to skip), ``cursor`` (the value at ``cursor_path`` of a
    page is sent as ``cursor_param`` of the next) or ``next_link`` (the URL at ``next_path``)."""

    type: Literal["none", "page", "offset", "cursor", "next_link"] = "none"
    limit_param: str | None = "limit"  # the page size parameter (None: send none, read to an empty page)
    limit: int = Field(default=100, ge=1)
    page_param: str = "page"
    start_page: int = 1
    offset_param: str = "offset"
    cursor_param: str = "cursor"
    cursor_path: str = "next_cursor"
    next_path: str = "next"
    max_pages: int = Field(default=100_000, ge=1)


class Incremental(Settings):
    """Ask only for records whose ``field`` (a declared field) is above the highest value loaded:
    that value is sent as the query parameter ``param`` (``initial`` before the first load)."""

    field: str
    param: str
    initial: str | None = None


class Endpoint(Settings):
    path: str
    records: str = ""  # dotted path of the records list in a page ("" = the page is the list)
    params: dict[str, str] = Field(default_factory=dict)
    pagination: Pagination = Pagination()
    incremental: Incremental | None = None


class RestSource(RemoteSource):
    kind: Literal["rest"]
    base_url: str
    auth: RestAuth | None = None
    endpoints: dict[str, Endpoint] = Field(default_factory=dict)
    retries: int = Field(default=5, ge=0)
    backoff: float = Field(default=0.5, ge=0)
    timeout: float = Field(default=30, gt=0)

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"base_url {v!r} must start with http:// or https://")
        return v


class RestResource(dg.ConfigurableResource):
    """A JSON API; the token, user name and password come from environment variables."""

    source: str
    base_url: str
    auth_type: str = ""
    header: str = "Authorization"
    token: str = ""
    username: str = ""
    password: str = ""
    retries: int = 5
    backoff: float = 0.5
    timeout: float = 30.0


def resource(config: ProjectBase, s: RestSource) -> RestResource:
    a = s.auth
    secrets: dict[str, Any] = {}
    if a and a.token_env:
        secrets["token"] = dg.EnvVar(a.token_env)
    if a and a.username_env:
        secrets["username"] = dg.EnvVar(a.username_env)
    if a and a.password_env:
        secrets["password"] = dg.EnvVar(a.password_env)
    return RestResource(
        source=s.name,
        base_url=s.base_url,
        auth_type=a.type if a else "",
        header=a.header if a else "Authorization",
        retries=s.retries,
        backoff=s.backoff,
        timeout=s.timeout,
        **secrets,
    )


def session(res: RestResource) -> requests.Session:
    """A session that retries 429 and 5xx answers with backoff, waiting what Retry-After asks."""
    retry = Retry(
        total=res.retries,
        backoff_factor=res.backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=["GET"],
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    s = requests.Session()
    s.mount("http://", HTTPAdapter(max_retries=retry))
    s.mount("https://", HTTPAdapter(max_retries=retry))
    if res.auth_type == "bearer":
        s.headers["Authorization"] = f"Bearer {res.token}"
    elif res.auth_type == "header":
        s.headers[res.header] = res.token
    elif res.auth_type == "basic":
        s.auth = (res.username, res.password)
    s.headers["Accept"] = "application/json"
    return s


def at_path(body: Any, path: str) -> Any:
    """The value at a dotted path of a JSON body (None when a key is absent)."""
    for key in filter(None, path.split(".")):
        body = body.get(key) if isinstance(body, dict) else None
    return body


def _get(s: requests.Session, res: RestResource, url: str, params: dict) -> Any:
    try:
        r = s.get(url, params=params, timeout=res.timeout)
    except requests.RequestException as e:
        raise SourceError(f"source {res.source!r}: {url}: {type(e).__name__}: {e}") from None
    if r.status_code >= 400:
        raise SourceError(
            f"source {res.source!r}: {url} answered HTTP {r.status_code} (after {res.retries} retries "
            f"for 429/5xx): {r.text[:200]}"
        )
    try:
        return r.json()
    except ValueError:
        raise SourceError(f"source {res.source!r}: {url} did not answer JSON") from None


def pages(s: requests.Session, res: RestResource, ep: Endpoint, since: str | None) -> Iterator[list]:
    """The records of each page of an endpoint, in order (a loop over pages)."""
    p = ep.pagination
    url = urljoin(res.base_url.rstrip("/") + "/", ep.path.lstrip("/"))
    params: dict[str, Any] = dict(ep.params)
    if ep.incremental and since is not None:
        params[ep.incremental.param] = since
    if p.type != "none" and p.limit_param:
        params[p.limit_param] = p.limit
    page, offset = p.start_page, 0
    for _ in range(p.max_pages):
        if p.type == "page":
            params[p.page_param] = page
        elif p.type == "offset":
            params[p.offset_param] = offset
        body = _get(s, res, url, params)
        records = at_path(body, ep.records)
        if not isinstance(records, list):
            raise SourceError(
                f"source {res.source!r}: {url}: no list of records at {ep.records or 'the top'!r}"
            )
        yield records
        if p.type == "none":
            return
        if p.type in ("page", "offset"):
            # without a page size sent, the server's own is unknown: only an empty page ends it
            if not records or (p.limit_param and len(records) < p.limit):
                return
            page, offset = page + 1, offset + len(records)
        elif p.type == "cursor":
            cursor = at_path(body, p.cursor_path)
            if not cursor or not records:
                return
            params[p.cursor_param] = cursor
        else:  # next_link: the next page's URL carries its own parameters
            nxt = at_path(body, p.next_path)
            if not nxt:
                return
            url, params = urljoin(url, nxt), {}
    raise SourceError(f"source {res.source!r}: {url}: more than {p.max_pages} pages (raise max_pages)")


def last_value(warehouse: WarehouseResource, table: str, column: str) -> str | None:
    """The highest ``column`` value loaded into ``table`` as text (ISO 8601 for a time), or None."""
    if not Path(warehouse.path).exists():
        return None
    try:
        with warehouse.connect(read_only=True) as con:
            if not table_exists(con, table):
                return None
            query = sql_file("ingest/sources/highest_value", idents={"column": column, "table": table})
            v = con.execute(query).fetchall()[0][0]
    except WarehouseError as e:  # never guess a cursor: that would ask for the wrong records
        raise SourceError(f"cannot read the highest {column} of {table}: {e}") from None
    return v.isoformat() if isinstance(v, dt.date | dt.datetime) else None if v is None else str(v)


def fetch_records(res: RestResource, ep: Endpoint, since: str | None, path: Path) -> int:
    """Write every record of the endpoint (from ``since``) to a JSON-lines file; returns how many."""
    n = 0
    with session(res) as s, open(path, "w", encoding="utf-8") as out:
        for records in pages(s, res, ep, since):
            # the API's JSON is parsed by Python anyway: each record is written back as one line
            out.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
            n += len(records)
    return n


def fetch_range(context, res: RestResource, source: RestSource, spec: Dataset, tmp: Path) -> list[LandedFile]:
    """The dataset's new records as one JSON-lines range file in ``tmp`` (raises SourceError)."""
    ep = source.endpoints[spec.name]
    since = None
    if ep.incremental:
        since = (
            last_value(context.resources.warehouse, spec.table, ep.incremental.field)
            or ep.incremental.initial
        )
    path = tmp / f"{spec.name}_{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.jsonl"
    n = fetch_records(res, ep, since, path)
    context.log.info(f"{spec.table}: {n} record(s) from {source.name} (since {since or 'the start'})")
    st = path.stat()
    return [LandedFile(path=path, day=dt.datetime.now(dt.UTC).date(), size=st.st_size, mtime=st.st_mtime)]


def check_transaction(source: RestSource, dataset: str, fields: list[str]) -> str | None:
    if dataset not in source.endpoints:
        return f"source {source.name!r} has no endpoint for {dataset!r} (add sources[].endpoints.{dataset})"
    inc = source.endpoints[dataset].incremental
    if inc and inc.field not in fields:
        return f"the incremental field {inc.field!r} of source {source.name!r} is not a field of {dataset!r}"
    return None


def check_remote(source: RestSource, config: ProjectBase, day: dt.date | None) -> tuple[list[str], list[str]]:
    """What `nightjar validate` says of a REST source: the environment variables of its secrets that
    are not set (names only, never a value)."""
    a = source.auth
    names = (
        [("token_env", a.token_env), ("username_env", a.username_env), ("password_env", a.password_env)]
        if a
        else []
    )
    notes = [
        f"source {source.name!r}: environment variable {var} (auth.{key}) is not set"
        for key, var in names
        if var and not os.environ.get(var)
    ]
    return [], notes


KIND = register(
    SourceKind(
        name="rest",
        settings=RestSource,
        resource=resource,
        fetch_range=fetch_range,
        check_transaction=check_transaction,
        check_remote=check_remote,
    )
)

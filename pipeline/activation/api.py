"""The read API (`nightjar serve`): FastAPI over the published snapshot, never the warehouse.

Every response is one envelope, errors included::

    {"meta": {"errors": [...], "validation": [...], "snapshot": "<version>", "page": {...}}, "data": ...}

``snapshot`` is the version the answer was read from, a 404 of an unknown customer, experiment, model,
training or data set included; null when no snapshot was read (401, 422, 503, an unknown path).

Each request reads one snapshot version: the one ``current`` points at when the request starts (a
connection per version, a cursor per request, the version held until the request ends), so a
publication in the middle of a request never mixes two versions. API keys come from the environment
variable ``NIGHTJAR_API_KEYS`` (comma-separated), sent in the ``X-API-Key`` header; each is compared in
constant time and none is ever logged. The queries are in sql/activation/api/.
"""

import datetime as dt
import hmac
import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Annotated, Any

import duckdb
from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from pipeline.activation.publish import Snapshot, current_snapshot
from pipeline.core.sql import bind, sql

API_KEYS_ENV = "NIGHTJAR_API_KEYS"
KEY_HEADER = "X-API-Key"
MAX_PAGE_SIZE = 10_000
VERSIONS_OPEN = 2  # connections kept open while no request holds them: the current version, the one before


class Issue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Page(BaseModel):
    number: int
    size: int
    total: int


class Meta(BaseModel):
    errors: list[str] = Field(default_factory=list)
    validation: list[Issue] = Field(default_factory=list)
    snapshot: str | None = None
    page: Page | None = None


class Envelope(BaseModel):
    meta: Meta
    data: Any = None


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Envelope, "description": what}
    for code, what in (
        (401, "missing or wrong API key"),
        (404, "no such customer, experiment, model, training or data set"),
        (422, "a parameter is not valid"),
        (503, "no snapshot has been published yet"),
    )
}


class NoSnapshot(RuntimeError):
    """Nothing has been published yet."""


class NotFound(HTTPException):
    """A 404 read from a snapshot: its answer names that snapshot's version, as a 200 does."""

    def __init__(self, snapshot: Snapshot, detail: str | None) -> None:
        super().__init__(404, detail)
        self.snapshot = snapshot.version


class SnapshotReader:
    """Read-only connections to the published snapshot, one per version, a cursor per request.

    A request holds its version from :meth:`reading`'s start to its end; a version's connection is
    closed once two newer versions are open and no request holds it, never under a request."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._open: dict[str, duckdb.DuckDBPyConnection] = {}
        self._holds: dict[str, int] = {}  # per open version, the requests reading it

    @contextmanager
    def reading(self) -> Iterator[tuple[Snapshot, duckdb.DuckDBPyConnection]]:
        """The current snapshot and a cursor on it, held until the block ends."""
        snapshot, cur = self.cursor()
        try:
            yield snapshot, cur
        finally:
            cur.close()
            self.release(snapshot.version)

    def cursor(self) -> tuple[Snapshot, duckdb.DuckDBPyConnection]:
        """The current snapshot and a cursor on it, its version held until :meth:`release`."""
        snapshot = current_snapshot(self.root)
        if snapshot is None:
            raise NoSnapshot(f"nothing is published in {self.root} yet: run the pipeline first")
        with self._lock:
            con = self._open.get(snapshot.version)
            if con is None:
                # one thread per query: many small concurrent requests, not one big query
                con = duckdb.connect(str(snapshot.database), read_only=True, config={"threads": 1})
                self._open[snapshot.version] = con
            cur = con.cursor()
            self._holds[snapshot.version] = self._holds.get(snapshot.version, 0) + 1
            self._close_unheld()
            return snapshot, cur

    def release(self, version: str) -> None:
        """A request that held ``version`` (from :meth:`cursor`) has ended."""
        with self._lock:
            if version in self._holds:  # not when the reader was closed meanwhile
                self._holds[version] -= 1
                self._close_unheld()

    def _close_unheld(self) -> None:
        """Close the versions older than the newest :data:`VERSIONS_OPEN` that no request holds."""
        for old in sorted(self._open)[:-VERSIONS_OPEN]:
            if not self._holds.get(old):
                self._open.pop(old).close()
                self._holds.pop(old, None)

    def open_versions(self) -> list[str]:
        """The versions with an open connection, oldest first."""
        with self._lock:
            return sorted(self._open)

    def close(self) -> None:
        with self._lock:
            for con in self._open.values():
                con.close()
            self._open.clear()
            self._holds.clear()


def rows_json(cur: duckdb.DuckDBPyConnection, name: str, params: dict) -> list[dict]:
    """The rows of sql/activation/api/<name>.sql as JSON values (DuckDB renders them; NaN becomes null);
    none when the snapshot has no table it reads (a snapshot publishes whichever tables exist)."""
    query = sql("activation/api/as_json", fragments={"query": sql(f"activation/api/{name}")})
    try:
        found = cur.execute(query, bind(query, params)).fetchall()
    except duckdb.CatalogException:  # e.g. no experiments configured: no `results` table to read
        return []
    text = "[" + ",".join(r[0] for r in found) + "]"
    return json.loads(text, parse_constant=lambda _: None)


def envelope(status: int, data: Any = None, **meta: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content=Envelope(meta=Meta(**meta), data=data).model_dump())


def check_keys(keys: tuple[str, ...], given: str | None) -> bool:
    """Whether ``given`` is one of ``keys``: every key compared in constant time (no early exit)."""
    if not given:
        return False
    found = False
    for key in keys:
        found |= hmac.compare_digest(key.encode(), given.encode())
    return found


def parse_keys(value: str | None) -> tuple[str, ...]:
    return tuple(k.strip() for k in (value or "").split(",") if k.strip())


def create_app(root: Path, keys: tuple[str, ...], reports: Path | None = None) -> FastAPI:
    """The API over the snapshot published in ``root``; ``reports``: a folder served under /reports."""
    if not keys:
        raise ValueError(f"no API key: set {API_KEYS_ENV} to one or more comma-separated keys")
    reader = SnapshotReader(root)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        reader.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Nightjar read API",
        version="1",
        description="Predictions, recommendations, decisions, experiment results, attribution, models and "
        f"data sets from the published snapshot. Send an API key in the `{KEY_HEADER}` header.",
        responses=ERRORS,
    )
    app.state.reader = reader
    header = APIKeyHeader(name=KEY_HEADER, auto_error=False, description=f"one of ${API_KEYS_ENV}")

    def authorized(key: Annotated[str | None, Depends(header)]) -> None:
        if not check_keys(keys, key):
            raise HTTPException(401, f"missing or wrong API key (send it in the {KEY_HEADER} header)")

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return envelope(exc.status_code, errors=[str(exc.detail)])

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return envelope(404, errors=[str(exc.detail)], snapshot=exc.snapshot)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        issues = [
            Issue(loc=[str(p) for p in e.get("loc", ())], msg=str(e.get("msg")), type=str(e.get("type")))
            for e in exc.errors()
        ]
        return envelope(422, errors=["the request is not valid"], validation=issues)

    @app.exception_handler(NoSnapshot)
    async def _unpublished(request: Request, exc: NoSnapshot) -> JSONResponse:
        return envelope(503, errors=[str(exc)])

    def read(name: str, params: dict, missing: str | None = None, exists: str | None = None) -> JSONResponse:
        """The rows of query ``name``; 404 with ``missing`` when query ``exists`` finds nothing."""
        with reader.reading() as (snapshot, cur):
            if exists and not rows_json(cur, exists, params):
                raise NotFound(snapshot, missing)
            return envelope(200, rows_json(cur, name, params), snapshot=snapshot.version)

    def paged(
        name: str, params: dict, page: int, size: int, missing: str | None = None, exists: str | None = None
    ) -> JSONResponse:
        """A page of query ``name`` and its total (query ``<name>_count``); 404 as in ``read``."""
        with reader.reading() as (snapshot, cur):
            if exists and not rows_json(cur, exists, params):
                raise NotFound(snapshot, missing)
            total = next((r["total"] for r in rows_json(cur, f"{name}_count", params)), 0)
            rows = rows_json(cur, name, {**params, "page_rows": size, "skip_rows": (page - 1) * size})
        return envelope(200, rows, snapshot=snapshot.version, page=Page(number=page, size=size, total=total))

    auth = [Depends(authorized)]
    Customer = Annotated[str, PathParam(min_length=1, max_length=200, description="a customer_id")]
    Day = Annotated[dt.date | None, Query(description="YYYY-MM-DD")]
    PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
    Size = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
    Name = Annotated[str, PathParam(min_length=1, max_length=200)]

    def customer(name: str, cid: str) -> JSONResponse:
        return read(name, {"customer": cid}, f"no customer {cid!r} in the snapshot", "customer_exists")

    @app.get("/v1/snapshot", dependencies=auth, response_model=Envelope, tags=["snapshot"])
    def snapshot_info() -> JSONResponse:
        with reader.reading() as (snapshot, _):
            data = {"version": snapshot.version, "published_at": snapshot.published_at}
            return envelope(200, {**data, "tables": snapshot.tables}, snapshot=snapshot.version)

    @app.get(
        "/v1/customers/{customer_id}/predictions",
        dependencies=auth,
        response_model=Envelope,
        tags=["customers"],
    )
    def predictions(customer_id: Customer) -> JSONResponse:
        """Every prediction of the customer: date, model, version, score, items."""
        return customer("customer_predictions", customer_id)

    @app.get(
        "/v1/customers/{customer_id}/recommendations",
        dependencies=auth,
        response_model=Envelope,
        tags=["customers"],
    )
    def recommendations(customer_id: Customer) -> JSONResponse:
        """The customer's recommended items per date and recommender model."""
        return customer("customer_recommendations", customer_id)

    @app.get(
        "/v1/customers/{customer_id}/decisions",
        dependencies=auth,
        response_model=Envelope,
        tags=["customers"],
    )
    def decisions(customer_id: Customer) -> JSONResponse:
        """The customer's decisions (`results` rows): experiment, variant or control, score, reason."""
        return customer("customer_decisions", customer_id)

    @app.get("/v1/results", dependencies=auth, response_model=Envelope, tags=["experiments"])
    def results(
        date: Day = None,
        experiment: Annotated[str | None, Query(max_length=200)] = None,
        page: PageNo = 1,
        page_size: Size = 1000,
    ) -> JSONResponse:
        """The decisions presented on a date (decided the night before) and/or of an experiment, paged
        (ordered by date, experiment, customer)."""
        return paged("results", {"day": date, "experiment": experiment}, page, page_size)

    @app.get("/v1/experiments", dependencies=auth, response_model=Envelope, tags=["experiments"])
    def experiments() -> JSONResponse:
        """Each experiment with its presentation dates and customers."""
        return read("experiments", {})

    @app.get(
        "/v1/experiments/{name}/report", dependencies=auth, response_model=Envelope, tags=["experiments"]
    )
    def experiment_report(name: Name) -> JSONResponse:
        """The experiment's report: per variant and scope, lift with intervals and p-values."""
        return read("experiment_report", {"experiment": name}, f"no experiment {name!r}", "experiment_exists")

    @app.get("/v1/attribution/models", dependencies=auth, response_model=Envelope, tags=["attribution"])
    def attribution_models() -> JSONResponse:
        """The attribution models with credits in the snapshot."""
        return read("attribution_models", {})

    @app.get("/v1/attribution/summary", dependencies=auth, response_model=Envelope, tags=["attribution"])
    def attribution_summary(
        date_from: Annotated[dt.date | None, Query(alias="from")] = None,
        date_to: Annotated[dt.date | None, Query(alias="to")] = None,
        model: Annotated[str | None, Query(max_length=200)] = None,
    ) -> JSONResponse:
        """Credited conversions and value per model and channel over the conversion days from..to."""
        if date_from and date_to and date_to < date_from:  # as the CLI refuses it: not an empty answer
            problem = {"loc": ("query", "to"), "msg": f"to ({date_to}) is before from ({date_from})"}
            raise RequestValidationError([{**problem, "type": "value_error"}])
        return read("attribution_summary", {"a": date_from, "b": date_to, "model": model})

    @app.get("/v1/models", dependencies=auth, response_model=Envelope, tags=["models"])
    def models() -> JSONResponse:
        """Each model's latest training: status, version, metrics."""
        return read("models", {})

    @app.get("/v1/models/{name}/trainings", dependencies=auth, response_model=Envelope, tags=["models"])
    def trainings(name: Name) -> JSONResponse:
        """Every training of the model, newest first."""
        return read("trainings", {"model": name}, f"no model {name!r}", "model_exists")

    def training(name: str, version: dt.date, query: str, extra: dict | None = None) -> JSONResponse:
        params = {"model": name, "version": version, **(extra or {})}
        return read(query, params, f"no training {version} of model {name!r}", "training_exists")

    Version = Annotated[dt.date, PathParam(description="the training's version, YYYY-MM-DD")]

    @app.get(
        "/v1/models/{name}/trainings/{version}/feature-impact",
        dependencies=auth,
        response_model=Envelope,
        tags=["models"],
    )
    def feature_impact(name: Name, version: Version) -> JSONResponse:
        """Mean |SHAP| per feature, by rank."""
        return training(name, version, "feature_impact")

    @app.get(
        "/v1/models/{name}/trainings/{version}/beeswarm",
        dependencies=auth,
        response_model=Envelope,
        tags=["models"],
    )
    def beeswarm(name: Name, version: Version) -> JSONResponse:
        """The SHAP values of the sampled customers per feature (the beeswarm's points)."""
        return training(name, version, "beeswarm")

    @app.get(
        "/v1/models/{name}/trainings/{version}/dependence",
        dependencies=auth,
        response_model=Envelope,
        tags=["models"],
    )
    def dependence(
        name: Name,
        version: Version,
        feature: Annotated[str, Query(min_length=1, max_length=200)],
        secondary: Annotated[str | None, Query(max_length=200)] = None,
    ) -> JSONResponse:
        """A feature's value against its SHAP value, with the secondary feature's value when asked."""
        return training(name, version, "dependence", {"feature": feature, "secondary": secondary})

    @app.get(
        "/v1/models/{name}/trainings/{version}/waterfall/{customer_id}",
        dependencies=auth,
        response_model=Envelope,
        tags=["models"],
    )
    def waterfall(name: Name, version: Version, customer_id: Customer) -> JSONResponse:
        """A customer's waterfall in the training's explanation sample (its beeswarm's customers): the
        base value (expected raw score, log-odds) and the SHAP value of each explained feature, largest
        first; `features_explained` of `features` (the model's top features are explained), and
        `explained_score` = base value + their sum (the raw score when every feature is explained)."""
        params = {"model": name, "version": version, "customer": customer_id}
        with reader.reading() as (snapshot, cur):
            if not rows_json(cur, "training_exists", params):
                raise NotFound(snapshot, f"no training {version} of model {name!r}")
            if not rows_json(cur, "waterfall_exists", params):
                raise NotFound(
                    snapshot, f"customer {customer_id!r} is not in the explanation sample of this training"
                )
            return envelope(200, rows_json(cur, "waterfall", params)[0], snapshot=snapshot.version)

    @app.get("/v1/datasets", dependencies=auth, response_model=Envelope, tags=["data"])
    def datasets() -> JSONResponse:
        """Each data set with its loads: files, rows read / loaded / rejected, the last load."""
        return read("datasets", {})

    @app.get("/v1/datasets/{name}/loads", dependencies=auth, response_model=Envelope, tags=["data"])
    def loads(name: Name, page: PageNo = 1, page_size: Size = 1000) -> JSONResponse:
        """The data set's loads, newest partition first, paged."""
        return paged("loads", {"dataset": name}, page, page_size, f"no data set {name!r}", "dataset_exists")

    if reports is not None:
        reports.mkdir(parents=True, exist_ok=True)
        app.mount("/reports", StaticFiles(directory=reports, html=True), name="reports")

    return app

"""The REST source against a real HTTP server on 127.0.0.1 (the test's own): it checks the bearer
token, paginates by page number, rate-limits once (429 with Retry-After), fails once (500), and
changes between two runs. Every record is loaded exactly once, and the second run asks only for
what changed (the incremental cursor is the highest `updated_at` loaded)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from pipeline.core.warehouse import connect
from tests.conftest import make_config, run_nightly

D1 = dt.date(2026, 1, 1)
TOKEN = "s3cret"


class Api:
    """The server's state: the contacts, what was served, and the faults still to come."""

    def __init__(self) -> None:
        self.contacts = [
            {
                "id": str(i),
                "email": f"u{i}@x.org",
                "updated_at": f"2026-01-01T0{i}:00:00",
                "fields": {"city": "Oslo"},
            }
            for i in range(1, 6)
        ]
        self.served: list[str] = []
        self.faults = [429, 500]  # the next requests' answers, once each
        self.requests = 0


def serve(api: Api) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            for k, v in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            api.requests += 1
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._send(401, {"error": "no token"})
            if api.requests in (2, 3) and api.faults:  # the 2nd and 3rd requests meet the faults
                status = api.faults.pop(0)
                return self._send(status, {"error": "busy"}, {"Retry-After": "1"} if status == 429 else {})
            q = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            after = q.get("filters[updated_after]")
            rows = sorted(
                (c for c in api.contacts if after is None or c["updated_at"] > after), key=lambda c: c["id"]
            )
            page, limit = int(q.get("page", "1")), int(q.get("limit", "100"))
            chunk = rows[(page - 1) * limit : page * limit]
            api.served += [c["id"] for c in chunk]
            self._send(200, {"contacts": chunk, "meta": {"total": len(rows)}})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def api():
    state = Api()
    server = serve(state)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def test_rest_source_loads_every_record_exactly_once_across_two_runs(api, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_TOKEN", TOKEN)
    contacts = {
        "name": "contacts",
        "source": "crm",
        "customer_field": "email",
        "customer_key": "emailsha256",
        "time_field": "updated_at",
        "files": "range",
        "replaces": "none",
        "key": ["id"],
        "fields": [
            {"name": "id", "type": "String"},
            {"name": "email", "type": "String"},
            {"name": "updated_at", "type": "Timestamp"},
            {"name": "fields__city", "type": "String"},
        ],
    }
    crm = {
        "name": "crm",
        "kind": "rest",
        "base_url": api.url,
        "auth": {"type": "bearer", "token_env": "CRM_TOKEN"},
        "backoff": 0.01,
        "endpoints": {
            "contacts": {
                "path": "/api/3/contacts",
                "records": "contacts",
                "pagination": {"type": "page", "limit": 2},
                "incremental": {"field": "updated_at", "param": "filters[updated_after]"},
            }
        },
    }
    config = make_config(tmp_path, sources=[crm], transactions=[contacts], customers=None)
    assert run_nightly(config, D1, assets=["tx_contacts"]).success
    assert sorted(api.served) == ["1", "2", "3", "4", "5"]  # 3 pages, after a 429 and a 500
    assert not api.faults
    # between the runs: contact 2 changes city, 6 and 7 are new
    api.contacts[1] = {**api.contacts[1], "updated_at": "2026-01-02T10:00:00", "fields": {"city": "Rome"}}
    api.contacts += [
        {"id": str(i), "email": f"u{i}@x.org", "updated_at": f"2026-01-02T1{i}:00:00", "fields": {}}
        for i in (6, 7)
    ]
    assert run_nightly(config, D1, assets=["tx_contacts"]).success
    assert sorted(api.served) == ["1", "2", "2", "3", "4", "5", "6", "7"]  # only what changed
    with connect(config.warehouse_path, read_only=True) as con:
        rows = con.execute(
            'SELECT id, "fields__city", _partition_date FROM tx_contacts ORDER BY id'
        ).fetchall()
        loads = con.execute("SELECT sum(rows_read), sum(rows_loaded) FROM loads").fetchall()
    assert rows == [
        ("1", "Oslo", D1),
        ("2", "Rome", dt.date(2026, 1, 2)),  # upserted into its new day
        ("3", "Oslo", D1),
        ("4", "Oslo", D1),
        ("5", "Oslo", D1),
        ("6", None, dt.date(2026, 1, 2)),
        ("7", None, dt.date(2026, 1, 2)),
    ]
    assert loads == [(8, 8)]


class Paged:
    """A second server: the records 0..6 by offset, cursor or next link, behind basic auth or a
    token header."""

    RECORDS = [{"id": i} for i in range(7)]

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                ok = (
                    self.headers.get("Authorization") == "Basic dTpw"
                    or self.headers.get("Api-Token") == TOKEN
                )
                limit = int(q.get("limit", "3"))
                if url.path == "/offset":
                    start = int(q.get("offset", "0"))
                    body: dict = {"data": {"items": Paged.RECORDS[start : start + limit]}}
                elif url.path == "/cursor":
                    start = int(q.get("cursor", "0"))
                    more = start + limit < len(Paged.RECORDS)
                    body = {
                        "data": {"items": Paged.RECORDS[start : start + limit]},
                        "next_cursor": str(start + limit) if more else None,
                    }
                else:  # next links, relative
                    start = int(q.get("from", "0"))
                    more = start + limit < len(Paged.RECORDS)
                    body = {
                        "data": {"items": Paged.RECORDS[start : start + limit]},
                        "links": {"next": f"/next?from={start + limit}&limit={limit}" if more else None},
                    }
                data = json.dumps(body if ok else {"error": "auth"}).encode()
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture(scope="module")
def paged():
    p = Paged()
    yield p
    p.server.shutdown()
    p.server.server_close()


@pytest.mark.parametrize(
    "path, pagination, auth",
    [
        ("/offset", {"type": "offset", "limit": 3}, {"auth_type": "basic", "username": "u", "password": "p"}),
        (
            "/cursor",
            {"type": "cursor", "limit": 3},
            {"auth_type": "header", "header": "Api-Token", "token": TOKEN},
        ),
        (
            "/next",
            {"type": "next_link", "limit": 3, "next_path": "links.next"},
            {"auth_type": "basic", "username": "u", "password": "p"},
        ),
    ],
)
def test_each_pagination_reads_every_record_once(paged, tmp_path, path, pagination, auth):
    from pipeline.ingest.sources.rest import Endpoint, RestResource, fetch_records

    res = RestResource(source="api", base_url=paged.url, retries=0, **auth)
    ep = Endpoint(path=path, records="data.items", pagination=pagination)
    out = tmp_path / "r.jsonl"
    assert fetch_records(res, ep, None, out) == 7
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == list(range(7))


def test_without_a_page_size_sent_paging_reads_to_an_empty_page(paged, tmp_path):
    """No limit_param: the server pages by its own size (3 here), not by `limit` (100)."""
    from pipeline.ingest.sources.rest import Endpoint, RestResource, fetch_records

    auth = {"auth_type": "basic", "username": "u", "password": "p"}
    res = RestResource(source="api", base_url=paged.url, retries=0, **auth)
    ep = Endpoint(path="/offset", records="data.items", pagination={"type": "offset", "limit_param": None})
    out = tmp_path / "r.jsonl"
    assert fetch_records(res, ep, None, out) == 7
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == list(range(7))


def test_a_refused_request_names_the_source_and_the_status(paged, tmp_path):
    from pipeline.ingest.sources.files import SourceError
    from pipeline.ingest.sources.rest import Endpoint, RestResource, fetch_records

    res = RestResource(source="api", base_url=paged.url, retries=0, auth_type="bearer", token="wrong")
    with pytest.raises(SourceError, match="source 'api': .*/offset answered HTTP 401"):
        fetch_records(res, Endpoint(path="/offset", records="data.items"), None, tmp_path / "r.jsonl")

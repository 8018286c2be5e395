"""`nightjar serve | report`: the read API and the HTML report, both over the published snapshot."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pipeline.cli.common import folder_problem, project_config, project_options, warehouse_of


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the read API (pipeline/activation/api.py) with uvicorn until interrupted."""
    import uvicorn

    from pipeline.activation.api import API_KEYS_ENV, create_app, parse_keys
    from pipeline.core.warehouse import published_folder

    keys = parse_keys(os.environ.get(API_KEYS_ENV))
    if not keys:
        print(f"set {API_KEYS_ENV} to one or more comma-separated API keys first", file=sys.stderr)
        return 1
    root = published_folder(warehouse_of(args, project_config(args)))
    reports = Path(args.reports) if args.reports else root.parent / "reports"
    if problem := folder_problem("--reports" if args.reports else "the reports folder", reports):
        print(problem, file=sys.stderr)
        return 1
    app = create_app(root, keys, reports)
    print(f"serving {root} on http://{args.host}:{args.port} (docs: /docs, reports: /reports)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if args.quiet else "info")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the HTML report of the current snapshot (pipeline/activation/report.py)."""
    from pipeline.activation.report import ReportError, write_report
    from pipeline.core.warehouse import published_folder

    if problem := folder_problem("--out", args.out):  # one line, not "[Errno 17] File exists"
        print(problem, file=sys.stderr)
        return 1
    root = published_folder(warehouse_of(args, project_config(args)))
    try:
        path = write_report(root, Path(args.out))
    except ReportError as e:
        print(e, file=sys.stderr)
        return 1
    except OSError as e:  # e.g. a folder that cannot be written
        print(f"--out {args.out}: cannot write the report there ({e.strerror})", file=sys.stderr)
        return 1
    print(f"report of {root}: {path} ({path.stat().st_size // 1024} KiB)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="the read API over the published snapshot (FastAPI + uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--reports", help="folder served under /reports (default: reports/ beside the warehouse)")
    p.add_argument("--quiet", action="store_true", help="no access log")
    project_options(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("report", help="write the HTML report of the night from the published snapshot")
    p.add_argument("--out", required=True, help="folder for index.html (created; the page is replaced whole)")
    project_options(p)
    p.set_defaults(func=cmd_report)

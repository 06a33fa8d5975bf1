"""`make docs`: the dbt docs (models, tests, exposures, the semantic layer's lineage) as one
self-contained page, generated on the configured target and served on 127.0.0.1 with nothing
fetched from outside.

`dbt docs generate --static` writes ``static_index.html``: the docs app with the manifest and the
catalog inlined (no fonts, stylesheets or scripts from a CDN). What it can still reach out for is
dbt's usage tracker: the app injects Snowplow's ``sp.js`` from a CloudFront host and sends page views
when the manifest says ``send_anonymous_usage_stats`` (this project sets it false, so it stays off),
and that switch is the only thing between the page and the tracker. The page is therefore
rewritten here so it cannot turn tracking on at all (the tracker script URL and the call that would
load it are removed); a dbt release that changes that code fails loudly rather than shipping a page
that phones home. tests/integration/test_dbt_docs.py loads the page in headless Chromium from a real
server on 127.0.0.1 and records every request.

Run: ``python -m orchestration.lib.dbt_docs [--port 8080] [--out DIR] [--no-serve]``.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from orchestration.settings import Settings, get_settings, prepare_environment

#: (what dbt's docs page contains, what it becomes): the tracker cannot be turned on or loaded
TRACKER_REWRITES = (
    ("!0===e.track&&r.turn_on_tracking()", "!1"),
    ('"//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js"', '""'),
)
#: the tracker script's host, which must not survive the rewrite (the collector host left in the page
#: is only named inside the tracker's code, which can no longer run)
TRACKER_SCRIPT_HOST = "d1fc8wv8zag5ca.cloudfront.net"

#: two requests dbt's page makes to its own server for files that do not exist (404s, console
#: errors): the favicon's unexpanded build placeholder, and the sidebar icons' `<use xlink:href=
#: "{{ getIcon(...) }}">` fetched before AngularJS fills it in (ng-attr- sets it only once filled)
PAGE_FIXES = (
    ("href=\"${require('./assets/favicons/favicon.ico')}\"", 'href="data:,"'),
    ('<use xlink:href="{{ getIcon(', '<use ng-attr-xlink:href="{{ getIcon('),
)

DEFAULT_PORT = 8080
PORT_ENV = "COMMAND_CENTER_DOCS_PORT"


class DocsError(RuntimeError):
    """The docs page could not be generated or made local."""


def make_local(html: str) -> str:
    """dbt's static docs page with its usage tracker removed (see the module docstring) and its two
    requests for missing files fixed (PAGE_FIXES)."""
    for before, after in TRACKER_REWRITES:
        if before not in html:
            raise DocsError(f"dbt's docs page changed: {before!r} not found; review TRACKER_REWRITES "
                            "(orchestration/lib/dbt_docs.py) for this dbt version")
        html = html.replace(before, after)
    if TRACKER_SCRIPT_HOST in html:
        raise DocsError(f"the docs page still loads the tracker from {TRACKER_SCRIPT_HOST}")
    for before, after in PAGE_FIXES:  # cosmetic: applied when present
        html = html.replace(before, after)
    return html


def target_path(settings: Settings) -> Path:
    """Where dbt writes its artifacts: DBT_TARGET_PATH when set (tests), else the project's target/."""
    raw = os.environ.get("DBT_TARGET_PATH")
    path = Path(raw) if raw else Path("target")
    return path if path.is_absolute() else settings.dbt_project_dir / path


def generate(settings: Settings, out_dir: Path) -> Path:
    """`dbt docs generate --static` on the configured target, made local; returns out_dir/index.html.

    Without a DuckDB warehouse yet (no `make demo`), the catalog (column types, row counts) is left
    empty.
    """
    from orchestration.lib.dbt import run_dbt

    command = ["docs", "generate", "--static"]
    if settings.dbt_target == "duckdb" and not settings.duckdb_path.exists():
        print(f"note: no warehouse at {settings.duckdb_path} yet: docs without the catalog (run make demo first)")
        command.append("--empty-catalog")
    run_dbt(settings, command)
    static = target_path(settings) / "static_index.html"
    if not static.is_file():
        raise DocsError(f"dbt docs generate --static wrote no {static}")
    out_dir.mkdir(parents=True, exist_ok=True)
    index = out_dir / "index.html"
    index.write_text(make_local(static.read_text(encoding="utf-8")), encoding="utf-8")
    return index


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class' name
        pass


def server(directory: Path, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """An HTTP server of ``directory`` on host:port (127.0.0.1 only by default; port 0 = any free port)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    return ThreadingHTTPServer((host, port), handler)


def _port(value: str | None) -> int:
    try:
        port = int(value) if value else DEFAULT_PORT
    except ValueError:
        raise DocsError(f"{PORT_ENV} / --port must be a port number, got {value!r}") from None
    if not 0 <= port <= 65535:
        raise DocsError(f"port out of range: {port}")
    return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.lib.dbt_docs", description=__doc__.split("\n")[0])
    parser.add_argument("--port", default=os.environ.get(PORT_ENV), help=f"default ${PORT_ENV} or {DEFAULT_PORT}")
    parser.add_argument("--out", help="folder of the generated page (default: <dbt target>/docs_site)")
    parser.add_argument("--no-serve", action="store_true", help="generate only")
    args = parser.parse_args(argv)
    try:
        port = _port(args.port)
        settings = prepare_environment(get_settings())
        out_dir = Path(args.out) if args.out else target_path(settings) / "docs_site"
        index = generate(settings, out_dir)
    except Exception as exc:  # DocsError, DbtFailed, ConfigError: a message, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"dbt docs: {index} (self-contained; dbt's usage tracker removed)")
    if args.no_serve:
        return 0
    httpd = server(out_dir, port)
    print(f"serving on http://127.0.0.1:{httpd.server_address[1]}/ (Ctrl-C to stop)")
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

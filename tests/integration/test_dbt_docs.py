"""`make docs`: the dbt docs page, generated the way `make docs` does (orchestration/lib/dbt_docs.py),
loads from a real HTTP server on 127.0.0.1 in headless Chromium and makes no request to any other
host (every request of the browser context recorded); the lineage shows the exposures and the semantic
layer. The page is generated once, on an isolated environment without a warehouse (the catalog left
empty), so the test needs no build.
"""
from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest

from orchestration.lib.dbt_docs import generate, server

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def docs_site(tmp_path_factory, cc_env):
    root = tmp_path_factory.mktemp("dbt_docs")
    mp = pytest.MonkeyPatch()
    try:
        settings = cc_env.apply(mp, root)
        mp.setenv("DBT_TARGET_PATH", str(root / "target"))
        mp.setenv("DBT_LOG_PATH", str(root / "logs"))
        index = generate(settings, root / "site")
    finally:
        mp.undo()
    httpd = server(index.parent, port=0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"index": index, "url": f"http://127.0.0.1:{httpd.server_address[1]}/"}
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_docs_page_is_one_file_without_the_tracker(docs_site):
    html = docs_site["index"].read_text(encoding="utf-8")
    assert "d1fc8wv8zag5ca.cloudfront.net" not in html and "!0===e.track&&r.turn_on_tracking()" not in html
    assert "executive_command_center_report" in html and "dim_time_spine_day" in html


def test_the_docs_load_from_127_0_0_1_and_fetch_nothing_from_elsewhere(docs_site):
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    console_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.on("request", lambda request: requests.append(request.url))
            page = context.new_page()
            page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
            page.goto(docs_site["url"], wait_until="load")
            page.wait_for_function("document.body.innerText.includes('command_center')", timeout=60_000)
            # an exposure's page: who reads what, and its owner
            page.goto(docs_site["url"] + "#!/exposure/exposure.command_center.bi_dashboards", wait_until="load")
            page.wait_for_function("document.body.innerText.includes('ops_controller')", timeout=60_000)
            page.wait_for_load_state("networkidle")
            body = page.inner_text("body")
        finally:
            browser.close()
    assert "BI dashboards" in body or "bi_dashboards" in body
    hosts = {urlsplit(url).hostname for url in requests if urlsplit(url).scheme in ("http", "https", "ws", "wss")}
    others = sorted(url for url in requests
                    if urlsplit(url).scheme not in ("data", "blob", "about") and urlsplit(url).hostname != "127.0.0.1")
    assert requests and hosts == {"127.0.0.1"}, f"requests to other hosts: {others[:10]}"
    assert console_errors == []

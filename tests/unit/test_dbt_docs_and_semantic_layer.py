"""Pure parts of `make docs` (orchestration/lib/dbt_docs.py) and of the semantic-layer helper
(orchestration/lib/semantic_layer.py): the docs page made local, the port, the manifest's catalog."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import dbt.task.docs
import pytest

from orchestration.lib.dbt_docs import PAGE_FIXES, TRACKER_SCRIPT_HOST, DocsError, _port, make_local
from orchestration.lib.semantic_layer import SemanticLayerError, manifest_catalog

#: the page `dbt docs generate` starts from, as installed (the pinned dbt-core)
DBT_INDEX = Path(dbt.task.docs.__file__).parent / "index.html"


def test_the_installed_docs_page_loses_its_tracker_and_its_requests_for_missing_files():
    page = DBT_INDEX.read_text(encoding="utf-8")
    assert TRACKER_SCRIPT_HOST in page and "turn_on_tracking()" in page  # what there is to remove
    local = make_local(page)
    assert TRACKER_SCRIPT_HOST not in local
    assert "!0===e.track&&r.turn_on_tracking()" not in local  # tracking can no longer be switched on
    for before, after in PAGE_FIXES:
        assert before not in local and after in local
    assert len(local) > 0.99 * len(page)  # the app itself is untouched


def test_a_page_without_the_known_tracker_code_is_refused():
    with pytest.raises(DocsError, match="changed"):
        make_local("<html>no tracker code here</html>")


def test_a_page_still_naming_the_tracker_host_is_refused():
    page = '!0===e.track&&r.turn_on_tracking() "//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js" ' + TRACKER_SCRIPT_HOST
    with pytest.raises(DocsError, match="tracker"):
        make_local(page)


@pytest.mark.parametrize(("value", "expected"), [(None, 8080), ("", 8080), ("9000", 9000), ("0", 0)])
def test_port(value, expected):
    assert _port(value) == expected


@pytest.mark.parametrize("value", ["http", "70000", "-1", "80.5"])
def test_a_bad_port_is_refused(value):
    with pytest.raises(DocsError):
        _port(value)


def _manifest(*databases: str | None, spine: str | None = None):
    relation = lambda db: SimpleNamespace(node_relation=SimpleNamespace(database=db))  # noqa: E731
    return SimpleNamespace(semantic_models=[relation(db) for db in databases],
                           project_configuration=SimpleNamespace(time_spines=[relation(spine)] if spine else []))


def test_the_catalog_is_the_one_database_the_manifest_names():
    assert manifest_catalog(_manifest("command_center", "command_center", spine="command_center")) == "command_center"


@pytest.mark.parametrize("manifest", [_manifest(), _manifest("a", "b"), _manifest("a", spine="b"),
                                      _manifest("x'; drop table y; --")])
def test_no_single_plain_catalog_is_an_error(manifest):
    with pytest.raises(SemanticLayerError):
        manifest_catalog(manifest)

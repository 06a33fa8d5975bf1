"""Fixtures the landing test modules share: the repository's register and a fresh warehouse file.

A module that needs another register (e.g. with more redacted fields) or a prepared connection
defines its own fixture of the same name, which takes precedence.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.lib.register import load_register
from orchestration.lib.warehouse import connect
from orchestration.settings import REPO_ROOT


@pytest.fixture(scope="module")
def register():
    """The repository's own command_center.yml, validated."""
    return load_register(REPO_ROOT / "command_center.yml")


@pytest.fixture
def con(tmp_path: Path):
    """A connection to a new DuckDB warehouse file under tmp_path, closed after the test."""
    c = connect(tmp_path / "warehouse.duckdb")
    yield c
    c.close()

"""Data-quality check definitions kept in the repository as reviewed files.

``raw_events_suite.json`` is the great-expectations suite on ``raw.workflow_events``; it is read and run
by :mod:`orchestration.lib.expectations`. See docs/data-quality.md.
"""
from __future__ import annotations

from pathlib import Path

CHECKS_DIR = Path(__file__).resolve().parent
RAW_EVENTS_SUITE_PATH = CHECKS_DIR / "raw_events_suite.json"

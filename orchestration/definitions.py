"""The Dagster code location (``dagster dev -m orchestration.definitions``; pyproject [tool.dagster])."""
from orchestration.defs import build_definitions

defs = build_definitions()

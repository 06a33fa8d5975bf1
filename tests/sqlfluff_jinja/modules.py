"""dbt's `modules` namespace (re, datetime) for the jinja templater (linting only)."""
import datetime
import re

__all__ = ["datetime", "re"]

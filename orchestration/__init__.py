"""Automation Command Center: governed landing, register, dbt marts and Dagster orchestration."""

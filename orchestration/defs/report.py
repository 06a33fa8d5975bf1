"""The weekly executive report as a Dagster asset: ``weekly_command_center_report``.

Partitioned by ISO week like the SLO snapshot (the same ``WEEKLY_PARTITIONS``; key = the Monday)
and tagged ``partitioning: weekly``, so the ``weekly_slo_snapshot`` job (which selects by that tag)
runs it after the week's dbt build and publication: it depends on the weekly dbt assets (keys from
the manifest, no model named here). It reads only the published, read-only marts
(orchestration/lib/publish.py), so it takes no warehouse lock and is not in the warehouse pool.

The file: ``$COMMAND_CENTER_REPORTS_DIR/command_center_report_<week>.html`` (default: ``reports/``
beside the warehouse file, git-ignored with it). The materialization carries the path, the week
and a markdown preview (the plain-language improvement line per workflow and the panels' row counts).
"""

import os
from collections.abc import Iterable
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.defs.dbt import PARTITIONING_TAG, WEEKLY, WEEKLY_PARTITIONS
from orchestration.defs.resources import WarehouseResource
from orchestration.settings import published_path_for

REPORTS_DIR_ENV = "COMMAND_CENTER_REPORTS_DIR"


def report_path(warehouse_path: Path, week: str) -> Path:
    """Where the report of ``week`` is written: COMMAND_CENTER_REPORTS_DIR, else reports/ beside the warehouse."""
    folder = Path(os.environ.get(REPORTS_DIR_ENV) or warehouse_path.parent / "reports")
    return folder / f"command_center_report_{week}.html"


def build_weekly_report_asset(
    upstream: Iterable[dg.AssetKey], partitions_def: dg.PartitionsDefinition = WEEKLY_PARTITIONS
) -> dg.AssetsDefinition:
    """The report asset, after ``upstream`` (the weekly-partitioned dbt assets)."""

    @dg.asset(
        name="weekly_command_center_report",
        key_prefix=["reports"],
        group_name="reports",
        partitions_def=partitions_def,
        deps=list(upstream),
        tags={PARTITIONING_TAG: WEEKLY},
        kinds={"html"},
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=1),
        description=(
            "The weekly executive report of the command center: one self-contained HTML file (charts as inline "
            "SVG, nothing fetched) read from the published marts, for the partition's ISO week (docs/report.md)."
        ),
    )
    def weekly_command_center_report(context: AssetExecutionContext, warehouse: WarehouseResource):
        from orchestration.lib.publish import NotPublishedError
        from orchestration.lib.report import ReportError, parse_week, write_report

        week = context.partition_key
        out = report_path(warehouse.path, week)
        published = published_path_for(warehouse.path)
        try:
            report = write_report(published, out, parse_week(week))
        except (ReportError, NotPublishedError) as exc:
            raise dg.Failure(description=f"no report for the week of {week}: {exc}") from None
        context.log.info(f"wrote {out} ({out.stat().st_size:,} bytes)")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(out)),
                "week_start": week,
                "as_of": f"{report.as_of:%Y-%m-%d %H:%M} UTC",
                "preview": dg.MetadataValue.md(report.markdown_preview(out)),
                "workflows_with_headline": len(report.headlines),
                "panels": len(report.panels),
                "bytes": out.stat().st_size,
            }
        )

    return weekly_command_center_report

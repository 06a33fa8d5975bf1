"""``landing_folder_sensor``: a landing run when files arrive in the landing folder, and only then.

Every 30 seconds (``minimum_interval_seconds``) the sensor lists the landable files of the landing
resource's folder (``discover_landing_files``: the extensions landing accepts, hidden files and
dot-folders skipped) and ``stat``s them. Against its cursor (the files and their size + mtime as of
its last request; orchestration/lib/landing_sensor.py) it requests one run of ``land_new_files``
when a file is new or has changed, with a run key derived from those files and their states, so a
re-evaluation never starts a duplicate run; otherwise it skips, saying why.

It never opens the DuckDB warehouse (a reader would contend with the writers) and reads no file
content. Exactly-once landing is the load ledger's job, not the sensor's: the run lands every file
not yet in the ledger, so files missed by the sensor are landed by the next run of any landing job
(the daily build included), and a touched but unchanged file costs one run that lands nothing.

A file still being written is not requested: new or changed files are stat-ed again after
``SETTLE_SECONDS``, and one whose size or mtime moved stays out of the request and the cursor until
it is still. Landing itself keeps nothing of a file that changes while it lands ("not landed yet").
Writers should still stage a file under a dot-name (``.partial/x.jsonl`` or ``.x.jsonl``) and
rename it into place when complete: a writer that pauses mid-file would otherwise look finished.

If a requested run fails (e.g. the warehouse was held by another process), the sensor does not
retry it, since its files are in the cursor: the daily build lands them, or re-execute the run.
Default status RUNNING (see schedules.py for why).
"""
from __future__ import annotations

import dagster as dg

from orchestration.defs.jobs import land_new_files
from orchestration.defs.resources import LandingResource
from orchestration.lib.landing import discover_landing_files
from orchestration.lib.landing_sensor import (
    describe,
    diff_files,
    dump_cursor,
    file_states,
    load_cursor,
    run_key,
    still_moving,
)

SENSOR_INTERVAL_SECONDS = 30


@dg.sensor(
    name="landing_folder_sensor",
    job=land_new_files,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches the landing folder (COMMAND_CENTER_LANDING_DIR) and starts land_new_files when a file is "
        "new or changed (size or mtime). Lists and stats files only; never opens the warehouse."
    ),
)
def landing_folder_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    folder = landing.folder
    if not folder.is_dir():
        return dg.SkipReason(f"the landing folder {folder} does not exist")
    previous = load_cursor(context.cursor)
    current = file_states(folder, discover_landing_files(folder))
    diff = diff_files(previous, current)
    # a file still being written (size or mtime moving) is not landed yet: left out of the request
    # and of the cursor, so a later evaluation requests it once it is still
    moving = still_moving(folder, current, diff.to_land)
    if moving:
        context.log.info(f"{len(moving)} file(s) still being written, not requested yet: {describe(sorted(moving))}")
        current = {p: s for p, s in current.items() if p not in moving}
        diff = diff_files(previous, current)
    if not diff.has_files_to_land:
        if diff.removed:  # forget files that are gone, so the cursor stays the size of the folder
            context.update_cursor(dump_cursor(current))
        return dg.SkipReason(f"no new or changed files among the {len(current)} in {folder}")

    files = diff.to_land
    context.log.info(
        f"{len(diff.new)} new and {len(diff.changed)} changed file(s) in {folder}: {describe(files)}"
    )
    context.update_cursor(dump_cursor(current))
    return dg.RunRequest(
        run_key=run_key(current, files),
        tags={
            "command_center/new_files": str(len(diff.new)),
            "command_center/changed_files": str(len(diff.changed)),
        },
    )

"""Refresh: a schedule observes the raw inputs, a sensor notices files placed in the raw folder,
and the automation-condition sensor recomputes only the assets (and partitions) downstream of a
changed data version or code version. The translation memory makes a re-translated partition
cost only its new strings."""

import dagster as dg

from mmassets.defs.common.resources import DataFolders
from mmassets.defs.common.sources import source_key
from mmassets.sources import catalog

REFRESH = ((dg.AutomationCondition.eager() | dg.AutomationCondition.code_version_changed())
           & dg.AutomationCondition.all_deps_blocking_checks_passed())
"""Every built asset: recompute when an input has a new data version or its code changed — never
from an input whose latest materialization failed a blocking check (``blocking``)."""

observe_raw = dg.define_asset_job(
    "observe_raw_inputs", selection=dg.AssetSelection.assets(*(source_key(d) for d in catalog.DATASET_FILES)),
    description="Observe every upstream dataset: sha256 of its files as data version.")



def weekly_refresh(cron: str) -> dg.ScheduleDefinition:
    """The schedule that observes the raw inputs (setting ``refresh_cron``, default Mondays 04:00)."""
    return dg.ScheduleDefinition(
        name="weekly_raw_refresh", job=observe_raw, cron_schedule=cron, default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Observe the raw inputs ({cron}; MMASSETS_REFRESH_CRON changes it).")


@dg.sensor(job=observe_raw, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def raw_folder_sensor(context: dg.SensorEvaluationContext, folders: DataFolders):
    """Observe the datasets whose files were added, removed or changed in the raw folder."""
    seen = dict(item.split("=", 1) for item in context.cursor.split(";") if item) if context.cursor else {}
    now = {dataset: catalog.stamp(folders.raw, dataset) for dataset in catalog.DATASET_FILES}
    changed = [dataset for dataset, value in now.items() if seen.get(dataset) != value]
    context.update_cursor(";".join(f"{k}={v}" for k, v in now.items()))
    if changed and seen:  # the first evaluation only records what is there
        yield dg.RunRequest(run_key=None, asset_selection=[source_key(d) for d in changed])


automation_sensor = dg.AutomationConditionSensorDefinition(
    "refresh_downstream", target=dg.AssetSelection.all(), default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60)

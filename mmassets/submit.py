"""``mmassets build --submit`` and ``mmassets status``: a selection launched as one asset backfill on
the configured instance (``$DAGSTER_HOME/dagster.yaml``: PostgreSQL, a run queue, the daemon),
instead of run here, and followed until it ends.

The daemon turns the backfill into runs: language partitions of translation in runs of
``MMASSETS_LANGUAGES_PER_RUN`` (their ``BackfillPolicy.multi_run``: one model load serves them
all), the other partitioned assets a run per partition, each run's steps on the executor the
definitions name (``MMASSETS_EXECUTOR``: Celery, Kubernetes, or processes on the daemon's machine);
translation steps take a slot of the pool ``gpu``. Runs that fail do not stop the others.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.execution.backfill import BULK_ACTION_TERMINAL_STATUSES, BulkActionStatus, PartitionBackfill
from dagster._core.storage.tags import BACKFILL_ID_TAG

from mmassets.defs import resolve_selection

DEFAULT_UI = "http://127.0.0.1:3000"


def submit(defs: dg.Definitions, instance: dg.DagsterInstance, selection: str,
           tags: dict[str, str] | None = None, config: dict[dg.AssetKey, dict] | None = None) -> str:
    """Add an asset backfill of every partition of the assets ``selection`` names, each asset of
    ``config`` with its fields (in every run of the backfill); its id. Config that does not fit is a
    ``dg.DagsterInvalidConfigError`` before anything is added."""
    from dagster._core.definitions.partitions.context import partition_loading_context

    from mmassets.runner import ops_config

    run_config = ops_config(defs, config) or None
    if run_config is not None:
        dg.validate_run_config(defs.resolve_implicit_global_asset_job_def(), run_config)
    graph = defs.resolve_asset_graph()
    keys = [k for k in resolve_selection(selection, graph) if graph.get(k).is_materializable]
    if not keys:
        raise ValueError(f"--select {selection!r} names no asset that can be materialized")
    backfill_id = uuid.uuid4().hex[:8]
    with partition_loading_context(dynamic_partitions_store=instance):
        subset = AssetGraphSubset.from_asset_keys(keys, graph)
        backfill = PartitionBackfill.from_asset_graph_subset(
            backfill_id=backfill_id, backfill_timestamp=time.time(), tags=tags or {}, dynamic_partitions_store=instance,
            asset_graph_subset=subset, title=f"mmassets build: {len(keys)} assets",
            description=f"mmassets build --submit --select {selection}", run_config=run_config)
    instance.add_backfill(backfill)
    return backfill_id


def ui_link(backfill_id: str, ui: str = DEFAULT_UI) -> str:
    return f"{ui.rstrip('/')}/runs/b/{backfill_id}?tab=partitions"


@dataclass
class AssetProgress:
    key: str
    target: int
    """Partitions (1 for an unpartitioned asset) the backfill targets."""
    materialized: int = 0
    failed: int = 0


@dataclass
class BackfillStatus:
    backfill_id: str
    status: str
    assets: list[AssetProgress] = field(default_factory=list)
    runs: dict[str, int] = field(default_factory=dict)
    """Run status → how many of the backfill's runs have it."""

    @property
    def done(self) -> bool:
        return self.status in {s.value for s in BULK_ACTION_TERMINAL_STATUSES}

    @property
    def ok(self) -> bool:
        return self.status == BulkActionStatus.COMPLETED_SUCCESS.value

    def line(self) -> str:
        """One line: the status, the runs by status, the partitions materialized (and failed)."""
        runs = ", ".join(f"{count} {status.lower()}" for status, count in sorted(self.runs.items())) or "none yet"
        done, target = sum(a.materialized for a in self.assets), sum(a.target for a in self.assets)
        failed = sum(a.failed for a in self.assets)
        return (f"backfill {self.backfill_id}: {self.status.lower()}; runs: {runs}; materialized {done}/{target}"
                + (f", {failed} failed" if failed else ""))

    def summary(self) -> str:
        lines = [self.line()]
        width = max((len(a.key) for a in self.assets), default=0)
        for a in self.assets:
            lines.append(f"  {a.key.ljust(width)}  {a.materialized}/{a.target}" + (f", {a.failed} failed" if a.failed else ""))
        return "\n".join(lines)


def backfill_status(defs: dg.Definitions, instance: dg.DagsterInstance, backfill_id: str) -> BackfillStatus:
    """Where the backfill stands: its status, each asset's partitions materialized and failed, its runs."""
    backfill = instance.get_backfill(backfill_id)
    if backfill is None:
        raise ValueError(f"no backfill {backfill_id!r} on the instance of {instance.root_directory}")
    data = backfill.get_asset_backfill_data(defs.resolve_asset_graph())
    status = BackfillStatus(backfill_id, backfill.status.value)
    failed = data.failed_and_downstream_subset
    for key in sorted(data.target_subset.asset_keys):
        target = data.target_subset.get_asset_subset(key)
        status.assets.append(AssetProgress(
            key.to_user_string(), _size(target),
            materialized=_size(data.materialized_subset.get_asset_subset(key)),
            failed=_size(failed.get_asset_subset(key))))
    for run in instance.get_runs(filters=dg.RunsFilter(tags={BACKFILL_ID_TAG: backfill_id})):
        status.runs[run.status.value] = status.runs.get(run.status.value, 0) + 1
    return status


def _size(subset) -> int:
    if subset is None:
        return 0
    if subset.is_partitioned:
        return len(subset.subset_value)
    return int(bool(subset.bool_value))


def follow(defs: dg.Definitions, instance: dg.DagsterInstance, backfill_id: str, log: Callable[[str], None] = print,
           interval: float = 5.0, timeout: float | None = None) -> BackfillStatus:
    """A line whenever the backfill's status changes, until it ends (or ``timeout`` seconds), then
    each asset's partitions."""
    deadline = None if timeout is None else time.monotonic() + timeout
    shown = None
    while True:
        status = backfill_status(defs, instance, backfill_id)
        if status.line() != shown:
            shown = status.line()
            log(time.strftime("%H:%M:%S ") + shown)
        if status.done or (deadline is not None and time.monotonic() > deadline):
            log("\n".join(status.summary().splitlines()[1:]))
            return status
        time.sleep(interval)

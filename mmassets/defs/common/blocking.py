"""A failed blocking check stops what is built from its asset — in the run that failed it (Dagster
skips the downstream steps), and in every later run until the asset passes again (here).

What a blocked asset keeps: its stored value is the materialization that failed (the UI shows it
with the failed check), but its exports are not written (``checks.blocking_failures``, ``withheld``): the last
good export stays where it was, and the materialization's metadata says so (``EXPORTS_WITHHELD``).
What is built from it: nothing — ``mmassets build`` skips it (``skipped: <asset> blocked by check
<name>``), an asset reading it in a run of its own (launched from the UI, a sensor or a backfill)
fails before it computes (``refuse_blocked_upstream``), and the automation conditions wait for the
check to pass (``automation.REFRESH``).
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus


BLOCKING_CHECKS: dict[dg.AssetKey, tuple[str, ...]] = {}
"""Asset key → the names of its blocking checks, for every asset of the Definitions (``register``):
a step's own job may hold only the assets it runs (a run launched for one asset), not the ones it reads."""


def register(assets: Iterable[dg.AssetsDefinition]) -> None:
    """Remember the blocking checks of ``assets`` (the Definitions' every asset)."""
    found: dict[dg.AssetKey, list[str]] = {}
    for asset in assets:
        for spec in asset.check_specs:
            if spec.blocking:
                found.setdefault(spec.asset_key, []).append(spec.name)
    BLOCKING_CHECKS.update({key: tuple(sorted(names)) for key, names in found.items()})


def blocking_checks(graph, key: dg.AssetKey) -> list[str]:
    """The names of the blocking checks of ``key``: those the asset ``graph`` holds (a run's own
    job may hold an asset it only reads without its checks) and those ``register`` saw."""
    names = set(BLOCKING_CHECKS.get(key, ()))
    if graph is not None and graph.has(key):
        names |= {c.name for c in graph.get(key).check_keys if graph.get_check_spec(c).blocking}
    return sorted(names)


def failed_blocking_checks(instance: dg.DagsterInstance, graph, key: dg.AssetKey) -> list[str]:
    """The blocking checks of asset ``key`` whose latest evaluation failed with severity ERROR (a
    warning never blocks, as in Dagster), by name."""
    names = blocking_checks(graph, key)
    if not names:
        return []
    failed = []
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(key, name) for name in names])
    for check, record in latest.items():
        if record.status != AssetCheckExecutionRecordStatus.FAILED:
            continue
        evaluation = record.event.dagster_event.event_specific_data if record.event is not None else None
        if getattr(evaluation, "severity", dg.AssetCheckSeverity.ERROR) == dg.AssetCheckSeverity.ERROR:
            failed.append(check.name)
    return sorted(failed)


def blocked_reason(instance: dg.DagsterInstance, graph, key: dg.AssetKey) -> str | None:
    """``<asset> blocked by check <name>[, <name>]`` when ``key``'s latest materialization failed a
    blocking check, else None."""
    failed = failed_blocking_checks(instance, graph, key)
    return f"{key.to_user_string()} blocked by check {', '.join(failed)}" if failed else None


def refuse_blocked_upstream(instance: dg.DagsterInstance, graph, asset: str, upstream: Iterable[dg.AssetKey]) -> None:
    """Fail (no retries) before anything is computed when one of the ``upstream`` assets of
    ``asset`` failed a blocking check in its latest materialization."""
    reasons = [reason for key in sorted(set(upstream)) if (reason := blocked_reason(instance, graph, key))]
    if reasons:
        raise dg.Failure(
            description=f"{asset} is not built: {'; '.join(reasons)} in its latest materialization, and nothing is "
                        "built from an asset that failed a blocking check. Fix what the check reports (its metadata "
                        "in the UI, or the summary of mmassets build), build that asset again, then this one.",
            allow_retries=False)


def refuse_if_inputs_blocked(context: dg.AssetExecutionContext, upstream: Iterable[dg.AssetKey]) -> None:
    """``refuse_blocked_upstream`` from inside an asset that reads ``upstream`` by itself (not as
    inputs, which the IO manager guards)."""
    refuse_blocked_upstream(context.instance, context.job_def.asset_layer.asset_graph,
                            context.asset_key.to_user_string(), upstream)

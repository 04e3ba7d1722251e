"""Dagster wiring: one module per layer (resources, io, partitions, raw, english, translated, train,
eval, checks, automation) and one per dataset family holding that dataset's whole path from raw to
train (vqav2, aokvqa, llava, imagenet, matching), plus the task mix. Assets here are thin: they call
the pure functions and add metadata."""

import warnings

import dagster as dg

# Beta parameters mmassets relies on knowingly: source observation, data versions of raw outputs,
# and single-run backfills of language partitions.
for _parameter in ("observable_source_asset", "data_version", "backfill_policy"):
    warnings.filterwarnings("ignore", message=f".*{_parameter}.*", category=dg.BetaWarning)

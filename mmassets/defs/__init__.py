"""Dagster wiring, thin over the pure functions: ``families/`` holds one module per dataset family
(coco, vqav2, aokvqa, llava, imagenet, matching), each its dataset's whole path raw → train;
``eval.py`` the benchmarks; ``mixtures.py`` the recipe stages; ``common/`` what they share (layer
factories, checks, metadata, partitions, resources, io, sources, automation)."""

import warnings

import dagster as dg

# Beta parameters mmassets relies on knowingly: source observation, data versions of raw outputs,
# and single-run backfills of language partitions.
for _parameter in ("observable_source_asset", "data_version", "backfill_policy", "include_sources"):
    warnings.filterwarnings("ignore", message=f".*{_parameter}.*", category=dg.BetaWarning)

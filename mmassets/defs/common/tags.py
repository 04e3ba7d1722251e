"""Asset tags that ``mmassets build`` reads to plan its runs."""

MERGES_PRESENT = "mmassets/merges_present"
"""Tag of an asset that merges whichever of its upstream assets are materialized (a mixture stage
with ``missing: skip``): it runs after them in a run of its own, and is skipped only when all of
them failed."""

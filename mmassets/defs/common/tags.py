"""Asset tags that ``mmassets build`` reads to plan its runs."""

MERGES_PRESENT = "mmassets/merges_present"
"""Tag of an asset that can run with only some of its upstream assets materialized (a mixture stage
with ``missing: skip`` merges those there are; caption matching reads COCO or the web captions): it
runs after them in a run of its own, and is skipped only when all of them failed."""

SLICED_DOWNLOAD = "mmassets/sliced_download"
"""Tag of an image download asset: with MMASSETS_IMAGE_SLICES=K (K > 1) the Definitions give it K
static partitions, the slices of its shards (``partitions.for_download_slices``)."""

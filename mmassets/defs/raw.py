"""Raw assets: upstream files as published, read and checked, their sha256 as data version."""


import dagster as dg

from mmassets.defs import checks
from mmassets.defs.automation import REFRESH
from mmassets.defs.metadata import counts_metadata, frame_metadata
from mmassets.defs.resources import DataFolders
from mmassets.defs.sources import source_key
from mmassets.files import sha256_file
from mmassets.sources import coco


@dg.asset(key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1", deps=[source_key("coco")],
          automation_condition=REFRESH, check_specs=checks.specs(["raw", "coco_karpathy"], checks.SPLITS))
def coco_karpathy(context: dg.AssetExecutionContext, folders: DataFolders):
    """MSCOCO with Karpathy's train/restval/val/test splits (`coco/dataset_coco.json`): one row per
    image with its raw captions. Fails naming the file, record and field when the file is malformed."""
    path = folders.raw / coco.KARPATHY_FILE
    images = coco.read_karpathy(path)
    digest = sha256_file(path)
    per_split = images["split"].value_counts().reindex(coco.SPLITS, fill_value=0)
    context.log.info(f"read {len(images):,} images from {path}")
    yield dg.Output(images, data_version=dg.DataVersion(digest), metadata={
        **frame_metadata(images, language_column=None),
        "path": dg.MetadataValue.path(str(path)),
        "sha256": digest,
        "images per split": counts_metadata(per_split.to_dict()),
        "captions": int(images["captions"].map(len).sum()),
    })
    yield checks.splits_present(per_split.to_dict())

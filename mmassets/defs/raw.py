"""Raw assets: upstream files as published, read and checked, their sha256 as data version. The
COCO Karpathy file is read here; the other datasets' raw assets live in their family's module."""

import hashlib
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd

from mmassets.defs import checks
from mmassets.defs.automation import REFRESH
from mmassets.defs.metadata import counts_metadata, frame_metadata
from mmassets.defs.resources import DataFolders
from mmassets.defs.sources import source_key
from mmassets.files import sha256_file
from mmassets.sources import coco
from mmassets.sources.validation import EMPTY_HINT, RawFormatError


def raw_output(frame: pd.DataFrame, *paths: Path, **metadata: Any) -> dg.Output:
    """A raw asset's value with the files it read: its data version is the sha256 of the file (of
    the files' sha256s, when several), shown with the path(s), row count, schema and preview."""
    if frame.empty:
        raise RawFormatError(paths[0], f"holds no records; {EMPTY_HINT}")
    digests = [sha256_file(path) for path in paths]
    version = digests[0] if len(digests) == 1 else hashlib.sha256(":".join(digests).encode()).hexdigest()
    where = ({"path": dg.MetadataValue.path(str(paths[0]))} if len(paths) == 1 else
             {"paths": dg.MetadataValue.json([str(path) for path in paths])})
    return dg.Output(frame, data_version=dg.DataVersion(version), metadata={
        **frame_metadata(frame, language_column=None), **where, "sha256": version, **metadata})


@dg.asset(key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1", deps=[source_key("coco")],
          automation_condition=REFRESH, check_specs=checks.specs(["raw", "coco_karpathy"], checks.SPLITS))
def coco_karpathy(context: dg.AssetExecutionContext, folders: DataFolders):
    """MSCOCO with Karpathy's train/restval/val/test splits (`coco/dataset_coco.json`): one row per
    image with its raw captions. Fails naming the file, record and field when the file is malformed."""
    path = folders.raw / coco.KARPATHY_FILE
    images = coco.read_karpathy(path)
    per_split = images["split"].value_counts().reindex(coco.SPLITS, fill_value=0)
    context.log.info(f"read {len(images):,} images from {path}")
    yield raw_output(images, path, **{"images per split": counts_metadata(per_split.to_dict()),
                                      "captions": int(images["captions"].map(len).sum())})
    yield checks.splits_present(per_split.to_dict())

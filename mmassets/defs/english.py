"""English task assets: task records built from raw data, before any translation."""


import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs import checks
from mmassets.defs.automation import REFRESH
from mmassets.defs.metadata import counts_metadata, frame_metadata
from mmassets.defs.resources import DataFolders, LanguageMix
from mmassets.records import TRAIN_FIELDS
from mmassets.sources import coco
from mmassets.seeding import derive_seed
from mmassets.tasks.captions import caption_records


class CocoCaptionsConfig(dg.Config):
    splits: list[str] = Field(default=["train", "restval"],
                              description=f"Karpathy splits to train on, of {', '.join(coco.SPLITS)}")


@dg.asset(key_prefix="english", group_name="english", kinds={"pandas"}, code_version="1",
          automation_condition=REFRESH,
          ins={"images": dg.AssetIn(key=["raw", "coco_karpathy"])},
          check_specs=checks.specs(["english", "coco_captions"], checks.SCHEMA, checks.IMAGES, checks.ROW_COUNT,
                                   checks.DUPLICATES))
def coco_captions(context: dg.AssetExecutionContext, config: CocoCaptionsConfig, mix: LanguageMix,
                  folders: DataFolders, images: pd.DataFrame):
    """COCO caption records: one per caption of the training splits; context is a seeded choice of
    English caption instruction, label the caption, image_id the COCO file name."""
    unknown = sorted(set(config.splits) - set(coco.SPLITS))
    if unknown:
        raise ValueError(f"english/coco_captions config: unknown splits {unknown}; expected some of {coco.SPLITS}")
    built = caption_records(images, config.splits, derive_seed(mix.seed, "coco_captions", "context"))
    row_count = checks.row_count_stable(context, len(built.frame))  # before this materialization is stored
    yield dg.Output(built.frame, metadata={
        **frame_metadata(built.frame, language_column=None),
        "splits": ", ".join(config.splits),
        "distinct images": int(built.frame["image_id"].nunique()),
        "skipped": counts_metadata(built.skipped),
    })
    yield checks.schema(built.frame, TRAIN_FIELDS)
    yield checks.images(built.frame, lambda image_id: coco.image_path(folders.raw, image_id))
    yield row_count
    yield checks.duplicates(built.frame, TRAIN_FIELDS)

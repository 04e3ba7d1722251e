"""Eval assets: benchmark records (label empty, text_label the reference) and reference files,
exported as `exports/eval/<benchmark>/<split>/<lang>.json` (+ `.coco.json` for captioning)."""


import json

import dagster as dg
import pandas as pd

from mmassets.defs import checks
from mmassets.defs.metadata import frame_metadata
from mmassets.defs.resources import DataFolders
from mmassets.evalsets.coco_karpathy import EVAL_SPLITS, karpathy_eval
from mmassets.evalsets.coco_reference import reference_problems
from mmassets.records import EVAL_FIELDS, write_json, write_records
from mmassets.sources import coco

EVAL = dict(group_name="eval", key_prefix="eval", kinds={"pandas", "json"})


@dg.asset(name="coco_karpathy", code_version="1", **EVAL, ins={"images": dg.AssetIn(key=["raw", "coco_karpathy"])},
          check_specs=checks.specs(["eval", "coco_karpathy"], checks.SCHEMA, checks.IMAGES, checks.REFERENCES))
def eval_coco_karpathy(context: dg.AssetExecutionContext, folders: DataFolders, images: pd.DataFrame):
    """COCO Karpathy val and test captioning (English): eval records and COCO-format references."""
    frames, problems, exports = [], {}, {}
    for split in EVAL_SPLITS:
        records, reference = karpathy_eval(images, split)
        folder = folders.exports / "eval" / "coco_karpathy" / split
        exports[split] = write_records(folder / "en.json", records, EVAL_FIELDS)
        ref_path = write_json(folder / "en.coco.json", reference)
        problems[str(ref_path)] = reference_problems(json.loads(ref_path.read_text(encoding="utf-8")))
        frames.append(records)
    frame = pd.concat(frames, ignore_index=True)
    yield dg.Output(frame, metadata={
        **frame_metadata(frame, language_column=None),
        **{f"export {split}": dg.MetadataValue.path(str(p)) for split, p in exports.items()}})
    yield checks.schema(frame, EVAL_FIELDS, allow_empty=["label"])
    yield checks.images(frame, lambda image_id: coco.image_path(folders.raw, image_id))
    yield checks.references(problems)

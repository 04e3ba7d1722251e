"""Train assets: the final multilingual file of each task (instructions applied) and the task mix."""


import dagster as dg
import pandas as pd

from mmassets.defs import checks
from mmassets.defs.automation import REFRESH
from mmassets.defs.metadata import counts_metadata, frame_metadata
from mmassets.defs.partitions import LANGUAGES
from mmassets.defs.resources import DataFolders
from mmassets.languages import SOURCE_LANGUAGE, largest_remainder_counts
from mmassets.records import TRAIN_FIELDS, dumps_records, to_llava, write_records
from mmassets.files import atomic_write_bytes
from mmassets.sources import coco
from mmassets.tasks.instructions import rotate

TRAIN = dict(group_name="train", key_prefix="train", kinds={"pandas", "json"}, automation_condition=REFRESH)
COLUMNS = [*TRAIN_FIELDS, "language"]


@dg.asset(name="coco_captions", code_version="1", **TRAIN,
          ins={"translated": dg.AssetIn(key=["translated", "coco_captions"]),
               "instructions": dg.AssetIn(key=["translated", "caption_instructions"]),
               "english": dg.AssetIn(key=["english", "coco_captions"])},
          check_specs=checks.specs(["train", "coco_captions"], checks.SCHEMA, checks.IMAGES, checks.LANGUAGE_COUNTS,
                                   checks.ROW_COUNT, checks.DUPLICATES))
def train_coco_captions(context: dg.AssetExecutionContext, folders: DataFolders, translated: pd.DataFrame,
                        instructions: pd.DataFrame, english: pd.DataFrame):
    """The multilingual COCO caption training file: every language's captions, each non-English
    record with the next instruction of its language's list (English keeps its seeded instruction);
    records whose translation was dropped by the gate are left out and counted.
    Exported to `exports/train/coco_captions.json`."""
    translated = translated.sort_values("source_index", kind="stable").reset_index(drop=True)
    usable = translated["label"].map(lambda text: isinstance(text, str) and bool(text.strip()))
    dropped = translated.loc[~usable, "label_flag"].fillna("empty").value_counts().to_dict()
    frame = translated[usable].reset_index(drop=True)
    others = frame["language"] != SOURCE_LANGUAGE
    frame.loc[others, "context"] = rotate(frame[others], instructions)
    export = write_records(folders.exports / "train" / "coco_captions.json", frame, TRAIN_FIELDS)
    row_count = checks.row_count_stable(context, len(frame))  # before this materialization is stored
    yield dg.Output(frame[COLUMNS], metadata={
        **frame_metadata(frame, export=export), "distinct images": int(frame["image_id"].nunique()),
        "dropped translations": counts_metadata(dropped)})
    yield checks.schema(frame, TRAIN_FIELDS)
    yield checks.images(frame, lambda image_id: coco.image_path(folders.raw, image_id))
    yield checks.language_counts(translated, largest_remainder_counts(len(english), LANGUAGES.shares()), len(english))
    yield row_count
    yield checks.duplicates(frame, TRAIN_FIELDS)


TRAIN_TASKS = {"coco_captions": dg.AssetKey(["train", "coco_captions"])}
"""Every task of the mix: the name it has in the mix → its train asset."""


@dg.asset(code_version="1", **TRAIN, ins={name: dg.AssetIn(key=key) for name, key in TRAIN_TASKS.items()},
          check_specs=checks.specs(["train", "task_mix"], checks.SCHEMA, checks.ROW_COUNT, checks.DUPLICATES))
def task_mix(context: dg.AssetExecutionContext, folders: DataFolders, **tasks: pd.DataFrame):
    """All training tasks merged, in task order, as `exports/train/task_mix.json` and, as LLaVA
    conversations, `exports/train/task_mix.llava.json`."""
    frame = pd.concat([t.assign(task=name) for name, t in tasks.items()], ignore_index=True)
    export = write_records(folders.exports / "train" / "task_mix.json", frame, TRAIN_FIELDS)
    llava = atomic_write_bytes(folders.exports / "train" / "task_mix.llava.json",
                               dumps_records(to_llava(frame, frame["task"])))
    row_count = checks.row_count_stable(context, len(frame))  # before this materialization is stored
    yield dg.Output(frame, metadata={
        **frame_metadata(frame, export=export), "llava export": dg.MetadataValue.path(str(llava)),
        "rows per task": counts_metadata(frame["task"].value_counts().to_dict()),
        "distinct images": int(frame["image_id"].nunique())})
    yield checks.schema(frame, TRAIN_FIELDS)
    yield row_count
    yield checks.duplicates(frame, TRAIN_FIELDS)

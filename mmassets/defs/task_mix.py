"""The task mix: every train task that is present, merged with a weight or row budget per task.

``train/task_mix`` depends on every train asset but merges those that are materialized: a raw root
without ImageNet (say) still gets a mix of everything else. ``mmassets build`` runs it after the
train assets, and skips it only when none of them could be built.
"""

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs import checks
from mmassets.defs.io import stored_path
from mmassets.defs.metadata import counts_metadata, frame_metadata, markdown_table
from mmassets.defs.resources import DataFolders, LanguageMix
from mmassets.defs.train import TRAIN
from mmassets.files import atomic_write_bytes
from mmassets.runner import MERGES_PRESENT
from mmassets.records import TRAIN_FIELDS, dumps_records, to_llava, write_records
from mmassets.seeding import derive_seed
from mmassets.tasks.mix import mix_tasks, task_statistics

TRAIN_TASKS = ("coco_captions", "vqav2_vqa", "vqav2_vqg", "aokvqa_explain", "aokvqa_cot", "llava_conversation",
               "llava_detail", "imagenet_classify", "imagenet_decide", "caption_matching")
"""Every task of the mix, in mix order; each is the train asset ``train/<task>``."""



class TaskMixConfig(dg.Config):
    weights: dict[str, float] = Field(default={}, description=(
        "task → weight: rows = round(weight × task rows); whole copies plus a seeded sample (default 1)"))
    budgets: dict[str, int] = Field(default={}, description="task → exact row count (instead of a weight)")


@dg.asset(code_version="2", **TRAIN, deps=[dg.AssetKey(["train", name]) for name in TRAIN_TASKS],
          tags={MERGES_PRESENT: "true"},
          check_specs=checks.specs(["train", "task_mix"], checks.SCHEMA, checks.ROW_COUNT, checks.DUPLICATES))
def task_mix(context: dg.AssetExecutionContext, config: TaskMixConfig, folders: DataFolders, mix: LanguageMix):
    """Every materialized train task merged, in task order, each scaled by its weight or row budget
    (default: everything, once; sampling seeded): `exports/train/task_mix.json` and, as LLaVA
    conversations, `exports/train/task_mix.llava.json`. Metadata per task: rows, distinct images,
    rows per language; tasks not materialized are listed."""
    paths = {name: stored_path(folders.data_dir, dg.AssetKey(["train", name])) for name in TRAIN_TASKS}
    present = {name: pd.read_parquet(path) for name, path in paths.items() if path.is_file()}
    absent = [name for name in TRAIN_TASKS if name not in present]
    if not present:
        raise FileNotFoundError(f"no train task is materialized (looked for {', '.join(map(str, paths.values()))})")
    if absent:
        context.log.warning(f"task mix without {', '.join(absent)}: not materialized")
    frame = mix_tasks(present, derive_seed(mix.seed, "task_mix"), weights=config.weights, budgets=config.budgets)
    export = write_records(folders.exports / "train" / "task_mix.json", frame, TRAIN_FIELDS)
    llava = atomic_write_bytes(folders.exports / "train" / "task_mix.llava.json",
                               dumps_records(to_llava(frame, frame["task"])))
    stats = task_statistics(frame)
    rows = [{**s, "rows per language": ", ".join(f"{k} {v}" for k, v in list(s["rows per language"].items())[:8])
             + (" …" if s["languages"] > 8 else "")} for s in stats]
    row_count = checks.row_count_stable(context, len(frame))  # before this materialization is stored
    yield dg.Output(frame, metadata={
        **frame_metadata(frame, export=export), "llava export": dg.MetadataValue.path(str(llava)),
        "rows per task": counts_metadata({s["task"]: s["rows"] for s in stats}),
        "tasks": dg.MetadataValue.md(markdown_table(rows, ["task", "rows", "distinct images", "languages",
                                                           "rows per language"])),
        "per task": dg.MetadataValue.json(stats),
        "absent tasks": dg.MetadataValue.json(absent),
        "distinct images": int(frame["image_id"].nunique()), **checks.config_metadata(context)})
    yield checks.schema(frame, TRAIN_FIELDS)
    yield row_count
    yield checks.duplicates(frame, TRAIN_FIELDS)

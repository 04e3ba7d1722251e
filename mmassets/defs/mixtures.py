"""Mixture assets: one per stage of every recipe (``mmassets.recipes``), ``mixture/<recipe>`` or
``mixture/<recipe>__<stage>``, whose deps are exactly the stage's entries.

A stage reads each entry's stored records, scales it (weight, budget or repeat; seeded), optionally
shuffles the whole stage (seeded), and exports it in each of the stage's formats to
``exports/mixtures/<recipe>/<stage>.<format>.json`` (``.llava.jsonl`` for JSON lines), with
``<stage>.image_roots.json`` beside: which image root each entry's paths are relative to, and
where each root is; ``vila`` writes ``<stage>.vila/``, a LLaVA JSON file per entry with VILA's
registry and ``--data_mixture`` string. Entries hold mBLIP records or conversation records (the
LLaVA-family datasets, kept as published): the LLaVA views write a conversation as it is, the
mBLIP view splits it into its human→gpt pairs. A stage with ``missing: skip`` merges the entries that are materialized and hold records
(the build runs it after them, and skips it when all of them failed or when one of them is blocked
by a failed check); the others are listed in ``skipped entries`` with the reason (not materialized,
empty). With ``missing: error`` an entry that is not materialized or empty fails it.
"""


import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import dagster as dg
import pandas as pd

from mmassets import storage
from mmassets.defs.common import checks
from mmassets.defs.common.blocking import refuse_if_inputs_blocked
from mmassets.defs.common.io import stored_path
from mmassets.defs.common.metadata import counts_metadata, frame_metadata, markdown_table
from mmassets.defs.common.resources import DataFolders, LanguageMix
from mmassets.defs.common.tags import MERGES_PRESENT
from mmassets.files import atomic_write_bytes
from mmassets.images.image_folder import export_paths, folder_files, link_image_folder, row_images
from mmassets.recipes import Recipe, Stage
from mmassets.records import (TRAIN_FIELDS, dumps_records, to_llava, to_mblip_frame, write_json, write_llava,
                              write_records)
from mmassets.seeding import derive_seed
from mmassets.tasks.mix import mix_stage, task_statistics
from mmassets.vila.registry import VilaDataset, python_registration, registry

STAGE_COLUMNS = (*TRAIN_FIELDS, "language", "image_root", "image")
"""What a mixture needs of each entry's stored mBLIP records."""
CONVERSATION_STAGE_COLUMNS = ("record", "images", "turns", "image_root", "image", "image_id", "language")
DATAOPTIM_STAGE_COLUMNS = (*CONVERSATION_STAGE_COLUMNS, "box_space")
"""... and of each ``dataoptim/<source>``'s records, which carry the space of their boxes."""
"""... and of each entry's stored conversation records (``train.CONVERSATION_COLUMNS``)."""

EMPTY_ENTRY = "empty: materialized with no records"
"""Why an entry whose asset holds no records is left out of a stage (listed in ``skipped entries``)."""

LEGACY_TASK_MIX = "mblip_v2"
"""The recipe whose stage also writes ``exports/train/task_mix.json`` and ``task_mix.llava.json``,
the files of the former ``train/task_mix`` asset (same format, now in mBLIP's task order)."""


def export_vila(frame: pd.DataFrame, folder: Path, stage: Stage, roots: dict[str, str],
                shard_sets: dict[str, VilaDataset]) -> Path:
    """``<stage>.vila/``: each entry's records as a LLaVA JSON file named by its dataset name (an
    entry of VILA shards, ``shard_sets``, is registered where its shards are), the registry
    (``registry.json``, and ``datasets_mixture.py`` lines) with each dataset's image folder, and the
    ``--data_mixture`` string, in the stage's order; written whole, then renamed into place."""
    target = folder / f"{stage.name}.vila"
    staging = storage.staging_dir(target)
    parts = dict(tuple(frame.groupby("task", sort=False))) if len(frame) else {}
    try:
        datasets = []
        for entry in stage.entries:
            task = entry.asset.rsplit("/", 1)[-1]
            if task in shard_sets:
                datasets.append(shard_sets[task])
                continue
            if task not in parts:
                continue  # skipped entry
            part, path = parts[task], staging / f"{entry.dataset_name}.json"
            atomic_write_bytes(path, dumps_records(to_llava(part, part["task"], image_column="image")))
            (root,) = set(part["image_root"])  # one root per entry
            datasets.append(VilaDataset(entry.dataset_name, "torch", str(target / path.name), roots[root]))
        write_json(staging / "registry.json", registry(datasets))
        atomic_write_bytes(staging / "datasets_mixture.py", python_registration(datasets).encode("utf-8"))
        storage.publish_folder(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def export_stage(frame: pd.DataFrame, folder: Path, stage: Stage, roots: dict[str, str],
                 mblip: pd.DataFrame, shard_sets: dict[str, VilaDataset], root_folder: Callable[[str], Path],
                 legacy_task_mix: bool = False, train_folder: Path | None = None) -> dict[str, str]:
    """Write the stage's formats and its image-roots file; return format → path. ``mblip`` is the
    stage's mBLIP view (``records.to_mblip_frame``); ``shard_sets`` its entries of VILA shards,
    which only the vila format holds. The LLaVA files name each image by its path in the stage's
    one image folder, ``<stage>.images/`` (``images.image_folder``; ``root_folder``: where a root is).
    ``legacy_task_mix``: also ``task_mix.json`` and ``task_mix.llava.json`` in ``train_folder``."""
    written = {}
    if legacy_task_mix:
        written["task_mix"] = write_records(train_folder / "task_mix.json", mblip, TRAIN_FIELDS)
        written["task_mix llava"] = atomic_write_bytes(train_folder / "task_mix.llava.json",
                                                       dumps_records(to_llava(frame, frame["task"])))
    if "mblip" in stage.formats:
        written["mblip"] = write_records(folder / f"{stage.name}.mblip.json", mblip, TRAIN_FIELDS)
    if {"llava", "llava_jsonl"} & set(stage.formats):
        located, paths = stage_images(frame), None  # None: image paths as published, relative to their root
        if not storage.is_remote(folder):  # links to the image roots: on this machine's disk only
            written["image_folder"] = link_image_folder(folder / f"{stage.name}.images", folder_files(located, root_folder))
            paths = export_paths(located)
        for kind, name, lines in (("llava", f"{stage.name}.llava.json", False),
                                  ("llava_jsonl", f"{stage.name}.llava.jsonl", True)):
            if kind in stage.formats:
                written[kind] = write_llava(folder / name, frame, frame["task"], paths=paths, lines=lines)
    if "vila" in stage.formats:
        written["vila"] = export_vila(frame, folder, stage, roots, shard_sets)
    if "dataoptim" in stage.formats:
        written["dataoptim"] = atomic_write_bytes(folder / f"{stage.name}.dataoptim.txt",
                                                  "\n".join(dataoptim_ids(frame)).encode("utf-8"))
    entries: dict[str, set[str]] = {}
    asset_of = {entry.asset.rsplit("/", 1)[-1]: entry.asset for entry in stage.entries}
    for task, row in zip(frame["task"], stage_images(frame)):
        entries.setdefault(asset_of.get(task, f"train/{task}"), set()).update(root for root, _ in row)
    used = sorted(set().union(*entries.values()))
    written["image_roots"] = write_json(folder / f"{stage.name}.image_roots.json", {
        "roots": {name: str(root_folder(name)) for name in used}, "entries": {entry: sorted(roots) for entry, roots in sorted(entries.items())},
        **({"image_folder": str(written["image_folder"])} if "image_folder" in written else {}),
        "note": ("LLaVA records' image paths are relative to image_folder (pass it as the trainer's --image_folder: "
                 "links to the roots)" if "image_folder" in written else
                 "LLaVA records' image paths are relative to their entry's image root (exports on an object "
                 "store have no image folder of links)") + "; mBLIP records' image_id and the vila files' paths "
                "are relative to their entry's image root"})
    return {name: str(path) for name, path in written.items()}


def mixture_asset(recipe: Recipe, stage: Stage, known: set[str]) -> dg.AssetsDefinition:
    name = recipe.asset_name(stage)
    entries = [entry for entry in stage.entries if entry.asset in known]
    absent = [entry.asset for entry in stage.entries if entry.asset not in known]
    description = (f"{recipe.description}\n\nRecipe `{recipe.path.name}`, stage `{stage.name}`: "
                   + ", ".join(e.asset for e in stage.entries) + ".").strip()

    @dg.asset(name=name, key_prefix="mixture", group_name="mixture", kinds={"pandas", "json"}, code_version="1",
              deps=[dg.AssetKey.from_user_string(e.asset) for e in entries], description=description,
              tags={MERGES_PRESENT: "true"} if stage.missing == "skip" else {},
              check_specs=checks.specs(["mixture", name], checks.SCHEMA, checks.IMAGES, checks.ROW_COUNT,
                                       checks.DUPLICATES))
    def _mixture(context: dg.AssetExecutionContext, folders: DataFolders, mix: LanguageMix):
        refuse_if_inputs_blocked(context, [dg.AssetKey.from_user_string(e.asset) for e in entries])
        parts, skipped = [], {asset: "not in this graph (optional entry)" for asset in absent}
        shard_sets: dict[str, VilaDataset] = {}
        for entry in entries:
            path = stored_path(folders.storage_root, dg.AssetKey.from_user_string(entry.asset))
            if not path.is_file():
                if stage.missing == "error":
                    raise FileNotFoundError(f"mixture/{name}: entry {entry.asset} is not materialized (no {path}); "
                                            f"build it first, or set `missing: skip` in {recipe.path}")
                skipped[entry.asset] = "not materialized"
                continue
            frame = storage.read_parquet(path)
            if not len(frame):
                if stage.missing == "error":
                    raise ValueError(f"mixture/{name}: entry {entry.asset} holds no records; rebuild it with data, or "
                                     f"set `missing: skip` in {recipe.path} to leave it out (listed as empty)")
                skipped[entry.asset] = EMPTY_ENTRY
                continue
            if "vila_folder" in frame.columns:  # VILA shards: registered as they are, not mixed row by row
                if entry.weight is not None or entry.budget is not None or entry.repeat is not None:
                    raise ValueError(f"mixture/{name}: entry {entry.asset} of {recipe.path} is a folder of VILA shards; "
                                     "weight, budget and repeat cannot apply to it")
                shard_sets[entry.asset.rsplit("/", 1)[-1]] = VilaDataset(
                    entry.dataset_name, str(frame["vila_type"].iloc[0]), str(frame["vila_folder"].iloc[0]))
                continue
            needed = (DATAOPTIM_STAGE_COLUMNS if "box_space" in frame.columns else
                      CONVERSATION_STAGE_COLUMNS if "record" in frame.columns else STAGE_COLUMNS)
            lacking = [column for column in needed if column not in frame.columns]
            if lacking:
                raise ValueError(f"mixture/{name}: {path} (entry {entry.asset}) has no column(s) {lacking}: it was "
                                 f"stored by an earlier mmassets; rebuild it (mmassets build --select "
                                 f"'key:{entry.asset}')")
            parts.append((entry.asset.rsplit("/", 1)[-1], frame, entry.rows(len(frame)),
                          {"shuffle": entry.shuffle, "head": bool(entry.sample_size)}))
        if not parts and not shard_sets:
            raise FileNotFoundError(f"mixture/{name}: none of its entries holds records: "
                                    + "; ".join(f"{asset}: {why}" for asset, why in skipped.items()))
        if skipped:
            context.log.warning(f"mixture/{name} without " + ", ".join(f"{asset} ({why})" for asset, why in skipped.items()))
        seed = derive_seed(mix.seed, "recipe", recipe.name, stage.name, str(stage.seed))
        frame = mix_stage(parts, seed, shuffle=stage.shuffle) if parts else \
            pd.DataFrame({c: pd.Series(dtype=object) for c in ("task", *STAGE_COLUMNS)})
        roots = {root: str(folders.image_root(root)) for root in sorted(set(frame["image_root"]))}
        mblip, not_mblip = to_mblip_frame(frame)
        config = {"recipe sha256": recipe.sha256}
        results = [checks.schema(mblip, TRAIN_FIELDS),
                   checks.images(pd.DataFrame({"image_file": image_files(frame, folders)}), Path,
                                 columns=("image_file",), within=folders.trusted_roots(),
                                 limit=folders.image_check_limit),
                   checks.row_count_stable(context, len(frame), config=config),  # before this one is stored
                   checks.duplicates(pd.DataFrame({"record": record_keys(frame)}), ["record"])]
        blocking = checks.blocking_failures(results)
        folder = folders.exports / "mixtures" / recipe.name
        if blocking:
            exports = checks.withheld(blocking, sorted(folder.glob(f"{stage.name}.*")) if not storage.is_remote(folder)
                                      else [folder])
        else:
            exports = {"exports": dg.MetadataValue.json(export_stage(
                frame, folder, stage, roots, mblip, shard_sets, folders.image_root, recipe.name == LEGACY_TASK_MIX,
                folders.exports / "train"))}
        stats = task_statistics(frame)
        if "record" in frame.columns:
            missing = missing_images(frame, folders)
            for stat in stats:
                stat["missing images"] = missing.get(stat["task"], 0)
        total = max(len(frame), 1)
        rows = [{**s, "share": f"{s['rows'] / total:.1%}",
                 "rows per language": ", ".join(f"{k} {v}" for k, v in list(s["rows per language"].items())[:8])
                 + (" …" if s["languages"] > 8 else "")} for s in stats]
        yield dg.Output(frame, metadata={
            **frame_metadata(frame), **exports,
            "rows per entry": counts_metadata({s["task"]: s["rows"] for s in stats}),
            "share per entry": dg.MetadataValue.json({s["task"]: round(s["rows"] / total, 6) for s in stats}),
            "entries": dg.MetadataValue.md(markdown_table(rows, ["task", "rows", "share", "distinct images", *(
                ["text-only records", "turns", "repaired images", "missing images"] if "record" in frame.columns else []),
                "languages", "rows per language"])),
            "per entry": dg.MetadataValue.json(stats), "skipped entries": dg.MetadataValue.json(skipped),
            "distinct images": int(frame[["image_root", "image"]].drop_duplicates().shape[0]),
            "recipe": dg.MetadataValue.path(str(recipe.path)), "recipe sha256": recipe.sha256,
            "conversations not in the mblip view": not_mblip,
            **({"text-only records": sum(s["text-only records"] for s in stats if "turns" in s),
                "conversation turns": sum(s["turns"] or 0 for s in stats if "turns" in s)}
               if any("turns" in s for s in stats) else {}),
            "VILA shard entries (in the vila export only)": dg.MetadataValue.json(
                {task: d.data_path for task, d in shard_sets.items()}),
            "config": dg.MetadataValue.json(config)})
        yield from results

    return _mixture


def record_keys(frame: pd.DataFrame) -> list[str]:
    """Each row's record as text: a conversation row's record, an mBLIP row's fields (for duplicates)."""
    records = frame["record"] if "record" in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    return [record if isinstance(record, str) else json.dumps([frame.at[i, f] for f in TRAIN_FIELDS], ensure_ascii=False)
            for i, record in zip(frame.index, records)]


def dataoptim_ids(frame: pd.DataFrame) -> list[str]:
    """The DataOptim ids of a stage's records from ``dataoptim/`` entries, in stage order (a
    standard submission; one id a line, no newline at the end, as DataOptim's example)."""
    if "record" not in frame.columns or "box_space" not in frame.columns:
        return []
    from_dataoptim = frame["box_space"].notna()  # only dataoptim/<source> rows carry a box space
    return [json.loads(record)["id"] for record in frame.loc[from_dataoptim, "record"]]


def stage_images(frame: pd.DataFrame) -> list[list[tuple[str, str]]]:
    """Each row's images as (root, path): an mBLIP row's ``image``, each of a conversation row's
    ``images`` (none for a text-only one)."""
    return row_images(frame["image_root"], frame["images"] if "images" in frame.columns else frame["image"],
                      frame["image"])


def missing_images(frame: pd.DataFrame, folders: DataFolders) -> dict[str, int]:
    """Per entry, how many of the images its rows name are not files (a set kept with
    ``on_missing_image: keep``)."""
    missing: dict[str, int] = {}
    for task, row in zip(frame["task"], stage_images(frame)):
        for root, path in row:
            file = folders.image_root(root) / path
            if not file.is_file():
                missing[task] = missing.get(task, 0) + 1
    return missing


def image_files(frame: pd.DataFrame, folders: DataFolders) -> list[str]:
    """Every image file a stage's records name."""
    return [str(folders.image_root(root) / path) for row in stage_images(frame) for root, path in row]


def mixture_assets(recipes: Sequence[Recipe], known: set[str]) -> list[dg.AssetsDefinition]:
    return [mixture_asset(recipe, stage, known) for recipe in recipes for stage in recipe.stages]

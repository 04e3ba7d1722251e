"""Datasets published as conversation records (the LLaVA schema: LLaVA-Pretrain, LLaVA-1.5, the
llm-jp sets, ShareGPT4V, ALLaVA, DataOptim): a raw asset that reads the file as published (JSON
array or JSON lines, ``sources.conversation_files``) and a train asset that keeps every record as
it is, with its image root, language and lineage, exported to ``exports/train/<name>.llava.json``.
The families (``defs/families/``) declare theirs with ``conversation_set``, or, for sets whose
images must be checked and repaired before training (ConvLLaVA's), ``checked_conversation_set``:
an ``images/<name>`` step between them looks every image up and decides what becomes of each
record (``mmassets.images.references``)."""

import json
import os
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets import storage
from mmassets.defs.common.io import stored_path
from mmassets.defs.common.metadata import counts_metadata, frame_metadata, markdown_table
from mmassets.defs.common.raw import raw_output
from mmassets.defs.common.resources import DataFolders
from mmassets.defs.common.sources import source_key
from mmassets.defs.common.train import TRAIN, conversation_specs, publish_conversations
from mmassets.images import verify
from mmassets.images.references import image_references, repaired_path, resolve_records
from mmassets.sources.conversation_files import read_conversation_file
from mmassets.sources.validation import shown

PLAIN = "plain_two_turns"
UNSAFE_PATH = "absolute, empty, with a NUL byte, or climbing out with .."


def printable(path: str, limit: int = 300) -> str:
    """A rejected path as the problems table shows it: NUL bytes spelled out, cut to ``limit``."""
    path = path.replace("\0", "\\0")
    return path if len(path) <= limit else path[:limit] + "…"


def plain_spec(name: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(PLAIN, asset=dg.AssetKey(["train", name]), description=(
        "Every record has exactly two turns with <image> in the first, as VILA's `plain` conversation "
        "version (Step-0) asserts."))


def _plain(turns: list[dict]) -> bool:
    return len(turns) == 2 and "<image>" in turns[0]["value"]


def plain_check(frame: pd.DataFrame) -> dg.AssetCheckResult:
    bad = [i for i, record in zip(frame["id"], frame["record"]) if not _plain(json.loads(record)["conversations"])]
    return dg.AssetCheckResult(check_name=PLAIN, passed=not bad, metadata={
        "records": len(frame), "not plain": len(bad), "examples": dg.MetadataValue.json(bad[:5])})


def conversation_set(name: str, *, dataset: str, file: str, image_root: str, language: str, how_to_get: str,
                     description: str, plain: bool = False) -> list[dg.AssetsDefinition]:
    """``raw/<name>`` (``file`` under the raw root, read and checked) and ``train/<name>`` (its records
    with ``image_root`` and ``language``); ``plain`` adds the Step-0 two-turn check."""

    @dg.asset(name=name, key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1",
              deps=[source_key(dataset)], description=f"{description} As published: `{file}`.")
    def _raw(context: dg.AssetExecutionContext, folders: DataFolders):
        path = folders.raw / file
        frame = read_conversation_file(path, how_to_get)
        context.log.info(f"read {len(frame):,} conversation records from {path}")
        yield raw_output(frame, path, **{"text-only records": int((frame["images"].map(len) == 0).sum())})

    @dg.asset(name=name, code_version="1", ins={"records": dg.AssetIn(key=["raw", name])},
              check_specs=[*conversation_specs(name), *([plain_spec(name)] if plain else [])],
              description=f"{description} Every record as published, its images under the `{image_root}` image "
                          f"root; exported to `exports/train/{name}.llava.json`.", **TRAIN)
    def _train(context: dg.AssetExecutionContext, folders: DataFolders, records: pd.DataFrame):
        yield from publish_conversations(context, folders, name, records, image_root=image_root, language=language,
                                         source=(dataset, file))
        if plain:
            yield plain_check(records)

    return [_raw, _train]



class ImageCheckConfig(dg.Config):
    level: str = Field(default="decode", description="exists (look up only) | format (also read the header) | "
                                                     "decode (also decode: finds truncated files)")
    repair: bool = Field(default=True, description="convert images whose content is not their extension's "
                                                   "(a GIF named .jpg) to real JPEGs under the `repaired` root")
    workers: int = Field(default=0, ge=0, description="processes that check images (0: one per CPU, at most 8)")
    chunk: int = Field(default=2_000, ge=1, description="images per unit of work (and of resumable progress)")


class ResolvedSetConfig(dg.Config):
    on_missing_image: str = Field(default="drop", description="a record whose image is missing: drop (counted) | "
                                                               "keep (as published) | fail (the build)")


def _status_table(table: pd.DataFrame) -> str:
    counts = table.pivot_table(index="root", columns="status", values="path", aggfunc="count", fill_value=0)
    rows = [{"root": root, **{s: int(counts.at[root, s]) for s in counts.columns}} for root in counts.index]
    return markdown_table(rows, ["root", *[s for s in (*verify.STATUSES, "unsafe") if s in counts.columns]])


def checked_conversation_set(name: str, *, dataset: str, file: str, base_root: str, language: str, how_to_get: str,
                             description: str) -> list[dg.AssetsDefinition]:
    """``raw/<name>`` (``file`` read as published; records with unsafe paths set aside),
    ``images/<name>`` (every image the records name looked up, checked and repaired: one row per
    image with its status) and ``train/<name>`` (the records whose images are usable, each image
    under its root, exported with one image folder). Paths are relative to the data folder
    (``base_root`` ``raw``) or to the root ``base_root``."""

    @dg.asset(name=name, key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1",
              deps=[source_key(dataset)], description=f"{description} As published: `{file}`.")
    def _raw(context: dg.AssetExecutionContext, folders: DataFolders):
        path = folders.raw / file
        frame = read_conversation_file(path, how_to_get, unsafe_paths="skip")
        unsafe = frame[frame["unsafe_path"] != ""]
        for i, record_id, bad in zip(unsafe["source_index"][:5], unsafe["id"], unsafe["unsafe_path"]):
            context.log.warning(f"{path}: record {i} (id {shown(record_id)}): unsafe image path {shown(bad)} "
                                f"({UNSAFE_PATH}); the record is rejected")
        extra = frame["extra"].str.split(",").explode()
        context.log.info(f"read {len(frame):,} conversation records from {path}")
        yield raw_output(frame, path, **{"text-only records": int((frame["images"].map(len) == 0).sum()),
                                         "records with unsafe paths (rejected)": len(unsafe),
                                         "extra keys (kept in the record)": counts_metadata(
                                             extra[extra != ""].value_counts().to_dict())})

    @dg.asset(name=name, key_prefix="images", group_name="images", kinds={"pandas", "jpeg"}, code_version="1",
              deps=[dg.AssetKey(["raw", name])],
              description=f"Every image the records of `raw/{name}` name, looked up under its root (paths relative to "
                          f"{'the data folder' if base_root == 'raw' else f'the `{base_root}` root'}), checked and, "
                          "with `repair`, converted to JPEG when its content is not its extension's; one row per "
                          "image with its status (ok, missing, mismatch, repaired, unreadable, truncated, unsafe).")
    def _images(context: dg.AssetExecutionContext, config: ImageCheckConfig, folders: DataFolders):
        stored = storage.read_parquet(stored_path(folders.storage_root, dg.AssetKey(["raw", name])),
                                      columns=["images", "unsafe_path"])
        table = image_references(stored["images"], base_root)
        repaired = folders.image_root("repaired")
        files = [str(folders.image_root(root) / path) for root, path in zip(table["root"], table["path"])]
        wanted = [verify.Wanted(f, str(repaired / repaired_path(root, path)))
                  for f, root, path in zip(files, table["root"], table["path"])]
        workers = config.workers or min(8, os.cpu_count() or 1)
        results, counts = verify.check_images(
            wanted, level=config.level, cache_dir=Path(folders.data_dir) / "images" / "checked" / name,
            repair=config.repair, workers=workers, chunk=config.chunk, log=context.log.info, label=f"images/{name}",
            within=folders.trusted_roots())
        table = table.assign(file=files, status=results["status"], format=results["format"], detail=results["detail"],
                             repaired=[repaired_path(r, p) if s == "repaired" else ""
                                       for r, p, s in zip(table["root"], table["path"], results["status"])])
        unsafe = stored.loc[stored["unsafe_path"] != "", "unsafe_path"].value_counts()
        table = pd.concat([table, pd.DataFrame({"root": "", "path": [printable(p) for p in unsafe.index],
                                                "records": unsafe.values, "file": "", "status": "unsafe", "format": "",
                                                "detail": UNSAFE_PATH, "repaired": ""})],
                          ignore_index=True)
        problems = table[table["status"] != "ok"]
        export = folders.exports / "images" / f"{name}.problems.csv"
        with storage.publishing(export) as out:
            problems.drop(columns=["file"]).to_csv(out, index=False)
        missing = problems[problems["status"] == "missing"]
        yield dg.Output(table, metadata={
            **frame_metadata(table, language_column=None, export=export),
            "images by status": counts_metadata(table["status"].value_counts().to_dict()),
            "missing images per root": counts_metadata(missing["root"].value_counts().to_dict()),
            "status per root": dg.MetadataValue.md(_status_table(table)),
            "problems": dg.MetadataValue.md(markdown_table(problems.head(20).to_dict("records"),
                                                           ["root", "path", "status", "detail"])),
            "checked now": counts["checked"], "unchanged since the last check": counts["from cache"],
            "level": config.level, "repair": config.repair, "workers": workers})

    @dg.asset(name=name, code_version="1",
              ins={"records": dg.AssetIn(key=["raw", name]), "images": dg.AssetIn(key=["images", name])},
              check_specs=conversation_specs(name),
              description=f"{description} The records of `raw/{name}` whose images are usable (`on_missing_image` "
                          f"decides for missing ones), each image under its root (a repaired one under `repaired`); "
                          f"exported to `exports/train/{name}.llava.json` with its image folder "
                          f"`exports/train/{name}.images/`.", **TRAIN)
    def _train(context: dg.AssetExecutionContext, config: ResolvedSetConfig, folders: DataFolders,
               records: pd.DataFrame, images: pd.DataFrame):
        kept, dropped = resolve_records(records, images[images["status"] != "unsafe"], base_root,
                                        config.on_missing_image, f"train/{name}")
        reasons = dropped["reason"].value_counts().to_dict()
        if len(dropped):
            context.log.warning(f"train/{name}: {len(dropped):,} of {len(records):,} records dropped: "
                                + ", ".join(f"{n:,} {reason}" for reason, n in reasons.items()))
        yield from publish_conversations(
            context, folders, name, kept, image_root=None, language=language, source=(dataset, file),
            image_folder=True, missing_allowed=config.on_missing_image == "keep", metadata={
                "records read": len(records), "records dropped": counts_metadata(reasons),
                "images repaired": int((images["status"] == "repaired").sum()),
                "records per image root": counts_metadata(kept["image_root"].value_counts().to_dict()),
                "on_missing_image": config.on_missing_image})

    return [_raw, _images, _train]

"""Datasets published as conversation records (the LLaVA schema: LLaVA-Pretrain, LLaVA-1.5, the
llm-jp sets, ShareGPT4V, ALLaVA, DataOptim): a raw asset that reads the file as published (JSON
array or JSON lines, ``sources.conversation_files``) and a train asset that keeps every record as
it is, with its image root, language and lineage, exported to ``exports/train/<name>.llava.json``.
The families (``defs/families/``) declare theirs with ``conversation_set``."""

import json

import dagster as dg
import pandas as pd

from mmassets.defs.common.raw import raw_output
from mmassets.defs.common.resources import DataFolders
from mmassets.defs.common.sources import source_key
from mmassets.defs.common.train import TRAIN, conversation_specs, publish_conversations
from mmassets.sources.conversation_files import read_conversation_file

PLAIN = "plain_two_turns"


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


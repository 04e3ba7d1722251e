"""LLaVA-Instruct data, raw to train: conversations split into single question–answer turns (long
answers dropped and counted) and detailed descriptions kept whole → both sides translated per
language → `exports/train/llava_conversation.json` and `llava_detail.json`."""

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs.common.english import ENGLISH, english_asset, english_specs, publish_english
from mmassets.defs.common.metadata import counts_metadata
from mmassets.defs.common.raw import raw_output
from mmassets.defs.common.resources import DataFolders, LanguageMix
from mmassets.defs.common.sources import source_key
from mmassets.defs.common.train import TRAIN, publish, train_specs, usable_translations
from mmassets.defs.common.translated import translated_asset
from mmassets.sources import coco, llava
from mmassets.tasks.conversations import conversation_records, detail_records

FILES = {"llava_conversation": llava.CONVERSATION_FILE, "llava_detail": llava.DETAIL_FILE}


def _raw(name: str):
    @dg.asset(name=name, key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1",
              deps=[source_key("llava")],
              description=f"LLaVA-Instruct-150K `{FILES[name]}`: one row per dialogue (id, image, turns).")
    def _asset(context: dg.AssetExecutionContext, folders: DataFolders):
        path = folders.raw / FILES[name]
        dialogues = llava.read_llava(path)
        yield raw_output(dialogues, path, turns=int(dialogues["speakers"].map(len).sum()))

    return _asset


raw_conversation, raw_detail = _raw("llava_conversation"), _raw("llava_detail")


class ConversationConfig(dg.Config):
    max_sentences: int = Field(default=3, ge=1, description="answers with more sentences are dropped and counted")


@dg.asset(name="llava_conversation", code_version="1",
          ins={"dialogues": dg.AssetIn(key=["raw", "llava_conversation"])},
          check_specs=english_specs("llava_conversation"), **ENGLISH)
def english_conversation(context: dg.AssetExecutionContext, config: ConversationConfig, folders: DataFolders,
                         dialogues: pd.DataFrame):
    """LLaVA conversation turns: each human turn (`<image>` and newlines removed) is a context, the
    following gpt turn its label; answers longer than `max_sentences` sentences are dropped and counted."""
    built = conversation_records(dialogues, lambda cocoid: coco.find_image(folders.raw, cocoid),
                                 max_sentences=config.max_sentences)
    yield from publish_english(context, folders, built,
                               {"max sentences": config.max_sentences})


english_detail = english_asset(
    "llava_detail", ["raw", "llava_detail"],
    lambda dialogues, folders, _: detail_records(dialogues, lambda cocoid: coco.find_image(folders.raw, cocoid)),
    "LLaVA detailed descriptions: the request as context, the whole description as label.")
translated_conversation, translated_detail = (
    translated_asset(name, ["context", "label"], f"`english/{name}` records of each language: context and label "
                     "translated.") for name in ("llava_conversation", "llava_detail"))


def _train(name: str):
    @dg.asset(name=name, code_version="1", check_specs=train_specs(name),
              ins={"translated": dg.AssetIn(key=["translated", name]), "english": dg.AssetIn(key=["english", name])},
              description=(f"The multilingual `{name}` training file, `exports/train/{name}.json`; records "
                           "whose context or label translation was dropped by the gate are left out and counted."),
              **TRAIN)
    def _asset(context: dg.AssetExecutionContext, folders: DataFolders, mix: LanguageMix, translated: pd.DataFrame,
               english: pd.DataFrame):
        frame, dropped = usable_translations(translated, ["context", "label"])
        yield from publish(context, folders, name, frame,
                           translated=translated, n_english=len(english), mix=mix, source=("llava", FILES[name]),
                           metadata={"dropped translations": counts_metadata(dropped)})

    return _asset


train_conversation, train_detail = _train("llava_conversation"), _train("llava_detail")

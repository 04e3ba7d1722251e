"""Translated assets, partitioned by language: each partition holds the slice of an English task
assigned to that language, machine-translated with NLLB. English is a partition that passes through.

Each asset has a single-run backfill policy: a range of language partitions runs as one step, so
the model loads once for all of them.
"""


import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

import dagster as dg
import pandas as pd

from mmassets.defs.metadata import TINY_MODEL_NOTE, counts_metadata, frame_metadata
from mmassets.defs.partitions import LANGUAGES, language_partitions
from mmassets.defs.resources import LanguageMix, NLLBTranslator
from mmassets.languages import SOURCE_LANGUAGE
from mmassets.progress import Progress
from mmassets.tasks.captions import CAPTION_INSTRUCTIONS, CAPTION_INSTRUCTIONS_NAMING_LANGUAGE
from mmassets.tasks.instructions import name_language
from mmassets.translation.quality import problem

warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)
TRANSLATED = dict(group_name="translated", key_prefix="translated", partitions_def=language_partitions,
                  backfill_policy=dg.BackfillPolicy.single_run(), pool="gpu", kinds={"pytorch", "pandas"})


def translate(context: dg.AssetExecutionContext, translator: NLLBTranslator, texts: Sequence[str],
              language: str, what: str) -> list[str]:
    """English ``texts`` into ``language`` (a table code), with progress in the run log."""
    if not texts:
        return []
    progress = Progress(len(texts), context.log.info, f"{what} → {language}", unit="strings")
    return translator.translate(texts, LANGUAGES[SOURCE_LANGUAGE].nllb, LANGUAGES[language].nllb,
                                progress=lambda done, _total: progress.update(done))


def translator_metadata(translator: NLLBTranslator, translated_any: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"translator": translator.model}
    if translated_any:
        meta["translator identity"] = translator.identity
    if translator.is_tiny:
        meta["note"] = TINY_MODEL_NOTE
    return meta


def translate_task(context: dg.AssetExecutionContext, translator: NLLBTranslator, mix: LanguageMix,
                   english: pd.DataFrame, task: str, fields: Sequence[str]) -> dg.Output:
    """The partitions of ``context`` for an English task: each language's slice of the seeded
    assignment with ``fields`` translated; ``<field>_en`` keeps the source, ``source_index`` the row."""
    english = english.reset_index(drop=True).assign(
        source_index=range(len(english)), language=mix.assignment(len(english), task))
    parts, flagged, translated_any = {}, Counter(), False
    for language in context.partition_keys:
        part = english[english["language"] == language].reset_index(drop=True)
        for field in fields:
            part[f"{field}_en"] = part[field]
            if language != SOURCE_LANGUAGE and len(part):
                part[field] = translate(context, translator, part[field].tolist(), language, f"{task}.{field}")
                flagged.update(p for p in map(problem, part[f"{field}_en"], part[field]) if p)
                translated_any = True
        parts[language] = part
    merged = pd.concat(parts.values(), ignore_index=True)
    return dg.Output(parts, metadata={
        **frame_metadata(merged), "partitions in this run": len(parts),
        "flagged translations": counts_metadata(flagged),
        **translator_metadata(translator, translated_any)})


@dg.asset(name="coco_captions", ins={"english": dg.AssetIn(key=["english", "coco_captions"])}, code_version="1",
          **TRANSLATED)
def translated_coco_captions(context: dg.AssetExecutionContext, translator: NLLBTranslator, mix: LanguageMix,
                             english: pd.DataFrame) -> dg.Output:
    """COCO caption records of each language: the captions (labels) translated from English."""
    return translate_task(context, translator, mix, english, "coco_captions", ["label"])


@dg.asset(code_version="1", **TRANSLATED)
def caption_instructions(context: dg.AssetExecutionContext, translator: NLLBTranslator) -> dg.Output:
    """Caption instructions of each language: the English ones translated (empty, unchanged or
    degenerate translations dropped and counted) plus ones that name the language in English."""
    parts, dropped = {}, Counter()
    for language in context.partition_keys:
        rows = [("english", text, text) for text in CAPTION_INSTRUCTIONS] if language == SOURCE_LANGUAGE else []
        if language != SOURCE_LANGUAGE:
            translations = translate(context, translator, CAPTION_INSTRUCTIONS, language, "caption instructions")
            for source, text in zip(CAPTION_INSTRUCTIONS, translations):
                reason = problem(source, text)
                if reason:
                    dropped[reason] += 1
                else:
                    rows.append(("translated", text, source))
            named = name_language(CAPTION_INSTRUCTIONS_NAMING_LANGUAGE, LANGUAGES[language].display_name)
            rows += [("names language", text, text) for text in named]
        parts[language] = pd.DataFrame(rows, columns=["origin", "instruction", "source"]).assign(language=language)
    merged = pd.concat(parts.values(), ignore_index=True)
    translated_any = any(k != SOURCE_LANGUAGE for k in parts)
    return dg.Output(parts, metadata={
        **frame_metadata(merged), "partitions in this run": len(parts),
        "dropped translations": counts_metadata(dropped),
        "kept translations": int((merged["origin"] == "translated").sum()),
        **translator_metadata(translator, translated_any)})

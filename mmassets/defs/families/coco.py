"""COCO captions, raw to train: Karpathy's ``coco/dataset_coco.json`` (``raw/coco_karpathy``), one
English record per caption of the training splits with a seeded instruction
(``english/coco_captions``), each language's slice translated and the caption instructions of
every language (``translated/coco_captions``, ``translated/caption_instructions``), and the
multilingual training file with instructions rotated per language (``train/coco_captions``,
exported to ``exports/train/coco_captions.json``)."""

from collections import Counter

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs.common import checks
from mmassets.defs.common.english import ENGLISH, check_splits, english_specs, publish_english
from mmassets.defs.common.metadata import counts_metadata
from mmassets.defs.common.raw import raw_output
from mmassets.defs.common.resources import DataFolders, LanguageMix, NLLBTranslator
from mmassets.defs.common.sources import source_key
from mmassets.defs.common.train import TRAIN, publish, train_specs, usable_translations
from mmassets.defs.common.translated import Run, gate_spec, translated_asset, translated_dg_asset
from mmassets.languages import SOURCE_LANGUAGE
from mmassets.seeding import derive_seed
from mmassets.sources import coco
from mmassets.tasks.captions import CAPTION_INSTRUCTIONS, CAPTION_INSTRUCTIONS_NAMING_LANGUAGE, caption_records
from mmassets.tasks.instructions import name_language, rotate


@dg.asset(key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1", deps=[source_key("coco")],
          check_specs=checks.specs(["raw", "coco_karpathy"], checks.SPLITS))
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


class CocoCaptionsConfig(dg.Config):
    splits: list[str] = Field(default=["train", "restval"],
                              description=f"Karpathy splits to train on, of {', '.join(coco.SPLITS)}")


@dg.asset(code_version="1", ins={"images": dg.AssetIn(key=["raw", "coco_karpathy"])},
          check_specs=english_specs("coco_captions"), **ENGLISH)
def coco_captions(context: dg.AssetExecutionContext, config: CocoCaptionsConfig, mix: LanguageMix,
                  folders: DataFolders, images: pd.DataFrame):
    """COCO caption records: one per caption of the training splits; context is a seeded choice of
    English caption instruction, label the caption, image_id the COCO file name."""
    check_splits("english/coco_captions", config.splits)
    built = caption_records(images, config.splits, derive_seed(mix.seed, "coco_captions", "context"))
    yield from publish_english(context, folders, built,
                               {"splits": ", ".join(config.splits)})


translated_coco_captions = translated_asset(
    "coco_captions", ["label"], "COCO caption records of each language: the captions (labels) translated from English.",
    code_version="2")


@translated_dg_asset(code_version="2", check_specs=[gate_spec("caption_instructions", instructions=True)])
def caption_instructions(context: dg.AssetExecutionContext, translator: NLLBTranslator, mix: LanguageMix):
    """Caption instructions of each language: the English ones translated (outputs failing the
    gate — empty, unchanged, degenerate — dropped and counted) plus ones that name the language
    in English ("Briefly describe the image in German.")."""
    run, parts = Run(context, translator, mix), {}
    for language in context.partition_keys:
        if language == SOURCE_LANGUAGE:
            rows = [("english", text, text) for text in CAPTION_INSTRUCTIONS]
        else:
            texts, flags = run.translate(CAPTION_INSTRUCTIONS, language, "caption instructions")
            rows = [("translated", text, source) for source, text, flag in zip(CAPTION_INSTRUCTIONS, texts, flags)
                    if not flag]
            named = name_language(CAPTION_INSTRUCTIONS_NAMING_LANGUAGE, mix.table[language].display_name)
            rows += [("names language", text, text) for text in named]
        part = pd.DataFrame(rows, columns=["origin", "instruction", "source"]).assign(language=language)
        parts[language] = part
        run.add_partition_metadata(language, part, **{
            "kept translations": int((part["origin"] == "translated").sum()),
            "dropped translations": counts_metadata(Counter(flag for flag in flags if flag))}
            if language != SOURCE_LANGUAGE else {})
    yield dg.Output(parts)
    yield run.gate_result(advisory=True)


@dg.asset(name="coco_captions", code_version="1", **TRAIN,
          ins={"translated": dg.AssetIn(key=["translated", "coco_captions"]),
               "instructions": dg.AssetIn(key=["translated", "caption_instructions"]),
               "english": dg.AssetIn(key=["english", "coco_captions"])},
          check_specs=train_specs("coco_captions"))
def train_coco_captions(context: dg.AssetExecutionContext, folders: DataFolders, mix: LanguageMix,
                        translated: pd.DataFrame, instructions: pd.DataFrame, english: pd.DataFrame):
    """The multilingual COCO caption training file: every language's captions, each non-English
    record with the next instruction of its language's list (English keeps its seeded instruction);
    records whose translation was dropped by the gate are left out and counted.
    Exported to `exports/train/coco_captions.json`."""
    frame, dropped = usable_translations(translated, ["label"])
    others = frame["language"] != SOURCE_LANGUAGE
    frame.loc[others, "context"] = rotate(frame[others], instructions)
    yield from publish(context, folders, "coco_captions", frame,
                       translated=translated, n_english=len(english), mix=mix, source=("coco", coco.KARPATHY_FILE),
                       metadata={"dropped translations": counts_metadata(dropped)})

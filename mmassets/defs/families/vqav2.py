"""VQAv2 training data, raw to train: questions joined with annotations on ``question_id`` →
English VQA and question-generation (VQG) records → questions and short answers translated per
language → `exports/train/vqav2_vqa.json` and `vqav2_vqg.json`."""

from collections import Counter

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs.common.english import english_asset
from mmassets.defs.common.metadata import counts_metadata
from mmassets.defs.common.raw import raw_output
from mmassets.defs.common.resources import DataFolders, LanguageMix
from mmassets.defs.common.sources import source_key
from mmassets.defs.common.train import TRAIN, publish, train_specs
from mmassets.defs.common.translated import translated_asset
from mmassets.languages import SOURCE_LANGUAGE
from mmassets.seeding import derive_seed
from mmassets.sources import vqav2
from mmassets.tasks.vqa import localize_vqa, vqa_records, vqg_records

SUBSET = "train2014"


@dg.asset(name="vqav2_train", key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1",
          deps=[source_key("vqav2")])
def raw_vqav2_train(context: dg.AssetExecutionContext, folders: DataFolders):
    """VQAv2 train2014: each question joined with its annotation on `question_id` (never by list
    position); questions or annotations without a partner, and pairs whose image differs, are left
    out and counted."""
    questions_path, annotations_path = (folders.raw / vqav2.questions_file(SUBSET),
                                        folders.raw / vqav2.annotations_file(SUBSET))
    questions, annotations = vqav2.read_questions(questions_path), vqav2.read_annotations(annotations_path)
    joined, unmatched = vqav2.join_questions_annotations(questions, annotations)
    if sum(unmatched.values()):
        context.log.warning(f"VQAv2 {SUBSET}: left out {unmatched}")
    yield raw_output(joined, questions_path, annotations_path, **{
        "questions": len(questions), "annotations": len(annotations), "unmatched": counts_metadata(unmatched),
        "answer types": counts_metadata(joined["answer_type"].fillna("(none)").value_counts().to_dict())})


english_vqa = english_asset("vqav2_vqa", ["raw", "vqav2_train"], lambda joined, _, seed: vqa_records(joined, seed), (
    "VQAv2 VQA records: context = the question in a seeded short-answer instruction naming the answer "
    "language, label = the `multiple_choice_answer`, image_id = `COCO_train2014_%012d.jpg`."))
english_vqg = english_asset("vqav2_vqg", ["raw", "vqav2_train"], lambda joined, _, seed: vqg_records(joined, seed), (
    "VQAv2 question-generation records: context = an instruction to write a question whose answer is "
    "the given answer, label = the question."))
translated_vqa, translated_vqg = (translated_asset(name, ["question", "answer"], (
    f"`english/{name}` records of each language (an assignment independent of the other VQAv2 task): the "
    "question and the short answer translated (each distinct answer once per language, through the "
    "translation memory).")) for name in ("vqav2_vqa", "vqav2_vqg"))


class LocalizeConfig(dg.Config):
    translated_answer_probability: float = Field(default=0.5, ge=0.0, le=1.0, description=(
        "share of translated records that ask for and use the translated answer; the others ask for "
        "an English answer and keep the English one"))


def _train(name: str, task: str):
    @dg.asset(name=name, code_version="1", check_specs=train_specs(name), description=(
                  f"The multilingual VQAv2 {task.upper()} training file, `exports/train/{name}.json`: each "
                  "translated record asks for the translated answer with the configured probability, "
                  "else for an English answer (answers whose translation equals the source stay English); "
                  "records whose question translation was dropped are left out and counted."),
              ins={"translated": dg.AssetIn(key=["translated", name]), "english": dg.AssetIn(key=["english", name])},
              **TRAIN)
    def _asset(context: dg.AssetExecutionContext, config: LocalizeConfig, folders: DataFolders, mix: LanguageMix,
               translated: pd.DataFrame, english: pd.DataFrame):
        ordered = translated.sort_values("source_index", kind="stable").reset_index(drop=True)
        parts, counts = [], Counter()
        for language, part in ordered.groupby("language", sort=False):
            if language == SOURCE_LANGUAGE:
                parts.append(part)
                continue
            localized, n = localize_vqa(part, mix.table[language].display_name, config.translated_answer_probability,
                                        derive_seed(mix.seed, name, "answers", language), task=task)
            parts.append(localized)
            counts.update(n)
        frame = pd.concat(parts).sort_values("source_index", kind="stable").reset_index(drop=True)
        yield from publish(context, folders, name, frame,
                           translated=translated, n_english=len(english), mix=mix, source=("vqav2", vqav2.questions_file("train2014")),
                           metadata={"answers": counts_metadata(counts),
                                     "translated answer probability": config.translated_answer_probability})

    return _asset


train_vqa, train_vqg = _train("vqav2_vqa", "vqa"), _train("vqav2_vqg", "vqg")

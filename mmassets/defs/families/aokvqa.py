"""A-OKVQA reasoning data, raw to train (English only): each rationale of a training question
becomes an explanation record and a chain-of-thought record → `exports/train/aokvqa_explain.json`
and `aokvqa_cot.json`. What is not made is counted by reason (`reasoning.SKIP_REASONS`: image absent,
no correct choice, no rationales, blank rationale); questions that make no record at all (the test
split in the place of the train file, or no COCO image found) fail the task with the reason."""

from collections import Counter

import dagster as dg
import pandas as pd

from mmassets.defs.common.english import english_asset
from mmassets.defs.common.metadata import counts_metadata
from mmassets.defs.common.raw import raw_output
from mmassets.defs.common.resources import DataFolders
from mmassets.defs.common.sources import source_key
from mmassets.defs.common.train import TRAIN, publish, train_specs
from mmassets.sources import aokvqa, coco
from mmassets.tasks.reasoning import cot_records, explain_records, no_records_reason


@dg.asset(name="aokvqa", key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1",
          deps=[source_key("aokvqa")])
def raw_aokvqa(context: dg.AssetExecutionContext, folders: DataFolders):
    """A-OKVQA train questions (`aokvqa/aokvqa_v1p0_train.json`): question, choices, the correct
    choice, direct answers and rationales, with its COCO image id."""
    path = folders.raw / aokvqa.TRAIN_FILE
    questions = aokvqa.read_aokvqa(path)
    yield raw_output(questions, path, rationales=int(questions["rationales"].map(len).sum()),
                     **{"questions by split": counts_metadata(Counter(questions["split"]))})


def _coco_images(name: str, build):
    """``build(questions, image_name, seed)`` with image names found under the raw root; questions
    that give no record at all fail ``english/<name>`` with the reason and the skips."""
    def built(questions, folders, seed):
        records = build(questions, lambda cocoid: coco.find_image(folders.raw, cocoid), seed)
        reason = no_records_reason(questions, records)
        if reason is not None:
            raise dg.Failure(description=f"english/{name}: {reason}", allow_retries=False,
                             metadata={"skipped": counts_metadata(records.skipped)})
        return records

    return built


english_explain = english_asset("aokvqa_explain", ["raw", "aokvqa"], _coco_images("aokvqa_explain", explain_records), (
    "A-OKVQA explanation records, one per rationale: context = the question, its correct answer and a "
    "request to explain; label = the rationale."))
english_cot = english_asset("aokvqa_cot", ["raw", "aokvqa"], _coco_images("aokvqa_cot", cot_records), (
    "A-OKVQA chain-of-thought records, one per rationale: context = an instruction to reason about the "
    "question; label = the rationale followed by the answer, in one of several phrasings."))


def _train(name: str):
    @dg.asset(name=name, code_version="1", ins={"english": dg.AssetIn(key=["english", name])},
              check_specs=train_specs(name, translated=False),
              description=f"`english/{name}` as a training file (English only): `exports/train/{name}.json`.",
              **TRAIN)
    def _asset(context: dg.AssetExecutionContext, folders: DataFolders, english: pd.DataFrame):
        yield from publish(context, folders, name, english,
                           source=("aokvqa", aokvqa.TRAIN_FILE))

    return _asset


train_explain, train_cot = _train("aokvqa_explain"), _train("aokvqa_cot")

"""Sample VQAv2 val2014 and train2014: ``vqav2/v2_OpenEnded_mscoco_<subset>_questions.json`` and
``vqav2/v2_mscoco_<subset>_annotations.json`` in the official format, plus their COCO JPEGs.

The images are this generator's own, written under ``coco/<subset>/``: val ids lie in ``ID_RANGE``
(the POPE sample uses ids below 50000, the COCO sample ids from 100000 to 600000), train ids in
``TRAIN_ID_RANGE``. Question ids follow VQAv2's ``image_id * 1000 + n``; each question has ten answers.
The train annotations are written in a shuffled order (upstream files promise no alignment with the
questions), and one train question repeating an earlier image's question keeps its best answer in
another case and with a trailing space ("Umbrella " beside "umbrella"), as raw answer text varies.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from mmassets.sample.images import write_jpeg

ID_RANGE = range(50000, 100000)
IMAGES = 4
TRAIN_ID_RANGE = range(600000, 650000)
TRAIN_IMAGES = 6
QUESTIONS_PER_IMAGE = 3
IMAGE_SIZE = (48, 36)

#: ``(question, question_type, answer_type, candidate answers with weights)``.
_QUESTIONS: tuple[tuple[str, str, str, tuple[tuple[str, int], ...]], ...] = (
    ("What color is the bus?", "what color is the", "other", (("red", 6), ("red and white", 2), ("orange", 1))),
    ("Is the man wearing a hat?", "is the man", "yes/no", (("yes", 8), ("no", 2))),
    ("How many dogs are in the picture?", "how many", "number", (("2", 7), ("3", 2), ("1", 1))),
    ("What is the woman holding?", "what is the woman", "other", (("umbrella", 6), ("phone", 2), ("bag", 1))),
    ("Is it raining?", "is it", "yes/no", (("no", 9), ("yes", 1))),
    ("Where is the cat sitting?", "where is the", "other", (("on couch", 5), ("couch", 3), ("sofa", 2))),
    ("What sport is being played?", "what sport is", "other", (("tennis", 9), ("tennis ", 1))),
    ("Are there any people in the photo?", "are there any", "yes/no", (("yes", 7), ("no", 3))),
    ("What time of day is it?", "what time", "other", (("afternoon", 4), ("morning", 3), ("daytime", 3))),
    ("How many people are sitting on the bench?", "how many people are", "number", (("2", 6), ("two", 2), ("3", 2))),
)
_INFO = {"description": "This is v2.0 of the VQA dataset.", "url": "http://visualqa.org", "version": "2.0",
         "year": 2017, "contributor": "VQA Team", "date_created": "2017-04-26 17:07:13"}
_LICENSE = {"url": "http://creativecommons.org/licenses/by/4.0/",
            "name": "Creative Commons Attribution 4.0 International License"}


def _answers(candidates: tuple[tuple[str, int], ...], rng: random.Random) -> list[dict[str, Any]]:
    words, weights = zip(*candidates)
    chosen = rng.choices(words, weights=weights, k=10)
    return [{"answer": answer, "answer_confidence": rng.choices(("yes", "maybe", "no"), (8, 2, 1))[0],
             "answer_id": n} for n, answer in enumerate(chosen, start=1)]


def write_vqav2(raw_dir: Path, seed: int = 0) -> None:
    """Write the VQAv2 val2014 and train2014 question and annotation files and the JPEGs of their images."""
    raw_dir = Path(raw_dir)
    rng = random.Random(f"vqav2-{seed}")
    questions, annotations = _questions_and_annotations(raw_dir, "val2014", rng, ID_RANGE, IMAGES, seed)
    _dump_subset(raw_dir, "val2014", questions, annotations)
    train_rng = random.Random(f"vqav2-train-{seed}")
    questions, annotations = _questions_and_annotations(raw_dir, "train2014", train_rng, TRAIN_ID_RANGE,
                                                        TRAIN_IMAGES, seed)
    _vary_one_answer(questions, annotations)
    train_rng.shuffle(annotations)
    _dump_subset(raw_dir, "train2014", questions, annotations)


def _questions_and_annotations(raw_dir: Path, subset: str, rng: random.Random, ids: range, images: int,
                               seed: int) -> tuple[list[dict], list[dict]]:
    """``images`` images of ``subset`` with their JPEGs, each with ``QUESTIONS_PER_IMAGE`` questions;
    annotations aligned with the questions."""
    questions, annotations = [], []
    for image_id in sorted(rng.sample(ids, images)):
        for n, (question, question_type, answer_type, candidates) in enumerate(
                rng.sample(_QUESTIONS, QUESTIONS_PER_IMAGE)):
            question_id = image_id * 1000 + n
            answers = _answers(candidates, rng)
            best = Counter(a["answer"] for a in answers).most_common(1)[0][0]
            questions.append({"image_id": image_id, "question": question, "question_id": question_id})
            annotations.append({"question_type": question_type, "multiple_choice_answer": best.strip(),
                                "answers": answers, "image_id": image_id, "answer_type": answer_type,
                                "question_id": question_id})
        write_jpeg(raw_dir / "coco" / subset / f"COCO_{subset}_{image_id:012d}.jpg", seed * 1_000_003 + image_id,
                   size=IMAGE_SIZE)
    return questions, annotations


def _vary_one_answer(questions: list[dict], annotations: list[dict]) -> None:
    """Capitalise and pad the best answer of the first question asked again on a later image (one
    always is: there are more questions than question texts)."""
    asked = set()
    for question, annotation in zip(questions, annotations):
        if question["question"] in asked:
            annotation["multiple_choice_answer"] = annotation["multiple_choice_answer"].capitalize() + " "
            return
        asked.add(question["question"])


def _dump_subset(raw_dir: Path, subset: str, questions: list[dict], annotations: list[dict]) -> None:
    folder = raw_dir / "vqav2"
    folder.mkdir(parents=True, exist_ok=True)
    _dump(folder / f"v2_OpenEnded_mscoco_{subset}_questions.json",
          {"info": _INFO, "task_type": "Open-Ended", "data_type": "mscoco", "license": _LICENSE,
           "data_subtype": subset, "questions": questions})
    _dump(folder / f"v2_mscoco_{subset}_annotations.json",
          {"info": _INFO, "license": _LICENSE, "data_subtype": subset, "annotations": annotations,
           "data_type": "mscoco"})


def _dump(path: Path, data: dict) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(data, f, ensure_ascii=False)

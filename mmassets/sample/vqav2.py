"""Sample VQAv2 val: ``vqav2/v2_OpenEnded_mscoco_val2014_questions.json`` and
``vqav2/v2_mscoco_val2014_annotations.json`` in the official format, plus their COCO val2014 JPEGs.

The images are this generator's own, with COCO ids in ``ID_RANGE`` (the POPE sample uses ids below
50000, the COCO sample ids from 100000 up), written under ``coco/val2014/``. Question ids follow
VQAv2's ``image_id * 1000 + n``; each question has ten answers.
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
    """Write the VQAv2 val2014 question and annotation files and the JPEGs of their images."""
    rng = random.Random(f"vqav2-{seed}")
    raw_dir = Path(raw_dir)
    questions, annotations = [], []
    for image_id in sorted(rng.sample(ID_RANGE, IMAGES)):
        for n, (question, question_type, answer_type, candidates) in enumerate(
                rng.sample(_QUESTIONS, QUESTIONS_PER_IMAGE)):
            question_id = image_id * 1000 + n
            answers = _answers(candidates, rng)
            best = Counter(a["answer"] for a in answers).most_common(1)[0][0]
            questions.append({"image_id": image_id, "question": question, "question_id": question_id})
            annotations.append({"question_type": question_type, "multiple_choice_answer": best.strip(),
                                "answers": answers, "image_id": image_id, "answer_type": answer_type,
                                "question_id": question_id})
        write_jpeg(raw_dir / "coco" / "val2014" / f"COCO_val2014_{image_id:012d}.jpg", seed * 1_000_003 + image_id,
                   size=IMAGE_SIZE)
    folder = raw_dir / "vqav2"
    folder.mkdir(parents=True, exist_ok=True)
    _dump(folder / "v2_OpenEnded_mscoco_val2014_questions.json",
          {"info": _INFO, "task_type": "Open-Ended", "data_type": "mscoco", "license": _LICENSE,
           "data_subtype": "val2014", "questions": questions})
    _dump(folder / "v2_mscoco_val2014_annotations.json",
          {"info": _INFO, "license": _LICENSE, "data_subtype": "val2014", "annotations": annotations,
           "data_type": "mscoco"})


def _dump(path: Path, data: dict) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(data, f, ensure_ascii=False)

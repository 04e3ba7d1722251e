"""Sample A-OKVQA: ``aokvqa/aokvqa_v1p0_train.json`` and ``aokvqa/aokvqa_v1p0_val.json`` in the official
format, plus COCO 2014 JPEGs of their images.

COCO ids come from ``ID_RANGE`` (other samples use lower ranges). Most images are written under
``coco/train2014/``, one under ``coco/val2014/`` (COCO 2017 train draws on both 2014 folders), and one
train question's image is written nowhere, so that builders meet an absent image.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from mmassets.sample.images import write_jpeg
from mmassets.sources.aokvqa import TRAIN_FILE, VAL_FILE
from mmassets.sources.coco import image_file_name

ID_RANGE = range(650000, 700000)
TRAIN_QUESTIONS = 6
VAL_QUESTIONS = 3
DIRECT_ANSWERS = 10
IMAGE_SIZE = (48, 36)
_QUESTION_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

#: ``(question, correct choice, wrong choices, direct answers with weights, rationales)``.
_QUESTIONS: tuple[tuple[str, str, tuple[str, str, str], tuple[tuple[str, int], ...], tuple[str, str, str]], ...] = (
    ("What is the woman with the suitcase waiting for?", "a taxi", ("a boat", "a pizza", "a skateboard"),
     (("taxi", 5), ("cab", 3), ("ride", 2)),
     ("She stands at the curb with her luggage and waves at passing cars, so she wants a taxi.",
      "Travellers with suitcases on a street corner usually wait for a taxi to pick them up.",
      "There is no water for a boat, and nobody waits on a curb with luggage for a pizza")),
    ("Why are the people holding umbrellas?", "rain", ("sun", "fashion", "wind"),
     (("rain", 7), ("raining", 2), ("wet", 1)),
     ("The ground is wet and the sky is grey, so it is raining.",
      "Umbrellas keep people dry when it rains.",
      "Everyone has an umbrella open and the street is shiny with water.")),
    ("What season is it most likely?", "winter", ("summer", "spring", "fall"),
     (("winter", 8), ("cold", 2)),
     ("There is snow on the ground and people wear heavy coats.",
      "Snow falls in winter, and the trees have no leaves.",
      "The skiers would need snow, which only stays in the winter ")),
    ("What will the dog most likely do next?", "catch the frisbee", ("sleep", "eat", "swim"),
     (("catch frisbee", 5), ("jump", 3), ("catch", 2)),
     ("The dog is leaping toward a flying frisbee, so it is about to catch it.",
      "Dogs chase frisbees that are thrown for them to catch.",
      "The frisbee is in the air right in front of the dog's mouth!")),
    ("What meal is being prepared on the counter?", "breakfast", ("dinner", "lunch", "dessert"),
     (("breakfast", 7), ("eggs", 2), ("brunch", 1)),
     ("There are eggs, toast and orange juice, which are eaten for breakfast.",
      "The clock on the wall shows it is early morning",
      "Pancakes and bacon are typical breakfast food.")),
    ("Why is the bus stopped here?", "to pick up passengers", ("it broke down", "traffic light", "parking"),
     (("pick up passengers", 5), ("bus stop", 4), ("passengers", 1)),
     ("People are lined up at the sign waiting to board the bus.",
      "The bus is next to a bus stop where riders get on.",
      "Its doors are open and a woman is stepping inside.")),
    ("What is the purpose of the orange cones?", "to warn drivers", ("decoration", "a game", "to sell"),
     (("safety", 5), ("warning", 3), ("construction", 2)),
     ("The cones surround a hole in the road to keep cars away from it.",
      "Workers put cones out so drivers know to be careful.",
      "Orange cones mark road work that drivers should avoid")),
    ("What sport is the girl practising?", "tennis", ("golf", "baseball", "soccer"),
     (("tennis", 9), ("tenis", 1)),
     ("She is holding a racket on a court with a net.",
      "The yellow ball and the racket are used in tennis.",
      "The court has white lines and a low net across the middle.")),
    ("Why does the giraffe stretch its neck?", "to eat leaves", ("to drink", "to sleep", "to run"),
     (("eat", 6), ("food", 2), ("reach leaves", 2)),
     ("The giraffe reaches up into the tree where the leaves are.",
      "Giraffes eat leaves from tall trees, so they stretch their necks.",
      "Its mouth is right next to the branches it is feeding on.")),
)


def _question_id(rng: random.Random) -> str:
    """A 22-character id like A-OKVQA's (a short UUID)."""
    return "".join(rng.choice(_QUESTION_ID_ALPHABET) for _ in range(22))


def _record(split: str, image_id: int, entry: tuple, rng: random.Random) -> dict[str, Any]:
    """One question in upstream field order, its four choices in seeded order."""
    question, correct, wrong, answers, rationales = entry
    choices = [correct, *wrong]
    rng.shuffle(choices)
    words, weights = zip(*answers)
    return {"split": split, "image_id": image_id, "question_id": _question_id(rng), "question": question,
            "choices": choices, "correct_choice_idx": choices.index(correct),
            "direct_answers": rng.choices(words, weights=weights, k=DIRECT_ANSWERS),
            "difficult_direct_answer": rng.random() < 0.2, "rationales": list(rationales)}


def write_aokvqa(raw_dir: Path, seed: int = 0) -> None:
    """Write the A-OKVQA train and val files and the JPEGs of their images (one train image left out)."""
    rng = random.Random(f"aokvqa-{seed}")
    raw_dir = Path(raw_dir)
    entries = rng.sample(_QUESTIONS, TRAIN_QUESTIONS + VAL_QUESTIONS)
    image_ids = rng.sample(ID_RANGE, len(entries))
    absent, in_val2014 = rng.sample(range(TRAIN_QUESTIONS), 2)
    splits = ["train"] * TRAIN_QUESTIONS + ["val"] * VAL_QUESTIONS
    records = [_record(split, image_id, entry, rng) for split, image_id, entry in zip(splits, image_ids, entries)]
    for n, image_id in enumerate(image_ids):
        if n != absent:
            folder = "val2014" if n == in_val2014 else "train2014"
            write_jpeg(raw_dir / "coco" / folder / image_file_name(image_id, folder), seed * 1_000_003 + image_id,
                       size=IMAGE_SIZE)
    _dump(raw_dir / TRAIN_FILE, records[:TRAIN_QUESTIONS])
    _dump(raw_dir / VAL_FILE, records[TRAIN_QUESTIONS:])


def _dump(path: Path, data: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(data, f, ensure_ascii=False)

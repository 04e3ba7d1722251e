"""ImageNet classification records in many languages, with Babel-ImageNet's class names (no machine
translation): which languages take part, which image each record shows, and two record kinds.

- Classification: "What is in the image? Answer briefly in German." → the class name in German.
- Yes/no decisions: "Does this image show a Goldfisch?" → "Yes, it does." (or a different class's
  name → "No, it does not.").

Images are planned as mBLIP does: rounds over the languages (largest mT5 share first) and, per
language, over the classes it names, each time taking the next not yet used image of the class.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from mmassets.records import TaskRecords
from mmassets.seeding import derive_seed
from mmassets.sources.imagenet import babel_code

CLASSIFY_TEMPLATES = (
    "What is the main focus of the image? Short {language} answer:",
    "What is in the image? Answer briefly in {language}.",
    "What is the central object in the image? Give a short {language} answer.",
    "Name the main thing of this photo in {language}:",
    "What does this picture show? Answer in a few {language} words.",
    "What is the main subject of this photo? Reply briefly in {language}.",
    "In {language}, name the object at the center of the image.",
    "Which object is this image about? Short answer in {language}:",
    "Tell me in a few {language} words what this photo shows.",
)
"""English instructions naming the answer language; the label is the class name in that language."""

DECIDE_TEMPLATES = (
    ("Does this image show a {name}?", "Yes, it does.", "No, it does not."),
    ("Is there a {name} in the picture?", "Yes, there is.", "No, there is not."),
    ("Can you see a {name} in the image?", "Yes, I can.", "No, I cannot."),
    ("Does the image contain a {name}?", "Yes, it does.", "No, it does not."),
    ("Is this a photo of a {name}?", "Yes, it is.", "No, it is not."),
    ("Yes or no: is there a {name} in the photo?", "Yes.", "No."),
    ("Does this picture have a {name} in it?", "Yes, it does.", "No, it does not."),
)
"""English ``(question with {name}, yes sentence, no sentence)`` triples for yes/no records."""

ENGLISH = "en"
PLAN_REASONS = ("reused images", "class without images")
DECIDE_REASONS = ("no negative class",)
CLASSIFY_COLUMNS = ("context", "label", "image_id", "language", "class_index")
DECIDE_COLUMNS = ("context", "label", "image_id", "language", "class_index", "asked_class_index", "answer")

#: ``(language code, class index, image id)``: one planned record.
PlanEntry = tuple[str, int, str]


def imagenet_languages(table: Sequence[tuple[str, float]], babel: Mapping[str, Mapping[int, str]],
                       english: Mapping[int, str]) -> tuple[list[tuple[str, dict[int, str]]], list[str]]:
    """The languages of the task with their class names, by descending mT5 share (ties in table
    order; zero shares left out), and the codes Babel-ImageNet has no entry for, in the same order.

    ``table`` holds ``(our code, mt5 share)`` rows. English takes every class's name from the class
    index (``english``); the others take Babel-ImageNet's names via ``babel_code``."""
    ranked = sorted((row for row in table if row[1] > 0), key=lambda row: -row[1])  # sort is stable
    languages, missing = [], []
    for code, _ in ranked:
        if code == ENGLISH:
            languages.append((code, dict(english)))
        elif babel_code(code) in babel:
            languages.append((code, dict(babel[babel_code(code)])))
        else:
            missing.append(code)
    return languages, missing


@dataclass(frozen=True)
class _Pass:
    """One pass over a class's images: its number (0 = first), shuffled order and next position."""

    number: int
    order: tuple[str, ...]
    position: int = 0


@dataclass(frozen=True)
class ImagePlanState:
    """Where ``plan_images`` stopped: per class index, the pass over its images in progress."""

    passes: Mapping[int, _Pass] = field(default_factory=dict)


def plan_images(languages: Sequence[tuple[str, Mapping[int, str]]], images: Mapping[int, Sequence[str]],
                rounds: int, seed: int, *, state: ImagePlanState | None = None
                ) -> tuple[list[PlanEntry], dict[str, int], ImagePlanState]:
    """The image of each record: for each round, each language in order and each class it names
    (ascending index), the next image of that class.

    A class's images are visited in a seeded shuffled order, so none is used twice while unused
    ones remain; when all are used a new pass in a fresh seeded order starts and its records count
    as "reused images". Classes without images are counted, not planned. Passing the returned state
    to a later call continues each class where this one stopped (passes that call starts use its
    seed). Returns the plan, the counts (every key of ``PLAN_REASONS``) and the state."""
    passes = dict(state.passes) if state else {}
    plan: list[PlanEntry] = []
    counts = dict.fromkeys(PLAN_REASONS, 0)
    for _ in range(rounds):
        for code, names in languages:
            for class_index in sorted(names):
                pool = images.get(class_index, ())
                if not pool:
                    counts["class without images"] += 1
                    continue
                current = passes.get(class_index)
                if current is None or current.position == len(current.order):
                    current = _new_pass(pool, class_index, 0 if current is None else current.number + 1, seed)
                plan.append((code, class_index, current.order[current.position]))
                counts["reused images"] += int(current.number > 0)
                passes[class_index] = _Pass(current.number, current.order, current.position + 1)
    return plan, counts, ImagePlanState(passes)


def _new_pass(pool: Sequence[str], class_index: int, number: int, seed: int) -> _Pass:
    """Pass ``number`` over a class's images in an order that depends only on seed, class and number."""
    order = sorted(set(pool))
    random.Random(derive_seed(seed, "imagenet images", str(class_index), str(number))).shuffle(order)
    return _Pass(number, tuple(order))


def classify_records(plan: Sequence[PlanEntry], languages: Sequence[tuple[str, Mapping[int, str]]],
                     language_names: Mapping[str, str], seed: int,
                     templates: Sequence[str] = CLASSIFY_TEMPLATES) -> TaskRecords:
    """One classification record per plan entry, in plan order: context = a seeded template naming
    the language in English (``language_names[code]``, e.g. "German"), label = the class name in
    that language, image_id = the planned image; extra columns language and class_index. Nothing
    is skipped here (the plan's counts say what was left out)."""
    names = dict(languages)
    _check_names(plan, language_names)
    rng = random.Random(seed)
    rows = [(rng.choice(templates).format(language=language_names[code]), names[code][class_index], image_id,
             code, class_index) for code, class_index, image_id in plan]
    return TaskRecords(_frame(rows, CLASSIFY_COLUMNS), {})


def _check_names(plan: Sequence[PlanEntry], language_names: Mapping[str, str]) -> None:
    missing = sorted({code for code, _, _ in plan} - set(language_names))
    if missing:
        raise ValueError(f"no English names for languages {missing}")


def decide_records(plan: Sequence[PlanEntry], languages: Sequence[tuple[str, Mapping[int, str]]], seed: int,
                   positive_share: float = 0.5,
                   templates: Sequence[tuple[str, str, str]] = DECIDE_TEMPLATES) -> TaskRecords:
    """One yes/no record per plan entry, in plan order. The questions and answers are English and
    only the class names are in the record's language: that is mBLIP's design.

    Seeded per entry: a template, then with probability ``positive_share`` a positive (the true
    class's name, the yes sentence), else a negative (the no sentence) asking for another class the
    language names: never the true class nor one whose name equals the true name ignoring case; a
    coin flip picks a uniformly random allowed class or the next allowed class after the true one in
    the language's list (ascending index, wrapping). A language with no allowed class for a negative
    gets the positive instead, counted as "no negative class". Extra columns: language, class_index,
    asked_class_index, answer ("yes"/"no")."""
    if not 0 <= positive_share <= 1:
        raise ValueError(f"positive_share must be between 0 and 1, got {positive_share}")
    choosers = {code: _NegativeChooser(names) for code, names in languages}
    rng = random.Random(seed)
    counts = dict.fromkeys(DECIDE_REASONS, 0)
    rows = []
    for code, class_index, image_id in plan:
        question, yes, no = rng.choice(templates)
        asked = class_index
        if rng.random() >= positive_share:
            negative = choosers[code].negative(class_index, rng)
            if negative is None:
                counts["no negative class"] += 1
            else:
                asked = negative
        label, answer = (yes, "yes") if asked == class_index else (no, "no")
        rows.append((question.format(name=choosers[code].names[asked]), label, image_id, code, class_index, asked,
                     answer))
    return TaskRecords(_frame(rows, DECIDE_COLUMNS), counts)


class _NegativeChooser:
    """A language's classes in list order, and the choice of a class to ask about that is not there."""

    def __init__(self, names: Mapping[int, str]):
        self.names = dict(names)
        self.order = sorted(self.names)
        self.position = {class_index: i for i, class_index in enumerate(self.order)}
        self.keys = {class_index: name.casefold() for class_index, name in self.names.items()}
        self.distinct = len(set(self.keys.values()))

    def negative(self, true_class: int, rng: random.Random) -> int | None:
        """A class whose name differs from the true class's (ignoring case), or None if there is none:
        by a coin flip uniformly random among them, or the next one after the true class."""
        if self.distinct < 2:
            return None
        key = self.keys[true_class]
        if rng.random() < 0.5:
            while True:  # uniform over the allowed classes; one exists, so this ends
                candidate = rng.choice(self.order)
                if self.keys[candidate] != key:
                    return candidate
        start, count = self.position[true_class], len(self.order)
        following = (self.order[(start + step) % count] for step in range(1, count))
        return next(candidate for candidate in following if self.keys[candidate] != key)


def _frame(rows: list[tuple], columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns), dtype=object)
    for column in ("class_index", "asked_class_index"):
        if column in frame.columns:
            frame[column] = frame[column].astype("int64")
    return frame

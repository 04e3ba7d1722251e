"""Question-answer records from LLaVA-Instruct dialogues: short conversation turns and detailed
descriptions."""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from mmassets.records import TaskRecords
from mmassets.sources.llava import IMAGE_TOKEN, cocoid_of

CONVERSATION_SKIP_REASONS = ("answer too long", "image absent", "unpaired turn", "blank turn")
DETAIL_SKIP_REASONS = ("image absent", "unpaired turn", "blank turn")
EXTRA_COLUMNS = ("source_id", "turn")

_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w")
#: A run of sentence-final punctuation and the closing quotes or brackets after it: Latin . ! ? only
#: before whitespace or the end (so "3.5" and "a.m" do not end anything), CJK 。！？ anywhere.
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)|[。！？]+[\"'”’)\]」』]*")
_NEXT_CHARACTER = re.compile(r"\s*(\S?)")


def count_sentences(text: str) -> int:
    """How many sentences ``text`` has, by punctuation.

    A sentence ends at . ! or ? (repeated, and followed by closing quotes or brackets, counts once)
    followed by whitespace or the end of the text, unless the next word starts with a lower-case letter
    ("e.g. a dog", "Wait... what" do not split); a CJK 。！？ always ends one. Text after the last end
    is a sentence too, so missing final punctuation still counts; pieces without a letter or digit
    (blank text, stray punctuation) do not count. "Dr. Smith" is counted as two: an accepted
    simplification.
    """
    count, start = 0, 0
    for end in _SENTENCE_END.finditer(text):
        following = _NEXT_CHARACTER.match(text, end.end()).group(1)
        if end.group()[0] in ".!?" and following.islower():
            continue
        count += bool(_WORD.search(text, start, end.end()))
        start = end.end()
    return count + bool(_WORD.search(text, start))


def clean_human_turn(text: str) -> str:
    """A human turn without its ``<image>`` marker, newlines and runs of whitespace made single
    spaces, stripped."""
    return _SPACES.sub(" ", text.replace(IMAGE_TOKEN, " ")).strip()


def _pairs(speakers: list[str], values: list[str]) -> list[tuple[str, str]]:
    """Each human turn directly followed by a gpt turn, as ``(human, gpt)`` in dialogue order; the
    other turns are unpaired."""
    pairs, i = [], 0
    while i < len(speakers):
        if speakers[i] == "human" and i + 1 < len(speakers) and speakers[i + 1] == "gpt":
            pairs.append((values[i], values[i + 1]))
            i += 2
        else:
            i += 1
    return pairs


def _image(image: str, image_name: Callable[[int], str | None]) -> str | None:
    """The file name of a dialogue's image, None when its COCO id is unreadable or the file is absent."""
    cocoid = cocoid_of(image)
    return None if cocoid is None else image_name(cocoid)


def _frame(rows: list[tuple[str, str, str, str, int]], skipped: dict[str, int]) -> TaskRecords:
    columns = ["context", "label", "image_id", *EXTRA_COLUMNS]
    return TaskRecords(pd.DataFrame(rows, columns=columns, dtype=object), skipped)


def conversation_records(dialogues: pd.DataFrame, image_name: Callable[[int], str | None],
                         max_sentences: int = 3) -> TaskRecords:
    """One record per human turn directly followed by a gpt turn, in dialogue and turn order: context =
    ``clean_human_turn(human)``, label = the gpt turn stripped, image_id = ``image_name`` of the COCO
    id in the dialogue's image name, source_id = the dialogue's id, turn = the pair's index in its
    dialogue (counting pairs that were skipped).

    ``dialogues`` is ``read_llava``'s frame. Skipped: "unpaired turn", once per turn that is in no
    human→gpt pair; and once per pair, by the first reason that applies, "image absent", "blank turn"
    (either side empty after cleaning), "answer too long" (more than ``max_sentences`` sentences by
    ``count_sentences``).
    """
    skipped = dict.fromkeys(CONVERSATION_SKIP_REASONS, 0)
    rows = []
    for source_id, image, speakers, values in zip(dialogues["id"], dialogues["image"], dialogues["speakers"],
                                                  dialogues["values"]):
        image_id = _image(image, image_name)
        pairs = _pairs(list(speakers), list(values))
        skipped["unpaired turn"] += len(speakers) - 2 * len(pairs)
        for turn, (human, gpt) in enumerate(pairs):
            context, label = clean_human_turn(human), gpt.strip()
            if image_id is None:
                skipped["image absent"] += 1
            elif not context or not label:
                skipped["blank turn"] += 1
            elif count_sentences(label) > max_sentences:
                skipped["answer too long"] += 1
            else:
                rows.append((context, label, image_id, source_id, turn))
    return _frame(rows, skipped)


def detail_records(dialogues: pd.DataFrame, image_name: Callable[[int], str | None]) -> TaskRecords:
    """One record per dialogue from its first human→gpt pair, the description kept whole: columns and
    cleaning as in ``conversation_records`` (turn is always 0).

    Skipped, one per dialogue: "unpaired turn" (no human→gpt pair at all), "image absent", "blank turn".
    Turns after the first pair are ignored.
    """
    skipped = dict.fromkeys(DETAIL_SKIP_REASONS, 0)
    rows = []
    for source_id, image, speakers, values in zip(dialogues["id"], dialogues["image"], dialogues["speakers"],
                                                  dialogues["values"]):
        pairs = _pairs(list(speakers), list(values))
        if not pairs:
            skipped["unpaired turn"] += 1
            continue
        context, label = clean_human_turn(pairs[0][0]), pairs[0][1].strip()
        image_id = _image(image, image_name)
        if image_id is None:
            skipped["image absent"] += 1
        elif not context or not label:
            skipped["blank turn"] += 1
        else:
            rows.append((context, label, image_id, source_id, 0))
    return _frame(rows, skipped)

"""Tests for the LLaVA-Instruct records: sentence counting, turn cleaning, conversation and detail records."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mmassets.sample.llava import LONG_ANSWERS, write_llava
from mmassets.sources.coco import find_image
from mmassets.sources.llava import COLUMNS, CONVERSATION_FILE, DETAIL_FILE, read_llava
from mmassets.tasks.conversations import clean_human_turn, conversation_records, count_sentences, detail_records

CONVERSATION_REASONS = {"answer too long": 0, "image absent": 0, "unpaired turn": 0, "blank turn": 0}
DETAIL_REASONS = {"image absent": 0, "unpaired turn": 0, "blank turn": 0}
RECORD_COLUMNS = ["context", "label", "image_id", "source_id", "turn"]
IMAGES = {42: "COCO_train2014_000000000042.jpg", 7: "COCO_val2014_000000000007.jpg"}


@pytest.mark.parametrize("text, count", [
    ("", 0),
    ("   \n", 0),
    ("...", 0),
    ("A dog", 1),
    ("A dog.", 1),
    ("A dog.   ", 1),
    ("A dog. A cat", 2),
    ("A dog. A cat.\n", 2),
    ("It costs 3.5 dollars. It is cheap.", 2),
    ("Version 2.0.1 is out.", 1),
    ("Animals, e.g. dogs and cats, sleep a lot. They rest.", 2),
    ("Wait... what? Yes!", 2),
    ("Really?! Yes.", 2),
    ('He said "Stop." Then he left.', 2),
    ("One.\n\nTwo.\nThree", 3),
    ("猫在睡觉。狗在跑！", 2),
    ("猫在睡觉。狗在跑", 2),
    ("Dr. Smith is here.", 2),  # the documented simplification
])
def test_count_sentences(text: str, count: int) -> None:
    assert count_sentences(text) == count


@pytest.mark.parametrize("text, cleaned", [
    ("<image>\nWhat is this?", "What is this?"),
    ("What is this?\n<image>", "What is this?"),
    ("What is\n\nthis?  ", "What is this?"),
    ("Look<image>here", "Look here"),
    ("<image>", ""),
    ("", ""),
])
def test_clean_human_turn(text: str, cleaned: str) -> None:
    assert clean_human_turn(text) == cleaned


def _dialogues(*rows: tuple[str, str, list[tuple[str, str]]]) -> pd.DataFrame:
    """A read_llava-like frame from ``(id, image, [(speaker, value), ...])``."""
    full = [(dialogue_id, image, [s for s, _ in turns], [v for _, v in turns]) for dialogue_id, image, turns in rows]
    return pd.DataFrame(full, columns=list(COLUMNS), dtype=object)


@pytest.fixture
def dialogues() -> pd.DataFrame:
    return _dialogues(
        ("d1", "000000000042.jpg", [
            ("human", "<image>\nWhat is the dog doing?"), ("gpt", " The dog is running. \n"),
            ("human", "Why?"), ("gpt", "It chases a ball. It is happy. It plays. It barks."),
            ("human", "Where?"), ("gpt", "In a park. On the grass. Near a tree."),
            ("human", "And the owner?"),
        ]),
        ("d2", "COCO_val2014_000000000007.jpg", [
            ("gpt", "Hello."), ("human", "What color\nis it?\n<image>"), ("gpt", "Red."),
            ("human", "<image>"), ("gpt", "Blue."), ("human", "Size?"), ("gpt", "   "),
        ]),
        ("d3", "000000000099.jpg", [("human", "<image>\nWhat is here?"), ("gpt", "A cat.")]),
        ("d4", "photo.jpg", [("human", "<image>\nWhat is here?"), ("gpt", "A cat.")]),
        ("d5", "000000000042.jpg", [("human", "First?"), ("human", "<image>\nSecond?"), ("gpt", "Yes.")]),
    )


def test_conversation_records_exact(dialogues: pd.DataFrame) -> None:
    result = conversation_records(dialogues, IMAGES.get)
    assert list(result.frame.columns) == RECORD_COLUMNS
    assert list(result.frame.itertuples(index=False, name=None)) == [
        ("What is the dog doing?", "The dog is running.", IMAGES[42], "d1", 0),
        ("Where?", "In a park. On the grass. Near a tree.", IMAGES[42], "d1", 2),
        ("What color is it?", "Red.", IMAGES[7], "d2", 0),
        ("Second?", "Yes.", IMAGES[42], "d5", 0),
    ]
    # unpaired: d1's last question, d2's leading gpt turn, d5's first question; blank: d2's "<image>" and "   "
    # turns; absent: d3 (no such image), d4 (no COCO id)
    assert result.skipped == {"answer too long": 1, "image absent": 2, "unpaired turn": 3, "blank turn": 2}


@pytest.mark.parametrize("max_sentences, kept, too_long", [(1, 1, 5), (3, 4, 2), (4, 5, 1), (5, 6, 0)])
def test_sentence_limit(max_sentences: int, kept: int, too_long: int) -> None:
    answers = ["One.", "One. Two.", "One. Two. Three.", "It is 3.5 m tall. Two. Three.", "1. 2. 3. 4.", "A! B? C. D. E"]
    dialogues = _dialogues(("d", "000000000042.jpg", [t for a in answers for t in (("human", "Q?"), ("gpt", a))]))
    result = conversation_records(dialogues, IMAGES.get, max_sentences=max_sentences)
    assert len(result.frame) == kept
    assert result.skipped == {**CONVERSATION_REASONS, "answer too long": too_long}
    assert result.frame["label"].tolist() == [a for a in answers if count_sentences(a) <= max_sentences]
    assert result.frame["turn"].tolist() == [i for i, a in enumerate(answers) if count_sentences(a) <= max_sentences]


def test_detail_records_exact(dialogues: pd.DataFrame) -> None:
    long = "The dog runs. It chases a ball.\n\nA tree stands nearby. The sky is blue. It is sunny."
    more = _dialogues(
        ("d6", "000000000007.jpg", [("human", "Describe the image.\n<image>"), ("gpt", long + "\n")]),
        ("d7", "000000000042.jpg", [("gpt", "Unprompted.")]),
        ("d8", "000000000042.jpg", [("human", "<image>\nDescribe it."), ("gpt", "")]),
    )
    result = detail_records(pd.concat([dialogues, more], ignore_index=True), IMAGES.get)
    assert list(result.frame.columns) == RECORD_COLUMNS
    assert list(result.frame.itertuples(index=False, name=None)) == [
        ("What is the dog doing?", "The dog is running.", IMAGES[42], "d1", 0),
        ("What color is it?", "Red.", IMAGES[7], "d2", 0),
        ("Second?", "Yes.", IMAGES[42], "d5", 0),
        ("Describe the image.", long, IMAGES[7], "d6", 0),
    ]
    assert result.skipped == {"image absent": 2, "unpaired turn": 1, "blank turn": 1}


def test_empty_input() -> None:
    empty = _dialogues()
    assert list(conversation_records(empty, IMAGES.get).frame.columns) == RECORD_COLUMNS
    assert conversation_records(empty, IMAGES.get).skipped == CONVERSATION_REASONS
    assert detail_records(empty, IMAGES.get).frame.empty
    assert detail_records(empty, IMAGES.get).skipped == DETAIL_REASONS


def test_deterministic(dialogues: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(conversation_records(dialogues, IMAGES.get).frame,
                                  conversation_records(dialogues, IMAGES.get).frame)
    pd.testing.assert_frame_equal(detail_records(dialogues, IMAGES.get).frame,
                                  detail_records(dialogues, IMAGES.get).frame)


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_llava(raw, seed=0)
    return raw


def test_conversations_on_the_sample(sample_raw: Path) -> None:
    dialogues = read_llava(sample_raw / CONVERSATION_FILE)
    answers = [v for values in dialogues["values"] for v in values[1::2]]
    assert sum(count_sentences(a) > 3 for a in answers) == LONG_ANSWERS
    assert sum(count_sentences(a) == 3 for a in answers) == 1
    result = conversation_records(dialogues, lambda i: find_image(sample_raw, i))
    assert result.skipped == {**CONVERSATION_REASONS, "answer too long": LONG_ANSWERS}
    assert len(result.frame) == len(answers) - LONG_ANSWERS
    assert set(result.frame["source_id"]) == set(dialogues["id"])
    assert not any("<image>" in c or "\n" in c for c in result.frame["context"])
    assert all((sample_raw / "coco" / "train2014" / name).is_file() for name in result.frame["image_id"])


def test_details_on_the_sample(sample_raw: Path) -> None:
    dialogues = read_llava(sample_raw / DETAIL_FILE)
    result = detail_records(dialogues, lambda i: find_image(sample_raw, i))
    assert result.skipped == DETAIL_REASONS
    assert result.frame["source_id"].tolist() == dialogues["id"].tolist()
    assert result.frame["label"].tolist() == [values[1].strip() for values in dialogues["values"]]
    assert all(count_sentences(label) > 1 for label in result.frame["label"])

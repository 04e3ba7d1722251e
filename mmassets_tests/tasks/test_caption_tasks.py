"""Tests for caption records and the instruction helpers."""

from __future__ import annotations


import pandas as pd
import pytest

from mmassets.sample.coco import write_coco
from mmassets.sources.coco import KARPATHY_FILE, read_karpathy
from mmassets.tasks.captions import (
    CAPTION_INSTRUCTIONS,
    CAPTION_INSTRUCTIONS_NAMING_LANGUAGE,
    caption_records,
    clean_caption,
)
from mmassets.tasks.instructions import choose, name_language, rotate

TRAIN_SPLITS = ("train", "restval")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    raw = tmp_path_factory.mktemp("raw")
    write_coco(raw, seed=0)
    return read_karpathy(raw / KARPATHY_FILE)


def test_one_record_per_train_caption(images: pd.DataFrame) -> None:
    result = caption_records(images, TRAIN_SPLITS, seed=0)
    frame = result.frame
    train = images[images["split"].isin(TRAIN_SPLITS)]
    assert list(frame.columns) == ["context", "label", "image_id"]
    assert len(frame) == sum(len(caps) for caps in train["captions"])
    assert result.skipped == {"blank caption": 0}
    # in file order: each image's captions, cleaned
    expected = [(" ".join(c.split()), name) for name, caps in zip(train["filename"], train["captions"]) for c in caps]
    assert list(zip(frame["label"], frame["image_id"])) == expected
    assert set(frame["image_id"]) == set(train["filename"])
    assert not set(frame["image_id"]) & set(images.loc[~images["split"].isin(TRAIN_SPLITS), "filename"])


def test_labels_are_clean(images: pd.DataFrame) -> None:
    raw = [c for caps in images["captions"] for c in caps]
    assert any("  " in c or c != c.strip() for c in raw)  # the sample has quirks to clean
    labels = caption_records(images, TRAIN_SPLITS, seed=0).frame["label"]
    for label in labels:
        assert label == label.strip() and "  " not in label and "\n" not in label and label


def test_contexts_are_seeded_choices(images: pd.DataFrame) -> None:
    first = caption_records(images, TRAIN_SPLITS, seed=1).frame["context"].tolist()
    assert set(first) <= set(CAPTION_INSTRUCTIONS)
    assert len(set(first)) >= 5
    assert caption_records(images, TRAIN_SPLITS, seed=1).frame["context"].tolist() == first
    assert caption_records(images, TRAIN_SPLITS, seed=2).frame["context"].tolist() != first
    assert first == choose(CAPTION_INSTRUCTIONS, len(first), 1)


def test_instruction_lists() -> None:
    assert len(CAPTION_INSTRUCTIONS) >= 5
    assert len(set(CAPTION_INSTRUCTIONS)) == len(CAPTION_INSTRUCTIONS)
    assert all("{language}" in t for t in CAPTION_INSTRUCTIONS_NAMING_LANGUAGE)
    assert not any("{" in t for t in CAPTION_INSTRUCTIONS)


def test_blank_captions_are_skipped_and_counted() -> None:
    images = pd.DataFrame({
        "split": ["train", "train", "val"],
        "filename": ["a.jpg", "b.jpg", "c.jpg"],
        "captions": [["A dog.", "  \n", ""], ["A  cat\n"], ["   "]],
    })
    result = caption_records(images, ["train"], seed=0)
    assert result.frame["label"].tolist() == ["A dog.", "A cat"]
    assert result.frame["image_id"].tolist() == ["a.jpg", "b.jpg"]
    assert result.skipped == {"blank caption": 2}  # the val blank is not in the chosen splits


def test_no_captions_gives_an_empty_frame() -> None:
    images = pd.DataFrame({"split": ["train"], "filename": ["a.jpg"], "captions": [[" "]]})
    result = caption_records(images, ["train"], seed=0)
    assert len(result.frame) == 0
    assert list(result.frame.columns) == ["context", "label", "image_id"]
    assert result.skipped == {"blank caption": 1}


def test_clean_caption() -> None:
    assert clean_caption("  A man\triding  a\nhorse. ") == "A man riding a horse."
    assert clean_caption(" \n ") == ""


def test_choose_needs_instructions() -> None:
    with pytest.raises(ValueError):
        choose([], 3, seed=0)


def test_rotate_cycles_per_language() -> None:
    records = pd.DataFrame({"language": ["de", "fr", "de", "de", "fr"]}, index=[10, 11, 12, 13, 14])
    instructions = pd.DataFrame({"language": ["de", "fr", "de"], "instruction": ["a", "x", "b"]})
    # de records are the 1st, 2nd, 3rd German records -> a, b, a (cycling over [a, b]);
    # fr records are the 1st and 2nd French -> x, x. In record order: a, x, b, a, x.
    contexts = rotate(records, instructions)
    assert contexts.tolist() == ["a", "x", "b", "a", "x"]
    assert contexts.index.tolist() == [10, 11, 12, 13, 14]


def test_rotate_names_missing_languages() -> None:
    records = pd.DataFrame({"language": ["de", "sw", "fr"]})
    instructions = pd.DataFrame({"language": ["de"], "instruction": ["a"]})
    with pytest.raises(ValueError, match="fr") as info:
        rotate(records, instructions)
    assert "sw" in str(info.value)


def test_name_language() -> None:
    assert name_language(CAPTION_INSTRUCTIONS_NAMING_LANGUAGE[:1], "German") == ["A short image caption in German:"]
    assert name_language(["no placeholder"], "German") == ["no placeholder"]

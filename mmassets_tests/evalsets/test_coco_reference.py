"""Tests for COCO Karpathy eval records and their pycocotools-readable references."""

from __future__ import annotations

import contextlib
import copy
import io
from pathlib import Path

import pandas as pd
import pytest
from pycocotools.coco import COCO

from mmassets.evalsets.coco_karpathy import EVAL_SPLITS, karpathy_eval
from mmassets.evalsets.coco_reference import build_reference, caption_eval_records, reference_problems
from mmassets.records import EVAL_FIELDS, schema_problems, write_json
from mmassets.sample.coco import SPLIT_COUNTS, write_coco
from mmassets.sources.coco import KARPATHY_FILE, read_karpathy


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    raw = tmp_path_factory.mktemp("raw")
    write_coco(raw, seed=0)
    return read_karpathy(raw / KARPATHY_FILE)


def _quiet(fn, *args):  # pycocotools prints progress
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


@pytest.mark.parametrize("split", EVAL_SPLITS)
def test_eval_records_one_per_image(images: pd.DataFrame, split: str) -> None:
    records, _ = karpathy_eval(images, split)
    split_files = images.loc[images["split"] == split, "filename"].tolist()
    assert len(records) == SPLIT_COUNTS[split] == len(split_files)
    assert records["image_id"].tolist() == split_files
    assert (records["label"] == "").all()
    assert (records["text_label"] == "en").all()
    assert (records["context"] == "English").all()
    assert (records["split"] == split).all()
    assert schema_problems(records, EVAL_FIELDS, allow_empty=["label"]) == {}


@pytest.mark.parametrize("split", EVAL_SPLITS)
def test_reference_loads_in_pycocotools(images: pd.DataFrame, split: str, tmp_path: Path) -> None:
    records, reference = karpathy_eval(images, split)
    chosen = images[images["split"] == split]
    path = write_json(tmp_path / f"coco_karpathy_{split}.json", reference)

    coco = _quiet(COCO, str(path))
    image_ids = records["image_id"].tolist()
    assert sorted(coco.getImgIds()) == sorted(image_ids)
    anns = coco.dataset["annotations"]
    assert len(anns) == sum(len(caps) for caps in chosen["captions"])  # the sample has no blank captions
    assert len({a["id"] for a in anns}) == len(anns)
    assert len({img["id"] for img in coco.dataset["images"]}) == len(image_ids)
    assert all(a["image_id"] in coco.imgs for a in anns)
    # each image's references are its cleaned captions, in order
    for image_id, captions in zip(chosen["filename"], chosen["captions"]):
        refs = [a["caption"] for a in coco.imgToAnns[image_id]]
        assert refs == [" ".join(c.split()) for c in captions]

    predictions = [{"image_id": i, "caption": "a dog on a beach"} for i in image_ids]
    result = _quiet(coco.loadRes, predictions)
    assert sorted(result.getImgIds()) == sorted(image_ids)
    assert len(result.dataset["annotations"]) == len(image_ids)
    assert reference_problems(reference) == []


def test_build_reference_shape() -> None:
    reference = build_reference(["a.jpg", "b.jpg"], [["one", "two"], ["three"]])
    assert reference["images"] == [{"id": "a.jpg", "file_name": "a.jpg"}, {"id": "b.jpg", "file_name": "b.jpg"}]
    assert reference["annotations"] == [
        {"id": 1, "image_id": "a.jpg", "caption": "one"},
        {"id": 2, "image_id": "a.jpg", "caption": "two"},
        {"id": 3, "image_id": "b.jpg", "caption": "three"},
    ]
    with pytest.raises(ValueError):
        build_reference(["a.jpg", "b.jpg"], [["one"]])


def test_caption_eval_records() -> None:
    frame = caption_eval_records(["x.jpg", "y.jpg"], "de", "German")
    assert frame.to_dict(orient="records") == [
        {"context": "German", "label": "", "image_id": "x.jpg", "text_label": "de"},
        {"context": "German", "label": "", "image_id": "y.jpg", "text_label": "de"},
    ]


@pytest.fixture
def good_reference() -> dict:
    return build_reference(["a.jpg", "b.jpg", "c.jpg"], [["a dog", "a brown dog"], ["a cat"], ["a bus"]])


def test_good_reference_has_no_problems(good_reference: dict) -> None:
    assert reference_problems(good_reference) == []


def _broken(reference: dict, change) -> dict:
    reference = copy.deepcopy(reference)
    change(reference)
    return reference


@pytest.mark.parametrize("change, expected", [
    (lambda r: r["images"].append({"id": "a.jpg", "file_name": "a.jpg"}), ["1 duplicate image ids"]),
    (lambda r: r["annotations"][2].__setitem__("id", 1), ["1 duplicate annotation ids"]),
    (lambda r: r["annotations"].append({"id": 9, "image_id": "z.jpg", "caption": "x"}),
     ["1 captions whose image is not in images"]),
    (lambda r: r["images"].pop(), ["1 captions whose image is not in images"]),
    (lambda r: [a.__setitem__("caption", " ") for a in r["annotations"][:2]], ["2 empty captions"]),
    (lambda r: (r["annotations"][0].__setitem__("caption", ""), r["annotations"][1].__setitem__("id", 3)),
     ["1 duplicate annotation ids", "1 empty captions"]),
])
def test_bad_references_are_reported(good_reference: dict, change, expected: list[str]) -> None:
    assert reference_problems(_broken(good_reference, change)) == expected
    assert reference_problems(good_reference) == []  # the fixture itself is untouched


def test_reference_without_images_is_unusable() -> None:
    # loadRes cannot take an empty prediction list, so an empty reference is reported, not accepted
    empty = {"images": [], "annotations": []}
    problems = reference_problems(empty)
    assert len(problems) == 1 and problems[0].startswith("pycocotools rejects it")

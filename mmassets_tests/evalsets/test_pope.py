"""Tests for POPE: the reader of coco_pope_<split>.json, the eval records, and the sample generator."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from mmassets.evalsets.pope import BENCHMARK, build, pope_records
from mmassets.sample.coco import write_coco
from mmassets.sample.pope import write_pope
from mmassets.sources.pope import QUESTION_COLUMNS, SPLITS, image_path, pope_file, read_questions
from mmassets.sources.validation import RawFileMissing, RawFormatError

from raw_files import raw_error, write_jsonl


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_coco(raw, seed=0)
    write_pope(raw, seed=0)
    return raw


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _q(qid: int, image: str, text: str, label: object) -> dict:
    return {"question_id": qid, "image": image, "image_id": int(image[-16:-4]), "text": text, "label": label}


# --- reader -------------------------------------------------------------------------------------

@pytest.mark.parametrize("split", SPLITS)
def test_reads_the_sample(sample_raw: Path, split: str) -> None:
    lines = _lines(sample_raw / pope_file(split))
    frame = read_questions(sample_raw / pope_file(split))
    assert tuple(frame.columns) == QUESTION_COLUMNS
    assert len(frame) == len(lines) == 18
    assert frame.to_dict(orient="records") == [{k: line[k] for k in QUESTION_COLUMNS} for line in lines]
    assert frame["question_id"].tolist() == list(range(18))
    assert sorted(set(frame["label"])) == ["no", "yes"]


def test_truncated_line(sample_raw: Path, tmp_path: Path) -> None:
    text = (sample_raw / pope_file("random")).read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    path = tmp_path / "coco_pope_random.json"
    path.write_text("".join(lines[:4]) + lines[4][:30], encoding="utf-8")
    assert raw_error(read_questions, path, "not valid JSON").record == "line 5"


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    path = tmp_path / pope_file("popular")
    with pytest.raises(RawFileMissing) as info:
        read_questions(path)
    assert str(path) in str(info.value) and "AoiDragon/POPE" in str(info.value)


@pytest.mark.parametrize("field", ["question_id", "image", "text", "label"])
def test_missing_field_names_file_line_and_field(sample_raw: Path, tmp_path: Path, field: str) -> None:
    lines = _lines(sample_raw / pope_file("adversarial"))
    lines[2].pop(field)
    path = tmp_path / "coco_pope_adversarial.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines[:2]) + "\n"  # a blank line still counts
                    + "".join(json.dumps(r) + "\n" for r in lines[2:]), encoding="utf-8")
    raw_error(read_questions, path, "line 4", f"field {field!r}", "field missing")


@pytest.mark.parametrize("field, value, problem", [
    ("question_id", "7", "expected int, got str"),
    ("question_id", True, "expected int, got bool"),
    ("image", "/coco/val2014/COCO_val2014_000000000001.jpg", "unsafe"),
    ("image", "../COCO_val2014_000000000001.jpg", "unsafe"),
    ("text", None, "expected str"),
])
def test_bad_value_names_file_line_and_field(tmp_path: Path, field: str, value: object, problem: str) -> None:
    records = [_q(0, "COCO_val2014_000000000001.jpg", "Is there a dog in the image?", "yes")]
    records[0][field] = value
    path = write_jsonl(tmp_path / "coco_pope_random.json", records)
    with pytest.raises(RawFormatError) as info:
        read_questions(path)
    assert "line 1" in str(info.value) and f"field {field!r}" in str(info.value) and problem in str(info.value)


def test_not_an_object(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "coco_pope_random.json", [["COCO_val2014_000000000001.jpg"]])
    with pytest.raises(RawFormatError, match="expected an object"):
        read_questions(path)


# --- builder ------------------------------------------------------------------------------------

def test_label_handling() -> None:
    questions = pd.DataFrame([(0, "a.jpg", "Is there a cat in the image?", "yes"),
                              (1, "a.jpg", "Is there a dog in the image?", "Yes"),
                              (2, "a.jpg", "Is there a cow in the image?", "no"),
                              (3, "b.jpg", "Is there a bus in the image?", None),
                              (4, "b.jpg", "Is there a car in the image?", 1),
                              (5, "b.jpg", "Is there a kite in the image?", "maybe")],
                             columns=list(QUESTION_COLUMNS), dtype=object)
    records, skipped = pope_records(questions, "popular")
    assert records["text_label"].tolist() == ["yes", "no"]
    assert records["question_id"].tolist() == [0, 2]
    assert skipped == {"popular: label not yes/no": 4}


def test_build_exact_records(tmp_path: Path) -> None:
    img1, img2 = "COCO_val2014_000000000042.jpg", "COCO_val2014_000000000073.jpg"
    write_jsonl(tmp_path / pope_file("random"), [
        _q(0, img1, "Is there a dog in the image?", "yes"),
        _q(1, img1, "Is there an apple in the image?", "no"),
        _q(2, img2, "Is there a car in the image?", "unknown"),
    ])
    write_jsonl(tmp_path / pope_file("popular"), [_q(0, img2, "Is there a person in the image?", "no")])
    write_jsonl(tmp_path / pope_file("adversarial"), [_q(5, img2, "Is there a fork in the image?", "yes"),
                                                     _q(6, img1, "Is there a cup in the image?", "")])
    parts = build(tmp_path, ["en"])
    assert list(parts) == ["en"]
    expected = pd.DataFrame({
        "context": ["Is there a dog in the image?", "Is there an apple in the image?",
                    "Is there a person in the image?", "Is there a fork in the image?"],
        "label": ["", "", "", ""],
        "image_id": [img1, img1, img2, img2],
        "text_label": ["yes", "no", "no", "yes"],
        "split": ["random", "random", "popular", "adversarial"],
        "question_id": [0, 1, 0, 5],
    }, dtype=object)
    pd.testing.assert_frame_equal(parts["en"].records, expected)
    assert parts["en"].skipped == {"random: label not yes/no": 1, "adversarial: label not yes/no": 1}
    assert build(tmp_path, []) == {}
    with pytest.raises(ValueError):
        build(tmp_path, ["fr"])


def test_build_lists_an_absent_split_and_builds_the_others(tmp_path: Path) -> None:
    write_jsonl(tmp_path / pope_file("random"), [_q(0, "COCO_val2014_000000000042.jpg", "Is there?", "yes")])
    part = build(tmp_path, ["en"])["en"]
    assert part.records["split"].tolist() == ["random"]
    assert sorted((a.path, a.adds) for a in part.absent) == [(pope_file("adversarial"), "split adversarial"),
                                                             (pope_file("popular"), "split popular")]


def test_build_without_any_split_names_every_file(tmp_path: Path) -> None:
    with pytest.raises(RawFileMissing) as info:
        build(tmp_path, ["en"])
    assert all(pope_file(split) in str(info.value) for split in ("random", "popular", "adversarial"))


def test_benchmark_declaration() -> None:
    assert BENCHMARK.name == "pope" and BENCHMARK.languages == ("en",)
    assert BENCHMARK.extra_fields == ("question_id",)
    assert BENCHMARK.image_path(Path("/raw"), "COCO_val2014_000000000042.jpg") == \
        Path("/raw/coco/val2014/COCO_val2014_000000000042.jpg")


# --- sample -------------------------------------------------------------------------------------

def test_sample_builds_and_every_image_exists(sample_raw: Path) -> None:
    part = build(sample_raw, ["en"])["en"]
    assert part.skipped == {}
    assert part.records["split"].value_counts().to_dict() == {"random": 18, "popular": 18, "adversarial": 18}
    for split in SPLITS:  # 3 yes and 3 no per image
        labels = part.records.loc[part.records["split"] == split, "text_label"].tolist()
        assert labels == (["yes"] * 3 + ["no"] * 3) * 3
    for image_id in part.records["image_id"]:
        path = image_path(sample_raw, image_id)
        assert path.is_file(), path
        with Image.open(path) as im:
            assert im.format == "JPEG"
        assert int(image_id[-16:-4]) < 50000  # never one of the COCO sample's ids


def test_sample_questions_agree_with_the_object_file(sample_raw: Path) -> None:
    objects = {line["image"]: set(line["objects"]) for line in _lines(sample_raw / "pope" /
                                                                     "coco_ground_truth_segmentation.json")}
    for split in SPLITS:
        for line in _lines(sample_raw / pope_file(split)):
            name = re.fullmatch(r"Is there an? (.+) in the image\?", line["text"]).group(1)
            assert (name in objects[line["image"]]) == (line["label"] == "yes"), line


def test_sample_is_deterministic(tmp_path: Path) -> None:
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        write_coco(tmp_path / name, seed=seed)
        write_pope(tmp_path / name, seed=seed)
    a, b = _all_files(tmp_path / "a"), _all_files(tmp_path / "b")
    assert a == b
    assert _all_files(tmp_path / "c") != a


def test_sample_without_coco_sample_matches(tmp_path: Path) -> None:
    """Run alone, the generator regenerates the COCO sample's names for the same seed."""
    write_coco(tmp_path / "with", seed=0)
    write_pope(tmp_path / "with", seed=0)
    write_pope(tmp_path / "alone", seed=0)
    with_coco = _all_files(tmp_path / "with")
    alone = _all_files(tmp_path / "alone")
    assert alone == {k: v for k, v in with_coco.items() if k.startswith("pope/") or k in alone}
    assert not (tmp_path / "alone" / "coco" / "dataset_coco.json").exists()

"""Tests for the LLaVA-Instruct reader and its sample: the good sample files, and broken files that fail clearly."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mmassets.sample.llava import ID_RANGE, write_llava
from mmassets.sources.coco import find_image
from mmassets.sources.llava import COLUMNS, CONVERSATION_FILE, DETAIL_FILE, cocoid_of, read_llava
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_json


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_llava(raw, seed=0)
    return raw


@pytest.fixture
def good(sample_raw: Path) -> list[dict]:
    return json.loads((sample_raw / CONVERSATION_FILE).read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: object) -> Path:
    return write_json(tmp_path / "llava" / "conversation_58k.json", data)


def test_reads_the_sample(sample_raw: Path, good: list[dict]) -> None:
    frame = read_llava(sample_raw / CONVERSATION_FILE)
    assert tuple(frame.columns) == COLUMNS
    assert frame["id"].tolist() == [d["id"] for d in good]
    assert frame["image"].tolist() == [d["image"] for d in good]
    assert frame["speakers"].tolist() == [[t["from"] for t in d["conversations"]] for d in good]
    assert frame["values"].tolist() == [[t["value"] for t in d["conversations"]] for d in good]
    assert 4 <= len(frame) <= 6
    detail = read_llava(sample_raw / DETAIL_FILE)
    assert 3 <= len(detail) <= 5
    assert all(speakers == ["human", "gpt"] for speakers in detail["speakers"])


def test_sample_is_in_the_upstream_shape(sample_raw: Path) -> None:
    for name in (CONVERSATION_FILE, DETAIL_FILE):
        for dialogue in json.loads((sample_raw / name).read_text(encoding="utf-8")):
            assert list(dialogue) == ["id", "image", "conversations"]
            assert dialogue["image"] == dialogue["id"] + ".jpg" and len(dialogue["id"]) == 12
            assert int(dialogue["id"]) in ID_RANGE
            turns = dialogue["conversations"]
            assert 2 <= len(turns) <= 8 and len(turns) % 2 == 0
            assert [t["from"] for t in turns] == ["human", "gpt"] * (len(turns) // 2)
            first = turns[0]["value"]
            assert first.startswith("<image>\n") or first.endswith("\n<image>")
            assert all("<image>" not in t["value"] for t in turns[1:])
            assert find_image(sample_raw, cocoid_of(dialogue["image"])) == f"COCO_train2014_{dialogue['image']}"


def test_sample_is_deterministic(tmp_path: Path) -> None:
    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    write_llava(tmp_path / "a", seed=3)
    write_llava(tmp_path / "b", seed=3)
    write_llava(tmp_path / "c", seed=4)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


@pytest.mark.parametrize("image, cocoid", [
    ("000000442786.jpg", 442786),
    ("COCO_train2014_000000442786.jpg", 442786),
    ("COCO_val2014_000000000042.jpg", 42),
    ("coco/train2017/000000442786.jpg", 442786),
    ("train2017/000000442786.JPG", 442786),
    ("442786.jpg", 442786),
    ("000000442786.png", None),
    ("photo.jpg", None),
    ("000000442786", None),
    ("COCO_train2014_.jpg", None),
    ("", None),
])
def test_cocoid_of(image: str, cocoid: int | None) -> None:
    assert cocoid_of(image) == cocoid


def test_truncated_json(sample_raw: Path, tmp_path: Path) -> None:
    text = (sample_raw / CONVERSATION_FILE).read_text(encoding="utf-8")
    path = tmp_path / "conversation_58k.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    raw_error(read_llava, path, "not valid JSON", "truncated")


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    path = tmp_path / DETAIL_FILE
    with pytest.raises(RawFileMissing) as info:
        read_llava(path)
    assert str(path) in str(info.value)
    assert "LLaVA-Instruct-150K" in str(info.value)


def test_top_level_object(tmp_path: Path, good: list[dict]) -> None:
    raw_error(read_llava, _write(tmp_path, {"data": good}), "expected a JSON list", "dict")


def _drop(field: str) -> Callable[[dict], None]:
    return lambda dialogue: dialogue.pop(field)


def _set(field: str, value: object) -> Callable[[dict], None]:
    return lambda dialogue: dialogue.__setitem__(field, value)


def _set_turn(j: int, field: str, value: object) -> Callable[[dict], None]:
    return lambda dialogue: dialogue["conversations"][j].__setitem__(field, value)


def _drop_turn(j: int, field: str) -> Callable[[dict], None]:
    return lambda dialogue: dialogue["conversations"][j].pop(field)


@pytest.mark.parametrize("change, record, parts", [
    (_drop("id"), "[3]", ["field 'id'", "field missing"]),
    (_drop("image"), "[3]", ["field 'image'", "field missing"]),
    (_drop("conversations"), "[3]", ["field 'conversations'", "field missing"]),
    (_set("id", 442786), "[3]", ["field 'id'", "expected str, got int"]),
    (_set("image", None), "[3]", ["field 'image'", "expected str, got NoneType"]),
    (_set("conversations", {"from": "human"}), "[3]", ["field 'conversations'", "expected list, got dict"]),
    (_set("image", "/data/coco/000000442786.jpg"), "[3]", ["field 'image'", "unsafe"]),
    (_set("image", "../000000442786.jpg"), "[3]", ["field 'image'", "unsafe"]),
    (_set_turn(1, "from", "assistant"), "[3].conversations[1]", ["field 'from'", "unknown speaker 'assistant'"]),
    (_set_turn(0, "from", None), "[3].conversations[0]", ["field 'from'", "expected str, got NoneType"]),
    (_drop_turn(1, "from"), "[3].conversations[1]", ["field 'from'", "field missing"]),
    (_drop_turn(0, "value"), "[3].conversations[0]", ["field 'value'", "field missing"]),
    (_set_turn(1, "value", ["a", "b"]), "[3].conversations[1]", ["field 'value'", "expected str, got list"]),
    (lambda d: d["conversations"].__setitem__(1, "gpt: hello"), "[3].conversations[1]", ["expected an object"]),
])
def test_broken_record_names_file_record_and_field(tmp_path: Path, good: list[dict], change: Callable, record: str,
                                                   parts: list) -> None:
    change(good[3])
    error = raw_error(read_llava, _write(tmp_path, good), record, *parts)
    assert error.record == record


def test_record_not_an_object(tmp_path: Path, good: list[dict]) -> None:
    good[2] = ["000000442786.jpg"]
    raw_error(read_llava, _write(tmp_path, good), "[2]", "expected an object")


def test_values_are_kept_untouched(tmp_path: Path) -> None:
    dialogue = {"id": "x1", "image": "coco/./000000000042.jpg", "conversations": [
        {"from": "human", "value": "<image>\nWhat is  this? "}, {"from": "gpt", "value": " A dog.\n\nIt runs."}]}
    frame = read_llava(_write(tmp_path, [dialogue]))
    assert frame.to_dict(orient="records") == [{
        "id": "x1", "image": "coco/000000000042.jpg", "speakers": ["human", "gpt"],
        "values": ["<image>\nWhat is  this? ", " A dog.\n\nIt runs."]}]

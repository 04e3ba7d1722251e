"""Tests for the ImageNet class index, train image and Babel-ImageNet readers, and their sample files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from mmassets.languages import LanguageTable
from mmassets.sample.imagenet import BABEL_NAMES, CLASSES, IMAGES_PER_CLASS, write_imagenet
from mmassets.sources.imagenet import (
    BABEL_CODES,
    BABEL_FILE,
    CLASS_COLUMNS,
    CLASS_INDEX_FILE,
    TRAIN_DIR,
    babel_code,
    image_path,
    list_images,
    read_babel,
    read_class_index,
)
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_json

GOOD_INDEX = {"0": ["n01440764", "tench"], "1": ["n01443537", "goldfish"], "2": ["n01484850", "great_white_shark"]}
GOOD_BABEL = {"DE": [[0, 2], ["Schleie", "Weißer Hai"]], "HE": [[1], ["דג זהב"]]}


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_imagenet(raw, seed=0)
    return raw


def _write(tmp_path: Path, data: object) -> Path:
    return write_json(tmp_path / "file.json", data)


# --- class index -------------------------------------------------------------------------------


def test_reads_a_class_index(tmp_path: Path) -> None:
    frame = read_class_index(_write(tmp_path, {"1": ["n01443537", "goldfish"], "0": ["n01440764", "tench"],
                                               "2": ["n01484850", "great_white_shark"]}))
    assert tuple(frame.columns) == CLASS_COLUMNS
    assert frame.to_dict(orient="list") == {"class_index": [0, 1, 2], "wnid": ["n01440764", "n01443537", "n01484850"],
                                            "name": ["tench", "goldfish", "great white shark"]}
    assert str(frame["class_index"].dtype) == "int64"


def test_class_names_lose_underscores_only(tmp_path: Path) -> None:
    frame = read_class_index(_write(tmp_path, {"0": ["n12057211", "yellow_lady's_slipper"],
                                               "1": ["n02089078", "black-and-tan_coonhound"]}))
    assert frame["name"].tolist() == ["yellow lady's slipper", "black-and-tan coonhound"]


def test_class_index_truncated(tmp_path: Path) -> None:
    path = tmp_path / "imagenet_class_index.json"
    path.write_text(json.dumps(GOOD_INDEX)[:40], encoding="utf-8")
    raw_error(read_class_index, path, "not valid JSON", "truncated")


def test_class_index_missing_says_where_to_get_it(tmp_path: Path) -> None:
    path = tmp_path / CLASS_INDEX_FILE
    with pytest.raises(RawFileMissing) as info:
        read_class_index(path)
    assert str(path) in str(info.value)
    assert "imagenet_class_index.json" in str(info.value) and "image-net.org" in str(info.value)


@pytest.mark.parametrize("data, parts", [
    ([["n01440764", "tench"]], ["expected a JSON object", "a list of 1"]),
    ({}, ["holds no records ({})", "broken download"]),
])
def test_class_index_top_level(tmp_path: Path, data: object, parts: list[str]) -> None:
    raw_error(read_class_index, _write(tmp_path, data), *parts)


@pytest.mark.parametrize("key, parts", [
    ("a", ["key 'a'", "not a class index"]),
    ("01", ["key '01'", "not a class index"]),
    ("-1", ["key '-1'", "not a class index"]),
    ("3", ["key '3'", "out of range", "0..2"]),
])
def test_class_index_bad_key(tmp_path: Path, key: str, parts: list[str]) -> None:
    data = {"0": GOOD_INDEX["0"], key: GOOD_INDEX["1"], "2": GOOD_INDEX["2"]}
    raw_error(read_class_index, _write(tmp_path, data), *parts)


@pytest.mark.parametrize("value, parts", [
    (["n01443537"], ["key '1'", "[wnid, name] pair", "a list of 1"]),
    (["n01443537", "goldfish", "extra"], ["key '1'", "a list of 3"]),
    ("goldfish", ["key '1'", "[wnid, name] pair", "a string"]),
    (None, ["key '1'", "null"]),
    (["n01443537", 7], ["key '1'", "pair of strings"]),
    ([1443537, "goldfish"], ["key '1'", "pair of strings"]),
    (["n01443537", " _ "], ["key '1'", "blank class name"]),
    (["../n01443537", "goldfish"], ["key '1'", "not a plain folder name"]),
    (["", "goldfish"], ["key '1'", "not a plain folder name"]),
])
def test_class_index_bad_value(tmp_path: Path, value: object, parts: list[str]) -> None:
    raw_error(read_class_index, _write(tmp_path, {**GOOD_INDEX, "1": value}), *parts)


def test_class_index_duplicate_wnid_names_both_keys(tmp_path: Path) -> None:
    data = {**GOOD_INDEX, "2": ["n01440764", "great_white_shark"]}
    error = raw_error(read_class_index, _write(tmp_path, data), "key '2'", "n01440764", "key '0'")
    assert error.record == "key '2'"


# --- Babel-ImageNet ------------------------------------------------------------------------------


def test_reads_babel(tmp_path: Path) -> None:
    assert read_babel(_write(tmp_path, GOOD_BABEL)) == {"de": {0: "Schleie", 2: "Weißer Hai"}, "he": {1: "דג זהב"}}


def test_babel_empty_language_is_kept(tmp_path: Path) -> None:
    assert read_babel(_write(tmp_path, {"SW": [[], []]})) == {"sw": {}}


def test_babel_missing_says_where_to_get_it(tmp_path: Path) -> None:
    path = tmp_path / BABEL_FILE
    with pytest.raises(RawFileMissing) as info:
        read_babel(path)
    assert "gregor-ge/Babel-ImageNet" in str(info.value)


def test_babel_truncated(tmp_path: Path) -> None:
    path = tmp_path / "babel.json"
    path.write_text(json.dumps(GOOD_BABEL)[:25], encoding="utf-8")
    raw_error(read_babel, path, "not valid JSON")


def test_babel_top_level_list(tmp_path: Path) -> None:
    raw_error(read_babel, _write(tmp_path, [GOOD_BABEL]), "expected a JSON object of languages")


@pytest.mark.parametrize("value, parts", [
    ([[0, 2]], ["[[class indices], [class names]]", "a list of 1"]),
    ({"indices": [0], "names": ["Schleie"]}, ["[[class indices], [class names]]", "an object"]),
    ([[0, 2], "Schleie"], ["[[class indices], [class names]]"]),
    ([[0, 2], ["Schleie"]], ["differ in length", "2 class indices, 1 names"]),
    ([[0, "2"], ["Schleie", "Weißer Hai"]], ["class index #1 is '2'", "not a non-negative int"]),
    ([[0, 2.0], ["Schleie", "Weißer Hai"]], ["class index #1 is 2.0"]),
    ([[True, 2], ["Schleie", "Weißer Hai"]], ["class index #0 is True"]),
    ([[0, -2], ["Schleie", "Weißer Hai"]], ["class index #1 is -2"]),
    ([[0, 2], ["Schleie", 5]], ["name #1 (class 2) is 5", "not a non-blank string"]),
    ([[0, 2], ["Schleie", "  "]], ["name #1 (class 2)", "not a non-blank string"]),
    ([[0, 2], ["Schleie", None]], ["name #1 (class 2) is None"]),
    ([[2, 0, 2], ["Weißer Hai", "Schleie", "Hai"]], ["class index 2 listed twice (#0 and #2)"]),
])
def test_babel_bad_language(tmp_path: Path, value: object, parts: list[str]) -> None:
    error = raw_error(read_babel, _write(tmp_path, {**GOOD_BABEL, "DE": value}), "language 'DE'", *parts)
    assert error.record == "language 'DE'"


def test_babel_codes_differing_in_case(tmp_path: Path) -> None:
    raw_error(read_babel, _write(tmp_path, {**GOOD_BABEL, "de": [[1], ["Goldfisch"]]}), "language 'de'", "twice")


# --- language codes ------------------------------------------------------------------------------


def test_babel_code_maps_mblip_exceptions() -> None:
    assert babel_code("iw") == "he"
    assert babel_code("fil") == "tl"
    assert babel_code("de") == "de"
    assert babel_code("IW") == "he"
    assert BABEL_CODES == {"iw": "he", "fil": "tl"}


def test_table_codes_map_to_distinct_babel_codes() -> None:
    codes = [babel_code(code) for code in LanguageTable.load().codes]
    assert len(set(codes)) == len(codes)
    assert "he" in codes and "tl" in codes and "iw" not in codes and "fil" not in codes


# --- train images --------------------------------------------------------------------------------


def test_list_images(tmp_path: Path) -> None:
    folder = tmp_path / TRAIN_DIR / "n01440764"
    folder.mkdir(parents=True)
    for name in ("n01440764_9.JPEG", "n01440764_10.jpeg", "b.jpg", "notes.txt", "c.png", "._n01440764_9.JPEG",
                 "d.JPG.tmp"):
        (folder / name).write_bytes(b"x")
    (folder / "sub.JPEG").mkdir()
    found = list_images(tmp_path, ["n01440764", "n01443537"])
    assert found == {"n01440764": ["n01440764/b.jpg", "n01440764/n01440764_10.jpeg", "n01440764/n01440764_9.JPEG"],
                     "n01443537": []}
    assert list_images(tmp_path, []) == {}


def test_image_path(tmp_path: Path) -> None:
    assert image_path(tmp_path, "n01440764/n01440764_9.JPEG") == \
        tmp_path / "imagenet" / "train" / "n01440764" / "n01440764_9.JPEG"


# --- the sample ----------------------------------------------------------------------------------


def test_sample_class_index(sample_raw: Path) -> None:
    frame = read_class_index(sample_raw / CLASS_INDEX_FILE)
    assert frame["class_index"].tolist() == list(range(6))
    assert frame["wnid"].tolist() == [wnid for wnid, _ in CLASSES]
    assert frame["name"].tolist()[:3] == ["tench", "goldfish", "great white shark"]
    raw = json.loads((sample_raw / CLASS_INDEX_FILE).read_text(encoding="utf-8"))
    assert list(raw) == [str(i) for i in range(6)]
    assert raw["2"] == ["n01484850", "great_white_shark"]


def test_sample_babel(sample_raw: Path) -> None:
    raw = json.loads((sample_raw / BABEL_FILE).read_text(encoding="utf-8"))
    assert all(code.isupper() for code in raw)
    assert {"HE", "TL", "DE", "ZH"} <= set(raw)
    assert "Weißer Hai" in (sample_raw / BABEL_FILE).read_text(encoding="utf-8")  # non-ASCII kept
    babel = read_babel(sample_raw / BABEL_FILE)
    assert babel == {code.lower(): names for code, names in BABEL_NAMES.items()}
    assert all(set(names) <= set(range(6)) for names in babel.values())
    assert any(len(names) < 6 for names in babel.values())
    assert babel[babel_code("iw")] and babel[babel_code("fil")]


def test_sample_images(sample_raw: Path) -> None:
    found = list_images(sample_raw, [wnid for wnid, _ in CLASSES])
    assert [len(found[wnid]) for wnid, _ in CLASSES] == list(IMAGES_PER_CLASS)
    assert IMAGES_PER_CLASS[2] == 2 * 8 * 9  # great white shark: English and all eight Babel languages
    for wnid, ids in found.items():
        for image_id in ids:
            assert image_id.startswith(f"{wnid}/{wnid}_") and image_id.endswith(".JPEG")
            with Image.open(image_path(sample_raw, image_id)) as image:
                assert image.format == "JPEG" and image.size == (32, 24)


def _all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sample_is_deterministic(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        write_imagenet(tmp_path / name, seed=seed)
    assert _all_files(tmp_path / "a") == _all_files(tmp_path / "b")
    assert _all_files(tmp_path / "a") != _all_files(tmp_path / "c")

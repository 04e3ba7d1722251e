"""Tests for MaXM: the reader of maxm_v1_<lang>.json, the eval records, and the sample generator."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from mmassets.evalsets.maxm import BENCHMARK, build
from mmassets.sample.maxm import KEY_PREFIX, write_maxm
from mmassets.sources.maxm import COLUMNS, LANGUAGES, image_path, maxm_file, read_maxm
from mmassets.sources.validation import RawFileMissing, RawFormatError

from raw_files import raw_error, write_json


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_maxm(raw, seed=0)
    return raw


def _load(raw: Path, lang: str) -> dict:
    return json.loads((raw / maxm_file(lang)).read_text(encoding="utf-8"))


def _write(raw: Path, lang: str, data: object) -> Path:
    return write_json(raw / maxm_file(lang), data)


def _all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- reader -------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_reads_the_sample(sample_raw: Path, lang: str) -> None:
    data = _load(sample_raw, lang)
    assert set(data) == {"dataset", "version", "split", "annotations"} and data["split"] == lang
    frame = read_maxm(sample_raw / maxm_file(lang))
    assert tuple(frame.columns) == COLUMNS
    pairs = [(a["image_id"], qa) for a in data["annotations"] for qa in a["qa_pairs"]]
    assert len(frame) == len(pairs) == 5
    assert frame["image_id"].tolist() == [image_id for image_id, _ in pairs]
    assert frame["question"].tolist() == [qa["question"] for _, qa in pairs]
    assert frame["processed_answers"].tolist() == [qa["processed_answers"] for _, qa in pairs]
    assert frame["answers"].tolist() == [qa["answers"] for _, qa in pairs]
    assert frame["question_id"].tolist() == [qa["question_id"] for _, qa in pairs]


def test_truncated_json(sample_raw: Path, tmp_path: Path) -> None:
    text = (sample_raw / maxm_file("fr")).read_text(encoding="utf-8")
    path = tmp_path / "maxm_v1_fr.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    raw_error(read_maxm, path, "not valid JSON", "truncated")


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    path = tmp_path / maxm_file("th")
    with pytest.raises(RawFileMissing) as info:
        read_maxm(path)
    assert str(path) in str(info.value) and "maxm_v1_release.zip" in str(info.value)


def _drop(field: str) -> Callable[[dict], None]:
    return lambda data: data["annotations"][1].pop(field)


def _drop_qa(field: str) -> Callable[[dict], None]:
    return lambda data: data["annotations"][1]["qa_pairs"][0].pop(field)


@pytest.mark.parametrize("change, record, field, problem", [
    (lambda data: data.pop("annotations"), "top level", "annotations", "field missing"),
    (_drop("image_id"), "annotations[1]", "image_id", "field missing"),
    (_drop("qa_pairs"), "annotations[1]", "qa_pairs", "field missing"),
    (_drop_qa("question"), "annotations[1].qa_pairs[0]", "question", "field missing"),
    (_drop_qa("answers"), "annotations[1].qa_pairs[0]", "answers", "field missing"),
    (_drop_qa("processed_answers"), "annotations[1].qa_pairs[0]", "processed_answers", "field missing"),
    (lambda data: data["annotations"][1]["qa_pairs"][0].__setitem__("processed_answers", ["a", 3]),
     "annotations[1].qa_pairs[0]", "processed_answers", "item 1 is int"),
    (lambda data: data["annotations"][1].__setitem__("image_id", 42), "annotations[1]", "image_id", "expected str"),
    (lambda data: data["annotations"][1].__setitem__("image_id", "../../etc/passwd"), "annotations[1]", "image_id",
     "unsafe"),
    (lambda data: data["annotations"][1].__setitem__("image_id", "/abs"), "annotations[1]", "image_id", "unsafe"),
])
def test_broken_record_names_file_record_and_field(sample_raw: Path, tmp_path: Path, change: Callable,
                                                   record: str, field: str, problem: str) -> None:
    data = _load(sample_raw, "hi")
    change(data)
    error = raw_error(read_maxm, _write(tmp_path, "hi", data), record, f"field {field!r}", problem)
    assert error.record == record and error.field == field


def test_top_level_list(tmp_path: Path) -> None:
    path = _write(tmp_path, "en", [{"image_id": "x", "qa_pairs": []}])
    with pytest.raises(RawFormatError, match="expected a JSON object"):
        read_maxm(path)


# --- builder ------------------------------------------------------------------------------------

def _qa(question: str, processed: list[str], qid: str) -> dict:
    return {"question_id": qid, "question": question, "answers": [p.upper() for p in processed],
            "processed_answers": processed, "is_collection": False}


def test_build_exact_records(tmp_path: Path) -> None:
    _write(tmp_path, "fr", {"dataset": "maxm", "version": "v1", "split": "fr", "annotations": [
        {"image_id": "00aa", "image_url": "u", "qa_pairs": [_qa("Quelle couleur ?", ["rouge", "rouge foncé"], "1"),
                                                           _qa("Combien ?", [], "2")]},
        {"image_id": "11bb", "image_url": "u", "qa_pairs": []},
        {"image_id": "22cc", "image_url": "u", "qa_pairs": [_qa(" Où ? ", ["ici"], "3"), _qa("  ", ["x"], "4")]},
    ]})
    _write(tmp_path, "iw", {"annotations": [{"image_id": "33dd", "qa_pairs": [_qa("מה זה?", ["חתול"], "5")]}]})
    parts = build(tmp_path, ["fr", "iw"])
    assert list(parts) == ["fr", "iw"]
    expected_fr = pd.DataFrame({
        "context": ["Question: Quelle couleur ? Answer briefly in French.",
                    "Question: Où ? Answer briefly in French."],
        "label": ["", ""],
        "image_id": ["00aa.jpg", "22cc.jpg"],
        "text_label": [["rouge", "rouge foncé"], ["ici"]],
        "split": ["test", "test"],
    }, dtype=object)
    pd.testing.assert_frame_equal(parts["fr"].records, expected_fr)
    assert parts["fr"].skipped == {"test: no processed answers": 1, "test: empty question": 1}
    assert parts["fr"].records["text_label"].map(type).eq(list).all()
    assert parts["iw"].records.to_dict(orient="records") == [
        {"context": "Question: מה זה? Answer briefly in Hebrew.", "label": "", "image_id": "33dd.jpg",
         "text_label": ["חתול"], "split": "test"}]
    assert parts["iw"].skipped == {}


def test_build_reads_only_requested_languages(tmp_path: Path) -> None:
    _write(tmp_path, "zh", {"annotations": [{"image_id": "ab", "qa_pairs": [_qa("什么？", ["猫"], "1")]}]})
    assert list(build(tmp_path, ["zh"])) == ["zh"]  # no other language file exists
    parts = build(tmp_path, ["ro", "zh"])  # a language without its file fails alone
    assert isinstance(parts["ro"], RawFileMissing) and maxm_file("ro") in str(parts["ro"])
    assert len(parts["zh"].records) == 1
    with pytest.raises(ValueError, match="de"):
        build(tmp_path, ["de"])


def test_benchmark_declaration() -> None:
    assert BENCHMARK.name == "maxm"
    assert BENCHMARK.languages == ("en", "fr", "hi", "iw", "ro", "th", "zh")
    assert BENCHMARK.extra_fields == ()
    assert BENCHMARK.image_path(Path("/raw"), "abc.jpg") == Path("/raw/xm3600/images/abc.jpg")


# --- sample -------------------------------------------------------------------------------------

def test_sample_builds_and_every_image_exists(sample_raw: Path) -> None:
    parts = build(sample_raw, LANGUAGES)
    assert list(parts) == list(LANGUAGES)
    seen: set[str] = set()
    for lang, part in parts.items():
        assert len(part.records) == 5 and part.skipped == {}
        assert (part.records["split"] == "test").all() and (part.records["label"] == "").all()
        for image_id in part.records["image_id"]:
            assert image_id.startswith(KEY_PREFIX) and len(image_id) == len("0123456789abcdef.jpg")
            path = image_path(sample_raw, image_id)
            assert path.is_file(), path
            with Image.open(path) as im:
                assert im.format == "JPEG"
        seen |= set(part.records["image_id"])
    assert len(seen) == 3 * len(LANGUAGES)  # every language has its own images


def test_sample_is_deterministic(tmp_path: Path) -> None:
    write_maxm(tmp_path / "a", seed=0)
    write_maxm(tmp_path / "b", seed=0)
    a, b = _all_files(tmp_path / "a"), _all_files(tmp_path / "b")
    assert len(a) == len(LANGUAGES) * (1 + 3)
    assert a == b
    write_maxm(tmp_path / "c", seed=1)
    assert _all_files(tmp_path / "c") != a

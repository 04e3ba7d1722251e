"""XVNLI: the reader of IGLUE test / SNLI-VE train-dev lines and the benchmark builder."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

from mmassets.evalsets import xvnli
from mmassets.sample.iglue import write_iglue
from mmassets.sources import iglue
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_jsonl

SOURCES = {"test": "gold_label", "dev": "annotator_labels", "train": "gold_label"}


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_iglue(raw, seed=0)
    return raw


def _sample_file(split: str, language: str = "en") -> str:
    return {"test": iglue.xvnli_test_file(language), "dev": iglue.xvnli_dev_file(language),
            "train": iglue.XVNLI_TRAIN_FILE}[split]


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# --- reader -----------------------------------------------------------------------------------

@pytest.mark.parametrize("split, language", [("test", lang) for lang in iglue.XVNLI_LANGUAGES]
                         + [("dev", lang) for lang in iglue.XVNLI_LANGUAGES] + [("train", "en")])
def test_reads_the_sample(sample_raw: Path, split: str, language: str) -> None:
    path = sample_raw / _sample_file(split, language)
    raw = _lines(path)
    frame = iglue.read_xvnli(path, SOURCES[split])
    assert tuple(frame.columns) == iglue.XVNLI_COLUMNS
    assert frame["pairID"].tolist() == [r["pairID"] for r in raw]
    assert frame["Flikr30kID"].tolist() == [r["Flikr30kID"] for r in raw]
    assert frame["sentence2"].tolist() == [r["sentence2"] for r in raw]
    expected = [r["gold_label"] if SOURCES[split] == "gold_label" else r["annotator_labels"][0] for r in raw]
    assert frame["raw_label"].tolist() == expected


def test_sample_formats_follow_upstream(sample_raw: Path) -> None:
    test = _lines(sample_raw / _sample_file("test", "fr"))
    assert all("annotator_labels" not in r and not r["Flikr30kID"].endswith(".jpg") for r in test)
    assert "-" in {r["gold_label"] for r in test}
    dev = _lines(sample_raw / _sample_file("dev", "ar"))
    assert all(r["Flikr30kID"].endswith(".jpg") and list(r) == sorted(r) for r in dev)
    # the first annotator does not always agree with the gold label
    assert any(r["annotator_labels"][0] != r["gold_label"] for r in dev)


def test_truncated_line(sample_raw: Path, tmp_path: Path) -> None:
    text = (sample_raw / _sample_file("test", "ru")).read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    path = tmp_path / "test.jsonl"
    path.write_text("".join(lines[:3]) + lines[3][: len(lines[3]) // 2], encoding="utf-8")
    raw_error(partial(iglue.read_xvnli, label_source="gold_label"), path, "line 4", "not valid JSON", "truncated")


def test_missing_file_says_where_to_get_it(tmp_path: Path) -> None:
    path = tmp_path / iglue.xvnli_dev_file("es")
    assert path.name == "dev-es_gmt.jsonl"
    with pytest.raises(RawFileMissing) as info:
        iglue.read_xvnli(path, "annotator_labels")
    assert str(path) in str(info.value)
    assert "github.com/e-bug/iglue" in str(info.value) and "SNLI-VE" in str(info.value)


@pytest.mark.parametrize("split, field", [
    ("test", "pairID"), ("test", "Flikr30kID"), ("test", "sentence2"), ("test", "gold_label"),
    ("dev", "pairID"), ("dev", "Flikr30kID"), ("dev", "sentence2"), ("dev", "annotator_labels"),
    ("train", "gold_label"),
])
def test_record_missing_a_field(sample_raw: Path, tmp_path: Path, split: str, field: str) -> None:
    records = _lines(sample_raw / _sample_file(split))
    del records[2][field]
    error = raw_error(partial(iglue.read_xvnli, label_source=SOURCES[split]),
                      write_jsonl(tmp_path / "x.jsonl", records), "record 2", f"field {field!r}", "field missing")
    assert (error.record, error.field) == ("record 2", field)


@pytest.mark.parametrize("source, change, parts", [
    ("annotator_labels", lambda r: r.__setitem__("annotator_labels", []), ["field 'annotator_labels'", "non-empty"]),
    ("annotator_labels", lambda r: r.__setitem__("annotator_labels", "neutral"), ["field 'annotator_labels'"]),
    ("annotator_labels", lambda r: r.__setitem__("annotator_labels", [None]), ["field 'annotator_labels'"]),
    ("gold_label", lambda r: r.__setitem__("gold_label", 1), ["field 'gold_label'", "expected str"]),
    ("gold_label", lambda r: r.__setitem__("Flikr30kID", "../../etc/passwd"), ["field 'Flikr30kID'", "unsafe"]),
    ("gold_label", lambda r: r.__setitem__("sentence2", None), ["field 'sentence2'"]),
])
def test_broken_record(sample_raw: Path, tmp_path: Path, source: str, change, parts: list) -> None:
    records = _lines(sample_raw / _sample_file("dev"))
    change(records[1])
    raw_error(partial(iglue.read_xvnli, label_source=source), write_jsonl(tmp_path / "dev.jsonl", records), "record 1",
              *parts)


def test_record_not_an_object(tmp_path: Path) -> None:
    raw_error(partial(iglue.read_xvnli, label_source="gold_label"),
              write_jsonl(tmp_path / "test.jsonl", [["759822302", "He is reading."]]), "record 0", "expected an object")


# --- builder ----------------------------------------------------------------------------------

def _pair(image: str, pair_id: str, hypothesis: str, gold: str, annotators: list[str] | None = None) -> dict:
    record = {"gold_label": gold, "sentence1": "A premise.", "sentence2": hypothesis, "captionID": pair_id[:-3],
              "pairID": pair_id, "Flikr30kID": image}
    if annotators is not None:
        record["annotator_labels"] = annotators
    return record


def _hand_made(raw: Path) -> None:
    write_jsonl(raw / iglue.xvnli_test_file("en"), [
        _pair("759822302", "759822302.jpg#2r1c", "He is wearing the newspaper on his head.", "contradiction"),
        _pair("759822302", "759822302.jpg#2r1n", "He is jewish.", "neutral"),
        _pair("2424111022", "2424111022.jpg#4r1c", "There is a boy headed to the woods.", "-"),
        _pair("2424111022", "2424111022.jpg#4r1e", "There is a boy in the woods.", "entailment"),
    ])
    write_jsonl(raw / iglue.xvnli_test_file("ar"), [
        _pair("759822302", "759822302.jpg#2r1e", "يقرأ الصحيفة.", "entailment"),
        _pair("2424111022", "2424111022.jpg#4r1c", "هناك صبي توجه إلى الغابة.", "-"),
        _pair("2424111022", "2424111022.jpg#4r1n", "هناك صبي صغير في الغابة.", "Neutral"),
    ])
    dev = [
        _pair("3416050480.jpg", "3416050480.jpg#0r1n", "The dog is chasing a cat.", "neutral",
              ["entailment", "neutral", "neutral"]),
        _pair("3416050480.jpg", "3416050480.jpg#0r1c", "The dog is asleep.", "contradiction", ["contradiction"]),
        _pair("3416050480.jpg", "3416050480.jpg#0r1e", "An animal runs.", "entailment", ["-", "entailment"]),
    ]
    write_jsonl(raw / iglue.xvnli_dev_file("en"), dev)
    write_jsonl(raw / iglue.xvnli_dev_file("ar"), [
        {**dev[0], "sentence2": "الكلب يطارد قطة."}, {**dev[1], "sentence2": "الكلب نائم."},
        {**dev[2], "sentence2": "حيوان يركض."},
    ])
    write_jsonl(raw / iglue.XVNLI_TRAIN_FILE, [
        _pair("2677109430.jpg", "2677109430.jpg#1r1e", "A boy rides a bike.", "entailment", ["entailment"]),
        _pair("2677109430.jpg", "2677109430.jpg#1r1n", "The boy is late.", "neutral", ["contradiction"]),
    ])


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(xvnli.COLUMNS), dtype=object)


def test_build_exact_output(tmp_path: Path) -> None:
    _hand_made(tmp_path)
    parts = xvnli.build(tmp_path, ["ar", "en"])
    assert list(parts) == ["ar", "en"]
    pd.testing.assert_frame_equal(parts["ar"].records, _frame([
        ("الكلب يطارد قطة.", "", "3416050480.jpg", "yes", "dev", "3416050480.jpg#0r1n"),
        ("الكلب نائم.", "", "3416050480.jpg", "no", "dev", "3416050480.jpg#0r1c"),
        ("يقرأ الصحيفة.", "", "759822302.jpg", "yes", "test", "759822302.jpg#2r1e"),
    ]))
    assert parts["ar"].skipped == {"dev: label '-'": 1, "test: label '-'": 1, "test: label 'Neutral'": 1}
    pd.testing.assert_frame_equal(parts["en"].records, _frame([
        ("A boy rides a bike.", "yes", "2677109430.jpg", "yes", "train", "2677109430.jpg#1r1e"),
        ("The boy is late.", "maybe", "2677109430.jpg", "maybe", "train", "2677109430.jpg#1r1n"),
        ("The dog is chasing a cat.", "", "3416050480.jpg", "yes", "dev", "3416050480.jpg#0r1n"),
        ("The dog is asleep.", "", "3416050480.jpg", "no", "dev", "3416050480.jpg#0r1c"),
        ("He is wearing the newspaper on his head.", "", "759822302.jpg", "no", "test", "759822302.jpg#2r1c"),
        ("He is jewish.", "", "759822302.jpg", "maybe", "test", "759822302.jpg#2r1n"),
        ("There is a boy in the woods.", "", "2424111022.jpg", "yes", "test", "2424111022.jpg#4r1e"),
    ]))
    assert parts["en"].skipped == {"dev: label '-'": 1, "test: label '-'": 1}


def test_build_only_reads_what_the_languages_need(tmp_path: Path) -> None:
    _hand_made(tmp_path)
    (tmp_path / iglue.XVNLI_TRAIN_FILE).unlink()
    (tmp_path / iglue.xvnli_dev_file("en")).unlink()
    assert list(xvnli.build(tmp_path, ["ar"])) == ["ar"]
    english = xvnli.build(tmp_path, ["en"])["en"]  # train and dev are optional: the test split is built
    assert set(english.records["split"]) == {"test"}
    assert sorted(a.adds for a in english.absent) == ["split dev", "split train (SNLI-VE's English train set)"]
    with pytest.raises(ValueError, match="'de'"):
        xvnli.build(tmp_path, ["de"])


def test_image_id_gets_one_extension() -> None:
    assert xvnli.flickr30k_image_id("759822302") == "759822302.jpg"
    assert xvnli.flickr30k_image_id("759822302.jpg") == "759822302.jpg"


def test_benchmark_declaration() -> None:
    benchmark = xvnli.BENCHMARK
    assert benchmark.name == "xvnli"
    assert benchmark.languages == ("ar", "es", "fr", "ru", "en")
    assert benchmark.extra_fields == ("pair_id",)
    assert benchmark.image_path(Path("/raw"), "759822302.jpg") == Path("/raw/iglue/flickr30k/images/759822302.jpg")


def test_sample_builds_and_every_image_exists(sample_raw: Path) -> None:
    parts = xvnli.BENCHMARK.build(sample_raw, xvnli.BENCHMARK.languages)
    for language, part in parts.items():
        records = part.records
        splits = records["split"].tolist()
        assert splits == (["train"] * 6 if language == "en" else []) + ["dev"] * 6 + ["test"] * 5
        assert part.skipped == {"test: label '-'": 1}
        assert set(records["text_label"]) == {"yes", "no", "maybe"}
        assert (records["label"] == records["text_label"].where(records["split"] == "train", "")).all()
        assert not records["image_id"].str.endswith(".jpg.jpg").any()
        for image_id in records["image_id"]:
            assert xvnli.BENCHMARK.image_path(sample_raw, image_id).is_file(), image_id

"""xGQA: the GQA train and xGQA readers, the benchmark builder, and the IGLUE sample generator."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from mmassets.evalsets import xgqa
from mmassets.sample.iglue import IMAGE_SIZE, write_iglue
from mmassets.sources import iglue
from mmassets.sources.validation import RawFileMissing

from raw_files import raw_error, write_json

DEV_EN = iglue.xgqa_file("en", "dev")


@pytest.fixture(scope="module")
def sample_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_iglue(raw, seed=0)
    return raw


def _load(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


# --- readers ----------------------------------------------------------------------------------

def test_reads_the_sample_gqa_train(sample_raw: Path) -> None:
    raw = _load(sample_raw / iglue.GQA_TRAIN_FILE)
    frame = iglue.read_gqa_train(sample_raw / iglue.GQA_TRAIN_FILE)
    assert tuple(frame.columns) == iglue.GQA_COLUMNS
    assert frame["question_id"].tolist() == [r["question_id"] for r in raw]
    assert frame["img_id"].tolist() == [r["img_id"] for r in raw]
    assert frame["sent"].tolist() == [r["sent"] for r in raw]
    assert frame["label"].tolist() == [r["label"] for r in raw]
    assert {} in frame["label"].tolist()


@pytest.mark.parametrize("language", iglue.XGQA_LANGUAGES)
@pytest.mark.parametrize("split", iglue.XGQA_SPLITS)
def test_reads_the_sample_xgqa(sample_raw: Path, language: str, split: str) -> None:
    raw = _load(sample_raw / iglue.xgqa_file(language, split))
    frame = iglue.read_xgqa(sample_raw / iglue.xgqa_file(language, split))
    assert tuple(frame.columns) == iglue.XGQA_COLUMNS
    assert frame["question_id"].tolist() == list(raw)
    assert frame["imageId"].tolist() == [r["imageId"] for r in raw.values()]
    assert frame["question"].tolist() == [r["question"] for r in raw.values()]
    assert frame["answer"].tolist() == [r["answer"] for r in raw.values()]
    assert len(frame) == 3


def test_sample_questions_are_translated_and_answers_are_not(sample_raw: Path) -> None:
    en = iglue.read_xgqa(sample_raw / iglue.xgqa_file("en", "test"))
    for language in ("de", "ko", "zh"):
        other = iglue.read_xgqa(sample_raw / iglue.xgqa_file(language, "test"))
        assert other["question_id"].tolist() == en["question_id"].tolist()
        assert other["answer"].tolist() == en["answer"].tolist()
        assert not set(other["question"]) & set(en["question"])


@pytest.mark.parametrize("relative", [iglue.GQA_TRAIN_FILE, DEV_EN])
def test_truncated_json(sample_raw: Path, tmp_path: Path, relative: str) -> None:
    text = (sample_raw / relative).read_text(encoding="utf-8")
    path = tmp_path / Path(relative).name
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    read = iglue.read_gqa_train if relative == iglue.GQA_TRAIN_FILE else iglue.read_xgqa
    raw_error(read, path, "not valid JSON", "truncated")


@pytest.mark.parametrize("read, relative, words", [
    (iglue.read_gqa_train, iglue.GQA_TRAIN_FILE, ["lxmert", "gqa/annotations/train.json"]),
    (iglue.read_xgqa, DEV_EN, ["github.com/e-bug/iglue", "few_shot"]),
])
def test_missing_file_says_where_to_get_it(tmp_path: Path, read, relative: str, words: list) -> None:
    path = tmp_path / relative
    with pytest.raises(RawFileMissing) as info:
        read(path)
    assert str(path) in str(info.value)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("field", ["img_id", "sent", "label"])
def test_gqa_record_missing_a_field(sample_raw: Path, tmp_path: Path, field: str) -> None:
    data = _load(sample_raw / iglue.GQA_TRAIN_FILE)
    del data[2][field]
    error = raw_error(iglue.read_gqa_train, write_json(tmp_path / "train.json", data), "record 2", f"field {field!r}",
                      "field missing")
    assert (error.record, error.field) == ("record 2", field)


@pytest.mark.parametrize("change, parts", [
    (lambda r: r.__setitem__("label", ["yes"]), ["field 'label'", "expected dict"]),
    (lambda r: r.__setitem__("label", {"yes": "1.0"}), ["field 'label'", "'yes'", "expected a number"]),
    (lambda r: r.__setitem__("label", {"yes": True}), ["field 'label'", "expected a number"]),
    (lambda r: r.__setitem__("sent", None), ["field 'sent'", "expected str"]),
    (lambda r: r.__setitem__("img_id", "../2354786"), ["field 'img_id'", "unsafe"]),
    (lambda r: r.__setitem__("img_id", True), ["field 'img_id'", "bool"]),
    (lambda r: r.__setitem__("question_id", [1]), ["field 'question_id'"]),
])
def test_gqa_broken_record(sample_raw: Path, tmp_path: Path, change, parts: list) -> None:
    data = _load(sample_raw / iglue.GQA_TRAIN_FILE)
    change(data[1])
    raw_error(iglue.read_gqa_train, write_json(tmp_path / "train.json", data), "record 1", *parts)


def test_gqa_top_level_must_be_a_list(tmp_path: Path) -> None:
    raw_error(iglue.read_gqa_train, write_json(tmp_path / "train.json", {"questions": []}), "expected a JSON list")


def test_gqa_integer_ids_and_no_question_id(tmp_path: Path) -> None:
    path = write_json(tmp_path / "train.json", [{"img_id": 2354786, "sent": "Is the sky dark?", "label": {"yes": 1}}])
    frame = iglue.read_gqa_train(path)
    assert frame.iloc[0].tolist() == ["", "2354786", "Is the sky dark?", {"yes": 1}]


@pytest.mark.parametrize("field", ["imageId", "question", "answer"])
def test_xgqa_record_missing_a_field(sample_raw: Path, tmp_path: Path, field: str) -> None:
    data = _load(sample_raw / DEV_EN)
    question_id = list(data)[1]
    del data[question_id][field]
    error = raw_error(iglue.read_xgqa, write_json(tmp_path / "dev.json", data), f"question {question_id!r}",
                      f"field {field!r}", "field missing")
    assert error.field == field


@pytest.mark.parametrize("change, parts", [
    (lambda r: r.__setitem__("answer", ["yes"]), ["field 'answer'", "expected str"]),
    (lambda r: r.__setitem__("imageId", "/etc/n161313"), ["field 'imageId'", "unsafe"]),
])
def test_xgqa_broken_record(sample_raw: Path, tmp_path: Path, change, parts: list) -> None:
    data = _load(sample_raw / DEV_EN)
    question_id = list(data)[0]
    change(data[question_id])
    raw_error(iglue.read_xgqa, write_json(tmp_path / "dev.json", data), f"question {question_id!r}", *parts)


def test_xgqa_top_level_must_be_an_object(tmp_path: Path) -> None:
    raw_error(iglue.read_xgqa, write_json(tmp_path / "dev.json", [{"imageId": "n1"}]), "keyed by question id")
    data = {"201640614": "Who is wearing the dress?"}
    raw_error(iglue.read_xgqa, write_json(tmp_path / "dev.json", data), "question '201640614'", "expected an object")


# --- builder ----------------------------------------------------------------------------------

def _question(image_id: str, question: str, answer: str) -> dict:
    return {"semantic": [], "entailed": [], "equivalent": [], "question": question, "imageId": image_id,
            "isBalanced": True, "answer": answer, "fullAnswer": f"It is {answer}."}


def _hand_made(raw: Path) -> None:
    write_json(raw / iglue.GQA_TRAIN_FILE, [
        {"img_id": "2354786", "label": {"yes": 1.0}, "question_id": "02930152", "sent": "Is the sky dark?"},
        {"img_id": "2375429", "label": {}, "question_id": "07333408", "sent": "What is on the white wall?"},
        {"img_id": "2368326", "label": {"left": 0.6, "right": 0.9, "center": 0.9}, "question_id": "07333407",
         "sent": "Which side is the clock on?"},
        {"img_id": "2331963", "label": {}, "question_id": "15736264", "sent": "Who is wearing a shirt?"},
    ])
    write_json(raw / iglue.xgqa_file("en", "dev"), {
        "201640614": _question("n235859", "Who is wearing the dress?", "women"),
        "2062325": _question("n179136", "Is the surfer that looks wet wearing a wetsuit?", "yes"),
    })
    write_json(raw / iglue.xgqa_file("en", "test"),
               {"20120533": _question("n117888", "Is the fence made of cement?", "no")})
    write_json(raw / iglue.xgqa_file("de", "dev"),
               {"201640614": _question("n235859", "Wer trägt das Kleid?", "women")})
    write_json(raw / iglue.xgqa_file("de", "test"), {
        "20120533": _question("n117888", "Ist der Zaun aus Zement?", "no"),
        "2059565": _question("n130638", "Welche Farbe hat die Erde?", "red"),
    })


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(xgqa.COLUMNS), dtype=object)


def test_build_exact_output(tmp_path: Path) -> None:
    _hand_made(tmp_path)
    parts = xgqa.build(tmp_path, ["de", "en"])
    assert list(parts) == ["de", "en"]
    pd.testing.assert_frame_equal(parts["de"].records, _frame([
        ("Wer trägt das Kleid?", "", "n235859.jpg", "women", "dev", "201640614"),
        ("Ist der Zaun aus Zement?", "", "n117888.jpg", "no", "test", "20120533"),
        ("Welche Farbe hat die Erde?", "", "n130638.jpg", "red", "test", "2059565"),
    ]))
    assert parts["de"].skipped == {}
    pd.testing.assert_frame_equal(parts["en"].records, _frame([
        ("Is the sky dark?", "yes", "2354786.jpg", "yes", "train", "02930152"),
        ("Which side is the clock on?", "right", "2368326.jpg", "right", "train", "07333407"),
        ("Who is wearing the dress?", "", "n235859.jpg", "women", "dev", "201640614"),
        ("Is the surfer that looks wet wearing a wetsuit?", "", "n179136.jpg", "yes", "dev", "2062325"),
        ("Is the fence made of cement?", "", "n117888.jpg", "no", "test", "20120533"),
    ]))
    assert parts["en"].skipped == {"train: empty label": 2}


def test_build_only_reads_what_the_languages_need(tmp_path: Path) -> None:
    _hand_made(tmp_path)
    (tmp_path / iglue.GQA_TRAIN_FILE).unlink()
    assert list(xgqa.build(tmp_path, ["de"])) == ["de"]
    english = xgqa.build(tmp_path, ["en"])["en"]  # GQA train is optional: built without split train
    assert "train" not in set(english.records["split"])
    assert [(a.path, a.adds) for a in english.absent] == [
        (iglue.GQA_TRAIN_FILE, "split train (GQA's English train set)")]
    with pytest.raises(ValueError, match="'fr'"):
        xgqa.build(tmp_path, ["fr"])


def test_top_answer_ties_go_to_the_first() -> None:
    assert xgqa.top_answer({"a": 0.3, "b": 0.9, "c": 0.9}) == "b"
    assert xgqa.top_answer({"only": 1}) == "only"
    assert xgqa.top_answer({}) is None


def test_benchmark_declaration() -> None:
    benchmark = xgqa.BENCHMARK
    assert benchmark.name == "xgqa"
    assert benchmark.languages == ("bn", "de", "en", "id", "ko", "pt", "ru", "zh")
    assert benchmark.extra_fields == ("question_id",)
    assert benchmark.image_columns == ("image_id",)
    assert benchmark.image_path(Path("/raw"), "n235859.jpg") == Path("/raw/iglue/gqa/images/n235859.jpg")


def test_sample_builds_and_every_image_exists(sample_raw: Path) -> None:
    parts = xgqa.BENCHMARK.build(sample_raw, xgqa.BENCHMARK.languages)
    assert list(parts) == list(xgqa.BENCHMARK.languages)
    for language, part in parts.items():
        splits = part.records["split"].tolist()
        assert splits == (["train"] * 5 if language == "en" else []) + ["dev"] * 3 + ["test"] * 3
        assert part.skipped == ({"train: empty label": 1} if language == "en" else {})
        assert (part.records.loc[part.records["split"] != "train", "label"] == "").all()
        for image_id in part.records["image_id"]:
            assert xgqa.BENCHMARK.image_path(sample_raw, image_id).is_file(), image_id


# --- the sample generator (all of IGLUE) ------------------------------------------------------

def _all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sample_generator_is_deterministic(tmp_path: Path) -> None:
    write_iglue(tmp_path / "a", seed=0)
    write_iglue(tmp_path / "b", seed=0)
    a, b = _all_files(tmp_path / "a"), _all_files(tmp_path / "b")
    assert a == b
    write_iglue(tmp_path / "c", seed=1)
    assert _all_files(tmp_path / "c") != a


def test_sample_images_are_small_jpegs(sample_raw: Path) -> None:
    images = sorted(sample_raw.rglob("*.jpg"))
    assert len(images) > 40
    for path in images:
        with Image.open(path) as image:
            assert image.format == "JPEG" and image.size == IMAGE_SIZE
            image.load()

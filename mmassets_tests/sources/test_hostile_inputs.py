"""Hostile and broken input for every raw-file reader, table-driven.

``READERS`` lists each reader with a good minimal file (taken from its own tests where they have one);
the tests apply the same mutations to each: a missing, empty, truncated or non-UTF-8 file, the wrong
shape at the top and for a record, a field dropped or of the wrong type, NUL characters and unsafe
values in a field that becomes a path, NUL and 1 MB strings in text, and many copies of one
record. Every failure must be a RawFormatError / RawFileMissing naming the file and, where there is
a record, its position and the field; never a bare KeyError/TypeError/pandas traceback, never a
silent drop. Readers of other formats (parquet, gzip lists, folders on disk) follow the table."""

from __future__ import annotations

import copy
import gzip
import json
import os
import pickle
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field as dc_field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmassets.dataoptim.submissions import check_byod, read_ids
from mmassets.sources import (aokvqa, blip, coco, conversation_files, flickr, gqa_questions, iglue, imagenet,
                              interleaved, llava, llm_jp_ids, llm_jp_pairs, maxm, ocrvqa, okvqa, pope, refcoco,
                              shikra_rd, svit, textvqa, vqav2, xm3600)
from mmassets.sources.coyo import read_subset
from mmassets.sources.synthdog import read_synthdog
from mmassets.sources.validation import RawFileMissing, RawFormatError, safe_relative_path

from test_blip_reader import BLIP
from test_conversation_files import RECORDS as CONVERSATIONS
from test_coyo_subset import write as write_coyo
from test_imagenet_reader import GOOD_BABEL, GOOD_INDEX
from test_interleaved_documents import DOC
from test_llm_jp_ids import gz
from test_refcoco_reader import _refs
from test_shikra_rd_reader import _records as _shikra_records
from test_synthdog_reader import write as write_synthdog
from test_textvqa_reader import _textcaps, _textvqa

COPIES = 30_000
"""Copies of one record in a file: refused at the first repeat where ids must be unique, else every
one read (30,000 rather than 200,000 to keep this file fast: a reader quadratic in them still takes
some 10⁹ steps; the id lists below take 200,000)."""
SECONDS = 10.0
MEGABYTE = "x" * 1_000_000
UNSAFE = ("/etc/passwd", "../x.jpg", "a/../../x.jpg", "C:\\x.jpg", "C:x.jpg", "\\\\server\\share\\x.jpg",
          "a\\..\\..\\x.jpg", "", ".", "a\0b.jpg", "x.jpg\0")
"""Values a record must not be allowed to turn into a path: absolute, climbing out, Windows drive or
share, backslash climbs, empty, the folder itself, NUL characters."""
POSITION = re.compile(r"line \d+|record \d+|\[\d+\]|byte \d+")
WRONG = {str: 12.5, int: "12", float: "12", list: "x", dict: "x", bool: "x"}
"""A value of the wrong kind, by the kind of the good value (a float for a string: ids that may be
strings or integers refuse it too)."""


@dataclass(frozen=True)
class Reader:
    name: str
    read: Callable[[Path], Any]
    """Reads the file (the path under the raw root is ``file``)."""
    good: Any
    """A good file's content: the JSON document, the list of JSON lines, or the pickled object."""
    where: str
    """How the reader names the first record."""
    file: str = "data.json"
    fmt: str = "json"
    """json, jsonl or pickle."""
    at: tuple = ()
    """Where the records are in the document (keys from the top)."""
    fields: tuple[str, ...] = ()
    """Required fields: absent, null or of the wrong kind is an error naming it."""
    paths: tuple[str, ...] = ()
    """Fields that become paths: UNSAFE values are an error naming the field."""
    texts: tuple[str, ...] = ()
    """Free-text fields (dotted, inside the record): NUL characters and 1 MB strings are read."""
    unique: str | None = None
    """What a repeated record's error names (its id field); None where repeats are read, every one."""
    key_path: bool = False
    """The records are an object whose keys become paths."""
    nul_text: bool = True
    """False where the reader's documented policy refuses NUL in text (BLIP's web captions)."""
    wrong: dict = dc_field(default_factory=dict)
    """field → wrong values, where the defaults (null, WRONG) would be accepted."""
    alias: dict = dc_field(default_factory=dict)
    """field → the name an error gives it."""
    folder: bool = False
    """The reader reads a folder's files: a missing one names the folder."""


COCO_IMAGE = {"filepath": "train2014", "filename": "COCO_train2014_000000000001.jpg", "split": "train", "cocoid": 1,
              "sentences": [{"raw": "A dog on the grass.", "tokens": ["a", "dog"]}]}
FLICKR_IMAGE = {"imgid": 0, "filename": "1000092795.jpg", "split": "train", "sentences": [{"raw": "Two guys."}]}
AOKVQA = {"split": "train", "image_id": 299207, "question_id": "22MexNkBPpdZGX6sxbxVBH",
          "question": "What is the man awaiting?", "choices": ["train", "cab"], "correct_choice_idx": 1,
          "direct_answers": ["cab", "taxi"], "rationales": ["He has bags."]}
VQA_QUESTIONS = {"questions": [{"image_id": 1, "question": "What colour?", "question_id": 10}]}
VQA_ANNOTATIONS = {"annotations": [{"question_id": 10, "image_id": 1, "multiple_choice_answer": "red",
                                    "answers": [{"answer": "red", "answer_id": 1}], "answer_type": "other"}]}
OKVQA_ANNOTATIONS = {"annotations": [{"question_id": 10, "image_id": 1, "question_type": "eight",
                                      "answers": [{"answer": "red", "raw_answer": "red", "answer_id": 1}]}]}
INSTANCES = {"images": [{"id": 1, "file_name": "COCO_train2014_000000000001.jpg", "height": 10, "width": 20}],
             "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5]}], "categories": []}
MARVL = {"concept": "42-Keman", "language": "tr", "caption": "Bir keman.", "left_img": "42-9.jpg",
         "right_img": "42-1.jpg", "label": False}
XM3600 = {"image/key": "000411001ff7dd4f", "image/locale": "en", "en": {"caption": ["A cat."]}}
SVIT = [{"image_id": 2327022, "conversations": [{"content": [{"from": "user", "value": "What is he holding?"},
                                                             {"from": "gpt", "value": "A frisbee."}]}]}]
MAXM = {"annotations": [{"image_id": "000411001ff7dd4f", "image_url": "https://x/a.jpg", "qa_pairs": [
    {"question_id": "q1", "question": "What is it?", "answers": ["cat"], "processed_answers": ["cat"],
     "is_collection": False}]}]}
TURNS = {"conversations": [{"from": "human", "value": "<image>\nWhat is here?"}, {"from": "gpt", "value": "A bus."}]}

READERS = [
    Reader("aokvqa", aokvqa.read_aokvqa, [AOKVQA], "[0]", unique="question_id",
           fields=("split", "image_id", "question_id", "question", "choices", "direct_answers", "rationales"),
           texts=("question", "rationales.0")),
    Reader("blip", blip.read_blip, BLIP, "record 0", fields=("url", "caption"), texts=("caption",), nul_text=False),
    Reader("blip_sample", blip.read_blip, [{**BLIP[0], "jpg": "./images/00000000.jpg"}], "record 0",
           fields=("url", "caption"), paths=("jpg",), unique="jpg"),
    Reader("coco_karpathy", coco.read_karpathy, {"images": [COCO_IMAGE], "dataset": "coco"}, "images[0]",
           at=("images",), fields=("filepath", "filename", "split", "cocoid", "sentences"),
           paths=("filepath", "filename"), texts=("sentences.0.raw",), unique="cocoid"),
    Reader("flickr_karpathy", flickr.read_karpathy_flickr, {"images": [FLICKR_IMAGE]}, "images[0]", at=("images",),
           fields=("imgid", "filename", "split", "sentences"), paths=("filename",), texts=("sentences.0.raw",),
           unique="imgid"),
    Reader("conversations_array", lambda p: conversation_files.read_conversation_file(p, "get it"), CONVERSATIONS,
           "record 0", fields=("id", "conversations"), paths=("image",), texts=("conversations.0.value",)),
    Reader("conversations_lines", lambda p: conversation_files.read_conversation_file(p, "get it"), CONVERSATIONS,
           "line 1", fmt="jsonl", fields=("id", "conversations"), paths=("image",),
           texts=("conversations.0.value",)),
    Reader("flickr30k_iglue", flickr.read_flickr30k, [{"sentences": ["A dog runs."], "id": "1", "img_path": "1.jpg"}],
           "line 1", fmt="jsonl", fields=("img_path", "sentences"), paths=("img_path",), texts=("sentences.0",)),
    Reader("xflickrco", flickr.read_xflickrco, [{"sentences": ["Ein Hund."], "img_path": "COCO_val2014_1.jpg"}],
           "line 1", fmt="jsonl", fields=("img_path", "sentences"), paths=("img_path",), texts=("sentences.0",)),
    Reader("gqa_balanced", gqa_questions.read_gqa_questions,
           {"02930152": {"imageId": "2354786", "question": "Is the sky dark?", "answer": "yes",
                         "fullAnswer": "Yes, the sky is dark.", "isBalanced": True}}, "question '02930152'",
           fields=("imageId", "question", "answer", "fullAnswer"), paths=("imageId",), texts=("question",),
           unique="'02930152'"),
    Reader("iglue_gqa_train", iglue.read_gqa_train,
           [{"img_id": "2354786", "label": {"yes": 1.0}, "question_id": "02930152", "sent": "Is the sky dark?"}],
           "record 0", fields=("img_id", "sent", "label"), paths=("img_id",), texts=("sent",)),
    Reader("xgqa", iglue.read_xgqa, {"q1": {"imageId": "n235859", "question": "Ist der Himmel dunkel?",
                                            "answer": "yes"}}, "question 'q1'",
           fields=("imageId", "question", "answer"), paths=("imageId",), texts=("question",), unique="'q1'"),
    Reader("xvnli", lambda p: iglue.read_xvnli(p, "gold_label"), [
        {"Flikr30kID": "759822302", "pairID": "p1", "sentence2": "A dog.", "gold_label": "entailment"}],
        "record 0", fmt="jsonl", fields=("pairID", "Flikr30kID", "sentence2", "gold_label"), paths=("Flikr30kID",),
        texts=("sentence2",)),
    Reader("marvl", iglue.read_marvl, [MARVL], "record 0", fmt="jsonl",
           fields=("concept", "language", "caption", "left_img", "right_img", "label"),
           paths=("concept", "language", "left_img", "right_img"), texts=("caption",)),
    Reader("imagenet_class_index", imagenet.read_class_index, GOOD_INDEX, "key '0'", paths=("0",), texts=("1",),
           alias={"0": "wnid", "1": "name"}, unique="'0'"),
    Reader("babel_imagenet", imagenet.read_babel, GOOD_BABEL, "language 'DE'", texts=("1.0",), unique="'DE'"),
    Reader("interleaved", lambda p: list(interleaved.read_documents(p)), [DOC], "line 1", fmt="jsonl",
           fields=("text_list", "image_info"), texts=("text_list.0",)),
    Reader("llava", llava.read_llava, [{"id": "000000442786", "image": "000000442786.jpg", **TURNS}], "[0]",
           fields=("id", "image", "conversations"), paths=("image",), texts=("conversations.0.value",)),
    Reader("llm_jp_pairs", lambda p: llm_jp_pairs.read_pairs(p.parents[2]),
           [{"url": "https://x/1.jpg", "text": "一"}], "record 0", fmt="jsonl", file="llm_jp/alt_pair_ja/a.jsonl",
           fields=("url", "text"), texts=("text",), folder=True),
    Reader("maxm", maxm.read_maxm, MAXM, "annotations[0]", at=("annotations",), fields=("image_id", "qa_pairs"),
           paths=("image_id",), texts=("qa_pairs.0.question",)),
    Reader("ocrvqa", ocrvqa.read_ocrvqa, {"761183272": {"imageURL": "http://x/a.jpg", "questions": ["Who wrote it?"],
                                                        "answers": ["Sandra Boynton"], "title": "T", "split": 1}},
           "ASIN '761183272'", fields=("imageURL", "questions", "answers", "split"), key_path=True,
           texts=("questions.0",), unique="'761183272'"),
    Reader("okvqa_questions", okvqa.read_okvqa_questions, VQA_QUESTIONS, "questions[0]", at=("questions",),
           fields=("image_id", "question", "question_id"), texts=("question",), unique="question_id"),
    Reader("okvqa_annotations", okvqa.read_okvqa_annotations, OKVQA_ANNOTATIONS, "annotations[0]",
           at=("annotations",), fields=("question_id", "image_id", "answers"), texts=("answers.0.answer",),
           unique="question_id"),
    Reader("vqav2_questions", vqav2.read_questions, VQA_QUESTIONS, "questions[0]", at=("questions",),
           fields=("image_id", "question", "question_id"), texts=("question",), unique="question_id"),
    Reader("vqav2_annotations", vqav2.read_annotations, VQA_ANNOTATIONS, "annotations[0]", at=("annotations",),
           fields=("question_id", "image_id", "multiple_choice_answer", "answers"), texts=("answers.0.answer",),
           unique="question_id"),
    Reader("pope_questions", pope.read_questions, [
        {"question_id": 1, "image": "COCO_val2014_000000000001.jpg", "image_id": 1, "text": "Is there a dog?",
         "label": "yes"}], "line 1", fmt="jsonl", fields=("question_id", "image", "text"), paths=("image",),
        texts=("text",)),
    Reader("pope_segmentation", pope.read_segmentation, [{"image": "COCO_val2014_000000000001.jpg",
                                                          "objects": ["person"]}], "line 1", fmt="jsonl",
           fields=("image", "objects"), paths=("image",), texts=("objects.0",), unique="image"),
    Reader("refcoco_refs", refcoco.read_refs, _refs(), "refs[0]", fmt="pickle", file="refs(unc).p",
           fields=("ref_id", "ann_id", "image_id", "category_id", "split", "sentences"),
           texts=("sentences.0.sent",), unique="ref_id"),
    Reader("refcoco_instances", refcoco.read_instances, INSTANCES, "images[0]", at=("images",),
           fields=("id", "file_name", "width", "height"), paths=("file_name",), unique="id"),
    Reader("shikra_rd", shikra_rd.read_shikra_rd, _shikra_records(), "line 1", fmt="jsonl",
           fields=("img_path", "boxes", "question", "answer", "cot_with_ans"), paths=("img_path",),
           texts=("question", "answer")),
    Reader("svit", lambda p: svit.read_svit(p, "conversation"), SVIT, "[0]", fields=("image_id", "conversations"),
           paths=("image_id",), texts=("conversations.0.content.0.value",), wrong={"image_id": [12.5]}),
    Reader("textvqa", textvqa.read_textvqa, _textvqa(), "data[0]", at=("data",),
           fields=("question_id", "question", "image_id", "answers"), paths=("image_id",), texts=("question",)),
    Reader("textcaps", textvqa.read_textcaps, _textcaps(), "data[0]", at=("data",),
           fields=("caption_id", "image_id", "caption_str"), paths=("image_id",), texts=("caption_str",)),
    Reader("xm3600", lambda p: xm3600.read_xm3600(p, ["en"]), [XM3600], "line 1", fmt="jsonl",
           fields=("image/key", "image/locale", "en"), paths=("image/key",), texts=("en.caption.0",)),
]
BY_NAME = {reader.name: reader for reader in READERS}
assert len(BY_NAME) == len(READERS)


# --- building files ----------------------------------------------------------------------------


def _records(reader: Reader, doc: Any) -> Any:
    """The list (or keyed object) of records inside ``doc``."""
    for key in reader.at:
        doc = doc[key]
    return doc


def _first_key(records: Any) -> Any:
    return next(iter(records)) if isinstance(records, dict) else 0


def _mutated(reader: Reader, change: Callable[[Any], Any]) -> Any:
    """The good content with its first record replaced by ``change(record)`` (a copy)."""
    doc = copy.deepcopy(reader.good)
    records = _records(reader, doc)
    key = _first_key(records)
    records[key] = change(records[key])
    return doc


def _parts(record: Any, dotted: str) -> list:
    """The keys leading to a field inside a record: ``sentences.0.raw``; ``image/key`` is one."""
    if isinstance(record, dict) and dotted in record:
        return [dotted]
    return [int(part) if part.isdigit() else part for part in dotted.split(".")]


def _get(record: Any, dotted: str) -> Any:
    for part in _parts(record, dotted):
        record = record[part]
    return record


def _set(record: Any, dotted: str, value: Any) -> Any:
    *parents, last = _parts(record, dotted)
    target = record
    for part in parents:
        target = target[part]
    target[last] = value
    return record


def _first(reader: Reader) -> Any:
    """The first record of the good content."""
    records = _records(reader, reader.good)
    return records[_first_key(records)]


def _encode(reader: Reader, content: Any) -> bytes:
    if reader.fmt == "pickle":
        return pickle.dumps(content, protocol=2)
    if reader.fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in content).encode()
    return json.dumps(content, ensure_ascii=False).encode()


def _write(tmp_path: Path, reader: Reader, data: bytes) -> Path:
    path = tmp_path / "raw" / reader.file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _rejected(reader: Reader, path: Path, *parts: str, kind: type = RawFormatError) -> str:
    """``reader`` must refuse ``path`` with ``kind`` whose message names the file and holds ``parts``."""
    with pytest.raises(kind) as info:
        reader.read(path)
    message = str(info.value)
    named = str(path.parent) if reader.folder and kind is RawFileMissing else str(path)
    assert named in message, (named, message)
    for part in parts:
        assert part in message, (part, message)
    return message


def _field_name(reader: Reader, field: str) -> str:
    return f"field {reader.alias.get(field, field.split('.')[0])!r}"


def _holds(result: Any, value: str) -> bool:
    """Whether ``value`` is (inside) a string somewhere in what a reader returned."""
    if isinstance(result, str):  # conversation files keep each record as published, in JSON
        return value in result or json.dumps(value)[1:-1] in result
    if isinstance(result, pd.DataFrame):
        return any(_holds(v, value) for column in result.columns for v in result[column].tolist())
    if isinstance(result, dict):
        return any(_holds(v, value) for v in result.values())
    if isinstance(result, (list, tuple, np.ndarray)):
        return any(_holds(v, value) for v in result)
    return False


def _rows(result: Any) -> int:
    if isinstance(result, tuple) and result and isinstance(result[0], pd.DataFrame):
        return len(result[0])
    return len(result)


def _params(attribute: str, values: Callable[[Reader, str], list] | None = None) -> list:
    out = []
    for reader in READERS:
        for field in getattr(reader, attribute):
            for value in (values(reader, field) if values else [None]):
                out.append(pytest.param(reader, field, value, id=f"{reader.name}-{field}-{value!r}"[:80]))
    return out


def _wrong_values(reader: Reader, field: str) -> list:
    return [None, *reader.wrong.get(field, [WRONG[type(_get(_first(reader), field))]])]


ALL = [pytest.param(reader, id=reader.name) for reader in READERS]
TEXT_READERS = [pytest.param(r, id=r.name) for r in READERS if r.fmt != "pickle"]


# --- the file as a whole -------------------------------------------------------------------------


@pytest.mark.parametrize("reader", ALL)
def test_good_file_is_read(tmp_path: Path, reader: Reader) -> None:
    assert _rows(reader.read(_write(tmp_path, reader, _encode(reader, reader.good)))) >= 1


@pytest.mark.parametrize("reader", ALL)
def test_missing_file(tmp_path: Path, reader: Reader) -> None:
    _rejected(reader, tmp_path / "raw" / reader.file, kind=RawFileMissing)


@pytest.mark.parametrize("reader", ALL)
@pytest.mark.parametrize("content", [b"", b" \n\n"], ids=["empty", "blank"])
def test_empty_file(tmp_path: Path, reader: Reader, content: bytes) -> None:
    _rejected(reader, _write(tmp_path, reader, content))


@pytest.mark.parametrize("reader", ALL)
def test_truncated_file(tmp_path: Path, reader: Reader) -> None:
    data = _encode(reader, reader.good)
    message = _rejected(reader, _write(tmp_path, reader, data[: len(data) // 2]))
    if reader.fmt != "pickle":
        assert POSITION.search(message), message


@pytest.mark.parametrize("reader", TEXT_READERS)
def test_non_utf8_bytes(tmp_path: Path, reader: Reader) -> None:
    field = (reader.texts or reader.fields)[0]
    doc = _mutated(reader, lambda r: _set(r, field, "caf\u00e9 MARK"))
    data = _encode(reader, doc).replace("\u00e9 MARK".encode(), b"\xe9\xff MARK")
    message = _rejected(reader, _write(tmp_path, reader, data), "UTF-8")
    assert POSITION.search(message), message


@pytest.mark.parametrize("reader", ALL)
def test_wrong_shape_at_the_top(tmp_path: Path, reader: Reader) -> None:
    if reader.fmt == "jsonl":  # a line that wraps the record in an object
        data = (json.dumps({"records": [reader.good[0]]}) + "\n").encode()
        _rejected(reader, _write(tmp_path, reader, data), reader.where)
        return
    wrong = {"records": reader.good} if isinstance(reader.good, list) else [reader.good]
    _rejected(reader, _write(tmp_path, reader, _encode(reader, wrong)))


@pytest.mark.parametrize("reader", ALL)
@pytest.mark.parametrize("record", ["just a string", 7, None, ["a", "list", "of three"]])
def test_record_of_the_wrong_shape(tmp_path: Path, reader: Reader, record: Any) -> None:
    if reader.name == "conversations_lines" and isinstance(record, list):
        pytest.skip("a conversation file starting with '[' is a JSON array, by VILA's rule")
    data = _encode(reader, _mutated(reader, lambda _: record))
    _rejected(reader, _write(tmp_path, reader, data), reader.where)


@pytest.mark.parametrize("reader", TEXT_READERS)
def test_deeply_nested_value(tmp_path: Path, reader: Reader) -> None:
    field = (reader.fields or reader.texts)[0]
    data = _encode(reader, _mutated(reader, lambda r: _set(r, field, "DEEP")))
    data = data.replace(b'"DEEP"', b"[" * 5_000 + b"]" * 5_000)
    _rejected(reader, _write(tmp_path, reader, data))


# --- fields ------------------------------------------------------------------------------------


@pytest.mark.parametrize("reader, field, _", _params("fields"))
def test_missing_field(tmp_path: Path, reader: Reader, field: str, _: None) -> None:
    data = _encode(reader, _mutated(reader, lambda r: {k: v for k, v in r.items() if k != field}))
    _rejected(reader, _write(tmp_path, reader, data), reader.where, _field_name(reader, field))


@pytest.mark.parametrize("reader, field, value", _params("fields", _wrong_values))
def test_field_of_the_wrong_type(tmp_path: Path, reader: Reader, field: str, value: Any) -> None:
    data = _encode(reader, _mutated(reader, lambda r: _set(r, field, value)))
    _rejected(reader, _write(tmp_path, reader, data), reader.where, _field_name(reader, field))


@pytest.mark.parametrize("reader, field, value", _params("paths", lambda r, f: list(UNSAFE)))
def test_unsafe_path(tmp_path: Path, reader: Reader, field: str, value: str) -> None:
    if reader.name == "blip_sample" and value and "\0" not in value and value != ".":
        pytest.skip("BLIP's sample names an image by the base name of jpg: climbing paths lose their folders")
    data = _encode(reader, _mutated(reader, lambda r: _set(r, field, value)))
    _rejected(reader, _write(tmp_path, reader, data), reader.where, _field_name(reader, field))


@pytest.mark.parametrize("reader", [pytest.param(r, id=r.name) for r in READERS if r.key_path])
@pytest.mark.parametrize("key", UNSAFE)
def test_unsafe_path_as_a_key(tmp_path: Path, reader: Reader, key: str) -> None:
    doc = copy.deepcopy(reader.good)
    records = _records(reader, doc)
    first = _first_key(records)
    records[key] = records.pop(first)
    _rejected(reader, _write(tmp_path, reader, _encode(reader, doc)), repr(key)[:20])


@pytest.mark.parametrize("reader, field, _", _params("texts"))
def test_nul_in_text_is_kept(tmp_path: Path, reader: Reader, field: str, _: None) -> None:
    text = f"{_get(_first(reader), field)}\0after"
    path = _write(tmp_path, reader, _encode(reader, _mutated(reader, lambda r: _set(r, field, text))))
    if not reader.nul_text:
        _rejected(reader, path, reader.where, _field_name(reader, field), "NUL")
        return
    assert _holds(reader.read(path), "\0after")


@pytest.mark.parametrize("reader, field, _", _params("texts"))
def test_one_megabyte_text(tmp_path: Path, reader: Reader, field: str, _: None) -> None:
    text = f"{_get(_first(reader), field)} {MEGABYTE}"
    path = _write(tmp_path, reader, _encode(reader, _mutated(reader, lambda r: _set(r, field, text))))
    start = time.perf_counter()
    result = reader.read(path)
    assert time.perf_counter() - start < 2.0
    assert _holds(result, MEGABYTE)


@pytest.mark.parametrize("reader, field, _", _params("fields") + _params("paths"))
def test_one_megabyte_in_any_field(tmp_path: Path, reader: Reader, field: str, _: None) -> None:
    """Read, or refused naming the record and a field (this one, or one that must agree with it) in a
    short message; quickly either way."""
    path = _write(tmp_path, reader, _encode(reader, _mutated(reader, lambda r: _set(r, field, MEGABYTE))))
    start = time.perf_counter()
    try:
        reader.read(path)
    except RawFormatError as exc:
        assert str(path) in str(exc) and f"{reader.where}, field " in str(exc), str(exc)
        assert len(str(exc)) < 2_000
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("reader", [pytest.param(r, id=r.name) for r in READERS if r.paths])
def test_long_unsafe_path_gives_a_short_message(tmp_path: Path, reader: Reader) -> None:
    value = "../" + MEGABYTE + "\0"
    data = _encode(reader, _mutated(reader, lambda r: _set(r, reader.paths[0], value)))
    message = _rejected(reader, _write(tmp_path, reader, data), reader.where)
    assert len(message) < 2_000


# --- many copies of one record -------------------------------------------------------------------


def _duplicated(reader: Reader, copies: int) -> bytes:
    """The good file with its first record repeated ``copies`` times (text built directly: fast)."""
    records = _records(reader, reader.good)
    key = _first_key(records)
    if reader.fmt == "pickle":
        return pickle.dumps([records[key]] * copies, protocol=2)
    one = json.dumps(records[key], ensure_ascii=False)
    if reader.fmt == "jsonl":
        return ((one + "\n") * copies).encode()
    if isinstance(records, dict):  # the same key again and again
        inner = "{" + ",".join([f"{json.dumps(key)}:{one}"] * copies) + "}"
    else:
        inner = "[" + ",".join([one] * copies) + "]"
    if not reader.at:
        return inner.encode()
    doc = copy.deepcopy(reader.good)
    _records(replace(reader, at=reader.at[:-1]), doc)[reader.at[-1]] = "@@RECORDS@@"
    return json.dumps(doc, ensure_ascii=False).replace('"@@RECORDS@@"', inner).encode()


@pytest.mark.parametrize("reader", ALL)
def test_many_duplicates(tmp_path: Path, reader: Reader) -> None:
    path = _write(tmp_path, reader, _duplicated(reader, COPIES))
    start = time.perf_counter()
    if reader.unique:
        _rejected(reader, path, reader.unique)
    else:
        assert _rows(reader.read(path)) == COPIES  # every copy read, none dropped
    assert time.perf_counter() - start < SECONDS


# --- the shared path check -----------------------------------------------------------------------


@pytest.mark.parametrize("value", UNSAFE)
def test_safe_relative_path_rejects(value: str) -> None:
    with pytest.raises(RawFormatError, match=r"file\.json, record 3, field 'image'"):
        safe_relative_path(value, "file.json", "record 3", "image")


@pytest.mark.parametrize("value, normalised", [("a/b.jpg", "a/b.jpg"), ("a\\b.jpg", "a/b.jpg"),
                                               ("./a//b.jpg", "a/b.jpg"), ("a/../b.jpg", "b.jpg")])
def test_safe_relative_path_keeps(value: str, normalised: str) -> None:
    assert safe_relative_path(value, "file.json", "record 3", "image") == normalised


# --- readers of other formats ----------------------------------------------------------------------


def _coyo(raw: Path, **columns: Any) -> Path:
    path = raw / "coyo" / "part-00000.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_coyo(path, [1, 2])
    if columns:
        table = pq.read_table(path)
        for name, values in columns.items():
            table = table.set_column(table.schema.get_field_index(name), name, pa.array(values))
        pq.write_table(table, path)
    return path


def test_coyo_broken_parquet(tmp_path: Path) -> None:
    path = _coyo(tmp_path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(RawFormatError, match=re.escape(str(path))):
        read_subset(tmp_path, np.array([1]))


@pytest.mark.parametrize("column, values, where", [
    ("id", ["1", "2"], "field 'id'"), ("id", pa.array([1, None], pa.int64()), "row 1, field 'id'"),
    ("url", [None, "https://x/2.jpg"], "row 0, field 'url'"), ("text", ["a", None], "row 1, field 'text'"),
    ("clip_similarity_vitb32", ["high", "low"], "field 'clip_similarity_vitb32'")])
def test_coyo_column_of_the_wrong_type_or_null(tmp_path: Path, column: str, values: Any, where: str) -> None:
    path = _coyo(tmp_path, **{column: values})
    with pytest.raises(RawFormatError) as info:
        read_subset(tmp_path, np.array([1, 2]))
    assert str(path) in str(info.value) and where in str(info.value), str(info.value)


def test_coyo_nul_and_long_text_are_kept(tmp_path: Path) -> None:
    _coyo(tmp_path, text=["a\0b", MEGABYTE])
    assert read_subset(tmp_path, np.array([1, 2]))["text"].tolist() == ["a\0b", MEGABYTE]


def _synthdog(folder: Path, **kw: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_synthdog(folder / "train-00000.parquet", ["一 二"], **kw)
    return folder / "train-00000.parquet"


def test_synthdog_missing_folder_and_broken_parquet(tmp_path: Path) -> None:
    with pytest.raises(RawFileMissing, match=re.escape(str(tmp_path / "data"))):
        list(read_synthdog(tmp_path / "data"))
    path = _synthdog(tmp_path / "data")
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(RawFormatError, match=re.escape(str(path))):
        list(read_synthdog(tmp_path / "data"))


@pytest.mark.parametrize("truth, field", [
    (["{not json"], "ground_truth"), (["[1]"], "ground_truth.gt_parse.text_sequence"),
    ([json.dumps({"gt_parse": {"text_sequence": 3}})], "ground_truth.gt_parse.text_sequence"),
    ([None], "ground_truth")])
def test_synthdog_bad_ground_truth(tmp_path: Path, truth: list, field: str) -> None:
    path = _synthdog(tmp_path, truth=truth)
    with pytest.raises(RawFormatError) as info:
        list(read_synthdog(tmp_path))
    assert str(path) in str(info.value) and "row 0" in str(info.value) and f"field {field!r}" in str(info.value)


def test_synthdog_nul_and_long_text_are_kept(tmp_path: Path) -> None:
    text = f"a\0b {MEGABYTE}"
    _synthdog(tmp_path, truth=[json.dumps({"gt_parse": {"text_sequence": text}})])
    assert [row.text for row in read_synthdog(tmp_path)] == [text]


@pytest.mark.parametrize("read, name", [(llm_jp_ids.read_coyo_ids, "coyo_6m_ids.txt.gz"),
                                        (llm_jp_ids.read_mmc4_ids, "mmc4_6m_ids.csv.gz")])
def test_id_lists_broken_files(tmp_path: Path, read: Callable, name: str) -> None:
    path = tmp_path / name
    with pytest.raises(RawFileMissing, match=re.escape(str(path))):
        read(path)
    good = "1,2\n" * 3 if "mmc4" in name else "1\n2\n"
    for content in (b"", b"not gzip at all", gzip.compress(good.encode())[:-6], gzip.compress(b""),
                    gzip.compress(b"\xe9\xff\n")):
        path.write_bytes(content)
        with pytest.raises(RawFormatError, match=re.escape(str(path))):
            read(path)


@pytest.mark.parametrize("line", ["x", "\u00b2", "\u0661", "1\x002", "-3", "9" * 30, "9" * 1_000_000])
def test_id_lists_bad_numbers_are_named(tmp_path: Path, line: str) -> None:
    coyo_path = gz(tmp_path / "coyo_6m_ids.txt.gz", f"1\n{line}\n")
    mmc4_path = gz(tmp_path / "mmc4_6m_ids.csv.gz", f"1,2\n3,{line}\n")
    for read, path, field in ((llm_jp_ids.read_coyo_ids, coyo_path, "id"),
                              (llm_jp_ids.read_mmc4_ids, mmc4_path, "index")):
        with pytest.raises(RawFormatError) as info:
            read(path)
        message = str(info.value)
        assert str(path) in message and "line 2" in message and f"field {field!r}" in message, message[:300]
        assert len(message) < 2_000


def test_id_lists_many_duplicates(tmp_path: Path) -> None:
    coyo_path = gz(tmp_path / "coyo_6m_ids.txt.gz", "12\n" * 200_000)
    mmc4_path = gz(tmp_path / "mmc4_6m_ids.csv.gz", "3,4\n" * 200_000)
    start = time.perf_counter()
    assert llm_jp_ids.read_coyo_ids(coyo_path).tolist() == [12]  # a set of ids: each once, as documented
    assert {k: v.tolist() for k, v in llm_jp_ids.read_mmc4_ids(mmc4_path).items()} == {3: [4]}
    assert time.perf_counter() - start < SECONDS


def _imagenet(raw: Path) -> Path:
    folder = raw / imagenet.TRAIN_DIR / "n01440764"
    folder.mkdir(parents=True)
    (folder / "n01440764_1.JPEG").write_bytes(b"jpeg")
    return folder


def test_imagenet_symlink_out_of_the_raw_root_is_refused(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    folder = _imagenet(raw)
    (tmp_path / "secret.JPEG").write_bytes(b"not an image")
    (folder / "n01440764_2.JPEG").symlink_to(tmp_path / "secret.JPEG")
    with pytest.raises(RawFormatError) as info:
        imagenet.list_images(raw, ["n01440764"])
    assert str(folder / "n01440764_2.JPEG") in str(info.value) and "outside the raw root" in str(info.value)


def test_imagenet_symlink_inside_the_raw_root_is_listed(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    folder = _imagenet(raw)
    (raw / "elsewhere.JPEG").write_bytes(b"jpeg")
    (folder / "n01440764_2.JPEG").symlink_to(raw / "elsewhere.JPEG")
    (folder / "n01440764_3.JPEG").symlink_to(raw / "absent.JPEG")  # dangling: not a file, not listed
    assert imagenet.list_images(raw, ["n01440764"]) == {
        "n01440764": ["n01440764/n01440764_1.JPEG", "n01440764/n01440764_2.JPEG"]}


def test_imagenet_train_folder_elsewhere_is_followed(tmp_path: Path) -> None:
    """A raw root whose imagenet/train is a link to another disk (a common setup) is read through it."""
    elsewhere = _imagenet(tmp_path / "disk").parent
    raw = tmp_path / "raw"
    (raw / "imagenet").mkdir(parents=True)
    os.symlink(elsewhere, raw / imagenet.TRAIN_DIR)
    assert imagenet.list_images(raw, ["n01440764"]) == {"n01440764": ["n01440764/n01440764_1.JPEG"]}


def test_submission_ids_missing_or_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "sub.txt"
    with pytest.raises(RawFileMissing, match=re.escape(str(path))):
        read_ids(path)
    path.write_bytes(b"coco_1\ncoco_\xff2\n")
    with pytest.raises(RawFormatError, match=re.escape(f"{path}, line 2")):
        read_ids(path)


def test_byod_unsafe_images_are_counted_not_fatal(tmp_path: Path) -> None:
    records = [{**CONVERSATIONS[0], "image": value} for value in UNSAFE if value]
    path = tmp_path / "byod.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    frame, problems = check_byod(path, lambda record_id, image: True)
    assert len(frame) == len(records)
    assert [p["record"] for p in problems if p["problem"].startswith("unsafe image path")] == list(range(len(records)))


def test_pair_file_whose_name_is_not_plain(tmp_path: Path) -> None:
    path = tmp_path / llm_jp_pairs.FOLDER / "bad name.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"url": "https://x/1.jpg", "text": "一"}) + "\n", encoding="utf-8")
    with pytest.raises(RawFormatError, match=re.escape(str(path))):
        llm_jp_pairs.read_pairs(tmp_path)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x/a.jpg", "javascript:alert(1)", "//x/a.jpg",
                                 "x/a.jpg", "", "http://"])
def test_blip_urls_must_be_http(tmp_path: Path, url: str) -> None:
    path = tmp_path / "blip.json"
    path.write_text(json.dumps([BLIP[0], {**BLIP[1], "url": url}]), encoding="utf-8")
    with pytest.raises(RawFormatError) as info:
        blip.read_blip(path)
    assert str(path) in str(info.value) and "record 1" in str(info.value) and "field 'url'" in str(info.value)


def test_blip_jpg_in_every_record_or_none(tmp_path: Path) -> None:
    path = tmp_path / "sample.json"
    for records, field in (([{**BLIP[0], "jpg": "images/1.jpg"}, BLIP[1]], "field 'jpg'"),
                           ([BLIP[0], {**BLIP[1], "jpg": "images/1.jpg"}], "field 'jpg'"),
                           ([{**BLIP[0], "jpg": None}], "field 'jpg'")):
        path.write_text(json.dumps(records), encoding="utf-8")
        with pytest.raises(RawFormatError) as info:
            blip.read_blip(path)
        assert str(path) in str(info.value) and field in str(info.value), str(info.value)


def test_refcoco_pickle_sharing_one_list_among_many_refs_is_refused_fast(tmp_path: Path) -> None:
    """Issue 30: a 938 kB refs pickle whose memo shares one 20,000-sentence list among 2,000 refs
    expanded to 40M records and crashed the build; refused at the bound, naming the file and the ref."""
    import tracemalloc

    sentences = [{"sent": f"the man on the left {i}", "tokens": [], "sent_id": i} for i in range(20_000)]
    refs = [{"ref_id": i, "ann_id": i, "image_id": 1, "category_id": 1, "split": "train", "sentences": sentences}
            for i in range(2_000)]
    path = tmp_path / "refs(unc).p"
    path.write_bytes(pickle.dumps(refs, protocol=2))  # the list is written once, then referred to by memo
    assert path.stat().st_size < 1_500_000
    del refs, sentences
    tracemalloc.start()
    start = time.monotonic()
    try:
        with pytest.raises(RawFormatError) as caught:
            refcoco.read_refs(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - start < SECONDS
    assert peak < 100_000_000, peak  # the loaded pickle shares its list; nothing was expanded
    message = str(caught.value)
    assert message.startswith(f"{path}, refs[500], field 'sentences': the refs expand to more than 10,000,000 "
                              "sentences"), message
    assert f"{refcoco.MAX_SENTENCES:,}" == "10,000,000"


def test_refcoco_refs_sharing_a_list_below_the_bound_read_as_many_rows(tmp_path: Path) -> None:
    sentences = [{"sent": "the man", "tokens": [], "sent_id": 0}, {"sent": "left one", "tokens": [], "sent_id": 1}]
    refs = [{"ref_id": i, "ann_id": i, "image_id": 1, "category_id": 1, "split": "train", "sentences": sentences}
            for i in range(3)]
    path = tmp_path / "refs(unc).p"
    path.write_bytes(pickle.dumps(refs, protocol=2))
    frame = refcoco.read_refs(path)
    assert frame["sentences"].tolist() == [["the man", "left one"]] * 3


def _holds_surrogate(result: Any) -> bool:
    if isinstance(result, str):
        return any("\ud800" <= c <= "\udfff" for c in result)
    if isinstance(result, pd.DataFrame):
        return any(_holds_surrogate(v) for column in result.columns for v in result[column].tolist())
    if isinstance(result, dict):
        return any(_holds_surrogate(k) or _holds_surrogate(v) for k, v in result.items())
    if isinstance(result, (list, tuple, np.ndarray)):
        return any(_holds_surrogate(v) for v in result)
    return False


@pytest.mark.parametrize("reader, field, _", _params("texts"))
def test_lone_surrogate_in_text_is_replaced_and_counted(tmp_path: Path, reader: Reader, field: str, _: None) -> None:
    """Issue 30: a ``\\ud800`` escape in a raw file was read as a lone surrogate, which no UTF-8 writer
    can encode (``UnicodeEncodeError`` with no file, record or field, as the raw asset was stored).
    Every reader replaces it with U+FFFD and counts it for the file, naming where the first was."""
    from mmassets.sources.validation import replacements

    text = f"{_get(_first(reader), field)} \ud800 after"
    content = _mutated(reader, lambda r: _set(r, field, text))
    if reader.fmt == "pickle":
        data = pickle.dumps(content, protocol=2)
    elif reader.fmt == "jsonl":
        data = "".join(json.dumps(r) + "\n" for r in content).encode()  # \ud800 escaped, as JSON writes it
    else:
        data = json.dumps(content).encode()
    path = _write(tmp_path, reader, data)
    result = reader.read(path)
    assert _holds(result, "\ufffd after") and not _holds_surrogate(result)
    replaced, first = replacements(path)
    assert replaced == 1 and first is not None and first.startswith(f"{path}, "), first
    assert replacements(path) == (0, None)  # asked for once


def test_an_escaped_surrogate_pair_is_one_character_not_a_replacement(tmp_path: Path) -> None:
    from mmassets.sources.validation import json_items, load_json, replacements

    path = tmp_path / "pair.json"
    path.write_text(json.dumps([{"text": "a cat 😀"}]), encoding="ascii")  # "\ud83d\ude00", as ensure_ascii writes it
    assert load_json(path, "") == [{"text": "a cat 😀"}] and replacements(path) == (0, None)
    assert list(json_items(path, "", "a list")) == [(0, {"text": "a cat 😀"})] and replacements(path) == (0, None)

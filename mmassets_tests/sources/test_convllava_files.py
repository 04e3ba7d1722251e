"""ConvLLaVA's eight files read as published (the sample profile writes each in its upstream format):
id types, text-only records, extra keys kept as lineage, unsafe paths set aside with the record
named; malformed files and records missing a field fail naming the file, record and field."""

import json

import pytest

from mmassets.defs.families.convllava import SETS
from mmassets.sample.convllava import GIF_NAMED_JPG, UNSAFE, write_convllava
from mmassets.sources.conversation_files import read_conversation_file
from mmassets.sources.validation import RawFileMissing, RawFormatError

FILES = {name: spec[1] for name, spec in SETS.items()}
EXPECTED_ROWS = {"sharegpt4v_pt": 5, "sharegpt4v_cap100k": 7, "allava_laion_caption": 3, "allava_laion_instruct": 3,
                 "allava_vflan_caption": 3, "allava_vflan_instruct": 3, "vision_flan": 8, "llava_v1_5_mix665k": 9}


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    folder = tmp_path_factory.mktemp("convllava")
    write_convllava(folder)
    return folder


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_published_file_reads_whole_and_as_published(raw, name):
    frame = read_conversation_file(raw / FILES[name], "get it", unsafe_paths="skip")
    assert len(frame) == EXPECTED_ROWS[name]
    published = json.loads((raw / FILES[name]).read_text(encoding="utf-8"))
    assert [json.loads(r) for r in frame["record"]] == published
    assert frame["source_index"].tolist() == list(range(len(published)))


def test_mixed_ids_text_only_records_and_extra_keys(raw):
    mix = read_conversation_file(raw / FILES["llava_v1_5_mix665k"], "get it")
    assert mix["id_is_int"].sum() == 1 and "2354787" in set(mix["id"])  # GQA's integer id, kept as published
    assert "VG_100K/2335575" in set(mix["id"])
    assert (mix["images"].map(len) == 0).sum() == 2  # ShareGPT's text-only records
    assert GIF_NAMED_JPG in {p for paths in mix["images"] for p in paths}
    laion = read_conversation_file(raw / FILES["allava_laion_caption"], "get it")
    assert set(laion["extra"]) == {"original_caption,url"}  # ALLaVA's lineage keys, kept in the record
    assert json.loads(laion["record"][0])["url"].startswith("https://")
    assert set(read_conversation_file(raw / FILES["allava_vflan_caption"], "get it")["extra"]) == {""}
    assert set(read_conversation_file(raw / FILES["vision_flan"], "get it")["extra"]) == {"task_name"}


def test_an_unsafe_path_is_set_aside_with_its_record_or_fails_naming_it(raw):
    path = raw / FILES["sharegpt4v_cap100k"]
    frame = read_conversation_file(path, "get it", unsafe_paths="skip")
    unsafe = frame[frame["unsafe_path"] != ""]
    assert unsafe["id"].tolist() == ["wikiart_bad"] and unsafe["unsafe_path"].tolist() == [UNSAFE]
    assert list(unsafe["images"].iloc[0]) == []
    with pytest.raises(RawFormatError, match="record 5") as caught:
        read_conversation_file(path, "get it")
    assert str(path) in str(caught.value) and "unsafe image path" in str(caught.value)


@pytest.mark.parametrize("absolute", ["/etc/passwd", "C:\\images\\x.jpg", "..\\..\\x.jpg"])
def test_absolute_and_windows_paths_are_unsafe_too(tmp_path, absolute):
    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"id": "a", "image": absolute, "conversations": [
        {"from": "human", "value": "<image>"}, {"from": "gpt", "value": "x"}]}]), encoding="utf-8")
    assert read_conversation_file(path, "get it", unsafe_paths="skip")["unsafe_path"].tolist() == [absolute]


@pytest.mark.parametrize("name", ["sharegpt4v_pt", "allava_laion_caption", "vision_flan", "llava_v1_5_mix665k"])
def test_a_record_missing_a_field_is_named(raw, tmp_path, name):
    records = json.loads((raw / FILES[name]).read_text(encoding="utf-8"))
    del records[1]["conversations"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    with pytest.raises(RawFormatError) as caught:
        read_conversation_file(path, "get it", unsafe_paths="skip")
    assert str(path) in str(caught.value) and "record 1" in str(caught.value) and "'conversations'" in str(caught.value)


def test_a_truncated_or_missing_file_is_named(raw, tmp_path):
    text = (raw / FILES["allava_vflan_instruct"]).read_text(encoding="utf-8")
    path = tmp_path / "ALLaVA-Instruct-VFLAN-4V.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(RawFormatError, match="truncated"):
        read_conversation_file(path, "get it")
    with pytest.raises(RawFileMissing, match="huggingface"):
        read_conversation_file(tmp_path / "absent.json", "get it from huggingface")

"""mmc4-core's shards as mmc4 publishes them: ``docs_shard_<N>_v3`` (core) and
``docs_no_face_shard_<N>_v3`` (fewer faces), each a ``.jsonl`` or the published ``.jsonl.zip`` of
one JSON-lines member; zips read as untrusted input; and which documents NVlabs' preparation keeps."""

import json
import struct
import zipfile

import pytest

from mmassets.sample.llm_jp import write_zipped_jsonl
from mmassets.sources import interleaved
from mmassets.sources.interleaved import (INCOMPLETE, NO_IMAGES, NONE_LEFT, complete, drop_reason,
                                          invented_names, mmc4_shard_file, read_documents, shard_stem,
                                          zip_jsonl_records)
from mmassets.sources.validation import RawFormatError


def doc(n: int, images: int = 1) -> dict:
    return {"url": f"https://example.org/{n}", "text_list": ["One.", "Two."],
            "image_info": [{"image_name": f"{n}_{i}.jpg", "raw_url": f"https://x/{n}_{i}.jpg", "matched_text_index": 1}
                           for i in range(images)],
            "similarity_matrix": [[0.1, 0.3]] * images, "could_have_url_duplicate": 0}


DOCS = [doc(0), doc(1, images=2), doc(2)]
TEXT = "".join(json.dumps(d) + "\n" for d in DOCS)


def test_a_published_zip_reads_as_its_unzipped_file(tmp_path):
    (tmp_path / "docs_shard_0_v3.jsonl").write_text(TEXT)
    write_zipped_jsonl(tmp_path / "docs_shard_0_v3.jsonl.zip", "docs_shard_0_v3.jsonl", TEXT)
    unzipped = list(read_documents(tmp_path / "docs_shard_0_v3.jsonl"))
    zipped = list(read_documents(tmp_path / "docs_shard_0_v3.jsonl.zip"))
    assert zipped == unzipped and [d["url"] for _, d in zipped] == [d["url"] for d in DOCS]
    assert shard_stem("docs_shard_0_v3.jsonl.zip") == shard_stem("docs_shard_0_v3.jsonl") == "docs_shard_0_v3"


def _touch(folder, *names):
    for name in names:
        (folder / name).write_text("{}\n")


@pytest.mark.parametrize("present, variant, read, passed_over", [
    (["docs_shard_3_v3.jsonl.zip"], "core", "docs_shard_3_v3.jsonl.zip", []),
    (["docs_no_face_shard_3_v3.jsonl.zip"], "core", "docs_no_face_shard_3_v3.jsonl.zip", []),  # the only one
    (["docs_shard_3_v3.jsonl.zip", "docs_no_face_shard_3_v3.jsonl"], "core", "docs_shard_3_v3.jsonl.zip",
     ["docs_no_face_shard_3_v3.jsonl"]),
    (["docs_shard_3_v3.jsonl.zip", "docs_no_face_shard_3_v3.jsonl"], "no_face", "docs_no_face_shard_3_v3.jsonl",
     ["docs_shard_3_v3.jsonl.zip"]),
    (["docs_shard_3_v3.jsonl", "docs_shard_3_v3.jsonl.zip"], "core", "docs_shard_3_v3.jsonl",
     ["docs_shard_3_v3.jsonl.zip"]),  # the unzipped file before its zip
    (["docs_3_v3.jsonl", "docs_shard_30_v3.jsonl"], "core", None, None),  # never published; another shard
])
def test_the_file_read_for_a_shard(tmp_path, present, variant, read, passed_over):
    _touch(tmp_path, *present)
    found = mmc4_shard_file(tmp_path, 3, variant)
    if read is None:
        assert found is None
        return
    assert found.path.name == read and list(found.passed_over) == passed_over
    assert found.variant == ("no_face" if "no_face" in read else "core") and found.zipped == read.endswith(".zip")
    with pytest.raises(ValueError, match="unknown mmc4 variant"):
        mmc4_shard_file(tmp_path, 3, "faces")


def test_the_name_mmc4_never_published_is_pointed_out(tmp_path):
    _touch(tmp_path, "docs_0_v3.jsonl", "docs_shard_1_v3.jsonl", "docs_12_v3.jsonl.zip", "notes.txt")
    assert invented_names(tmp_path) == ["docs_0_v3.jsonl", "docs_12_v3.jsonl.zip"]
    assert invented_names(tmp_path / "absent") == []


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("members, problem", [
    ({"a.jsonl": TEXT.encode(), "b.jsonl": TEXT.encode()}, "found 2 members"),
    ({}, "found 0 members"),
    ({"data_core/docs_shard_0_v3.jsonl": TEXT.encode()}, "is not a plain file name"),
    ({"../docs_shard_0_v3.jsonl": TEXT.encode()}, "is not a plain file name"),
    ({"folder/": b""}, "is not a plain file name"),
    ({"C:docs.jsonl": TEXT.encode()}, "is not a plain file name"),
])
def test_a_zip_that_is_not_one_plain_member_is_refused(tmp_path, members, problem):
    path = _zip(tmp_path / "docs_shard_0_v3.jsonl.zip", members)
    with pytest.raises(RawFormatError, match=problem) as caught:
        list(read_documents(path))
    assert str(path) in str(caught.value)


def test_a_member_of_absurd_size_is_refused_before_it_is_read(tmp_path):
    path = _zip(tmp_path / "bomb.jsonl.zip", {"bomb.jsonl": b" " * 3_000_000 + TEXT.encode()})  # a 3 MB member, tiny zip
    assert path.stat().st_size < 20_000
    with pytest.raises(RawFormatError, match=r"declares 3,\d{3},\d{3} bytes uncompressed, more than the 1,000,000"):
        next(zip_jsonl_records(path, max_bytes=1_000_000))
    assert len(list(zip_jsonl_records(path))) == len(DOCS)  # the default limit lets a sane member through


def test_a_member_that_lies_about_its_size_stops_at_the_declared_size(tmp_path):
    path = _zip(tmp_path / "liar.jsonl.zip", {"liar.jsonl": TEXT.encode() * 50})
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")  # the central directory's entry: uncompressed size at offset 24
    struct.pack_into("<I", data, central + 24, len(TEXT))
    path.write_bytes(bytes(data))
    read = []
    with pytest.raises(RawFormatError, match="not a readable zip file.*Bad CRC-32") as caught:
        for _, record in zip_jsonl_records(path):
            read.append(record)
    assert read == DOCS[:len(read)] and str(path) in str(caught.value)  # never past what it declared


def test_a_cut_or_damaged_zip_and_a_long_line_are_named(tmp_path):
    path = _zip(tmp_path / "docs_shard_0_v3.jsonl.zip", {"docs_shard_0_v3.jsonl": TEXT.encode()})
    cut = tmp_path / "cut.jsonl.zip"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(RawFormatError, match="not a readable zip file") as caught:
        list(read_documents(cut))
    assert str(cut) in str(caught.value)
    plain = tmp_path / "plain.jsonl.zip"
    plain.write_text(TEXT)  # a JSON-lines file named .zip
    with pytest.raises(RawFormatError, match="not a readable zip file"):
        list(read_documents(plain))
    with pytest.raises(RawFormatError, match="line 1: a line longer than 100 bytes"):
        list(zip_jsonl_records(path, max_line=100))


def test_an_encrypted_member_is_refused(tmp_path):
    path = _zip(tmp_path / "locked.jsonl.zip", {"locked.jsonl": TEXT.encode()})
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # general-purpose flags: bit 0, encrypted
        at = data.index(signature) + offset
        struct.pack_into("<H", data, at, struct.unpack_from("<H", data, at)[0] | 0x1)
    path.write_bytes(bytes(data))
    with pytest.raises(RawFormatError, match="is encrypted"):
        list(read_documents(path))


def test_a_bad_document_in_a_zip_is_named_by_file_line_and_field(tmp_path):
    bad = TEXT + "\n" + json.dumps({**doc(3), "image_info": [{"raw_url": "https://x/3.jpg", "matched_text_index": 9}]})
    path = _zip(tmp_path / "docs_shard_0_v3.jsonl.zip", {"docs_shard_0_v3.jsonl": bad.encode()})
    with pytest.raises(RawFormatError) as caught:
        list(read_documents(path))
    assert str(path) in str(caught.value) and "line 5" in str(caught.value)
    assert "image_info[0].matched_text_index" in str(caught.value)
    broken = _zip(tmp_path / "broken.jsonl.zip", {"broken.jsonl": (TEXT + '{"url": \n').encode()})
    with pytest.raises(RawFormatError, match="line 4.*not valid JSON"):
        list(read_documents(broken))
    empty = _zip(tmp_path / "empty.jsonl.zip", {"empty.jsonl": b"\n\n"})
    with pytest.raises(RawFormatError, match="holds no documents"):
        list(read_documents(empty))


def test_a_document_is_kept_as_nvlabs_keeps_it_only_when_every_image_downloaded():
    two = doc(1, images=2)
    assert complete(two, {0, 1}) and not complete(two, {1}) and not complete(doc(0, images=0), set())
    assert drop_reason(two, {0, 1}) is None
    assert drop_reason(two, {1}) == INCOMPLETE  # the default: a partial document is dropped, not trimmed
    assert drop_reason(two, {1}, keep_partial=True) is None  # the setting keeps it with the image it has
    assert drop_reason(two, set(), keep_partial=True) == NONE_LEFT
    assert drop_reason(doc(0, images=0), set()) == NO_IMAGES
    rowless = {**two, "similarity_matrix": [[0.1, 0.3]]}  # image 1 has no row: VILA would drop it silently
    assert drop_reason(rowless, {1}, keep_partial=True) == NONE_LEFT
    assert interleaved.with_images(rowless, {0: b"a", 1: b"b"})["similarity_matrix"] == [[0.1, 0.3]]


def test_the_sample_writes_mmc4s_names_one_shard_zipped_the_same_bytes_for_the_same_seed(tmp_path):
    from mmassets.sample.llm_jp import MMC4_SHARDS, MMC4_ZIPPED, write_llm_jp

    for name in ("a", "b"):
        write_llm_jp(tmp_path / name, seed=3)
    files = sorted(p.name for p in (tmp_path / "a" / "mmc4").iterdir())
    assert files == sorted(f"docs_shard_{s}_v3.jsonl" + (".zip" if s in MMC4_ZIPPED else "")
                           for s in range(len(MMC4_SHARDS)))
    assert all((tmp_path / "a" / "mmc4" / f).read_bytes() == (tmp_path / "b" / "mmc4" / f).read_bytes() for f in files)
    with zipfile.ZipFile(tmp_path / "a" / "mmc4" / "docs_shard_0_v3.jsonl.zip") as archive:
        assert archive.namelist() == ["docs_shard_0_v3.jsonl"]
    assert [len(list(read_documents(tmp_path / "a" / "mmc4" / f))) for f in files] == list(MMC4_SHARDS)

"""llm-jp's mmc4-core subset built from mmc4's files as mmc4 publishes them, in real `mmassets build`
runs with their own DAGSTER_HOME:

- on a raw root laid out by hand (production profile, `raw/mmc4core_6m` alone): both publisher names,
  zipped or not, the `variant` setting where both are there, listed ids past their shard's end and
  listed shards without a file counted, and the name mmc4 never published pointed out;
- on the sample (its local web server serves the images): NVlabs' rule that a document goes in only
  when every image downloaded, `keep_partial_documents`, and the `kept` reading counting the
  documents NVlabs keeps.
"""

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from builds import materialization_metadata, run_build
from mmassets.sample.llm_jp import write_zipped_jsonl
from mmassets.sources.interleaved import INCOMPLETE, NONE_LEFT
from mmassets.vila.shards import load_as_vila

RAW = 'key:"raw/mmc4core_6m"'
ALL = " or ".join(f'key:"{group}/mmc4core_6m"' for group in ("raw", "images", "train"))


def _doc(shard: str, line: int) -> dict:
    return {"url": f"https://example.org/{shard}/{line}", "text_list": ["One.", "Two."],
            "image_info": [{"image_name": "a.jpg", "raw_url": f"https://example.org/{shard}/{line}.jpg",
                            "matched_text_index": 0}], "similarity_matrix": [[0.2, 0.1]]}


def _shard(folder: Path, name: str, lines: int, *, zipped: bool = False) -> None:
    """``name`` (``docs_shard_0_v3`` style) with ``lines`` documents whose url says file and line."""
    text = "".join(json.dumps(_doc(name, line)) + "\n" for line in range(lines))
    folder.mkdir(parents=True, exist_ok=True)
    if zipped:
        write_zipped_jsonl(folder / f"{name}.jsonl.zip", f"{name}.jsonl", text)
    else:
        (folder / f"{name}.jsonl").write_text(text)


def _ids(raw: Path, pairs: list[tuple[int, int]]) -> None:
    path = raw / "llm_jp" / "ids" / "mmc4_6m_ids.csv.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress("".join(f"{s},{i}\n" for s, i in pairs).encode(), mtime=0))


def _build_raw(tmp_path: Path, raw: Path, name: str, config: str | None = None) -> tuple[int, str, Path]:
    data = tmp_path / name
    args = ["--profile", "production", "--raw-dir", str(raw), "--select", RAW]
    if config:
        (tmp_path / f"{name}.yaml").write_text(config)
        args += ["--config", str(tmp_path / f"{name}.yaml")]
    code, out = run_build(data, *args)
    return code, out, data


LISTED = [(0, 1), (1, 0), (1, 2), (2, 0), (2, 9), (7, 0)]
"""Shard 0: core zipped and fewer-faces unzipped; 1: fewer-faces only; 2: core unzipped and zipped (index 9
past its 3 lines); 7: no file under mmc4's names."""


@pytest.fixture()
def published_raw(tmp_path) -> Path:
    raw = tmp_path / "raw"
    folder = raw / "mmc4"
    _shard(folder, "docs_shard_0_v3", 2, zipped=True)
    _shard(folder, "docs_no_face_shard_0_v3", 2)
    _shard(folder, "docs_no_face_shard_1_v3", 3, zipped=True)
    _shard(folder, "docs_shard_2_v3", 3)
    _shard(folder, "docs_shard_2_v3", 3, zipped=True)
    _shard(folder, "docs_7_v3", 1)  # shard 7 under the name mmc4 never published: not read, said
    _ids(raw, LISTED)
    return raw


def test_the_publishers_names_zipped_or_not_are_read_and_what_was_read_is_said(tmp_path, published_raw):
    code, out, data = _build_raw(tmp_path, published_raw, "core")
    assert code == 0, out
    frame = pd.read_parquet(data / "assets" / "raw" / "mmc4core_6m.parquet")
    assert [json.loads(d)["url"] for d in frame["document"]] == [
        "https://example.org/docs_shard_0_v3/1", "https://example.org/docs_no_face_shard_1_v3/0",
        "https://example.org/docs_no_face_shard_1_v3/2", "https://example.org/docs_shard_2_v3/0"]
    assert frame["file"].tolist() == ["docs_shard_0_v3.jsonl.zip", "docs_no_face_shard_1_v3.jsonl.zip",
                                      "docs_no_face_shard_1_v3.jsonl.zip", "docs_shard_2_v3.jsonl"]
    meta = materialization_metadata(data, "raw/mmc4core_6m")
    assert meta["variant"] == "core" and meta["files read per variant"] == {"core": 2, "no_face": 1}
    assert meta["files read from their zip"] == 2
    assert meta["shards read from the other variant (no core file)"] == ["docs_no_face_shard_1_v3.jsonl.zip"]
    assert meta["zips not read (their unzipped .jsonl was)"] == ["docs_shard_2_v3.jsonl.zip"]
    assert meta["other-variant files not read"] == ["docs_no_face_shard_0_v3.jsonl"]
    assert meta["shards listed"] == 4 and meta["shards absent"] == 1 and meta["absent shards"] == ["7"]
    assert meta["ids in absent shards"] == 1 and meta["ids listed in the present shards"] == 5
    assert meta["ids beyond their shard's length"] == 1 and meta["documents the list names by line"] == 4  # 5 = 4 + 1
    assert meta["files under a name mmc4 never published (not read)"] == ["docs_7_v3.jsonl"]


def test_the_variant_setting_chooses_the_fewer_faces_file_where_both_are_there(tmp_path, published_raw):
    code, out, data = _build_raw(tmp_path, published_raw, "no_face", "raw/mmc4core_6m:\n  variant: no_face\n")
    assert code == 0, out
    frame = pd.read_parquet(data / "assets" / "raw" / "mmc4core_6m.parquet")
    assert sorted(set(frame["file"])) == ["docs_no_face_shard_0_v3.jsonl", "docs_no_face_shard_1_v3.jsonl.zip",
                                          "docs_shard_2_v3.jsonl"]
    meta = materialization_metadata(data, "raw/mmc4core_6m")
    assert meta["files read per variant"] == {"core": 1, "no_face": 2}
    assert meta["shards read from the other variant (no no_face file)"] == ["docs_shard_2_v3.jsonl"]
    assert meta["other-variant files not read"] == ["docs_shard_0_v3.jsonl.zip"]


def test_the_name_mmc4_never_published_is_not_read_and_the_error_says_what_to_name_it(tmp_path):
    raw = tmp_path / "raw"
    _shard(raw / "mmc4", "docs_0", 2)  # docs_0.jsonl: rename to the name the old reader wanted
    (raw / "mmc4" / "docs_0.jsonl").rename(raw / "mmc4" / "docs_0_v3.jsonl")
    _ids(raw, [(0, 0)])
    code, out, _ = _build_raw(tmp_path, raw, "invented")
    assert code == 1, out
    failure = out.splitlines()[out.splitlines().index("failures:") + 1]
    assert failure.startswith(f"  raw/mmc4core_6m: RawFileMissing: raw file not found: {raw}/mmc4/docs_shard_<N>_v3"), out
    for words in ("docs_shard_<N>_v3.jsonl(.zip) or docs_no_face_shard_<N>_v3.jsonl(.zip)",
                  "docs_0_v3.jsonl", "a name mmc4 never published"):
        assert words in failure, failure


@pytest.fixture(scope="module")
def sample_mmc4(tmp_path_factory):
    """The three mmc4 assets built on the sample with the defaults; the data folder."""
    data = tmp_path_factory.mktemp("mmc4") / "data"
    code, out = run_build(data, "--select", ALL)
    assert code == 0 and "3/3 assets materialized in 1 runs; 0 failed checks" in out, out
    return data


def _urls(data: Path) -> list[str]:
    return [d["url"] for d in load_as_vila(data / "exports" / "vila" / "mmc4core_6m")[1]]


def _expected(kept: set[tuple[int, int]] | None = None) -> dict:
    from mmassets.sample.llm_jp import MMC4_GONE, MMC4_IMAGES, MMC4_LISTED, MMC4_SHARDS

    gone = {(s, line) for s, line, _ in MMC4_GONE}
    partial = {(s, line) for s, line, _ in MMC4_GONE if MMC4_IMAGES.get((s, line), 1) > 1}
    present = [(s, i) for s, i in MMC4_LISTED if s < len(MMC4_SHARDS)]
    return {"gone": gone, "partial": partial, "present": present,
            "in_shard": [(s, i) for s, i in present if i < MMC4_SHARDS[s]], "shards": MMC4_SHARDS}


def test_by_default_a_document_goes_in_only_when_every_image_downloaded(sample_mmc4):
    e = _expected()
    complete = [(s, i) for s, i in e["in_shard"] if (s, i) not in e["gone"]]
    assert e["partial"] and complete and _urls(sample_mmc4) == [f"https://example.org/{s}/{i}" for s, i in complete]
    raw = materialization_metadata(sample_mmc4, "raw/mmc4core_6m")
    assert raw["files read from their zip"] == 1 and raw["files read per variant"] == {"core": 2, "no_face": 0}
    assert raw["ids beyond their shard's length"] == len(e["present"]) - len(e["in_shard"]) == 1
    assert raw["shards absent"] == 1
    train = materialization_metadata(sample_mmc4, "train/mmc4core_6m")
    assert train["documents read (the listed lines)"] == len(e["in_shard"])
    assert train["documents dropped"] == {INCOMPLETE: len(e["gone"])} and train["keep_partial_documents"] is False
    assert train["documents read (the listed lines)"] == len(complete) + sum(train["documents dropped"].values())


def test_keep_partial_documents_keeps_one_with_the_images_it_has(sample_mmc4, tmp_path):
    e = _expected()
    config = tmp_path / "partial.yaml"
    config.write_text("train/mmc4core_6m:\n  keep_partial_documents: true\n")
    code, out = run_build(sample_mmc4, "--config", str(config), "--select", 'key:"train/mmc4core_6m"')
    assert code == 0, out
    kept = [(s, i) for s, i in e["in_shard"] if (s, i) not in e["gone"] or (s, i) in e["partial"]]
    documents = load_as_vila(sample_mmc4 / "exports" / "vila" / "mmc4core_6m")[1]
    assert [d["url"] for d in documents] == [f"https://example.org/{s}/{i}" for s, i in kept]
    partial = [d for d in documents if tuple(int(x) for x in d["url"].rsplit("/", 2)[1:]) in e["partial"]]
    assert [len(d["image_info"]) for d in partial] == [1] and len(partial[0]["similarity_matrix"]) == 1
    train = materialization_metadata(sample_mmc4, "train/mmc4core_6m")
    assert train["documents dropped"] == {NONE_LEFT: len(e["gone"] - e["partial"])}  # the one that lost its only image


def test_the_kept_reading_counts_the_documents_nvlabs_keeps(sample_mmc4, tmp_path):
    from mmassets.defs.families.llm_jp_step1 import BEYOND_KEPT
    from mmassets.sample.llm_jp import MMC4_LISTED

    e = _expected()
    config = tmp_path / "kept.yaml"
    config.write_text("raw/mmc4core_6m:\n  index_reading: kept\n")
    code, out = run_build(sample_mmc4, "--config", str(config), "--select", ALL)
    assert code == 0 and "0 failed checks" in out, out  # every document downloaded: the rate stays above 80%
    kept = {s: [i for i in range(n) if (s, i) not in e["gone"]] for s, n in enumerate(e["shards"])}  # every image
    named = [(s, kept[s][i]) for s, i in MMC4_LISTED if s in kept and i < len(kept[s])]
    assert _urls(sample_mmc4) == [f"https://example.org/{s}/{i}" for s, i in named]
    train = materialization_metadata(sample_mmc4, "train/mmc4core_6m")
    beyond = len(e["present"]) - len(named)
    assert beyond == 2 and train["documents dropped"] == {BEYOND_KEPT: beyond}
    assert train["ids read (the list's entries for the shards read)"] == len(e["present"]) == len(named) + beyond


def test_when_no_listed_document_keeps_every_image_the_train_asset_fails_saying_why(tmp_path):
    from mmassets.sample import ensure_sample_raw
    from mmassets.sample.llm_jp import MMC4_GONE

    data = tmp_path / "data"
    raw = ensure_sample_raw(data / "sample" / "raw")
    gone = sorted({(s, line) for s, line, _ in MMC4_GONE})  # the documents that lost an image
    _ids(raw, gone)  # the list names only those: some of their images download, no document keeps all
    code, out = run_build(data, "--select", ALL)
    assert code == 1, out
    failure = next((line for line in out.splitlines() if line.startswith("  train/mmc4core_6m: ")), "")
    assert (f"no records out of {len(gone)} read; every record was dropped: {INCOMPLETE} {len(gone)}. "
            "The shards of its last good materialization (if any) are kept.") in failure, out
    assert not (data / "exports" / "vila" / "mmc4core_6m").exists()  # no empty shard folder published

"""DataOptim through `mmassets build` on the sample profile: every source exported with DataOptim's
ids and image paths (resolving through its image folder), the grounding box spaces, the sample's
submissions as dynamic partitions (order, repeats, mix by source), a BYOD file with problems, an
unknown id failing its partition alone, and a mixture written back as a DataOptim id list; on a raw
root whose A-OKVQA train file is the test split, the A-OKVQA tasks fail saying so while BYOD files
are still built."""

import json
import re
import shutil

import dagster as dg
import pandas as pd
import pytest

from builds import materialization_metadata as metadata, run_build
from mmassets.dataoptim.submissions import select, source_of
from mmassets.sample.dataoptim import SUBMISSION_IDS
from mmassets.sources.aokvqa import TRAIN_FILE

COUNTS = {"coco": 100, "flickr30k": 6, "textcaps": 4, "vqav2": 18, "okvqa": 3, "ocrvqa": 3, "gqa": 3, "textvqa": 3,
          "aokvqa": 5, "ref3rec": 6, "ref3reg": 6, "shikra": 2, "llava": 2, "svit": 4}
SELECT = '+group:dataoptim or key:"mixture/dataoptim_all"'
SUBMISSIONS = 'key:"dataoptim/submission" or key:"dataoptim/byod"'


def export(data_dir, name):
    return json.loads((data_dir / "exports/dataoptim" / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("dataoptim") / "data"
    code, out = run_build(data_dir, "--select", SELECT)
    assert code == 0, out
    return data_dir, out


def test_every_source_exports_dataoptims_ids_and_image_paths(built):
    data_dir, out = built
    assert re.search(r"(\d+)/\1 assets materialized in \d+ runs; 0 failed checks", out), out
    assert "partitions dataoptim_submissions: 1 added" in out and "partitions dataoptim_byod: 1 added" in out
    for source, n in COUNTS.items():
        records = export(data_dir, source)
        assert len(records) == n, source
        assert all(source_of(r["id"]) == source for r in records), source
        for record in records:  # every DataOptim path resolves in the source's image folder
            assert (data_dir / "exports/dataoptim" / f"{source}.images" / record["image"]).is_file(), record["image"]
    assert [r["id"] for r in export(data_dir, "ocrvqa")] == ["ocrvqa_0", "ocrvqa_1", "ocrvqa_2"]  # train only, running
    assert [r["id"] for r in export(data_dir, "gqa")][0] == "gqa_00000001"  # question ids keep their zeros
    svit = export(data_dir, "svit")
    assert [r["id"] for r in svit] == ["svit_conversation_0", "svit_detail_0", "svit_complex_0", "svit_referring_0"]
    assert metadata(data_dir, "dataoptim/svit")["empty descriptions dropped (SVIT issue #5)"]["detail_description"] == 1
    assert "the sign [0.147, 0.022, 0.258, 0.325]" in svit[3]["conversations"][0]["value"]
    assert all(r["image"].startswith("visual_genome/") for r in svit + export(data_dir, "gqa"))
    assert metadata(data_dir, "dataoptim/ref3rec")["box space"] == "original"
    # the sample's one A-OKVQA question without its COCO image is left out and counted
    assert metadata(data_dir, "dataoptim/aokvqa")["skipped"] == {"image absent": 1,
                                                                 "no correct choice (a test-split record?)": 0}


def test_the_sample_submissions_become_training_data(built):
    data_dir, _ = built
    chosen = json.loads((data_dir / "exports/dataoptim/submissions/sample-standard.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in chosen] == list(SUBMISSION_IDS)  # file order, the repeated id twice
    assert chosen[0] == next(r for r in export(data_dir, "coco") if r["id"] == "coco_0")
    meta = metadata(data_dir, "dataoptim/submission", "sample-standard.txt")
    assert meta["records"] == 7 and meta["distinct ids"] == 6
    assert meta["records per source"] == {"coco": 2, "flickr30k": 1, "gqa": 1, "ref3rec": 1, "svit": 1, "textvqa": 1}
    assert meta["records per task"] == {"captioning": 3, "vqa": 2, "grounding": 1, "gpt-4 generated": 1}
    assert meta["compared with the other submissions"] == {"sample-byod.json": {
        "shared ids": 0, "only here": 6, "only there": 2, "jaccard": 0.0}}
    byod = metadata(data_dir, "dataoptim/byod", "sample-byod.json")
    assert (byod["setting"], byod["problem count"], byod["records per task"]) == ("BYOD", 0, {"own data": 2})


def test_a_failing_standard_file_fails_alone_and_byod_files_are_still_built(built):
    """Defect: a standard file with an unknown id failed the one step that built every submission,
    so the BYOD file beside it (and the good id list) was not built."""
    data_dir, _ = built
    folder = data_dir / "sample/raw/dataoptim/submissions"
    coco = export(data_dir, "coco")[0]
    (folder / "mine.json").write_text(json.dumps([coco, coco, {**coco, "id": "x_1", "image": "coco/COCO_train2014_0.jpg"}]),
                                      encoding="utf-8")
    (folder / "typo.txt").write_text("coco_0\ncoco_1000\n", encoding="utf-8")
    standard = data_dir / "exports/dataoptim/submissions/sample-standard.json"
    standard.unlink()
    try:
        code, out = run_build(data_dir, "--select", SUBMISSIONS)
        assert code != 0
        assert "partitions dataoptim_submissions: 1 added" in out and "partitions dataoptim_byod: 1 added" in out
        assert "typo.txt, line 2: unknown id 'coco_1000' (source coco); closest known: coco_10, coco_1" in out, out
        line = next(l for l in out.splitlines() if l.startswith("dataoptim/submission "))
        assert "1/2" in line and "FAILED 1 partition(s)" in line, line
        assert re.search(r"^dataoptim/byod +2/2 .* ok$", out, re.M), out
        assert not (data_dir / "exports/dataoptim/submissions/typo.json").exists()
        assert [r["id"] for r in json.loads(standard.read_text(encoding="utf-8"))] == list(SUBMISSION_IDS)  # built again
        meta = metadata(data_dir, "dataoptim/byod", "mine.json")
        assert meta["problem count"] == 2
        assert meta["problems"] == [{"record": 1, "id": "coco_0", "problem": "id also used by record 0"},
                                    {"record": 2, "id": "x_1", "problem": "image 'coco/COCO_train2014_0.jpg' not found"}]
        assert meta["compared with the other submissions"]["sample-standard.txt"]["shared ids"] == 1  # coco_0
        assert len(json.loads((data_dir / "exports/dataoptim/submissions/mine.json").read_text(encoding="utf-8"))) == 3
        (folder / "mine.json").unlink()
        (folder / "typo.txt").unlink()
        code, out = run_build(data_dir, "--select", SUBMISSIONS)
        assert code == 0, out
        assert "partitions dataoptim_submissions: 0 added, 1 deleted" in out
        assert "partitions dataoptim_byod: 0 added, 1 deleted" in out
    finally:
        for name in ("mine.json", "typo.txt"):
            (folder / name).unlink(missing_ok=True)


def test_an_id_list_and_a_byod_file_of_one_name_are_refused(built):
    data_dir, _ = built
    folder = data_dir / "sample/raw/dataoptim/submissions"
    (folder / "sample-byod.txt").write_text("coco_0", encoding="utf-8")
    try:
        code, out = run_build(data_dir, "--select", SUBMISSIONS)
        assert code != 0
        clash = "sample-byod.txt and sample-byod.json would both be exported to exports/dataoptim/submissions/sample-byod.json"
        assert f"dataoptim/submission [sample-byod.txt]: ValueError: {clash}: rename one of them" in out, out
        assert "dataoptim/byod [sample-byod.json]: ValueError: sample-byod.json and sample-byod.txt" in out, out
        assert re.search(r"^dataoptim/submission +1/2 .* FAILED 1 partition\(s\)$", out, re.M), out
    finally:
        (folder / "sample-byod.txt").unlink()


def test_boxes_in_the_square_space_and_the_mixture_as_an_id_list(built, tmp_path):
    data_dir, _ = built
    original = export(data_dir, "ref3rec")
    config = tmp_path / "square.yaml"
    config.write_text("dataoptim/ref3rec:\n  box_space: square\n", encoding="utf-8")
    code, out = run_build(data_dir, "--config", str(config), "--select", 'key:"dataoptim/ref3rec"')
    assert code == 0, out
    square = export(data_dir, "ref3rec")
    # the sample's COCO images are 96x72: the short side is shifted by 12 px of 96
    assert original[0]["conversations"][1]["value"] == "[0.125, 0.167, 0.625, 0.667]."
    assert square[0]["conversations"][1]["value"] == "[0.125, 0.25, 0.625, 0.625]."
    assert metadata(data_dir, "dataoptim/ref3rec")["box space"] == "square"
    ids = (data_dir / "exports/mixtures/dataoptim_all/train.dataoptim.txt").read_text(encoding="utf-8")
    assert not ids.endswith("\n") and len(ids.split("\n")) == sum(COUNTS.values())
    tables = {}
    for source in COUNTS:
        frame = pd.read_parquet(data_dir / "assets/dataoptim" / f"{source}.parquet", columns=["id", "record"])
        tables[source] = dict(zip(frame["id"], frame["record"]))
    path = tmp_path / "all.txt"
    path.write_text(ids, encoding="utf-8")
    assert len(select(path, tables.__getitem__).records) == sum(COUNTS.values())  # the list reads back as a submission


def test_the_submissions_folder_is_a_setting(built, tmp_path):
    """(Last in this module: it moves the folder, so the sample's partitions are dropped.)"""
    data_dir, _ = built
    folder = tmp_path / "my_submissions"
    folder.mkdir()
    (folder / "round1.txt").write_text("svit_conversation_0\nocrvqa_2", encoding="utf-8")
    (folder / "not a key!.txt").write_text("coco_0", encoding="utf-8")  # not a plain name: never a partition
    code, out = run_build(data_dir, "--select", SUBMISSIONS, env={"MMASSETS_SUBMISSIONS_DIR": str(folder)})
    assert code == 0, out
    assert re.search(r"partitions dataoptim_submissions: 1 added, [1-9] deleted", out), out
    assert "partitions dataoptim_byod: 0 added, 1 deleted" in out  # sample-byod.json
    instance = dg.DagsterInstance.from_config(str(data_dir / "dagster_home"))
    assert instance.get_dynamic_partitions("dataoptim_submissions") == ["round1.txt"]
    assert instance.get_dynamic_partitions("dataoptim_byod") == []
    assert re.search(r"^dataoptim/byod .* ok: no partitions \(no files in its folder\)$", out, re.M), out
    chosen = json.loads((data_dir / "exports/dataoptim/submissions/round1.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in chosen] == ["svit_conversation_0", "ocrvqa_2"]
    assert metadata(data_dir, "dataoptim/submission", "round1.txt")["files not taken (names not plain)"] == ["not a key!.txt"]


# A raw root whose A-OKVQA train file is the test split (the production profile on a copy of the sample's)

def _as_test_split(path):
    """A-OKVQA's test split: every record of split "test", without correct choice, direct answers and rationales."""
    drop = ("correct_choice_idx", "direct_answers", "rationales", "difficult_direct_answer")
    questions = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps([{**{k: v for k, v in q.items() if k not in drop}, "split": "test"} for q in questions]),
                    encoding="utf-8")
    return len(questions)


@pytest.fixture(scope="module")
def test_split_build(sample_raw, tmp_path_factory):
    raw = tmp_path_factory.mktemp("test_split") / "raw"
    shutil.copytree(sample_raw, raw)
    questions = _as_test_split(raw / TRAIN_FILE)
    data_dir = raw.parent / "data"
    selection = ('+key:"train/aokvqa_cot" or +key:"train/aokvqa_explain" or +key:"dataoptim/submission" '
                 'or key:"dataoptim/byod"')
    code, out = run_build(data_dir, "--profile", "production", "--raw-dir", str(raw), "--select", selection)
    return data_dir, code, out, questions


def _status(out, asset):
    return next(line for line in out.splitlines() if line.startswith(asset + " "))


def test_a_test_split_in_the_place_of_the_train_file_fails_the_aokvqa_tasks_saying_so(test_split_build):
    """Defect: the A-OKVQA tasks were built with 0 rows, every check passed and every skip counter 0;
    DataOptim's converter crashed with a TypeError."""
    data_dir, code, out, n = test_split_build
    assert code == 1
    hint = (f"raw/aokvqa: 0 of {n} questions have a correct choice and rationales ({n} of split 'test'; the test split "
            f"publishes no answers nor rationales): is aokvqa_v1p0_test.json in the place of the train file {TRAIN_FILE}?")
    for task in ("aokvqa_cot", "aokvqa_explain"):
        assert "FAILED" in _status(out, f"english/{task}")
        assert (f"english/{task}: Failure: english/{task}: no records from the {n} questions of raw/aokvqa ({TRAIN_FILE}); "
                f"skipped: image absent: 1, no correct choice (a test-split record?): {n - 1}. {hint}") in out, out
        assert f"skipped: english/{task} failed" in _status(out, f"train/{task}")
        assert not (data_dir / "exports/train" / f"{task}.json").exists()
    assert "FAILED" in _status(out, "dataoptim/aokvqa")
    assert (f"dataoptim/aokvqa: Failure: dataoptim/aokvqa: no records from the {n} rows of raw/aokvqa: skipped "
            f"image absent: 1, no correct choice (a test-split record?): {n - 1}; raw/aokvqa: 0 of {n} questions have a "
            f"correct choice ({n} of split 'test'") in out, out
    assert "TypeError" not in out
    assert not (data_dir / "exports/dataoptim/aokvqa.json").exists()
    assert metadata(data_dir, "raw/aokvqa")["questions by split"] == {"test": n}


def test_byod_files_are_built_without_the_dataoptim_sources(test_split_build):
    """Defect: a BYOD file was a partition of the asset that depends on the 14 sources, so one failing
    source (here dataoptim/aokvqa) kept it from being checked."""
    data_dir, _, out, _ = test_split_build
    assert "skipped: dataoptim/aokvqa failed" in _status(out, "dataoptim/submission")
    assert re.search(r"^dataoptim/byod +1/1 .* ok$", out, re.M), out
    byod = json.loads((data_dir / "exports/dataoptim/submissions/sample-byod.json").read_text(encoding="utf-8"))
    assert len(byod) == metadata(data_dir, "dataoptim/byod", "sample-byod.json")["records"] == 2
    assert not (data_dir / "exports/dataoptim/submissions/sample-standard.json").exists()


def test_the_ui_sensor_adds_each_file_to_its_assets_partitions(tmp_path):
    """The sensor `dataoptim_submissions`: an id list becomes a partition of dataoptim/submission, a BYOD
    file one of dataoptim/byod, each asked to be built; a file gone is a partition deleted."""
    from mmassets.defs.common.resources import DataFolders
    from mmassets.defs.families.dataoptim import submissions_sensor

    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in ("a.txt", "b.json", "notes.md"):
        (folder / name).write_text("coco_0", encoding="utf-8")
    folders = DataFolders(profile="production", raw_dir=str(tmp_path / "raw"), data_dir=str(tmp_path / "data"),
                          submissions_dir=str(folder))
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("dataoptim_byod", ["gone.json"])
        result = submissions_sensor(dg.build_sensor_context(instance=instance, resources={"folders": folders}))
    requests = {(tuple(k.to_user_string() for k in r.asset_selection), r.partition_key) for r in result.run_requests}
    assert requests == {(("dataoptim/submission",), "a.txt"), (("dataoptim/byod",), "b.json")}
    changes = {(type(r).__name__, r.partitions_def_name, tuple(r.partition_keys))
               for r in result.dynamic_partitions_requests}
    assert changes == {("AddDynamicPartitionsRequest", "dataoptim_submissions", ("a.txt",)),
                       ("AddDynamicPartitionsRequest", "dataoptim_byod", ("b.json",)),
                       ("DeleteDynamicPartitionsRequest", "dataoptim_byod", ("gone.json",))}


def test_a_source_whose_raw_rows_make_no_record_fails_saying_what_it_keeps(sample_raw, tmp_path):
    """Records in = records out + drops: an OCR-VQA file without a train book made an empty
    dataoptim/ocrvqa (0 records, status ok)."""
    raw = tmp_path / "raw"
    shutil.copytree(sample_raw / "ocr_vqa", raw / "ocr_vqa")
    path = raw / "ocr_vqa" / "dataset.json"
    books = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({asin: {**book, "split": 2} for asin, book in books.items()}), encoding="utf-8")
    rows = sum(len(book["questions"]) for book in books.values())
    code, out = run_build(tmp_path / "data", "--profile", "production", "--raw-dir", str(raw),
                          "--select", 'key:"raw/ocrvqa" or key:"dataoptim/ocrvqa"')
    assert code == 1
    assert "FAILED" in _status(out, "dataoptim/ocrvqa")
    assert (f"dataoptim/ocrvqa: Failure: dataoptim/ocrvqa: no records from the {rows} rows of raw/ocrvqa: DataOptim's "
            "conversion keeps the questions of the books of the train split, and it holds none") in out, out
    assert not (tmp_path / "data/exports/dataoptim/ocrvqa.json").exists()

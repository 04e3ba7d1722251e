"""DataOptim through `mmassets build` on the sample profile: every source exported with DataOptim's
ids and image paths (resolving through its image folder), the grounding box spaces, the sample's
submissions as dynamic partitions (order, repeats, mix by source), a BYOD file with problems, an
unknown id, and a mixture written back as a DataOptim id list."""

import json
import re

import pandas as pd
import pytest

from builds import materialization_metadata as metadata, run_build
from mmassets.dataoptim.submissions import select, source_of
from mmassets.sample.dataoptim import SUBMISSION_IDS

COUNTS = {"coco": 100, "flickr30k": 6, "textcaps": 4, "vqav2": 18, "okvqa": 3, "ocrvqa": 3, "gqa": 3, "textvqa": 3,
          "aokvqa": 5, "ref3rec": 6, "ref3reg": 6, "shikra": 2, "llava": 2, "svit": 4}
SELECT = '+group:dataoptim or key:"mixture/dataoptim_all"'


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
    assert "partitions dataoptim_submissions: 2 added" in out
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
    byod = metadata(data_dir, "dataoptim/submission", "sample-byod.json")
    assert (byod["setting"], byod["problem count"], byod["records per task"]) == ("BYOD", 0, {"own data": 2})


def test_a_new_byod_file_is_a_new_partition_with_its_problems_listed(built):
    data_dir, _ = built
    folder = data_dir / "sample/raw/dataoptim/submissions"
    coco = export(data_dir, "coco")[0]
    (folder / "mine.json").write_text(json.dumps([coco, coco, {**coco, "id": "x_1", "image": "coco/COCO_train2014_0.jpg"}]),
                                      encoding="utf-8")
    try:
        code, out = run_build(data_dir, "--select", 'key:"dataoptim/submission"')
        assert code == 0, out
        assert "partitions dataoptim_submissions: 1 added" in out
        meta = metadata(data_dir, "dataoptim/submission", "mine.json")
        assert meta["problem count"] == 2
        assert meta["problems"] == [{"record": 1, "id": "coco_0", "problem": "id also used by record 0"},
                                    {"record": 2, "id": "x_1", "problem": "image 'coco/COCO_train2014_0.jpg' not found"}]
        (folder / "mine.json").unlink()
        (folder / "typo.txt").write_text("coco_0\ncoco_1000\n", encoding="utf-8")
        code, out = run_build(data_dir, "--select", 'key:"dataoptim/submission"')
        assert code != 0
        assert "typo.txt, line 2: unknown id 'coco_1000' (source coco); closest known: coco_10, coco_1" in out, out
        assert "1 added, 1 deleted" in out
    finally:
        for name in ("mine.json", "typo.txt"):
            (folder / name).unlink(missing_ok=True)


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
    code, out = run_build(data_dir, "--select", 'key:"dataoptim/submission"', env={"MMASSETS_SUBMISSIONS_DIR": str(folder)})
    assert code == 0, out
    assert "partitions dataoptim_submissions: 1 added, 2 deleted" in out
    chosen = json.loads((data_dir / "exports/dataoptim/submissions/round1.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in chosen] == ["svit_conversation_0", "ocrvqa_2"]
    assert metadata(data_dir, "dataoptim/submission", "round1.txt")["files not taken (names not plain)"] == ["not a key!.txt"]

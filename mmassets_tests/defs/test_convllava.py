"""ConvLLaVA's three stages through `mmassets build` on the sample profile, whose files hold a
missing image, a GIF named .jpg, a truncated JPEG, a path with `..` and text-only records: every
drop and repair counted exactly, each stage's export resolving through its one image folder and
byte-identical across builds, reruns that open no image again, and the settings that change it."""

import json
import os
import re

import pandas as pd
import pytest
from PIL import Image

from builds import materialization_metadata as metadata, run_build
from mmassets.sample.convllava import GIF_NAMED_JPG

STAGES = ["mixture/convllava_stage1", "mixture/convllava_stage2", "mixture/convllava_stage3"]
SELECT = " or ".join(f'+key:"{stage}"' for stage in STAGES)
KEPT = {"sharegpt4v_pt": 4, "sharegpt4v_cap100k": 6, "allava_laion_caption": 3, "allava_laion_instruct": 3,
        "allava_vflan_caption": 2, "allava_vflan_instruct": 2, "vision_flan": 8, "llava_v1_5_mix665k": 8}
DROPPED = {"sharegpt4v_pt": {"missing image": 1}, "sharegpt4v_cap100k": {"unsafe path": 1},
           "allava_vflan_caption": {"truncated image": 1}, "allava_vflan_instruct": {"truncated image": 1},
           "llava_v1_5_mix665k": {"missing image": 1}}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("convllava") / "data"
    code, out = run_build(data_dir, "--select", SELECT)
    assert code == 0, out
    return data_dir, out


def test_the_three_stages_build_with_every_drop_counted(built):
    data_dir, out = built
    assert re.search(r"27/27 assets materialized in \d+ runs; 0 failed checks", out), out
    for name, rows in KEPT.items():
        meta = metadata(data_dir, f"train/{name}")
        assert meta["dagster/row_count"] == rows, name
        assert meta["records dropped"] == DROPPED.get(name, {}), name
    assert metadata(data_dir, "train/llava_v1_5_mix665k")["text-only records"] == 2
    assert metadata(data_dir, "train/llava_v1_5_mix665k")["images repaired"] == 1
    assert metadata(data_dir, "raw/sharegpt4v_cap100k")["records with unsafe paths (rejected)"] == 1


def test_the_image_table_lists_each_problem_and_the_repair_is_a_real_jpeg(built):
    data_dir, _ = built
    table = pd.read_parquet(data_dir / "assets/images/llava_v1_5_mix665k.parquet")
    assert table["status"].value_counts().to_dict() == {"ok": 5, "repaired": 1, "missing": 1}
    gif = table[table["status"] == "repaired"].iloc[0]
    assert (gif["root"], gif["path"], gif["format"]) == ("ocr_vqa", "1558584536.jpg", "GIF")
    repaired = data_dir / "images/repaired" / gif["repaired"]
    with Image.open(repaired) as image:
        assert image.format == "JPEG"
    assert table[table["status"] == "missing"][["root", "path"]].values.tolist() == [["textvqa", "0000deadbeef0000.jpg"]]
    meta = metadata(data_dir, "images/llava_v1_5_mix665k")
    assert meta["missing images per root"] == {"textvqa": 1}
    problems = (data_dir / "exports/images/llava_v1_5_mix665k.problems.csv").read_text(encoding="utf-8")
    assert "0000deadbeef0000.jpg" in problems and "GIF named .jpg" in problems
    truncated = pd.read_parquet(data_dir / "assets/images/allava_vflan_caption.parquet")
    assert truncated["status"].value_counts().to_dict() == {"ok": 2, "truncated": 1}
    unsafe = pd.read_parquet(data_dir / "assets/images/sharegpt4v_cap100k.parquet")
    assert unsafe[unsafe["status"] == "unsafe"]["path"].tolist() == ["wikiart/images/../../../outside/secret.jpg"]


def test_each_stage_export_resolves_through_its_one_image_folder(built):
    data_dir, _ = built
    sizes = {}
    for stage in STAGES:
        folder = data_dir / "exports/mixtures" / stage.split("/")[1]
        records = json.loads((folder / "train.llava.json").read_text(encoding="utf-8"))
        sizes[stage] = len(records)
        for record in records:
            if "image" in record:
                assert (folder / "train.images" / record["image"]).is_file(), (stage, record["image"])
        roots = json.loads((folder / "train.image_roots.json").read_text(encoding="utf-8"))
        assert roots["image_folder"] == str(folder / "train.images")
    assert sizes == {STAGES[0]: 4 + 6 + 3 + 2, STAGES[1]: 4 + 6 + 3 + 2 + 3 + 2 + 8, STAGES[2]: 8}
    stage3 = json.loads((data_dir / "exports/mixtures/convllava_stage3/train.llava.json").read_text(encoding="utf-8"))
    by_id = {str(r["id"]): r for r in stage3}
    assert by_id["1558584536"]["image"] == "mmassets_repaired/" + GIF_NAMED_JPG
    assert by_id["2354787"]["id"] == 2354787 and by_id["VG_100K/2335575"]["image"] == "vg/VG_100K/2335575.jpg"
    assert sum("image" not in r for r in stage3) == 2  # text-only records kept as published
    published = json.loads((data_dir / "sample/raw/vflan/annotation_191-task_1k.json").read_text(encoding="utf-8"))
    stage2 = json.loads((data_dir / "exports/mixtures/convllava_stage2/train.llava.json").read_text(encoding="utf-8"))
    vflan = [r for r in stage2 if r["id"] in {p["id"] for p in published}]
    assert sorted(r["image"] for r in vflan) == sorted(f"vflan/images_191task_1k/{p['image']}" for p in published)
    assert [r["id"] for r in vflan] != [p["id"] for p in published]  # the entry's seeded shuffle
    meta = metadata(data_dir, STAGES[2])
    (entry,) = meta["per entry"]
    assert (entry["text-only records"], entry["repaired images"], entry["turns"]) == (2, 1, 20)


def test_a_rebuild_opens_no_image_again_and_writes_the_same_bytes(built):
    data_dir, _ = built
    before = {stage: (data_dir / "exports/mixtures" / stage.split("/")[1] / "train.llava.json").read_bytes()
              for stage in STAGES}
    code, out = run_build(data_dir, "--select", SELECT)
    assert code == 0, out
    assert metadata(data_dir, "images/llava_v1_5_mix665k")["checked now"] == 0
    assert metadata(data_dir, "images/llava_v1_5_mix665k")["unchanged since the last check"] == 6
    for stage, body in before.items():
        assert (data_dir / "exports/mixtures" / stage.split("/")[1] / "train.llava.json").read_bytes() == body, stage
    # a file that changes is checked again, and only it
    image = data_dir / "sample/raw/gqa/images/2354787.jpg"
    Image.new("RGB", (8, 8)).save(image, "JPEG")
    os.utime(image, ns=(10**9, 10**9))
    code, out = run_build(data_dir, "--select", 'key:"images/llava_v1_5_mix665k"')
    assert code == 0, out
    assert metadata(data_dir, "images/llava_v1_5_mix665k")["checked now"] == 1


def test_settings_keep_or_fail_on_missing_images_and_leave_mismatches_unrepaired(built, tmp_path):
    data_dir, _ = built
    config = tmp_path / "keep.yaml"
    config.write_text("train/llava_v1_5_mix665k:\n  on_missing_image: keep\n"
                      "images/llava_v1_5_mix665k:\n  repair: false\n  level: format\n", encoding="utf-8")
    code, out = run_build(data_dir, "--config", str(config), "--select",
                          'key:"images/llava_v1_5_mix665k" or key:"train/llava_v1_5_mix665k"')
    assert code == 0, out
    assert metadata(data_dir, "train/llava_v1_5_mix665k")["dagster/row_count"] == 9
    table = pd.read_parquet(data_dir / "assets/images/llava_v1_5_mix665k.parquet")
    assert table["status"].value_counts().to_dict() == {"ok": 5, "mismatch": 1, "missing": 1}
    train = pd.read_parquet(data_dir / "assets/train/llava_v1_5_mix665k.parquet")
    assert set(train["image_root"]) >= {"ocr_vqa", "textvqa"} and "repaired" not in set(train["image_root"])
    config.write_text("train/llava_v1_5_mix665k:\n  on_missing_image: fail\n", encoding="utf-8")
    code, out = run_build(data_dir, "--config", str(config), "--select", 'key:"train/llava_v1_5_mix665k"')
    assert code != 0
    assert "record 4 (id '0000deadbeef0000')" in out and "on_missing_image: fail" in out


def test_a_user_recipe_samples_vision_flan_with_its_seed(built, tmp_path):
    data_dir, _ = built
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    (recipes / "vflan_part.yaml").write_text(
        "name: vflan_part\nstages:\n  - formats: [llava]\n    entries:\n      - asset: train/vision_flan\n"
        "        shuffle: true\n        sample_size: 3\n", encoding="utf-8")
    picks = []
    for _ in range(2):
        code, out = run_build(data_dir, "--recipes-dir", str(recipes), "--select", 'key:"mixture/vflan_part"')
        assert code == 0, out
        picks.append((data_dir / "exports/mixtures/vflan_part/train.llava.json").read_bytes())
    assert picks[0] == picks[1] and len(json.loads(picks[0])) == 3

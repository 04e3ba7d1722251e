"""`mmassets build` on broken or missing raw files: a clear error, nothing downstream, no export."""

import json

from mmassets.sample.aokvqa import write_aokvqa
from mmassets.sample.coco import write_coco
from mmassets.sample.imagenet import write_imagenet

from builds import launch_alone
from test_build_sample import run_build


def production_args(raw_dir):
    return ["--profile", "production", "--raw-dir", str(raw_dir)]


def test_record_missing_a_field_fails_the_raw_asset_and_stops_everything_downstream(tmp_path):
    raw = tmp_path / "raw"
    write_coco(raw)
    path = raw / "coco" / "dataset_coco.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["images"][3]["sentences"]
    path.write_text(json.dumps(data), encoding="utf-8")

    code, out = run_build(tmp_path / "data", *production_args(raw))

    assert code == 1
    assert f"{path}, images[3], field 'sentences': field missing" in out
    for asset in ("english/coco_captions", "translated/coco_captions", "train/coco_captions", "mixture/mblip_v1"):
        line = next(l for l in out.splitlines() if l.startswith(asset + " "))
        assert "skipped:" in line, line
    # the eval sets read the file themselves: they fail with the same message
    assert f"eval/coco_karpathy: RawFormatError: {path}, images[3], field 'sentences': field missing" in out
    exports = tmp_path / "data" / "exports"
    assert not exports.exists() or not any(p.is_file() for p in exports.rglob("*"))


def test_truncated_raw_file_names_the_file(tmp_path):
    raw = tmp_path / "raw"
    write_coco(raw)
    path = raw / "coco" / "dataset_coco.json"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")

    code, out = run_build(tmp_path / "data", *production_args(raw), "--select", "group:raw")

    assert code == 1
    assert f"{path}: not valid JSON" in out


def test_missing_raw_file_says_where_to_get_it(tmp_path):
    (tmp_path / "empty").mkdir()
    code, out = run_build(tmp_path / "data", *production_args(tmp_path / "empty"), "--select", "group:raw")
    assert code == 1
    assert "raw file not found" in out and "dataset_coco.json" in out and "Karpathy" in out


def test_selection_builds_only_what_is_selected(tmp_path):
    code, out = run_build(tmp_path / "data", "--select", 'key:"raw/coco_karpathy" or key:"eval/coco_karpathy"')
    assert code == 0, out
    assert "2/2 assets materialized in 2 runs" in out  # raw, then the eval partitions
    assert (tmp_path / "data/exports/eval/coco_karpathy/val/en.coco.json").is_file()
    assert not (tmp_path / "data/exports/train").exists()


def test_a_collapsed_row_count_blocks_what_is_downstream(tmp_path):
    raw = tmp_path / "raw"
    write_coco(raw)
    select = ["--select", "group:raw or group:english or group:translated"]  # translated: to see it skipped
    code, out = run_build(tmp_path / "data", *production_args(raw), *select)
    # the production translator is not loadable offline: only the untranslated layers matter here
    assert "english/coco_captions" in out and "4 passed" in next(
        l for l in out.splitlines() if l.startswith("english/coco_captions "))

    path = raw / "coco" / "dataset_coco.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    first_of_each_split = {image["split"]: image for image in reversed(data["images"])}
    data["images"] = list(first_of_each_split.values())  # every split still there, most images gone
    path.write_text(json.dumps(data), encoding="utf-8")
    code, out = run_build(tmp_path / "data", *production_args(raw), *select)

    assert code == 1
    line = next(l for l in out.splitlines() if l.startswith("english/coco_captions "))
    assert "blocked by check" in line, out
    assert "english/coco_captions: check row_count_stable failed" in out
    translated = next(l for l in out.splitlines() if l.startswith("translated/coco_captions "))
    assert "skipped: english/coco_captions blocked by check row_count_stable" in translated
    # a run of the translation alone, as the UI launches one, does not read the blocked input
    message = launch_alone(raw, tmp_path / "data", "translated/coco_captions")
    assert ("translated/coco_captions is not built: english/coco_captions blocked by check row_count_stable in "
            "its latest materialization") in message, message


def test_the_mblip_mixture_merges_the_tasks_present_when_other_datasets_are_missing(tmp_path):
    """A raw root with only A-OKVQA and ImageNet: every other dataset fails with its path, and the
    mblip_v2 mixture (``missing: skip``) still merges the four tasks that could be built, in mBLIP's
    order, naming the skipped entries."""
    import dagster as dg

    raw = tmp_path / "raw"
    write_aokvqa(raw)
    write_imagenet(raw)
    code, out = run_build(tmp_path / "data", *production_args(raw))

    assert code == 1  # the missing datasets fail
    assert f"raw/vqav2_train: RawFileMissing: raw file not found: {raw}/vqav2/" in out
    line = next(l for l in out.splitlines() if l.startswith("mixture/mblip_v2 "))
    assert line.endswith(" ok"), line
    present = ["aokvqa_cot", "aokvqa_explain", "imagenet_classify", "imagenet_decide"]
    exports = tmp_path / "data" / "exports" / "train"
    tasks = [json.loads((exports / f"{name}.json").read_text(encoding="utf-8")) for name in present]
    assert all(tasks)
    mix = json.loads((exports / "task_mix.json").read_text(encoding="utf-8"))
    assert mix == [record for task in tasks for record in task]
    instance = dg.DagsterInstance.from_config(str(tmp_path / "data" / "dagster_home"))
    event = instance.get_latest_materialization_event(dg.AssetKey(["mixture", "mblip_v2"]))
    metadata = event.asset_materialization.metadata
    assert metadata["skipped entries"].value == {
        **{f"train/{name}": "not materialized" for name in ("web_captions", "coco_captions", "llava_detail", "llava_conversation",
                                                             "vqav2_vqa", "vqav2_vqg", "caption_matching")}}
    assert [row["task"] for row in metadata["per entry"].value] == present


def test_a_selection_that_matches_nothing_says_so(tmp_path, capsys):
    code, out = run_build(tmp_path / "data", "--select", 'key:"train/no_such_asset"')
    assert code == 2, out
    assert capsys.readouterr().err == (
        "mmassets build: --select 'key:\"train/no_such_asset\"' matches no asset to build (nothing was done); "
        "asset keys are as the UI shows them, e.g. 'group:train', 'key:\"train/coco_captions\"'\n")
    assert "materialized" not in out


def test_a_lone_surrogate_in_a_raw_file_is_replaced_counted_and_named(tmp_path, caplog):
    """Issue 30: a ``\\ud800`` escape in a raw file failed the raw asset with a bare
    ``UnicodeEncodeError`` (no file, record or field) as it was stored. Now it is replaced with
    U+FFFD as the file is read, counted in the raw asset's metadata and logged with where it was."""
    import dagster as dg
    import pandas as pd

    raw = tmp_path / "raw"
    write_coco(raw)
    path = raw / "coco" / "dataset_coco.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["images"][2]["sentences"][0]["raw"] = "a cat \ud800 on a mat"
    path.write_text(json.dumps(data), encoding="utf-8")  # the surrogate as JSON escapes it: \ud800
    select = ["--select", 'key:"raw/coco_karpathy" or key:"english/coco_captions"']

    code, out = run_build(tmp_path / "data", *production_args(raw), *select)

    assert code == 0, out
    where = f"{path}, images[2].sentences[0], field 'raw'"
    assert f"1 lone surrogate(s) (UTF-16 halves no UTF-8 file can hold) replaced with U+FFFD; the first at {where}" \
        in caplog.text  # the build's log
    instance = dg.DagsterInstance.from_config(str(tmp_path / "data" / "dagster_home"))
    metadata = instance.get_latest_materialization_event(
        dg.AssetKey(["raw", "coco_karpathy"])).asset_materialization.metadata
    assert metadata["lone surrogates replaced"].value == 1
    assert metadata["lone surrogates replaced, the first at"].value == where
    captions = pd.read_parquet(tmp_path / "data" / "assets" / "english" / "coco_captions.parquet")
    assert (captions["label"] == "a cat \ufffd on a mat").sum() >= 1 or \
        captions.map(lambda v: isinstance(v, str) and "a cat \ufffd on a mat" in v).any().any()

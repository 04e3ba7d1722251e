"""The eval layer end to end: every benchmark on the sample, and a raw folder holding only some."""

import json

import pytest
from pycocotools.coco import COCO

from mmassets.evalsets.registry import BENCHMARKS
from mmassets.sample.coco import write_coco
from mmassets.sample.pope import write_pope

from test_build_sample import run_build


@pytest.fixture(scope="module")
def eval_build(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("eval") / "data"
    return (*run_build(data_dir, "--select", "group:eval"), data_dir)


def test_every_benchmark_builds_on_the_sample(eval_build):
    code, out, data_dir = eval_build
    assert code == 0, out
    for benchmark in BENCHMARKS:
        line = next(l for l in out.splitlines() if l.startswith(f"eval/{benchmark.name} "))
        assert line.endswith("ok") and "failed" not in line, line
        for language in benchmark.languages:
            exports = list((data_dir / "exports/eval" / benchmark.name).glob(f"*/{language}.json"))
            assert exports, (benchmark.name, language)
            for path in exports:
                records = json.loads(path.read_text(encoding="utf-8"))
                assert records and all(r["label"] == "" or "train" in path.parts for r in records)
                assert all(list(r)[:4] == ["context", "label", "image_id", "text_label"] for r in records)


@pytest.mark.parametrize("benchmark", [b for b in BENCHMARKS if b.captioning], ids=lambda b: b.name)
def test_caption_references_load_in_pycocotools(eval_build, benchmark):
    _, _, data_dir = eval_build
    references = list((data_dir / "exports/eval" / benchmark.name).glob("*/*.coco.json"))
    assert len(references) >= len(benchmark.languages)
    for path in references:
        records = json.loads(path.with_name(path.name.replace(".coco.json", ".json")).read_text(encoding="utf-8"))
        coco = COCO(str(path))
        assert sorted(coco.getImgIds()) == sorted(r["image_id"] for r in records)
        results = coco.loadRes([{"image_id": r["image_id"], "caption": "a picture"} for r in records])
        assert len(results.getAnnIds()) == len(records)


def test_a_raw_folder_with_some_benchmarks_builds_those_and_names_the_missing_files(tmp_path):
    raw = tmp_path / "raw"
    write_coco(raw)
    write_pope(raw)
    code, out = run_build(tmp_path / "data", "--select", "group:eval", "--profile", "production", "--raw-dir", str(raw))

    assert code == 1
    status = {line.split()[0]: line for line in out.splitlines() if line.startswith("eval/")}
    for present in ("eval/coco_karpathy", "eval/pope", "eval/chair"):
        assert status[present].endswith("ok"), status[present]
    for missing, path in (("eval/vqav2_val", "vqav2/v2_OpenEnded_mscoco_val2014_questions.json"),
                          ("eval/xm3600", "xm3600/captions.jsonl")):
        assert status[missing].endswith("FAILED"), status[missing]
        assert any(f"{missing}: RawFileMissing: raw file not found: {raw}/{path}" in line
                   for line in out.splitlines()), (missing, out)
    assert status["eval/xgqa"].endswith("FAILED 8 partition(s)"), status["eval/xgqa"]  # each language alone
    assert f"eval/xgqa [de]: raw file not found: {raw}/iglue/xGQA/annotations/few_shot/de/dev.json or " in out
    assert (tmp_path / "data/exports/eval/pope/random/en.json").is_file()

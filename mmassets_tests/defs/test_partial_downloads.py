"""A raw root holding part of a benchmark's files, as users download them: the xGQA dev files of
four languages, the XVNLI test files of five. What is present builds, per language; what is absent
is listed with its path and where to get it; a language without any of its files fails alone."""

import json
import shutil

import dagster as dg
import pytest

from mmassets.sample.iglue import write_iglue
from mmassets.sources import iglue

from builds import finish, start_build

XGQA_PRESENT = ("de", "en", "ko", "ru")


@pytest.fixture(scope="module")
def partial_build(tmp_path_factory):
    full, raw = tmp_path_factory.mktemp("full"), tmp_path_factory.mktemp("partial") / "raw"
    write_iglue(full)
    for relative in [iglue.xgqa_file(lang, "dev") for lang in XGQA_PRESENT] + \
                    [iglue.xvnli_test_file(lang) for lang in iglue.XVNLI_LANGUAGES]:
        (raw / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(full / relative, raw / relative)
    shutil.copytree(full / iglue.GQA_IMAGE_DIR, raw / iglue.GQA_IMAGE_DIR)
    shutil.copytree(full / iglue.FLICKR30K_IMAGE_DIR, raw / iglue.FLICKR30K_IMAGE_DIR)
    data = raw.parent / "data"
    process = start_build(data, "--profile", "production", "--raw-dir", str(raw),
                          "--select", 'key:"eval/xgqa" or key:"eval/xvnli"')
    out = finish(process, timeout=300)  # the console too (Dagster logs to stderr)
    return process.returncode, out, raw, data


def _status(out: str) -> dict[str, str]:
    return {line.split()[0]: line for line in out.splitlines() if line.startswith("eval/")}


def test_every_language_with_a_file_is_built_and_the_others_fail_alone(partial_build):
    code, out, raw, data = partial_build
    assert code == 1, out  # four xGQA languages have no file at all
    status = _status(out)
    assert status["eval/xvnli"].split()[1:2] == ["5/5"] and status["eval/xvnli"].endswith("ok"), out
    assert status["eval/xgqa"].split()[1:2] == ["4/8"] and status["eval/xgqa"].endswith("FAILED 4 partition(s)"), out
    for lang in sorted(set(iglue.XGQA_LANGUAGES) - set(XGQA_PRESENT)):
        dev, test = (raw / iglue.xgqa_file(lang, split) for split in ("dev", "test"))
        assert f"  eval/xgqa [{lang}]: raw file not found: {dev} or {test}" in out.splitlines(), out
    assert "  eval/xgqa: where to get them: " + iglue.XGQA_HOW_TO_GET in out.splitlines()
    for lang in XGQA_PRESENT:
        exported = json.loads((data / f"exports/eval/xgqa/dev/{lang}.json").read_text(encoding="utf-8"))
        assert exported and not (data / f"exports/eval/xgqa/test/{lang}.json").exists()
    for lang in iglue.XVNLI_LANGUAGES:
        assert (data / f"exports/eval/xvnli/test/{lang}.json").is_file()
        assert not (data / f"exports/eval/xvnli/dev/{lang}.json").exists()


def test_absent_optional_files_are_listed_with_where_to_get_them(partial_build):
    _, out, _, _ = partial_build
    lines = out.splitlines()
    listed = lines[lines.index("built without these optional raw files (absent):"):]
    for lang in XGQA_PRESENT:
        assert f"  eval/xgqa [{lang}]: split test: {iglue.xgqa_file(lang, 'test')}" in listed
    assert f"  eval/xgqa [en]: split train (GQA's English train set): {iglue.GQA_TRAIN_FILE}" in listed
    assert f"  eval/xvnli [ar]: split dev: {iglue.xvnli_dev_file('ar')}" in listed
    assert f"  eval/xvnli [en]: split train (SNLI-VE's English train set): {iglue.XVNLI_TRAIN_FILE}" in listed
    assert "  where to get them: " + iglue.XVNLI_HOW_TO_GET in listed


def test_the_instance_records_success_per_partition(partial_build):
    _, _, _, data = partial_build
    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    assert instance.get_materialized_partitions(dg.AssetKey(["eval", "xgqa"])) == set(XGQA_PRESENT)
    assert instance.get_materialized_partitions(dg.AssetKey(["eval", "xvnli"])) == set(iglue.XVNLI_LANGUAGES)
    event = instance.get_latest_materialization_event(dg.AssetKey(["eval", "xvnli"]))
    absent = event.asset_materialization.metadata["absent files"].value
    assert [entry["adds"] for entry in absent] and all(entry["how_to_get"] for entry in absent)


def test_the_console_prints_a_failure_in_one_paragraph(partial_build):
    _, out, _, _ = partial_build
    assert "Traceback" not in out and "Stack Trace" not in out and "RUN_FAILURE" not in out
    failure = next((line for line in out.splitlines() if "eval__xgqa failed:" in line), None)
    assert failure is not None, out[-6000:]
    assert failure.endswith("(mmassets build --verbose prints the trace)"), failure


def test_verbose_prints_the_trace_and_the_summary_always_carries_the_message(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    process = start_build(tmp_path / "data", "--profile", "production", "--raw-dir", str(raw),
                          "--select", 'key:"eval/pope"', "--verbose")
    out = finish(process, timeout=300)
    assert process.returncode == 1
    assert "Stack Trace" in out and "(mmassets build --verbose prints the trace)" not in out
    failure = out.splitlines()[out.splitlines().index("failures:") + 1]
    assert failure.startswith(f"  eval/pope: RawFileMissing: raw file not found: {raw}/pope/coco_pope_")

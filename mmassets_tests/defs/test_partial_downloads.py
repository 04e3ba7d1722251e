"""A raw root holding part of a benchmark's files, as users download them: the xGQA dev files of
four languages, the XVNLI test files of five. What is present builds, per language; what is absent
is listed with its path and where to get it; a language without any of its files fails alone."""

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

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


def test_steps_not_executed_after_a_failure_are_in_the_summary_and_the_run_log_not_the_console(partial_build,
                                                                                                tmp_path):
    """BLIP's file is absent from this raw root: what is built from it is skipped. Dagster's error
    line per step it did not execute (`Dependencies for step … Not executing.`) stays out of the
    console — the summary says what was skipped and why — and is in the run's event log and in the
    console of `--verbose`."""
    _, _, raw, _ = partial_build
    args = ("--profile", "production", "--raw-dir", str(raw), "--select", "*english/web_captions")
    process = start_build(tmp_path / "data", *args)
    out = finish(process, timeout=300)
    assert process.returncode == 1, out
    assert "Not executing" not in out and "Dependencies for step" not in out, out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith(("raw/", "english/", "images/"))}
    assert rows["raw/blip_web_captions"].endswith("FAILED"), out
    assert rows["english/web_caption_concepts"].endswith("skipped: raw/blip_web_captions failed"), out
    assert all(" skipped: " in rows[key] for key in ("english/web_caption_sample", "images/web_captions",
                                                     "english/web_captions")), out
    instance = dg.DagsterInstance.from_config(str(tmp_path / "data" / "dagster_home"))
    logged = [e.user_message for r in instance.get_runs() for e in instance.all_logs(r.run_id)]
    assert "Dependencies for step english__web_caption_concepts failed: ['raw__blip_web_captions']. Not executing." \
        in logged

    process = start_build(tmp_path / "verbose", *args, "--verbose")
    out = finish(process, timeout=300)
    assert process.returncode == 1
    assert "Dependencies for step english__web_caption_concepts failed: ['raw__blip_web_captions']. Not executing." \
        in out


README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_selection_command() -> str:
    """The command of README's "Running on real data" that builds `--select 'group:eval'`, its
    continuation lines joined and its comment dropped."""
    section = README.read_text(encoding="utf-8").split("## Running on real data", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    return next(line.split("#", 1)[0] for line in block.splitlines() if "--select 'group:eval'" in line)


@pytest.mark.parametrize("how", ["readme command", "exported settings"])
def test_the_readmes_selection_on_real_data_runs_the_production_profile(partial_build, tmp_path, how):
    """README, Running on real data: its `--select 'group:eval'` command — or the bare command with
    MMASSETS_PROFILE, MMASSETS_RAW_DIR and MMASSETS_DATA_DIR exported, as it says — reads your raw
    files, not the sample's."""
    _, _, raw, _ = partial_build
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME" and not k.startswith("MMASSETS_")}
    if how == "readme command":
        words = shlex.split(_readme_selection_command().replace("/path/to/raw", str(raw))
                            .replace("/path/to/data", str(data)))
        assert words[0] == ".venv/bin/mmassets", words
        command = [sys.executable, "-m", "mmassets.cli", *words[1:]]
    else:
        env.update(MMASSETS_PROFILE="production", MMASSETS_RAW_DIR=str(raw), MMASSETS_DATA_DIR=str(data))
        command = [sys.executable, "-m", "mmassets.cli", "build", "--select", "group:eval"]
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    out = done.stdout + done.stderr
    assert f"mmassets build: profile production, raw {raw}, data {data}, executor in_process" in out.splitlines(), out
    assert done.returncode == 1  # the benchmarks this raw root lacks fail; those it has are built
    assert all((data / f"exports/eval/xvnli/test/{lang}.json").is_file() for lang in iglue.XVNLI_LANGUAGES), out
    assert not (data / "sample").exists()

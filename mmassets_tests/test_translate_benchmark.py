"""benchmarks/translate_throughput.py runs end to end (on the tiny model's shapes: seconds, not the
600M shapes' minutes) and prints the figures scripts read."""

import json
import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "translate_throughput.py"
SUMMARY = re.compile(r"^speedup_min=(?P<min>[\d.]+) speedup_captions=(?P<captions>[\d.]+) speedup_vqa=(?P<vqa>[\d.]+) "
                     r"speedup_llava=(?P<llava>[\d.]+) padding_fraction=(?P<padding>[\d.]+) "
                     r"refresh_fraction=(?P<refresh>[\d.]+)$")


def test_the_benchmark_prints_its_summary_and_writes_its_figures(tmp_path):
    out = tmp_path / "figures.json"
    result = subprocess.run([sys.executable, str(BENCHMARK), "--shapes", "tiny", "--quick", "--scale", "4", "--loop-budget-s", "0",
                             "--json", str(out)], capture_output=True, text=True, timeout=300, check=False,
                            cwd=BENCHMARK.parents[1])
    assert result.returncode == 0, result.stderr[-3000:]
    summaries = [SUMMARY.match(line) for line in result.stdout.splitlines()]
    summary = [m for m in summaries if m][-1]
    figures = json.loads(out.read_text())
    run = figures["runs"][0]
    workloads = run["workloads"]
    assert set(workloads) == {"captions", "vqa", "llava"}
    speedups = {name: w["speedup"] for name, w in workloads.items()}
    assert float(summary["min"]) == round(min(speedups.values()), 2)
    assert float(summary["refresh"]) == round(run["refresh"]["fraction"], 4)
    for workload in workloads.values():
        loop, engine = workload["loop"], workload["engine"]
        assert loop["strings"] == engine["strings"] > 0
        assert workload["speedup"] == loop["seconds"] / engine["seconds"]
        # a budget of 0 s times the loop's first batch only and says so
        assert loop["extrapolated_from"] is None if loop["batches"] == 1 else loop["extrapolated_from"].startswith("1 of")
        assert engine["generated_tokens"] > 0 and engine["source_tokens"] > 0
    assert workloads["vqa"]["loop"]["extrapolated_from"] == "1 of 2 batches"
    vqa = workloads["vqa"]
    assert vqa["engine"]["source_tokens"] < vqa["loop"]["source_tokens"]  # repeated questions translated once
    refresh = run["refresh"]
    assert refresh["new"] == round(refresh["strings"] * 0.01) and refresh["refresh_seconds"] < refresh["full_seconds"]

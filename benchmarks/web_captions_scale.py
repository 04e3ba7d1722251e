"""The web-caption task at mBLIP's scale (2,273,005 captions) in bounded memory.

Synthetic captions in BLIP's format go through the code the assets run, each step in a fresh
process so that its peak memory (ru_maxrss) is its own:

- ``sampling``: BLIP's file of N captions read as a stream (``sources.blip``), noun chunks by the
  offline extractor (TextBlob, ``--workers`` processes), the seeded concept draw, the sample;
- ``records``: mBLIP's released-sample file of N entries (every caption kept, as mBLIP's task has
  2.27M) → English records (every image taken as downloaded) → Parquet, as the IO manager stores
  it → the language assignment over the 96 languages with the translation stubbed (every
  language's slice passes through, as the English partition does) → the train file: instruction
  slots per language, the export ``train/web_captions.json`` and the train checks' schema and
  duplicate scans.

Measured at N/10 and N; time linear means seconds per caption about equal at both sizes. Last line::

    rss_mb_sampling=<a> rss_mb_records=<b> linear_ratio_sampling=<c> linear_ratio_records=<d>

with the peaks at N (target: under 4,096 MB) and the ratios (s per caption at N / at N/10).
``python benchmarks/web_captions_scale.py`` (about 12 minutes on 2 cores); ``--captions 230000``
for a quicker look.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYLLABLES = ("ba", "ko", "ri", "ten", "mo", "sa", "lu", "ver", "dan", "pi", "to", "ne", "gar", "li", "son", "ma",
             "te", "ru", "fen", "do")
RARE_NOUNS = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in ("n", "t", "r", "l", "s")]
"""2,000 made-up nouns drawn with a long tail, so that phrase frequencies are spread as in real
captions: a few phrases with thousands of captions (capped at 30), most with fewer than 10 (skipped)."""
NOUNS = ("dog", "cat", "man", "woman", "child", "car", "bus", "train", "bicycle", "horse", "bird", "tree",
         "house", "table", "chair", "boat", "flower", "street", "beach", "mountain", "river", "kitchen", "room",
         "window", "door", "road", "bridge", "city", "field", "garden", "plate", "cake", "pizza", "phone", "book",
         "lamp", "sofa", "bed", "shirt", "dress", "hat", "bag", "ball", "girl", "boy", "couple", "team", "player")
ADJECTIVES = ("red", "blue", "green", "old", "young", "small", "large", "white", "black", "wooden", "busy", "empty",
              "happy", "tall", "bright", "dark", "modern", "vintage", "colorful", "snowy", "sunny", "quiet")
VERBS = ("standing", "sitting", "walking", "parked", "lying", "waiting", "running", "playing", "resting")
PLACES = ("near", "on", "in front of", "next to", "behind", "under", "inside")


def _rare(rng: random.Random) -> str:
    return RARE_NOUNS[min(int(rng.paretovariate(0.8)) - 1, len(RARE_NOUNS) - 1)]


def caption(rng: random.Random) -> str:
    a, b = rng.choice(ADJECTIVES), rng.choice(ADJECTIVES)
    return (f"a {a} {rng.choice(NOUNS)} {rng.choice(VERBS)} {rng.choice(PLACES)} the {b} {_rare(rng)}"
            + (f" with a {rng.choice(ADJECTIVES)} {_rare(rng)}" if rng.random() < 0.4 else ""))


def write_file(path: Path, n: int, released: bool, seed: int = 0) -> None:
    """A JSON array of n BLIP entries (with mBLIP's ``jpg`` when ``released``), written as a stream."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for i in range(n):
            entry = {"url": f"https://images.example.com/{rng.getrandbits(48):012x}/{i}.jpg", "caption": caption(rng)}
            if released:
                entry["jpg"] = f"./images/{i:08d}.jpg"
            out.write(("," if i else "") + json.dumps(entry))
        out.write("]")


def step_sampling(path: Path, workers: int) -> dict:
    from mmassets.sources.blip import read_blip
    from mmassets.tasks.concepts import draw, english_stopwords, noun_chunk_lists, phrase_index
    from mmassets.tasks.web_captions import select_sample

    captions = read_blip(path)
    stopwords, _ = english_stopwords()
    index = phrase_index(noun_chunk_lists(iter(captions["caption"]), "textblob", workers=workers), stopwords)
    sample = draw(index, seed=0)
    del index
    chosen = select_sample(captions, sample.manifest.values())
    return {"captions": len(captions), "phrases": sample.phrases, "phrases kept": len(sample.manifest),
            "sampled": len(chosen)}


def step_records(path: Path, out_dir: Path) -> dict:
    import pandas as pd

    from mmassets.defs.common.train import usable_translations
    from mmassets.languages import LanguageTable, assign_languages
    from mmassets.records import TRAIN_FIELDS, schema_problems, write_records
    from mmassets.sources.blip import read_blip
    from mmassets.tasks.instructions import rotate
    from mmassets.tasks.web_captions import instruction_list, select_sample, web_caption_records

    sample = select_sample(read_blip(path), None)
    english = web_caption_records(sample, set(sample["image_id"]), seed=0).frame
    del sample
    english.to_parquet(out_dir / "english.parquet", index=False)
    english = pd.read_parquet(out_dir / "english.parquet")
    table = LanguageTable.load()
    english = english.assign(source_index=range(len(english)),
                             language=assign_languages(len(english), table.shares(), seed=0))
    english["label_en"] = english["label"]
    english["label_flag"] = pd.array([None] * len(english), dtype="string")
    english.to_parquet(out_dir / "translated.parquet", index=False)
    del english
    translated = pd.read_parquet(out_dir / "translated.parquet")
    frame, _ = usable_translations(translated, ["label"])
    del translated
    instructions = pd.DataFrame([(code, text) for code in table.codes
                                 for text in instruction_list(table[code].display_name, None)],
                                columns=["language", "instruction"])
    frame["context"] = rotate(frame, instructions)
    write_records(out_dir / "web_captions.json", frame, TRAIN_FIELDS)
    problems = schema_problems(frame, TRAIN_FIELDS)
    duplicates = int(frame.duplicated(subset=list(TRAIN_FIELDS)).sum())
    frame.to_parquet(out_dir / "train.parquet", index=False)
    return {"records": len(frame), "schema problems": sum(problems.values()), "duplicates": duplicates,
            "export MB": round((out_dir / "web_captions.json").stat().st_size / 2**20, 1)}


def run_step(step: str, path: Path, workers: int) -> dict:
    """One step in a fresh process: its result, seconds and peak RSS (MB, children included)."""
    with tempfile.TemporaryDirectory(dir=path.parent) as out_dir:
        command = [sys.executable, __file__, "--step", step, "--path", str(path), "--out", out_dir,
                   "--workers", str(workers)]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - started
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return {**report, "seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captions", type=int, default=2_273_005)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="noun-chunk processes")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        result = step_sampling(Path(args.path), args.workers) if args.step == "sampling" else \
            step_records(Path(args.path), Path(args.out))
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if args.step == "sampling" else 0.0
        workers = args.workers if worker and args.workers > 1 else 0
        # the step's own peak plus every worker at the largest worker's peak: a bound on the total
        print(json.dumps({**result, "rss_mb": round(own + workers * worker, 1), "own rss MB": round(own, 1),
                          "worker rss MB": round(worker, 1)}))
        return
    results: dict[int, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="mmassets-scale-") as folder:
        for n in (args.captions // 10, args.captions):
            blip, released = Path(folder, f"blip_{n}.json"), Path(folder, f"released_{n}.json")
            write_file(blip, n, released=False)
            write_file(released, n, released=True)
            results[n] = {"sampling": run_step("sampling", blip, args.workers),
                          "records": run_step("records", released, args.workers)}
            for step, report in results[n].items():
                print(f"{n:>9,} captions  {step:<8} {report['seconds']:>7.1f} s  "
                      f"({1e6 * report['seconds'] / n:.1f} µs/caption)  peak RSS {report['rss_mb']:>7.1f} MB  "
                      + json.dumps({k: v for k, v in report.items() if k not in ("seconds", "rss_mb")}), flush=True)
            blip.unlink()
            released.unlink()
    small, large = sorted(results)
    ratio = {step: (results[large][step]["seconds"] / large) / (results[small][step]["seconds"] / small)
             for step in ("sampling", "records")}
    print(f"rss_mb_sampling={results[large]['sampling']['rss_mb']} rss_mb_records={results[large]['records']['rss_mb']} "
          f"linear_ratio_sampling={ratio['sampling']:.2f} linear_ratio_records={ratio['records']:.2f}")


if __name__ == "__main__":
    main()

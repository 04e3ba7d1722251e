"""Hostile text in real raw files: an escaped NUL and a million-character caption in the Karpathy
file never reach the English records or the eval references; both are counted in the metadata."""

import json

import dagster as dg
import pandas as pd

from mmassets.defs.common.io import stored_path
from mmassets.sample.coco import write_coco
from mmassets.sources.coco import KARPATHY_FILE

from builds import run_build


def test_nul_and_absurd_captions_are_stripped_or_dropped_and_counted(tmp_path):
    raw = tmp_path / "raw"
    write_coco(raw)
    karpathy = json.loads((raw / KARPATHY_FILE).read_text(encoding="utf-8"))
    train = next(image for image in karpathy["images"] if image["split"] == "train")
    test = next(image for image in karpathy["images"] if image["split"] == "test")
    train["sentences"][0]["raw"] = "A cat\u0000 on a mat."
    train["sentences"].append({**train["sentences"][0], "raw": "A dog " + "very " * 200_000 + "big."})
    test["sentences"][0]["raw"] = "A bus\u0000 in the rain."
    (raw / KARPATHY_FILE).write_text(json.dumps(karpathy), encoding="utf-8")
    data = tmp_path / "data"

    code, out = run_build(data, "--profile", "production", "--raw-dir", str(raw),
                          "--select", 'key:"raw/coco_karpathy" or key:"english/coco_captions" or '
                                      'key:"eval/coco_karpathy"')
    assert code == 0, out

    english = pd.read_parquet(stored_path(data, dg.AssetKey(["english", "coco_captions"])))
    assert not english["label"].str.contains("\x00").any()
    assert english["label"].str.len().max() < 20_000
    assert "a cat on a mat." in {label.lower() for label in english["label"]}
    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))
    skipped = instance.get_latest_materialization_event(dg.AssetKey(["english", "coco_captions"])) \
        .asset_materialization.metadata["skipped"].value
    assert skipped["control characters stripped"] == 1 and skipped["longer than 20,000 characters"] == 1

    references = (data / "exports/eval/coco_karpathy/test/en.coco.json").read_text(encoding="utf-8")
    assert "\\u0000" not in references and "A bus in the rain." in references
    records = (data / "exports/eval/coco_karpathy/test/en.json").read_text(encoding="utf-8")
    assert "\\u0000" not in records


def test_vila_shard_texts_follow_the_text_rules_of_every_export(tmp_path, sample_raw):
    """Issue 30: VILA shards took pair texts and document texts as they were. Now a control
    character is stripped and a text over MMASSETS_MAX_TEXT_CHARS drops its pair or document, both
    counted in the shard asset's metadata (``text``; a dropped document under ``documents dropped``)."""
    import shutil

    from mmassets.vila.shards import read_shard

    raw = tmp_path / "raw"
    shutil.copytree(sample_raw, raw)
    pairs_file = raw / "llm_jp" / "alt_pair_ja" / "pairs_000.jsonl"
    pairs = [json.loads(line) for line in pairs_file.read_text(encoding="utf-8").splitlines()]
    pairs[0]["text"] += "\u0007ベル"
    pairs[1]["text"] = "長" * 25_000
    pairs_file.write_text("".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8")
    docs_file = raw / "llm_jp" / "interleaved_ja" / "docs_000.jsonl"
    docs = [json.loads(line) for line in docs_file.read_text(encoding="utf-8").splitlines()]
    docs[1]["text_list"][0] += "\u000cページ"
    docs[2]["text_list"][1] = "x" * 25_000
    docs_file.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    data = tmp_path / "data"

    code, out = run_build(data, "--raw-dir", str(raw), "--select",
                          '+key:"train/llm_jp_pair_step1" or +key:"train/llm_jp_interleaved"')
    assert code == 0, out

    instance = dg.DagsterInstance.from_config(str(data / "dagster_home"))

    def metadata(name):
        return instance.get_latest_materialization_event(dg.AssetKey(["train", name])).asset_materialization.metadata

    vila = data / "exports" / "vila"
    texts = [r["text"] for shard in sorted((vila / "llm_jp_mm_pair_step1_6m").glob("*.pkl")) for r in read_shard(shard)]
    assert pairs[0]["text"].replace("\u0007", "") in texts and not any("\u0007" in t or "長長" in t for t in texts)
    assert metadata("llm_jp_pair_step1")["text"].value == {"control characters stripped": 1,
                                                           "longer than 20,000 characters": 1}
    documents = [d for shard in sorted((vila / "llm_jp_mm_interleaved_step1_6m").glob("*.pkl"))
                 for d in read_shard(shard)]
    sentences = [s for d in documents for s in d["text_list"]]
    assert docs[1]["text_list"][0].replace("\u000c", "") in sentences
    assert not any("\u000c" in s or len(s) > 20_000 for s in sentences)
    interleaved = metadata("llm_jp_interleaved")
    assert interleaved["text"].value == {"control characters stripped": 1}
    assert interleaved["documents dropped"].value.get("longer than 20,000 characters") == 1

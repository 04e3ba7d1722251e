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

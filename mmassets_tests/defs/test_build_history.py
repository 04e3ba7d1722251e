"""Exports do not depend on what was built before in the same folder (issue 30, 6).

COCO captions and the caption-matching task share captions; whichever is translated first stores them
in the translation memory, batched with its own strings. Built in one order in one folder and in the
other order in another, the exports are byte-identical (paths of the data folder itself aside). With
the batch's output bound, the shared captions came out different (the random sample model runs every
output to its bound), and so did both train files.
"""

from __future__ import annotations

import json
from pathlib import Path

from builds import run_build
from mmassets.languages import LanguageTable

COCO = '+key:"train/coco_captions"'
MATCHING = '+key:"train/caption_matching"'


def _exports(data_dir: Path) -> dict[str, bytes]:
    """Every exported file's bytes, the data folder's own path written as DATA."""
    root = data_dir / "exports"
    return {str(p.relative_to(root)): p.read_bytes().replace(str(data_dir).encode(), b"DATA")
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_exports_are_the_same_whichever_task_was_built_first(tmp_path):
    rows = [r for r in json.loads(Path(LanguageTable.load().source).read_text(encoding="utf-8"))
            if r["code"] in ("en", "de")]
    (tmp_path / "two.json").write_text(json.dumps(rows))
    env = {"MMASSETS_LANGUAGES": str(tmp_path / "two.json")}
    for folder, order in (("coco_first", (COCO, MATCHING)), ("matching_first", (MATCHING, COCO))):
        for selection in order:
            code, out = run_build(tmp_path / folder, "--select", selection, env=env)
            assert code == 0, out[-3000:]
    first, second = _exports(tmp_path / "coco_first"), _exports(tmp_path / "matching_first")
    assert {"train/coco_captions.json", "train/caption_matching.json"} <= set(first)
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []

"""Tests for caption segmentation: NFC for every language, words for Chinese, Japanese and Thai."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from mmassets.evalsets.segmentation import SEGMENTED_LANGUAGES, base_language, segment, segmenter_versions


@pytest.mark.parametrize("text, language, expected", [
    ("一只狗在草地上奔跑", "zh", "一只 狗 在 草地 上 奔跑"),
    ("一只棕色的狗在草地上奔跑。", "zh", "一只 棕色 的 狗 在 草地 上 奔跑 。"),
    ("犬が走っている。", "ja", "犬 が 走っ て いる 。"),
    ("女性がベンチに座って本を読んでいる。", "ja", "女性 が ベンチ に 座っ て 本 を 読ん で いる 。"),
    ("แมวกินปลา", "th", "แมว กิน ปลา"),
    ("สุนัขสีน้ำตาลกำลังวิ่งอยู่บนสนามหญ้า", "th", "สุนัข สีน้ำตาล กำลัง วิ่ง อยู่ บน สนามหญ้า"),
])
def test_segments_into_words(text: str, language: str, expected: str) -> None:
    assert segment(text, language) == expected


@pytest.mark.parametrize("text, language, expected", [
    ("我 爱  北京", "zh", "我 爱 北京"),            # spaces separate words, never become words
    ("赤い 車\u3000です", "ja", "赤い 車 です"),     # ideographic space too
    ("แมว กิน  ปลา", "th", "แมว กิน ปลา"),
])
def test_whitespace_only_separates(text: str, language: str, expected: str) -> None:
    assert segment(text, language) == expected


def test_nfc_normalises_a_decomposed_input() -> None:
    decomposed = unicodedata.normalize("NFD", "Một chú chó nâu đang chạy trên bãi cỏ")
    assert decomposed != "Một chú chó nâu đang chạy trên bãi cỏ"
    assert segment(decomposed, "vi") == "Một chú chó nâu đang chạy trên bãi cỏ"
    assert segment("Cafe\u0301", "fr") == "Caf\u00e9"
    # before segmenting: the dakuten combines with か into が
    assert segment("犬か\u3099走っている", "ja") == "犬 が 走っ て いる"


def test_other_languages_are_only_normalised() -> None:
    assert segment("A  dog runs. ", "en") == "A  dog runs. "
    assert segment("Коричневая собака", "ru") == "Коричневая собака"


def test_language_variants() -> None:
    assert base_language("zh-Hans") == base_language("ZH_cn") == "zh"
    assert segment("一只狗", "zh-Hans") == "一只 狗"
    assert segment("犬が走る", "ja_JP") == "犬 が 走る"
    assert SEGMENTED_LANGUAGES == ("zh", "ja", "th")


def test_deterministic() -> None:
    texts = [("一辆红色的汽车停在街上", "zh"), ("通りに停められた赤い車", "ja"), ("รถสีแดงจอดอยู่ริมถนน", "th")]
    assert [segment(t, lang) for t, lang in texts] == [segment(t, lang) for t, lang in texts]


_SCRIPT = """
import json, sys
from mmassets.evalsets.segmentation import segment
loaded_at_import = [m for m in ("jieba", "janome", "pythainlp") if m in sys.modules]
words = [segment(t, l) for t, l in [("一只狗在草地上奔跑", "zh"), ("犬が走っている。", "ja"), ("แมวกินปลา", "th")]]
print(json.dumps({"loaded_at_import": loaded_at_import, "words": words}, ensure_ascii=False))
"""


def test_fresh_process_lazy_quiet_and_offline(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    for name in ("PYTHAINLP_READ_ONLY", "PYTHAINLP_OFFLINE"):
        env.pop(name, None)
    result = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, env=env,
                            cwd=Path(__file__).resolve().parents[2], timeout=300, check=True)
    assert result.stderr == ""  # jieba's "Building prefix dict" and friends are silenced
    out = json.loads(result.stdout)
    assert out["loaded_at_import"] == []  # importing the module loads no segmenter
    assert out["words"] == ["一只 狗 在 草地 上 奔跑", "犬 が 走っ て いる 。", "แมว กิน ปลา"]
    assert not (tmp_path / "pythainlp-data").exists()  # PyThaiNLP wrote nothing to the home folder


def test_segmenter_versions() -> None:
    versions = segmenter_versions()
    assert set(versions) == {"jieba", "janome", "pythainlp"}
    assert all(v != "not installed" for v in versions.values())

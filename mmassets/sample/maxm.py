"""Sample MaXM: ``maxm/maxm_v1_<lang>.json`` for the seven languages plus their XM3600 JPEGs.

Image keys are 16 hex digits like XM3600's, all starting with ``KEY_PREFIX`` so that they never meet
the keys of the XM3600 sample, which writes into the same ``xm3600/images/`` folder.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from mmassets.sample.images import write_jpeg

KEY_PREFIX = "ffff0000"
IMAGES_PER_LANGUAGE = 3
IMAGE_SIZE = (48, 36)

#: Per language, ``(question, answers, processed_answers)``, as annotators wrote them.
_QA: dict[str, tuple[tuple[str, list[str], list[str]], ...]] = {
    "en": (("What color is the car parked in front of the house?", ["Red", "red"], ["red"]),
           ("How many people are sitting on the bench?", ["two", "2"], ["2", "two"]),
           ("What is the man holding in his hand?", ["An umbrella", "umbrella"], ["umbrella"]),
           ("Where is the dog lying?", ["on the grass", "grass"], ["on the grass", "grass"]),
           ("What animal is on the table?", ["a cat", "cat"], ["cat"])),
    "fr": (("De quelle couleur est la voiture garée devant la maison ?", ["Rouge", "rouge"], ["rouge"]),
           ("Combien de personnes sont assises sur le banc ?", ["deux", "2"], ["2", "deux"]),
           ("Que tient l'homme dans sa main ?", ["Un parapluie", "parapluie"], ["parapluie"]),
           ("Où le chien est-il couché ?", ["sur l'herbe", "herbe"], ["sur l'herbe", "herbe"]),
           ("Quel animal est sur la table ?", ["un chat", "chat"], ["chat"])),
    "hi": (("घर के सामने खड़ी कार किस रंग की है?", ["लाल"], ["लाल"]),
           ("बेंच पर कितने लोग बैठे हैं?", ["दो", "2"], ["2", "दो"]),
           ("आदमी के हाथ में क्या है?", ["एक छाता", "छाता"], ["छाता"]),
           ("कुत्ता कहाँ लेटा है?", ["घास पर", "घास"], ["घास पर", "घास"]),
           ("मेज़ पर कौन सा जानवर है?", ["बिल्ली"], ["बिल्ली"])),
    "iw": (("באיזה צבע המכונית שחונה ליד הבית?", ["אדום", "אדומה"], ["אדום", "אדומה"]),
           ("כמה אנשים יושבים על הספסל?", ["שניים", "2"], ["2", "שניים"]),
           ("מה האיש מחזיק ביד?", ["מטרייה"], ["מטרייה"]),
           ("איפה הכלב שוכב?", ["על הדשא", "דשא"], ["על הדשא", "דשא"]),
           ("איזו חיה נמצאת על השולחן?", ["חתול"], ["חתול"])),
    "ro": (("Ce culoare are mașina parcată în fața casei?", ["Roșie", "roșu"], ["roșie", "roșu"]),
           ("Câte persoane stau pe bancă?", ["două", "2"], ["2", "două"]),
           ("Ce ține bărbatul în mână?", ["O umbrelă", "umbrelă"], ["umbrelă"]),
           ("Unde stă câinele întins?", ["pe iarbă", "iarbă"], ["pe iarbă", "iarbă"]),
           ("Ce animal este pe masă?", ["o pisică", "pisică"], ["pisică"])),
    "th": (("รถที่จอดอยู่หน้าบ้านสีอะไร", ["สีแดง", "แดง"], ["สีแดง", "แดง"]),
           ("มีคนนั่งอยู่บนม้านั่งกี่คน", ["สองคน", "2"], ["2", "สองคน"]),
           ("ผู้ชายถืออะไรอยู่ในมือ", ["ร่ม"], ["ร่ม"]),
           ("สุนัขนอนอยู่ที่ไหน", ["บนสนามหญ้า", "สนามหญ้า"], ["บนสนามหญ้า", "สนามหญ้า"]),
           ("สัตว์อะไรอยู่บนโต๊ะ", ["แมว"], ["แมว"])),
    "zh": (("停在房子前面的车是什么颜色的？", ["红色", "红"], ["红色", "红"]),
           ("长椅上坐着几个人？", ["两个", "2"], ["2", "两个"]),
           ("那个男人手里拿着什么？", ["一把雨伞", "雨伞"], ["雨伞"]),
           ("狗躺在哪里？", ["草地上", "草地"], ["草地上", "草地"]),
           ("桌子上是什么动物？", ["一只猫", "猫"], ["猫"])),
}
LANGUAGES = tuple(_QA)


def _language_file(lang: str, keys: list[str], rng: random.Random) -> dict[str, Any]:
    """One language's file content, its images being ``keys``."""
    pairs = list(_QA[lang])
    rng.shuffle(pairs)
    # images get 2, 2 and 1 questions: the 5 pairs in shuffled order
    bounds = [(0, 2), (2, 4), (4, 5)]
    annotations = []
    for key, (start, end) in zip(keys, bounds):
        qa_pairs = [{"question_id": f"{key}_{lang}_{n}", "question": question, "answers": answers,
                     "processed_answers": processed, "is_collection": rng.random() < 0.2}
                    for n, (question, answers, processed) in enumerate(pairs[start:end])]
        annotations.append({"image_id": key,
                            "image_url": f"https://open-images-dataset.s3.amazonaws.com/validation/{key}.jpg",
                            "qa_pairs": qa_pairs})
    return {"dataset": "maxm", "version": "v1", "split": lang, "annotations": annotations}


def write_maxm(raw_dir: Path, seed: int = 0) -> None:
    """Write ``maxm/maxm_v1_<lang>.json`` for every MaXM language and ``xm3600/images/<key>.jpg``
    for every image they name."""
    rng = random.Random(f"maxm-{seed}")
    raw_dir = Path(raw_dir)
    (raw_dir / "maxm").mkdir(parents=True, exist_ok=True)
    numbers = rng.sample(range(1 << 32), IMAGES_PER_LANGUAGE * len(LANGUAGES))
    for index, lang in enumerate(LANGUAGES):
        chosen = numbers[index * IMAGES_PER_LANGUAGE:(index + 1) * IMAGES_PER_LANGUAGE]
        keys = [f"{KEY_PREFIX}{n:08x}" for n in chosen]
        content = _language_file(lang, keys, rng)
        for key in keys:
            write_jpeg(raw_dir / "xm3600" / "images" / f"{key}.jpg", seed * 1_000_003 + int(key[-8:], 16),
                       size=IMAGE_SIZE)
        with open(raw_dir / "maxm" / f"maxm_v1_{lang}.json", "w", encoding="utf-8", newline="\n") as f:
            json.dump(content, f, ensure_ascii=False)

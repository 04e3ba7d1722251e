"""Sample ImageNet and Babel-ImageNet: ``imagenet/imagenet_class_index.json`` (Keras format) for the
first six ImageNet-1k classes, their train JPEGs under ``imagenet/train/<wnid>/``, and
``babel_imagenet/babel_imagenet-298.json`` with real names of those classes in a few languages.

Each class has images enough for the default eight rounds of both tasks without reuse (reuse is
tested on hand-made inputs); Tagalog names a single class, so its yes/no records have no negative
class to ask about.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from mmassets.sample.images import write_jpeg
from mmassets.sources.imagenet import BABEL_FILE, CLASS_INDEX_FILE, TRAIN_DIR

IMAGE_SIZE = (32, 24)

#: ``(wnid, Keras name)`` of ImageNet-1k classes 0..5.
CLASSES = (
    ("n01440764", "tench"),
    ("n01443537", "goldfish"),
    ("n01484850", "great_white_shark"),
    ("n01491361", "tiger_shark"),
    ("n01494475", "hammerhead"),
    ("n01496331", "electric_ray"),
)

#: Upper-case Babel-ImageNet code → {class index: name}; each language names a subset of the classes.
BABEL_NAMES: dict[str, dict[int, str]] = {
    "FR": {0: "tanche", 1: "poisson rouge", 2: "grand requin blanc", 3: "requin-tigre", 4: "requin-marteau",
           5: "raie électrique"},
    "DE": {0: "Schleie", 1: "Goldfisch", 2: "Weißer Hai", 3: "Tigerhai", 4: "Hammerhai", 5: "Zitterrochen"},
    "ES": {0: "tenca", 1: "carpín dorado", 2: "tiburón blanco", 3: "tiburón tigre", 4: "pez martillo"},
    "RU": {0: "линь", 1: "золотая рыбка", 2: "большая белая акула", 3: "тигровая акула", 5: "электрический скат"},
    "ZH": {1: "金鱼", 2: "大白鲨", 3: "鼬鲨", 4: "双髻鲨"},
    "JA": {1: "金魚", 2: "ホホジロザメ", 3: "イタチザメ", 4: "シュモクザメ", 5: "シビレエイ"},
    "HE": {1: "דג זהב", 2: "כריש לבן גדול"},
    "TL": {2: "dakilang puting pating"},
}


ROUNDS = 8
"""The default rounds of ``train/imagenet_*``."""
IMAGES_PER_CLASS = tuple(2 * ROUNDS * (1 + sum(i in names for names in BABEL_NAMES.values()))
                         for i in range(len(CLASSES)))
"""Per class: one image per round for English and each language naming it, for both tasks."""


def write_imagenet(raw_dir: Path, seed: int = 0) -> None:
    """Write the class index, the Babel-ImageNet names and the train JPEGs (the same bytes for the same seed)."""
    rng = random.Random(f"imagenet-{seed}")
    raw_dir = Path(raw_dir)
    index = {str(i): [wnid, name] for i, (wnid, name) in enumerate(CLASSES)}
    _dump(raw_dir / CLASS_INDEX_FILE, index, indent=None)
    babel = {code: [list(names), list(names.values())] for code, names in BABEL_NAMES.items()}
    _dump(raw_dir / BABEL_FILE, babel, indent=2)
    for class_index, ((wnid, _), count) in enumerate(zip(CLASSES, IMAGES_PER_CLASS)):
        for number in sorted(rng.sample(range(1, 20000), count)):
            write_jpeg(raw_dir / TRAIN_DIR / wnid / f"{wnid}_{number}.JPEG",
                       seed * 1_000_003 + class_index * 20000 + number, size=IMAGE_SIZE)


def _dump(path: Path, data: dict, *, indent: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(data, f, ensure_ascii=False, indent=indent)

"""Sample IGLUE captioning data: xFlickrCO test files in 8 languages and the Flickr30k annotation files,
in IGLUE's JSON-lines format (``{"sentences", "id", "img_path"}``), plus every JPEG they name."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from mmassets.sample.images import write_jpeg
from mmassets.sources.flickr import FLICKR30K_FILES, FLICKR30K_IMAGE_DIR, XFLICKRCO_IMAGE_DIR, xflickrco_file

IMAGE_SIZE = (48, 36)
FLICKR30K_COUNTS = {"train": 8, "val": 4, "test": 3}
CAPTIONS_PER_FLICKR30K_IMAGE = 5
XFLICKRCO_FLICKR_IMAGES = 4
XFLICKRCO_COCO_IMAGES = 2

#: One scene per entry, described in each xFlickrCO language (one caption per image and language).
SCENES: tuple[dict[str, str], ...] = (
    {"en": "A brown dog is running across a grassy field.",
     "de": "Ein brauner Hund rennt über eine Wiese.",
     "es": "Un perro marrón corre por un campo de hierba.",
     "id": "Seekor anjing cokelat berlari di padang rumput.",
     "ja": "茶色の犬が草原を走っている。",
     "ru": "Коричневая собака бежит по травяному полю.",
     "tr": "Kahverengi bir köpek çimenlik bir alanda koşuyor.",
     "zh": "一只棕色的狗在草地上奔跑。"},
    {"en": "Two children are playing on the beach near the water.",
     "de": "Zwei Kinder spielen am Strand in der Nähe des Wassers.",
     "es": "Dos niños juegan en la playa cerca del agua.",
     "id": "Dua anak sedang bermain di pantai dekat air.",
     "ja": "二人の子供が水辺の浜辺で遊んでいる。",
     "ru": "Двое детей играют на пляже у воды.",
     "tr": "İki çocuk suyun yakınında sahilde oynuyor.",
     "zh": "两个孩子在水边的沙滩上玩耍。"},
    {"en": "A man in a red shirt is riding a bicycle down the street.",
     "de": "Ein Mann in einem roten Hemd fährt mit dem Fahrrad die Straße entlang.",
     "es": "Un hombre con una camisa roja va en bicicleta por la calle.",
     "id": "Seorang pria berbaju merah sedang bersepeda di jalan.",
     "ja": "赤いシャツを着た男性が通りを自転車で走っている。",
     "ru": "Мужчина в красной рубашке едет на велосипеде по улице.",
     "tr": "Kırmızı gömlekli bir adam sokakta bisiklet sürüyor.",
     "zh": "一个穿红衬衫的男人在街上骑自行车。"},
    {"en": "A woman is sitting on a bench and reading a book.",
     "de": "Eine Frau sitzt auf einer Bank und liest ein Buch.",
     "es": "Una mujer está sentada en un banco leyendo un libro.",
     "id": "Seorang wanita duduk di bangku sambil membaca buku.",
     "ja": "女性がベンチに座って本を読んでいる。",
     "ru": "Женщина сидит на скамейке и читает книгу.",
     "tr": "Bir kadın bankta oturmuş kitap okuyor.",
     "zh": "一个女人坐在长椅上看书。"},
    {"en": "A group of people are walking through a busy market.",
     "de": "Eine Gruppe von Menschen geht über einen belebten Markt.",
     "es": "Un grupo de personas camina por un mercado concurrido.",
     "id": "Sekelompok orang berjalan melewati pasar yang ramai.",
     "ja": "人々が賑やかな市場を歩いている。",
     "ru": "Группа людей идёт по оживлённому рынку.",
     "tr": "Bir grup insan kalabalık bir pazarda yürüyor.",
     "zh": "一群人走过热闹的市场。"},
    {"en": "A black cat is sleeping on a wooden chair.",
     "de": "Eine schwarze Katze schläft auf einem Holzstuhl.",
     "es": "Un gato negro duerme en una silla de madera.",
     "id": "Seekor kucing hitam tidur di kursi kayu.",
     "ja": "黒い猫が木の椅子の上で寝ている。",
     "ru": "Чёрная кошка спит на деревянном стуле.",
     "tr": "Siyah bir kedi tahta bir sandalyede uyuyor.",
     "zh": "一只黑猫睡在木椅上。"},
    {"en": "A young girl is eating an ice cream in the park.",
     "de": "Ein junges Mädchen isst im Park ein Eis.",
     "es": "Una niña come un helado en el parque.",
     "id": "Seorang gadis kecil makan es krim di taman.",
     "ja": "少女が公園でアイスクリームを食べている。",
     "ru": "Маленькая девочка ест мороженое в парке.",
     "tr": "Küçük bir kız parkta dondurma yiyor.",
     "zh": "一个小女孩在公园里吃冰淇淋。"},
    {"en": "A bus is parked in front of an old building.",
     "de": "Ein Bus parkt vor einem alten Gebäude.",
     "es": "Un autobús está aparcado frente a un edificio antiguo.",
     "id": "Sebuah bus diparkir di depan gedung tua.",
     "ja": "バスが古い建物の前に止まっている。",
     "ru": "Автобус стоит перед старым зданием.",
     "tr": "Bir otobüs eski bir binanın önünde park etmiş.",
     "zh": "一辆公共汽车停在一座老建筑前面。"},
)

#: English Flickr30k-style captions: (subject, plural) + action + extra.
_SUBJECTS = (("A man", False), ("A woman", False), ("A young boy", False), ("A little girl", False),
             ("Two men", True), ("A group of people", True), ("An older woman", False), ("A brown dog", False))
_ACTIONS = ("walking down a busy street", "sitting on a wooden bench", "playing in the snow",
            "riding a bicycle past a shop", "standing next to a red car", "climbing a rock wall",
            "swimming in a lake", "cooking in a small kitchen", "waiting at a bus stop")
_EXTRAS = ("", "", " while people watch", " on a sunny day", " in front of a brick building", " near the water")


def _english_caption(rng: random.Random) -> str:
    subject, plural = rng.choice(_SUBJECTS)
    return f"{subject} {'are' if plural else 'is'} {rng.choice(_ACTIONS)}{rng.choice(_EXTRAS)}."


def _quirk(caption: str, rng: random.Random) -> str:
    """Some raw captions end in a space or newline, or lack the full stop, as real ones do."""
    roll = rng.random()
    if roll < 0.15:
        return caption + " "
    if roll < 0.25:
        return caption + "\n"
    if roll < 0.35:
        return caption.rstrip(".")
    return caption


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def _write_flickr30k(raw_dir: Path, rng: random.Random) -> None:
    ids = rng.sample(range(10_000_000, 4_000_000_000), sum(FLICKR30K_COUNTS.values()))
    for split, count in FLICKR30K_COUNTS.items():
        records = []
        for flickr_id in ids[:count]:
            sentences = [_quirk(_english_caption(rng), rng) for _ in range(CAPTIONS_PER_FLICKR30K_IMAGE)]
            records.append({"sentences": sentences, "id": str(flickr_id), "img_path": f"{flickr_id}.jpg"})
            write_jpeg(raw_dir / FLICKR30K_IMAGE_DIR / f"{flickr_id}.jpg", rng.randrange(2**31), size=IMAGE_SIZE)
        ids = ids[count:]
        _write_jsonl(raw_dir / FLICKR30K_FILES[split], records)


def _write_xflickrco(raw_dir: Path, rng: random.Random) -> None:
    flickr_ids = rng.sample(range(10_000_000, 4_000_000_000), XFLICKRCO_FLICKR_IMAGES)
    coco_ids = rng.sample(range(1, 582_000), XFLICKRCO_COCO_IMAGES)
    images: list[tuple[str | int, str]] = [(str(i), f"{i}.jpg") for i in flickr_ids]
    images += [(i, f"COCO_val2014_{i:012d}.jpg") for i in coco_ids]  # COCO ids are ints in the real files
    scenes = rng.sample(range(len(SCENES)), len(images))
    for _, img_path in images:
        write_jpeg(raw_dir / XFLICKRCO_IMAGE_DIR / img_path, rng.randrange(2**31), size=IMAGE_SIZE)
    for language in SCENES[0]:
        records = []
        for (image_id, img_path), scene in zip(images, scenes):
            caption = SCENES[scene][language]
            records.append({"sentences": [_quirk(caption, rng) if language == "en" else caption],
                            "id": image_id, "img_path": img_path})
        _write_jsonl(raw_dir / xflickrco_file(language), records)


def write_xflickrco(raw_dir: Path, seed: int = 0) -> None:
    """Write the Flickr30k ``{train,valid,test}_ann.jsonl``, the xFlickrCO ``<lang>/test.jsonl`` files and
    every image they name under ``raw_dir``; the same seed gives the same bytes."""
    rng = random.Random(seed)
    raw_dir = Path(raw_dir)
    _write_flickr30k(raw_dir, rng)
    _write_xflickrco(raw_dir, rng)

"""Sample IGLUE: GQA train, xGQA, XVNLI and MaRVL annotation files in their upstream formats, plus
every image they reference (GQA, Flickr30k and MaRVL folders; MaRVL concept folders in NFKD form).

What varies with the seed: question/pair/image ids, which questions go to dev or test, record order
within a concept or image, and the pictures. The texts are fixed, hand-written in each language.
"""

from __future__ import annotations

import json
import random
import unicodedata
import zlib
from pathlib import Path
from typing import Any

from mmassets.sample.images import write_jpeg

IMAGE_SIZE = (48, 36)
XGQA_TRANSLATED = ("bn", "de", "id", "ko", "pt", "ru", "zh")
XVNLI_TRANSLATED = ("ar", "es", "fr", "ru")

# --- GQA / xGQA -------------------------------------------------------------------------------

#: Testdev-style questions: English, answer, GQA program, full answer, translations.
_XGQA_QUESTIONS: tuple[dict[str, Any], ...] = (
    {"en": "What color is the dirt?", "answer": "red", "full": "The dirt is red.",
     "semantic": [("select", [], "dirt (17)"), ("query", [0], "color")],
     "types": ("directOf", "attr", "query"), "groups": ("color", "10q-dirt_color"),
     "bn": "মাটির রং কী?", "de": "Welche Farbe hat die Erde?", "id": "Apa warna tanahnya?",
     "ko": "흙은 무슨 색인가요?", "pt": "De que cor é a terra?", "ru": "Какого цвета земля?", "zh": "泥土是什么颜色？"},
    {"en": "Who is wearing the dress?", "answer": "women", "full": "The women are wearing a dress.",
     "semantic": [("select", [], "dress (12)"), ("relate", [0], "person,wearing,s (7)"), ("query", [1], "name")],
     "types": ("relS", "rel", "query"), "groups": ("person", "14-dress_wearing,s"),
     "bn": "পোশাকটি কে পরে আছে?", "de": "Wer trägt das Kleid?", "id": "Siapa yang memakai gaun itu?",
     "ko": "누가 드레스를 입고 있나요?", "pt": "Quem está usando o vestido?", "ru": "Кто одет в платье?",
     "zh": "谁在穿着这条裙子？"},
    {"en": "Is the surfer that looks wet wearing a wetsuit?", "answer": "yes",
     "full": "Yes, the surfer is wearing a wetsuit.",
     "semantic": [("select", [], "surfer (1)"), ("filter", [0], "wet"), ("verify rel", [1], "wetsuit,wearing,o (12)")],
     "types": ("relVerify", "rel", "verify"), "groups": (None, "13-surfer_wetsuit"),
     "bn": "ভেজা দেখতে সার্ফারটি কি ওয়েটস্যুট পরে আছে?",
     "de": "Trägt der Surfer, der nass aussieht, einen Neoprenanzug?",
     "id": "Apakah peselancar yang terlihat basah itu memakai baju selam?", "ko": "젖어 보이는 서퍼는 잠수복을 입고 있나요?",
     "pt": "O surfista que parece molhado está usando uma roupa de mergulho?",
     "ru": "Серфер, который выглядит мокрым, одет в гидрокостюм?", "zh": "那个看起来湿漉漉的冲浪者穿了潜水衣吗？"},
    {"en": "Which side are the white houses on?", "answer": "left", "full": "The houses are on the left of the image.",
     "semantic": [("select", [], "houses (8)"), ("filter color", [0], "white"), ("query", [1], "hposition")],
     "types": ("positionQuery", "attr", "query"), "groups": (None, "10q-houses_hposition"),
     "bn": "সাদা বাড়িগুলো কোন দিকে?", "de": "Auf welcher Seite sind die weißen Häuser?",
     "id": "Di sisi mana rumah-rumah putih itu?", "ko": "하얀 집들은 어느 쪽에 있나요?",
     "pt": "De que lado estão as casas brancas?", "ru": "С какой стороны белые дома?", "zh": "那些白房子在哪边？"},
    {"en": "What is hanging from the wall?", "answer": "picture frame",
     "full": "The picture frame is hanging from the wall.",
     "semantic": [("select", [], "wall (8)"), ("relate", [0], "_,hanging from,s (11)"), ("query", [1], "name")],
     "types": ("relS", "rel", "query"), "groups": ("", "14-wall_hanging from,s"),
     "bn": "দেয়াল থেকে কী ঝুলছে?", "de": "Was hängt an der Wand?", "id": "Apa yang tergantung di dinding?",
     "ko": "벽에 무엇이 걸려 있나요?", "pt": "O que está pendurado na parede?", "ru": "Что висит на стене?",
     "zh": "墙上挂的是什么？"},
    {"en": "Is the fence made of cement or aluminum?", "answer": "aluminum", "full": "The fence is made of aluminum.",
     "semantic": [("select", [], "fence (8)"), ("choose material", [0], "aluminum|concrete")],
     "types": ("materialChoose", "attr", "choose"), "groups": ("material", "10c-fence_material"),
     "bn": "বেড়াটি কি সিমেন্টের নাকি অ্যালুমিনিয়ামের তৈরি?", "de": "Ist der Zaun aus Zement oder aus Aluminium?",
     "id": "Apakah pagar itu terbuat dari semen atau aluminium?",
     "ko": "울타리는 시멘트로 만들어졌나요, 알루미늄으로 만들어졌나요?", "pt": "A cerca é feita de cimento ou de alumínio?",
     "ru": "Забор сделан из цемента или из алюминия?", "zh": "栅栏是水泥还是铝制的？"},
)

#: GQA train questions (LXMERT format); the last has no answer, as a few LXMERT records do.
_GQA_TRAIN: tuple[tuple[str, dict[str, float]], ...] = (
    ("Is the sky dark?", {"yes": 1.0}),
    ("What is on the white wall?", {"pipe": 1.0}),
    ("Is the tall clock small or large?", {"large": 1.0}),
    ("Who is wearing a shirt?", {"girl": 1.0}),
    ("Which color is the bus on the left?", {"red": 1.0}),
    ("Are there any cups or plates?", {}),
)

# --- XVNLI ------------------------------------------------------------------------------------

#: (premise, [(hypothesis, gold label, annotator labels)]) per image, with translations per language.
_XVNLI_TEST: tuple[dict[str, Any], ...] = (
    {"labels": [("entailment", None), ("contradiction", None), ("neutral", None)],
     "en": ("A man in a blue shirt is holding a newspaper on a city street.",
            ["A man is holding a newspaper.", "The man is sleeping in his bed.", "The man is reading about sports."]),
     "ar": ("رجل يرتدي قميصا أزرق يحمل جريدة في شارع المدينة.",
            ["رجل يحمل جريدة.", "الرجل نائم في سريره.", "الرجل يقرأ عن الرياضة."]),
     "es": ("Un hombre con camisa azul sostiene un periódico en una calle de la ciudad.",
            ["Un hombre sostiene un periódico.", "El hombre está durmiendo en su cama.",
             "El hombre está leyendo sobre deportes."]),
     "fr": ("Un homme en chemise bleue tient un journal dans une rue de la ville.",
            ["Un homme tient un journal.", "L'homme dort dans son lit.", "L'homme lit un article sur le sport."]),
     "ru": ("Мужчина в синей рубашке держит газету на городской улице.",
            ["Мужчина держит газету.", "Мужчина спит в своей кровати.", "Мужчина читает о спорте."])},
    {"labels": [("entailment", None), ("contradiction", None), ("-", None)],
     "en": ("Two children are playing with a ball on the beach.",
            ["Children are outdoors.", "The children are sitting in a classroom.",
             "The children are on vacation with their parents."]),
     "ar": ("طفلان يلعبان بالكرة على الشاطئ.",
            ["الأطفال في الخارج.", "الأطفال يجلسون في الفصل.", "الأطفال في إجازة مع والديهم."]),
     "es": ("Dos niños juegan con una pelota en la playa.",
            ["Los niños están al aire libre.", "Los niños están sentados en un aula.",
             "Los niños están de vacaciones con sus padres."]),
     "fr": ("Deux enfants jouent au ballon sur la plage.",
            ["Les enfants sont dehors.", "Les enfants sont assis dans une salle de classe.",
             "Les enfants sont en vacances avec leurs parents."]),
     "ru": ("Двое детей играют с мячом на пляже.",
            ["Дети находятся на улице.", "Дети сидят в классе.", "Дети отдыхают с родителями."])},
)

_XVNLI_DEV: tuple[dict[str, Any], ...] = (
    {"labels": [("entailment", ["entailment", "entailment", "entailment", "neutral", "entailment"]),
                ("contradiction", ["contradiction"] * 5),
                ("neutral", ["neutral", "neutral", "contradiction", "neutral", "neutral"])],
     "en": ("A woman in a red coat is walking her dog in the snow.",
            ["A woman is outside with a dog.", "The woman is swimming in a pool.", "The woman is walking to work."]),
     "ar": ("امرأة ترتدي معطفا أحمر تمشي مع كلبها في الثلج.",
            ["امرأة في الخارج مع كلب.", "المرأة تسبح في حوض السباحة.", "المرأة تمشي إلى العمل."]),
     "es": ("Una mujer con un abrigo rojo pasea a su perro por la nieve.",
            ["Una mujer está afuera con un perro.", "La mujer está nadando en una piscina.",
             "La mujer camina hacia el trabajo."]),
     "fr": ("Une femme en manteau rouge promène son chien dans la neige.",
            ["Une femme est dehors avec un chien.", "La femme nage dans une piscine.",
             "La femme marche pour aller au travail."]),
     "ru": ("Женщина в красном пальто выгуливает собаку по снегу.",
            ["Женщина на улице с собакой.", "Женщина плавает в бассейне.", "Женщина идёт на работу."])},
    {"labels": [("entailment", ["entailment", "entailment", "entailment", "entailment", "entailment"]),
                ("contradiction", ["contradiction", "contradiction", "neutral", "contradiction", "contradiction"]),
                ("neutral", ["entailment", "neutral", "neutral", "neutral", "entailment"])],
     "en": ("A group of musicians play guitars on a stage.",
            ["People are playing instruments.", "The stage is empty.", "The band is famous."]),
     "ar": ("مجموعة من الموسيقيين يعزفون على الغيتار على المسرح.",
            ["أشخاص يعزفون على آلات موسيقية.", "المسرح فارغ.", "الفرقة مشهورة."]),
     "es": ("Un grupo de músicos toca la guitarra en un escenario.",
            ["Unas personas tocan instrumentos.", "El escenario está vacío.", "La banda es famosa."]),
     "fr": ("Un groupe de musiciens joue de la guitare sur une scène.",
            ["Des gens jouent des instruments.", "La scène est vide.", "Le groupe est célèbre."]),
     "ru": ("Группа музыкантов играет на гитарах на сцене.",
            ["Люди играют на музыкальных инструментах.", "Сцена пуста.", "Группа знаменита."])},
)

_XVNLI_TRAIN: tuple[dict[str, Any], ...] = (
    {"labels": [("entailment", ["entailment"]), ("contradiction", ["contradiction"]), ("neutral", ["neutral"])],
     "en": ("A young boy rides a bicycle down a dirt road.",
            ["A boy is riding a bike.", "The boy is swimming in a lake.", "The boy is riding to his friend's house."])},
    {"labels": [("entailment", ["entailment"]), ("contradiction", ["contradiction"]), ("neutral", ["neutral"])],
     "en": ("An old woman sells vegetables at a market stall.",
            ["A woman is selling food.", "The woman is buying a car.", "The vegetables are fresh from her farm."])},
)
_PAIR_SUFFIX = {"entailment": "e", "contradiction": "c", "neutral": "n", "-": "n"}

# --- MaRVL ------------------------------------------------------------------------------------

#: Per language: (concept, chapter, caption) twice. Turkish and Tamil names change under NFKD.
_MARVL: dict[str, tuple[tuple[str, str, str], ...]] = {
    "id": (("39-Panci", "Basic actions and technology",
            "Panci di salah satu foto berada di atas kompor yang menyala, sedangkan di foto lainnya tidak ada api."),
           ("45-Rendang", "Food and Beverages",
            "Gambar kiri menunjukkan rendang di atas piring putih, sedangkan gambar kanan menunjukkan rendang "
            "di wajan.")),
    "sw": (("27-Ugali", "Food and Beverages",
            "Picha ya kushoto inaonyesha ugali pamoja na mboga, na picha ya kulia inaonyesha mtu akipika ugali."),
           ("64-Kanga", "Clothing and grooming",
            "Picha zote mbili zinaonyesha wanawake waliovaa kanga za rangi nyingi.")),
    "ta": (("33-இட்லி", "Food and Beverages",
            "இடது படத்தில் இட்லியுடன் சட்னி உள்ளது, வலது படத்தில் இட்லி பாத்திரம் மட்டும் உள்ளது."),
           ("58-கோலம்", "Religion and belief",
            "இரண்டு படங்களிலும் வீட்டு வாசலில் வண்ணக் கோலம் வரையப்பட்டுள்ளது.")),
    "tr": (("2-Güvercin", "Animal",
            "Soldaki resimde güvercinleri besleyen bir kişi var, sağdakinde ise hiç insan yok."),
           ("53-Çay", "Food and Beverages",
            "Her iki resimde de ince belli bardaklarda çay var.")),
    "zh": (("82-铅笔", "Cognition", "左图有好几支不同颜色的铅笔，右图只有一支铅笔。"),
           ("69-卧室", "The house", "左图的卧室里没有人，右图的卧室里有一个人。")),
}
_MARVL_ANNOTATORS = {
    "id": ("Indonesia", "Indonesia", "male", 31), "sw": ("Tanzania", "Tanzania", "female", 28),
    "ta": ("India", "India", "female", 35), "tr": ("Turkey", "Turkey", "male", 53),
    "zh": ("Taiwan", "Belgium", "male", 25),
}
PAIRS_PER_CONCEPT = 2


def _image(raw_dir: Path, relative: str, seed: int) -> None:
    """A small JPEG at ``raw_dir/relative`` whose picture depends on the seed and the path."""
    write_jpeg(raw_dir / relative, seed * 1_000_003 + zlib.crc32(relative.encode("utf-8")), size=IMAGE_SIZE)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def _xgqa_question(spec: dict[str, Any], question_id: str, image_id: str, question: str) -> dict[str, Any]:
    """A GQA question object with the keys (and key order) of the xGQA files."""
    semantic = [{"operation": op, "dependencies": deps, "argument": arg} for op, deps, arg in spec["semantic"]]
    semantic_str = "->".join(f"{op}: {arg}" + (f" {deps}" if deps else "") for op, deps, arg in spec["semantic"])
    detailed, sem, structural = spec["types"]
    return {"semantic": semantic, "entailed": [], "equivalent": [question_id], "question": question,
            "imageId": image_id, "isBalanced": True,
            "groups": {"global": spec["groups"][0], "local": spec["groups"][1]},
            "answer": spec["answer"], "semanticStr": semantic_str,
            "annotations": {"answer": {}, "question": {}, "fullAnswer": {}},
            "types": {"detailed": detailed, "semantic": sem, "structural": structural}, "fullAnswer": spec["full"]}


def write_gqa(raw_dir: Path, seed: int, rng: random.Random) -> None:
    """GQA train.json (LXMERT format, indented like the original) and xGQA dev/test for all languages."""
    train_ids = rng.sample(range(2_300_000, 2_420_000), len(_GQA_TRAIN))
    question_ids = rng.sample(range(0, 20_000_000), len(_GQA_TRAIN))
    train = [{"img_id": str(img), "label": label, "question_id": f"{qid:08d}", "sent": sent}
             for (sent, label), img, qid in zip(_GQA_TRAIN, train_ids, question_ids)]
    _write_text(raw_dir / "iglue/gqa/annotations/train.json", json.dumps(train, indent=4))
    order = list(range(len(_XGQA_QUESTIONS)))
    rng.shuffle(order)
    half = len(order) // 2
    image_ids = [f"n{number}" for number in rng.sample(range(1000, 600_000), len(order))]
    qids = [str(number) for number in rng.sample(range(2_000_000, 202_300_000), len(order))]
    for split, chosen in (("dev", order[:half]), ("test", order[half:])):
        for language in ("en", *XGQA_TRANSLATED):
            data = {qids[i]: _xgqa_question(_XGQA_QUESTIONS[i], qids[i], image_ids[i], _XGQA_QUESTIONS[i][language])
                    for i in chosen}
            _write_text(raw_dir / f"iglue/xGQA/annotations/few_shot/{language}/{split}.json", json.dumps(data))
    for image_id in [record["img_id"] for record in train] + image_ids:
        _image(raw_dir, f"iglue/gqa/images/{image_id}.jpg", seed)


def _xvnli_pairs(groups: tuple[dict[str, Any], ...], rng: random.Random) -> list[dict[str, Any]]:
    """One entry per hypothesis: image id, caption id, pair id, labels, index into the texts."""
    pairs = []
    for g, group in enumerate(groups):
        flickr_id = str(rng.randrange(10_000_000, 9_000_000_000))
        caption_id = f"{flickr_id}.jpg#{rng.randrange(5)}"
        order = list(range(len(group["labels"])))
        rng.shuffle(order)
        for h in order:
            gold, annotators = group["labels"][h]
            pairs.append({"group": g, "hypothesis": h, "flickr_id": flickr_id, "captionID": caption_id,
                          "pairID": f"{caption_id}r1{_PAIR_SUFFIX[gold]}", "gold": gold, "annotators": annotators})
    return pairs


def _snli_ve_record(pair: dict[str, Any], texts: tuple[str, list[str]]) -> dict[str, Any]:
    """An SNLI-VE line (keys sorted, ``Flikr30kID`` with ``.jpg``), as in en/{train,dev}.jsonl."""
    return {"Flikr30kID": f"{pair['flickr_id']}.jpg", "annotator_labels": pair["annotators"],
            "captionID": pair["captionID"], "gold_label": pair["gold"], "pairID": pair["pairID"],
            "sentence1": texts[0], "sentence2": texts[1][pair["hypothesis"]]}


def write_xvnli(raw_dir: Path, seed: int, rng: random.Random) -> None:
    """XVNLI test per language (IGLUE style), en/train.jsonl, en/dev.jsonl (SNLI-VE style) and the
    machine-translated en/dev-<lang>_gmt.jsonl, plus the Flickr30k images they name."""
    base = raw_dir / "iglue/XVNLI/annotations"
    test = _xvnli_pairs(_XVNLI_TEST, rng)
    for language in ("en", *XVNLI_TRANSLATED):
        records = []
        for pair in test:
            premise, hypotheses = _XVNLI_TEST[pair["group"]][language]
            records.append({"gold_label": pair["gold"], "sentence1": premise,
                            "sentence2": hypotheses[pair["hypothesis"]], "captionID": pair["captionID"],
                            "pairID": pair["pairID"], "Flikr30kID": pair["flickr_id"]})
        _write_text(base / language / "test.jsonl", _jsonl(records))
    dev = _xvnli_pairs(_XVNLI_DEV, rng)
    for language in ("en", *XVNLI_TRANSLATED):
        name = "dev.jsonl" if language == "en" else f"dev-{language}_gmt.jsonl"
        _write_text(base / "en" / name,
                    _jsonl([_snli_ve_record(pair, _XVNLI_DEV[pair["group"]][language]) for pair in dev]))
    train = _xvnli_pairs(_XVNLI_TRAIN, rng)
    _write_text(base / "en" / "train.jsonl",
                _jsonl([_snli_ve_record(pair, _XVNLI_TRAIN[pair["group"]]["en"]) for pair in train]))
    for flickr_id in sorted({pair["flickr_id"] for pair in test + dev + train}):
        _image(raw_dir, f"iglue/flickr30k/images/{flickr_id}.jpg", seed)


def write_marvl(raw_dir: Path, seed: int, rng: random.Random) -> None:
    """marvl-<lang>.jsonl (NFC text) per language and the image pairs, in NFKD-named concept folders."""
    for language, concepts in _MARVL.items():
        birth, residence, gender, age = _MARVL_ANNOTATORS[language]
        info = {"annotator_id": f"{language}_01", "country_of_birth": birth, "country_of_residence": residence,
                "gender": gender, "age": age}
        records = []
        for concept, chapter, caption in concepts:
            concept = unicodedata.normalize("NFC", concept)
            number = concept.split("-", 1)[0]
            images = [f"{number}-{k}.jpg" for k in rng.sample(range(14), 2 * PAIRS_PER_CONCEPT)]
            for p in range(PAIRS_PER_CONCEPT):
                records.append({"concept": concept, "language": language, "caption": caption,
                                "left_img": images[2 * p], "right_img": images[2 * p + 1], "annotator_info": info,
                                "chapter": chapter, "id": f"{language}-{len(records)}", "label": rng.random() < 0.5})
            folder = unicodedata.normalize("NFKD", f"iglue/marvl/images/{language}/images/{concept}")
            for image in images:
                _image(raw_dir, f"{folder}/{image}", seed)
        _write_text(raw_dir / f"iglue/marvl/zero_shot/annotations/marvl-{language}.jsonl", _jsonl(records))


def write_iglue(raw_dir: Path, seed: int = 0) -> None:
    """Write the sample GQA/xGQA, XVNLI and MaRVL files and their images under ``raw_dir``."""
    raw_dir = Path(raw_dir)
    rng = random.Random(seed)
    write_gqa(raw_dir, seed, rng)
    write_xvnli(raw_dir, seed, rng)
    write_marvl(raw_dir, seed, rng)

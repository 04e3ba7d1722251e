"""Sample Crossmodal-3600: ``xm3600/captions.jsonl`` in the release's format (one image a line with a
``{"caption", "caption/tokenized", "caption/tokenized/lowercase"}`` object per language, in the
file's language order) and ``xm3600/images/<key>.jpg`` for every image."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from pathlib import Path

from mmassets.sample.images import write_jpeg
from mmassets.sources.xm3600 import CAPTIONS_FILE, IMAGE_DIR, LANGUAGES

IMAGE_SIZE = (48, 36)

#: Three scenes, each captioned in the 36 languages: a dog on grass, a market, a parked red car.
SCENES: tuple[dict[str, str], ...] = (
    {"ar": "كلب بني يركض على العشب", "bn": "একটি বাদামী কুকুর ঘাসের উপর দৌড়াচ্ছে", "cs": "Hnědý pes běží po trávě",
     "da": "En brun hund løber på græsset", "de": "Ein brauner Hund rennt über das Gras",
     "el": "Ένας καφέ σκύλος τρέχει στο γρασίδι", "en": "A brown dog running on the grass",
     "es": "Un perro marrón corriendo sobre el césped", "fa": "یک سگ قهوه‌ای روی چمن می‌دود",
     "fi": "Ruskea koira juoksee nurmikolla", "fil": "Isang kayumangging aso na tumatakbo sa damuhan",
     "fr": "Un chien marron qui court sur l'herbe", "hi": "घास पर दौड़ता हुआ एक भूरा कुत्ता",
     "hr": "Smeđi pas trči po travi", "hu": "Egy barna kutya fut a füvön",
     "id": "Seekor anjing cokelat berlari di atas rumput", "it": "Un cane marrone che corre sull'erba",
     "he": "כלב חום רץ על הדשא", "ja": "芝生の上を走る茶色い犬", "ko": "잔디 위를 달리는 갈색 개",
     "mi": "He kurī parauri e oma ana i runga i te karaehe", "nl": "Een bruine hond rent over het gras",
     "no": "En brun hund som løper på gresset", "pl": "Brązowy pies biegnący po trawie",
     "pt": "Um cachorro marrom correndo na grama", "quz": "Huk ch'umpi allqu q'achupi phawashan",
     "ro": "Un câine maro care aleargă pe iarbă", "ru": "Коричневая собака бежит по траве",
     "sv": "En brun hund som springer på gräset", "sw": "Mbwa wa kahawia akikimbia kwenye nyasi",
     "te": "గడ్డిపై పరుగెత్తుతున్న గోధుమ రంగు కుక్క", "th": "สุนัขสีน้ำตาลกำลังวิ่งอยู่บนสนามหญ้า",
     "tr": "Çimenlerin üzerinde koşan kahverengi bir köpek", "uk": "Коричневий собака біжить по траві",
     "vi": "Một chú chó nâu đang chạy trên bãi cỏ", "zh": "一只棕色的狗在草地上奔跑"},
    {"ar": "أشخاص يتسوقون في سوق مزدحم", "bn": "একটি ব্যস্ত বাজারে লোকজন কেনাকাটা করছে",
     "cs": "Lidé nakupují na rušném trhu", "da": "Folk handler på et travlt marked",
     "de": "Menschen kaufen auf einem belebten Markt ein", "el": "Άνθρωποι ψωνίζουν σε μια πολυσύχναστη αγορά",
     "en": "People shopping at a busy market", "es": "Gente comprando en un mercado concurrido",
     "fa": "مردم در یک بازار شلوغ خرید می‌کنند", "fi": "Ihmiset ostoksilla vilkkaalla torilla",
     "fil": "Mga taong namimili sa isang mataong palengke",
     "fr": "Des gens qui font leurs courses dans un marché animé",
     "hi": "एक भीड़भाड़ वाले बाज़ार में खरीदारी करते लोग", "hr": "Ljudi kupuju na prepunoj tržnici",
     "hu": "Emberek vásárolnak egy forgalmas piacon", "id": "Orang-orang berbelanja di pasar yang ramai",
     "it": "Persone che fanno acquisti in un mercato affollato", "he": "אנשים קונים בשוק הומה",
     "ja": "賑やかな市場で買い物をする人々", "ko": "붐비는 시장에서 장을 보는 사람들",
     "mi": "He tāngata e hoko ana i te mākete", "nl": "Mensen winkelen op een drukke markt",
     "no": "Folk som handler på et travelt marked", "pl": "Ludzie robiący zakupy na zatłoczonym targu",
     "pt": "Pessoas fazendo compras em um mercado movimentado", "quz": "Runakuna qhatupi rantishanku",
     "ro": "Oameni care fac cumpărături într-o piață aglomerată", "ru": "Люди делают покупки на оживлённом рынке",
     "sv": "Människor som handlar på en livlig marknad",
     "sw": "Watu wakinunua bidhaa katika soko lenye shughuli nyingi",
     "te": "రద్దీగా ఉన్న మార్కెట్‌లో షాపింగ్ చేస్తున్న ప్రజలు", "th": "ผู้คนกำลังซื้อของในตลาดที่พลุกพล่าน",
     "tr": "Kalabalık bir pazarda alışveriş yapan insanlar", "uk": "Люди роблять покупки на жвавому ринку",
     "vi": "Mọi người đang mua sắm ở một khu chợ đông đúc", "zh": "人们在热闹的市场里购物"},
    {"ar": "سيارة حمراء متوقفة في الشارع", "bn": "রাস্তায় পার্ক করা একটি লাল গাড়ি",
     "cs": "Červené auto zaparkované na ulici", "da": "En rød bil parkeret på gaden",
     "de": "Ein rotes Auto parkt an der Straße", "el": "Ένα κόκκινο αυτοκίνητο σταθμευμένο στον δρόμο",
     "en": "A red car parked on the street", "es": "Un coche rojo aparcado en la calle",
     "fa": "یک ماشین قرمز در خیابان پارک شده است", "fi": "Punainen auto pysäköitynä kadulle",
     "fil": "Isang pulang kotse na nakaparada sa kalye", "fr": "Une voiture rouge garée dans la rue",
     "hi": "सड़क पर खड़ी एक लाल कार", "hr": "Crveni automobil parkiran na ulici",
     "hu": "Egy piros autó parkol az utcán", "id": "Sebuah mobil merah diparkir di jalan",
     "it": "Un'auto rossa parcheggiata in strada", "he": "מכונית אדומה חונה ברחוב",
     "ja": "通りに停められた赤い車", "ko": "길가에 주차된 빨간 자동차",
     "mi": "He motukā whero e tū ana i te huarahi", "nl": "Een rode auto geparkeerd op straat",
     "no": "En rød bil parkert på gaten", "pl": "Czerwony samochód zaparkowany na ulicy",
     "pt": "Um carro vermelho estacionado na rua", "quz": "Huk puka karru ñanpi sayashan",
     "ro": "O mașină roșie parcată pe stradă", "ru": "Красная машина, припаркованная на улице",
     "sv": "En röd bil parkerad på gatan", "sw": "Gari jekundu limeegeshwa barabarani",
     "te": "వీధిలో పార్క్ చేసిన ఎరుపు కారు", "th": "รถสีแดงจอดอยู่ริมถนน",
     "tr": "Sokağa park edilmiş kırmızı bir araba", "uk": "Червона машина, припаркована на вулиці",
     "vi": "Một chiếc ô tô màu đỏ đỗ trên đường phố", "zh": "一辆红色的汽车停在街上"},
)

#: A second caption of each scene in a few languages (XM3600 has one or more captions per language).
SECOND_CAPTIONS: tuple[dict[str, str], ...] = (
    {"en": "A dog playing in a green field", "de": "Ein Hund spielt auf einer grünen Wiese",
     "ja": "緑の野原で遊ぶ犬", "th": "สุนัขเล่นอยู่ในทุ่งหญ้าสีเขียว", "zh": "一只狗在绿色的田野里玩耍"},
    {"en": "A crowded market with fruit stalls", "de": "Ein voller Markt mit Obstständen",
     "ja": "果物の屋台が並ぶ混雑した市場", "th": "ตลาดที่แออัดมีแผงขายผลไม้", "zh": "一个有水果摊的拥挤市场"},
    {"en": "A small red car in front of a house", "de": "Ein kleines rotes Auto vor einem Haus",
     "ja": "家の前に停まっている小さな赤い車", "th": "รถคันเล็กสีแดงหน้าบ้าน", "zh": "房子前面的一辆红色小汽车"},
)

DECOMPOSED = ("vi", 0)
"""(language, image index) whose caption is written decomposed (NFD), as some real captions are."""

_PUNCTUATION = re.compile(r"([.,!?;:\"'()])")


def _tokenized(caption: str) -> str:
    return " ".join(_PUNCTUATION.sub(r" \1 ", caption).split())


def _entry(captions: list[str]) -> dict[str, list[str]]:
    tokenized = [_tokenized(c) for c in captions]
    return {"caption": captions, "caption/tokenized": tokenized,
            "caption/tokenized/lowercase": [t.lower() for t in tokenized]}


def write_xm3600(raw_dir: Path, seed: int = 0) -> None:
    """Write ``xm3600/captions.jsonl`` (one line per scene, in a seeded order) and its images under
    ``raw_dir``; the same seed gives the same bytes."""
    rng = random.Random(seed)
    raw_dir = Path(raw_dir)
    order = rng.sample(range(len(SCENES)), len(SCENES))
    lines = []
    for index, scene in enumerate(order):
        key = f"{rng.getrandbits(64):016x}"
        record: dict[str, object] = {"image/key": key, "image/locale": rng.choice(LANGUAGES)}
        for language in LANGUAGES:
            captions = [SCENES[scene][language]]
            if language in SECOND_CAPTIONS[scene]:
                captions.append(SECOND_CAPTIONS[scene][language])
            if (language, index) == DECOMPOSED:
                captions = [unicodedata.normalize("NFD", c) for c in captions]
            record[language] = _entry(captions)
        lines.append(json.dumps(record, ensure_ascii=False))
        write_jpeg(raw_dir / IMAGE_DIR / f"{key}.jpg", rng.randrange(2**31), size=IMAGE_SIZE)
    path = raw_dir / CAPTIONS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(line + "\n" for line in lines))

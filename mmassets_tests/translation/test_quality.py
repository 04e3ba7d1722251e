"""Tests for the single-translation checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mmassets
from mmassets.translation.quality import (
    REASONS,
    SCRIPTS,
    detectable,
    is_repetition_loop,
    problem,
    script_share,
)

SOURCE = "A brown dog is running along the sandy beach on a sunny day."


@pytest.mark.parametrize("source, translation, expected", [
    (SOURCE, "", "empty"),
    (SOURCE, " \n ", "empty"),
    (SOURCE, SOURCE, "unchanged"),
    (SOURCE, "  a brown DOG is running along the sandy beach on a sunny day. ", "unchanged"),
    ("OK", "OK", None),  # too short to call unchanged
    ("TV", "tv", None),
    (SOURCE, "Ein Hund Hund Hund Hund Hund Hund Hund Hund Hund", "repetition"),
    (SOURCE, "Ein Hund läuft am Strand am Strand am Strand am Strand am Strand", "repetition"),
    ("A dog.", "Hund Hund Hund Hund", "repetition"),  # short: looked at as characters
    (SOURCE, "一只狗在沙滩上跑跑跑跑跑跑跑跑跑", "repetition"),
    (SOURCE, "狗狗狗狗狗狗狗狗", "repetition"),
    (SOURCE, "Hund", "length ratio"),  # 4 / 60 chars < 0.15
    (SOURCE, "Ein brauner Hund rennt an einem sonnigen Tag am Sandstrand entlang, " * 4
     + "und dann geht er nach Hause, wo seine Familie schon lange mit dem Abendessen wartet.", "length ratio"),
    (SOURCE, "Ein brauner Hund läuft an einem sonnigen Tag am Sandstrand entlang.", None),
    (SOURCE, "一只棕色的狗在阳光明媚的日子里沿着沙滩奔跑。", None),
    (SOURCE, "Un chien brun court le long de la plage de sable par une journée ensoleillée.", None),
    ("A dog.", "Ein Hund.", None),
    ("Dog", "Hund", None),  # short source: no length check
])
def test_problem(source: str, translation: str, expected: str | None) -> None:
    assert problem(source, translation) == expected


def test_repetition_needs_to_cover_most_of_the_text() -> None:
    # "der" four times in 20 words is ordinary German, not a loop.
    text = ("Am Abend laufen der Mann und der Hund über die Wiese, der Himmel ist blau "
            "und der Wind weht über das Feld")
    assert text.split().count("der") == 4 and len(text.split()) == 22
    assert not is_repetition_loop(text)
    assert is_repetition_loop("und dann und dann und dann und dann und dann")


# --- wrong script / wrong language (``target``) ------------------------------------------------

DOG = "A dog runs along the beach with a ball in its mouth."
KIDS = "Two children are playing football in the park on a sunny afternoon."

RIGHT = [
    ("deu_Latn", DOG, "Ein Hund läuft mit einem Ball im Maul am Strand entlang."),
    ("deu_Latn", KIDS, "Zwei Kinder spielen an einem sonnigen Nachmittag im Park Fußball."),
    ("fra_Latn", DOG, "Un chien court le long de la plage avec une balle dans la gueule."),
    ("fra_Latn", KIDS, "Deux enfants jouent au football dans le parc par un après-midi ensoleillé."),
    ("spa_Latn", DOG, "Un perro corre por la playa con una pelota en la boca."),
    ("rus_Cyrl", DOG, "Собака бежит по пляжу с мячом во рту."),
    ("rus_Cyrl", KIDS, "Двое детей играют в футбол в парке солнечным днём."),
    ("ukr_Cyrl", DOG, "Собака біжить уздовж пляжу з м'ячем у роті."),
    ("arb_Arab", DOG, "كلب يركض على طول الشاطئ وفي فمه كرة."),
    ("arb_Arab", KIDS, "طفلان يلعبان كرة القدم في الحديقة في فترة ما بعد ظهر مشمسة."),
    ("pes_Arab", DOG, "سگی در امتداد ساحل می‌دود و توپی در دهان دارد."),
    ("hin_Deva", DOG, "एक कुत्ता मुँह में गेंद लिए समुद्र तट पर दौड़ रहा है।"),
    ("hin_Deva", KIDS, "धूप वाली दोपहर में दो बच्चे पार्क में फुटबॉल खेल रहे हैं।"),
    ("zho_Hans", DOG, "一只狗嘴里叼着球沿着海滩奔跑。"),
    ("zho_Hans", KIDS, "在一个阳光明媚的下午，两个孩子在公园里踢足球。"),
    ("zho_Hant", DOG, "一隻狗嘴裡叼著球沿著海灘奔跑。"),
    ("jpn_Jpan", DOG, "犬がボールをくわえて浜辺を走っている。"),
    ("jpn_Jpan", KIDS, "晴れた午後、二人の子供が公園でサッカーをしている。"),
    ("kor_Hang", DOG, "개 한 마리가 공을 입에 물고 해변을 따라 달리고 있다."),
    ("kor_Hang", KIDS, "화창한 오후에 두 아이가 공원에서 축구를 하고 있다."),
    ("ell_Grek", DOG, "Ένας σκύλος τρέχει κατά μήκος της παραλίας με μια μπάλα στο στόμα."),
    ("heb_Hebr", DOG, "כלב רץ לאורך החוף עם כדור בפיו."),
    ("heb_Hebr", KIDS, "שני ילדים משחקים כדורגל בפארק אחר צהריים שטוף שמש."),
    ("nob_Latn", DOG, "En hund løper langs stranden med en ball i munnen."),
    ("zsm_Latn", DOG, "Seekor anjing berlari di sepanjang pantai dengan bola di mulutnya."),
    ("ind_Latn", DOG, "Seekor anjing berlari di sepanjang pantai dengan bola di mulutnya."),
    ("tgl_Latn", DOG, "Isang aso ang tumatakbo sa tabing-dagat na may bola sa bibig."),
    ("swh_Latn", DOG, "Mbwa anakimbia kando ya ufuo akiwa na mpira mdomoni."),
    ("tha_Thai", DOG, "สุนัขตัวหนึ่งวิ่งไปตามชายหาดพร้อมลูกบอลในปาก"),
    ("hye_Armn", DOG, "Շունը վազում է լողափի երկայնքով՝ բերանում գնդակ բռնած։"),
    ("kat_Geor", DOG, "ძაღლი სანაპიროზე დარბის, პირში ბურთი უჭირავს."),
    # Languages lingua does not know: only the script is checked.
    ("amh_Ethi", DOG, "አንድ ውሻ በአፉ ኳስ ይዞ በባህር ዳርቻ ላይ ይሮጣል።"),
    ("glg_Latn", DOG, "Un can corre pola praia cunha pelota na boca."),
]


@pytest.mark.parametrize("target, source, translation", RIGHT)
def test_right_language_passes(target: str, source: str, translation: str) -> None:
    assert problem(source, translation, target=target) is None


@pytest.mark.parametrize("target, translation", [
    ("deu_Latn", "A dog is running on the beach while holding a ball."),  # English left as is
    ("deu_Latn", "Un perro corre por la playa con una pelota en la boca."),
    ("fra_Latn", "Ein Hund läuft mit einem Ball im Maul am Strand entlang."),
    ("ukr_Cyrl", "Большая собака быстро бежит вдоль песчаного пляжа, держа во рту красный мяч."),
    ("rus_Cyrl", "Собака біжить уздовж пляжу з м'ячем у роті."),
    ("jpn_Jpan", "一只狗嘴里叼着球沿着海滩奔跑。"),  # Chinese: right script, wrong language
    ("ind_Latn", "Isang aso ang tumatakbo sa tabing-dagat na may bola sa bibig."),  # Tagalog
])
def test_wrong_language(target: str, translation: str) -> None:
    assert problem(DOG, translation, target=target) == "wrong language"


@pytest.mark.parametrize("target, translation", [
    ("rus_Cyrl", "A dog is running on the beach while holding a ball."),
    ("rus_Cyrl", "Ein Hund läuft mit einem Ball im Maul am Strand entlang."),
    ("arb_Arab", "Собака бежит по пляжу с мячом во рту."),
    ("zho_Hans", "犬がボールをくわえて浜辺を走っている。"),  # mostly kana
    ("deu_Latn", "一只狗嘴里叼着球沿着海滩奔跑。"),
    ("ell_Grek", "Un chien court le long de la plage."),
    ("kor_Hang", "A dog runs on the beach with a ball."),
    ("amh_Ethi", "A dog runs on the beach with a ball."),  # lingua does not know Amharic; the script check does
])
def test_wrong_script(target: str, translation: str) -> None:
    assert problem(DOG, translation, target=target) == "wrong script"


@pytest.mark.parametrize("target, translation", [
    ("deu_Latn", "A dog."),
    ("deu_Latn", "Dog on beach"),
    ("deu_Latn", "A happy dog"),
    ("fra_Latn", "Ein kleiner Hund"),
    ("rus_Cyrl", "Собака біжить пляжем"),
    ("ukr_Cyrl", "Собака на пляже"),
    ("jpn_Jpan", "狗在海滩上"),  # unspaced, under 12 letters
])
def test_short_texts_are_never_wrong_language(target: str, translation: str) -> None:
    assert problem("A dog on the beach", translation, target=target) is None


def test_kept_english_brand_names_pass() -> None:
    source = "A man drinks a bottle of Coca-Cola in front of the Empire State Building in New York."
    german = "Ein Mann trinkt vor dem Empire State Building in New York eine Flasche Coca-Cola."
    assert problem(source, german, target="deu_Latn") is None
    assert problem("Samsung Galaxy S21 Ultra smartphone on a table",
                   "Смартфон Samsung Galaxy S21 Ultra на столе", target="rus_Cyrl") is None
    assert problem("Nike logo", "Логотип Nike", target="rus_Cyrl") is None
    # Names do not rescue a text whose own words are in the wrong script.
    assert problem("Samsung Galaxy S21 Ultra smartphone on a table",
                   "Samsung Galaxy S21 Ultra smartphone on the table", target="rus_Cyrl") == "wrong script"


def test_target_checks_come_after_the_others() -> None:
    assert problem(DOG, "", target="deu_Latn") == "empty"
    assert problem(DOG, DOG, target="deu_Latn") == "unchanged"
    assert problem(DOG, "Hund Hund Hund Hund Hund Hund Hund Hund", target="rus_Cyrl") == "repetition"
    assert problem(DOG, "Dog", target="rus_Cyrl") == "length ratio"
    # Without a target nothing about the language is checked.
    assert problem(DOG, "A dog is running on the beach while holding a ball.") is None


def test_unknown_script_suffix_skips_the_script_check() -> None:
    latin = "Ein Hund läuft mit einem Ball im Maul am Strand entlang."
    assert problem(DOG, latin, target="deu_Xxxx") is None  # still German to lingua
    assert problem(DOG, "Собака бежит по пляжу с мячом во рту.", target="xxx_Xxxx") is None
    # Cyrillic for a German target: no script check, and lingua (German vs English) has no
    # opinion on Cyrillic, so it passes; English for the same target is still caught.
    assert problem(DOG, "Собака бежит по пляжу с мячом во рту.", target="deu_Xxxx") is None
    assert problem(DOG, "A dog is running on the beach while holding a ball.", target="deu_Xxxx") == "wrong language"


def test_reasons() -> None:
    assert REASONS == ("empty", "unchanged", "repetition", "length ratio", "wrong script", "wrong language")


@pytest.mark.parametrize("text, script, expected", [
    ("Hund", "Latn", 1.0),
    ("Собака", "Cyrl", 1.0),
    ("Собака", "Latn", 0.0),
    ("Логотип Nike", "Cyrl", 7 / 11),
    ("123 ... !!!", "Latn", 1.0),  # no letters
    ("Tiếng Việt", "Latn", 1.0),
    ("Tie\u0302\u0301ng Vie\u0323\u0302t", "Latn", 1.0),  # decomposed: combining accents not counted
    ("ＡＢＣ", "Latn", 1.0),  # full-width Latin
    ("一只狗", "Hans", 1.0),
    ("犬が走る", "Jpan", 1.0),
    ("犬が走る", "Hant", 0.5),
    ("한국어 漢字", "Kore", 1.0),
    ("한국어", "Hang", 1.0),
    ("हिन्दी", "Deva", 1.0),  # vowel signs and virama count as Devanagari
    ("עברית", "Hebr", 1.0),
    ("العربية", "Arab", 1.0),
    ("Ελληνικά", "Grek", 1.0),
    ("ภาษาไทย", "Thai", 1.0),
])
def test_script_share(text: str, script: str, expected: float) -> None:
    assert script_share(text, script) == pytest.approx(expected)


def test_script_share_unknown_script() -> None:
    with pytest.raises(ValueError):
        script_share("abc", "Xxxx")


def test_every_reference_language_has_a_known_script() -> None:
    languages = json.loads((Path(mmassets.__file__).parent / "reference" / "languages.json").read_text())
    assert {lang["nllb"].split("_")[1] for lang in languages} <= set(SCRIPTS)


@pytest.mark.parametrize("code, expected", [
    ("deu_Latn", True), ("zho_Hans", True), ("zho_Hant", True), ("arb_Arab", True), ("zsm_Latn", True),
    ("pes_Arab", True), ("khk_Cyrl", True), ("swh_Latn", True), ("als_Latn", True), ("lvs_Latn", True),
    ("xxx_Latn", False), ("amh_Ethi", False), ("ydd_Hebr", False), ("yue_Hant", False),
])
def test_detectable(code: str, expected: bool) -> None:
    assert detectable(code) is expected


def test_detectable_matches_lingua() -> None:
    from lingua import Language

    from mmassets.translation.quality import _LINGUA_LANGUAGES

    assert _LINGUA_LANGUAGES == {lang.iso_code_639_3.name.lower() for lang in Language.all()}


def test_importing_does_not_import_lingua() -> None:
    code = ("import sys, mmassets.translation.quality as q; "
            "assert q.detectable('deu_Latn') and q.script_share('Hund', 'Latn') == 1.0; "
            "assert q.problem('A dog.', 'Ein Hund.') is None; "
            "assert 'lingua' not in sys.modules, 'lingua imported'")
    subprocess.run([sys.executable, "-c", code], check=True)

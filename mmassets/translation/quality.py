"""Checks on a single translation: is it usable, and if not, why.

NLLB's known failures are empty output, the source copied unchanged, an n-gram repeated in a loop,
output far longer or shorter than its source, and output in the wrong language (often English, or a
high-resource neighbour of the target). ``problem`` names the first failure found.

The wrong-language checks run only when ``problem`` is given the target's NLLB code
(``deu_Latn``, ``zho_Hant``, ...):

* **wrong script**: too few of the translation's letters belong to the script the code names.
  Pure ``unicodedata``; skipped for script suffixes not in ``SCRIPTS``.
* **wrong language**: the `lingua` detector (lingua-language-detector) is confident the text is
  another language. Only for targets lingua knows (``detectable``) and texts long enough to
  judge. lingua is imported on first use, not when this module is imported. Each target gets
  one cached detector over a small candidate set (the target, English, major languages of its
  script and its close relatives) rather than all 75 languages: its models load lazily and are
  shared between detectors, so a Latin-script target costs ~0.2 GB and well under a second
  on first use, against ~1 GB and ~5 s for an all-languages detector.

Both checks are conservative: dropping a good translation costs more than keeping a borderline
one. Tokens copied from the source that look like names (a capital letter or a digit:
``Coca-Cola``, ``iPhone 15``) are left out when judging, so kept brand names pass.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import lru_cache

MIN_CHARS_FOR_UNCHANGED = 4  # "OK" or "TV" legitimately stay the same
REPEAT_LIMIT = 4  # an n-gram seen this many times (and covering most of the text) is a loop
LENGTH_RATIO_RANGE = (0.15, 4.0)  # translation chars / source chars

MIN_LETTERS_FOR_SCRIPT = 4  # fewer letters than this: no script check
MIN_SCRIPT_SHARE = 0.5  # share of letters in the target's script below this: wrong script
MIN_WORDS_FOR_LANGUAGE = 4  # spaced scripts: fewer words than this are not run through lingua
MIN_LETTERS_FOR_LANGUAGE = 12  # ... nor texts with fewer letters than this (the only bound for unspaced scripts)
MAX_TARGET_CONFIDENCE = 0.2  # wrong language only when lingua gives the target (group) less than this
MIN_OTHER_CONFIDENCE = 0.5  # ... and gives one other language at least this

REASONS = ("empty", "unchanged", "repetition", "length ratio", "wrong script", "wrong language")

# ISO 15924 script of an NLLB code -> the first words of the Unicode character names of its letters.
# Han is "CJK ..." (ideographs) plus the iteration mark; kana includes the prolonged sound mark.
_HAN = frozenset({"CJK", "IDEOGRAPHIC"})
_KANA = frozenset({"HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA"})
SCRIPTS: dict[str, frozenset[str]] = {
    "Latn": frozenset({"LATIN"}), "Cyrl": frozenset({"CYRILLIC"}), "Arab": frozenset({"ARABIC"}),
    "Hebr": frozenset({"HEBREW"}), "Deva": frozenset({"DEVANAGARI"}), "Beng": frozenset({"BENGALI"}),
    "Guru": frozenset({"GURMUKHI"}), "Gujr": frozenset({"GUJARATI"}), "Orya": frozenset({"ORIYA"}),
    "Taml": frozenset({"TAMIL"}), "Telu": frozenset({"TELUGU"}), "Knda": frozenset({"KANNADA"}),
    "Mlym": frozenset({"MALAYALAM"}), "Sinh": frozenset({"SINHALA"}), "Thai": frozenset({"THAI"}),
    "Laoo": frozenset({"LAO"}), "Mymr": frozenset({"MYANMAR"}), "Khmr": frozenset({"KHMER"}),
    "Geor": frozenset({"GEORGIAN"}), "Armn": frozenset({"ARMENIAN"}), "Ethi": frozenset({"ETHIOPIC"}),
    "Grek": frozenset({"GREEK"}), "Tibt": frozenset({"TIBETAN"}), "Thaa": frozenset({"THAANA"}),
    "Tfng": frozenset({"TIFINAGH"}), "Olck": frozenset({"OL"}), "Nkoo": frozenset({"NKO"}),
    "Hani": _HAN, "Hans": _HAN, "Hant": _HAN, "Jpan": _HAN | _KANA,
    "Hang": frozenset({"HANGUL"}) | _HAN, "Kore": frozenset({"HANGUL"}) | _HAN,
}
_UNSPACED = frozenset({"Hani", "Hans", "Hant", "Jpan", "Thai", "Laoo", "Mymr", "Khmr", "Tibt"})
_NAME_ALIASES = {"FEMININE": "LATIN", "MASCULINE": "LATIN"}  # ª º

# NLLB language prefix -> lingua's ISO 639-3 code, where they differ (NLLB often names one member
# of a macro-language). Prefixes equal to a lingua code need no entry.
_LINGUA_CODE = {
    "arb": "ara", "ary": "ara", "arz": "ara", "acm": "ara", "acq": "ara", "aeb": "ara",
    "ajp": "ara", "apc": "ara", "ars": "ara",
    "zsm": "msa", "pes": "fas", "prs": "fas", "azj": "aze", "khk": "mon", "als": "sqi",
    "lvs": "lav", "swh": "swa", "ekk": "est",
    # Not in lingua (so not detectable): ydd (yid), plt (mlg), gaz (orm), uzn (uzb), npi (nep),
    # quy (que), pbt (pus), ckb, yue. Cantonese is deliberately not mapped to Chinese.
}
_LINGUA_LANGUAGES = frozenset({
    "afr", "ara", "aze", "bel", "ben", "bos", "bul", "cat", "ces", "cym", "dan", "deu", "ell",
    "eng", "epo", "est", "eus", "fas", "fin", "fra", "gle", "guj", "heb", "hin", "hrv", "hun",
    "hye", "ind", "isl", "ita", "jpn", "kat", "kaz", "kor", "lat", "lav", "lit", "lug", "mar",
    "mkd", "mon", "mri", "msa", "nld", "nno", "nob", "pan", "pol", "por", "ron", "rus", "slk",
    "slv", "sna", "som", "sot", "spa", "sqi", "srp", "swa", "swe", "tam", "tel", "tgl", "tha",
    "tsn", "tso", "tur", "ukr", "urd", "vie", "xho", "yor", "zho", "zul",
})  # lingua 2.1's languages (Language.all()); kept here so ``detectable`` needs no import

# Candidate languages a target is told apart from (besides English, always present).
_MAJOR_LATIN = ("fra", "spa", "deu", "por", "ita", "nld")
_BY_SCRIPT = {
    "Latn": _MAJOR_LATIN,
    "Cyrl": ("rus", "ukr", "bel", "bul", "mkd", "srp", "kaz", "mon"),
    "Arab": ("ara", "fas", "urd"),
    "Deva": ("hin", "mar"),
    "Hani": ("zho", "jpn"), "Hans": ("zho", "jpn"), "Hant": ("zho", "jpn"), "Jpan": ("jpn", "zho"),
}
_RELATIVES = {
    "nob": ("nno", "dan", "swe"), "nno": ("nob", "dan", "swe"), "dan": ("nob", "nno", "swe"),
    "swe": ("dan", "nob"), "isl": ("dan", "nob"),
    "ces": ("slk", "pol"), "slk": ("ces", "pol"), "pol": ("ces", "slk"),
    "hrv": ("bos", "slv"), "bos": ("hrv", "slv"), "slv": ("hrv", "bos"),
    "ind": ("msa", "tgl"), "msa": ("ind", "tgl"), "tgl": ("ind", "msa"),
    "lav": ("lit",), "lit": ("lav",), "est": ("fin",), "fin": ("est",),
    "tur": ("aze",), "aze": ("tur",), "cat": (), "afr": (), "ron": (), "epo": (), "lat": (),
    "zul": ("xho", "sot", "tsn"), "xho": ("zul", "sot"), "sot": ("tsn", "zul"), "tsn": ("sot", "zul"),
    "cym": ("gle",), "gle": ("cym",),
}
# Written too alike to tell apart reliably in a short caption: their confidences count together.
_GROUPS = (frozenset({"nob", "nno", "dan"}), frozenset({"hrv", "bos", "srp"}),
           frozenset({"ind", "msa"}), frozenset({"zul", "xho"}), frozenset({"sot", "tsn"}))


def problem(source: str, translation: str, *, target: str | None = None, detect_language: bool = True) -> str | None:
    """``None`` for a usable translation, else one of ``REASONS``.

    ``target`` (an NLLB code such as ``deu_Latn``) turns on the wrong-script and wrong-language
    checks; without it only empty, unchanged, repetition and length ratio are checked.
    ``detect_language=False`` keeps the cheap script check and skips lingua.
    """
    text = translation.strip()
    if not text:
        return "empty"
    if len(source.strip()) >= MIN_CHARS_FOR_UNCHANGED and text.casefold() == source.strip().casefold():
        return "unchanged"
    if is_repetition_loop(text):
        return "repetition"
    ratio = len(text) / max(len(source.strip()), 1)
    low, high = LENGTH_RATIO_RANGE
    if len(source.strip()) >= 10 and not low <= ratio <= high:
        return "length ratio"
    if target is not None:
        return wrong_language(source, text, target, detect_language=detect_language)
    return None


def wrong_language(source: str, translation: str, target: str, *, detect_language: bool = True) -> str | None:
    """The target checks alone: ``"wrong script"``, ``"wrong language"`` or ``None`` for
    ``translation`` meant to be in ``target`` (an NLLB code)."""
    language, _, script = target.partition("_")
    own = _without_kept_names(source, translation)
    if script in SCRIPTS:
        letters = _letter_scripts(translation)
        if len(letters) >= MIN_LETTERS_FOR_SCRIPT and _share(letters, script) < MIN_SCRIPT_SHARE:
            # Names copied from the source (brands, places) may be most of a short caption: the
            # rest must then be in the right script, and there must be enough of it to tell.
            rest = _letter_scripts(own)
            if len(rest) < MIN_LETTERS_FOR_SCRIPT or _share(rest, script) < MIN_SCRIPT_SHARE:
                return "wrong script"
    code = _lingua_code(language) if detect_language else None
    if code is None or not _long_enough(own, script):
        return None
    return "wrong language" if _is_other_language(own, code, script) else None


def script_share(text: str, script: str) -> float:
    """Share of the letters in ``text`` that belong to ``script`` (an ISO 15924 code such as
    ``Latn``, ``Cyrl``, ``Hans``, ``Jpan``). Digits, punctuation, spaces, combining accents and
    modifier letters are not counted. 1.0 when there are no letters; ``ValueError`` for a script
    not in ``SCRIPTS``."""
    if script not in SCRIPTS:
        raise ValueError(f"unknown script {script!r}; known: {sorted(SCRIPTS)}")
    letters = _letter_scripts(text)
    return _share(letters, script) if letters else 1.0


def detectable(nllb_code: str) -> bool:
    """True when the language detector knows the language of ``nllb_code`` (e.g. ``deu_Latn``)."""
    return _lingua_code(nllb_code.partition("_")[0]) is not None


def is_repetition_loop(text: str, max_n: int = 4) -> bool:
    """True when one word n-gram (n <= max_n) repeats REPEAT_LIMIT+ times and covers half the words,
    or, for unspaced scripts, one character n-gram does the same."""
    units: list[str] = text.split()
    if len(units) < REPEAT_LIMIT * 2:
        units = list(text.replace(" ", ""))  # scripts without spaces: look at characters
    for n in range(1, max_n + 1):
        grams = Counter(tuple(units[i:i + n]) for i in range(len(units) - n + 1))
        if not grams:
            break
        gram, count = grams.most_common(1)[0]
        if count >= REPEAT_LIMIT and count * n >= len(units) / 2:
            return True
    return False


# --- scripts -----------------------------------------------------------------------------------

@lru_cache(maxsize=8192)
def _char_script(char: str) -> str | None:
    """First word of the character's Unicode name for letters and script-specific marks (Indic
    vowel signs), else ``None`` (digits, punctuation, spaces, combining accents, modifiers)."""
    if unicodedata.category(char)[0] not in "LM":
        return None
    name = unicodedata.name(char, "")
    if name.startswith(("FULLWIDTH ", "HALFWIDTH ")):
        name = name[10:]
    word = name.split(" ", 1)[0]
    if not word or word in ("COMBINING", "MODIFIER", "VARIATION"):
        return None
    return _NAME_ALIASES.get(word, word)


def _letter_scripts(text: str) -> list[str]:
    return [s for s in map(_char_script, text) if s is not None]


def _share(letters: list[str], script: str) -> float:
    wanted = SCRIPTS[script]
    return sum(s in wanted for s in letters) / len(letters)


_TOKEN_EDGES = "\"'“”„«»‹›()[]{}.,;:!?¡¿…"


def _without_kept_names(source: str, translation: str) -> str:
    """``translation`` without tokens copied from ``source`` that look like names or model numbers
    (contain an upper-case letter or a digit)."""
    kept = {t.strip(_TOKEN_EDGES) for t in source.split()}
    words = [w for w in translation.split()
             if not ((t := w.strip(_TOKEN_EDGES)) in kept and any(c.isupper() or c.isdigit() for c in t))]
    return " ".join(words)


# --- language detection ------------------------------------------------------------------------

def _lingua_code(nllb_language: str) -> str | None:
    code = _LINGUA_CODE.get(nllb_language, nllb_language)
    return code if code in _LINGUA_LANGUAGES else None


def _long_enough(text: str, script: str) -> bool:
    letters = len(_letter_scripts(text))
    if script in _UNSPACED:
        return letters >= MIN_LETTERS_FOR_LANGUAGE
    words = sum(any(c.isalpha() for c in w) for w in text.split())
    return words >= MIN_WORDS_FOR_LANGUAGE and letters >= MIN_LETTERS_FOR_LANGUAGE


def _group(code: str) -> frozenset[str]:
    return next((g for g in _GROUPS if code in g), frozenset({code}))


def candidates(code: str, script: str = "") -> tuple[str, ...]:
    """The lingua ISO 639-3 codes the detector for ``code`` chooses between: the target, English,
    the major languages of its script and its close relatives."""
    chosen = dict.fromkeys((code, "eng", *_BY_SCRIPT.get(script, ()), *_RELATIVES.get(code, ())))
    return tuple(c for c in chosen if c in _LINGUA_LANGUAGES)


@lru_cache(maxsize=None)
def _detector(languages: tuple[str, ...]):
    from lingua import IsoCode639_3, Language, LanguageDetectorBuilder

    wanted = [Language.from_iso_code_639_3(IsoCode639_3.from_str(c)) for c in languages]
    return LanguageDetectorBuilder.from_languages(*wanted).build()


def language_confidences(text: str, code: str, script: str = "") -> dict[str, float]:
    """lingua's confidence per candidate language (ISO 639-3 codes) of ``text``, for target
    ``code`` (a lingua ISO 639-3 code) written in ``script``."""
    detector = _detector(candidates(code, script))
    return {v.language.iso_code_639_3.name.lower(): v.value
            for v in detector.compute_language_confidence_values(text)}


def _is_other_language(text: str, code: str, script: str) -> bool:
    confidences = language_confidences(text, code, script)
    group = _group(code)
    mine = sum(confidences.get(c, 0.0) for c in group)
    other, best = max(((c, v) for c, v in confidences.items() if c not in group),
                      key=lambda cv: cv[1], default=(None, 0.0))
    return other is not None and mine < MAX_TARGET_CONFIDENCE and best >= MIN_OTHER_CONFIDENCE

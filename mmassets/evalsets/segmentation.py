"""Caption text as COCO-style scorers need it: NFC-normalised, and split into words where the script
writes none.

pycocoevalcap's tokenizer splits on spaces, so a Chinese, Japanese or Thai caption would otherwise
score as one "word". ``segment`` puts single spaces between the words of those languages, using
segmenters that ship their dictionaries inside their PyPI packages (nothing is downloaded at run time):

- Chinese (``zh``): jieba (its default dictionary, HMM for unknown words);
- Japanese (``ja``): Janome (pure Python, bundled IPADIC) in wakati (surface-form) mode;
- Thai (``th``): PyThaiNLP's ``newmm`` dictionary-based maximal matching, with its bundled word list.

Every other language is only NFC-normalised. The segmenters are imported on first use (importing this
module imports none of them), built once per process, and kept quiet. The output is deterministic.
"""

from __future__ import annotations

import logging
import os
import unicodedata
import warnings
from collections.abc import Callable
from functools import lru_cache

SEGMENTED_LANGUAGES = ("zh", "ja", "th")
"""Languages whose captions are split into space-separated words."""

Segmenter = Callable[[str], list[str]]


def base_language(language: str) -> str:
    """The primary subtag, lower-cased: ``zh-Hans`` and ``zh_CN`` are ``zh``."""
    return language.replace("_", "-").split("-")[0].lower()


def segment(text: str, language: str) -> str:
    """``text`` NFC-normalised; for zh, ja and th also split into words joined by single spaces
    (whitespace in the input only separates words; it never becomes a word)."""
    text = unicodedata.normalize("NFC", text)
    code = base_language(language)
    if code not in SEGMENTED_LANGUAGES:
        return text
    return " ".join(word for word in _segmenter(code)(text) if word.strip())


@lru_cache(maxsize=None)
def _segmenter(language: str) -> Segmenter:
    return {"zh": _chinese, "ja": _japanese, "th": _thai}[language]()


def _chinese() -> Segmenter:
    with warnings.catch_warnings():  # jieba may import the deprecated pkg_resources
        warnings.simplefilter("ignore")
        import jieba
    jieba.setLogLevel(logging.WARNING)  # it logs "Building prefix dict..." to stderr at DEBUG
    tokenizer = jieba.Tokenizer()  # our own instance: the global jieba.dt may be customised elsewhere
    tokenizer.initialize()
    return lambda text: list(tokenizer.cut(text))


def _japanese() -> Segmenter:
    from janome.tokenizer import Tokenizer

    tokenizer = Tokenizer(wakati=True)
    return lambda text: list(tokenizer.tokenize(text))


def _thai() -> Segmenter:
    # Never create ~/pythainlp-data nor download anything: newmm needs only the bundled word list.
    os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
    os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
    from pythainlp.tokenize import word_tokenize

    return lambda text: word_tokenize(text, engine="newmm", keep_whitespace=False)


def segmenter_versions() -> dict[str, str]:
    """The installed segmenter packages and versions (for asset metadata), without importing them."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("jieba", "janome", "pythainlp"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions

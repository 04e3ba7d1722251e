"""Long strings cut into sentences for translation, and the translated sentences joined again.

NLLB-200 was trained on single sentences. Given a paragraph (a LLaVA answer of 150 words is ten
sentences), it drifts, repeats or stops early, and each row of a batch decodes for as long as the
longest paragraph: on a CPU a batch of 32 such answers decodes 250 steps, each reading every weight
and a key/value cache over hundreds of positions. Sentence by sentence, the same answers are a few
hundred rows of 25 steps, the repeated sentences of a task file are translated once, and the
translation memory serves a sentence wherever it recurs.

The cut is sentencex's (Wikimedia's rule-based segmenter: abbreviations, decimals, quotes, per
source language); the whitespace between sentences is kept as it was, except that a space between
sentences is dropped in a target script written without spaces (Chinese, Japanese, Thai, Lao,
Khmer, Burmese, Tibetan). A string of one sentence is left whole, as it was before this module.
"""

from __future__ import annotations

from dataclasses import dataclass

NO_SPACE_SCRIPTS = frozenset({"Hans", "Hant", "Jpan", "Thai", "Laoo", "Khmr", "Mymr", "Tibt"})
"""Scripts (the NLLB code's suffix) that write no space between sentences."""

_SEGMENTER_LANGUAGE = {"eng": "en", "deu": "de", "fra": "fr", "spa": "es", "ita": "it", "por": "pt", "nld": "nl",
                       "rus": "ru", "jpn": "ja", "zho": "zh", "kor": "ko", "ara": "ar", "hin": "hi"}


@dataclass(frozen=True)
class Piece:
    """One sentence of a string: ``lead`` + ``text`` + ``trail`` is that part of the string."""

    lead: str
    text: str
    trail: str


def split(text: str, src: str) -> list[Piece]:
    """The sentences of ``text`` (source language ``src``, an NLLB code) with the whitespace around
    each; a string of one sentence, or of none, is one piece holding it unchanged."""
    from sentencex import segment

    language = _SEGMENTER_LANGUAGE.get(src.split("_")[0], "en")
    pieces = []
    for part in segment(language, text):
        core = part.strip()
        if not core:
            if pieces:  # whitespace between sentences: part of the previous sentence's trail
                pieces[-1] = Piece(pieces[-1].lead, pieces[-1].text, pieces[-1].trail + part)
            continue
        start = part.index(core)
        pieces.append(Piece(part[:start], core, part[start + len(core):]))
    if len(pieces) <= 1:
        return [Piece("", text, "")]
    return pieces


def join(pieces: list[Piece], translations: list[str], tgt: str) -> str:
    """The translated sentences with the original whitespace between them (none where ``tgt``'s
    script writes no spaces and the whitespace was only spaces)."""
    if len(pieces) == 1:
        return translations[0]
    no_space = tgt.rsplit("_", 1)[-1] in NO_SPACE_SCRIPTS
    out = []
    for i, (piece, translation) in enumerate(zip(pieces, translations, strict=True)):
        lead, trail = piece.lead, piece.trail
        if no_space:
            lead, trail = ("" if not lead.strip(" ") else lead), ("" if not trail.strip(" ") else trail)
        out.append((lead if i else "") + translation + (trail if i < len(pieces) - 1 else ""))
    return "".join(out)

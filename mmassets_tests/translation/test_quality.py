"""Tests for the single-translation checks."""

from __future__ import annotations

import pytest

from mmassets.translation.quality import is_repetition_loop, problem

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

"""Strings of several sentences are translated sentence by sentence and joined again."""

from pathlib import Path

import pytest
from test_engine import FIXED, Counting, no_gate

from mmassets.translation.engine import TranslationEngine
from mmassets.translation.memory import TranslationMemory
from mmassets.translation.nllb import NLLBModel
from mmassets.translation.sentences import Piece, join, split
from mmassets.translation.tiny_model import build_tiny_nllb

ANSWER = ("The image shows Dr. Smith near a 3.5 m pole. He is holding a red ball, e.g. for a game!\n"
          "Is it safe? Yes.")


def test_one_sentence_stays_whole_and_unchanged():
    for text in ("A dog runs on the beach.", "a caption without a period", "  Spaces around.  ", "", "Caption.\n"):
        assert split(text, "eng_Latn") == [Piece("", text, "")]


def test_sentences_are_cut_at_their_boundaries_only():
    pieces = split(ANSWER, "eng_Latn")
    assert [p.text for p in pieces] == ["The image shows Dr. Smith near a 3.5 m pole.",
                                        "He is holding a red ball, e.g. for a game!", "Is it safe?", "Yes."]
    assert "".join(p.lead + p.text + p.trail for p in pieces) == ANSWER  # nothing lost


def test_joined_with_the_original_whitespace_or_none_in_scripts_without_spaces():
    pieces = split(ANSWER, "eng_Latn")
    assert join(pieces, ["A.", "B!", "C?", "D."], "deu_Latn") == "A. B!\nC? D."
    assert join(pieces, ["甲。", "乙！", "丙？", "丁。"], "zho_Hans") == "甲。乙！\n丙？丁。"
    assert join(pieces, ["あ。", "い！", "う？", "え。"], "jpn_Jpan") == "あ。い！\nう？え。"
    with pytest.raises(ValueError):
        join(pieces, ["too", "few"], "deu_Latn")


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> NLLBModel:
    folder = build_tiny_nllb(tmp_path_factory.mktemp("model") / "tiny", ["eng_Latn", "deu_Latn", "zho_Hans"])
    return NLLBModel.load(str(folder), device="cpu")


def test_the_engine_translates_each_sentence_once_and_joins_them(model, tmp_path: Path):
    answers = ["A dog runs. A cat sits on the table.", "A cat sits on the table. The man smiles.",
               "A cat sits on the table."]
    backend = Counting(model)
    engine = TranslationEngine(backend, TranslationMemory(tmp_path / "tm.sqlite"), check=no_gate, settings=FIXED)
    result = engine.translate(answers, "eng_Latn", "deu_Latn")

    sent = sorted(t for batch, _ in backend.batches for t in batch)
    assert sent == ["A cat sits on the table.", "A dog runs.", "The man smiles."]  # each sentence once
    one = {s: model.translate_batch([s], "eng_Latn", "deu_Latn", FIXED)[0] for s in sent}
    assert result.texts == [f"{one['A dog runs.']} {one['A cat sits on the table.']}",
                            f"{one['A cat sits on the table.']} {one['The man smiles.']}",
                            one["A cat sits on the table."]]
    stats = result.stats
    assert (stats.distinct, stats.split_strings, stats.model_translated, stats.memory_hits) == (3, 2, 3, 0)

    # the memory holds sentences: a new answer made of known sentences costs no model time
    backend.batches.clear()
    again = engine.translate(["The man smiles. A dog runs."], "eng_Latn", "deu_Latn")
    assert backend.batches == [] and again.stats.memory_hits == 1
    assert again.texts == [f"{one['The man smiles.']} {one['A dog runs.']}"]


def test_whole_strings_when_splitting_is_off_and_old_memories_still_serve(model, tmp_path: Path):
    answer = "A dog runs. A cat sits on the table."
    backend = Counting(model)
    whole = TranslationEngine(backend, TranslationMemory(tmp_path / "tm.sqlite"), check=no_gate, settings=FIXED,
                              split_sentences=False)
    expected = whole.translate([answer], "eng_Latn", "deu_Latn").texts
    assert [t for batch, _ in backend.batches for t in batch] == [answer]
    backend.batches.clear()
    # a memory filled before sentences were cut serves the whole string as it is
    split_engine = TranslationEngine(backend, TranslationMemory(tmp_path / "tm.sqlite"), check=no_gate,
                                     settings=FIXED)
    assert split_engine.translate([answer], "eng_Latn", "deu_Latn").texts == expected
    assert backend.batches == []


def test_a_flagged_sentence_flags_its_string(model, tmp_path: Path):
    def flag_the_cat(source, translation, target):
        return "unchanged" if "cat" in source else None

    engine = TranslationEngine(model, TranslationMemory(tmp_path / "tm.sqlite"), check=flag_the_cat, settings=FIXED)
    result = engine.translate(["A dog runs. A cat sits.", "A dog runs."], "eng_Latn", "zho_Hans")
    assert result.flags == ["unchanged", None]
    assert result.texts[0] is None and result.texts[1] is not None  # on_bad_translation="drop"


def test_a_sentence_that_is_also_a_known_string_is_not_translated_again(model, tmp_path: Path):
    backend = Counting(model)
    engine = TranslationEngine(backend, TranslationMemory(tmp_path / "tm.sqlite"), check=no_gate, settings=FIXED)
    engine.translate(["A cat sits."], "eng_Latn", "deu_Latn")
    backend.batches.clear()
    engine.translate(["A cat sits.", "A dog runs. A cat sits."], "eng_Latn", "deu_Latn")
    assert [t for batch, _ in backend.batches for t in batch] == ["A dog runs."]

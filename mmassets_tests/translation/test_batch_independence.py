"""A string's translation is a function of the string, the model and the settings (issue 30, 6):
never of its batch-mates, nor of which build stored it first.

Each string's output is bounded by its own source length (``GenerationSettings.bounds``); a backend
decodes a batch to the largest bound in it and cuts each output to its string's own. The tiny random
model never ends an output before its bound, so a string batched with longer ones ran to *their*
bound before (the bug); it is the sharpest case there is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mmassets.translation.backend import RETRY_SETTINGS, GenerationSettings
from mmassets.translation.engine import TranslationEngine
from mmassets.translation.memory import Entry, TranslationMemory
from mmassets.translation.tiny_model import build_tiny_nllb

CODES = ["eng_Latn", "deu_Latn", "fra_Latn"]
TEXTS = ["A cat.", "A dog running on the beach.", "the yellow flowers", "A man",
         "Ein Hund läuft am Strand.", "a red bus parked by the road"]
LONG = ("Two children playing with a blue ball near the quiet river in the morning, while their parents "
        "watch from a bench under the old trees.")
SETTINGS = {"default": GenerationSettings(), "retry": GenerationSettings(**RETRY_SETTINGS),
            "capped": GenerationSettings(max_output_tokens=30), "fixed": GenerationSettings(fixed_length_ratio=1.5)}


@pytest.fixture(scope="module", autouse=True)
def _single_torch_thread() -> Iterator[None]:
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    return build_tiny_nllb(tmp_path_factory.mktemp("model") / "tiny", CODES, seed=0)


BACKENDS = ["transformers-float32", "ctranslate2-float32", "ctranslate2-int8"]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, tiny_dir, tmp_path_factory):
    library, precision = request.param.split("-")
    if library == "transformers":
        from mmassets.translation.nllb import NLLBModel

        return NLLBModel.load(str(tiny_dir), device="cpu", dtype=precision)
    pytest.importorskip("ctranslate2")
    from mmassets.translation.ct2 import CT2Model

    return CT2Model.load(str(tiny_dir), device="cpu", compute_type=precision,
                         cache_dir=str(tmp_path_factory.mktemp("ct2")), intra_threads=1)


def test_each_string_has_its_own_bound():
    settings = GenerationSettings()
    assert settings.bounds([5, 20, 8]) == (0, 50, [20, 50, 26])
    assert GenerationSettings(max_output_tokens=30).bounds([5, 20]) == (0, 30, [20, 30])
    assert GenerationSettings(fixed_length_ratio=1.5).bounds([4, 10]) == (15, 15, [6, 15])


@pytest.mark.parametrize("name", list(SETTINGS))
def test_a_string_translates_alone_as_inside_any_batch(backend, name):
    """Alone, among short strings, among long ones, in another order: the same output, token for token."""
    settings = SETTINGS[name]
    alone = [backend.translate_batch([text], "eng_Latn", "deu_Latn", settings)[0] for text in TEXTS]
    batches = {
        "all together": backend.translate_batch(TEXTS, "eng_Latn", "deu_Latn", settings),
        "reversed": backend.translate_batch(TEXTS[::-1], "eng_Latn", "deu_Latn", settings)[::-1],
        "beside a long one": [backend.translate_batch([text, LONG], "eng_Latn", "deu_Latn", settings)[0]
                              for text in TEXTS],
        "after a long one": [backend.translate_batch([LONG, text], "eng_Latn", "deu_Latn", settings)[1]
                             for text in TEXTS],
    }
    for how, outputs in batches.items():
        assert outputs == alone, how
    # The sharp case: the long batch-mate's bound is above every short string's own, and the random
    # model runs each string to its own bound (it never ends early), cut there, not at the batch's.
    if name == "capped":  # every bound is the cap here
        return
    lengths = backend.token_lengths(TEXTS, "eng_Latn")
    _, _, own = settings.bounds(lengths)
    assert max(own) < settings.bounds([*lengths, *backend.token_lengths([LONG], "eng_Latn")])[1]
    if hasattr(backend, "translate_tokens"):  # CTranslate2 hands back its tokens
        rows = [backend.translate_tokens([text, LONG], "eng_Latn", "deu_Latn", settings)[0] for text in TEXTS]
        assert [len(row) for row in rows] == own


def test_the_engine_gives_a_string_the_same_translation_whatever_else_it_translates(backend, tmp_path):
    """Through the engine (length sorting, the planner's batches, the memory): a string translated
    with different company, in different memories, comes out the same."""
    from mmassets.translation.engine import cheap_gate

    def engine(folder: str, batch: int) -> TranslationEngine:
        return TranslationEngine(backend, TranslationMemory(tmp_path / folder / "tm.sqlite"), max_batch_size=batch,
                                 check=cheap_gate, enforce_gate=False)

    first = engine("one", 2).translate(TEXTS[:3], "eng_Latn", "fra_Latn").texts
    second = engine("two", 64).translate([LONG, *TEXTS], "eng_Latn", "fra_Latn").texts
    alone = [engine("three", 1).translate([text], "eng_Latn", "fra_Latn").texts[0] for text in TEXTS[:3]]
    assert first == second[1:4] == alone


def test_the_first_answer_stored_is_kept_and_handed_back(tmp_path):
    from mmassets.translation.memory import MemoryKey

    key = MemoryKey("model@main", "eng_Latn", "deu_Latn", "{}")
    memory = TranslationMemory(tmp_path / "tm.sqlite")
    assert memory.put_many(key, [("A dog.", Entry("Ein Hund.", None))]) == {"A dog.": Entry("Ein Hund.", None)}
    again = memory.put_many(key, [("A dog.", Entry("Hund!", "repetition")), ("A cat.", Entry("Katze.", None))])
    assert again == {"A dog.": Entry("Ein Hund.", None), "A cat.": Entry("Katze.", None)}
    assert memory.get_many(key, ["A dog."]) == {"A dog.": Entry("Ein Hund.", None)}


class Late(TranslationMemory):
    """A memory whose first lookup misses everything: another build stores its answers between this
    build's lookup and its own store."""

    looked = False

    def get_many(self, key, sources):
        if not self.looked:
            self.looked = True
            return {}
        return super().get_many(key, sources)


def test_a_string_another_build_stored_meanwhile_takes_the_stored_answer(tmp_path):
    from mmassets.translation.memory import MemoryKey

    class Echo:  # a backend whose answers differ from the other build's
        identity = "echo"
        device = "cpu"

        def lang_token_id(self, code):
            return 1

        def token_lengths(self, texts, src_lang):
            return [len(t.split()) + 2 for t in texts]

        def translate_batch(self, texts, src_lang, tgt_lang, settings):
            return [f"mine: {t}" for t in texts]

    memory = Late(tmp_path / "tm.sqlite")
    engine = TranslationEngine(Echo(), memory, check=lambda s, t, g: None)
    key = engine.memory_key("eng_Latn", "deu_Latn")
    TranslationMemory(tmp_path / "tm.sqlite").put_many(key, [("A dog.", Entry("theirs: Ein Hund.", None))])
    result = engine.translate(["A dog.", "A cat."], "eng_Latn", "deu_Latn")
    assert result.texts == ["theirs: Ein Hund.", "mine: A cat."]
    assert memory.get_many(key, ["A dog.", "A cat."]) == {"A dog.": Entry("theirs: Ein Hund.", None),
                                                          "A cat.": Entry("mine: A cat.", None)}
    assert isinstance(key, MemoryKey)

"""The translation engine on the tiny local NLLB model: dedup, memory, batching, resume, gate."""

import json
import random
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from mmassets.translation.backend import RETRY_SETTINGS, GenerationSettings
from mmassets.translation.engine import TranslationEngine
from mmassets.translation.memory import TranslationMemory
from mmassets.translation.nllb import NLLBModel
from mmassets.translation.tiny_model import build_tiny_nllb

CODES = ["eng_Latn", "deu_Latn", "fra_Latn"]
WORDS = "a dog cat man woman child runs sits on the beach table street with red blue ball near river".split()


def sentences(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 14))).capitalize() + "." for _ in range(n)]


# The tiny random model never stops before its length bound; a bound that ignores the source keeps
# its outputs short. (Each string's bound is its own either way, so outputs never depend on batching:
# test_batch_independence.)
FIXED = GenerationSettings(max_length_ratio=0.0, length_margin=12)


def no_gate(source: str, translation: str, target: str) -> None:
    return None


class Counting:
    """The real backend, with every batch it is asked to translate recorded."""

    def __init__(self, backend):
        self.backend, self.batches = backend, []

    identity = property(lambda self: self.backend.identity)

    def lang_token_id(self, code):
        return self.backend.lang_token_id(code)

    def token_lengths(self, texts, src_lang):
        return self.backend.token_lengths(texts, src_lang)

    def translate_batch(self, texts, src_lang, tgt_lang, settings):
        self.batches.append((list(texts), settings))
        return self.backend.translate_batch(texts, src_lang, tgt_lang, settings)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    return build_tiny_nllb(tmp_path_factory.mktemp("model") / "tiny", CODES)


@pytest.fixture(scope="module")
def model(tiny_dir) -> NLLBModel:
    return NLLBModel.load(str(tiny_dir), device="cpu")


def test_outputs_follow_input_order_with_duplicates_translated_once(model, tmp_path):
    base = sentences(12)
    texts = base + base[::2] + base[:3]  # duplicates, out of order
    backend = Counting(model)
    engine = TranslationEngine(backend, TranslationMemory(tmp_path / "tm.sqlite"), token_budget=64, check=no_gate,
                               settings=FIXED)

    result = engine.translate(texts, "eng_Latn", "deu_Latn")

    one_by_one = {t: model.translate_batch([t], "eng_Latn", "deu_Latn", FIXED)[0] for t in base}
    assert result.texts == [one_by_one[t] for t in texts]
    sent = [t for batch, _ in backend.batches for t in batch]
    assert sorted(sent) == sorted(set(base))  # each distinct string reached the model exactly once
    assert result.stats.strings == len(texts) and result.stats.distinct == len(base)
    assert result.stats.model_translated == len(base) and result.stats.memory_hits == 0


def test_rerun_is_served_from_memory_without_model_calls(model, tmp_path):
    texts = sentences(20, seed=1)
    first = TranslationEngine(model, TranslationMemory(tmp_path / "tm.sqlite"), check=no_gate)
    expected = first.translate(texts, "eng_Latn", "fra_Latn").texts

    backend = Counting(model)
    again = TranslationEngine(backend, TranslationMemory(tmp_path / "tm.sqlite"), check=no_gate)
    result = again.translate(texts, "eng_Latn", "fra_Latn")

    assert result.texts == expected
    assert backend.batches == []
    assert result.stats.memory_hits == len(set(texts)) and result.stats.model_translated == 0
    # another target language or other settings are other keys: they do reach the model
    other = TranslationEngine(backend, TranslationMemory(tmp_path / "tm.sqlite"), check=no_gate,
                              settings=GenerationSettings(num_beams=2))
    other.translate(texts[:2], "eng_Latn", "fra_Latn")
    again.translate(texts[:2], "eng_Latn", "deu_Latn")
    assert sum(len(batch) for batch, _ in backend.batches) == 4  # both strings, twice


def test_refresh_translates_only_new_strings(model, tmp_path):
    old, new = sentences(30, seed=2), ["A brand new sentence about a red kite.", "Another new one."]
    engine = TranslationEngine(model, TranslationMemory(tmp_path / "tm.sqlite"), check=no_gate)
    engine.translate(old, "eng_Latn", "deu_Latn")
    backend = Counting(model)
    refreshed = TranslationEngine(backend, TranslationMemory(tmp_path / "tm.sqlite"), check=no_gate)
    refreshed.translate(old + new, "eng_Latn", "deu_Latn")
    assert sorted(t for batch, _ in backend.batches for t in batch) == sorted(new)


def test_engine_batches_respect_the_budget_in_padded_tokens(model):
    texts = sentences(40, seed=3)
    backend = Counting(model)
    engine = TranslationEngine(backend, token_budget=48, check=no_gate)
    result = engine.translate(texts, "eng_Latn", "deu_Latn")
    for batch, _ in backend.batches:
        assert len(batch) * max(model.token_lengths(batch, "eng_Latn")) <= 48
    assert result.stats.padded_tokens <= 48 * result.stats.batches
    assert 0 <= result.stats.padding_fraction < 1


class Scripted:
    """A check that fails the first output of chosen sources and passes retries (or not)."""

    def __init__(self, bad: set[str], retry_fixes: bool):
        self.bad, self.retry_fixes, self.seen = bad, retry_fixes, {}

    def __call__(self, source, translation, target):
        self.seen[source] = self.seen.get(source, 0) + 1
        if source in self.bad and (self.seen[source] == 1 or not self.retry_fixes):
            return "repetition"
        return None


@pytest.mark.parametrize("policy", ["drop", "keep_source"])
def test_flagged_output_is_retried_once_with_repetition_controls_then_handled(model, policy):
    texts = sentences(6, seed=4)
    backend = Counting(model)
    engine = TranslationEngine(backend, check=Scripted({texts[1]}, retry_fixes=False), on_bad_translation=policy)
    result = engine.translate(texts, "eng_Latn", "deu_Latn")

    retries = [(batch, s) for batch, s in backend.batches if s != GenerationSettings()]
    assert retries == [([texts[1]], replace(GenerationSettings(), **RETRY_SETTINGS))]
    assert result.flags[1] == "repetition" and result.stats.flagged == {"repetition": 1}
    assert result.texts[1] == (None if policy == "drop" else texts[1])
    assert all(t is not None for i, t in enumerate(result.texts) if i != 1)


def test_a_retry_that_passes_keeps_the_retried_output(model):
    texts = sentences(4, seed=5)
    engine = TranslationEngine(model, check=Scripted({texts[0]}, retry_fixes=True))
    result = engine.translate(texts, "eng_Latn", "deu_Latn")
    retried = model.translate_batch([texts[0]], "eng_Latn", "deu_Latn", replace(GenerationSettings(), **RETRY_SETTINGS))
    assert result.flags[0] is None and result.texts[0] == retried[0] and result.stats.retried == 1


def test_gate_that_is_not_enforced_reports_but_keeps(model):
    texts = sentences(4, seed=6)
    engine = TranslationEngine(model, check=Scripted(set(texts), retry_fixes=False), enforce_gate=False)
    result = engine.translate(texts, "eng_Latn", "deu_Latn")
    assert all(isinstance(t, str) for t in result.texts)
    assert result.flags == ["repetition"] * 4


def test_unknown_language_and_bad_settings_are_refused(model):
    with pytest.raises(ValueError, match="xxx_Latn"):
        TranslationEngine(model, check=no_gate).translate(["A dog."], "eng_Latn", "xxx_Latn")
    with pytest.raises(ValueError, match="on_bad_translation"):
        TranslationEngine(model, on_bad_translation="ignore")


KILLED_RUN = textwrap.dedent("""
    import json, os, signal, sys
    from mmassets.translation.engine import TranslationEngine
    from mmassets.translation.memory import TranslationMemory
    from mmassets.translation.nllb import NLLBModel

    model_dir, memory_path, texts_path, kill_after = sys.argv[1:5]
    model = NLLBModel.load(model_dir, device="cpu")
    calls = 0

    class DiesMidway:
        identity = model.identity
        lang_token_id = staticmethod(model.lang_token_id)
        token_lengths = staticmethod(model.token_lengths)

        def translate_batch(self, texts, src, tgt, settings):
            global calls
            calls += 1
            if calls > int(kill_after):
                os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no flush: a real crash
            return model.translate_batch(texts, src, tgt, settings)

    texts = json.loads(open(texts_path).read())
    engine = TranslationEngine(DiesMidway(), TranslationMemory(memory_path), token_budget=64,
                               check=lambda s, t, tgt: None)
    engine.translate(texts, "eng_Latn", "deu_Latn")
""")


def test_a_killed_run_resumes_without_retranslating_committed_batches(model, tiny_dir, tmp_path):
    texts = sentences(40, seed=7)
    (tmp_path / "texts.json").write_text(json.dumps(texts))
    memory_path = tmp_path / "tm.sqlite"
    script = tmp_path / "killed.py"
    script.write_text(KILLED_RUN)
    done = subprocess.run([sys.executable, str(script), str(tiny_dir), str(memory_path), str(tmp_path / "texts.json"), "3"],
                          capture_output=True, text=True)
    assert done.returncode == -9, done.stderr  # SIGKILL

    memory = TranslationMemory(memory_path)
    engine_key = TranslationEngine(model, check=no_gate).memory_key("eng_Latn", "deu_Latn")
    committed = memory.get_many(engine_key, texts)
    assert 0 < len(committed) < len(set(texts))  # three batches survived the crash

    backend = Counting(model)
    resumed = TranslationEngine(backend, memory, token_budget=64, check=no_gate).translate(texts, "eng_Latn", "deu_Latn")
    uninterrupted = TranslationEngine(model, token_budget=64, check=no_gate).translate(texts, "eng_Latn", "deu_Latn")
    # same batch plan (same lengths, same budget), so even the batch-dependent length bound agrees

    assert resumed.texts == uninterrupted.texts
    retranslated = {t for batch, _ in backend.batches for t in batch}
    assert retranslated.isdisjoint(committed)
    assert resumed.stats.memory_hits == len(committed)


def test_both_backends_give_the_engine_the_same_translations(model, tiny_dir, tmp_path):
    ct2 = pytest.importorskip("mmassets.translation.ct2")
    pytest.importorskip("ctranslate2")
    texts = sentences(16, seed=8) * 2
    other = ct2.CT2Model.load(str(tiny_dir), device="cpu", compute_type="float32", cache_dir=str(tmp_path))
    by_transformers = TranslationEngine(model, check=no_gate).translate(texts, "eng_Latn", "fra_Latn")
    by_ct2 = TranslationEngine(other, check=no_gate).translate(texts, "eng_Latn", "fra_Latn")
    assert by_ct2.texts == by_transformers.texts
    assert by_ct2.stats.batches == by_transformers.stats.batches
    assert other.identity != model.identity  # separate translation-memory keys

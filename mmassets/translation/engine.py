"""The translation engine: each distinct string once, from memory when it can, in length-sorted
batches sized by a token budget, every output through the quality gate.

1. Deduplicate the input (order of first occurrence).
2. Look every distinct string up in the translation memory; cut the others of several sentences
   into sentences (``sentences.split``: NLLB is a sentence-level model) and look those up; only
   misses reach the model.
3. Sort the misses by token length (longest first) and cut the batches of least predicted time
   (``planner``: a cost model per backend and device, output lengths from the ratio the memory
   has learned for the language pair), within ``max_batch_size`` rows and ``token_budget``
   padded source tokens.
4. Translate a batch, check each output (``quality.problem``), retry flagged ones once with
   repetition controls, and commit the batch to the memory before the next one; where the memory
   already held an answer for a string (another build stored it meanwhile), that first answer is
   the one used. Each string's output is bounded by its own length, not its batch's
   (``GenerationSettings.bounds``), so a translation does not depend on its batch-mates; a
   read-only memory that lacks strings is refused before the model runs.
5. Join the sentences of each cut string (its flag: the first flagged sentence's), restore the
   input order; apply ``on_bad_translation`` to outputs that still fail the gate.

Pure Python over a ``Backend``; no Dagster.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from mmassets.translation.backend import RETRY_SETTINGS, Backend, GenerationSettings
from mmassets.translation.memory import Entry, MemoryKey, TranslationMemory, read_only_refusal
from mmassets.translation.planner import CostModel, LengthModel, plan, table_cost_model
from mmassets.translation.quality import problem
from mmassets.translation.sentences import Piece, join, split

ON_BAD = ("drop", "keep_source")
Check = Callable[[str, str, str], "str | None"]  # (source, translation, NLLB target) -> reason


def gate(source: str, translation: str, target: str) -> str | None:
    """The full quality gate: every rule of ``quality.problem``, language detection included."""
    return problem(source, translation, target=target)


def cheap_gate(source: str, translation: str, target: str) -> str | None:
    """The gate without language detection (for the tiny sample model, whose output is noise)."""
    return problem(source, translation, target=target, detect_language=False)


@dataclass
class TranslationStats:
    """What one call cost and found; ``merge`` adds up calls (e.g. the fields of a partition)."""

    strings: int = 0
    distinct: int = 0
    memory_hits: int = 0
    model_translated: int = 0
    batches: int = 0
    source_tokens: int = 0
    padded_tokens: int = 0
    retried: int = 0
    split_strings: int = 0  # strings of several sentences, translated sentence by sentence
    seconds: float = 0.0
    predicted_seconds: float = 0.0  # the plan's, under the engine's cost model
    loop_predicted_seconds: float = 0.0  # the plain loop's over the same strings, same model
    flagged: Counter = field(default_factory=Counter)  # final verdicts over distinct strings

    def merge(self, other: TranslationStats) -> TranslationStats:
        for name in ("strings", "distinct", "memory_hits", "model_translated", "batches", "source_tokens",
                     "padded_tokens", "retried", "split_strings", "seconds", "predicted_seconds",
                     "loop_predicted_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.flagged.update(other.flagged)
        return self

    @property
    def padding_fraction(self) -> float:
        return 1 - self.source_tokens / self.padded_tokens if self.padded_tokens else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.source_tokens / self.seconds if self.seconds else 0.0

    @property
    def sentences_per_s(self) -> float:
        return self.model_translated / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"strings": self.strings, "distinct strings": self.distinct, "memory hits": self.memory_hits,
                "model-translated strings": self.model_translated, "batches": self.batches,
                "retried": self.retried, "strings split into sentences": self.split_strings,
                "model seconds": round(self.seconds, 3),
                "sentences/s": round(self.sentences_per_s, 2), "tokens/s": round(self.tokens_per_s, 1),
                "padding fraction": round(self.padding_fraction, 4),
                "predicted model seconds": round(self.predicted_seconds, 3),
                "plain loop's predicted seconds": round(self.loop_predicted_seconds, 3), "flagged": dict(self.flagged)}


@dataclass
class Translation:
    """Outputs in input order: ``texts[i]`` is None where a flagged output was dropped."""

    texts: list[str | None]
    flags: list[str | None]
    stats: TranslationStats


def auto_token_budget(device: str) -> int | None:
    """Padded source tokens per batch: a memory bound on a GPU; none on a CPU, where the cost
    model alone decides (rows stay within ``max_batch_size``)."""
    return 16_384 if str(device).startswith("cuda") else None


DEFAULT_LENGTH_RATIO = 1.2
"""Output tokens per source token assumed until the memory has learned the pair's ratio."""


def plan_batches(lengths: Sequence[int], token_budget: int | None, max_batch_size: int,
                 cost: CostModel | None = None, steps: Callable[[int], int] | None = None) -> list[list[int]]:
    """Indices into ``lengths`` grouped into the batches of least predicted time (``planner.plan``),
    longest sources first; the cost model defaults to the table's for CTranslate2 on a CPU and
    the steps to 1.2 × the longest source."""
    cost = cost or table_cost_model("ctranslate2", "cpu")
    steps = steps or (lambda longest: math.ceil(DEFAULT_LENGTH_RATIO * longest))
    return plan(lengths, cost, steps, max_batch_size=max_batch_size, token_budget=token_budget).batches


class TranslationEngine:
    def __init__(self, backend: Backend, memory: TranslationMemory | None = None, *,
                 settings: GenerationSettings = GenerationSettings(), token_budget: int | None = None,
                 max_batch_size: int = 256, cost_model: CostModel | None = None, on_bad_translation: str = "drop",
                 enforce_gate: bool = True, check: Check = gate, split_sentences: bool = True):
        if on_bad_translation not in ON_BAD:
            raise ValueError(f"on_bad_translation must be one of {ON_BAD}, got {on_bad_translation!r}")
        device = str(getattr(backend, "device", "cpu"))
        token_budget = token_budget or auto_token_budget(device)
        if (token_budget is not None and token_budget < 1) or max_batch_size < 1:
            raise ValueError("token_budget and max_batch_size must be positive")
        self.backend, self.memory, self.settings = backend, memory, settings
        self.token_budget, self.max_batch_size = token_budget, max_batch_size
        identity = str(getattr(backend, "identity", ""))
        self.cost_model = cost_model or table_cost_model("ctranslate2" if identity.startswith("ct2:") else
                                                         "transformers", device)
        self.on_bad, self.enforce, self.check = on_bad_translation, enforce_gate, check
        self.split_sentences = split_sentences

    def memory_key(self, src: str, tgt: str) -> MemoryKey:
        return MemoryKey(self.backend.identity, src, tgt, self.settings.key())

    def translate(self, texts: Sequence[str], src: str, tgt: str,
                  progress: Callable[[int, int, int], None] | None = None) -> Translation:
        """Translate ``texts`` (NLLB codes ``src`` → ``tgt``); ``progress(done, total, tokens)``
        counts the distinct strings that reach the model."""
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of strings, not a single string")
        self.backend.lang_token_id(src)
        self.backend.lang_token_id(tgt)
        distinct = list(dict.fromkeys(texts))
        stats = TranslationStats(strings=len(texts), distinct=len(distinct))
        key = self.memory_key(src, tgt)
        known = self.memory.get_many(key, distinct) if self.memory else {}
        rest = [t for t in distinct if t not in known]
        if rest:
            known.update(self._translate_rest(rest, known, set(distinct), src, tgt, key, stats, progress))
        stats.memory_hits += len(known) - len(rest)
        entries = [known[t] for t in texts]
        stats.flagged.update(known[t].flag for t in distinct if known[t].flag)
        outputs = [self._resolve(source, entry) for source, entry in zip(texts, entries)]
        return Translation(outputs, [e.flag for e in entries], stats)

    def _translate_rest(self, rest: list[str], known: dict[str, Entry], asked: set[str], src: str, tgt: str,
                        key: MemoryKey, stats: TranslationStats, progress) -> dict[str, Entry]:
        """Entries for the strings the memory did not hold whole: each cut into sentences (one piece
        when it is one sentence, or splitting is off), the sentences found among the ``known`` strings
        or looked up (those not ``asked`` already), the rest translated, each string's sentences joined again. Strings whose every
        sentence came from memory count as memory hits."""
        pieces = {t: split(t, src) if self.split_sentences else [Piece("", t, "")] for t in rest}
        stats.split_strings = sum(len(p) > 1 for p in pieces.values())
        units = list(dict.fromkeys(p.text for t in rest for p in pieces[t]))  # what the model may be asked
        found = {u: known[u] for u in units if u in known}
        if self.memory:
            found.update(self.memory.get_many(key, [u for u in units if u not in asked]))
        misses = [u for u in units if u not in found]
        if misses and getattr(self.memory, "read_only", False):  # refuse before the model spends time
            raise read_only_refusal(self.memory.path, len(misses))
        if misses:
            found.update(self._translate_misses(misses, src, tgt, key, stats, progress))
        missed = set(misses)
        stats.memory_hits += sum(not any(p.text in missed for p in pieces[t]) for t in rest)
        entries = {}
        for t in rest:
            parts = [found[p.text] for p in pieces[t]]
            entries[t] = parts[0] if len(parts) == 1 else Entry(
                join(pieces[t], [e.translation for e in parts], tgt), next((e.flag for e in parts if e.flag), None))
        return entries

    def _resolve(self, source: str, entry: Entry) -> str | None:
        if entry.flag is None or not self.enforce:
            return entry.translation
        return source if self.on_bad == "keep_source" else None

    def _translate_misses(self, misses: list[str], src: str, tgt: str, key: MemoryKey,
                          stats: TranslationStats, progress) -> dict[str, Entry]:
        lengths = self.backend.token_lengths(misses, src)
        ratio = (self.memory.length_ratio(key) if self.memory else None) or DEFAULT_LENGTH_RATIO
        lengths_model = LengthModel(ratio, self.settings.decoding_steps)
        chosen = plan(lengths, self.cost_model, lengths_model.steps, max_batch_size=self.max_batch_size,
                      token_budget=self.token_budget)
        stats.predicted_seconds += chosen.predicted_seconds
        stats.loop_predicted_seconds += chosen.loop_seconds
        done, tokens, found = 0, 0, {}
        for batch in chosen.batches:
            sources = [misses[i] for i in batch]
            started = time.perf_counter()
            entries = self._translate_checked(sources, src, tgt, stats)
            stats.seconds += time.perf_counter() - started
            if self.memory:
                produced = sum(self.backend.token_lengths([e.translation for e in entries], tgt))
                stored = self.memory.put_many(key, zip(sources, entries), tokens=(sum(lengths[i] for i in batch),
                                                                                  produced))
                # The memory's first answer is the answer (another build may have stored one meanwhile).
                entries = [stored.get(s, e) for s, e in zip(sources, entries)] if stored else entries
            found.update(zip(sources, entries))
            longest = lengths[batch[0]]
            stats.batches += 1
            stats.source_tokens += sum(lengths[i] for i in batch)
            stats.padded_tokens += longest * len(batch)
            stats.model_translated += len(batch)
            done, tokens = done + len(batch), tokens + sum(lengths[i] for i in batch)
            if progress:
                progress(done, len(misses), tokens)
        return found

    def _translate_checked(self, sources: list[str], src: str, tgt: str, stats: TranslationStats) -> list[Entry]:
        outputs = self.backend.translate_batch(sources, src, tgt, self.settings)
        flags = [self.check(s, o, tgt) for s, o in zip(sources, outputs)]
        retry = [i for i, flag in enumerate(flags) if flag]
        if retry:
            stats.retried += len(retry)
            again = self.backend.translate_batch([sources[i] for i in retry], src, tgt,
                                                 replace(self.settings, **RETRY_SETTINGS))
            for i, output in zip(retry, again):
                outputs[i], flags[i] = output, self.check(sources[i], output, tgt)
        return [Entry(o, f) for o, f in zip(outputs, flags)]

"""What the translation engine needs from a model backend (transformers or CTranslate2).

A backend tokenizes (to measure lengths) and translates one batch; everything else — dedup,
the translation memory, length sorting, token-budget batching, the quality gate — is the
engine's (``mmassets.translation.engine``), so every backend gets it for free.
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding settings; part of the translation-memory key (other settings, other outputs).

    ``num_beams`` 1 is greedy decoding (mBLIP's setting); ``patience`` (beam search with patience,
    CTranslate2 only) lets a beam search run until ``patience × num_beams`` hypotheses have ended;
    ``repetition_penalty`` and ``no_repeat_ngram_size`` act against NLLB's loops. The output of
    each string is bounded to ``max_length_ratio`` × its own source length (in tokens) plus
    ``length_margin``, and never more than ``max_output_tokens`` — enough for any real
    translation, and a stop for runaway loops. The bound is the string's own, never its batch's,
    so a translation does not depend on its batch-mates (:meth:`bounds`). ``fixed_length_ratio``
    (benchmarks only) makes every string's output exactly that ratio × its source length, so
    random weights cannot distort timings.
    """

    num_beams: int = 1
    max_length_ratio: float = 2.0
    length_margin: int = 10
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    fixed_length_ratio: float | None = None
    patience: float = 1.0
    max_output_tokens: int | None = None

    def __post_init__(self):
        problems = [f"{name} must be {rule}, got {getattr(self, name)!r}" for name, ok, rule in (
            ("num_beams", self.num_beams >= 1, "at least 1"),
            ("max_length_ratio", self.max_length_ratio >= 0, "non-negative"),
            ("length_margin", self.length_margin >= 0, "non-negative"),
            ("repetition_penalty", self.repetition_penalty > 0, "positive"),
            ("no_repeat_ngram_size", self.no_repeat_ngram_size >= 0, "non-negative"),
            ("patience", self.patience > 0, "positive"),
            ("max_output_tokens", self.max_output_tokens is None or self.max_output_tokens >= 1, "at least 1"),
        ) if not ok]
        if problems:
            raise ValueError("decoding settings: " + "; ".join(problems))

    def key(self) -> str:
        """The settings as the translation memory keys them. Fields added after the first release
        (``ADDED_FIELDS``) appear only when they differ from their default, so translations made
        before they existed are still found."""
        fields = asdict(self)
        for name, default in ADDED_FIELDS.items():
            if fields[name] == default:
                del fields[name]
        return json.dumps(fields, sort_keys=True)

    def new_tokens(self, longest_source: int) -> tuple[int, int]:
        """(min, max) new tokens for a batch whose longest source has ``longest_source`` tokens."""
        if self.fixed_length_ratio is not None:
            n = max(1, math.ceil(self.fixed_length_ratio * longest_source))
            return n, n
        high = int(self.max_length_ratio * longest_source) + self.length_margin
        return 0, high if self.max_output_tokens is None else min(high, self.max_output_tokens)

    def bounds(self, source_lengths: Sequence[int]) -> tuple[int, int, list[int]]:
        """How a batch of sources of these lengths (in tokens) decodes: the batch's (min, max) new
        tokens, and each string's own most new tokens (``new_tokens`` of its own length).

        A backend decodes the batch within the batch's bounds and then cuts every output to its
        string's own bound: under greedy search a row's tokens do not depend on the other rows
        (nor on how long the batch runs past the row's own bound), so the cut output is what the
        string decoded alone gives — a function of the string, the model and these settings.
        (The batch's min keeps the end token out for at least as long as each string's own min
        does, so ``fixed_length_ratio`` cuts exactly too.) Beam search gives no such promise: a
        beam cut at a longer bound can end differently."""
        per_string = [self.new_tokens(n) for n in source_lengths]
        return (max(low for low, _ in per_string), max(high for _, high in per_string),
                [high for _, high in per_string])

    def decoding_steps(self, longest_source: int) -> tuple[int, int]:
        """(fewest, most) decoding steps of such a batch: the new tokens plus the language token."""
        low, high = self.new_tokens(longest_source)
        return low + 1, high + 1


ADDED_FIELDS = {"patience": 1.0, "max_output_tokens": None}


BACKENDS = ("auto", "ctranslate2", "transformers")


def resolve_backend(name: str) -> str:
    """``"auto"`` is CTranslate2 when it is installed (``make install`` installs it), else
    transformers; the other names are taken as they are."""
    if name not in BACKENDS:
        raise ValueError(f"unknown translation backend {name!r}; expected one of: {', '.join(BACKENDS)}")
    if name == "auto":
        return "ctranslate2" if importlib.util.find_spec("ctranslate2") is not None else "transformers"
    return name


RETRY_SETTINGS = dict(repetition_penalty=1.3, no_repeat_ngram_size=3)
"""What a flagged output is retried with: repetition controls against NLLB's loops."""


class Backend(Protocol):
    """A loaded NLLB model behind one interface. Language codes are NLLB codes (``deu_Latn``)."""

    @property
    def identity(self) -> str:
        """Names the model, its weights and numeric precision: keys the translation memory."""

    def lang_token_id(self, code: str) -> int:
        """Raises ValueError for a language code the model does not know."""

    def token_lengths(self, texts: Sequence[str], src_lang: str) -> list[int]:
        """Source length in tokens of each text (special tokens included, after truncation)."""

    def translate_batch(self, texts: Sequence[str], src_lang: str, tgt_lang: str,
                        settings: GenerationSettings) -> list[str]:
        """Translate one batch, one stripped output per input, in order; each output within its own
        string's bound (``GenerationSettings.bounds``), never its batch's."""

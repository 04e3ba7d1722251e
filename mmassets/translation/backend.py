"""What the translation engine needs from a model backend (transformers or CTranslate2).

A backend tokenizes (to measure lengths) and translates one batch; everything else — dedup,
the translation memory, length sorting, token-budget batching, the quality gate — is the
engine's (``mmassets.translation.engine``), so every backend gets it for free.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding settings; part of the translation-memory key (other settings, other outputs).

    The output of a batch is bounded to ``max_length_ratio`` × its longest source (in tokens)
    plus ``length_margin`` — enough for any real translation, and a stop for runaway loops.
    ``fixed_length_ratio`` (benchmarks only) makes every batch generate exactly that ratio × its
    longest source, so random weights cannot distort timings.
    """

    num_beams: int = 1
    max_length_ratio: float = 2.0
    length_margin: int = 10
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    fixed_length_ratio: float | None = None

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def new_tokens(self, longest_source: int) -> tuple[int, int]:
        """(min, max) new tokens for a batch whose longest source has ``longest_source`` tokens."""
        if self.fixed_length_ratio is not None:
            n = max(1, math.ceil(self.fixed_length_ratio * longest_source))
            return n, n
        return 0, int(self.max_length_ratio * longest_source) + self.length_margin


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
        """Translate one batch, one stripped output per input, in order."""

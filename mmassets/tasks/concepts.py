"""Concept-balanced sampling of web captions, as mBLIP's ``data/pretrain/filter.py`` does, made
reproducible.

For each caption, each noun chunk is lower-cased, split on whitespace, stripped of English stopwords
and rejoined; empty phrases are dropped. Each phrase collects the indices of the captions it occurs
in (an index repeats when the phrase occurs twice in one caption, as upstream). A phrase with fewer
than ``min_per_phrase`` (10) captions is skipped; one with more than ``max_per_phrase`` (30) keeps
that many, drawn without replacement; the union of the kept indices is the sample.

Where we differ from upstream, on purpose: every draw is seeded (per phrase, so one phrase's draw
does not depend on the others), the sample is returned in source order (upstream writes a Python
set's order), and the phrase → chosen captions manifest is returned too.

Noun chunks come from an extractor: spaCy (``en_core_web_sm``, mBLIP's choice) where that model is
installed, else TextBlob's bundled English shallow parser, which needs no download.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from mmassets.iterables import batches
from mmassets.seeding import derive_seed


@dataclass(frozen=True)
class ConceptSample:
    indices: list[int]
    """The sampled captions' positions in the input, ascending."""
    manifest: dict[str, list[int]]
    """Phrase → the caption indices drawn for it (sorted), for every phrase that was not skipped."""
    phrases: int
    """Distinct phrases seen (before the minimum)."""


def phrases_of(chunks: Iterable[str], stopwords: frozenset[str]) -> list[str]:
    """mBLIP's phrase of each noun chunk: lower-cased words without stopwords; empty ones dropped."""
    out = []
    for chunk in chunks:
        words = [word for word in chunk.lower().split() if word not in stopwords]
        if words:
            out.append(" ".join(words))
    return out


def concept_sample(captions: Iterable[str], noun_chunks: Callable[[str], list[str]], stopwords: frozenset[str],
                   *, min_per_phrase: int = 10, max_per_phrase: int = 30, seed: int = 0) -> ConceptSample:
    """Sample ``captions`` so that no phrase has more than ``max_per_phrase`` captions (see module doc)."""
    return draw(phrase_index(map(noun_chunks, captions), stopwords), min_per_phrase=min_per_phrase,
                max_per_phrase=max_per_phrase, seed=seed)


def phrase_index(chunk_lists: Iterable[list[str]], stopwords: frozenset[str]) -> dict[str, array]:
    """Phrase → the positions of the captions it occurs in (once per occurrence), given each
    caption's noun chunks in order. Positions are kept in compact arrays (4 bytes each, not a Python
    int each): BLIP's file has millions of captions and several phrases per caption."""
    index: dict[str, array] = {}
    for i, chunks in enumerate(chunk_lists):
        for phrase in phrases_of(chunks, stopwords):
            found = index.get(phrase)
            if found is None:
                found = index[phrase] = array("I")
            found.append(i)
    return index


def draw(index: dict[str, array], *, min_per_phrase: int = 10, max_per_phrase: int = 30,
         seed: int = 0) -> ConceptSample:
    """Skip phrases with fewer than ``min_per_phrase`` captions, cap the others at ``max_per_phrase``
    (a seeded draw per phrase, without replacement), and take the union, ascending."""
    if min_per_phrase < 1 or max_per_phrase < min_per_phrase:
        raise ValueError(f"need 1 <= min_per_phrase <= max_per_phrase, got {min_per_phrase} and {max_per_phrase}")
    chosen: set[int] = set()
    manifest: dict[str, list[int]] = {}
    for phrase in sorted(index):
        found = index[phrase]
        if len(found) < min_per_phrase:
            continue
        drawn = found.tolist() if len(found) <= max_per_phrase else \
            random.Random(derive_seed(seed, "concepts", phrase)).sample(found.tolist(), max_per_phrase)
        manifest[phrase] = sorted(drawn)
        chosen.update(drawn)
    return ConceptSample(sorted(chosen), manifest, len(index))


_WORKER_CHUNKER: Callable[[str], list[str]] | None = None


def _start_worker(kind: str, spacy_model: str) -> None:
    global _WORKER_CHUNKER
    _WORKER_CHUNKER = chunker(kind, spacy_model)


def _chunk_batch(captions: list[str]) -> list[list[str]]:
    return [_WORKER_CHUNKER(caption) for caption in captions]


def noun_chunk_lists(captions: Iterable[str], kind: str = "auto", spacy_model: str = "en_core_web_sm", *,
                     workers: int = 1, batch: int = 2_000) -> Iterator[list[str]]:
    """Each caption's noun chunks, in order, from ``workers`` processes (one extractor each; the
    parsers are pure Python, so threads would not help). ``workers=1`` extracts in this process."""
    if workers <= 1:
        yield from map(chunker(kind, spacy_model), captions)
        return
    import multiprocessing

    from collections import deque

    # spawn, not fork: the caller (a Dagster step) runs threads, and a forked child would inherit their locks
    with multiprocessing.get_context("spawn").Pool(workers, _start_worker, (kind, spacy_model)) as pool:
        pending: deque = deque()  # a bounded window of batches in flight (Pool.imap would queue them all)
        for captions_batch in batches(captions, batch):
            pending.append(pool.apply_async(_chunk_batch, (captions_batch,)))
            if len(pending) >= 2 * workers:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


class TextBlobChunker:
    """Noun chunks from TextBlob's bundled English shallow parser (offline, no model download)."""

    name = "textblob"

    def __init__(self) -> None:
        from textblob.en import parse

        self._parse = parse

    def __call__(self, text: str) -> list[str]:
        chunks, current = [], []
        for sentence in self._parse(text, chunks=True, relations=False, lemmata=False).split("\n"):
            for token in sentence.split(" "):
                parts = token.rsplit("/", 3)
                if len(parts) < 3:
                    continue
                word, tag = parts[0], parts[2]
                if tag == "B-NP" or (tag == "I-NP" and not current):
                    if current:
                        chunks.append(" ".join(current))
                    current = [word]
                elif tag == "I-NP":
                    current.append(word)
                elif current:
                    chunks.append(" ".join(current))
                    current = []
            if current:
                chunks.append(" ".join(current))
                current = []
        return chunks


class SpacyChunker:
    """Noun chunks from a spaCy pipeline (mBLIP: ``en_core_web_sm`` with ner and lemmatizer off)."""

    name = "spacy"

    def __init__(self, model: str = "en_core_web_sm"):
        import spacy

        self.model = model
        self._nlp = spacy.load(model, disable=["ner", "lemmatizer"])

    def __call__(self, text: str) -> list[str]:
        return [chunk.text for chunk in self._nlp(text).noun_chunks]


def english_stopwords() -> tuple[frozenset[str], str]:
    """An English stopword list that ships in a package, and its name (scikit-learn's; mBLIP used
    NLTK's, which needs a corpus download)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS), "scikit-learn ENGLISH_STOP_WORDS"


def chunker(kind: str = "auto", spacy_model: str = "en_core_web_sm") -> Callable[[str], list[str]]:
    """``auto``: spaCy when ``spacy_model`` is installed, else TextBlob."""
    if kind in ("auto", "spacy"):
        try:
            return SpacyChunker(spacy_model)
        except (ImportError, OSError):
            if kind == "spacy":
                raise
    if kind in ("auto", "textblob"):
        return TextBlobChunker()
    raise ValueError(f"unknown phrase extractor {kind!r}: auto, spacy or textblob")


def extractor_name(chunks: Callable[[str], list[str]]) -> str:
    name = getattr(chunks, "name", type(chunks).__name__)
    model = getattr(chunks, "model", None)
    return f"{name} ({model})" if model else name


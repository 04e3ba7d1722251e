"""Concept-balanced sampling of web captions (mBLIP's filter.py rules, seeded) and the extractors."""

import importlib.util

import pytest

from mmassets.tasks.concepts import TextBlobChunker, chunker, concept_sample, english_stopwords, phrases_of

STOP = frozenset({"a", "the", "of", "an"})


def fake_chunks(caption: str) -> list[str]:
    """Hand-made noun chunks: the caption's comma-separated parts."""
    return [part.strip() for part in caption.split(",") if part.strip()]


def test_phrases_are_lowercased_without_stopwords_and_empty_ones_dropped():
    assert phrases_of(["A Red Car", "the", "an old Man of the sea"], STOP) == ["red car", "old man sea"]


def test_rare_phrases_are_skipped_frequent_ones_capped_and_the_union_is_in_source_order():
    captions = (["a dog"] * 12 + ["the cat"] * 5 + ["a bird, a tree"] * 40)
    sample = concept_sample(captions, fake_chunks, STOP, min_per_phrase=10, max_per_phrase=30, seed=0)
    assert set(sample.manifest) == {"dog", "bird", "tree"}  # "cat" has 5 < 10
    assert sample.manifest["dog"] == list(range(12))  # 12 <= 30: all kept
    assert len(sample.manifest["bird"]) == 30 and len(sample.manifest["tree"]) == 30
    assert all(17 <= i < 57 for i in sample.manifest["bird"])
    assert sample.indices == sorted(set(sample.manifest["dog"]) | set(sample.manifest["bird"]) | set(sample.manifest["tree"]))
    assert sample.phrases == 4


def test_sampling_is_seeded_per_phrase():
    captions = ["a bird, a tree"] * 40 + ["a fish"] * 40
    one = concept_sample(captions, fake_chunks, STOP, seed=1)
    assert one == concept_sample(captions, fake_chunks, STOP, seed=1)
    assert one.manifest != concept_sample(captions, fake_chunks, STOP, seed=2).manifest
    fewer = concept_sample(captions[40:], fake_chunks, STOP, seed=1)  # without the other phrases ...
    assert [i + 40 for i in fewer.manifest["fish"]] == one.manifest["fish"]  # ... the same draw


def test_a_phrase_twice_in_one_caption_counts_twice_as_upstream():
    captions = ["a dog, a dog"] * 5
    assert concept_sample(captions, fake_chunks, STOP, min_per_phrase=10).manifest == {"dog": [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]}


def test_limits_are_checked():
    with pytest.raises(ValueError, match="min_per_phrase <= max_per_phrase"):
        concept_sample([], fake_chunks, STOP, min_per_phrase=40, max_per_phrase=30)


def test_textblob_finds_noun_chunks_in_real_captions_offline():
    chunks = TextBlobChunker()
    assert chunks("A man riding a red bicycle down the busy street.") == ["A man", "a red bicycle", "the busy street"]
    assert chunks("two dogs play in the snow. a cat sleeps on a sofa") == ["two dogs", "the snow", "a cat", "a sofa"]
    stopwords, name = english_stopwords()
    assert "the" in stopwords and "scikit-learn" in name
    assert phrases_of(chunks("A man riding a red bicycle"), stopwords) == ["man", "red bicycle"]


def test_auto_takes_textblob_when_no_spacy_model_is_installed():
    installed = importlib.util.find_spec("spacy") is not None and importlib.util.find_spec("en_core_web_sm") is not None
    chosen = chunker("auto")
    assert chosen.name == ("spacy" if installed else "textblob")
    with pytest.raises(ValueError, match="unknown phrase extractor"):
        chunker("nltk")


@pytest.mark.skipif(importlib.util.find_spec("en_core_web_sm") is None,
                    reason="spaCy's en_core_web_sm is on no registry this project can reach")
def test_spacy_finds_the_same_noun_chunks():
    assert chunker("spacy")("A man riding a red bicycle down the busy street.") == ["A man", "a red bicycle",
                                                                                   "the busy street"]


def test_worker_processes_extract_the_same_chunks_in_order():
    from mmassets.tasks.concepts import noun_chunk_lists

    captions = [f"a {colour} car parked near the old house number {i}" for i, colour in
                enumerate(["red", "blue", "green"] * 5)]
    alone = list(noun_chunk_lists(captions, "textblob"))
    assert list(noun_chunk_lists(captions, "textblob", workers=2, batch=4)) == alone
    assert alone[0][:2] == ["a red car", "the old house number"]

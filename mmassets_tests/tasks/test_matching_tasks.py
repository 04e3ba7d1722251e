"""Tests for caption-matching records: balance, negatives, determinism, exact records, re-rendering."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pandas as pd
import pytest

from mmassets.tasks.matching import COLUMNS, MATCH_TEMPLATES, matching_records, render_matching
from mmassets.tasks.similarity import TfidfSimilarity, text_key


class StubSimilarity:
    """Fixed neighbour lists by row; remembers which rows it was asked about."""

    name = "stub"

    def __init__(self, table: dict[int, list[int]]) -> None:
        self.table = table
        self.calls: list[list[int]] = []

    def nearest(self, captions: Sequence[str], image_ids: Sequence[str], k: int, *,
                rows: Sequence[int] | None = None, progress=None) -> list[list[int]]:
        self.calls.append(list(rows))
        return [self.table.get(i, [])[:k] for i in rows]


TINY = pd.DataFrame({
    "image_id": ["a", "a", "b", "c", "c", "d"],
    "caption": ["A dog on a beach.", "  ", "A cat on a sofa.", "A red bus.", "A bus in a city.", "A dog by the sea."],
})
"""Kept rows after the blank: 0 a dog/beach, 1 b cat, 2 c red bus, 3 c bus/city, 4 d dog/sea."""
TINY_NEIGHBOURS = {0: [4, 1], 1: [0, 4], 2: [1], 3: [1, 0], 4: [0]}


def corpus(n_images: int, seed: int = 0) -> pd.DataFrame:
    """Three to five short captions per image from a small vocabulary, so many captions overlap."""
    rng = random.Random(seed)
    subjects = ["dog", "cat", "man", "woman", "horse", "bus", "bird"]
    actions = ["running on", "sitting on", "standing near", "lying in", "walking across"]
    places = ["the beach", "a sofa", "the street", "a field", "the snow", "a kitchen"]
    rows = [(f"img{i}.jpg", f"A {rng.choice(subjects)} {rng.choice(actions)} {rng.choice(places)}.")
            for i in range(n_images) for _ in range(rng.randint(3, 5))]
    return pd.DataFrame(rows, columns=["image_id", "caption"])


def test_exact_records_with_a_stub_similarity() -> None:
    stub = StubSimilarity(TINY_NEIGHBOURS)
    result = matching_records(TINY, stub, seed=5)
    expected = pd.DataFrame({
        "context": ['Does "A dog by the sea." fit this image?',
                    'Can the image be described as "A bus in a city."?',
                    'Would "A red bus." be a correct caption for this picture?',
                    'Can the image be described as "A bus in a city."?',
                    "Is the following sentence true for the image? A dog by the sea."],
        "label": ["No, it does not fit.", "No, it cannot.", "Yes", "Yes, it can.", "Yes, it is true."],
        "image_id": ["a", "b", "c", "c", "d"],
        "caption": ["A dog by the sea.", "A bus in a city.", "A red bus.", "A bus in a city.", "A dog by the sea."],
        "template": [3, 8, 4, 8, 5],
        "match": [False, False, True, True, True],
        "negative": ["hard", "random", None, None, None],
        "similarity": ["stub", None, None, None, None],
    }, dtype=object).astype({"template": "int64", "match": bool})
    pd.testing.assert_frame_equal(result.frame, expected)
    assert result.skipped == {"blank caption": 1}
    assert stub.calls == [[0]]  # only the row that wants a hard negative is looked up


@pytest.mark.parametrize("n_images", [1, 2, 3, 4, 7, 10])
def test_labels_are_exactly_balanced(n_images: int) -> None:
    captions = corpus(n_images, seed=n_images) if n_images > 1 else pd.DataFrame(
        {"image_id": ["x.jpg"], "caption": ["A lone caption."]})
    for seed in range(4):
        frame = matching_records(captions, TfidfSimilarity(), seed).frame
        n = len(captions)
        assert len(frame) == n
        assert int(frame["match"].sum()) == n - n // 2
        assert frame["label"].tolist() == [MATCH_TEMPLATES[t][1 if m else 2]
                                           for t, m in zip(frame["template"], frame["match"])]


def test_one_record_per_row_in_input_order() -> None:
    captions = corpus(8)
    frame = matching_records(captions, TfidfSimilarity(), seed=3).frame
    assert list(frame.columns) == list(COLUMNS)
    assert frame["image_id"].tolist() == captions["image_id"].tolist()
    positives = frame[frame["match"]]
    assert positives["caption"].tolist() == captions.loc[positives.index, "caption"].tolist()
    assert positives["negative"].isna().all() and positives["similarity"].isna().all()


def test_hard_negatives_are_among_the_top_k_and_never_the_same_image_or_text() -> None:
    captions = corpus(30)
    texts, images = captions["caption"].tolist(), captions["image_id"].tolist()
    k = 3
    top = TfidfSimilarity().nearest(texts, images, k)
    frame = matching_records(captions, TfidfSimilarity(), seed=1, hard_share=1.0, k=k).frame
    negatives = frame[~frame["match"]]
    assert set(negatives["negative"]) == {"hard"} and set(negatives["similarity"]) == {"tfidf"}
    for i, shown in negatives["caption"].items():
        assert shown in {texts[j] for j in top[i]}
        own = {text_key(t) for t, image in zip(texts, images) if image == images[i]}
        assert text_key(shown) not in own | {text_key(texts[i])}


def test_progress_follows_the_hard_negative_queries() -> None:
    calls = []
    frame = matching_records(corpus(30), TfidfSimilarity(batch_size=4), seed=1, hard_share=1.0,
                             progress=lambda done, total: calls.append((done, total))).frame
    hard = int((frame["negative"] == "hard").sum())
    done, total = calls[-1]
    assert done == total >= hard > 0  # every queried row answered (some may have had no neighbour)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_random_negatives_are_of_another_image_and_text() -> None:
    captions = corpus(12)
    stub = StubSimilarity({})
    frame = matching_records(captions, stub, seed=2, hard_share=0.0).frame
    assert stub.calls == []  # no hard negatives wanted: the resource is not asked
    negatives = frame[~frame["match"]]
    assert set(negatives["negative"]) == {"random"} and negatives["similarity"].isna().all()
    by_image = captions.groupby("image_id")["caption"].agg(lambda c: {text_key(t) for t in c})
    for i, shown in negatives["caption"].items():
        assert text_key(shown) not in by_image[captions.at[i, "image_id"]]
        assert text_key(shown) != text_key(captions.at[i, "caption"])


def test_hard_rows_without_neighbours_fall_back_to_random() -> None:
    stub = StubSimilarity({0: [4, 1]})  # rows 1 and 4 get no neighbours
    frame = matching_records(TINY, stub, seed=1, hard_share=1.0).frame
    assert stub.calls == [[0, 1]]
    assert frame["negative"].tolist()[:2] == ["hard", "random"]
    assert frame["similarity"].tolist()[:2] == ["stub", None]


def test_k_limits_the_hard_choice() -> None:
    stub = StubSimilarity(TINY_NEIGHBOURS)
    frame = matching_records(TINY, stub, seed=2, hard_share=1.0, k=1).frame
    texts = ["A dog on a beach.", "A cat on a sofa.", "A red bus.", "A bus in a city.", "A dog by the sea."]
    hard = frame[frame["negative"] == "hard"]
    assert len(hard) == 2
    assert hard["caption"].tolist() == [texts[TINY_NEIGHBOURS[i][0]] for i in hard.index]


def test_deterministic_in_the_seed() -> None:
    captions = corpus(15)
    first = matching_records(captions, TfidfSimilarity(), seed=7).frame
    pd.testing.assert_frame_equal(matching_records(captions, TfidfSimilarity(), seed=7).frame, first)
    assert not matching_records(captions, TfidfSimilarity(), seed=8).frame.equals(first)


def test_a_single_image_cannot_make_negatives() -> None:
    captions = pd.DataFrame({"image_id": ["a", "a", "a"], "caption": ["One.", "Two.", "Three."]})
    with pytest.raises(ValueError, match="single image"):
        matching_records(captions, TfidfSimilarity(), seed=0)


def test_rows_without_a_possible_negative_stay_positive() -> None:
    # image b's only caption is also one of image a's: a's rows have nothing to show as a negative,
    # so the one negative is always row 2, showing "A cat."
    captions = pd.DataFrame({"image_id": ["a", "a", "b"], "caption": ["A dog.", "A cat.", "a dog"]})
    for seed in range(20):
        frame = matching_records(captions, StubSimilarity({}), seed).frame
        assert frame["match"].tolist() == [True, True, False]
        assert frame["caption"].tolist() == ["A dog.", "A cat.", "A cat."]
    same = pd.DataFrame({"image_id": ["a", "b"], "caption": ["A dog.", "a  DOG"]})
    with pytest.raises(ValueError, match="only 0 of 2"):
        matching_records(same, StubSimilarity({}), seed=0)


def test_blank_and_empty_input() -> None:
    captions = pd.DataFrame({"image_id": ["a", "b"], "caption": ["  ", None]})
    result = matching_records(captions, StubSimilarity({}), seed=0)
    assert list(result.frame.columns) == list(COLUMNS) and result.frame.empty
    assert result.skipped == {"blank caption": 2}


def test_render_matching_uses_the_translated_caption() -> None:
    frame = matching_records(TINY, StubSimilarity(TINY_NEIGHBOURS), seed=5).frame
    assert render_matching(frame).tolist() == frame["context"].tolist()
    translated = frame.assign(caption=["Ein Hund am Meer.", "Ein Bus in der Stadt.", "Ein roter Bus.",
                                       "Ein Bus in der Stadt.", "Ein Hund am Meer."])
    contexts = render_matching(translated)
    assert contexts.index.equals(frame.index)
    assert contexts.tolist() == ['Does "Ein Hund am Meer." fit this image?',
                                 'Can the image be described as "Ein Bus in der Stadt."?',
                                 'Would "Ein roter Bus." be a correct caption for this picture?',
                                 'Can the image be described as "Ein Bus in der Stadt."?',
                                 "Is the following sentence true for the image? Ein Hund am Meer."]


def test_templates() -> None:
    assert len(MATCH_TEMPLATES) >= 8
    assert len({question for question, _, _ in MATCH_TEMPLATES}) == len(MATCH_TEMPLATES)
    for question, yes, no in MATCH_TEMPLATES:
        assert question.count("{caption}") == 1 and yes != no and yes and no
    assert MATCH_TEMPLATES[0][0].format(caption="A {x}") == 'Does the caption "A {x}" describe the image?'

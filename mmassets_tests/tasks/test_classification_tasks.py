"""Tests for ImageNet classification: language choice, image planning, classification and yes/no records."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
import pytest

from mmassets.sample.imagenet import write_imagenet
from mmassets.sources.imagenet import BABEL_FILE, CLASS_INDEX_FILE, list_images, read_babel, read_class_index
from mmassets.tasks.classification import (
    CLASSIFY_COLUMNS,
    CLASSIFY_TEMPLATES,
    DECIDE_COLUMNS,
    DECIDE_TEMPLATES,
    classify_records,
    decide_records,
    imagenet_languages,
    plan_images,
)

LANGUAGE_NAMES = {"en": "English", "de": "German", "iw": "Hebrew"}


# --- languages -----------------------------------------------------------------------------------


def test_imagenet_languages_order_and_missing() -> None:
    table = [("de", 2.0), ("en", 8.0), ("xx", 3.0), ("fr", 2.0), ("zz", 0.0), ("iw", 1.0), ("fil", 1.5)]
    babel = {"de": {1: "Goldfisch"}, "fr": {0: "tanche"}, "he": {1: "דג זהב"}, "tl": {2: "pating"},
             "zz": {0: "z"}, "en": {0: "not used"}}
    english = {0: "tench", 1: "goldfish", 2: "great white shark"}
    languages, missing = imagenet_languages(table, babel, english)
    assert languages == [("en", english), ("de", {1: "Goldfisch"}), ("fr", {0: "tanche"}), ("fil", {2: "pating"}),
                         ("iw", {1: "דג זהב"})]
    assert missing == ["xx"]


def test_imagenet_languages_copies_names() -> None:
    babel = {"de": {1: "Goldfisch"}}
    languages, _ = imagenet_languages([("de", 1.0)], babel, {})
    languages[0][1][2] = "Hai"
    assert babel == {"de": {1: "Goldfisch"}}


# --- image plan ----------------------------------------------------------------------------------


def test_plan_exact_on_single_images() -> None:
    languages = [("en", {2: "shark", 0: "tench", 1: "goldfish"}), ("de", {1: "Goldfisch"})]
    images = {0: ["a/0.JPEG"], 1: ["b/1.JPEG"]}  # class 2 has none
    plan, counts, _ = plan_images(languages, images, rounds=2, seed=5)
    assert plan == [("en", 0, "a/0.JPEG"), ("en", 1, "b/1.JPEG"), ("de", 1, "b/1.JPEG"),
                    ("en", 0, "a/0.JPEG"), ("en", 1, "b/1.JPEG"), ("de", 1, "b/1.JPEG")]
    assert counts == {"reused images": 4, "class without images": 2}


def _random_setup(seed: int) -> tuple[list[tuple[str, dict[int, str]]], dict[int, list[str]]]:
    rng = random.Random(seed)
    images = {c: [f"n{c:08d}/{c}_{k}.JPEG" for k in range(rng.randint(1, 6))] for c in range(12)}
    images[11] = []
    languages = [(f"l{i}", {c: f"name {c}" for c in rng.sample(range(12), rng.randint(1, 12))}) for i in range(6)]
    return languages, images


def _check_passes(plan: list[tuple[str, int, str]], images: dict[int, list[str]]) -> int:
    """Each class's images, in plan order, come in whole passes: every chunk of len(pool) uses is a
    permutation of the pool (so nothing repeats while unused images remain). Returns the reuses."""
    used = defaultdict(list)
    for _, class_index, image_id in plan:
        used[class_index].append(image_id)
    reused = 0
    for class_index, sequence in used.items():
        pool = sorted(images[class_index])
        for start in range(0, len(sequence), len(pool)):
            chunk = sequence[start:start + len(pool)]
            assert len(set(chunk)) == len(chunk) and set(chunk) <= set(pool), (class_index, sequence)
        reused += max(0, len(sequence) - len(pool))
    return reused


@pytest.mark.parametrize("seed", range(5))
def test_plan_never_reuses_while_unused_images_remain(seed: int) -> None:
    languages, images = _random_setup(seed)
    plan, counts, _ = plan_images(languages, images, rounds=7, seed=seed)
    expected = [(code, c) for _ in range(7) for code, names in languages for c in sorted(names) if images[c]]
    assert [(code, c) for code, c, _ in plan] == expected
    assert counts["reused images"] == _check_passes(plan, images) > 0
    assert counts["class without images"] == 7 * sum(11 in names for _, names in languages)


def test_plan_shuffles_by_seed() -> None:
    languages = [("en", {0: "tench"})]
    images = {0: [f"a/{k}.JPEG" for k in range(8)]}
    first = plan_images(languages, images, rounds=8, seed=1)[0]
    assert plan_images(languages, images, rounds=8, seed=1)[0] == first
    assert sorted(image for _, _, image in first) == sorted(images[0])
    assert [image for _, _, image in first] != sorted(images[0])
    assert plan_images(languages, images, rounds=8, seed=2)[0] != first
    # the input order of a class's images does not matter
    assert plan_images(languages, {0: images[0][::-1]}, rounds=8, seed=1)[0] == first


def test_plan_state_continues() -> None:
    languages, images = _random_setup(11)
    whole, whole_counts, _ = plan_images(languages, images, rounds=5, seed=3)
    first, first_counts, state = plan_images(languages, images, rounds=2, seed=3)
    second, second_counts, _ = plan_images(languages, images, rounds=3, seed=3, state=state)
    assert first + second == whole
    assert {k: first_counts[k] + second_counts[k] for k in whole_counts} == whole_counts
    # the state is not changed by continuing from it
    assert plan_images(languages, images, rounds=3, seed=3, state=state)[0] == second


def test_continued_plan_uses_other_images() -> None:
    languages = [("en", {0: "tench", 1: "goldfish"}), ("de", {1: "Goldfisch"})]
    images = {0: [f"a/{k}.JPEG" for k in range(4)], 1: [f"b/{k}.JPEG" for k in range(8)]}
    first, counts, state = plan_images(languages, images, rounds=2, seed=0)
    second, _, _ = plan_images(languages, images, rounds=2, seed=0, state=state)
    assert counts["reused images"] == 0
    assert not {image for *_, image in first} & {image for *_, image in second}


# --- classification records ----------------------------------------------------------------------


def test_classify_exact_records() -> None:
    languages = [("en", {0: "tench", 1: "goldfish"}), ("iw", {1: "דג זהב"})]
    plan = [("en", 0, "a/0.JPEG"), ("en", 1, "b/1.JPEG"), ("iw", 1, "b/2.JPEG")]
    result = classify_records(plan, languages, LANGUAGE_NAMES, seed=0, templates=("Name it in {language}:",))
    expected = pd.DataFrame({
        "context": ["Name it in English:", "Name it in English:", "Name it in Hebrew:"],
        "label": ["tench", "goldfish", "דג זהב"],
        "image_id": ["a/0.JPEG", "b/1.JPEG", "b/2.JPEG"],
        "language": ["en", "en", "iw"],
        "class_index": [0, 1, 1],
    })
    pd.testing.assert_frame_equal(result.frame, expected, check_dtype=False)
    assert tuple(result.frame.columns) == CLASSIFY_COLUMNS
    assert str(result.frame["class_index"].dtype) == "int64"
    assert result.skipped == {}


def test_classify_templates_are_seeded() -> None:
    languages = [("de", {c: f"Klasse {c}" for c in range(5)})]
    plan = [("de", c % 5, f"x/{c}.JPEG") for c in range(200)]
    contexts = classify_records(plan, languages, LANGUAGE_NAMES, seed=4).frame["context"].tolist()
    assert set(contexts) == {t.format(language="German") for t in CLASSIFY_TEMPLATES}
    assert classify_records(plan, languages, LANGUAGE_NAMES, seed=4).frame["context"].tolist() == contexts
    assert classify_records(plan, languages, LANGUAGE_NAMES, seed=5).frame["context"].tolist() != contexts


def test_classify_needs_every_language_name() -> None:
    with pytest.raises(ValueError, match="fil"):
        classify_records([("fil", 0, "a.JPEG")], [("fil", {0: "pating"})], LANGUAGE_NAMES, seed=0)


def test_template_lists() -> None:
    assert 8 <= len(CLASSIFY_TEMPLATES) <= 11 and len(set(CLASSIFY_TEMPLATES)) == len(CLASSIFY_TEMPLATES)
    assert all("{language}" in t for t in CLASSIFY_TEMPLATES)
    assert 6 <= len(DECIDE_TEMPLATES) <= 8
    assert all("{name}" in q and "{" not in yes + no for q, yes, no in DECIDE_TEMPLATES)
    assert all(yes.startswith("Yes") and no.startswith("No") for _, yes, no in DECIDE_TEMPLATES)


# --- yes/no records ------------------------------------------------------------------------------

ONE_TEMPLATE = (("Is it a {name}?", "Yes.", "No."),)


def test_decide_exact_records() -> None:
    languages = [("en", {0: "tench", 1: "goldfish"}), ("de", {3: "Hai", 5: "HAI"})]
    plan = [("en", 0, "a/0.JPEG"), ("en", 1, "b/1.JPEG"), ("de", 5, "c/5.JPEG")]
    result = decide_records(plan, languages, seed=0, positive_share=0.0, templates=ONE_TEMPLATE)
    expected = pd.DataFrame({
        "context": ["Is it a goldfish?", "Is it a tench?", "Is it a HAI?"],
        "label": ["No.", "No.", "Yes."],
        "image_id": ["a/0.JPEG", "b/1.JPEG", "c/5.JPEG"],
        "language": ["en", "en", "de"],
        "class_index": [0, 1, 5],
        "asked_class_index": [1, 0, 5],
        "answer": ["no", "no", "yes"],
    })
    pd.testing.assert_frame_equal(result.frame, expected, check_dtype=False)
    assert tuple(result.frame.columns) == DECIDE_COLUMNS
    assert result.skipped == {"no negative class": 1}  # "Hai" and "HAI" are the same name


def test_decide_all_positive() -> None:
    languages = [("en", {0: "tench", 1: "goldfish"})]
    plan = [("en", 0, "a/0.JPEG"), ("en", 1, "b/1.JPEG")]
    result = decide_records(plan, languages, seed=0, positive_share=1.0, templates=ONE_TEMPLATE)
    assert result.frame["context"].tolist() == ["Is it a tench?", "Is it a goldfish?"]
    assert result.frame["answer"].tolist() == ["yes", "yes"]
    assert result.skipped == {"no negative class": 0}


def test_decide_rejects_a_bad_share() -> None:
    with pytest.raises(ValueError, match="positive_share"):
        decide_records([], [], seed=0, positive_share=1.5)


def test_decide_empty_plan() -> None:
    result = decide_records([], [("en", {0: "tench"})], seed=0)
    assert len(result.frame) == 0 and tuple(result.frame.columns) == DECIDE_COLUMNS
    assert result.skipped == {"no negative class": 0}


def _large_decide_input() -> tuple[list[tuple[str, dict[int, str]]], list[tuple[str, int, str]]]:
    names = {c: f"class {c}" for c in range(0, 80, 2)}
    names.update({10: "Cat", 12: "cat", 14: "CAT", 78: "cat"})  # same name, different case
    languages = [("de", names), ("en", {0: "tench", 1: "goldfish", 2: "shark"})]
    plan = [(code, c, f"x/{code}{c}_{r}.JPEG") for r in range(60) for code, n in languages for c in sorted(n)]
    return languages, plan


def test_decide_never_asks_the_true_class_as_a_negative() -> None:
    languages, plan = _large_decide_input()
    frame = decide_records(plan, languages, seed=9).frame
    names = dict(languages)
    for row in frame.itertuples():
        language = names[row.language]
        question = next(t for t in DECIDE_TEMPLATES
                        if row.context == t[0].format(name=language[row.asked_class_index]))
        if row.answer == "yes":
            assert row.asked_class_index == row.class_index and row.label == question[1]
        else:
            assert row.asked_class_index != row.class_index and row.label == question[2]
            assert language[row.asked_class_index].casefold() != language[row.class_index].casefold()
            assert row.asked_class_index in language
    assert frame["image_id"].tolist() == [image for *_, image in plan]
    negatives = frame[frame["answer"] == "no"]
    assert set(negatives.loc[negatives["class_index"].isin([10, 12, 14, 78]), "asked_class_index"]).isdisjoint(
        {10, 12, 14, 78})


def test_decide_shares() -> None:
    languages, plan = _large_decide_input()
    result = decide_records(plan, languages, seed=1)
    frame = result.frame
    assert result.skipped == {"no negative class": 0}
    assert 0.46 < (frame["answer"] == "yes").mean() < 0.54
    # about half the negatives ask for the next allowed class in the language's list
    order = {code: sorted(names) for code, names in languages}
    names = dict(languages)

    def next_allowed(code: str, true: int) -> int:
        classes, key = order[code], names[code][true].casefold()
        start = classes.index(true)
        rotated = classes[start + 1:] + classes[:start]
        return next(c for c in rotated if names[code][c].casefold() != key)

    negatives = frame[frame["answer"] == "no"]
    is_next = [asked == next_allowed(code, true) for code, true, asked in
               zip(negatives["language"], negatives["class_index"], negatives["asked_class_index"])]
    assert 0.45 < sum(is_next) / len(is_next) < 0.65
    assert len(Counter(negatives.loc[negatives["language"] == "de", "asked_class_index"])) > 30


def test_decide_is_seeded() -> None:
    languages, plan = _large_decide_input()
    first = decide_records(plan, languages, seed=2).frame
    pd.testing.assert_frame_equal(decide_records(plan, languages, seed=2).frame, first)
    assert not decide_records(plan, languages, seed=3).frame.equals(first)


# --- on the sample -------------------------------------------------------------------------------


def test_sample_end_to_end(tmp_path: Path) -> None:
    write_imagenet(tmp_path, seed=0)
    classes = read_class_index(tmp_path / CLASS_INDEX_FILE)
    by_wnid = list_images(tmp_path, classes["wnid"].tolist())
    images = {c: by_wnid[w] for c, w in zip(classes["class_index"], classes["wnid"])}
    table = [("en", 8.5), ("de", 3.1), ("iw", 1.1), ("fil", 0.6), ("sw", 0.5)]
    languages, missing = imagenet_languages(table, read_babel(tmp_path / BABEL_FILE),
                                            dict(zip(classes["class_index"], classes["name"])))
    assert [code for code, _ in languages] == ["en", "de", "iw", "fil"] and missing == ["sw"]
    plan, counts, state = plan_images(languages, images, rounds=8, seed=0)
    assert counts == {"reused images": 0, "class without images": 0}  # the sample has images enough
    names = {**LANGUAGE_NAMES, "fil": "Filipino"}
    classify = classify_records(plan, languages, names, seed=0).frame
    assert len(classify) == 8 * (6 + 6 + 2 + 1)
    assert classify.loc[classify["language"] == "iw", "label"].tolist()[:2] == ["דג זהב", "כריש לבן גדול"]
    decide_plan, _, _ = plan_images(languages, images, rounds=8, seed=0, state=state)
    decide = decide_records(decide_plan, languages, seed=0)
    assert decide.skipped["no negative class"] > 0  # Tagalog names one class only
    assert (decide.frame.loc[decide.frame["language"] == "fil", "answer"] == "yes").all()

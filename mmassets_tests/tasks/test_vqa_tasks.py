"""Tests for the VQAv2 training tasks: VQA and question generation records, the join they start from,
and their localisation into a translated language."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pandas as pd
import pytest

from mmassets.sample.vqav2 import write_vqav2
from mmassets.sources.vqav2 import (ANNOTATION_COLUMNS, QUESTION_COLUMNS, annotations_file,
                                    join_questions_annotations, questions_file, read_annotations, read_questions)
from mmassets.tasks.vqa import (COLUMNS, LOCALIZE_COUNTS, VQA_TEMPLATES, VQG_TEMPLATES, localize_vqa, vqa_records,
                                vqg_records)

SEED = 11


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _joined(rows: list[tuple]) -> pd.DataFrame:
    """A join_questions_annotations-like frame from (question_id, image_id, question, best answer)."""
    return pd.DataFrame([(qid, image, q, a, [a], "other", "what") for qid, image, q, a in rows],
                        columns=["question_id", "image_id", "question", "multiple_choice_answer", "answers",
                                 "answer_type", "question_type"], dtype=object)


JOINED = _joined([
    (42000, 42, "What color is the  bus?\n", "red"),
    (42001, 42, "  \n", "yes"),                        # blank question
    (73001, 73, "How many dogs?", " two  dogs "),
    (80000, 80, "Empty?", "   "),                      # blank answer
    (91002, 91, "Is it raining?", "No"),
])


def _draws(seed: int, n: int, templates: int) -> list[int]:
    """The documented template choice: randrange per joined row, skipped rows included."""
    rng = random.Random(seed)
    return [rng.randrange(templates) for _ in range(n)]


# --- templates ----------------------------------------------------------------------------------

def test_templates() -> None:
    assert 6 <= len(VQA_TEMPLATES) <= 8 and len(set(VQA_TEMPLATES)) == len(VQA_TEMPLATES)
    assert 5 <= len(VQG_TEMPLATES) <= 8 and len(set(VQG_TEMPLATES)) == len(VQG_TEMPLATES)
    assert all(_fields(t) == {"question", "language"} for t in VQA_TEMPLATES)
    assert all(_fields(t) == {"answer", "language"} for t in VQG_TEMPLATES)


# --- English records ----------------------------------------------------------------------------

def test_vqa_records_exact() -> None:
    result = vqa_records(JOINED, SEED)
    t = _draws(SEED, 5, len(VQA_TEMPLATES))
    expected = pd.DataFrame({
        "context": [VQA_TEMPLATES[t[0]].format(question="What color is the bus?", language="English"),
                    VQA_TEMPLATES[t[2]].format(question="How many dogs?", language="English"),
                    VQA_TEMPLATES[t[4]].format(question="Is it raining?", language="English")],
        "label": ["red", "two dogs", "No"],
        "image_id": ["COCO_train2014_000000000042.jpg", "COCO_train2014_000000000073.jpg",
                     "COCO_train2014_000000000091.jpg"],
        "question": ["What color is the bus?", "How many dogs?", "Is it raining?"],
        "answer": ["red", "two dogs", "No"],
    }, dtype=object).assign(template=[t[0], t[2], t[4]], question_id=[42000, 73001, 91002])
    assert tuple(result.frame.columns) == COLUMNS
    pd.testing.assert_frame_equal(result.frame, expected)
    assert result.skipped == {"blank question": 1, "blank answer": 1}
    assert len(set(_draws(SEED, 5, len(VQA_TEMPLATES)))) > 1  # the seed picks different templates


def test_vqg_records_exact() -> None:
    result = vqg_records(JOINED, SEED, subset="val2014")
    t = _draws(SEED, 5, len(VQG_TEMPLATES))
    assert result.frame.to_dict(orient="records") == [
        {"context": VQG_TEMPLATES[t[0]].format(answer="red", language="English"), "label": "What color is the bus?",
         "image_id": "COCO_val2014_000000000042.jpg", "question": "What color is the bus?", "answer": "red",
         "template": t[0], "question_id": 42000},
        {"context": VQG_TEMPLATES[t[2]].format(answer="two dogs", language="English"), "label": "How many dogs?",
         "image_id": "COCO_val2014_000000000073.jpg", "question": "How many dogs?", "answer": "two dogs",
         "template": t[2], "question_id": 73001},
        {"context": VQG_TEMPLATES[t[4]].format(answer="No", language="English"), "label": "Is it raining?",
         "image_id": "COCO_val2014_000000000091.jpg", "question": "Is it raining?", "answer": "No",
         "template": t[4], "question_id": 91002},
    ]
    assert result.skipped == {"blank question": 1, "blank answer": 1}
    assert 'whose answer is "red"' in VQG_TEMPLATES[0].format(answer="red", language="English")


def test_records_are_deterministic_and_seeded() -> None:
    many = _joined([(i, i, f"Question {i}?", f"answer {i}") for i in range(40)])
    first = vqa_records(many, SEED).frame
    pd.testing.assert_frame_equal(vqa_records(many, SEED).frame, first)
    assert vqa_records(many, SEED + 1).frame["template"].tolist() != first["template"].tolist()
    assert set(first["template"]) == set(range(len(VQA_TEMPLATES)))


def test_a_skip_does_not_shift_the_other_templates() -> None:
    full = vqa_records(JOINED, SEED).frame
    good = vqa_records(JOINED.iloc[[0, 1, 2, 3]], SEED).frame  # the last row dropped, the others keep theirs
    pd.testing.assert_frame_equal(good, full.iloc[:2])


def test_no_rows_gives_empty_frames_with_the_columns() -> None:
    for build in (vqa_records, vqg_records):
        result = build(JOINED.iloc[[1, 3]], SEED)
        assert tuple(result.frame.columns) == COLUMNS and result.frame.empty
        assert result.skipped == {"blank question": 1, "blank answer": 1}


def test_unknown_subset() -> None:
    with pytest.raises(ValueError, match="test2015"):
        vqa_records(JOINED, SEED, subset="test2015")


# --- the join they start from -------------------------------------------------------------------

def test_join_does_not_depend_on_annotation_order() -> None:
    questions = pd.DataFrame([(1000 * i + n, i, f"Question {n} on {i}?") for i in (5, 3, 8) for n in range(3)]
                             + [(9000, 9, "Nobody answered?")], columns=list(QUESTION_COLUMNS), dtype=object)
    annotations = pd.DataFrame([(qid, image, f"answer {qid}", [f"answer {qid}"], "other", "what")
                                for qid, image in zip(questions["question_id"][:-1], questions["image_id"][:-1])]
                               + [(7000, 7, "orphan", ["orphan"], "other", "what")],
                               columns=list(ANNOTATION_COLUMNS), dtype=object)
    aligned, aligned_unmatched = join_questions_annotations(questions, annotations)
    shuffled = annotations.sample(frac=1, random_state=5).reset_index(drop=True)
    assert shuffled["question_id"].tolist() != annotations["question_id"].tolist()
    joined, unmatched = join_questions_annotations(questions, shuffled)
    assert unmatched == aligned_unmatched == {"question without annotation": 1, "annotation without question": 1,
                                              "image_id differs": 0}
    pd.testing.assert_frame_equal(vqa_records(joined, SEED).frame, vqa_records(aligned, SEED).frame)
    pd.testing.assert_frame_equal(vqg_records(joined, SEED).frame, vqg_records(aligned, SEED).frame)
    records = vqa_records(joined, SEED).frame
    assert records["question_id"].tolist() == questions["question_id"].tolist()[:-1]
    assert records["label"].tolist() == [f"answer {qid}" for qid in records["question_id"]]


def test_records_from_the_sample_train_files(tmp_path: Path) -> None:
    write_vqav2(tmp_path, seed=0)
    questions = read_questions(tmp_path / questions_file("train2014"))
    annotations = read_annotations(tmp_path / annotations_file("train2014"))
    assert annotations["question_id"].tolist() != questions["question_id"].tolist()  # the file is shuffled
    joined, unmatched = join_questions_annotations(questions, annotations)
    assert unmatched == {"question without annotation": 0, "annotation without question": 0, "image_id differs": 0}
    ordered = annotations.set_index("question_id", drop=False).loc[questions["question_id"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(vqa_records(joined, SEED).frame,
                                  vqa_records(join_questions_annotations(questions, ordered)[0], SEED).frame)
    result = vqa_records(joined, SEED)
    assert result.skipped == {"blank question": 0, "blank answer": 0}
    best = dict(zip(annotations["question_id"], annotations["multiple_choice_answer"]))
    frame = result.frame
    assert len(frame) == 18
    assert frame["label"].tolist() == [best[qid].strip() for qid in frame["question_id"]]
    assert frame["image_id"].tolist() == [f"COCO_train2014_{i:012d}.jpg" for i in questions["image_id"]]
    assert all((tmp_path / "coco" / "train2014" / name).is_file() for name in frame["image_id"])
    varied = [label for label in frame["label"] if label != label.lower()]
    assert len(varied) == 1 and varied[0].lower() in frame["label"].tolist()  # a realistic duplicate for dedup


# --- localisation -------------------------------------------------------------------------------

def _translated() -> pd.DataFrame:
    """A German partition of VQA records: translations beside the English texts."""
    return pd.DataFrame({
        "context": ["old"] * 6,
        "label": ["old"] * 6,
        "image_id": [f"COCO_train2014_{i:012d}.jpg" for i in range(1, 7)],
        "question": ["Welche Farbe hat der Bus?", "Wie viele  Hunde?", None, "Regnet es?", "Ist das ein Hut?",
                     "Was hält die Frau?"],
        "question_en": ["What color is the bus?", "How many dogs?", "Is it a cat?", "Is it raining?",
                        "Is that a hat?", "What is the woman holding?"],
        "answer": ["rot", "zwei", "ja", pd.NA, "Yes ", "Regenschirm"],
        "answer_en": ["red", "two", "yes", "no", "yes", "umbrella"],
        "template": [0, 1, 2, 3, 4, 5],
        "question_id": [1000, 2000, 3000, 4000, 5000, 6000],
    })


def test_localize_vqa_with_probability_one() -> None:
    frame, counts = localize_vqa(_translated(), "German", 1.0, SEED, task="vqa")
    expected = _translated().drop(index=2).reset_index(drop=True)
    expected["context"] = pd.Series([
        VQA_TEMPLATES[0].format(question="Welche Farbe hat der Bus?", language="German"),
        VQA_TEMPLATES[1].format(question="Wie viele Hunde?", language="German"),
        VQA_TEMPLATES[3].format(question="Regnet es?", language="English"),
        VQA_TEMPLATES[4].format(question="Ist das ein Hut?", language="English"),
        VQA_TEMPLATES[5].format(question="Was hält die Frau?", language="German")], dtype=object)
    expected["label"] = pd.Series(["rot", "zwei", "no", "yes", "Regenschirm"], dtype=object)
    pd.testing.assert_frame_equal(frame, expected)
    assert counts == {"translated answer": 3, "English answer": 0, "answer unchanged by translation": 1,
                      "answer translation dropped": 1, "question translation dropped": 1}


def test_localize_vqa_with_probability_zero() -> None:
    frame, counts = localize_vqa(_translated(), "German", 0.0, SEED, task="vqa")
    assert frame["label"].tolist() == ["red", "two", "no", "yes", "umbrella"]
    assert frame["context"].tolist() == [VQA_TEMPLATES[t].format(question=q, language="English") for q, t in
                                         zip(["Welche Farbe hat der Bus?", "Wie viele Hunde?", "Regnet es?",
                                              "Ist das ein Hut?", "Was hält die Frau?"], [0, 1, 3, 4, 5])]
    assert all("German" not in context for context in frame["context"])
    assert counts == {"translated answer": 0, "English answer": 3, "answer unchanged by translation": 1,
                      "answer translation dropped": 1, "question translation dropped": 1}


def test_localize_vqg_names_the_target_language() -> None:
    frame, counts = localize_vqa(_translated(), "German", 1.0, SEED, task="vqg")
    assert frame["context"].tolist() == [VQG_TEMPLATES[t].format(answer=a, language="German") for t, a in
                                         zip([0, 1, 3, 4, 5], ["rot", "zwei", "no", "yes", "Regenschirm"])]
    assert frame["label"].tolist() == ["Welche Farbe hat der Bus?", "Wie viele Hunde?", "Regnet es?",
                                       "Ist das ein Hut?", "Was hält die Frau?"]
    assert frame["question_id"].tolist() == [1000, 2000, 4000, 5000, 6000]
    assert counts["question translation dropped"] == 1 and counts["translated answer"] == 3
    english, _ = localize_vqa(_translated(), "German", 0.0, SEED, task="vqg")
    assert english["context"].tolist() == [VQG_TEMPLATES[t].format(answer=a, language="German") for t, a in
                                           zip([0, 1, 3, 4, 5], ["red", "two", "no", "yes", "umbrella"])]


def test_localize_draws_once_per_row() -> None:
    n = 200
    frame = pd.DataFrame({
        "question": [f"Frage {i}?" if i % 7 else None for i in range(n)],
        "question_en": [f"Question {i}?" for i in range(n)],
        "answer": [f"Antwort {i}" for i in range(n)],
        "answer_en": [f"answer {i}" for i in range(n)],
        "template": [i % len(VQA_TEMPLATES) for i in range(n)],
        "image_id": [f"{i}.jpg" for i in range(n)],
    })
    out, counts = localize_vqa(frame, "German", 0.3, SEED, task="vqa")
    rng = random.Random(SEED)
    draws = [rng.random() for _ in range(n)]
    kept = [i for i in range(n) if i % 7]
    assert out["image_id"].tolist() == [f"{i}.jpg" for i in kept]
    assert out["label"].tolist() == [f"Antwort {i}" if draws[i] < 0.3 else f"answer {i}" for i in kept]
    assert counts["question translation dropped"] == n - len(kept)
    assert counts["translated answer"] == sum(draws[i] < 0.3 for i in kept) > 0
    assert counts["English answer"] == sum(draws[i] >= 0.3 for i in kept) > 0
    again, same_counts = localize_vqa(frame, "German", 0.3, SEED, task="vqa")
    pd.testing.assert_frame_equal(again, out)
    assert same_counts == counts
    assert localize_vqa(frame, "German", 0.3, SEED + 1, task="vqa")[0]["label"].tolist() != out["label"].tolist()


def test_localize_keeps_columns_and_puts_records_first() -> None:
    frame = _translated().drop(columns=["context", "label"])
    out, _ = localize_vqa(frame, "German", 1.0, SEED, task="vqa")
    assert list(out.columns) == ["context", "label", *frame.columns]
    assert list(out.index) == list(range(5))
    empty, counts = localize_vqa(frame.iloc[:0], "German", 1.0, SEED, task="vqg")
    assert empty.empty and list(empty.columns) == list(out.columns)
    assert counts == dict.fromkeys(LOCALIZE_COUNTS, 0)


@pytest.mark.parametrize("kwargs", [{"task": "caption"}, {"task": "vqa", "probability": 1.5},
                                    {"task": "vqg", "probability": -0.1}, {"task": "vqa", "probability": float("nan")}])
def test_localize_rejects_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        localize_vqa(_translated(), "German", kwargs.pop("probability", 0.5), SEED, **kwargs)

"""DataOptim's conversions, rebuilt: upstream rows (the readers of ``mmassets.sources``) → LLaVA
conversation records with DataOptim's ids, prompts and image paths, record for record where the
upstream data allows (its files and README, and the records of its example submission).

Images are named under DataOptim's ``images/`` folders: ``coco/COCO_train2014_….jpg``,
``flickr30k/<file>``, ``open_images/<id>.jpg``, ``ocrvqa/<asin>.jpg``, ``visual_genome/<id>.jpg``.
Ids are ``<source>_<n>`` (a running index, from 0, in upstream order) or ``<source>_<question id>``:

| source | id | human turn | answer |
|---|---|---|---|
| coco, flickr30k, textcaps | running, one per caption | ``<image>\\n`` + one of five caption prompts (seeded) | the caption |
| vqav2, okvqa, gqa | question id | ``<image>\\n{q} Answer the question directly with a short sentence or phrase.`` | VQAv2: ``multiple_choice_answer``; OK-VQA: the same, else the most given answer; GQA: ``fullAnswer`` |
| ocrvqa, textvqa | running | the same | OCR-VQA's answer; TextVQA: the most given answer |
| aokvqa | question id | ``<image>\\nChoose the correct option for the following question: {q}\\nA. …\\nD. …\\n`` | ``The correct option is X.`` (none without a correct choice: counted) |
| ref3rec, ref3reg | running | a Shikra REC template (``<expr>`` → the expression) / REG template (``<objs>`` → the box), ``<image>`` where the template has it | ``[box].`` / the expression |
| shikra | running | ``<image>\\n`` + the question, boxes after their phrases | the chain of thought with its answer |
| llava | running | unchanged | unchanged |
| svit | ``svit_{conversation,detail,complex,referring}_<n>`` | ``<image>\\n`` + the first question; the rest unchanged | unchanged |

Unverified upstream (DataOptim never released these scripts), and settings or documented choices
here: OK-VQA's and TextVQA's answer rule (the most given answer, ties to the first given); which
RefCOCO samples make up its 287,604 (the train splits of RefCOCO/RefCOCO+ (unc) and RefCOCOg
(umd), one per expression, without images of any of their val/test splits, in that order); how
Shikra-RD's boxes are written into the text (``phrase [box]``, several boxes joined with ", ").
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import pandas as pd

from mmassets.dataoptim.boxes import BOX_TEXT, box_text, place, square, xywh_to_xyxy
from mmassets.dataoptim.templates import question
from mmassets.seeding import derive_seed

CAPTION_PROMPTS = ("Describe the image as simply as possible with a sentence or phrase.",
                   "Give a brief summary of what you see.", "Provide a short description of the image.",
                   "Write a short description for the image.", "Briefly describe the content of the image.")
VQA_PROMPT = "{question} Answer the question directly with a short sentence or phrase."
CHOICE_PROMPT = "Choose the correct option for the following question: {question}\n"
LETTERS = "ABCDEFGH"
IMAGE = "<image>"
SVIT_KINDS = {"conversation": "conversation", "detail_description": "detail", "complex_reasoning": "complex",
              "referring_qa": "referring"}
"""SVIT's file kinds → DataOptim's id infix."""
SVIT_EMPTY = "It seems like your message is empty"
"""SVIT's broken detail descriptions (SVIT issue #5): dropped and counted."""
REFCOCO_DATASETS = (("refcoco", "unc"), ("refcoco+", "unc"), ("refcocog", "umd"))


def record(id: str, image: str, turns: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A LLaVA record of (human, gpt) pairs."""
    conversations = []
    for human, gpt in turns:
        conversations += [{"from": "human", "value": human}, {"from": "gpt", "value": gpt}]
    return {"id": id, "image": image, "conversations": conversations}


def coco_image(image_id: int, folder: str = "train2014") -> str:
    return f"coco/COCO_{folder}_{int(image_id):012d}.jpg"


def most_given(answers: Sequence[str]) -> str:
    """The answer given most often; a tie goes to the one given first."""
    counts = Counter(answers)
    return max(answers, key=lambda a: (counts[a], -answers.index(a)))


# captioning ------------------------------------------------------------------------------------

def captions(source: str, items: Iterable[tuple[str, str]], seed: int) -> list[dict]:
    """One record per (image, caption), a caption prompt drawn per record with a seeded generator."""
    rng = random.Random(derive_seed(seed, "dataoptim", source))
    return [record(f"{source}_{n}", image, [(f"{IMAGE}\n{rng.choice(CAPTION_PROMPTS)}", caption)])
            for n, (image, caption) in enumerate(items)]


def karpathy_captions(source: str, frame: pd.DataFrame, folder: str, seed: int) -> list[dict]:
    """COCO or Flickr30K, Karpathy's train split (``filename``, ``captions``): every caption."""
    train = frame[frame["split"] == "train"]
    return captions(source, ((f"{folder}/{name}", caption) for name, caps in zip(train["filename"], train["captions"])
                             for caption in caps), seed)


def textcaps(frame: pd.DataFrame, seed: int) -> list[dict]:
    return captions("textcaps", ((f"open_images/{i}.jpg", c) for i, c in zip(frame["image_id"], frame["caption"])), seed)


# open-ended VQA -------------------------------------------------------------------------------

def vqa(source: str, items: Iterable[tuple[Any, str, str, str]]) -> list[dict]:
    """(id suffix, image, question, answer) → records (a suffix None: the running index)."""
    return [record(f"{source}_{n if suffix is None else suffix}", image,
                   [(f"{IMAGE}\n{VQA_PROMPT.format(question=q)}", answer)])
            for n, (suffix, image, q, answer) in enumerate(items)]


def vqav2(joined: pd.DataFrame, source: str = "vqav2") -> list[dict]:
    """VQAv2 (or OK-VQA) train, questions joined with annotations: ``multiple_choice_answer``, or
    the most given answer where a file has none."""
    answers = joined["multiple_choice_answer"] if "multiple_choice_answer" in joined else [None] * len(joined)
    picked = [a if isinstance(a, str) and a else most_given([x["answer"] if isinstance(x, dict) else x for x in given])
              for a, given in zip(answers, joined["answers"])]
    return vqa(source, zip(joined["question_id"], map(coco_image, joined["image_id"]), joined["question"], picked))


def ocrvqa(frame: pd.DataFrame) -> list[dict]:
    train = frame[frame["split"] == "train"]
    return vqa("ocrvqa", ((None, f"ocrvqa/{asin}.jpg", q, a)
                          for asin, q, a in zip(train["asin"], train["question"], train["answer"])))


def gqa(frame: pd.DataFrame) -> list[dict]:
    return vqa("gqa", zip(frame["question_id"], (f"visual_genome/{i}.jpg" for i in frame["image_id"]),
                          frame["question"], frame["full_answer"]))


def textvqa(frame: pd.DataFrame) -> list[dict]:
    return vqa("textvqa", ((None, f"open_images/{i}.jpg", q, most_given(list(a)))
                           for i, q, a in zip(frame["image_id"], frame["question"], frame["answers"])))


# multiple choice ------------------------------------------------------------------------------

AOKVQA_NO_CHOICE = "no correct choice (a test-split record?)"
"""Why an A-OKVQA question makes no record: it has no correct choice (the test split has none)."""


def aokvqa(frame: pd.DataFrame, coco_file: Callable[[int], str]) -> tuple[list[dict], dict[str, int]]:
    """A-OKVQA train; ``coco_file`` names a COCO image by the file that exists
    (``COCO_train2014_…`` or ``COCO_val2014_…``: A-OKVQA's ids are COCO 2017's). A question without
    a correct choice (``correct_choice_idx`` None: a test-split record) makes no record and is
    counted: the records and ``{AOKVQA_NO_CHOICE: count}``."""
    out, no_choice = [], 0
    for qid, image_id, q, choices, correct in zip(frame["question_id"], frame["image_id"], frame["question"],
                                                  frame["choices"], frame["correct_choice_idx"]):
        if correct is None or pd.isna(correct):
            no_choice += 1
            continue
        options = "".join(f"{LETTERS[i]}. {c}\n" for i, c in enumerate(choices))
        out.append(record(f"aokvqa_{qid}", f"coco/{coco_file(int(image_id))}",
                          [(f"{IMAGE}\n{CHOICE_PROMPT.format(question=q)}{options}",
                            f"The correct option is {LETTERS[int(correct)]}.")]))
    return out, {AOKVQA_NO_CHOICE: no_choice}


# grounding ------------------------------------------------------------------------------------

REFCOCO_COLUMNS = ("dataset", "ref_id", "image_id", "split", "sentences", "bbox", "width", "height")


def refcoco_frame(datasets: Sequence[tuple[str, pd.DataFrame, pd.DataFrame, pd.DataFrame]]) -> pd.DataFrame:
    """Every ref of each ``(dataset, refs, images, annotations)`` (``sources.refcoco``) in turn, with
    its box (COCO ``[x, y, w, h]``, pixels) and its image's size; a ref whose annotation or image
    is not in ``instances.json`` is a ValueError naming it."""
    rows = []
    for name, refs, images, anns in datasets:
        sizes = dict(zip(images["id"], zip(images["width"], images["height"])))
        boxes = dict(zip(anns["id"], anns["bbox"]))
        for ref_id, ann_id, image_id, split, sentences in zip(refs["ref_id"], refs["ann_id"], refs["image_id"],
                                                               refs["split"], refs["sentences"]):
            if ann_id not in boxes or image_id not in sizes:
                raise ValueError(f"{name}: ref {ref_id} names annotation {ann_id} / image {image_id}, which "
                                 "instances.json does not hold")
            rows.append((name, int(ref_id), int(image_id), split, list(sentences), list(boxes[ann_id]), *sizes[image_id]))
    return pd.DataFrame(rows, columns=list(REFCOCO_COLUMNS))


def refcoco_samples(refs: pd.DataFrame, *, exclude_eval_images: bool = True
                    ) -> Iterator[tuple[int, str, list[float], int, int]]:
    """(image id, expression, pixel box, width, height) of every expression of the train refs
    (``refcoco_frame``, datasets in its order), leaving out images that any dataset holds in a val
    or test split."""
    eval_images = set(refs.loc[refs["split"] != "train", "image_id"]) if exclude_eval_images else set()
    train = refs[(refs["split"] == "train") & ~refs["image_id"].isin(eval_images)]
    for image_id, sentences, bbox, width, height in zip(train["image_id"], train["sentences"], train["bbox"],
                                                         train["width"], train["height"]):
        for sentence in sentences:
            yield int(image_id), sentence, xywh_to_xyxy(list(bbox)), int(width), int(height)


def refcoco(samples: Iterable[tuple[int, str, list[float], int, int]], kind: str, seed: int,
            space: str = "original") -> list[dict]:
    """``ref3rec`` (REC: the expression in a REC template → ``[box].``) or ``ref3reg`` (REG: the box
    in a REG template → the expression), a template drawn per record with a seeded generator."""
    rng = random.Random(derive_seed(seed, "dataoptim", "ref3", kind))
    out = []
    for n, (image_id, expression, box, width, height) in enumerate(samples):
        text = box_text(place(box, width, height, space))
        turn = (question("REC", expression, rng), f"{text}.") if kind == "REC" else (question("REG", text, rng), expression)
        out.append(record(f"ref3{kind.lower()}_{n}", coco_image(image_id), [turn]))
    return out


_PHRASE = re.compile(r"<ph_st>(.*?)<ph_ed>")


def _boxed(text: str, boxes_seq: Sequence[Sequence[int]], boxes: Sequence[Sequence[float]], size: tuple[int, int],
           space: str) -> str:
    """Shikra's ``<ph_st>phrase<ph_ed>`` marks as ``phrase [box]`` (its boxes, in order of the marks)."""
    groups = iter([] if boxes_seq is None else list(boxes_seq))

    def one(match: re.Match) -> str:
        indices = next(groups, [])
        written = ", ".join(box_text(place(boxes[i], *size, space)) for i in indices)
        return f"{match.group(1)} {written}" if written else match.group(1)

    return _PHRASE.sub(one, text)


def shikra_rd(frame: pd.DataFrame, size_of: Callable[[str], tuple[int, int]], space: str = "original") -> list[dict]:
    """Shikra-RD (``sources.shikra_rd``): the question and its chain of thought with answer, boxes
    written after their phrases; ``size_of`` gives an image's (width, height) by its path here
    (``flickr30k/<file>``: from its header)."""
    out = []
    for n, row in enumerate(frame.itertuples(index=False)):
        size = size_of(f"flickr30k/{row.img_path}")
        human = _boxed(row.question, row.question_boxes_seq, row.boxes, size, space)
        gpt = _boxed(row.cot_with_ans, row.answer_boxes_seq, row.boxes, size, space)
        out.append(record(f"shikra_{n}", f"flickr30k/{row.img_path}", [(f"{IMAGE}\n{human}", gpt)]))
    return out


def boxes_to_square(text: str, width: int, height: int) -> str:
    """Every written box of ``text`` moved into the square space, as DataOptim's expand_to_square.py."""
    for found in dict.fromkeys(BOX_TEXT.findall(text)):
        text = text.replace(found, box_text(square([float(v) for v in found[1:-1].split(", ")], width, height)))
    return text


# GPT-4 generated ------------------------------------------------------------------------------

def llava(records: Iterable[dict]) -> list[dict]:
    """LLaVA-Instruct-150K as it is: ids ``llava_<n>``, images ``coco/COCO_train2014_<file>``."""
    return [{**r, "id": f"llava_{n}", "image": f"coco/COCO_train2014_{r['image']}"} for n, r in enumerate(records)]


def svit(kind: str, frame: pd.DataFrame, size_of: Callable[[str], tuple[int, int]] | None = None,
         space: str = "original") -> tuple[list[dict], int]:
    """One SVIT file (``sources.svit``: image_id, turns) as records ``svit_<kind>_<n>``: turns as
    they are (``user`` → ``human``), ``<image>\\n`` before the first question, referring QA's
    ``<st>``/``<ed>`` marks taken out; detail descriptions that read "It seems like your message is
    empty" dropped (their count is returned; ``<n>`` runs over the records kept). In the square
    space boxes are moved by their image's size (``size_of``, by its path here)."""
    infix, out, empty = SVIT_KINDS[kind], [], 0
    for image_id, turns in zip(frame["image_id"], frame["turns"]):
        if any(SVIT_EMPTY in t["value"] for t in turns if t["from"] == "gpt"):
            empty += 1
            continue
        image = f"visual_genome/{image_id}.jpg"
        conversations = []
        for i, turn in enumerate(turns):
            value = turn["value"].replace("<st>", "").replace("<ed>", "")
            if space == "square":
                value = boxes_to_square(value, *size_of(image))
            speaker = "human" if turn["from"] in ("user", "human") else "gpt"
            conversations.append({"from": speaker, "value": f"{IMAGE}\n{value}" if i == 0 else value})
        out.append({"id": f"svit_{infix}_{len(out)}", "image": image, "conversations": conversations})
    return out, empty

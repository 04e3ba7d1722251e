"""Caption-matching records (mBLIP's "matching" task): does this caption describe the image?

Half the records show the image's own caption (answer yes), half a caption of another image
(answer no): a hard negative, one of the captions a similarity resource ranks nearest, or a random one.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

import pandas as pd

from mmassets.records import TaskRecords
from mmassets.seeding import derive_seed
from mmassets.tasks.captions import clean_caption
from mmassets.tasks.similarity import CaptionSimilarity, text_key

MATCH_TEMPLATES: tuple[tuple[str, str, str], ...] = (
    ('Does the caption "{caption}" describe the image?', "Yes, it does.", "No, it does not."),
    ('Is this a good description of the image? "{caption}"', "Yes", "No"),
    ("Caption: {caption} Does the caption match the picture? Answer yes or no.", "yes", "no"),
    ('Does "{caption}" fit this image?', "Yes, it fits.", "No, it does not fit."),
    ('Would "{caption}" be a correct caption for this picture?', "Yes", "No"),
    ("Is the following sentence true for the image? {caption}", "Yes, it is true.", "No, it is not."),
    ('Look at the image. Is "{caption}" an accurate description of it?', "Yes", "No"),
    ("{caption}\nDoes this text describe the image? Answer yes or no.", "yes", "no"),
    ('Can the image be described as "{caption}"?', "Yes, it can.", "No, it cannot."),
    ('Decide whether the caption matches the image. Caption: "{caption}"', "It matches.", "It does not match."),
)
"""``(question with {caption}, yes answer, no answer)``; a record keeps its template's index."""

COLUMNS = ("context", "label", "image_id", "caption", "template", "match", "negative", "similarity")


def matching_records(captions: pd.DataFrame, similarity: CaptionSimilarity, seed: int, *,
                     hard_share: float = 0.5, k: int = 10,
                     templates: Sequence[tuple[str, str, str]] = MATCH_TEMPLATES,
                     progress: Callable[[int, int], None] | None = None) -> TaskRecords:
    """One record per non-blank caption row (columns ``image_id``, ``caption``), in input order.

    A seeded shuffle orders the rows; the first ``n // 2`` that can be negatives become negatives,
    the other ``n - n // 2`` positives, so the labels are exactly balanced. A negative shows a caption
    that is not a caption of the row's image, neither by row nor by text (``text_key``): a row can be
    a negative when such a caption exists; if fewer than ``n // 2`` rows can (a single image, say),
    there is no balanced set and this raises ValueError. A negative row shows, with probability
    ``hard_share``, a seeded choice among its ``k`` nearest captions under ``similarity`` (queried for
    those rows only); otherwise, or when the resource finds none, a uniformly random such caption.
    Columns: ``COLUMNS``; blank captions are dropped and counted. ``progress(done, total)`` follows
    the similarity queries (the long part on a large corpus).
    """
    texts, images, blank = _kept_captions(captions)
    keys = [text_key(t) for t in texts]
    image_keys: dict[str, set[str]] = defaultdict(set)
    for image, key in zip(images, keys):
        image_keys[image].add(key)
    negatives = _negative_rows(images, keys, image_keys, seed)
    hard = _hard_rows(negatives, hard_share, seed)
    report = (lambda done: progress(done, len(hard))) if progress else None
    neighbours = dict(zip(hard, similarity.nearest(texts, images, k, rows=hard, progress=report))) if hard else {}
    shown, kinds = _shown_rows(negatives, {i: top[:k] for i, top in neighbours.items()},
                               [image_keys[image] for image in images], keys, seed)
    template_rng = random.Random(derive_seed(seed, "templates"))
    chosen = [template_rng.randrange(len(templates)) for _ in texts]
    frame = pd.DataFrame({
        "caption": pd.Series([texts[j] for j in shown], dtype=object),
        "template": pd.Series(chosen, dtype="int64"),
        "match": pd.Series([kind is None for kind in kinds], dtype=bool),
    })
    frame.insert(0, "context", render_matching(frame, templates))
    answers = [templates[t][1 if kind is None else 2] for t, kind in zip(chosen, kinds)]
    frame.insert(1, "label", pd.Series(answers, dtype=object))
    frame.insert(2, "image_id", pd.Series(images, dtype=object))
    frame["negative"] = pd.Series(kinds, dtype=object)
    frame["similarity"] = pd.Series([similarity.name if kind == "hard" else None for kind in kinds], dtype=object)
    return TaskRecords(frame, {"blank caption": blank})


def render_matching(frame: pd.DataFrame, templates: Sequence[tuple[str, str, str]] = MATCH_TEMPLATES) -> pd.Series:
    """Each record's question: its ``template`` filled with its ``caption`` (re-run after the captions
    are translated; labels do not change)."""
    return pd.Series([templates[t][0].format(caption=c) for t, c in zip(frame["template"], frame["caption"])],
                     index=frame.index, dtype=object)


def _kept_captions(captions: pd.DataFrame) -> tuple[list[str], list[str], int]:
    """The cleaned non-blank captions, their image ids, and how many captions were blank (or missing)."""
    cleaned = captions["caption"].map(lambda c: clean_caption(c) if isinstance(c, str) else "")
    kept = (cleaned != "").to_numpy()
    return cleaned[kept].tolist(), captions["image_id"][kept].astype(str).tolist(), int((~kept).sum())


def _negative_rows(images: list[str], keys: list[str], image_keys: dict[str, set[str]], seed: int) -> list[int]:
    """The ``n // 2`` rows, ascending, to show a caption of another image; see ``matching_records``."""
    n = len(images)
    order = list(range(n))
    random.Random(derive_seed(seed, "labels")).shuffle(order)
    key_count = Counter(keys)
    # the rows whose text is one of the image's texts include all the image's rows
    others = {image: n - sum(key_count[key] for key in own) for image, own in image_keys.items()}
    possible = [i for i in order if others[images[i]] > 0]
    if len(possible) < n // 2:
        raise ValueError(
            f"caption matching needs {n // 2} negatives but only {len(possible)} of {n} captions have a caption "
            "of another image, with a text none of their image's captions has, to pair with (a corpus with a "
            "single image cannot make negatives)")
    return sorted(possible[:n // 2])


def _hard_rows(negatives: list[int], hard_share: float, seed: int) -> list[int]:
    """The negative rows that ask for a hard negative, each with probability ``hard_share``."""
    rng = random.Random(derive_seed(seed, "hard"))
    return [i for i in negatives if rng.random() < hard_share]


def _shown_rows(negatives: list[int], neighbours: dict[int, list[int]], own_keys: list[set[str]],
                keys: list[str], seed: int) -> tuple[list[int], list[str | None]]:
    """For each row, the row whose caption it shows (its own unless a negative) and its kind of negative:
    "hard" (a seeded choice among its ``neighbours``), "random" (when it has none) or None."""
    picks = random.Random(derive_seed(seed, "negatives"))
    shown, kinds = list(range(len(keys))), [None] * len(keys)
    for i in negatives:
        if neighbours.get(i):
            shown[i], kinds[i] = picks.choice(neighbours[i]), "hard"
        else:
            shown[i], kinds[i] = _random_negative(own_keys[i], keys, picks), "random"
    return shown, kinds


def _random_negative(own: set[str], keys: list[str], rng: random.Random) -> int:
    """A uniformly random row whose text is not in ``own``, the texts of the row's image (so not a row
    of that image either); one exists."""
    for _ in range(32):  # almost always the first draw; the fallback below is uniform over the same set
        j = rng.randrange(len(keys))
        if keys[j] not in own:
            return j
    return rng.choice([j for j, key in enumerate(keys) if key not in own])

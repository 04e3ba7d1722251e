"""Tests for the caption similarity resources: TF-IDF neighbours, exclusions, batching, CLIP wiring."""

from __future__ import annotations

import random
import sys
import types
from pathlib import Path

import pytest
from PIL import Image

from mmassets.tasks.similarity import ClipSimilarity, TfidfSimilarity, text_key

BEACH = [
    "a dog runs on the beach",        # 0
    "a dog running along the beach",  # 1
    "a red bus parked in the city",   # 2
    "two cats sleeping on a sofa",    # 3
    "a red bus driving through the city streets",  # 4
]


def test_text_key() -> None:
    assert text_key("  A Dog\nruns on the  BEACH. ") == "a dog runs on the beach"
    assert text_key("A dog runs on the beach") == text_key("a dog runs on the beach.")
    assert text_key("A dog runs.") != text_key("A dog ran.")


def test_the_obviously_similar_caption_comes_first() -> None:
    top = TfidfSimilarity().nearest(BEACH, ["0", "1", "2", "3", "4"], k=2)
    assert top == [[1], [0], [4], [], [2]]  # only captions sharing a word rank; "cats sofa" shares none


def test_captions_of_the_same_image_are_excluded_by_row_and_by_text() -> None:
    captions = [
        "a dog runs on the beach",          # 0 image a
        "a dog runs on the sandy beach",    # 1 image a: nearest to 0, but the same image
        "A dog runs on the beach.",         # 2 image b: the same text as 0
        "a dog running along the beach",    # 3 image c
        "a dog sleeping on a sofa",         # 4 image d
        "a dog runs on the sandy beach",    # 5 image e: the same text as 1, so a caption of image a
    ]
    top = TfidfSimilarity().nearest(captions, ["a", "a", "b", "c", "d", "e"], k=3)
    assert top[0] == [3, 4] and top[1] == [3, 4]
    assert top[2] == [1, 5, 3]  # 1 and 5 tie (the same text): the lower index first
    assert top[5] == [0, 2, 3]  # image e's only text is 1's, so image a's other caption may show


def test_correct_when_the_whole_top_is_excluded() -> None:
    # twelve near-copies of one image outrank everything else for each other
    same = [f"a brown dog runs on the sandy beach near the water number {i}" for i in range(12)]
    others = ["a brown dog on the beach", "a brown horse on a field", "a city bus at night"]
    captions = same + others
    images = ["a"] * 12 + ["b", "c", "d"]
    top = TfidfSimilarity().nearest(captions, images, k=2)
    assert all(row == [12, 13] for row in top[:12])


def test_ties_go_to_the_lower_index() -> None:
    captions = ["cat", "cat dog", "cat bird", "cat fish"]
    assert TfidfSimilarity().nearest(captions, ["a", "b", "c", "d"], k=2)[0] == [1, 2]
    assert TfidfSimilarity().nearest(captions[:1] + captions[:0:-1], ["a", "b", "c", "d"], k=3)[0] == [1, 2, 3]


def _corpus(n: int) -> tuple[list[str], list[str]]:
    rng = random.Random(0)
    words = ["dog", "cat", "beach", "street", "red", "bus", "running", "sitting", "sofa", "field", "man", "kite"]
    captions = [" ".join(rng.choice(words) for _ in range(rng.randint(2, 6))) for _ in range(n)]
    return captions, [f"img{i // 3}" for i in range(n)]  # three captions per image, duplicates across images


def test_batching_and_row_subsets_give_the_same_answer() -> None:
    captions, images = _corpus(90)
    whole = TfidfSimilarity(batch_size=1024).nearest(captions, images, k=5)
    assert TfidfSimilarity(batch_size=1).nearest(captions, images, k=5) == whole
    assert TfidfSimilarity(batch_size=7).nearest(captions, images, k=5) == whole
    rows = [5, 0, 89, 44, 5]
    assert TfidfSimilarity(batch_size=2).nearest(captions, images, k=5, rows=rows) == [whole[i] for i in rows]
    for i, row in enumerate(whole):
        assert len(row) == 5 and i not in row
        assert all(images[j] != images[i] and text_key(captions[j]) != text_key(captions[i]) for j in row)


def test_degenerate_inputs() -> None:
    sim = TfidfSimilarity()
    assert sim.nearest(BEACH, list("01234"), k=0) == [[]] * 5
    assert sim.nearest(["a", "b"], ["x", "y"], k=3) == [[], []]  # no word of two letters: no vocabulary
    assert sim.nearest(BEACH, list("01234"), k=3, rows=[]) == []
    with pytest.raises(IndexError):
        sim.nearest(BEACH, list("01234"), k=3, rows=[5])


def test_clip_says_how_to_install_open_clip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "open_clip", None)  # import open_clip now raises ImportError
    with pytest.raises(ImportError, match="pip install open_clip_torch") as error:
        ClipSimilarity(image_path=Path)
    assert "torchvision" in str(error.value) and "TfidfSimilarity" in str(error.value)


COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "purple": (255, 0, 255)}


def fake_open_clip(opened: list[tuple[int, ...]]) -> types.ModuleType:
    """An open_clip stand-in: an image embeds as its mean RGB, a text as counts of red/green/blue."""
    import torch

    class Model:
        def eval(self) -> Model:
            return self

        def encode_image(self, images: torch.Tensor) -> torch.Tensor:
            return images

        def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
            return tokens

    def preprocess(picture: Image.Image) -> torch.Tensor:
        opened.append(picture.getpixel((0, 0)))
        return torch.tensor(picture.getpixel((0, 0)), dtype=torch.float32) / 255

    def tokenizer(texts: list[str]) -> torch.Tensor:
        return torch.tensor([[float(t.split().count(c)) for c in ("red", "green", "blue")] for t in texts])

    module = types.ModuleType("open_clip")
    module.create_model_and_transforms = lambda name, pretrained, device: (Model(), None, preprocess)
    module.get_tokenizer = lambda name: tokenizer
    return module


def test_clip_ranks_captions_against_the_image(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, colour in COLOURS.items():
        Image.new("RGB", (4, 4), colour).save(tmp_path / f"{name}.png")
    opened: list[tuple[int, ...]] = []
    monkeypatch.setitem(sys.modules, "open_clip", fake_open_clip(opened))
    clip = ClipSimilarity(image_path=lambda image_id: tmp_path / f"{image_id}.png", device="cpu", batch_size=2)
    assert clip.name == "clip:ViT-B-32:openai"
    captions = ["red", "green", "red blue", "red", "blue"]
    images = ["red", "green", "purple", "purple", "green"]
    top = clip.nearest(captions, images, k=3, rows=[0, 2, 3])
    # row 0 (red image): row 3 has its text; row 2 is half red; rows 1 and 4 tie at 0, lower first
    # rows 2, 3 (purple image, captions "red blue" and "red"): row 0 has one of its texts; blue beats green
    assert top == [[2, 1, 4], [4, 1], [4, 1]]
    assert sorted(opened) == [(255, 0, 0), (255, 0, 255)]  # each queried image encoded once
    named = ClipSimilarity(image_path=Path, pretrained="/models/clip/epoch_32.pt")
    assert named.name == "clip:ViT-B-32:epoch_32.pt"


def test_progress_counts_the_queried_rows_batch_by_batch():
    captions = [f"a dog number {i} runs on the beach" for i in range(10)]
    seen = []
    TfidfSimilarity(batch_size=4).nearest(captions, [str(i) for i in range(10)], k=2, rows=range(9),
                                          progress=seen.append)
    assert seen == [4, 8, 9]

"""Grounding boxes as DataOptim writes them, to the digit: normalised by the original image,
clamped, three decimals, ", " between; and the expand-to-square space of LLaVA-1.5's padding."""

import json

import pytest

from mmassets.dataoptim.boxes import box_text, normalise, place, square, xywh_to_xyxy
from mmassets.dataoptim.convert import boxes_to_square
from mmassets.dataoptim.templates import FOLDER, PLACEHOLDERS, TemplateError, check, load


def test_a_coco_box_is_written_as_in_dataoptims_files():
    box = xywh_to_xyxy([0, 50.88, 529.28, 429.12])  # the example's ref3rec_287603 on a 640x480 image
    assert box_text(normalise(box, 640, 480)) == "[0.0, 0.106, 0.827, 1.0]"
    assert normalise([-5, -1, 700, 500], 640, 480) == [0.0, 0.0, 1.0, 1.0]  # clamped
    assert box_text([0.5, 0.25, 1, 0.1234]) == "[0.5, 0.25, 1.0, 0.1234]"
    with pytest.raises(ValueError, match="positive"):
        normalise([0, 0, 1, 1], 0, 10)


@pytest.mark.parametrize("box, width, height, expected", [
    ([0.0, 0.106, 0.827, 1.0], 640, 480, [0.0, 0.205, 0.827, 0.875]),  # wide: shifted down by 80 px
    ([0.1, 0.2, 0.5, 0.9], 480, 640, [0.2, 0.2, 0.5, 0.9]),            # tall: shifted right by 80 px
    ([0.1, 0.2, 0.5, 0.9], 500, 500, [0.1, 0.2, 0.5, 0.9]),            # square: unchanged
])
def test_the_square_space_follows_dataoptims_expand_to_square(box, width, height, expected):
    assert square(box, width, height) == expected


def test_place_chooses_the_space_and_text_boxes_move_together():
    pixels = xywh_to_xyxy([0, 50.88, 529.28, 429.12])
    assert place(pixels, 640, 480, "original") == [0.0, 0.106, 0.827, 1.0]
    assert place(pixels, 640, 480, "square") == [0.0, 0.205, 0.827, 0.875]
    with pytest.raises(ValueError, match="original, square"):
        place(pixels, 640, 480, "padded")
    text = "The sign [0.0, 0.106, 0.827, 1.0] is above the clock [0.0, 0.106, 0.827, 1.0]."
    assert boxes_to_square(text, 640, 480) == "The sign [0.0, 0.205, 0.827, 0.875] is above the clock [0.0, 0.205, 0.827, 0.875]."


def test_shikras_templates_ship_checked():
    assert (len(load("REC")), len(load("REG"))) == (54, 125)
    assert load("REG")[0] == "For the given image <image>, can you provide a unique description of the area <objs>?"
    assert (FOLDER / "SOURCE.md").is_file()
    for kind, placeholder in PLACEHOLDERS.items():
        assert all(t.count("<image>") == 1 and t.count(placeholder) == 1 for t in load(kind))
        assert json.loads((FOLDER / f"{kind}.json").read_text(encoding="utf-8")) == list(load(kind))
    with pytest.raises(TemplateError, match="template 1: needs exactly one <image> and one <expr>"):
        check(["Where is <expr> <image>?", "Where is <expr> <expr> <image>?"], "REC", "mine.json")

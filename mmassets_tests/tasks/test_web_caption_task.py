"""mBLIP's web-caption task: the sample and its image names, the English records, the instruction slots."""

import pandas as pd

from mmassets.tasks.instructions import rotate
from mmassets.tasks.web_captions import (WEB_CAPTION_INSTRUCTIONS, instruction_list, select_sample,
                                         web_caption_records)


def _captions(n: int, released: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame({"url": [f"https://x.org/{i}.jpg" for i in range(n)],
                          "caption": [f"  a kite   number {i} " for i in range(n)]})
    return frame.assign(image_id=[f"{7 * i:08d}.jpg" for i in range(n)]) if released else frame


def test_a_concept_draw_selects_the_union_in_source_order_named_by_position():
    sample = select_sample(_captions(10), [[7, 2], [2, 5], []])
    assert sample["source_index"].tolist() == [2, 5, 7]
    assert sample["image_id"].tolist() == ["00000000.jpg", "00000001.jpg", "00000002.jpg"]  # mBLIP: by position
    assert sample["url"].tolist() == ["https://x.org/2.jpg", "https://x.org/5.jpg", "https://x.org/7.jpg"]


def test_the_released_sample_keeps_every_entry_and_its_own_names():
    sample = select_sample(_captions(4, released=True), None)
    assert sample["source_index"].tolist() == [0, 1, 2, 3]
    assert sample["image_id"].tolist() == ["00000000.jpg", "00000007.jpg", "00000014.jpg", "00000021.jpg"]


def test_records_keep_only_captions_whose_image_was_downloaded():
    sample = select_sample(_captions(5), [[0, 1, 2, 3, 4]])
    sample.loc[3, "caption"] = "   "
    built = web_caption_records(sample, {"00000000.jpg", "00000002.jpg", "00000003.jpg"}, seed=1)
    assert built.frame["image_id"].tolist() == ["00000000.jpg", "00000002.jpg"]
    assert built.frame["label"].tolist() == ["a kite number 0", "a kite number 2"]  # whitespace collapsed
    assert built.frame["source_id"].tolist() == [0, 2]
    assert set(built.frame["context"]) <= set(WEB_CAPTION_INSTRUCTIONS)
    assert built.skipped == {"no image downloaded": 2, "blank caption": 1}
    assert built.frame.equals(web_caption_records(sample, {"00000000.jpg", "00000002.jpg", "00000003.jpg"}, 1).frame)


def test_instruction_slots_name_the_language_then_its_kept_translations():
    german = instruction_list("German", ["Beschreibe das Bild.", "Kurze image caption: ", "", "Fasse das Bild zusammen."])
    assert german[:6] == ["Caption the image in German.", "Short German image caption: ", "Image caption (in German): ",
                          "Briefly describe the image in German.", "Write a short German image description.",
                          "Summarize the image in German."]
    assert german[6:] == ["Beschreibe das Bild.", "Fasse das Bild zusammen."]  # "image caption" and empty dropped
    english = instruction_list("English", None)
    assert len(english) == 11 and english[6:] == list(WEB_CAPTION_INSTRUCTIONS)


def test_records_of_a_language_cycle_its_slots_in_order():
    slots = pd.DataFrame({"language": "de", "instruction": instruction_list("German", ["Beschreibe das Bild."])})
    records = pd.DataFrame({"language": ["de"] * 9})
    contexts = rotate(records, slots).tolist()
    assert contexts[0] == "Caption the image in German." and contexts[6] == "Beschreibe das Bild."
    assert contexts[7] == contexts[0] and contexts[8] == contexts[1]

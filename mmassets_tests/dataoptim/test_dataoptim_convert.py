"""Each DataOptim converter on hand-made upstream rows, with the exact records expected: ids,
prompts, answers, image paths and boxes to the digit, compared with DataOptim's own example records
(its example-byod.json) where the example has one."""


import pandas as pd
import pytest

from mmassets.dataoptim import convert
from mmassets.dataoptim.templates import load


def human(record):
    return record["conversations"][0]["value"]


def gpt(record):
    return record["conversations"][1]["value"]


def test_captions_one_record_per_caption_with_a_seeded_prompt():
    karpathy = pd.DataFrame({"split": ["test", "train", "restval", "train"],
                             "filename": ["COCO_val2014_000000391895.jpg", "COCO_train2014_000000318556.jpg",
                                          "COCO_val2014_000000000042.jpg", "COCO_train2014_000000000009.jpg"],
                             "captions": [["x"], ["A very clean and well decorated empty bathroom", "A bathroom."],
                                          ["y"], ["Food."]]})
    records = convert.karpathy_captions("coco", karpathy, "coco", seed=0)
    assert [r["id"] for r in records] == ["coco_0", "coco_1", "coco_2"]  # Karpathy train only, every caption
    assert records[0]["image"] == "coco/COCO_train2014_000000318556.jpg"
    assert gpt(records[0]) == "A very clean and well decorated empty bathroom"
    assert all(human(r).startswith("<image>\n") and human(r)[8:] in convert.CAPTION_PROMPTS for r in records)
    assert records == convert.karpathy_captions("coco", karpathy, "coco", seed=0)
    prompts = {human(r) for seed in range(20) for r in convert.karpathy_captions("coco", karpathy, "coco", seed)}
    assert len(prompts) == 5  # all five prompts are drawn
    flickr = pd.DataFrame({"split": ["train"], "filename": ["1000092795.jpg"], "captions": [[
        "Two young guys with shaggy hair look at their hands while hanging out in the yard ."]]})
    (first,) = convert.karpathy_captions("flickr30k", flickr, "flickr30k", seed=0)
    assert (first["id"], first["image"], gpt(first)) == (
        "flickr30k_0", "flickr30k/1000092795.jpg",
        "Two young guys with shaggy hair look at their hands while hanging out in the yard .")
    (caps,) = convert.textcaps(pd.DataFrame({"image_id": ["011e7e629fb9ae7b"],
                                             "caption": ["Five Listerine Zero mouthwash bottles on a store shelf"]}), 0)
    assert (caps["id"], caps["image"]) == ("textcaps_0", "open_images/011e7e629fb9ae7b.jpg")


def test_open_ended_vqa_as_in_dataoptims_example():
    joined = pd.DataFrame({"question_id": [524286005], "image_id": [524286], "question": ["Is that a laptop?"],
                           "multiple_choice_answer": ["yes"], "answers": [[{"answer": "no"}]]})
    assert convert.vqav2(joined) == [{"id": "vqav2_524286005", "image": "coco/COCO_train2014_000000524286.jpg",
                                      "conversations": [
        {"from": "human", "value": "<image>\nIs that a laptop? Answer the question directly with a short sentence or phrase."},
        {"from": "gpt", "value": "yes"}]}]
    okvqa = pd.DataFrame({"question_id": [5227415], "image_id": [522741], "question": ["For what meal is the food consumed?"],
                          "answers": [[{"answer": "lunch"}, {"answer": "breakfast"}, {"answer": "breakfast"}]]})
    (ok,) = convert.vqav2(okvqa, source="okvqa")
    assert (ok["id"], gpt(ok)) == ("okvqa_5227415", "breakfast")  # no multiple_choice_answer: the most given
    ocr = pd.DataFrame({"asin": ["0000000001", "1400013011", "1400013011"], "question": ["q?", "Is this book related to Law?", "Who?"],
                        "answer": ["a", "No", "Ann"], "split": ["val", "train", "train"]})
    assert [(r["id"], r["image"], gpt(r)) for r in convert.ocrvqa(ocr)] == [
        ("ocrvqa_0", "ocrvqa/1400013011.jpg", "No"), ("ocrvqa_1", "ocrvqa/1400013011.jpg", "Ann")]
    gqa = pd.DataFrame({"question_id": ["05145757"], "image_id": ["2327022"], "question": ["Who wears a shirt?"],
                        "answer": ["player"], "full_answer": ["The player wears a shirt."]})
    (g,) = convert.gqa(gqa)
    assert (g["id"], g["image"], gpt(g)) == ("gqa_05145757", "visual_genome/2327022.jpg", "The player wears a shirt.")
    text = pd.DataFrame({"image_id": ["03b2dbb7dff0e32d"], "question": ["what brand of wine is this?"],
                         "answers": [["garraud", "chateau garraud", "chateau garraud", "garraud chateau"]]})
    (t,) = convert.textvqa(text)
    assert (t["id"], t["image"], gpt(t)) == ("textvqa_0", "open_images/03b2dbb7dff0e32d.jpg", "chateau garraud")
    assert convert.most_given(["a", "b", "b", "a"]) == "a"  # a tie goes to the first given


def test_multiple_choice_names_the_coco_file_that_exists():
    frame = pd.DataFrame({"question_id": ["dQbC9HGBPG3RCvpPWE4cWG"], "image_id": [133042],
                          "question": ["Which player has the higher jersey number?"],
                          "choices": [["baserunner", "pitcher", "goalie", "quarterback"]], "correct_choice_idx": [1]})
    (r,), skipped = convert.aokvqa(frame, lambda image_id: f"COCO_val2014_{image_id:012d}.jpg")
    assert skipped == {"no correct choice (a test-split record?)": 0}
    assert r == {"id": "aokvqa_dQbC9HGBPG3RCvpPWE4cWG", "image": "coco/COCO_val2014_000000133042.jpg", "conversations": [
        {"from": "human", "value": "<image>\nChoose the correct option for the following question: Which player has the "
                                   "higher jersey number?\nA. baserunner\nB. pitcher\nC. goalie\nD. quarterback\n"},
        {"from": "gpt", "value": "The correct option is B."}]}


def test_multiple_choice_counts_questions_without_a_correct_choice():
    """The defect: a test-split record (no correct_choice_idx) crashed the converter with a TypeError."""
    frame = pd.DataFrame({"question_id": ["q1", "q2", "q3"], "image_id": [1, 2, 3], "question": ["A?", "B?", "C?"],
                          "choices": [["x", "y"], ["x", "y"], ["x", "y"]], "correct_choice_idx": [None, 1, float("nan")]},
                         dtype=object)
    records, skipped = convert.aokvqa(frame, lambda image_id: f"COCO_train2014_{image_id:012d}.jpg")
    assert [r["id"] for r in records] == ["aokvqa_q2"] and records[0]["conversations"][1]["value"] == "The correct option is B."
    assert skipped == {convert.AOKVQA_NO_CHOICE: 2}
    assert len(records) + sum(skipped.values()) == len(frame)


def _refs_only():
    return pd.DataFrame({"ref_id": [1], "ann_id": [10], "image_id": [544238], "split": ["train"], "sentences": [["x"]]})


def _refcoco():
    refs = pd.DataFrame({"ref_id": [1, 2, 3], "ann_id": [10, 11, 12], "image_id": [544238, 9, 7], "category_id": [1, 1, 1],
                         "split": ["train", "train", "val"],
                         "sentences": [["a girl baseball player", "girl"], ["bowl"], ["dog"]]})
    images = pd.DataFrame({"id": [544238, 9, 7], "file_name": ["a", "b", "c"], "width": [640, 640, 640],
                           "height": [480, 480, 480]})
    annotations = pd.DataFrame({"id": [10, 11, 12], "image_id": [544238, 9, 7], "category_id": [1, 1, 1],
                                "bbox": [[0, 50.88, 529.28, 429.12], [64, 48, 64, 48], [0, 0, 1, 1]]})
    other = refs.assign(split=["train", "testA", "train"], sentences=[["catcher"], ["b"], ["the dog"]])
    return convert.refcoco_frame([("refcoco", refs, images, annotations), ("refcoco+", other, images, annotations)])


def test_refcoco_rec_and_reg_with_shikras_templates_and_boxes_to_the_digit():
    samples = list(convert.refcoco_samples(_refcoco()))
    # the train refs of each dataset in turn, one per expression, without any dataset's val/test images (7, 9)
    assert [(i, e) for i, e, *_ in samples] == [(544238, "a girl baseball player"), (544238, "girl"), (544238, "catcher")]
    rec = convert.refcoco(samples, "REC", seed=0)
    assert [r["id"] for r in rec] == ["ref3rec_0", "ref3rec_1", "ref3rec_2"]
    assert rec[0]["image"] == "coco/COCO_train2014_000000544238.jpg" and gpt(rec[0]) == "[0.0, 0.106, 0.827, 1.0]."
    templates = {t.replace("<expr>", "a girl baseball player") for t in load("REC")}
    assert human(rec[0]) in templates and "<image>" in human(rec[0]) and not human(rec[0]).startswith("<image>\n")
    reg = convert.refcoco(samples, "REG", seed=0)
    assert gpt(reg[0]) == "a girl baseball player"
    assert human(reg[0]) in {t.replace("<objs>", "[0.0, 0.106, 0.827, 1.0]") for t in load("REG")}
    square = convert.refcoco(samples, "REC", seed=0, space="square")
    assert gpt(square[0]) == "[0.0, 0.205, 0.827, 0.875]." and human(square[0]) == human(rec[0])
    everything = list(convert.refcoco_samples(_refcoco(), exclude_eval_images=False))
    with pytest.raises(ValueError, match="refcoco: ref 1 names annotation 10 / image 544238"):
        convert.refcoco_frame([("refcoco", _refs_only(), pd.DataFrame(columns=["id", "width", "height"]),
                                pd.DataFrame(columns=["id", "bbox"]))])
    assert [e for _, e, *_ in everything] == ["a girl baseball player", "girl", "bowl", "catcher", "the dog"]


def test_shikra_rd_writes_boxes_after_their_phrases():
    frame = pd.DataFrame({"img_path": ["918545497.jpg"], "boxes": [[[0, 0, 320, 240], [320, 240, 640, 480]]],
                          "question": ["What is <ph_st>the man<ph_ed> holding?"], "question_boxes_seq": [[[0]]],
                          "answer": ["a kite"],
                          "cot_with_ans": ["<ph_st>The man<ph_ed> holds <ph_st>a kite<ph_ed>. So the answer is a kite."],
                          "answer_boxes_seq": [[[0], [0, 1]]]})
    (r,) = convert.shikra_rd(frame, lambda path: (640, 480))
    assert r == {"id": "shikra_0", "image": "flickr30k/918545497.jpg", "conversations": [
        {"from": "human", "value": "<image>\nWhat is the man [0.0, 0.0, 0.5, 0.5] holding?"},
        {"from": "gpt", "value": "The man [0.0, 0.0, 0.5, 0.5] holds a kite [0.0, 0.0, 0.5, 0.5], [0.5, 0.5, 1.0, 1.0]. "
                                 "So the answer is a kite."}]}


def test_llava_and_svit_are_kept_as_they_are_and_svits_empty_descriptions_dropped():
    llava = [{"id": "000000163917", "image": "000000163917.jpg", "conversations": [
        {"from": "human", "value": "How could someone make a similar arrangement?\n<image>"}, {"from": "gpt", "value": "..."}]}]
    (r,) = convert.llava(llava)
    assert r["id"] == "llava_0" and r["image"] == "coco/COCO_train2014_000000163917.jpg"
    assert r["conversations"] == llava[0]["conversations"]  # the prompt unchanged, <image> where it was
    detail = pd.DataFrame({"image_id": [1, 30, 2], "turns": [
        [{"from": "user", "value": "Kindly provide a meticulous commentary on the image."}, {"from": "gpt", "value": "A street."}],
        [{"from": "user", "value": "Describe."}, {"from": "gpt", "value": "It seems like your message is empty. How can I assist you today?"}],
        [{"from": "user", "value": "Describe."}, {"from": "gpt", "value": "A park."}]]})
    records, empty = convert.svit("detail_description", detail)
    assert empty == 1 and [r["id"] for r in records] == ["svit_detail_0", "svit_detail_1"]
    assert records[0] == {"id": "svit_detail_0", "image": "visual_genome/1.jpg", "conversations": [
        {"from": "human", "value": "<image>\nKindly provide a meticulous commentary on the image."},
        {"from": "gpt", "value": "A street."}]}
    referring = pd.DataFrame({"image_id": [1], "turns": [[
        {"from": "user", "value": "Which is higher, <st>the clock<ed> [0.526, 0.152, 0.625, 0.717] or the sign?"},
        {"from": "gpt", "value": "<st>The sign<ed> [0.147, 0.022, 0.258, 0.325]."}]]})
    (ref,), _ = convert.svit("referring_qa", referring)
    assert human(ref) == "<image>\nWhich is higher, the clock [0.526, 0.152, 0.625, 0.717] or the sign?"
    (sq,), _ = convert.svit("referring_qa", referring, size_of=lambda image: (800, 600), space="square")
    assert gpt(sq) == "The sign [0.147, 0.141, 0.258, 0.369]."  # 113 / 800 = 0.14125, which Python rounds to 0.141

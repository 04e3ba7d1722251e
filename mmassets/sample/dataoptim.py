"""Sample inputs of DataOptim's sources not sampled elsewhere, in their publishers' formats (COCO
Karpathy, VQAv2, A-OKVQA and LLaVA's 58k/23k files come from their own generators):

- ``flickr30k/dataset_flickr30k.json`` (Karpathy) and ``flickr30k/images/``;
- ``textcaps/TextCaps_0.1_train.json``, ``textvqa/TextVQA_0.5.1_train.json`` (``{"data": [...]}``)
  with their Open Images JPEGs;
- ``okvqa/OpenEnded_mscoco_train2014_questions.json`` and ``mscoco_train2014_annotations.json``
  (VQA format, on the COCO sample's train2014 images);
- ``ocr_vqa/dataset.json`` (by ASIN, split 1 = train, 2 = val) and ``ocr_vqa/images/``;
- ``gqa/train_balanced_questions.json`` (by question id, leading zeros) and ``gqa/images/``;
- ``refcoco/<dataset>/refs(<split_by>).p`` (a protocol-2 pickle of ref dicts, as refer's cPickle
  wrote them) and ``instances.json`` for RefCOCO (unc), RefCOCO+ (unc) and RefCOCOg (umd), on the
  COCO sample's images, one image in a val split;
- ``shikra/GPT4GEN_RD_BoxCoT_train.jsonl`` (Shikra-RD) on the Flickr30K images;
- ``svit/{conversation,complex_reasoning,detail_description,referring_qa}.json`` (SVIT's own
  records, ``user``/``gpt`` turns) on ``vg/VG_100K/`` images, one detail description that reads
  "It seems like your message is empty";
- ``llava/llava_instruct_150k.json`` (LLaVA-Instruct-150K, COCO file names without a prefix);
- ``dataoptim/submissions/``: a standard id list and a BYOD file, as a participant sends them.
"""

from __future__ import annotations

import json
import pickle
import random
from pathlib import Path

from PIL import Image

from mmassets.sample.images import write_jpeg

SIZE = (64, 48)
SUBMISSION_IDS = ("coco_0", "flickr30k_1", "gqa_00000002", "coco_0", "ref3rec_0", "svit_detail_0", "textvqa_1")
"""The sample's standard submission: ids of several sources, one of them twice."""


def _json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _flickr(raw: Path, image) -> None:
    captions = [["Two young guys with shaggy hair look at their hands while hanging out in the yard .",
                 "Two young men outside ."], ["A black dog runs across the grass .", "A dog running ."],
                ["A child in a pink dress climbs stairs .", "A girl going into a building ."],
                ["A man sleeps on a bench .", "Someone resting outside ."]]
    images = []
    for i, (caps, split) in enumerate(zip(captions, ["train", "train", "train", "val"])):
        name = f"{1000092795 + i}.jpg"
        image(f"flickr30k/images/{name}")
        images.append({"sentids": [2 * i, 2 * i + 1], "imgid": i, "sentences": [
            {"tokens": c.lower().split(), "raw": c, "imgid": i, "sentid": 2 * i + j} for j, c in enumerate(caps)],
            "split": split, "filename": name})
    _json(raw / "flickr30k" / "dataset_flickr30k.json", {"images": images, "dataset": "flickr30k"})


def _text(raw: Path, image) -> None:
    ids = ["011e7e629fb9ae7b", "03b2dbb7dff0e32d", "0a0bc91825468c45"]
    for i in ids:
        image(f"textcaps/train_images/{i}.jpg")
        image(f"textvqa/train_images/{i}.jpg")
    captions = ["Five Listerine Zero mouthwash bottles on a store shelf", "A bottle of Chateau Garraud red wine",
                "A bottle of wine on a table", "A sign that says OPEN"]
    _json(raw / "textcaps" / "TextCaps_0.1_train.json", {"dataset_type": "train", "dataset_name": "textcaps",
          "data": [{"image_id": ids[min(i, 2)], "caption_str": c, "caption_id": i, "image_width": SIZE[0],
                    "image_height": SIZE[1], "set_name": "train"} for i, c in enumerate(captions)]})
    questions = [("what brand of mouthwash is this?", ["listerine"] * 7 + ["listerine zero"] * 3),
                 ("what brand of wine is this?", ["chateau garraud"] * 6 + ["garraud"] * 4),
                 ("what does the sign say?", ["open"] * 10)]
    _json(raw / "textvqa" / "TextVQA_0.5.1_train.json", {"dataset_type": "train", "dataset_name": "textvqa",
          "data": [{"question_id": 34600 + i, "question": q, "image_id": ids[i], "answers": a, "image_width": SIZE[0],
                    "image_height": SIZE[1], "set_name": "train"} for i, (q, a) in enumerate(questions)]})


def _coco_train(raw: Path) -> list[tuple[int, int, int]]:
    """(cocoid, width, height) of the COCO sample's train2014 images."""
    karpathy = json.loads((raw / "coco" / "dataset_coco.json").read_text(encoding="utf-8"))
    out = []
    for entry in karpathy["images"]:
        if entry["filepath"] == "train2014":
            with Image.open(raw / "coco" / entry["filepath"] / entry["filename"]) as img:
                out.append((entry["cocoid"], *img.size))
    return sorted(out)


def _okvqa(raw: Path, coco: list[tuple[int, int, int]]) -> None:
    items = [("What meal is the food consumed for?", ["breakfast", "breakfast", "lunch"]),
             ("What sport can you use this for?", ["tennis", "tennis", "tennis"]),
             ("What is the animal's natural habitat?", ["savanna", "grassland", "savanna"])]
    questions, annotations = [], []
    for k, ((cocoid, _, _), (question, answers)) in enumerate(zip(coco, items)):
        qid = cocoid * 10 + 5
        questions.append({"image_id": cocoid, "question": question, "question_id": qid})
        annotations.append({"image_id": cocoid, "question_id": qid, "question_type": "other", "answer_type": "other",
                            "confidence": 3, "answers": [{"answer_id": j + 1, "raw_answer": a, "answer_confidence": "yes",
                                                          "answer": a} for j, a in enumerate(answers)]})
    _json(raw / "okvqa" / "OpenEnded_mscoco_train2014_questions.json",
          {"questions": questions, "license": {}, "data_subtype": "train2014", "task_type": "Open-Ended"})
    _json(raw / "okvqa" / "mscoco_train2014_annotations.json", {"annotations": annotations, "data_subtype": "train2014"})


def _ocrvqa(raw: Path, image) -> None:
    books = {"1400013011": (1, ["Who wrote this book?", "Is this book related to Law?"], ["Ann Smith", "No"]),
             "0761183272": (2, ["What is the title of this book?"], ["Cooking"]),
             "0385472579": (1, ["What is the genre of this book?"], ["Arts & Photography"])}
    data = {}
    for asin, (split, questions, answers) in books.items():
        image(f"ocr_vqa/images/{asin}.jpg")
        data[asin] = {"imageURL": f"http://ecx.images-amazon.com/images/I/{asin}.jpg", "questions": questions,
                      "answers": answers, "title": "A Book", "authorName": "Ann Smith", "genre": "Law", "split": split}
    _json(raw / "ocr_vqa" / "dataset.json", data)


def _gqa(raw: Path, image) -> None:
    questions = {"00000001": ("2327022", "Who wears a shirt?", "player", "The player wears a shirt."),
                 "00000002": ("2327022", "Is the sky blue?", "yes", "Yes, the sky is blue."),
                 "05145757": ("2327023", "What color is the car?", "red", "The car is red.")}
    data = {}
    for qid, (image_id, question, answer, full) in questions.items():
        image(f"gqa/images/{image_id}.jpg")
        data[qid] = {"semantic": [], "entailed": [], "equivalent": [qid], "question": question, "imageId": image_id,
                     "isBalanced": True, "groups": {"global": None, "local": "13-shirt"}, "answer": answer,
                     "semanticStr": "", "annotations": {}, "types": {}, "fullAnswer": full}
    _json(raw / "gqa" / "train_balanced_questions.json", data)


def _refcoco(raw: Path, coco: list[tuple[int, int, int]]) -> None:
    specs = (("refcoco", "unc", ["train", "train", "val"]), ("refcoco+", "unc", ["train", "testA", "train"]),
             ("refcocog", "umd", ["train", "train", "train"]))
    expressions = [["a girl baseball player", "girl on the left"], ["the white bowl"], ["dog"]]
    for d, (dataset, split_by, splits) in enumerate(specs):
        refs, annotations = [], []
        for k, ((cocoid, width, height), split, sentences) in enumerate(zip(coco, splits, expressions)):
            ann_id, ref_id = 1000 * (d + 1) + k, 100 * (d + 1) + k
            box = [float(width // 8), float(height // 6), float(width // 2), float(height // 2)]
            annotations.append({"id": ann_id, "image_id": cocoid, "category_id": 1, "bbox": box,
                                "area": box[2] * box[3], "iscrowd": 0, "segmentation": [[0.0, 0.0, 1.0, 1.0, 2.0, 0.0]]})
            refs.append({"sent_ids": list(range(10 * ref_id, 10 * ref_id + len(sentences))),
                         "file_name": f"COCO_train2014_{cocoid:012d}_{ann_id}.jpg", "ann_id": ann_id, "ref_id": ref_id,
                         "image_id": cocoid, "split": split, "category_id": 1,
                         "sentences": [{"tokens": s.split(), "raw": s, "sent_id": 10 * ref_id + j, "sent": s}
                                       for j, s in enumerate(sentences)]})
        folder = raw / "refcoco" / dataset
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"refs({split_by}).p").write_bytes(pickle.dumps(refs, protocol=2))
        _json(folder / "instances.json", {
            "images": [{"id": c, "file_name": f"COCO_train2014_{c:012d}.jpg", "width": w, "height": h} for c, w, h in coco[:3]],
            "annotations": annotations, "categories": [{"id": 1, "name": "person", "supercategory": "person"}]})


def _shikra(raw: Path) -> None:
    records = [{"img_path": "1000092795.jpg", "boxes": [[0, 0, 32, 24], [32, 24, 64, 48]],
                "question": "What are <ph_st>the two young men<ph_ed> doing?", "question_boxes_seq": [[0, 1]],
                "answer": "looking at their hands",
                "cot_with_ans": "<ph_st>The two men<ph_ed> are looking down at their hands. So the answer is looking at their hands.",
                "answer_boxes_seq": [[0, 1]]},
               {"img_path": "1000092796.jpg", "boxes": [[10, 10, 50, 40]], "question": "Are there any trees in the image?",
                "question_boxes_seq": [], "answer": "no",
                "cot_with_ans": "There are no trees mentioned in the given context or visible in the image, so the answer is no.",
                "answer_boxes_seq": []}]
    path = raw / "shikra" / "GPT4GEN_RD_BoxCoT_train.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def _svit(raw: Path, image) -> None:
    for image_id in (1, 2):
        image(f"vg/VG_100K/{image_id}.jpg")

    def item(image_id, *conversations):
        return {"image_id": image_id, "conversations": [
            {"content": [{"from": speaker, "value": value} for speaker, value in turns]} for turns in conversations]}

    _json(raw / "svit" / "conversation.json", [item(1, [("user", "Can you describe the overall scene in the image?"),
                                                        ("gpt", "Two men talk on a brick sidewalk."),
                                                        ("user", "What are the men wearing?"), ("gpt", "A red shirt.")])])
    _json(raw / "svit" / "complex_reasoning.json", [item(1, [("user", "What color is the shirt of the man holding his chin?"),
                                                             ("gpt", "The man holding his chin is wearing a red shirt.")])])
    _json(raw / "svit" / "detail_description.json", [
        item(2, [("user", "Kindly provide a meticulous commentary on the image."),
                 ("gpt", "It seems like your message is empty. How can I assist you today?")]),
        item(1, [("user", "Kindly provide a meticulous commentary on the image."), ("gpt", "A busy city street by day.")])])
    _json(raw / "svit" / "referring_qa.json", [item(1, [(
        "user", "Which object is located higher in the image, <st>the clock<ed> [0.526, 0.152, 0.625, 0.717] or "
                "<st>the sign<ed> [0.147, 0.022, 0.258, 0.325]?"),
        ("gpt", "<st>The sign<ed> [0.147, 0.022, 0.258, 0.325] is located higher.")])])


def _llava(raw: Path, coco: list[tuple[int, int, int]]) -> None:
    records = [{"id": f"{cocoid:012d}", "image": f"{cocoid:012d}.jpg", "conversations": [
        {"from": "human", "value": "What is in the picture?\n<image>"}, {"from": "gpt", "value": f"Picture {n}."}]}
        for n, (cocoid, _, _) in enumerate(coco[:2])]
    _json(raw / "llava" / "llava_instruct_150k.json", records)


def _submissions(raw: Path, coco: list[tuple[int, int, int]]) -> None:
    folder = raw / "dataoptim" / "submissions"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sample-standard.txt").write_text("\n".join(SUBMISSION_IDS) + "\n", encoding="utf-8")
    _json(folder / "sample-byod.json", [
        {"id": "my_0", "image": f"coco/COCO_train2014_{coco[0][0]:012d}.jpg", "conversations": [
            {"from": "human", "value": "<image>\nWhat is this?"}, {"from": "gpt", "value": "A photo."}]},
        {"id": "my_1", "conversations": [{"from": "human", "value": "Say hello."}, {"from": "gpt", "value": "Hello."}]}])


def write_dataoptim(raw_dir: Path, seed: int = 0) -> None:
    raw = Path(raw_dir)
    rng = random.Random(seed + 2023)
    written: set[str] = set()

    def image(path: str) -> None:
        if path not in written:
            write_jpeg(raw / path, rng.randrange(1 << 30), size=SIZE)
            written.add(path)

    coco = _coco_train(raw)
    _flickr(raw, image)
    _text(raw, image)
    _okvqa(raw, coco)
    _ocrvqa(raw, image)
    _gqa(raw, image)
    _refcoco(raw, coco)
    _shikra(raw)
    _svit(raw, image)
    _llava(raw, coco)
    _submissions(raw, coco)

"""Sample inputs of ConvLLaVA's datasets, in their published formats (JSON arrays of LLaVA
records, paths relative to the data folder; Vision-Flan's relative to ``vflan/images_191task_1k/``),
with the faults every public copy has:

- ``sharegpt4v/share-captioner_coco_lcs_sam_1246k_1107.json`` (ShareGPT4V-PT: COCO train2017,
  LLaVA-Pretrain at ``llava/llava_pretrain/images/``, SAM) — one SAM image is **missing**;
- ``sharegpt4v/sharegpt4v_instruct_gpt4-vision_cap100k.json`` (also wikiart, share_textvqa,
  web-celebrity, web-landmark) — one record's path climbs out with ``..``;
- ``allava_laion/ALLaVA-{Caption,Instruct}-LAION-4V.json`` (ids ``allava_laion_cap_…`` /
  ``allava_laion_inst_…``, images ``allava_laion/images/<n>.jpeg``, ``original_caption`` and ``url``);
- ``allava_vflan/ALLaVA-{Caption,Instruct}-VFLAN-4V.json`` (images under
  ``allava_vflan/images/images_191task_1k/``, no url) — one image is a **truncated JPEG**;
- ``vflan/annotation_191-task_1k.json`` (``task_name`` per record);
- ``llava/llava_v1_5_mix665k.json`` (string ids, GQA's integers, ``VG_100K/…`` ids with a slash,
  text-only ShareGPT records) — one OCR-VQA image is a **GIF named .jpg**, one TextVQA image is
  missing.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from PIL import Image

from mmassets.sample.images import write_jpeg

SIZE = (40, 30)
MISSING = ("sam/images/sa_9999.jpg", "textvqa/train_images/0000deadbeef0000.jpg")
GIF_NAMED_JPG = "ocr_vqa/images/1558584536.jpg"
TRUNCATED = "allava_vflan/images/images_191task_1k/VQA-E+visual_question_answering_0007.jpg"
UNSAFE = "wikiart/images/../../../outside/secret.jpg"


def _json(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")


def _record(id, image: str | None, turns: list[tuple[str, str]], **extra) -> dict:
    record = {"id": id, **({"image": image} if image else {}), "conversations": []}
    for human, gpt in turns:
        record["conversations"] += [{"from": "human", "value": human}, {"from": "gpt", "value": gpt}]
    record.update(extra)
    return record


class _Images:
    """Writes each image the sample names once (a real little JPEG), except the missing ones."""

    def __init__(self, raw: Path, rng: random.Random):
        self.raw, self.rng, self.written = raw, rng, set()

    def __call__(self, path: str) -> str:
        if path not in self.written and path not in MISSING and ".." not in path:
            write_jpeg(self.raw / path, self.rng.randrange(1 << 30), size=SIZE)
            self.written.add(path)
        return path


CAPTION = "What do you see happening in this image?\n<image>"


def _sharegpt4v(raw: Path, image: _Images) -> None:
    pt = [_record("000000000139", image("coco/train2017/000000000139.jpg"), [(CAPTION,
              "A living room with a television on a low wooden stand, two chairs and a potted plant by the window.")]),
          _record("004539375", image("llava/llava_pretrain/images/00453/004539375.jpg"), [(
              "<image>\nDescribe the image in detail.", "A red tram waits at a stop on a quiet street lined with trees.")]),
          _record("sa_1", image("sam/images/sa_1.jpg"), [(CAPTION, "A narrow alley with bicycles parked along a wall.")]),
          _record("sa_9999", image(MISSING[0]), [(CAPTION, "A harbour at dusk with small fishing boats.")]),
          _record("000000000285", image("coco/train2017/000000000285.jpg"), [(CAPTION,
              "A brown bear sits in tall green grass, looking straight at the camera.")])]
    _json(raw / "sharegpt4v" / "share-captioner_coco_lcs_sam_1246k_1107.json", pt)
    cap = [_record("000000000139", image("coco/train2017/000000000139.jpg"), [(CAPTION,
               "The room is lit by daylight; a television, two chairs and a plant are arranged around a rug.")]),
           _record("Q123_landmark", image("web-landmark/images/Q123_landmark.jpg"), [(CAPTION,
               "A stone bridge with three arches crosses a calm river.")]),
           _record("Q456_celebrity", image("web-celebrity/images/Q456_celebrity.jpg"), [(CAPTION,
               "A person in a dark suit speaks at a lectern.")]),
           _record("wikiart_0001", image("wikiart/images/wikiart_0001.jpg"), [(CAPTION,
               "An oil painting of a wheat field under a stormy sky.")]),
           _record("share_textvqa_0001", image("share_textvqa/images/share_textvqa_0001.jpg"), [(CAPTION,
               "A shop sign reads OPEN in red letters.")]),
           _record("wikiart_bad", UNSAFE, [(CAPTION, "A path that leaves the data folder.")]),
           _record("sa_1", image("sam/images/sa_1.jpg"), [(CAPTION, "Bicycles lean against a white wall.")])]
    _json(raw / "sharegpt4v" / "sharegpt4v_instruct_gpt4-vision_cap100k.json", cap)


def _allava(raw: Path, image: _Images) -> None:
    laion_ids = [100277305, 100461227, 100853314]
    caption = [_record(f"allava_laion_cap_{n}", image(f"allava_laion/images/{n}.jpeg"), [(
                   "<image>\nPlease depict the image in words.", f"A detailed description of picture {n}.")],
                   original_caption=f"stock photo {n}", url=f"https://example.com/laion/{n}.jpg")
               for n in laion_ids]
    instruct = [_record(f"allava_laion_inst_{n}", image(f"allava_laion/images/{n}.jpeg"), [(
                    "<image>\nWhat might the person in the picture do next?", f"They will probably walk on ({n}).")],
                    original_caption=f"stock photo {n}", url=f"https://example.com/laion/{n}.jpg")
                for n in laion_ids]
    _json(raw / "allava_laion" / "ALLaVA-Caption-LAION-4V.json", caption)
    _json(raw / "allava_laion" / "ALLaVA-Instruct-LAION-4V.json", instruct)
    vflan = ["allava_vflan/images/images_191task_1k/PACS+guitar_image_category_classification_0830.jpg",
             "allava_vflan/images/images_191task_1k/CLEVR+question_answer_0012.jpg", TRUNCATED]
    for path in vflan:
        image(path)
    body = (raw / TRUNCATED).read_bytes()
    (raw / TRUNCATED).write_bytes(body[: len(body) // 2])  # cut off mid-scan, as an interrupted download leaves it
    _json(raw / "allava_vflan" / "ALLaVA-Caption-VFLAN-4V.json",
          [_record(f"allava_vflan_cap_{100000 + i}", path, [("<image>\nGive a detailed caption.", f"Caption {i}.")])
           for i, path in enumerate(vflan)])
    _json(raw / "allava_vflan" / "ALLaVA-Instruct-VFLAN-4V.json",
          [_record(f"allava_vflan_inst_{100000 + i}", path, [("<image>\nWhat is shown here?", f"Answer {i}.")])
           for i, path in enumerate(vflan)])


def _vision_flan(raw: Path, image: _Images) -> None:
    tasks = ["VQA-E+visual_question_answering", "PACS+guitar_image_category_classification",
             "CLEVR+question_answer", "ScienceQA+question_answering"]
    records = []
    for i in range(8):
        task = tasks[i % len(tasks)]
        name = f"{task}_{i:04d}.jpg"
        image(f"vflan/images_191task_1k/{name}")
        records.append(_record(f"{task}_{i}", name, [(f"<image>\nTask {task}: answer about the image.", f"answer {i}")],
                               task_name=task))
    _json(raw / "vflan" / "annotation_191-task_1k.json", records)


def _mix665k(raw: Path, image: _Images) -> None:
    gif = raw / GIF_NAMED_JPG
    gif.parent.mkdir(parents=True, exist_ok=True)
    Image.new("P", SIZE, 3).save(gif, format="GIF")  # OCR-VQA's downloader kept GIFs under .jpg names
    records = [
        _record("000000391895", image("coco/train2017/000000391895.jpg"), [
            ("What are the colors of the bus in the image?\n<image>", "The bus in the image is white and red."),
            ("What feature can be seen on the back of the bus?", "The back of the bus features an advertisement.")]),
        _record("1558584536", GIF_NAMED_JPG, [("<image>\nWho wrote this book?", "Chronicle Books"),
                                             ("What is the genre of this book?", "Arts & Photography")]),
        _record(2354787, image("gqa/images/2354787.jpg"), [(
            "<image>\nIs the sky dark?\nAnswer the question using a single word or phrase.", "Yes")]),
        _record("0054c91397f2fe05", image("textvqa/train_images/0054c91397f2fe05.jpg"), [(
            "<image>\nWhat is the brand of this camera?\nReference OCR token: nikon", "nikon")]),
        _record("0000deadbeef0000", image(MISSING[1]), [("<image>\nWhat does the sign say?", "stop")]),
        _record("VG_100K/2335575", image("vg/VG_100K/2335575.jpg"), [(
            "<image>\nPlease provide a short description for this region: [0.41, 0.32, 0.62, 0.54].", "A red kite.")]),
        _record("VG_100K_2/2400001", image("vg/VG_100K_2/2400001.jpg"), [(
            "<image>\nPlease provide the bounding box coordinate of the region this sentence describes: a dog.",
            "[0.12, 0.40, 0.55, 0.93]")]),
        _record("i6IyJda_0", None, [("How do I make a cup of tea?", "Boil water, steep the tea for three minutes.")]),
        _record("QWJhYvA_0", None, [("Write a haiku about autumn.", "Red leaves drift and fall / ...")]),
    ]
    _json(raw / "llava" / "llava_v1_5_mix665k.json", records)


def write_convllava(raw_dir: Path, seed: int = 0) -> None:
    raw_dir = Path(raw_dir)
    image = _Images(raw_dir, random.Random(seed + 1405))
    _sharegpt4v(raw_dir, image)
    _allava(raw_dir, image)
    _vision_flan(raw_dir, image)
    _mix665k(raw_dir, image)

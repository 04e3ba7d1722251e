"""Sample inputs of llm-jp's Japanese VILA (Step-0 and Step-2), in their published formats:

- ``llava_pretrain/blip_laion_cc_sbu_558k.json`` (LLaVA-Pretrain: one-turn records, ``<image>``
  after the instruction, images ``llava_pretrain/images/<5 digits>/<9 digits>.jpg``);
- ``llm_jp/alt_pair_ja/llm-jp_mm_pair_step0_558k.json`` with ``image_step0/<image>``;
- ``llava/llava_v1_5_subset_358k.json`` (LLaVA-1.5's mix: string ids and GQA's integer ids, paths
  under the data folder, a text-only ShareGPT record), as JSON lines to exercise that fallback;
- ``llm_jp/llava_instruct_ja/llava_instruct_ja_156k.json`` (COCO ``coco/train2017/``),
  ``llm_jp/japanese-photos/japanese_photos_conv_12k.json`` (its own ``images/``),
  ``llm_jp/ja-vg-vqa/ja-vg-vqa_instruct_99k.json`` (``vg/VG_100K/``, an image's QA pairs in one
  conversation, the first question asking for a short answer);
- ``llm_jp/synthdog-ja/data/*.parquet``: two files of rows with ``image.bytes`` and a
  ``ground_truth`` JSON string;
- ``llm_jp/interleaved_ja/docs_000.jsonl``: three mmc4-style documents, one with an image whose URL
  is gone;
- ``coyo/part-00000.parquet`` (COYO-700M's columns) and ``llm_jp/ids/coyo_6m_ids.txt.gz`` naming
  some of its ids and one it does not hold;
- mmc4-core's shards under mmc4's names: ``mmc4/docs_shard_0_v3.jsonl.zip`` (zipped as mmc4 ships
  it: one JSON-lines member) and ``mmc4/docs_shard_1_v3.jsonl`` (unzipped), and
  ``llm_jp/ids/mmc4_6m_ids.csv.gz`` naming documents of both, an index past shard 1's end and a shard
  the sample does not have; one listed document lost its only image, another one of its two;
- ``llm_jp/alt_pair_ja/pairs_00{0,1}.jsonl``: Step-1 pairs (``url``, ``text``) whose images the
  sample's local web server serves from ``sample_web/`` (one URL is gone: a 404).
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

from mmassets.sample.images import write_jpeg

SIZE = (48, 36)
SYNTHDOG_ROWS = (4, 3)


def _json(path: Path, records: list[dict], *, lines: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) if lines else \
        json.dumps(records, ensure_ascii=False, indent=2)
    path.write_text(text, encoding="utf-8")


def _pair(i: int, image: str, human: str, gpt: str, **extra) -> dict:
    return {"id": extra.pop("id", f"{i:09d}"), "image": image, **extra,
            "conversations": [{"from": "human", "value": human}, {"from": "gpt", "value": gpt}]}


def _step0(raw: Path, rng: random.Random) -> None:
    captions = ["a red tram in a quiet street", "two cups of coffee on a wooden table", "a dog running on the beach",
                "mount fuji behind a lake at dawn", "a bowl of ramen with egg and seaweed"]
    records = []
    for i, caption in enumerate(captions):
        number = 4539375 + 17 * i
        image = f"{number // 10000:05d}/{number:09d}.jpg"
        write_jpeg(raw / "llava_pretrain" / "images" / image, rng.randrange(1 << 30), size=SIZE)
        prompt = rng.choice(["Render a clear and concise summary of the photo.", "Give a brief description of the image."])
        records.append(_pair(number, image, f"{prompt}\n<image>", caption, id=f"{number:09d}"))
    _json(raw / "llava_pretrain" / "blip_laion_cc_sbu_558k.json", records)
    japanese = ["静かな通りを走る赤い路面電車", "木のテーブルの上の二杯のコーヒー", "浜辺を走る犬", "夜明けの湖と富士山"]
    records = []
    for i, caption in enumerate(japanese):
        image = f"{100 + i:08d}.jpg"
        write_jpeg(raw / "llm_jp" / "alt_pair_ja" / "image_step0" / image, rng.randrange(1 << 30), size=SIZE)
        records.append(_pair(i, image, "<image>\nこの画像を簡潔に説明してください。", caption, id=f"step0_{i}"))
    _json(raw / "llm_jp" / "alt_pair_ja" / "llm-jp_mm_pair_step0_558k.json", records)


def _step2(raw: Path, rng: random.Random) -> None:
    def image(rel: str) -> str:
        write_jpeg(raw / rel, rng.randrange(1 << 30), size=SIZE)
        return rel

    llava = [
        _pair(0, image("coco/train2017/000000033471.jpg"), "<image>\nWhat are the colors of the bus in the image?",
              "The bus in the image is white and red.", id="000000033471"),
        _pair(1, image("gqa/images/2354786.jpg"), "<image>\nIs the sky dark?\nAnswer the question using a single "
              "word or phrase.", "Yes", id=2354786),
        _pair(2, image("ocr_vqa/images/140031996.jpg"), "<image>\nWho wrote this book?", "Sandra Boynton",
              id="140031996"),
        {"id": "i6IyJda_0", "model": "", "conversations": [
            {"from": "human", "value": "How do I make a cup of green tea?"},
            {"from": "gpt", "value": "Heat water to about 80 °C, pour it over the leaves and wait two minutes."}]},
    ]
    _json(raw / "llava" / "llava_v1_5_subset_358k.json", llava, lines=True)
    instruct_ja = [
        {"id": "000000442786", "image": image("coco/train2017/000000442786.jpg"), "conversations": [
            {"from": "human", "value": "この画像で何が起きていますか？\n<image>"},
            {"from": "gpt", "value": "広場で人々が買い物をしています。"},
            {"from": "human", "value": "天気はどうですか？"},
            {"from": "gpt", "value": "晴れていて、影がはっきりしています。"}]},
        _pair(1, image("coco/train2017/000000118606.jpg"), "<image>\n写真の中の動物は何ですか？", "二匹の猫です。",
              id="000000118606"),
    ]
    _json(raw / "llm_jp" / "llava_instruct_ja" / "llava_instruct_ja_156k.json", instruct_ja)
    photos = []
    for i, (question, answer) in enumerate([("この写真はどこで撮られたと思いますか？", "京都の寺院のようです。"),
                                            ("写っている食べ物を説明してください。", "焼き魚とご飯、味噌汁の定食です。")]):
        name = f"photo_{i:04d}.jpg"
        write_jpeg(raw / "llm_jp" / "japanese-photos" / "images" / name, rng.randrange(1 << 30), size=SIZE)
        photos.append(_pair(i, name, f"<image>\n{question}", answer, id=f"japanese_photos_{i}"))
    _json(raw / "llm_jp" / "japanese-photos" / "japanese_photos_conv_12k.json", photos)
    vg = image("vg/VG_100K/2345678.jpg")
    _json(raw / "llm_jp" / "ja-vg-vqa" / "ja-vg-vqa_instruct_99k.json", [{"id": "2345678", "image": vg, "conversations": [
        {"from": "human", "value": "<image>\n机の上には何がありますか？\n語句または短い文で答えてください。"},
        {"from": "gpt", "value": "ノートパソコン"},
        {"from": "human", "value": "壁は何色ですか？"},
        {"from": "gpt", "value": "白"}]}])


def _synthdog(raw: Path, rng: random.Random) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from PIL import Image

    words = ["東京", "の", "天気", "は", "晴れ", "です", "明日", "雨", "予報", "会議", "午後", "三時"]
    folder = raw / "llm_jp" / "synthdog-ja" / "data"
    folder.mkdir(parents=True, exist_ok=True)
    for n, rows in enumerate(SYNTHDOG_ROWS):
        images, truths = [], []
        for _ in range(rows):
            buffer = io.BytesIO()
            Image.new("RGB", (64, 32), tuple(rng.randrange(256) for _ in range(3))).save(buffer, format="PNG")
            images.append({"bytes": buffer.getvalue(), "path": None})
            text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 7)))
            truths.append(json.dumps({"gt_parse": {"text_sequence": text}}, ensure_ascii=False))
        pq.write_table(pa.table({"image": images, "ground_truth": truths}), folder / f"train-{n:05d}-of-00002.parquet")


PAIRS = (("京都の紅葉と古い寺", "雨の日の渋谷の交差点", "海辺の小さな漁村", "桜並木の川沿いの道"),
         ("雪に覆われた山小屋", "夏祭りの夜店", "新幹線のホーム"))
GONE_PAIR = (1, 2)
"""(file, record) of the pair whose URL answers 404."""


def _step1_pairs(raw: Path, rng: random.Random) -> None:
    from mmassets.sample.web_server import SAMPLE_HOST, SERVER_FOLDER

    for f, texts in enumerate(PAIRS):
        records = []
        for n, text in enumerate(texts):
            name = f"ja_pair_{f}_{n}.jpg"
            if (f, n) != GONE_PAIR:
                write_jpeg(raw / SERVER_FOLDER / name, rng.randrange(1 << 30), size=(480, 360) if n % 2 else (200, 150))
            records.append({"url": f"{SAMPLE_HOST}img/{name}", "text": text})
        _json(raw / "llm_jp" / "alt_pair_ja" / f"pairs_{f:03d}.jsonl", records, lines=True)


DOCUMENTS = (
    (("東京の朝は早い。", "駅には人があふれている。", "喫茶店でコーヒーを飲んだ。"), (1, 2)),
    (("京都を散歩した。", "古い町並みが美しい。"), (1,)),
    (("料理の作り方を紹介します。", "まず野菜を切ります。", "次に炒めます。"), (0, 2)),
)
"""(sentences, the matched sentence of each image)."""
GONE_IMAGE = (0, 1)
"""(document, image) whose URL answers 404."""


def _interleaved(raw: Path, rng: random.Random) -> None:
    from mmassets.sample.web_server import SAMPLE_HOST, SERVER_FOLDER

    documents = []
    for d, (texts, matched) in enumerate(DOCUMENTS):
        images = []
        for i, index in enumerate(matched):
            name = f"ja_doc_{d}_{i}.jpg"
            if (d, i) != GONE_IMAGE:
                write_jpeg(raw / SERVER_FOLDER / name, rng.randrange(1 << 30), size=(400, 300))
            images.append({"image_name": name, "raw_url": f"{SAMPLE_HOST}img/{name}", "matched_text_index": index,
                           "matched_sim": round(0.2 + 0.01 * i, 3), "face_detections": None})
        rows = [[round(rng.random(), 4) for _ in texts] for _ in images]
        documents.append({"url": f"https://example.jp/blog/{d}", "text_list": list(texts), "image_info": images,
                          "similarity_matrix": rows, "could_have_url_duplicate": 0})
    _json(raw / "llm_jp" / "interleaved_ja" / "docs_000.jsonl", documents, lines=True)


COYO_IDS = (4398046511104, 4398046511105, 4398046511106, 4398046511107, 4398046511108, 4398046511109)
COYO_LISTED = (4398046511105, 4398046511107, 4398046511108, 999)
"""The COYO rows of the sample, and the ids llm-jp's list names (999 is in no file)."""


def _coyo(raw: Path, rng: random.Random) -> None:
    import gzip

    import pyarrow as pa
    import pyarrow.parquet as pq

    from mmassets.sample.web_server import SAMPLE_HOST, SERVER_FOLDER

    texts = ["a red bicycle leaning on a wall", "sunset over the harbour", "a bowl of fresh fruit", "a cat on a sofa",
             "snow on a mountain road", "a lighthouse at night"]
    for coyo_id in COYO_IDS:
        write_jpeg(raw / SERVER_FOLDER / f"coyo_{coyo_id}.jpg", rng.randrange(1 << 30), size=(400, 300))
    folder = raw / "coyo"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({
        "id": pa.array(COYO_IDS, pa.int64()), "url": [f"{SAMPLE_HOST}img/coyo_{i}.jpg" for i in COYO_IDS],
        "text": texts, "width": [400] * 6, "height": [300] * 6,
        "clip_similarity_vitb32": [round(0.28 + 0.01 * k, 4) for k in range(6)],
        "clip_similarity_vitl14": [round(0.25 + 0.01 * k, 4) for k in range(6)]}), folder / "part-00000.parquet")
    ids = raw / "llm_jp" / "ids" / "coyo_6m_ids.txt.gz"
    ids.parent.mkdir(parents=True, exist_ok=True)
    ids.write_bytes(gzip.compress("".join(f"{i}\n" for i in COYO_LISTED).encode(), mtime=0))


MMC4_SHARDS = (5, 2)
"""Documents in the sample's mmc4 shards 0 and 1."""
MMC4_IMAGES = {(0, 0): 3, (0, 3): 2, (1, 0): 2, (1, 1): 2}
"""(shard, line) → images of the document; the others have one (enough URLs that the two gone ones
leave the download's success rate above its check's 80%)."""
MMC4_LISTED = ((0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 5), (5, 0))
"""(shard, index) of llm-jp's list; shard 1 has no index 5 and shard 5 is not in the sample."""
MMC4_GONE = ((0, 1, 0), (0, 3, 1))
"""(shard, line, image) whose URL is gone: document 0/1 lost its only image, 0/3 one of its two."""
MMC4_ZIPPED = (0,)
"""Shards written as mmc4 ships them, ``docs_shard_<N>_v3.jsonl.zip``; the others unzipped."""


def write_zipped_jsonl(path: Path, member: str, text: str) -> None:
    """``path``: a zip holding one member ``member`` with ``text``, as mmc4 ships its shards; the same
    bytes for the same text (a fixed timestamp)."""
    import zipfile

    path.parent.mkdir(parents=True, exist_ok=True)
    info = zipfile.ZipInfo(member, date_time=(2023, 4, 1, 0, 0, 0))
    info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, text.encode("utf-8"))


def _mmc4(raw: Path, rng: random.Random) -> None:
    import gzip

    from mmassets.sample.web_server import SAMPLE_HOST, SERVER_FOLDER

    for shard, count in enumerate(MMC4_SHARDS):
        documents = []
        for line in range(count):
            texts = [f"Document {shard}-{line} begins here.", "It shows a picture.", "And it ends."]
            images, rows = [], []
            for i in range(MMC4_IMAGES.get((shard, line), 1)):
                name = f"mmc4_{shard}_{line}.jpg" if i == 0 else f"mmc4_{shard}_{line}_{i}.jpg"
                if (shard, line, i) not in MMC4_GONE:
                    write_jpeg(raw / SERVER_FOLDER / name, rng.randrange(1 << 30), size=(360, 480))
                images.append({"image_name": name, "raw_url": f"{SAMPLE_HOST}img/{name}",
                               "matched_text_index": (1 + i) % len(texts), "matched_sim": 0.31,
                               "face_detections": None})
                rows.append([0.1, 0.31, 0.05])
            documents.append({"url": f"https://example.org/{shard}/{line}", "text_list": texts, "image_info": images,
                              "similarity_matrix": rows, "could_have_url_duplicate": 0})
        name = f"docs_shard_{shard}_v3.jsonl"
        if shard in MMC4_ZIPPED:
            write_zipped_jsonl(raw / "mmc4" / f"{name}.zip", name,
                               "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents))
        else:
            _json(raw / "mmc4" / name, documents, lines=True)
    ids = raw / "llm_jp" / "ids" / "mmc4_6m_ids.csv.gz"
    ids.parent.mkdir(parents=True, exist_ok=True)
    ids.write_bytes(gzip.compress("".join(f"{s},{i}\n" for s, i in MMC4_LISTED).encode(), mtime=0))


def write_llm_jp(raw_dir: Path, seed: int) -> None:
    rng = random.Random(seed * 104729 + 3)
    _step0(raw_dir, rng)
    _step2(raw_dir, rng)
    _synthdog(raw_dir, rng)
    _step1_pairs(raw_dir, rng)
    _interleaved(raw_dir, rng)
    _coyo(raw_dir, rng)
    _mmc4(raw_dir, rng)

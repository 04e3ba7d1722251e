"""llm-jp's Japanese VILA: the conversation-record datasets of its Step-0 and Step-2, raw to train
(VILA's recipes `vila_ja_step0` and `vila_ja_step2` mix them), and its Step-1 pairs as VILA shards:

- Step-0: LLaVA-Pretrain (`llava_pretrain/blip_laion_cc_sbu_558k.json`, VILA's
  `llava_1_5_mm_align_en`) and llm-jp's Japanese pairs (`llm_jp/alt_pair_ja/llm-jp_mm_pair_step0_558k.json`,
  images in `image_step0/` named by each record's `image`);
- Step-2: LLaVA-1.5's 358k subset, llava-instruct-ja, japanese-photos-conv, ja-vg-vqa, and
  synthdog-ja converted as llm-jp's `convert.py` (`images/synthdog_ja` writes its JPEGs under
  `llm_jp/synthdog-ja/image/`);
- Step-1: the Japanese pairs (`llm_jp/alt_pair_ja/*.jsonl`) and interleaved documents
  (`llm_jp/interleaved_ja/*.jsonl`), their images downloaded (`images/…`) and written as VILA's
  base64 pickle shards with `.count` files (`train/…` → `exports/vila/<VILA name>/`).
"""

import json
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs.common import checks
from mmassets.defs.common.conversation_sets import conversation_set
from mmassets.defs.common.downloads import DownloadConfig, download_images
from mmassets.defs.common.metadata import frame_metadata
from mmassets.defs.common.raw import raw_output
from mmassets.defs.common.resources import DataFolders, ImageDownloader
from mmassets.defs.common.sources import source_key
from mmassets.defs.common.train import TRAIN, conversation_specs, publish_conversations
from mmassets.files import atomic_write_bytes, safe_name
from mmassets.progress import Progress
from mmassets.vila import shards
from mmassets.vila.records import pair_record
from mmassets.sources import interleaved, llm_jp_pairs, synthdog
from mmassets.sources.conversation_files import COLUMNS as CONVERSATION_FILE_COLUMNS

LLM_JP = "Get it from llm-jp (github.com/llm-jp/llm-jp-VILA, data_prepare/README.md) into <raw root>/llm_jp/."

step0 = [
    *conversation_set("llava_pretrain", dataset="llava_pretrain", file="llava_pretrain/blip_laion_cc_sbu_558k.json",
                      image_root="llava_pretrain", language="en", plain=True,
                      how_to_get="Download blip_laion_cc_sbu_558k.json and images.zip from "
                                 "huggingface.co/datasets/liuhaotian/LLaVA-Pretrain into <raw root>/llava_pretrain/ "
                                 "(images unpacked to llava_pretrain/images/).",
                      description="LLaVA-Pretrain: 558k BLIP captions of LAION/CC/SBU images as one-turn "
                                  "conversations (VILA Step-0 `llava_1_5_mm_align_en`)."),
    *conversation_set("llm_jp_pair_step0", dataset="llm_jp", file="llm_jp/alt_pair_ja/llm-jp_mm_pair_step0_558k.json",
                      image_root="llm_jp_step0", language="ja", plain=True, how_to_get=LLM_JP,
                      description="llm-jp's 558k Japanese image–text pairs for Step-0 (`llm_jp_mm_pair_step0_558k`)."),
]

step2 = [
    *conversation_set("llava_v1_5_subset", dataset="llava", file="llava/llava_v1_5_subset_358k.json", image_root="raw",
                      language="en",
                      how_to_get="Download llava_v1_5_subset_358k.json from huggingface.co/datasets/llm-jp/"
                                 "llava-instruct-v1_5-en-subset-358k into <raw root>/llava/; its images are LLaVA-1.5's "
                                 "(coco/train2017/, gqa/images/, ocr_vqa/images/, textvqa/train_images/, vg/).",
                      description="llm-jp's 358k subset of LLaVA-1.5's instruction mix (`llava_instruct_v1_5_en_subset`)."),
    *conversation_set("llava_instruct_ja", dataset="llm_jp", file="llm_jp/llava_instruct_ja/llava_instruct_ja_156k.json",
                      image_root="raw", language="ja", how_to_get=LLM_JP,
                      description="llava-instruct-ja: LLaVA-Instruct translated to Japanese, COCO images (`llava_instruct_ja`)."),
    *conversation_set("japanese_photos_conv", dataset="llm_jp",
                      file="llm_jp/japanese-photos/japanese_photos_conv_12k.json", image_root="japanese_photos",
                      language="ja", how_to_get=LLM_JP,
                      description="japanese-photos-conv: conversations about photos of Japan (`japanese_photos_conv`)."),
    *conversation_set("ja_vg_vqa", dataset="llm_jp", file="llm_jp/ja-vg-vqa/ja-vg-vqa_instruct_99k.json",
                      image_root="raw", language="ja", how_to_get=LLM_JP,
                      description="ja-vg-vqa: Japanese Visual Genome QA merged per image into conversations (`ja_vg_vqa`)."),
]


class SynthdogConfig(dg.Config):
    limit: int = Field(default=synthdog.LIMIT, ge=1, description="records converted at most (llm-jp: 80,000 + 21,953)")


@dg.asset(key_prefix="images", group_name="images", kinds={"parquet", "jpeg"}, code_version="1",
          deps=[source_key("synthdog_ja")])
def synthdog_ja(context: dg.AssetExecutionContext, config: SynthdogConfig, folders: DataFolders):
    """synthdog-ja's parquet files converted as llm-jp's `convert.py`: one OCR conversation per row
    (six Japanese templates in turn, `<image>` before and after the question in turn), each image
    written as JPEG to `llm_jp/synthdog-ja/image/<file>/<row>.jpg` (the `llm_jp` image root). The
    value is the conversation records."""
    folder, root = folders.raw / synthdog.DATA_DIR, folders.image_root("llm_jp")
    total = min(config.limit, sum(_rows(path) for path in synthdog.parquet_files(folder)))
    progress = Progress(total, context.log.info, "synthdog-ja", unit="images")
    rows = []
    for i, row in enumerate(synthdog.read_synthdog(folder, config.limit)):
        record = synthdog.synthdog_record(i, row)
        atomic_write_bytes(root / record["image"], synthdog.jpeg_of(row.image, f"{folder}: file {row.file}, row {row.row}"))
        rows.append((i, record["id"], False, [record["image"]], 2,
                     json.dumps(record, ensure_ascii=False, separators=(",", ":"))))
        progress.update(i + 1)
    frame = pd.DataFrame(rows, columns=list(CONVERSATION_FILE_COLUMNS))
    yield dg.Output(frame, metadata={**frame_metadata(frame.drop(columns=["record"]), language_column=None),
                                     "parquet files": len(synthdog.parquet_files(folder)), "limit": config.limit})


def _rows(path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


@dg.asset(name="synthdog_ja", code_version="1", ins={"records": dg.AssetIn(key=["images", "synthdog_ja"])},
          check_specs=conversation_specs("synthdog_ja"), **TRAIN)
def train_synthdog_ja(context: dg.AssetExecutionContext, folders: DataFolders, records: pd.DataFrame):
    """synthdog-ja's OCR conversations (`synthdog_ja_subset`), exported to
    `exports/train/synthdog_ja.llava.json`, images under the `llm_jp` image root."""
    yield from publish_conversations(context, folders, "synthdog_ja", records, image_root="llm_jp", language="ja",
                                     source=("synthdog_ja", synthdog.DATA_DIR))


@dg.asset(key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1", deps=[source_key("llm_jp_pairs")])
def llm_jp_pair_step1(context: dg.AssetExecutionContext, folders: DataFolders):
    """llm-jp's Japanese image–text pairs for Step-1 (`llm_jp/alt_pair_ja/*.jsonl`): one row per pair
    (file, record, id, url, text) and where its image goes (`image_id`, under the `llm_jp_step1` root)."""
    files = llm_jp_pairs.pair_files(folders.raw)
    frame = llm_jp_pairs.read_pairs(folders.raw)
    context.log.info(f"read {len(frame):,} pairs from {len(files)} files")
    yield raw_output(frame, *files, **{"files": len(files)})


class PairImagesConfig(DownloadConfig):
    """VILA's download of pair images: RGB, the short side to 336 when larger, JPEG at Pillow's default quality."""

    resize_mode: str = Field(default="vila", description="vila (short side to image_size) | no | mblip | ...")
    image_size: int = Field(default=336, ge=1)
    jpeg_quality: int = Field(default=75, ge=1, le=100)


@dg.asset(name="llm_jp_pair_step1", key_prefix="images", group_name="images", kinds={"jpeg"}, code_version="1",
          ins={"pairs": dg.AssetIn(key=["raw", "llm_jp_pair_step1"])},
          check_specs=checks.specs(["images", "llm_jp_pair_step1"], checks.DOWNLOADS))
def llm_jp_pair_step1_images(context: dg.AssetExecutionContext, config: PairImagesConfig, folders: DataFolders,
                             downloader: ImageDownloader, pairs: pd.DataFrame):
    """The Step-1 pairs' images, downloaded (resumable per URL) into the `llm_jp_step1` image root."""
    yield from download_images(context, config, folders, downloader, pairs["url"].tolist(), pairs["image_id"].tolist(),
                               image_root="llm_jp_step1", name="llm_jp_pair_step1")


class ShardConfig(dg.Config):
    shard_size: int = Field(default=shards.SHARD_SIZE, ge=1, description="records per pickle shard (VILA: 12,440)")
    keep_last: bool = Field(default=True, description="write the short last shard (VILA's splitter drops it)")


STEP1_PAIRS = "llm_jp_mm_pair_step1_6m"


@dg.asset(name="llm_jp_pair_step1", code_version="1",
          check_specs=checks.specs(["train", "llm_jp_pair_step1"], checks.ROW_COUNT, checks.SHARDS),
          ins={"pairs": dg.AssetIn(key=["raw", "llm_jp_pair_step1"]),
               "images": dg.AssetIn(key=["images", "llm_jp_pair_step1"])}, **TRAIN)
def train_llm_jp_pair_step1(context: dg.AssetExecutionContext, config: ShardConfig, folders: DataFolders,
                            pairs: pd.DataFrame, images: pd.DataFrame):
    """VILA's coyo-type shards of the Step-1 pairs whose image was downloaded, in
    `exports/vila/llm_jp_mm_pair_step1_6m/`: `{"id", "url", "text", "image": base64 JPEG}` per record,
    `part-NNNNN.pkl` with its `.count`. The value lists the records (without the image bytes) and
    the shard each is in."""
    root = folders.image_root("llm_jp_step1")
    ok = set(images.loc[images["status"] == "ok", "image_id"])
    kept = pairs[pairs["image_id"].isin(ok) & pairs["image_id"].map(lambda i: (root / i).is_file())].reset_index(drop=True)
    records = (pair_record(i, u, t, (root / image).read_bytes())
               for i, u, t, image in zip(kept["id"], kept["url"], kept["text"], kept["image_id"]))
    folder = folders.exports / "vila" / STEP1_PAIRS
    written = shards.write_shards(records, folder, shard_size=config.shard_size, keep_last=config.keep_last)
    frame = kept.iloc[:written.records].assign(
        shard=[name for name, n in written.counts for _ in range(n)], vila_type="coyo", vila_folder=str(folder),
        image_root="llm_jp_step1", dataset="llm_jp",
        source_file=kept["file"].iloc[:written.records].map(lambda f: f"{llm_jp_pairs.FOLDER}/{f}"),
        source_id=kept["id"].iloc[:written.records])
    row_count = checks.row_count_stable(context, len(frame))
    yield dg.Output(frame, metadata={
        **frame_metadata(frame, language_column=None), "shards": dg.MetadataValue.path(str(folder)),
        "shard count": len(written.counts), "dropped by the last shard": written.dropped,
        "pairs without an image": len(pairs) - len(kept), **checks.config_metadata(context)})
    yield row_count
    yield checks.vila_shards(folder, images_of=lambda record: [record["image"]])


@dg.asset(key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1", deps=[source_key("llm_jp_interleaved")],
          check_specs=[dg.AssetCheckSpec("similarity_rows", asset=dg.AssetKey(["raw", "llm_jp_interleaved"]), blocking=False,
                                         description="Every image has its row in similarity_matrix (VILA silently "
                                                     "drops an image without one; so do the shards, counted).")])
def llm_jp_interleaved(context: dg.AssetExecutionContext, folders: DataFolders):
    """llm-jp's Japanese interleaved documents (`llm_jp/interleaved_ja/*.jsonl`, mmc4's format): one
    row per document (file, line, the document as published, its image URLs)."""
    files = interleaved.document_files(folders.raw)
    rows, missing = [], 0
    for path in files:
        safe_name(path.stem, f"document file name {path}")
        for line, doc in interleaved.read_documents(path):
            rows.append((path.name, line, json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
                         [image["raw_url"] for image in doc["image_info"]]))
            missing += interleaved.rows_missing(doc)
    frame = pd.DataFrame(rows, columns=["file", "line", "document", "urls"])
    yield raw_output(frame, *files, **{"images": int(frame["urls"].map(len).sum()),
                                       "images without a similarity row": missing})
    yield dg.AssetCheckResult(check_name="similarity_rows", passed=not missing, severity=dg.AssetCheckSeverity.WARN,
                              metadata={"images without a similarity row": missing})


def _document_images(documents: pd.DataFrame) -> pd.DataFrame:
    """One row per image of each document: url, and image_id ``<file stem>/<line:08d>_<i:02d>.jpg``."""
    rows = [(url, f"{Path(file).stem}/{line:08d}_{i:02d}.jpg")
            for file, line, urls in zip(documents["file"], documents["line"], documents["urls"]) for i, url in enumerate(urls)]
    return pd.DataFrame(rows, columns=["url", "image_id"])


@dg.asset(name="llm_jp_interleaved", key_prefix="images", group_name="images", kinds={"jpeg"}, code_version="1",
          ins={"documents": dg.AssetIn(key=["raw", "llm_jp_interleaved"])},
          check_specs=checks.specs(["images", "llm_jp_interleaved"], checks.DOWNLOADS))
def llm_jp_interleaved_images(context: dg.AssetExecutionContext, config: PairImagesConfig, folders: DataFolders,
                              downloader: ImageDownloader, documents: pd.DataFrame):
    """The interleaved documents' images, downloaded (resumable per URL) into the `llm_jp_interleaved` image root."""
    wanted = _document_images(documents)
    yield from download_images(context, config, folders, downloader, wanted["url"].tolist(), wanted["image_id"].tolist(),
                               image_root="llm_jp_interleaved", name="llm_jp_interleaved")


STEP1_INTERLEAVED = "llm_jp_mm_interleaved_step1_6m"


@dg.asset(name="llm_jp_interleaved", code_version="1",
          check_specs=checks.specs(["train", "llm_jp_interleaved"], checks.ROW_COUNT, checks.SHARDS),
          ins={"documents": dg.AssetIn(key=["raw", "llm_jp_interleaved"]),
               "images": dg.AssetIn(key=["images", "llm_jp_interleaved"])}, **TRAIN)
def train_llm_jp_interleaved(context: dg.AssetExecutionContext, config: ShardConfig, folders: DataFolders,
                             documents: pd.DataFrame, images: pd.DataFrame):
    """VILA's mmc4-type shards of the interleaved documents, in
    `exports/vila/llm_jp_mm_interleaved_step1_6m/`: each document as published with
    `image_info[i].image_base64` for every image that was downloaded; images that were not, and
    their similarity rows, are left out together; a document with no image left is left out."""
    root = folders.image_root("llm_jp_interleaved")
    ok = set(images.loc[images["status"] == "ok", "image_id"])
    kept, dropped_images, dropped_documents = [], 0, 0

    def shard_documents():
        nonlocal dropped_images, dropped_documents
        for file, line, text in zip(documents["file"], documents["line"], documents["document"]):
            doc = json.loads(text)
            names = [f"{Path(file).stem}/{line:08d}_{i:02d}.jpg" for i in range(len(doc["image_info"]))]
            jpegs = {i: (root / name).read_bytes() for i, name in enumerate(names)
                     if name in ok and (root / name).is_file()}
            out = interleaved.with_images(doc, jpegs)
            if out is None:
                dropped_documents += 1
                continue
            dropped_images += len(doc["image_info"]) - len(out["image_info"])
            kept.append((file, line, len(out["image_info"])))
            yield out

    folder = folders.exports / "vila" / STEP1_INTERLEAVED
    written = shards.write_shards(shard_documents(), folder, shard_size=config.shard_size, keep_last=config.keep_last)
    frame = pd.DataFrame(kept[:written.records], columns=["file", "line", "images"]).assign(
        shard=[name for name, n in written.counts for _ in range(n)], vila_type="mmc4", vila_folder=str(folder),
        image_root="llm_jp_interleaved",
        dataset="llm_jp", source_file=[f"{interleaved.FOLDER}/{f}" for f, _, _ in kept[:written.records]],
        source_id=[str(line) for _, line, _ in kept[:written.records]])
    row_count = checks.row_count_stable(context, len(frame))
    yield dg.Output(frame, metadata={
        **frame_metadata(frame, language_column=None), "shards": dg.MetadataValue.path(str(folder)),
        "shard count": len(written.counts), "dropped by the last shard": written.dropped,
        "images left out (not downloaded, or no similarity row)": dropped_images,
        "documents left out (no image)": dropped_documents, **checks.config_metadata(context)})
    yield row_count
    yield checks.vila_shards(folder, images_of=lambda doc: [i["image_base64"] for i in doc["image_info"]])

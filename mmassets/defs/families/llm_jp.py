"""llm-jp's Japanese VILA: the conversation-record datasets of its Step-0 and Step-2, raw to train
(VILA's recipes `vila_ja_step0` and `vila_ja_step2` mix them); Step-1 is in `llm_jp_step1.py`:

- Step-0: LLaVA-Pretrain (`llava_pretrain/blip_laion_cc_sbu_558k.json`, VILA's
  `llava_1_5_mm_align_en`) and llm-jp's Japanese pairs (`llm_jp/alt_pair_ja/llm-jp_mm_pair_step0_558k.json`,
  images in `image_step0/` named by each record's `image`);
- Step-2: LLaVA-1.5's 358k subset, llava-instruct-ja, japanese-photos-conv, ja-vg-vqa, and
  synthdog-ja converted as llm-jp's `convert.py` (`images/synthdog_ja` writes its JPEGs under
  `llm_jp/synthdog-ja/image/`).
"""

import json

import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs.common.conversation_sets import conversation_set
from mmassets.defs.common.metadata import frame_metadata
from mmassets.defs.common.resources import DataFolders
from mmassets.defs.common.sources import source_key
from mmassets.defs.common.train import TRAIN, conversation_specs, publish_conversations
from mmassets.files import atomic_write_bytes
from mmassets.progress import Progress
from mmassets.sources import synthdog
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
                     json.dumps(record, ensure_ascii=False, separators=(",", ":")), "", ""))
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

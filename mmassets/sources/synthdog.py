"""synthdog-ja (naver-clova-ix's synthetic Japanese documents) converted as llm-jp's
``data_prepare/mdx/synthdog-ja/convert.py`` does, for VILA's Step-2 ``synthdog_ja_subset``.

- Input: every ``*.parquet`` of ``llm_jp/synthdog-ja/data/`` in name order; columns ``image`` (a
  struct with ``bytes``) and ``ground_truth`` (a JSON string whose ``gt_parse.text_sequence`` is the
  text). Read a batch at a time (the files hold the images).
- Each row becomes one conversation: the six Japanese (question, answer prefix) templates in turn
  over the whole output, the answer ``prefix + text + "\\n```\\n"`` with every space of the text
  replaced by a newline; ``<image>\\n`` before the question on even records, ``\\n<image>`` after it
  on odd ones; id ``synthdog-ja/image/{file:03d}/{row:05d}`` (``row`` restarts per file) and image
  that id + ``.jpg``. Conversion stops at 101,953 records (80,000 + 21,953, llm-jp's cap; a
  setting here).
- Images are written as JPEG (Pillow's default quality, as upstream; converted to RGB where the
  decoded mode cannot be JPEG).

A malformed row fails naming the file, the row and the field.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mmassets.sources.validation import RawFormatError, files_matching, forget_replacements, without_lone_surrogates

DATA_DIR = "llm_jp/synthdog-ja/data"
HOW_TO_GET = ("Download the parquet files of huggingface.co/datasets/naver-clova-ix/synthdog-ja (folder data/) to "
              "<raw root>/llm_jp/synthdog-ja/data/.")
LIMIT = 80_000 + 21_953
TEMPLATES_JA = (
    ("写真に写っている文字をすべて書き出してください。", "この写真に写っている文字を以下に示します。\n```\n"),
    ("画像の中の文字をすべて出力してください。", "入力された画像内の文字は以下の通りです。\n```\n"),
    ("この画像には何と書かれていますか？", "この画像に書かれているテキストを以下に表示します。\n```\n"),
    ("画像に書かれているテキストを全て出力しなさい。", "この画像に書かれているテキストを以下に示します。\n```\n"),
    ("与えられた画像中のテキストを全て出力しなさい。", "画像中のテキストは以下の通りです。\n```\n"),
    ("この写真内の全てのテキストを抜き出してください。", "この写真内のテキストを以下に表示します。\n```\n"),
)
"""llm-jp's (question, answer prefix) pairs; every answer ends with ``ANSWER_END``."""
ANSWER_END = "\n```\n"


@dataclass(frozen=True)
class SynthdogRow:
    file: int
    """Position of the parquet file among the folder's, in name order."""
    row: int
    """Row within its file."""
    image: bytes
    text: str
    """``gt_parse.text_sequence`` as published (spaces not yet replaced)."""


def parquet_files(folder: str | Path) -> list[Path]:
    return files_matching(folder, "*.parquet", HOW_TO_GET)


def _text(truth: object, path: Path, row: int) -> str:
    where = dict(record=f"row {row}", field="ground_truth")
    if not isinstance(truth, str):
        raise RawFormatError(path, f"expected a JSON string, got {type(truth).__name__}", **where)
    try:
        parsed = json.loads(truth)
    except ValueError as exc:
        raise RawFormatError(path, f"not JSON ({exc})", **where) from None
    parse = parsed.get("gt_parse") if isinstance(parsed, dict) else None
    text = parse.get("text_sequence") if isinstance(parse, dict) else None
    if not isinstance(text, str):
        raise RawFormatError(path, "no string gt_parse.text_sequence", record=f"row {row}",
                             field="ground_truth.gt_parse.text_sequence")
    return without_lone_surrogates(text, path, f"row {row}.ground_truth.gt_parse.text_sequence")  # a \ud800 escape


def read_synthdog(folder: str | Path, limit: int = LIMIT, batch_size: int = 256) -> Iterator[SynthdogRow]:
    """The rows of every parquet file in ``folder``, in order, at most ``limit`` of them."""
    import pyarrow as pa

    count = 0
    for file_index, path in enumerate(parquet_files(folder)):
        forget_replacements(path)
        try:
            for row, (image, truth) in enumerate(_rows(path, batch_size)):
                if count >= limit:
                    return
                body = image.get("bytes") if isinstance(image, dict) else None
                if not isinstance(body, bytes) or not body:
                    raise RawFormatError(path, "no image bytes", record=f"row {row}", field="image.bytes")
                yield SynthdogRow(file_index, row, body, _text(truth, path, row))
                count += 1
        except (pa.ArrowException, OSError) as exc:  # pyarrow's errors for a file that is not (whole) parquet
            raise RawFormatError(path, f"not a readable parquet file ({type(exc).__name__}: {exc})") from None


def _rows(path: Path, batch_size: int) -> Iterator[tuple[object, object]]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    missing = {"image", "ground_truth"} - set(parquet.schema_arrow.names)
    if missing:
        raise RawFormatError(path, f"no column(s) {sorted(missing)}; columns are {parquet.schema_arrow.names}")
    for batch in parquet.iter_batches(batch_size=batch_size, columns=["image", "ground_truth"]):
        yield from zip(batch.column("image").to_pylist(), batch.column("ground_truth").to_pylist())


def image_path(row: SynthdogRow) -> str:
    """The image's path as llm-jp names it (relative to the folder holding ``synthdog-ja/``)."""
    return f"synthdog-ja/image/{row.file:03d}/{row.row:05d}.jpg"


def synthdog_record(i: int, row: SynthdogRow) -> dict:
    """llm-jp's conversation record of the ``i``-th row converted (see the module doc)."""
    question, prefix = TEMPLATES_JA[i % len(TEMPLATES_JA)]
    human = f"<image>\n{question}" if i % 2 == 0 else f"{question}\n<image>"
    path = image_path(row)
    return {"id": path[: -len(".jpg")], "image": path,
            "conversations": [{"from": "human", "value": human},
                              {"from": "gpt", "value": prefix + row.text.replace(" ", "\n") + ANSWER_END}]}


def synthdog_records(rows: Iterable[SynthdogRow]) -> Iterator[dict]:
    """The conversation record of each row, in order."""
    return (synthdog_record(i, row) for i, row in enumerate(rows))


def jpeg_of(body: bytes, where: str) -> bytes:
    """The image as llm-jp writes it: decoded and saved as JPEG with Pillow's defaults."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(body)) as image:
            image.load()
            if image.mode not in ("RGB", "L", "CMYK"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, format="JPEG")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"{where}: the image does not decode ({type(exc).__name__})") from None
    return out.getvalue()

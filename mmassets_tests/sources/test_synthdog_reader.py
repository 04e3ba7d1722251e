"""synthdog-ja converted as llm-jp's convert.py: exact records from hand-made parquet rows, the cap,
the JPEGs, and malformed rows named by file, row and field."""

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from mmassets.sources.synthdog import jpeg_of, read_synthdog, synthdog_records
from mmassets.sources.validation import RawFileMissing, RawFormatError


def png(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (40, 20), colour).save(out, format="PNG")
    return out.getvalue()


def write(path, texts, *, truth=None):
    images = [{"bytes": png((10 * i, 0, 0, 255)), "path": None} for i in range(len(texts))]
    truths = truth or [json.dumps({"gt_parse": {"text_sequence": t}}, ensure_ascii=False) for t in texts]
    pq.write_table(pa.table({"image": images, "ground_truth": truths}), path)


def test_rows_become_llm_jps_conversations_exactly(tmp_path):
    write(tmp_path / "train-00001.parquet", ["日本 語", "テキスト"])
    write(tmp_path / "train-00000.parquet", ["一 二 三"])  # files go in name order
    records = list(synthdog_records(read_synthdog(tmp_path)))
    assert records == [
        {"id": "synthdog-ja/image/000/00000", "image": "synthdog-ja/image/000/00000.jpg", "conversations": [
            {"from": "human", "value": "<image>\n写真に写っている文字をすべて書き出してください。"},
            {"from": "gpt", "value": "この写真に写っている文字を以下に示します。\n```\n一\n二\n三\n```\n"}]},
        {"id": "synthdog-ja/image/001/00000", "image": "synthdog-ja/image/001/00000.jpg", "conversations": [
            {"from": "human", "value": "画像の中の文字をすべて出力してください。\n<image>"},
            {"from": "gpt", "value": "入力された画像内の文字は以下の通りです。\n```\n日本\n語\n```\n"}]},
        {"id": "synthdog-ja/image/001/00001", "image": "synthdog-ja/image/001/00001.jpg", "conversations": [
            {"from": "human", "value": "<image>\nこの画像には何と書かれていますか？"},
            {"from": "gpt", "value": "この画像に書かれているテキストを以下に表示します。\n```\nテキスト\n```\n"}]},
    ]


def test_the_templates_cycle_and_the_cap_stops_the_conversion(tmp_path):
    write(tmp_path / "a.parquet", [f"t{i}" for i in range(9)])
    records = list(synthdog_records(read_synthdog(tmp_path, limit=8, batch_size=3)))
    assert len(records) == 8
    questions = [r["conversations"][0]["value"].replace("<image>", "").strip() for r in records]
    assert questions[6] == questions[0] and questions[7] == questions[1] and len(set(questions)) == 6


def test_images_are_written_as_rgb_jpegs(tmp_path):
    write(tmp_path / "a.parquet", ["x"])
    (row,) = read_synthdog(tmp_path)
    with Image.open(io.BytesIO(jpeg_of(row.image, "row 0"))) as image:
        assert image.format == "JPEG" and image.mode == "RGB" and image.size == (40, 20)
    with pytest.raises(ValueError, match="row 0: the image does not decode"):
        jpeg_of(b"not an image", "row 0")


@pytest.mark.parametrize("truth, field", [
    ("{not json", "ground_truth"),
    (json.dumps({"gt_parse": "text"}), "ground_truth.gt_parse.text_sequence"),
    (json.dumps({"gt_parse": {"text_sequence": 3}}), "ground_truth.gt_parse.text_sequence"),
])
def test_malformed_rows_name_file_row_and_field(tmp_path, truth, field):
    path = tmp_path / "a.parquet"
    write(path, ["ok", "bad"], truth=[json.dumps({"gt_parse": {"text_sequence": "ok"}}), truth])
    with pytest.raises(RawFormatError) as caught:
        list(read_synthdog(tmp_path))
    assert str(path) in str(caught.value) and "row 1" in str(caught.value) and field in str(caught.value)


def test_missing_files_or_columns(tmp_path):
    with pytest.raises(RawFileMissing, match="synthdog-ja"):
        list(read_synthdog(tmp_path))
    pq.write_table(pa.table({"image": [{"bytes": b"x", "path": None}]}), tmp_path / "a.parquet")
    with pytest.raises(RawFormatError, match=r"no column\(s\) \['ground_truth'\]"):
        list(read_synthdog(tmp_path))

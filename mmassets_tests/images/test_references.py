"""What becomes of each record once its images are checked: exact counts for every drop rule and
for on_missing_image drop / keep / fail; repaired images move to the repaired root."""

import pandas as pd
import pytest

from mmassets.images.references import MissingImages, image_references, repaired_path, resolve_records

RECORDS = pd.DataFrame({
    "source_index": range(8),
    "id": ["ok", "gif", "gone", "trunc", "broken", "text", "unsafe", "two"],
    "images": [["coco/train2017/1.jpg"], ["ocr_vqa/images/2.jpg"], ["textvqa/train_images/3.jpg"],
               ["coco/train2017/4.jpg"], ["gqa/images/5.jpg"], [], [], ["coco/train2017/1.jpg", "ocr_vqa/images/2.jpg"]],
    "unsafe_path": ["", "", "", "", "", "", "../x.jpg", ""],
})
STATUS = {("coco_train2017", "1.jpg"): "ok", ("ocr_vqa", "2.jpg"): "repaired", ("textvqa", "3.jpg"): "missing",
          ("coco_train2017", "4.jpg"): "truncated", ("gqa", "5.jpg"): "unreadable"}
CHECKED = pd.DataFrame([(r, p, s) for (r, p), s in STATUS.items()], columns=["root", "path", "status"])


def test_distinct_references_with_their_record_counts():
    refs = image_references(RECORDS["images"], "raw")
    assert list(zip(refs["root"], refs["path"], refs["records"])) == [
        ("coco_train2017", "1.jpg", 2), ("ocr_vqa", "2.jpg", 2), ("textvqa", "3.jpg", 1), ("coco_train2017", "4.jpg", 1),
        ("gqa", "5.jpg", 1)]
    assert image_references(pd.Series([["a.jpg"]]), "vflan")[["root", "path"]].values.tolist() == [["vflan", "a.jpg"]]


def test_drop_rules_by_default():
    kept, dropped = resolve_records(RECORDS, CHECKED, "raw", "drop", "train/x")
    assert kept["id"].tolist() == ["ok", "gif", "text"]
    assert kept["image_root"].tolist() == ["coco_train2017", "repaired", "raw"]
    assert [list(i) for i in kept["images"]] == [["1.jpg"], ["ocr_vqa/images/2.jpg"], []]
    assert dict(zip(dropped["id"], dropped["reason"])) == {
        "gone": "missing image", "trunc": "truncated image", "broken": "unreadable image", "unsafe": "unsafe path",
        "two": "images under several roots"}


def test_keep_keeps_records_with_missing_images_as_published():
    kept, dropped = resolve_records(RECORDS, CHECKED, "raw", "keep", "train/x")
    assert kept["id"].tolist() == ["ok", "gif", "gone", "text"]
    assert list(kept.set_index("id").at["gone", "images"]) == ["3.jpg"] and len(dropped) == 4


def test_fail_names_the_first_record_with_a_missing_image():
    with pytest.raises(MissingImages, match=r"train/x: 1 records .* record 2 \(id 'gone'\).*textvqa/train_images/3.jpg"):
        resolve_records(RECORDS, CHECKED, "raw", "fail", "train/x")
    with pytest.raises(ValueError, match="drop, keep, fail"):
        resolve_records(RECORDS, CHECKED, "raw", "ignore", "train/x")


def test_repaired_images_keep_their_published_path_with_a_jpeg_extension():
    assert repaired_path("ocr_vqa", "2.gif") == "ocr_vqa/images/2.jpg"
    assert repaired_path("vflan", "CLEVR_1.png") == "vflan/images_191task_1k/CLEVR_1.jpg"
    assert repaired_path("raw", "a/b.jpg") == "a/b.jpg"


def test_an_image_the_check_found_unsafe_drops_its_record_as_an_unsafe_path():
    """Issue 30: an image that is a symlink out of the trusted roots (the check's ``unsafe``) failed
    ``train/<dataset>`` with a bare AssertionError; its record is dropped and counted instead."""
    records = pd.DataFrame({"source_index": [0, 1], "id": ["ok", "link"], "images": [["a.jpg"], ["b.jpg"]],
                            "unsafe_path": ["", ""]})
    checked = pd.DataFrame({"root": ["vflan", "vflan"], "path": ["a.jpg", "b.jpg"], "status": ["ok", "unsafe"]})
    kept, dropped = resolve_records(records, checked, "vflan", "drop", "train/x")
    assert kept["id"].tolist() == ["ok"] and dict(zip(dropped["id"], dropped["reason"])) == {"link": "unsafe path"}

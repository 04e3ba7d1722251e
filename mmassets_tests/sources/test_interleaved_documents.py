"""mmc4-style interleaved documents: read and checked, and their downloaded images put in as VILA's
shards hold them, similarity rows kept aligned."""

import base64
import json

import pytest

from mmassets.sources.interleaved import read_documents, rows_missing, with_images
from mmassets.sources.validation import RawFormatError

DOC = {"url": "https://example.jp/a", "text_list": ["一。", "二。", "三。"],
       "image_info": [{"image_name": "a.jpg", "raw_url": "https://x/a.jpg", "matched_text_index": 0},
                      {"image_name": "b.jpg", "raw_url": "https://x/b.jpg", "matched_text_index": 2},
                      {"image_name": "c.jpg", "raw_url": "https://x/c.jpg", "matched_text_index": 1}],
       "similarity_matrix": [[0.3, 0.1, 0.0], [0.0, 0.1, 0.4]], "could_have_url_duplicate": 0}


def test_downloaded_images_go_in_with_their_rows_and_the_rest_go_out_together():
    out = with_images(DOC, {1: b"jpeg-b", 2: b"jpeg-c"})  # a was not downloaded; c has no similarity row
    assert [i["image_name"] for i in out["image_info"]] == ["b.jpg"]
    assert out["image_info"][0]["image_base64"] == base64.b64encode(b"jpeg-b").decode()
    assert out["similarity_matrix"] == [[0.0, 0.1, 0.4]] and out["text_list"] == DOC["text_list"]
    assert rows_missing(DOC) == 1 and with_images(DOC, {}) is None
    assert "image_base64" not in DOC["image_info"][1]  # the published document is left as it was


@pytest.mark.parametrize("change, field", [
    ({"text_list": "一。"}, "text_list"),
    ({"image_info": [{"raw_url": 3, "matched_text_index": 0}]}, "image_info[0]"),
    ({"image_info": [{"raw_url": "https://x/a.jpg", "matched_text_index": 7}]}, "image_info[0].matched_text_index"),
])
def test_a_malformed_document_is_named_by_line_and_field(tmp_path, change, field):
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps(DOC, ensure_ascii=False) + "\n\n" + json.dumps({**DOC, **change}) + "\n", encoding="utf-8")
    with pytest.raises(RawFormatError) as caught:
        list(read_documents(path))
    assert "line 3" in str(caught.value) and field in str(caught.value)

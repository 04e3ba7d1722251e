"""Conversation records (the LLaVA schema) and the conversions to and from mBLIP records."""

import pytest

from mmassets.conversations import ConversationError, from_mblip, image_paths, strip_image_token, to_mblip, validate

MULTI_TURN = {
    "id": "000000033471",
    "image": "coco/train2017/000000033471.jpg",
    "conversations": [
        {"from": "human", "value": "What are the colors of the bus in the image?\n<image>"},
        {"from": "gpt", "value": "The bus in the image is white and red."},
        {"from": "human", "value": "What feature can be seen on the back of the bus?"},
        {"from": "gpt", "value": "The back of the bus features an advertisement."},
        {"from": "human", "value": "Is the bus driving down the street or pulled off to the side?"},
        {"from": "gpt", "value": "The bus is driving down the street,\nwhich is crowded with people and other vehicles."},
    ],
}


def test_an_mblip_record_is_a_one_turn_conversation_and_back():
    record = {"context": "Caption the image in German.\nShort answer.", "label": "Ein Bus.", "image_id": "a/b.jpg"}
    conversation = from_mblip(record, "coco_captions-0")
    validate(conversation)
    assert conversation == {"id": "coco_captions-0", "image": "a/b.jpg", "conversations": [
        {"from": "human", "value": "<image>\nCaption the image in German.\nShort answer."},
        {"from": "gpt", "value": "Ein Bus."}]}
    assert to_mblip(conversation) == [record]  # lossless: newlines in the context survive


def test_a_multi_turn_conversation_splits_into_one_record_per_pair_in_order():
    records = to_mblip(MULTI_TURN)
    assert [r["context"] for r in records] == [
        "What are the colors of the bus in the image?", "What feature can be seen on the back of the bus?",
        "Is the bus driving down the street or pulled off to the side?"]
    assert records[2]["label"] == MULTI_TURN["conversations"][5]["value"]
    assert {r["image_id"] for r in records} == {MULTI_TURN["image"]}
    for record in records:  # and each record goes back to a one-turn conversation of the same pair
        assert to_mblip(from_mblip(record, 1)) == [record]


@pytest.mark.parametrize("text, expected", [
    ("<image>\nWhat is this?", "What is this?"),
    ("What is this?\n<image>", "What is this?"),
    ("Look <image> here", "Look  here"),
])
def test_the_image_marker_goes_with_the_newline_that_joined_it(text, expected):
    assert strip_image_token(text) == expected


def test_mblip_cleaning_also_flattens_whitespace_as_mblip_does_for_conversation_58k():
    assert strip_image_token("<image>\nWhat is\n\nthis?  ", mblip_cleaning=True) == "What is this?"
    assert to_mblip(MULTI_TURN, mblip_cleaning=True)[0]["context"] == "What are the colors of the bus in the image?"


def test_unpaired_turns_are_not_records():
    conversation = {"id": 3, "image": "x.jpg", "conversations": [
        {"from": "gpt", "value": "Hello."}, {"from": "human", "value": "<image>\nA?"}, {"from": "human", "value": "B?"},
        {"from": "gpt", "value": "b"}]}
    assert to_mblip(conversation) == [{"context": "B?", "label": "b", "image_id": "x.jpg"}]


def test_text_only_and_multi_image_records():
    text_only = {"id": "t", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}
    validate(text_only)
    assert image_paths(text_only) == []
    with pytest.raises(ConversationError, match="exactly one image"):
        to_mblip(text_only)
    two = {"id": "m", "image": ["l.jpg", "r.jpg"], "conversations": text_only["conversations"]}
    validate(two)
    assert image_paths(two) == ["l.jpg", "r.jpg"]
    with pytest.raises(ConversationError, match="2 images"):
        to_mblip(two)


@pytest.mark.parametrize("record, field", [
    ({"image": "x", "conversations": [{"from": "human", "value": "a"}]}, "id"),
    ({"id": 1, "image": "", "conversations": [{"from": "human", "value": "a"}]}, "image"),
    ({"id": 1, "image": ["a", 2], "conversations": [{"from": "human", "value": "a"}]}, "image"),
    ({"id": 1, "conversations": []}, "conversations"),
    ({"id": 1, "conversations": [{"from": "system", "value": "a"}]}, "conversations[0]"),
    ({"id": 1, "conversations": [{"from": "gpt", "value": None}]}, "conversations[0]"),
])
def test_malformed_conversations_name_the_field(record, field):
    with pytest.raises(ConversationError, match=f"record 7, field '{field}'".replace("[", r"\[").replace("]", r"\]")):
        validate(record, "record 7")

"""Sample LLaVA-Instruct-150K: ``llava/conversation_58k.json`` and ``llava/detail_23k.json`` in the
official format, plus COCO 2014 train JPEGs of their images.

COCO ids come from ``ID_RANGE``; ``id`` is the zero-padded id and ``image`` that plus ".jpg", as
upstream. The first human turn of each dialogue carries ``<image>`` before or after its text, on its own
line. The conversations include answers of one to more than three sentences (``LONG_ANSWERS`` of them
have more than three, one has exactly three), so that the sentence limit has something to cut.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from mmassets.sample.images import write_jpeg
from mmassets.sources.coco import image_file_name
from mmassets.sources.llava import CONVERSATION_FILE, DETAIL_FILE, IMAGE_TOKEN

ID_RANGE = range(700000, 750000)
IMAGE_SIZE = (48, 36)
LONG_ANSWERS = 2

#: Conversations as lists of ``(question, answer)`` pairs.
_CONVERSATIONS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("Which colors does the tram in the picture have?", "The tram is yellow with a green stripe."),
     ("What is written on the front of the tram?", "The front of the tram shows its route number and destination."),
     ("Is the tram moving or waiting at a stop?",
      "The tram is waiting at a stop, where a few passengers are getting on.")),
    (("What is the man doing in the image?", "The man is riding a wave on a surfboard."),
     ("Why might surfing be challenging?",
      "Surfing requires balance, strength and timing. The surfer has to read the waves and paddle at the right "
      "moment. Conditions also change quickly, e.g. when the wind picks up. Beginners often fall many times "
      "before they can stand on the board."),
     ("Is the water calm?", "No, the water is rough, with several breaking waves.")),
    (("How many cats are on the couch?", "There are two cats lying on the couch."),
     ("What are the cats doing?", "Both cats are sleeping. One is curled up in a ball. The other is stretched "
                                  "out on a cushion."),
     ("What color is the couch?", "The couch is dark blue."),
     ("Could the cats be cold?", "It is unlikely, since they lie close together on a soft couch.")),
    (("What kind of food is on the plate?", "The plate holds a slice of pizza and a small salad."),
     ("Is this a healthy meal?",
      "The meal is partly healthy. The salad provides vegetables and fibre. The pizza adds 3.5 times more fat "
      "than the salad. A balanced diet would pair it with more vegetables! Drinking water instead of soda "
      "would also help.")),
    (("Where is the giraffe standing?", "The giraffe is standing in a grassy enclosure next to a tall tree."),
     ("What is the giraffe eating?", "It is eating leaves from the branches of the tree.")),
)

_DETAIL_QUESTIONS = (
    "What do you see happening in this image?",
    "Describe the following image.",
    "Can you elaborate on the elements of the picture provided?",
    "Explain the visual content of the image in great detail.",
    "Analyze the image in a comprehensive and detailed manner.",
)

_DESCRIPTIONS = (
    "A market square is full of stalls selling vegetables and flowers. A woman in a green coat is choosing "
    "apples while a vendor weighs them.\n\nShoppers walk between the stalls with bags and baskets. A fountain "
    "stands in the middle of the square.",
    "The image shows a small kitchen with white cabinets and a wooden counter. On the counter there is a bowl "
    "of fruit, a kettle and a cutting board. A window above the sink lets in bright daylight.",
    "In the image, a young boy is playing baseball in a park. He is holding a bat and waiting for the pitch, "
    "while a coach stands nearby. Trees and a fence can be seen in the background.",
    "A red double-decker bus is driving along a busy city street. Pedestrians walk on the sidewalks on both "
    "sides, and several cars follow the bus. The buildings around are tall and made of brick.\n\nThe sky is "
    "cloudy, suggesting it might rain soon.",
)


def _first_human_turn(question: str, rng: random.Random) -> str:
    """``<image>`` on its own line before or after the question, as upstream mixes both."""
    return f"{IMAGE_TOKEN}\n{question}" if rng.random() < 0.5 else f"{question}\n{IMAGE_TOKEN}"


def _dialogue(image_id: int, pairs: list[tuple[str, str]], rng: random.Random) -> dict:
    """One upstream dialogue record about COCO image ``image_id``."""
    turns = []
    for n, (question, answer) in enumerate(pairs):
        turns.append({"from": "human", "value": _first_human_turn(question, rng) if n == 0 else question})
        turns.append({"from": "gpt", "value": answer})
    return {"id": f"{image_id:012d}", "image": f"{image_id:012d}.jpg", "conversations": turns}


def write_llava(raw_dir: Path, seed: int = 0) -> None:
    """Write the LLaVA conversation and detail files and the JPEGs of their images."""
    rng = random.Random(f"llava-{seed}")
    raw_dir = Path(raw_dir)
    image_ids = rng.sample(ID_RANGE, len(_CONVERSATIONS) + len(_DESCRIPTIONS))
    conversations = [_dialogue(image_id, list(pairs), rng)
                     for image_id, pairs in zip(image_ids, rng.sample(_CONVERSATIONS, len(_CONVERSATIONS)))]
    details = [_dialogue(image_id, [(question, description)], rng)
               for image_id, question, description in zip(image_ids[len(_CONVERSATIONS):],
                                                           rng.sample(_DETAIL_QUESTIONS, len(_DESCRIPTIONS)),
                                                           _DESCRIPTIONS)]
    for image_id in image_ids:
        write_jpeg(raw_dir / "coco" / "train2014" / image_file_name(image_id), seed * 1_000_003 + image_id,
                   size=IMAGE_SIZE)
    _dump(raw_dir / CONVERSATION_FILE, conversations)
    _dump(raw_dir / DETAIL_FILE, details)


def _dump(path: Path, data: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(data, f, ensure_ascii=False)

"""Shikra's question templates for referring expressions, which DataOptim's RefCOCO records use:
REC (``<expr>`` → find its box; 54 templates) and REG (``<objs>`` → describe the box; 125), each
with exactly one ``<image>`` and one placeholder of its kind (checked on load, as Shikra's
``QuestionTemplateMixin`` asserts). The files ship in ``mmassets/reference/shikra/`` with their source.
"""

from __future__ import annotations

import json
import random
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1] / "reference" / "shikra"
IMAGE = "<image>"
PLACEHOLDERS = {"REC": "<expr>", "REG": "<objs>"}


class TemplateError(ValueError):
    """A template file that is not a list of templates with exactly one of each placeholder."""


def check(templates: object, kind: str, where: str) -> list[str]:
    placeholder = PLACEHOLDERS[kind]
    if not isinstance(templates, list) or not templates:
        raise TemplateError(f"{where}: expected a non-empty JSON list of templates")
    for i, template in enumerate(templates):
        if not isinstance(template, str) or template.count(IMAGE) != 1 or template.count(placeholder) != 1:
            raise TemplateError(f"{where}, template {i}: needs exactly one {IMAGE} and one {placeholder}: {template!r}")
    return templates


@cache
def load(kind: str) -> tuple[str, ...]:
    """The templates of ``kind`` (REC or REG), checked."""
    if kind not in PLACEHOLDERS:
        raise ValueError(f"template kind must be one of {', '.join(PLACEHOLDERS)}, not {kind!r}")
    path = FOLDER / f"{kind}.json"
    return tuple(check(json.loads(path.read_text(encoding="utf-8")), kind, str(path)))


def question(kind: str, value: str, rng: random.Random) -> str:
    """One template of ``kind``, drawn by ``rng``, with its placeholder replaced by ``value``
    (``<image>`` stays where the template puts it, as in DataOptim's files)."""
    return rng.choice(load(kind)).replace(PLACEHOLDERS[kind], value)

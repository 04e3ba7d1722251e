"""Recipes: training mixtures as data. A recipe is a YAML file naming, per training stage, an
ordered list of entries (assets holding training records) with an optional weight, budget,
repeat or sample size (and a seeded shuffle of the entry), plus the stage's seed, shuffle, export formats and what a missing entry means::

    name: my_mix
    description: COCO captions and half of VQAv2.
    stages:
      - name: train            # optional for a one-stage recipe (default "train")
        seed: 0                # default 0 (mixed with MMASSETS_SEED)
        shuffle: false         # seeded shuffle of the whole stage
        formats: [mblip, llava]  # mblip JSON, llava JSON, llava_jsonl, vila (a file per entry + registry),
                                 # dataoptim (a DataOptim id list of the stage's DataOptim records)
        missing: skip          # an entry not materialized: skip and list it (default: error)
        entries:
          - asset: train/coco_captions
          - asset: train/vqav2_vqa
            weight: 0.5        # a seeded sample of half the rows, kept in order
          - asset: train/vqav2_vqg
            budget: 1000       # exactly 1000 rows
          - asset: train/llava_pretrain
            name: llava_1_5_mm_align_en  # the entry's dataset name in the vila export (default: the asset's)
          - asset: train/vision_flan
            shuffle: true      # a seeded shuffle of the entry first (ConvLLaVA's SampleDataset, unseeded there)
            sample_size: 1000  # then its first 1000 rows (0 or absent: all)
          - asset: train/sharegpt4v
            optional: true     # an asset this graph may not have (yet): listed as skipped

The recipes of the systems mmassets reproduces ship in this folder; a user adds their own in
``MMASSETS_RECIPES_DIR`` (or ``--recipes-dir``). Loading checks every key, type and asset name and
fails with the file, line and field (``RecipeError``); nothing here imports Dagster.
"""

from __future__ import annotations

import hashlib
import math
import reprlib
from collections.abc import Collection, Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mmassets.files import PLAIN_NAME

SHIPPED_DIR = Path(__file__).parent
FORMATS = ("mblip", "llava", "llava_jsonl", "vila", "dataoptim")
MISSING = ("error", "skip")
DEFAULT_STAGE = "train"

_RECIPE_KEYS = {"name", "description", "stages"}
_STAGE_KEYS = {"name", "description", "seed", "shuffle", "formats", "missing", "entries"}
_ENTRY_KEYS = {"asset", "weight", "budget", "repeat", "optional", "name", "shuffle", "sample_size"}
MAX_ROWS = 10**12
"""The most rows a ``budget`` or ``sample_size`` may ask for (a trillion: far beyond one machine)."""
MAX_FACTOR = 10**6
"""The largest ``weight`` and ``repeat``: a million times an entry's rows."""
MAX_NODES = 1_000_000
"""The most YAML values a recipe may hold once its aliases are expanded (a recipe of a few hundred
lines holds a few thousand; an alias bomb, a few lines that refer to each other, billions)."""
SHOWN = 200
"""The most characters of a value an error message quotes."""


class _Short(reprlib.Repr):
    """``repr`` of a value cut to about ``SHOWN`` characters, without ever building the whole
    ``repr`` (a value made of aliases can be billions of characters long)."""

    def __init__(self):
        super().__init__()
        self.maxlevel, self.maxlist, self.maxtuple, self.maxdict, self.maxset = 3, 6, 6, 4, 6
        self.maxstring, self.maxlong, self.maxother = SHOWN, SHOWN, SHOWN

    def repr__Map(self, value, level):  # noqa: N802 - reprlib's naming: repr_<type name>
        return self.repr_dict(value, level)


def _shown(value: Any) -> str:
    text = _Short().repr(value)
    return text if len(text) <= SHOWN + 20 else f"{text[:SHOWN]}..."


class RecipeError(ValueError):
    """A recipe file that cannot be used; the message names the file, line and field."""

    def __init__(self, path: str | Path, line: int | None, field: str | None, problem: str):
        field = field if field is None or len(field) <= SHOWN else f"{field[:SHOWN]}..."  # keys come from the file
        problem = problem if len(problem) <= 2 * SHOWN else f"{problem[:2 * SHOWN]}... (cut)"
        where = "".join([f", line {line}" if line else "", f", field {field!r}" if field else ""])
        super().__init__(f"recipe {path}{where}: {problem}")


@dataclass(frozen=True)
class Entry:
    asset: str
    weight: float | None = None
    budget: int | None = None
    repeat: int | None = None
    optional: bool = False
    name: str | None = None
    """The entry's dataset name in exports that name datasets (VILA's registry); default: the asset's name."""
    shuffle: bool = False
    """Put the entry's rows in a seeded random order before anything else (ConvLLaVA's ``shuffle``)."""
    sample_size: int | None = None
    """Then keep its first ``sample_size`` rows (ConvLLaVA's ``sample_size``; 0: all)."""

    @property
    def dataset_name(self) -> str:
        return self.name or self.asset.rsplit("/", 1)[-1]

    def rows(self, n: int) -> int:
        """How many of the asset's ``n`` rows the entry takes."""
        if self.sample_size:
            return min(self.sample_size, n)
        if self.budget is not None:
            return self.budget
        if self.repeat is not None:
            return self.repeat * n
        return n if self.weight is None else round(self.weight * n)


@dataclass(frozen=True)
class Stage:
    name: str
    entries: tuple[Entry, ...]
    seed: int = 0
    shuffle: bool = False
    formats: tuple[str, ...] = ("mblip", "llava")
    missing: str = "error"
    description: str = ""


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    stages: tuple[Stage, ...]
    path: Path
    sha256: str

    def asset_name(self, stage: Stage) -> str:
        """``<recipe>`` for a one-stage recipe, else ``<recipe>__<stage>`` (the key under ``mixture/``)."""
        return self.name if len(self.stages) == 1 else f"{self.name}__{stage.name}"


class _Map(dict):
    """A YAML mapping that remembers the line of itself and of each of its keys."""

    line: int = 0
    key_lines: dict


class _Loader(yaml.SafeLoader):
    def construct_document(self, node: yaml.Node) -> Any:
        _bounded(node)
        return super().construct_document(node)


class _Unbounded(yaml.constructor.ConstructorError):
    """A document too big once expanded, or containing itself: valid YAML, but no recipe."""


def _bounded(root: yaml.Node) -> None:
    """Refuse a document that holds more than ``MAX_NODES`` values with its aliases (and merge keys)
    expanded, or that contains itself, before anything is built from it (the count is memoised per
    node, so an alias bomb is counted in the time of its few lines)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes and sizes[id(node)] >= 0:
            continue
        children = ([n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else
                    list(node.value) if isinstance(node, yaml.SequenceNode) else [])
        if not children_done:
            if sizes.get(id(node)) == -1:
                raise _Unbounded(None, None, "an alias refers to a value that contains it "
                                                        "(a recipe cannot contain itself)", node.start_mark)
            sizes[id(node)] = -1  # being counted
            stack.append((node, True))
            stack.extend((child, False) for child in children)
            continue
        sizes[id(node)] = total = 1 + sum(sizes[id(child)] for child in children)
        if total > MAX_NODES:
            raise _Unbounded(
                None, None, f"holds more than {MAX_NODES:,} values once its aliases are expanded (an alias bomb?); "
                "a recipe needs a few thousand at most", node.start_mark)


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    mapping = _Map()
    mapping.line, mapping.key_lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a plain value, not a {type(key).__name__}", key_node.start_mark)
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {_shown(key)}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


class _Reader:
    """Checks one file's values, naming the file, line and field of the first problem."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, mapping: Any, field: str | None, problem: str) -> RecipeError:
        line = None
        if isinstance(mapping, _Map):
            line = mapping.key_lines.get(field.rsplit(".", 1)[-1], mapping.line) if field else mapping.line
        return RecipeError(self.path, line, field, problem)

    def mapping(self, value: Any, where: str, keys: set[str], parent: Any = None) -> _Map:
        if not isinstance(value, _Map):
            raise self.fail(parent, where, f"expected a mapping, got {type(value).__name__}")
        unknown = sorted(set(map(str, value)) - keys)
        if unknown:
            raise self.fail(value, f"{where}.{unknown[0]}" if where else unknown[0],
                            f"unknown key {unknown[0]!r}; expected one of {', '.join(sorted(keys))}")
        return value

    def get(self, mapping: _Map, key: str, where: str, kind: type | tuple[type, ...], default: Any = ...,
            minimum: float | None = None, maximum: int | None = None) -> Any:
        field = f"{where}.{key}" if where else key
        if key not in mapping:
            if default is ...:
                raise self.fail(mapping, None, f"field {field!r} missing")
            return default
        value = mapping[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = "/".join(k.__name__ for k in kinds)
            raise self.fail(mapping, field, f"expected {names}, got {type(value).__name__} {_shown(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(mapping, field, f"expected a finite number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(mapping, field, f"must be >= {minimum}, got {_number(value)}")
        if maximum is not None and value > maximum:
            raise self.fail(mapping, field, f"must be <= {maximum:,}, got {_number(value)}")
        return value

    def name(self, mapping: _Map, key: str, where: str, default: Any = ...) -> str:
        value = self.get(mapping, key, where, str, default)
        if not PLAIN_NAME.fullmatch(value) or "__" in value:
            raise self.fail(mapping, f"{where}.{key}" if where else key,
                            f"{_shown(value)} is not a plain name (letters, digits, '_', '-', '.'; no '__')")
        return value


def _number(value: int | float) -> str:
    """A number as a message shows it: an int of more than 30 digits by its size only."""
    if isinstance(value, int) and abs(value) >= 10**30:
        digits = f"{len(str(abs(value))):,}" if abs(value) < 10**4000 else "over 4,000"
        return f"{'a negative' if value < 0 else 'an'} integer of {digits} digits"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def load_recipe(path: str | Path, known_assets: Collection[str] | None) -> Recipe:
    """Read and check one recipe file. ``known_assets``: the asset keys an entry may name (None: any,
    for reading a recipe without a graph at hand)."""
    path = Path(path)
    try:
        text = path.read_bytes()
        data = yaml.load(text.decode("utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(path, None, None, f"cannot read the file ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        problem = problem if isinstance(exc, _Unbounded) else f"not valid YAML: {problem}"
        raise RecipeError(path, mark.line + 1 if mark else None, None, problem) from None
    except ValueError as exc:  # a YAML integer of more than Python's 4,300 digits
        raise RecipeError(path, None, None, f"not a usable recipe: {exc}") from None
    read = _Reader(path)
    top = read.mapping(data, "", _RECIPE_KEYS)
    name = read.name(top, "name", "")
    if name != path.stem:
        raise read.fail(top, "name", f"the recipe {_shown(name)} must be in a file named {name[:SHOWN]}.yaml")
    description = read.get(top, "description", "", str, "")
    stage_values = read.get(top, "stages", "", list)
    if not stage_values:
        raise read.fail(top, "stages", "a recipe needs at least one stage")
    stages, seen = [], set()
    for i, value in enumerate(stage_values):
        where = f"stages[{i}]"
        stage = read.mapping(value, where, _STAGE_KEYS, top)
        stage_name = read.name(stage, "name", where, DEFAULT_STAGE if len(stage_values) == 1 else ...)
        if stage_name in seen:
            raise read.fail(stage, f"{where}.name", f"two stages are named {_shown(stage_name)}")
        seen.add(stage_name)
        formats = read.get(stage, "formats", where, list, list(Stage.formats))
        bad = [f for f in formats if f not in FORMATS]
        if bad or not formats:
            raise read.fail(stage, f"{where}.formats", f"unknown format {_shown(bad[0])}; expected some of "
                            f"{', '.join(FORMATS)}" if bad else "give at least one format")
        missing = read.get(stage, "missing", where, str, "error")
        if missing not in MISSING:
            raise read.fail(stage, f"{where}.missing", f"expected one of {', '.join(MISSING)}, got {_shown(missing)}")
        entries = tuple(_entry(read, e, f"{where}.entries[{j}]", stage, known_assets)
                        for j, e in enumerate(read.get(stage, "entries", where, list)))
        if not entries:
            raise read.fail(stage, f"{where}.entries", "a stage needs at least one entry")
        stages.append(Stage(name=stage_name, entries=entries, seed=read.get(stage, "seed", where, int, 0, minimum=0),
                            shuffle=read.get(stage, "shuffle", where, bool, False), formats=tuple(formats),
                            missing=missing, description=read.get(stage, "description", where, str, "")))
    return Recipe(name=name, description=description, stages=tuple(stages), path=path,
                  sha256=hashlib.sha256(text).hexdigest())


def _entry(read: _Reader, value: Any, where: str, parent: _Map, known_assets: Collection[str] | None) -> Entry:
    entry = read.mapping(value, where, _ENTRY_KEYS, parent)
    asset = read.get(entry, "asset", where, str)
    optional = read.get(entry, "optional", where, bool, False)
    if known_assets is not None and asset not in known_assets and not optional:
        raise read.fail(entry, f"{where}.asset", f"unknown asset {_shown(asset)}; assets with training records: "
                        f"{', '.join(sorted(known_assets))} (an asset this graph may lack: optional: true)")
    scaling = [key for key in ("weight", "budget", "repeat", "sample_size") if key in entry]
    if len(scaling) > 1:
        raise read.fail(entry, f"{where}.{scaling[1]}",
                        f"give one of weight, budget, repeat and sample_size, not {' and '.join(scaling)}")
    return Entry(asset=asset, optional=optional,
                 weight=read.get(entry, "weight", where, (int, float), None, minimum=0, maximum=MAX_FACTOR),
                 budget=read.get(entry, "budget", where, int, None, minimum=0, maximum=MAX_ROWS),
                 repeat=read.get(entry, "repeat", where, int, None, minimum=1, maximum=MAX_FACTOR),
                 name=read.name(entry, "name", where, None) if "name" in entry else None,
                 shuffle=read.get(entry, "shuffle", where, bool, False),
                 sample_size=read.get(entry, "sample_size", where, int, None, minimum=0, maximum=MAX_ROWS))


def recipe_files(folders: Iterable[str | Path]) -> list[Path]:
    """The ``*.yaml`` files of the shipped folder and of the given folders; a user recipe with the
    name of a shipped one is an error, not a silent override."""
    files: dict[str, Path] = {}
    for folder in [SHIPPED_DIR, *folders]:
        folder = Path(folder)
        if not folder.is_dir():
            raise RecipeError(folder, None, None, "the recipes folder does not exist")
        for path in sorted(folder.glob("*.yaml")):
            if path.stem in files:
                raise RecipeError(path, None, "name", f"a recipe named {path.stem!r} is already in {files[path.stem]}")
            files[path.stem] = path
    return list(files.values())


def load_recipes(folders: Iterable[str | Path], known_assets: Collection[str]) -> list[Recipe]:
    return [load_recipe(path, known_assets) for path in recipe_files(folders)]

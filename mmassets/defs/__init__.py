"""Dagster wiring, thin over the pure functions: ``families/`` holds one module per dataset family
(coco, vqav2, aokvqa, llava, imagenet, matching), each its dataset's whole path raw → train;
``eval.py`` the benchmarks; ``mixtures.py`` the recipe stages; ``common/`` what they share (layer
factories, checks, metadata, partitions, resources, io, sources, automation)."""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg


@contextmanager
def known_beta() -> Iterator[None]:
    """Around mmassets' own calls of the Dagster beta APIs it relies on knowingly (source
    observation, data versions of raw outputs, single-run backfills of language partitions): their
    BetaWarning is not printed. Only there: a user's own calls still warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        yield


def asset_selection(text: str) -> dg.AssetSelection:
    """``dg.AssetSelection.from_string``: a string selection such as ``*`` resolves through
    ``AssetSelection.all(include_sources=...)``, whose beta warning is Dagster's own business."""
    with known_beta():
        return dg.AssetSelection.from_string(text)


def resolve_selection(text: str, graph) -> set:
    """The asset keys the string selection ``text`` names in ``graph`` (no beta warning)."""
    with known_beta():
        return set(asset_selection(text).resolve(graph))

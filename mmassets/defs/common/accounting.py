"""Nothing silent: every asset accounts for its records — records in = records out + drops counted
by reason (its metadata) — and an asset whose input held records but that keeps none fails, saying
why, instead of writing an empty file that passes every check."""

from collections.abc import Mapping

import dagster as dg


def refuse_empty(asset: str, rows: int, dropped: Mapping[str, int], *, read: int | None = None,
                 hint: str = "") -> None:
    """Fail ``asset`` when it keeps no records (``rows`` 0) of an input that had some (``read``,
    when known; an input of no records fails earlier, at its raw file): the drops by reason, or
    that none was counted, and ``hint`` on what to do."""
    if rows or read == 0:
        return
    counted = {reason: int(n) for reason, n in dropped.items() if n}
    what = f"no records out of {read:,} read" if read is not None else "no records"
    why = ("every record was dropped: " + ", ".join(f"{reason} {n:,}" for reason, n in counted.items()) if counted
           else "no record was dropped for a counted reason, so its input holds nothing this asset can use")
    raise dg.Failure(description=f"{asset}: {what}; {why}." + (f" {hint}" if hint else ""), allow_retries=False)


def counted_drops(metadata: Mapping[str, object]) -> dict[str, int]:
    """The drops by reason an asset's ``metadata`` counts: its JSON counts under a key that says
    dropped, skipped or left out (``dropped translations``, ``records dropped``, ``skipped``)."""
    drops: dict[str, int] = {}
    for key, value in metadata.items():
        counts = getattr(value, "value", value)
        if any(word in key for word in ("dropped", "skipped", "left out")) and isinstance(counts, Mapping):
            drops.update({f"{key}: {reason}": n for reason, n in counts.items() if isinstance(n, int) and n})
    return drops

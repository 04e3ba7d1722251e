"""Progress of long steps as log lines: count, rate and ETA, at most every few seconds.

Progress is also where a long step notices that the user asked to stop: once ``STOP`` is set (by
``mmassets build`` on SIGINT/SIGTERM), the next ``update`` raises KeyboardInterrupt, so a step
stops within one batch instead of running to its end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

STOP = threading.Event()
"""Set when the build was asked to stop; every Progress of a running step then raises."""


def stop_if_requested() -> None:
    if STOP.is_set():
        raise KeyboardInterrupt("the build was interrupted (SIGINT/SIGTERM)")


class Progress:
    """Call ``update(done)`` as work advances; a line goes to ``log`` every ``every_s`` seconds and
    at the end of work that logged before: ``"<label>: 1,200/5,000 sentences (35.1/s), ETA 1m48s"``."""

    def __init__(self, total: int, log: Callable[[str], None], label: str, unit: str = "items",
                 every_s: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.total, self.log, self.label, self.unit, self.every_s, self.clock = total, log, label, unit, every_s, clock
        self.start = self.last = clock()
        stop_if_requested()

    def update(self, done: int, tokens: int | None = None) -> None:
        stop_if_requested()
        now = self.clock()
        if now - self.last < self.every_s and (done < self.total or self.last == self.start):
            return  # quiet between lines, and at the end of work too short to have logged
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        tail = "done" if done >= self.total else f"ETA {format_seconds(eta)}"
        token_rate = f", {tokens / elapsed:,.0f} tokens/s" if tokens is not None else ""
        self.log(f"{self.label}: {done:,}/{self.total:,} {self.unit} ({rate:,.1f}/s{token_rate}), {tail}")


def format_seconds(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"

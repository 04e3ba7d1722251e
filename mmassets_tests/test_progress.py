"""Tests for progress log lines, with a fake clock."""

from __future__ import annotations

import pytest

from mmassets.progress import Progress, format_seconds


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _progress(total: int, every_s: float = 5.0) -> tuple[Progress, FakeClock, list[str]]:
    clock, lines = FakeClock(), []
    return Progress(total, lines.append, "translate de", "sentences", every_s=every_s, clock=clock), clock, lines


def test_lines_only_every_every_s_and_a_final_done() -> None:
    progress, clock, lines = _progress(5000)
    clock.now = 101.0
    progress.update(100)
    assert lines == []  # 1 s < 5 s
    clock.now = 106.0
    progress.update(1200)
    # 1200 done in 6 s: 200.0/s; 3800 left / 200 per s = 19 s
    assert lines == ["translate de: 1,200/5,000 sentences (200.0/s), ETA 19s"]
    clock.now = 110.0
    progress.update(2000)
    assert len(lines) == 1  # 4 s since the last line
    clock.now = 111.0
    progress.update(2200)
    # 2200 in 11 s: 200.0/s; 2800 left -> 14 s
    assert lines[-1] == "translate de: 2,200/5,000 sentences (200.0/s), ETA 14s"
    clock.now = 112.0
    progress.update(5000)
    # the end is always logged once something was: 5000 in 12 s = 416.7/s
    assert lines[-1] == "translate de: 5,000/5,000 sentences (416.7/s), done"
    assert len(lines) == 3


def test_eta_in_minutes() -> None:
    progress, clock, lines = _progress(5000)
    clock.now = 100.0 + 40
    progress.update(1000)
    # 25.0/s; 4000 left -> 160 s = 2m40s
    assert lines == ["translate de: 1,000/5,000 sentences (25.0/s), ETA 2m40s"]


def test_nothing_done_yet_has_unknown_eta() -> None:
    progress, clock, lines = _progress(10)
    clock.now = 200.0
    progress.update(0)
    assert lines == ["translate de: 0/10 sentences (0.0/s), ETA ?"]


def test_quick_work_stays_silent() -> None:
    progress, clock, lines = _progress(50)
    for done in range(0, 51, 10):
        clock.now += 0.5
        progress.update(done)
    assert lines == []


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (59.4, "59s"), (108, "1m48s"), (3599, "59m59s"), (3700, "1h01m"), (float("inf"), "?"),
])
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text

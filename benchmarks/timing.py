"""What the benchmarks share: a timed block of calls and the statistics of paired samples.

A block times ``calls`` calls with the garbage collector paused, as ``timeit`` does;
results are medians over rounds, and a ratio is the median of per-round ratios (each pair
measured close together in time). Nothing here asserts: these machines are noisy.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from time import perf_counter
from typing import Any


def time_block(fn: Callable[[int], Any], calls: int) -> float:
    """Seconds per call of ``fn`` over ``calls`` calls, garbage collector paused."""
    gc.collect()
    gc.disable()
    try:
        start = perf_counter()
        for i in range(calls):
            fn(i)
        return (perf_counter() - start) / calls
    finally:
        gc.enable()


def median_us(samples: list[float]) -> float:
    """The median of per-call seconds, in µs."""
    return statistics.median(samples) * 1e6


def paired_ratio(ours: list[float], theirs: list[float]) -> float:
    """The median of the per-round ratios ``ours / theirs``."""
    return statistics.median(o / t for o, t in zip(ours, theirs, strict=True))


def paced_block(fn: Callable[[int], Any], calls: int, pause_s: float) -> float:
    """Seconds per call of ``fn`` when calls come one at a time with ``pause_s`` between
    them (the thread sleeps, so the export threads run in the pauses, as they do while an
    agent waits on a model): each call is timed on its own and the times are summed;
    garbage collector paused."""
    gc.collect()
    gc.disable()
    total = 0.0
    clock = perf_counter
    sleep = time.sleep
    try:
        for i in range(calls):
            start = clock()
            fn(i)
            total += clock() - start
            sleep(pause_s)
    finally:
        gc.enable()
    return total / calls


class Variant:
    """One call to time, and what to do before each timed block of it (outside the
    timing; e.g. install the runtime it runs with)."""

    def __init__(self, call: Callable[[int], Any], before: Callable[[], Any] | None = None):
        self.call = call
        self.before = before

    def time(self, calls: int, pause_s: float | None) -> float:
        """Seconds per call: a burst block (``pause_s`` ``None``) or a paced one."""
        if self.before is not None:
            self.before()
        if pause_s is None:
            return time_block(self.call, calls)
        return paced_block(self.call, calls, pause_s)


def interleaved(
    variants: dict[str, Variant],
    rounds: int,
    calls: int,
    pause_s: float | None,
    between: Callable[[], Any] = lambda: None,
) -> dict[str, list[float]]:
    """Per-call seconds of every variant in every round: each round times every variant
    once, the order alternating between rounds; ``between`` runs after every block
    (outside the timing). A warm-up block of each variant comes first."""
    names = list(variants)
    for name in names:  # warm-up: caches, instrument storage, attribute sets
        variants[name].time(max(calls // 10, 100), pause_s)
        between()
    results: dict[str, list[float]] = {name: [] for name in names}
    for round_no in range(rounds):
        for name in names if round_no % 2 == 0 else reversed(names):
            results[name].append(variants[name].time(calls, pause_s))
            between()
    return results

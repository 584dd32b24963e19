"""What the benchmarks share: a timed block of calls and the statistics of paired samples.

A block times ``calls`` calls with the garbage collector paused, as ``timeit`` does;
results are medians over rounds, and a ratio is the median of per-round ratios (each pair
measured close together in time). Nothing here asserts: these machines are noisy.
"""

from __future__ import annotations

import gc
import statistics
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

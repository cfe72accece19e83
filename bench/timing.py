"""Timer helpers: warm up, time N calls with perf_counter_ns, report median and p95 in ms."""

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

WARMUP = 3


@dataclass(frozen=True)
class Stats:
    samples_ms: tuple[float, ...]
    wall_s: float  # the whole timed loop, for throughput

    @property
    def n(self) -> int:
        return len(self.samples_ms)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        if self.n < 2:
            return self.samples_ms[0]
        return statistics.quantiles(self.samples_ms, n=20, method="inclusive")[18]

    @property
    def per_second(self) -> float:
        return self.n / self.wall_s


def measure(fn: Callable[[], object], repeat: int, warmup: int = WARMUP) -> Stats:
    """Call `fn` `warmup` times untimed, then `repeat` times timed, one sample per call."""
    for _ in range(warmup):
        fn()
    gc.collect()
    samples = []
    start = time.perf_counter_ns()
    for _ in range(repeat):
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    wall = (time.perf_counter_ns() - start) / 1e9
    return Stats(tuple(samples), wall)

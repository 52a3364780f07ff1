"""Shared helpers for benchmark scripts: timing loops, percentiles and the comparison table.

A :class:`Row` pairs a subject's samples with a baseline measured in the same run; the table
shows median, p90 and p99 of both (microseconds per operation by default, or milliseconds), the
ratio of the medians and ``TARGET MET`` / ``MISSED`` against the row's target ratio. Targets
that are not a ratio of medians are printed by :func:`print_targets`, one line each, starting
with ``TARGET MET`` or ``MISSED`` (the runner, ``python -m benchmarks``, collects those lines).
Benchmarks print; tests never time.
"""

from __future__ import annotations

import gc
import math
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TextIO


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation between closest ranks."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Summary:
    median: float
    p90: float
    p99: float
    count: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Summary:
        return cls(percentile(samples, 0.5), percentile(samples, 0.9), percentile(samples, 0.99), len(samples))


@dataclass(frozen=True)
class Row:
    """One comparison: ``subject`` against ``baseline`` (samples in seconds per operation)."""

    name: str
    subject: Sequence[float]
    baseline_name: str
    baseline: Sequence[float]
    target: float | None = None  # met when median ratio <= target
    note: str = ""

    @property
    def ratio(self) -> float:
        base = Summary.of(self.baseline).median
        return Summary.of(self.subject).median / base if base else math.inf

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "TARGET MET" if self.ratio <= self.target else "MISSED"


def sample_sync(fn: Callable[[], object], *, samples: int, inner: int = 1) -> list[float]:
    """Seconds per call of ``fn``: ``samples`` timings of ``inner`` back-to-back calls each."""
    timer = time.perf_counter
    out = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(samples):
            started = timer()
            for _ in range(inner):
                fn()
            out.append((timer() - started) / inner)
    finally:
        if gc_was_enabled:
            gc.enable()
    return out


async def sample_async(
    fn: Callable[[], Awaitable[object]],
    *,
    samples: int,
    inner: int = 1,
    before: Callable[[], object] | None = None,
    keep_gc: bool = False,
) -> list[float]:
    """Like :func:`sample_sync` for a coroutine function; ``before`` runs untimed before each sample.

    ``keep_gc``: leave the cyclic garbage collector running (its pauses are part of what a
    whole tool call costs); by default it is off while sampling, as for micro-benchmarks.
    """
    timer = time.perf_counter
    out = []
    gc_was_enabled = gc.isenabled()
    if not keep_gc:
        gc.disable()
    try:
        for _ in range(samples):
            if before is not None:
                before()
            started = timer()
            for _ in range(inner):
                await fn()
            out.append((timer() - started) / inner)
    finally:
        if gc_was_enabled:
            gc.enable()
    return out


async def interleaved(
    fns: Sequence[Callable[[], Awaitable[object]]], *, rounds: int, samples: int, keep_gc: bool = False
) -> list[list[float]]:
    """Sample every coroutine function in turn, ``rounds`` times, ``samples`` calls each per round.

    Alternating rounds spread machine noise (other processes, CPU frequency) over all subjects
    alike. Returns one list of seconds-per-call per function, in the order given.
    """
    out: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for index, fn in enumerate(fns):
            if keep_gc:
                gc.collect()
            out[index] += await sample_async(fn, samples=samples, keep_gc=keep_gc)
    return out


def calls_per_second(samples: Sequence[float]) -> float:
    """Sequential throughput: calls divided by the time they took together."""
    total = sum(samples)
    return len(samples) / total if total else math.inf


@dataclass(frozen=True)
class Target:
    """One target outside a Row: what was measured against what was wanted, and the verdict."""

    name: str
    measured: str
    met: bool

    def line(self) -> str:
        return f"{'TARGET MET' if self.met else 'MISSED':10}  {self.name}: {self.measured}"


def print_targets(targets: Sequence[Target], *, out: TextIO = sys.stdout) -> None:
    """Print one verdict line per target (the runner collects lines starting with the verdict)."""
    print("Targets:", file=out)
    for target in targets:
        print(target.line(), file=out)
    print(file=out)


_UNITS = {"us": (1e6, "microseconds"), "ms": (1e3, "milliseconds")}


def _us(seconds: float, scale: float = 1e6) -> str:
    return f"{seconds * scale:9.1f}" if scale == 1e6 else f"{seconds * scale:9.2f}"


def print_table(rows: Sequence[Row], *, title: str, out: TextIO = sys.stdout, unit: str = "us") -> None:
    """Print the comparison table (``unit`` ``"us"``: microseconds per operation, or ``"ms"``)."""
    scale, unit_name = _UNITS[unit]
    name_width = max([len(r.name) for r in rows] + [len(r.baseline_name) + 5 for r in rows] + [10]) + 2
    header = f"{'':{name_width}}{'median':>9} {'p90':>9} {'p99':>9}   {'n':>6}   {'ratio':>6}  {'target':>6}  verdict"
    print(f"\n{title}  ({unit_name} per operation)", file=out)
    print(header, file=out)
    print("-" * len(header), file=out)
    for row in rows:
        subject, base = Summary.of(row.subject), Summary.of(row.baseline)
        target = f"{row.target:5.2f}x" if row.target is not None else "     -"
        print(
            f"{row.name:{name_width}}{_us(subject.median, scale)} {_us(subject.p90, scale)} "
            f"{_us(subject.p99, scale)}   {subject.count:>6}   {row.ratio:5.2f}x  {target}  {row.verdict}",
            file=out,
        )
        print(
            f"{'  vs ' + row.baseline_name:{name_width}}{_us(base.median, scale)} {_us(base.p90, scale)} "
            f"{_us(base.p99, scale)}   {base.count:>6}",
            file=out,
        )
        if row.note:
            print(f"{'':{name_width}}{row.note}", file=out)
    print(file=out)

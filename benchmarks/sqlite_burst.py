"""SQLite write burst: ``python -m benchmarks.sqlite_burst [--callers 800] [--rounds 5] [--quick]``.

Each round starts from an empty SQLite file and an engine over memory + SQLite (the SQLite tier
guarded by its default 1 s timeout, the engine's clock the real one), fires ``--callers``
concurrent ``get_or_fetch`` misses on distinct keys (the loader returns a ~2 KB trial summary at
once), closes the engine cleanly and reopens the file to count what a restart would find. Two
subjects, in alternating rounds of the same run:

- group commit: the SQLite tier as it is (writes queued, one writer, one transaction per batch);
- one transaction per write (the baseline): the same backend with ``set_many`` awaiting a
  transaction of its own under the tier guard, as the tier worked before the write queue.

Reported: each caller's completion time from the start of the burst (median, p90, p99 over all
rounds), then per subject the write transactions per burst, the time until the burst is durable
(the engine closed), the guard's timeouts and skips, and the answers lost after the restart.
Targets: none lost, at most 50 transactions per burst (group commit).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks._harness import scratch
from benchmarks._table import Row, Target, print_table, print_targets
from cache.backends.memory import MemoryBackend
from cache.backends.sqlite import SqliteBackend
from cache.engine.tiered import TieredCache
from cache.entry import Record
from cache.policy import CachePolicy

POLICY = CachePolicy("trials.get", fresh_ttl=3600, stale_ttl=86_400)
MAX_TRANSACTIONS = 50


class OneTransactionPerWrite(SqliteBackend):
    """The tier as it was before the write queue: every ``set_many`` is a transaction of its own,
    awaited by its caller (so under the tier guard's timeout, and rolled back when it expires)."""

    async def set_many(self, records: Sequence[Record]) -> None:
        if records:
            now = self._clock()
            items = [(record, now) for record in records]
            await self._file.write("set_many", lambda conn: self._store(conn, items))


@dataclass
class Outcome:
    """What the rounds of one subject measured."""

    completions: list[float] = field(default_factory=list)  # seconds from the burst's start, every caller
    transactions: list[int] = field(default_factory=list)
    durable: list[float] = field(default_factory=list)  # seconds until the engine was closed
    lost: list[int] = field(default_factory=list)
    timeouts: list[int] = field(default_factory=list)
    skips: list[int] = field(default_factory=list)


def _value(i: int) -> dict[str, Any]:
    """A trial summary of about 2 KB, the typical cached object."""
    return {
        "nctId": f"NCT{10_000_000 + i}",
        "briefTitle": f"A Phase 2 Study of Drug {i} in EGFR L858R Non-Small Cell Lung Cancer",
        "overallStatus": "RECRUITING",
        "eligibility": "Inclusion Criteria: adults with EGFR L858R mutation. " * 25,
        "locations": [{"city": "Taipei", "country": "Taiwan", "status": "RECRUITING"}] * 5,
    }


async def one_round(backend_type: type[SqliteBackend], path: Path, callers: int, outcome: Outcome) -> None:
    backend = await backend_type.open(path)
    memory = MemoryBackend(max_entries=callers * 2, max_bytes=1 << 30)
    engine = TieredCache(memory, sqlite=backend, tier_timeouts={"sqlite": 1.0})
    keys = [f"trials.get:NCT{10_000_000 + i}" for i in range(callers)]
    before = backend.counters.write_transactions
    started = time.perf_counter()

    async def call(i: int) -> None:
        async def load() -> Any:
            return _value(i)

        await engine.get_or_fetch(keys[i], load, POLICY)
        outcome.completions.append(time.perf_counter() - started)

    await asyncio.gather(*(call(i) for i in range(callers)))
    await engine.aclose()  # a clean shutdown
    outcome.durable.append(time.perf_counter() - started)
    outcome.transactions.append(backend.counters.write_transactions - before)
    counters = engine.stats.tier("sqlite")
    outcome.timeouts.append(counters.timeouts)
    outcome.skips.append(counters.skips)
    reopened = await SqliteBackend.open(path)
    try:
        outcome.lost.append(callers - len(await reopened.get_many(keys)))
    finally:
        await reopened.aclose()


async def measure(callers: int, rounds: int) -> tuple[Outcome, Outcome]:
    grouped, baseline = Outcome(), Outcome()
    with scratch() as folder:
        for n in range(rounds):
            for name, backend_type, outcome in (
                ("group", SqliteBackend, grouped),
                ("single", OneTransactionPerWrite, baseline),
            ):
                await one_round(backend_type, folder / f"{name}-{n}.sqlite3", callers, outcome)
    return grouped, baseline


def _summary(name: str, outcome: Outcome) -> str:
    return (
        f"{name:28} {statistics.median(outcome.transactions):>8.0f} {max(outcome.transactions):>6} "
        f"{statistics.median(outcome.durable) * 1000:>12.1f} {sum(outcome.timeouts):>9} {sum(outcome.skips):>7} "
        f"{', '.join(str(n) for n in outcome.lost):>20}"
    )


def report(callers: int, grouped: Outcome, baseline: Outcome) -> None:
    print_table(
        [
            Row(
                f"group commit: {callers} callers",
                grouped.completions,
                "one transaction per write",
                baseline.completions,
                note="seconds from the burst's start until each caller had its answer, every caller of every round",
            )
        ],
        title=f"SQLite write burst: {callers} concurrent distinct misses, memory + SQLite, {len(grouped.lost)} rounds",
        unit="ms",
    )
    header = f"{'per burst':28} {'tx (med)':>8} {'max':>6} {'durable (ms)':>12} {'timeouts':>9} {'skips':>7} {'lost per round':>20}"
    print(header)
    print("-" * len(header))
    print(_summary("group commit", grouped))
    print(_summary("one transaction per write", baseline))
    print("(tx: write transactions from the burst's start to the clean close; durable: the engine closed)\n")
    print_targets(
        [
            Target(
                "answers lost across a clean restart (group commit)", f"{sum(grouped.lost)}", sum(grouped.lost) == 0
            ),
            Target(
                f"write transactions per burst <= {MAX_TRANSACTIONS} (group commit)",
                f"at most {max(grouped.transactions)}",
                max(grouped.transactions) <= MAX_TRANSACTIONS,
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 rounds")
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds
    grouped, baseline = asyncio.run(measure(args.callers, rounds))
    report(args.callers, grouped, baseline)


if __name__ == "__main__":
    main()

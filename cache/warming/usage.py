"""Which tool calls were made recently, for the "trending" warming strategy.

The cache only sees keys and loader closures, which cannot be re-run from another process or
after a restart; a tool call (name + arguments) can. The server records every tool call it
serves with :meth:`UsageLog.record` (not the cache hot path: once per tool call);
:meth:`UsageLog.top` ranks the calls of the last ``window`` seconds.

Counts are kept in one bucket per ``bucket`` seconds (a minute by default) for ``horizon``
seconds (an hour); older buckets are dropped as new ones open. At most ``max_calls`` distinct
calls are remembered per bucket; further new ones are counted in :attr:`UsageLog.dropped`.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any

from cache.keys import canonical_args
from cache.warming.model import CallSpec


class UsageLog:
    """Per-bucket counts of tool calls (see module doc)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        bucket: float = 60.0,
        horizon: float = 3600.0,
        max_calls: int = 2000,
    ) -> None:
        if bucket <= 0 or horizon < bucket or max_calls < 1:
            raise ValueError("bucket must be positive, horizon at least one bucket, max_calls at least 1")
        self._clock = clock
        self._bucket = bucket
        self._keep = int(horizon // bucket) + 1
        self._max_calls = max_calls
        self._buckets: deque[tuple[int, Counter[bytes]]] = deque()
        self._specs: dict[bytes, CallSpec] = {}
        self.dropped = 0

    def record(self, tool: str, arguments: Mapping[str, Any]) -> None:
        """Count one call of ``tool`` with ``arguments`` (JSON-able; None values ignored)."""
        identity = tool.encode() + b"\x00" + canonical_args(arguments)
        counts = self._current()
        if identity not in counts and len(counts) >= self._max_calls:
            self.dropped += 1
            return
        counts[identity] += 1
        if identity not in self._specs:
            self._specs[identity] = CallSpec(tool, {k: v for k, v in arguments.items() if v is not None})

    def top(self, n: int, window: float) -> list[tuple[CallSpec, int]]:
        """The ``n`` most frequent calls of the last ``window`` seconds, with their counts."""
        first = self._index(self._clock() - window)
        totals: Counter[bytes] = Counter()
        for index, counts in self._buckets:
            if index >= first:
                totals.update(counts)
        return [(self._specs[identity], count) for identity, count in totals.most_common(n)]

    def _index(self, at: float) -> int:
        return int(at // self._bucket)

    def _current(self) -> Counter[bytes]:
        index = self._index(self._clock())
        if not self._buckets or self._buckets[-1][0] != index:
            self._buckets.append((index, Counter()))
            while self._buckets and self._buckets[0][0] <= index - self._keep:
                self._buckets.popleft()
            live: set[bytes] = set()
            for _, counts in self._buckets:
                live.update(counts)
            self._specs = {identity: spec for identity, spec in self._specs.items() if identity in live}
        return self._buckets[-1][1]

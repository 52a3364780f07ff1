"""Which tool calls were made recently, for the "trending" warming strategy.

The cache only sees keys and loader closures, which cannot be re-run from another process or
after a restart; a tool call (name + arguments) can. The server records the calls it serves
with :meth:`UsageLog.record` (not the cache hot path: once per tool call), giving the
*canonical* arguments of a validated call of a real tool (never what the client sent as it
is); :meth:`UsageLog.top` ranks the calls of the last ``window`` seconds.

Counts are kept in one bucket per ``bucket`` seconds (a minute by default) for ``horizon``
seconds (an hour), keyed by a 16-byte digest of the call (:func:`call_identity`); older buckets
are dropped as new ones open. The arguments are kept once per distinct call, so the call can
be re-run. Hard caps (:class:`~cache.config.UsageConfig`): at most ``max_calls`` distinct calls
whose arguments hold at most ``max_bytes`` in all, and no call whose canonical arguments exceed
``max_call_bytes``; a call over a cap is not remembered and is counted in
:attr:`UsageLog.dropped`. Memory is therefore bounded by the caps, whatever callers send.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any

from cache.config import DEFAULT_USAGE
from cache.keys import canonical_args
from cache.warming.model import CallSpec

IDENTITY_BYTES = 16


def call_identity(tool: str, canonical: bytes) -> bytes:
    """The digest a call is counted under: ``tool`` and its canonical argument bytes."""
    return hashlib.blake2b(tool.encode() + b"\x00" + canonical, digest_size=IDENTITY_BYTES).digest()


class UsageLog:
    """Per-bucket counts of tool calls (see module doc)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        bucket: float = 60.0,
        horizon: float = 3600.0,
        max_calls: int = DEFAULT_USAGE.usage_max_calls,
        max_bytes: int = DEFAULT_USAGE.usage_max_bytes,
        max_call_bytes: int = DEFAULT_USAGE.usage_max_call_bytes,
    ) -> None:
        if bucket <= 0 or horizon < bucket or max_calls < 1 or max_bytes < 1 or max_call_bytes < 1:
            raise ValueError("bucket must be positive, horizon at least one bucket, the caps at least 1")
        self._clock = clock
        self._bucket = bucket
        self._keep = int(horizon // bucket) + 1
        self._max_calls, self._max_bytes, self._max_call_bytes = max_calls, max_bytes, max_call_bytes
        self._buckets: deque[tuple[int, Counter[bytes]]] = deque()
        self._specs: dict[bytes, tuple[CallSpec, int]] = {}  # identity -> (call, bytes it holds)
        self._bytes = 0
        self.dropped = 0

    def __len__(self) -> int:
        """Distinct calls remembered now."""
        return len(self._specs)

    @property
    def max_call_bytes(self) -> int:
        """The largest call (canonical arguments plus tool name) remembered."""
        return self._max_call_bytes

    @property
    def held_bytes(self) -> int:
        """Bytes of arguments (and tool names) the remembered calls hold; at most ``max_bytes``."""
        return self._bytes

    def record(self, tool: str, arguments: Mapping[str, Any]) -> bool:
        """Count one call of ``tool`` with canonical ``arguments`` (JSON-able; None values
        ignored); False when a cap kept it out (counted in :attr:`dropped`)."""
        canonical = canonical_args(arguments)
        size = len(canonical) + len(tool)
        if size > self._max_call_bytes:
            self.dropped += 1
            return False
        identity = call_identity(tool, canonical)
        counts = self._current()
        if identity not in self._specs:
            if len(self._specs) >= self._max_calls or self._bytes + size > self._max_bytes:
                self.dropped += 1
                return False
            self._specs[identity] = (CallSpec(tool, {k: v for k, v in arguments.items() if v is not None}), size)
            self._bytes += size
        counts[identity] += 1
        return True

    def top(self, n: int, window: float) -> list[tuple[CallSpec, int]]:
        """The ``n`` most frequent calls of the last ``window`` seconds, with their counts."""
        first = self._index(self._clock() - window)
        totals: Counter[bytes] = Counter()
        for index, counts in self._buckets:
            if index >= first:
                totals.update(counts)
        return [(self._specs[identity][0], count) for identity, count in totals.most_common(n)]

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
            self._specs = {identity: held for identity, held in self._specs.items() if identity in live}
            self._bytes = sum(size for _, size in self._specs.values())
        return self._buckets[-1][1]

"""What a server process's resident memory is made of, for a soak: ``read(pid, base_url)``.

Resident memory grows in a long run for three reasons that are by design and one that is not:
the memory tier filling up to its bounds (``TRIALSTOCK_CACHE__MEMORY_MAX_ENTRIES`` / ``_BYTES``),
SQLite's page caches filling (``CACHE_KIB`` per connection, anonymous memory) and the SQLite
file's mapped pages being touched as it grows (``MMAP_BYTES``: file-backed, the kernel's to
reclaim), against memory nobody bounds (a leak). A reading splits the kernel's figures
(``RssAnon`` and ``RssFile`` of ``/proc/<pid>/status``) and reads the memory tier's own
``entries`` and ``bytes`` from the server's ``/metrics``, so a report can say how much of the
growth the bounded caches explain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import httpx

from cache.backends.sqlite_schema import CACHE_KIB

MB = 1024 * 1024
ENTRY_OVERHEAD = 400
"""Bytes a memory-tier entry costs beyond the bytes it accounts for (``benchmarks.scale`` keeps it
under this; 376 B measured)."""
SQLITE_CONNECTIONS = 3
"""Connections the SQLite tier opens (writer, reader, inline reader), each with its page cache."""
PAGE_CACHES = SQLITE_CONNECTIONS * CACHE_KIB * 1024
"""The most the SQLite tier's page caches can hold, bytes."""


@dataclass(frozen=True)
class Reading:
    anon: int  # bytes of anonymous resident memory (the heap, page caches)
    file: int  # bytes of file-backed resident memory (code, the mapped SQLite file)
    tier_entries: int
    tier_bytes: int

    @property
    def tier_cost(self) -> int:
        """What the memory tier's entries cost in anonymous memory, at most."""
        return self.tier_bytes + self.tier_entries * ENTRY_OVERHEAD


def read(pid: int, base_url: str, headers: dict[str, str] | None = None) -> Reading:
    """The process's memory now, with the memory tier's figures from ``base_url``/metrics."""
    status = Path(f"/proc/{pid}/status").read_text()
    kib = {name: int(value) for name, value in re.findall(r"^(RssAnon|RssFile):\s+(\d+) kB", status, re.M)}
    metrics = httpx.get(f"{base_url}/metrics", headers=headers, timeout=10).text
    gauges = dict(re.findall(r"^trialstock_cache_memory_(entries|bytes) (\S+)$", metrics, re.M))
    if len(gauges) != 2:
        raise RuntimeError(f"the memory tier's gauges are missing from {base_url}/metrics")
    return Reading(
        kib.get("RssAnon", 0) * 1024,
        kib.get("RssFile", 0) * 1024,
        int(float(gauges.get("entries", 0))),
        int(float(gauges.get("bytes", 0))),
    )


def unexplained(start: Reading, end: Reading) -> int:
    """Anonymous growth from ``start`` to ``end`` beyond what the memory tier's entries and the
    SQLite page caches (at most :data:`PAGE_CACHES`) can account for; what a leak would show."""
    return end.anon - start.anon - max(end.tier_cost - start.tier_cost, 0) - PAGE_CACHES

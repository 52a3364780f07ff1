"""Child process for the two-writer test: ``python _sqlite_writer.py DB PREFIX COUNT``.

Prints "ready", waits for "go" on stdin (so both writers start together), writes COUNT entries
in batches of 10 and prints "done <count>".
"""

from __future__ import annotations

import asyncio
import sys
import time

from cache.backends.sqlite import SqliteBackend
from cache.entry import Record


async def main(path: str, prefix: str, count: int) -> None:
    backend = await SqliteBackend.open(path)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("no go")
    for start in range(0, count, 10):
        batch = [
            Record(f"{prefix}:{i}", f"{prefix}-{i}".encode(), time.time() + 3600, (prefix,))
            for i in range(start, min(start + 10, count))
        ]
        await backend.set_many(batch)
    print(f"done {count} busy_retries={backend.counters.busy_retries}", flush=True)
    await backend.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))

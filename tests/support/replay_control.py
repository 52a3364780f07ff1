"""The run-time knobs and the request log of the replay upstream (``tests.support.replay``).

Knobs, all thread-safe and changeable while the server runs:

- ``latency``: seconds from a request's arrival before it is answered; a change applies to
  requests already held (set it to 0 and a hung upstream answers at once);
- ``failure_rate``: the fraction of requests answered 503 (seeded RNG);
- ``reset_rate``: the fraction of requests whose connection is closed without an answer (the
  socket is aborted with SO_LINGER 0, so the client sees a reset or an early EOF); drawn after
  the 503 draw and only when non-zero, so a run without resets sees the same 503 sequence;
- ``script``: replies queued for the next requests of a path (or any path); :data:`RESET` as a
  scripted reply resets that one request's connection.

Each request, in order: counted and logged -> the next scripted reply for its path (or for any
path) -> 503 at ``failure_rate`` -> reset at ``reset_rate`` -> the route table. Latency applies
to all of them.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass

from tests.support.replay_routes import Reply

RESET = Reply(status=0, body=b"reset")
"""Not an answer: the server closes the connection without replying (a connection reset)."""


@dataclass(frozen=True)
class LoggedRequest:
    at: float  # time.monotonic() when the request arrived
    method: str
    path: str
    query: str


class ReplayControl:
    """The run-time knobs and the request log; every method is thread-safe."""

    def __init__(self, latency: float = 0.0, failure_rate: float = 0.0, seed: int = 0, reset_rate: float = 0.0) -> None:
        self._lock = threading.Lock()
        self.reset(latency, failure_rate, seed, reset_rate)

    def reset(self, latency: float = 0.0, failure_rate: float = 0.0, seed: int = 0, reset_rate: float = 0.0) -> None:
        with self._lock:
            self._latency = latency
            self._failure_rate = failure_rate
            self._reset_rate = reset_rate
            self._rng = random.Random(seed)
            self._scripts: dict[str | None, deque[Reply]] = {}
            self._counts: Counter[str] = Counter()
            self._log: list[LoggedRequest] = []

    def set_latency(self, seconds: float) -> None:
        """Hold every request ``seconds`` from its arrival; applies to requests already held."""
        with self._lock:
            self._latency = seconds

    def latency(self) -> float:
        with self._lock:
            return self._latency

    def set_failure_rate(self, rate: float, seed: int = 0) -> None:
        with self._lock:
            self._failure_rate, self._rng = rate, random.Random(seed)

    def set_reset_rate(self, rate: float, seed: int = 0) -> None:
        """Close this fraction of connections without answering (see :data:`RESET`)."""
        with self._lock:
            self._reset_rate, self._rng = rate, random.Random(seed)

    def knobs(self) -> dict[str, float]:
        with self._lock:
            return {"latency": self._latency, "failure_rate": self._failure_rate, "reset_rate": self._reset_rate}

    def script(self, path: str | None, *replies: Reply, times: int = 1) -> None:
        """Queue replies for the next requests to ``path`` (None: any path), each ``times`` times."""
        with self._lock:
            queue = self._scripts.setdefault(path, deque())
            queue.extend(reply for reply in replies for _ in range(times))

    def count(self, path: str | None = None) -> int:
        with self._lock:
            return self._counts[path] if path is not None else sum(self._counts.values())

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def log(self, path: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [entry for entry in self._log if path is None or entry.path == path]

    def request_times(self, path: str | None = None) -> list[float]:
        return [entry.at for entry in self.log(path)]

    def arrive(self, method: str, path: str, query: str) -> tuple[float, Reply | None]:
        """Record a request; return (latency, scripted or injected reply or None)."""
        with self._lock:
            self._counts[path] += 1
            self._log.append(LoggedRequest(time.monotonic(), method, path, query))
            for key in (path, None):
                queue = self._scripts.get(key)
                if queue:
                    return self._latency, queue.popleft()
            if self._failure_rate and self._rng.random() < self._failure_rate:
                return self._latency, Reply.text("replay: injected failure", status=503)
            if self._reset_rate and self._rng.random() < self._reset_rate:
                return self._latency, RESET
            return self._latency, None

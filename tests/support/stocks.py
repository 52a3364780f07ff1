"""Building the stock side in tests: Taipei times, one client per stock upstream over the recorded
upstream, and a service harness that closes its clients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cache import TieredCache
from tests.support.recorded_upstream import RecordedUpstream
from tools.http.client import UpstreamClient
from tools.http.config import HttpPolicy
from tools.http.factory import build_upstream
from tools.stocks.config import StocksConfig
from tools.stocks.service import StocksService
from tools.stocks.sessions import TAIPEI

UPSTREAMS = ("twse", "tpex", "mis", "yahoo")
ONE_ATTEMPT = HttpPolicy(max_attempts=1, breaker_failure_threshold=100)


def taipei(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    """Epoch seconds of a wall-clock time in Asia/Taipei."""
    return datetime(year, month, day, hour, minute, second, tzinfo=TAIPEI).timestamp()


def clients(upstream: RecordedUpstream, policy: HttpPolicy = ONE_ATTEMPT) -> dict[str, UpstreamClient]:
    """One client per upstream, each at http://<name>/ through ``upstream``."""
    mock = upstream.transport()
    return {
        name: build_upstream(name, f"http://{name}", policy=policy, rate=None, user_agent="test", transport=mock)
        for name in UPSTREAMS
    }


@dataclass
class Harness:
    """A service over ``transport`` (a stocks_upstream()) and ``cache``; ``aclose`` closes its HTTP clients."""

    transport: RecordedUpstream
    cache: TieredCache
    clock: Callable[[], float]
    config: StocksConfig | None = None
    policy: HttpPolicy = ONE_ATTEMPT

    def __post_init__(self) -> None:
        self.clients = clients(self.transport, self.policy)
        self.service = StocksService(**self.clients, cache=self.cache, config=self.config, clock=self.clock)

    async def aclose(self) -> None:
        await self.service.aclose()
        for client in self.clients.values():
            await client.aclose()

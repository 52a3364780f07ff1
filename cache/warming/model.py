"""What warming works with: strategies, the items they expand to, outcomes and the summary.

A :class:`Strategy` is one named entry of the strategies file (see
:mod:`cache.warming.config` for the TOML schema). Running it expands it into
:class:`WarmItem` s (a tool call, a key to re-fetch, a custom loader); each ends in a
:class:`WarmOutcome`: ``warmed`` (fetched and stored), ``already_fresh`` (nothing to do, no
upstream request) or ``failed`` with a reason. :class:`WarmSummary` gathers them per strategy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cache.policy import CachePolicy

Kind = Literal["calls", "trending", "custom"]
KINDS: tuple[str, ...] = ("calls", "trending", "custom")
Status = Literal["warmed", "already_fresh", "failed"]


@dataclass(frozen=True, slots=True)
class CallSpec:
    """One tool call: the tool's name and its arguments (JSON-able)."""

    tool: str
    arguments: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self.arguments.items())
        return f"{self.tool}({args})"


@dataclass(frozen=True, slots=True)
class TtlOverride:
    """Fresh and stale TTLs (seconds after creation) to store warmed values under."""

    fresh: float
    stale: float


def apply_ttl(policy: CachePolicy, ttl: TtlOverride | None) -> CachePolicy:
    """``policy`` with the fresh and stale TTLs of ``ttl`` (``policy`` itself when None)."""
    return policy if ttl is None else dataclasses.replace(policy, fresh_ttl=ttl.fresh, stale_ttl=ttl.stale)


@dataclass(frozen=True, slots=True)
class Strategy:
    """A named warming strategy. ``interval``: seconds between scheduled runs (None: none)."""

    name: str
    kind: Kind
    priority: int = 0
    concurrency: int = 2
    enabled: bool = True
    interval: float | None = None
    run_at_startup: bool = False
    ttl: TtlOverride | None = None
    calls: tuple[CallSpec, ...] = ()
    top: int = 20  # trending: how many keys
    window: float = 3600.0  # trending: over the last this many seconds
    target: str | None = None  # custom: "package.module:function"


@dataclass(frozen=True, slots=True)
class WarmOutcome:
    status: Status
    reason: str = ""

    @classmethod
    def warmed(cls) -> WarmOutcome:
        return cls("warmed")

    @classmethod
    def already_fresh(cls) -> WarmOutcome:
        return cls("already_fresh")

    @classmethod
    def failed(cls, reason: str) -> WarmOutcome:
        return cls("failed", reason)


@dataclass(frozen=True, slots=True)
class WarmItem:
    """One unit of work of a strategy; ``run`` never raises into the engine (it catches)."""

    strategy: str
    label: str
    run: Callable[[], Awaitable[WarmOutcome]] = field(repr=False, compare=False)


@dataclass(slots=True)
class StrategyReport:
    name: str
    kind: str
    warmed: int = 0
    already_fresh: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (item label, reason)
    elapsed: float = 0.0

    def add(self, item: WarmItem, outcome: WarmOutcome) -> None:
        if outcome.status == "warmed":
            self.warmed += 1
        elif outcome.status == "already_fresh":
            self.already_fresh += 1
        else:
            self.failed.append((item.label, outcome.reason or "failed"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "warmed": self.warmed,
            "already_fresh": self.already_fresh,
            "failed": [{"item": label, "reason": reason} for label, reason in self.failed],
            "elapsed": round(self.elapsed, 3),
        }


@dataclass(slots=True)
class WarmSummary:
    """The result of one :meth:`Warmer.run`, strategies in the order they ran."""

    strategies: list[StrategyReport] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def warmed(self) -> int:
        return sum(r.warmed for r in self.strategies)

    @property
    def already_fresh(self) -> int:
        return sum(r.already_fresh for r in self.strategies)

    @property
    def failed(self) -> int:
        return sum(len(r.failed) for r in self.strategies)

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategies": [r.to_dict() for r in self.strategies],
            "warmed": self.warmed,
            "already_fresh": self.already_fresh,
            "failed": self.failed,
            "elapsed": round(self.elapsed, 3),
        }

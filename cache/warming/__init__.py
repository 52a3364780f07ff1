"""Cache warming: named strategies from a TOML file, run by :class:`Warmer`.

See :mod:`cache.warming.config` for the file format, :mod:`cache.warming.engine` for how each
kind of strategy runs, :mod:`cache.warming.usage` for the call log behind "trending" and
:mod:`cache.warming.refresh_ahead` for recomputing hot, expensive entries before they turn stale.
"""

from cache.warming.config import StrategyFileError, default_strategies_path, load_strategies, parse_strategies
from cache.warming.engine import Runner, UnknownStrategyError, Warmer
from cache.warming.model import (
    CallSpec,
    Strategy,
    StrategyReport,
    TtlOverride,
    WarmItem,
    WarmOutcome,
    WarmSummary,
    apply_ttl,
)
from cache.warming.refresh_ahead import RefreshAhead
from cache.warming.shared_usage import SharedUsage, export
from cache.warming.usage import UsageLog

__all__ = [
    "CallSpec",
    "RefreshAhead",
    "Runner",
    "SharedUsage",
    "Strategy",
    "StrategyFileError",
    "StrategyReport",
    "TtlOverride",
    "UnknownStrategyError",
    "UsageLog",
    "WarmItem",
    "WarmOutcome",
    "WarmSummary",
    "Warmer",
    "default_strategies_path",
    "load_strategies",
    "parse_strategies",
    "apply_ttl",
    "export",
]

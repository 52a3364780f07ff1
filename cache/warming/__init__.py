"""Cache warming: named strategies from a TOML file, run by :class:`Warmer`.

See :mod:`cache.warming.config` for the file format, :mod:`cache.warming.engine` for how each
kind of strategy runs and :mod:`cache.warming.usage` for the call log behind "trending".
"""

from cache.warming.config import StrategyFileError, default_strategies_path, load_strategies, parse_strategies
from cache.warming.engine import Runner, UnknownStrategyError, Warmer
from cache.warming.model import CallSpec, Strategy, StrategyReport, TtlOverride, WarmItem, WarmOutcome, WarmSummary
from cache.warming.usage import UsageLog

__all__ = [
    "CallSpec", "Runner", "Strategy", "StrategyFileError", "StrategyReport", "TtlOverride", "UnknownStrategyError",
    "UsageLog", "WarmItem", "WarmOutcome", "WarmSummary", "Warmer", "default_strategies_path", "load_strategies",
    "parse_strategies",
]

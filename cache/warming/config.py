"""The warming strategies file (TOML) and its validation.

Schema: an array of tables named ``strategy``; every field but ``name`` and ``kind`` optional::

    [[strategy]]
    name = "common-mutations"      # [A-Za-z0-9_.-]+, unique in the file
    kind = "calls"                 # "calls" | "trending" | "custom"
    priority = 10                  # higher runs first (default 0)
    concurrency = 2                # items of this strategy in flight at once (default 2)
    enabled = true                 # default true; a disabled strategy runs only when named
    interval = 21600               # seconds between scheduled runs (default: not scheduled)
    run_at_startup = false         # default false
    ttl = { fresh = 3600, stale = 86400 }   # store warmed values under these TTLs
    calls = [ { tool = "search_trials_by_mutation", arguments = { mutation = "EGFR L858R" } } ]
    # kind = "trending":  top = 20 (keys), window = 3600 (seconds of usage to rank over)
    # kind = "custom":    target = "package.module:function"  (async, takes the cache)

Any problem raises :class:`StrategyFileError` naming the file, the strategy and the field.
The default file ships inside this package (:func:`default_strategies_path`).
"""

from __future__ import annotations

import importlib
import inspect
import re
import tomllib
from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

from cache.warming.model import KINDS, CallSpec, Strategy, TtlOverride

T = TypeVar("T")
Check = tuple[Callable[[T], bool], str]
"""A predicate a field's value must pass, and what to say when it does not."""

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_COMMON = {"name", "kind", "priority", "concurrency", "enabled", "interval", "run_at_startup", "ttl"}
_BY_KIND = {"calls": {"calls"}, "trending": {"top", "window"}, "custom": {"target"}}


class StrategyFileError(ValueError):
    """The strategies file is unreadable, not TOML, or breaks the schema."""

    def __init__(self, path: str, problem: str, *, strategy: str | None = None, field: str | None = None) -> None:
        self.path, self.strategy, self.field, self.problem = path, strategy, field, problem
        where = path
        if strategy is not None:
            where += f": strategy {strategy}"
        if field is not None:
            where += f": field {field!r}"
        super().__init__(f"{where}: {problem}")


def default_strategies_path() -> Path:
    """The strategies file shipped with the package."""
    return Path(str(files("cache.warming") / "default_strategies.toml"))


def load_strategies(path: Path | str) -> list[Strategy]:
    """Read and validate a strategies file (strategies in file order)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise StrategyFileError(source, f"cannot read the file: {exc.strerror or exc}") from exc
    return parse_strategies(text, source)


def parse_strategies(text: str, source: str = "<strategies>") -> list[Strategy]:
    """Validate TOML ``text``; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StrategyFileError(source, f"invalid TOML: {exc}") from exc
    extra = sorted(set(data) - {"strategy"})
    if extra:
        raise StrategyFileError(source, f"unknown top-level key(s) {', '.join(extra)}; expected [[strategy]] tables")
    tables = data.get("strategy", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise StrategyFileError(source, "'strategy' must be an array of tables ([[strategy]])")
    strategies: list[Strategy] = []
    for index, table in enumerate(tables, start=1):
        strategy = _Checker(source, table, index).strategy()
        if any(s.name == strategy.name for s in strategies):
            raise StrategyFileError(source, "the name is used twice", strategy=repr(strategy.name), field="name")
        strategies.append(strategy)
    return strategies


class _Checker:
    """Validates one [[strategy]] table."""

    def __init__(self, source: str, table: dict[str, Any], index: int) -> None:
        self.source, self.table = source, table
        name = table.get("name")
        self.label = repr(name) if isinstance(name, str) and name else f"#{index}"

    def fail(self, field: str | None, problem: str) -> StrategyFileError:
        return StrategyFileError(self.source, problem, strategy=self.label, field=field)

    def strategy(self) -> Strategy:
        name = self.get("name", str, required=True)
        if not _NAME.fullmatch(name):
            raise self.fail("name", "use letters, digits, '.', '_' and '-' only")
        kind = self.get("kind", str, required=True)
        if kind not in KINDS:
            raise self.fail("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
        unknown = sorted(set(self.table) - _COMMON - _BY_KIND[kind])
        if unknown:
            raise self.fail(unknown[0], f"not a field of a {kind!r} strategy")
        common: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "priority": self.get("priority", int, default=0),
            "concurrency": self.get("concurrency", int, default=2, check=(lambda v: v >= 1, "must be at least 1")),
            "enabled": self.get("enabled", bool, default=True),
            "interval": self.number("interval", None),
            "run_at_startup": self.get("run_at_startup", bool, default=False),
            "ttl": self.ttl(),
        }
        if kind == "calls":
            return Strategy(**common, calls=self.calls())
        if kind == "trending":
            top = self.get("top", int, default=20, check=(lambda v: v >= 1, "must be at least 1"))
            return Strategy(**common, top=top, window=self.number("window", 3600.0))
        return Strategy(**common, target=self.target())

    @overload
    def get(self, field: str, kind: type[T], *, required: Literal[True], check: Check[T] | None = None) -> T: ...

    @overload
    def get(self, field: str, kind: type[T], *, default: T, check: Check[T] | None = None) -> T: ...

    @overload
    def get(self, field: str, kind: type[T]) -> T | None: ...

    def get(
        self,
        field: str,
        kind: type[T],
        *,
        required: bool = False,
        default: T | None = None,
        check: Check[T] | None = None,
    ) -> T | None:
        """``table[field]`` checked to be a ``kind`` (and to pass ``check``): ``default`` when
        absent, StrategyFileError when required or wrong."""
        if field not in self.table:
            if required:
                raise self.fail(field, "is required")
            return default
        value = self.table[field]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(field, f"must be {_TYPE_NAMES[kind]}, got {value!r}")
        if check is not None and not check[0](value):
            raise self.fail(field, f"{check[1]}, got {value!r}")
        return value

    @overload
    def number(
        self, field: str, default: float, where: dict[str, Any] | None = None, label: str | None = None
    ) -> float: ...

    @overload
    def number(
        self, field: str, default: None, where: dict[str, Any] | None = None, label: str | None = None
    ) -> float | None: ...

    def number(
        self, field: str, default: float | None, where: dict[str, Any] | None = None, label: str | None = None
    ) -> float | None:
        """``(where or table)[field]`` as a positive number of seconds, ``default`` when absent."""
        table = self.table if where is None else where
        if field not in table:
            return default
        value = table[field]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise self.fail(label or field, f"must be a positive number of seconds, got {value!r}")
        return float(value)

    def ttl(self) -> TtlOverride | None:
        ttl = self.get("ttl", dict)
        if ttl is None:
            return None
        unknown = sorted(set(ttl) - {"fresh", "stale"})
        if unknown or "fresh" not in ttl:
            raise self.fail("ttl", "must be a table { fresh = seconds, stale = seconds } (stale optional)")
        fresh = self.number("fresh", 0.0, ttl, "ttl.fresh")  # present (checked above): 0.0 is never used
        stale = self.number("stale", fresh, ttl, "ttl.stale")
        if stale < fresh:
            raise self.fail("ttl.stale", f"must be at least ttl.fresh ({fresh}), got {stale}")
        return TtlOverride(fresh, stale)

    def calls(self) -> tuple[CallSpec, ...]:
        calls = self.get("calls", list, required=True)
        if not calls:
            raise self.fail("calls", "must list at least one call")
        specs = []
        for number, call in enumerate(calls, start=1):
            field = f"calls[{number}]"
            if not isinstance(call, dict) or set(call) - {"tool", "arguments"}:
                raise self.fail(field, 'must be a table { tool = "name", arguments = { ... } }')
            tool, arguments = call.get("tool"), call.get("arguments", {})
            if not isinstance(tool, str) or not tool:
                raise self.fail(f"{field}.tool", f"must be a tool name, got {tool!r}")
            if not isinstance(arguments, dict):
                raise self.fail(f"{field}.arguments", f"must be a table, got {arguments!r}")
            specs.append(CallSpec(tool, arguments))
        return tuple(specs)

    def target(self) -> str:
        target = self.get("target", str, required=True)
        try:
            resolve_target(target)
        except (ImportError, AttributeError, TypeError, ValueError) as exc:
            raise self.fail("target", str(exc)) from exc
        return target


def resolve_target(target: str) -> Callable[..., Awaitable[Any]]:
    """The async callable named ``"package.module:function"`` (or ``"package.module.function"``)."""
    module_name, _, attribute = target.partition(":") if ":" in target else target.rpartition(".")
    if not module_name or not attribute:
        raise ValueError(f"{target!r} is not a dotted path such as 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"cannot import module {module_name!r}: {exc}") from exc
    function: object = module
    for part in attribute.split("."):
        if not hasattr(function, part):
            raise AttributeError(f"module {module_name!r} has no attribute {attribute!r}")
        function = getattr(function, part)
    if not inspect.iscoroutinefunction(function):
        raise TypeError(f"{target!r} must be an async function taking the cache")
    return function


_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false", list: "an array", dict: "a table"}

"""The package layering holds: server -> tools -> cache, and only through the cache's front doors."""

from __future__ import annotations

import ast
from pathlib import Path

import cache

ROOT = Path(__file__).resolve().parents[1]
FRONT_DOORS = {"cache", "cache.backends", "cache.coordination", "cache.engine", "cache.observe", "cache.warming"}


def _imports(package: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((str(path.relative_to(ROOT)), node.module))
            elif isinstance(node, ast.Import):
                found.extend((str(path.relative_to(ROOT)), alias.name) for alias in node.names)
    return found


def test_server_and_tools_use_only_the_cache_front_doors() -> None:
    private = [
        (where, module)
        for package in ("server", "tools")
        for where, module in _imports(package)
        if (module == "cache" or module.startswith("cache.")) and module not in FRONT_DOORS
    ]
    assert private == []


def test_imports_never_run_back_up_the_layers() -> None:
    upward = [(w, m) for w, m in _imports("cache") if m.split(".")[0] in ("server", "tools")]
    upward += [(w, m) for w, m in _imports("tools") if m.split(".")[0] == "server"]
    assert upward == []


def test_the_front_door_lists_what_it_exports() -> None:
    assert "TieredCache" in cache.__all__
    for name in cache.__all__:
        assert getattr(cache, name) is not None, name


def test_cache_top_level_stays_small() -> None:
    modules = [p for p in (ROOT / "cache").glob("*.py")]
    assert len(modules) <= 12, sorted(p.name for p in modules)

"""A tiny route module for the replay server's own tests (paths under ``/__selftest__``)."""

from __future__ import annotations

from pathlib import Path

from tests.support.replay_routes import Reply, Route


def routes(fixtures_dir: Path) -> list[Route]:
    return [
        Route("/__selftest__/ping", Reply.json({"ok": True, "fixtures": str(fixtures_dir)})),
    ]

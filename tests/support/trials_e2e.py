"""What the trial tools' end-to-end tests share: settings against the replay upstream, the
compact size of an answer, and the text of a result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from server.settings import Settings
from tests.support.replay import ReplayServer


def settings_for(replay: ReplayServer, tmp_path: Path) -> Settings:
    """A server's settings: its own SQLite file, ClinicalTrials.gov at the replay, no rate limit
    worth the name."""
    return Settings(
        _env_file=None,
        sqlite_path=str(tmp_path / "cache.sqlite3"),
        ctgov_base_url=replay.base_url("ctgov"),
        upstreams={"ctgov_rate": "1000/1"},
    )


def size(value: Any) -> int:
    """Bytes of ``value`` as compact JSON."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def text_of(result: Any) -> str:
    """The text blocks of a tool result, joined."""
    return " ".join(getattr(block, "text", "") for block in result.content)

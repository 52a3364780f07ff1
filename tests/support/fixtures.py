"""Where the recorded upstream fixtures live, and a JSON loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson


def fixtures_dir() -> Path:
    """``<repo>/../shared/fixtures``."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"


def load_json(relpath: str) -> Any:
    """Parse ``fixtures_dir() / relpath`` (e.g. ``"ctgov/error_bodies.json"``)."""
    return orjson.loads((fixtures_dir() / relpath).read_bytes())

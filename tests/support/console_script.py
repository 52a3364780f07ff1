"""Running the installed console script (``trialstock-mcp``) as a child process: where it is,
and the environment to give it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

CONSOLE_SCRIPT = str(Path(sys.executable).with_name("trialstock-mcp"))


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The child inherits almost nothing: pass what it needs, with loopback-only upstreams."""
    dead = "http://127.0.0.1:9"  # discard port: no upstream is reachable from these tests
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "TRIALSTOCK_SQLITE_PATH": str(tmp_path / "cache.sqlite3"),
        "TRIALSTOCK_CTGOV_BASE_URL": f"{dead}/api/v2",
        "TRIALSTOCK_TWSE_BASE_URL": dead,
        "TRIALSTOCK_TPEX_BASE_URL": dead,
        "TRIALSTOCK_MIS_BASE_URL": dead,
        "TRIALSTOCK_YAHOO_BASE_URL": dead,
        **extra,
    }


def upstream_env(replay: str) -> dict[str, str]:
    """Point every upstream at the replay process, with the rate limits relaxed for speed."""
    return {
        "TRIALSTOCK_CTGOV_BASE_URL": f"{replay}/api/v2",
        "TRIALSTOCK_TWSE_BASE_URL": replay,
        "TRIALSTOCK_TPEX_BASE_URL": replay,
        "TRIALSTOCK_MIS_BASE_URL": replay,
        "TRIALSTOCK_YAHOO_BASE_URL": replay,
        "TRIALSTOCK_UPSTREAMS__TWSE_RATE": "1000/1",
        "TRIALSTOCK_UPSTREAMS__MIS_RATE": "1000/1",
    }

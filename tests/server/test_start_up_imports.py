"""What ``serve`` imports before its first answer leaves out what only later work needs."""

from __future__ import annotations

import subprocess
import sys

KEPT_OUT = (
    "tenacity",  # the retry loop: loaded at the first retryable outcome
    "httpcore",  # the HTTP pools: built at an upstream's first request
    "h11",
)


def test_importing_serve_leaves_out_what_only_later_work_needs() -> None:
    script = f"import sys, server.serve; print(sorted(n for n in {KEPT_OUT!r} if n in sys.modules))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

"""Process identity for cross-process protocols (invalidation events, the scheduler lease)."""

from __future__ import annotations

import os
import socket
import uuid


def instance_id() -> str:
    """``host:pid:random``: unique per call, readable in logs (the pid says which process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

"""No cyclic garbage collection while ``serve`` starts; what start-up built is then frozen.

Start-up (importing the SDK, pydantic and the tool modules, registering every tool) allocates
hundreds of thousands of objects that live as long as the process: modules, classes, schemas.
The cyclic collector would walk them again and again as they pile up (measured: 160-180 ms of
collections before the first ``tools/list`` answer, against ~90 ms for a one-tool server,
most of it two full collections), and it finds next to nothing to free. So ``serve`` pauses it
from the start of the command line until the server is built, then moves every object alive
at that point into the permanent generation (:func:`gc.freeze`: later collections skip them)
and collects as usual from there on. The state is the collector's own (:func:`gc.isenabled`),
so :func:`resume` may be called more than once.
"""

from __future__ import annotations

import gc


def pause() -> None:
    """Stop cyclic collection until :func:`resume`."""
    gc.disable()


def resume() -> None:
    """Freeze what is alive now and collect as usual again (no-op unless :func:`pause`d)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()

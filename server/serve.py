"""Run the server on the chosen transport (stdio, streamable HTTP or legacy SSE)."""

from __future__ import annotations

import logging

from server.app import build_app
from server.settings import Settings, TransportSettings

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 5  # seconds uvicorn waits for open connections before it closes them


def serve(settings: Settings, *, transport: str | None = None, host: str | None = None, port: int | None = None) -> int:
    """Block serving MCP until interrupted; returns the exit code. stdio is the default transport."""
    settings = with_transport(settings, transport=transport, host=host, port=port)
    app = build_app(settings)
    kind = settings.transport.transport
    if kind == "stdio":
        import anyio

        from server.stdio import serve_stdio

        return anyio.run(serve_stdio, app)
    import uvicorn

    from server.http_app import build_http_app

    asgi = build_http_app(app, settings, kind="http" if kind == "http" else "sse")
    log.warning("serving %s on http://%s:%d", kind, settings.transport.host, settings.transport.port)
    uvicorn.run(
        asgi,
        host=settings.transport.host,
        port=settings.transport.port,
        log_level="warning",
        timeout_graceful_shutdown=SHUTDOWN_TIMEOUT,
    )
    return 0


def with_transport(settings: Settings, **overrides: object) -> Settings:
    """Settings with command-line transport overrides applied and validated like the rest."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return settings
    transport = TransportSettings(**{**settings.transport.model_dump(), **given})
    return settings.model_copy(update={"transport": transport})

"""Run the server on the chosen transport (stdio, streamable HTTP or legacy SSE).

Before anything is built, HTTP and SSE check what an operator may have got wrong, each refused
with one line (exit 2): a non-loopback bind address without a token (anyone who reaches the
address could use the server) unless the operator says so explicitly, and an address that
cannot be listened on (a port in use, an address not of this machine). The listening socket is
bound here and handed to uvicorn, so nothing else can take the port in between.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket

from server import start_up_gc
from server.app import build_app
from server.cli_errors import UsageError
from server.settings import Settings, TransportSettings

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 5  # seconds uvicorn waits for open connections before it closes them


def serve(
    settings: Settings,
    *,
    transport: str | None = None,
    host: str | None = None,
    port: int | None = None,
    allow_unauthenticated: bool = False,
) -> int:
    """Block serving MCP until interrupted; returns the exit code. stdio is the default transport.

    Raises :class:`UsageError` for an HTTP/SSE set-up refused before start (see the module)."""
    settings = with_transport(settings, transport=transport, host=host, port=port)
    kind = settings.transport.transport
    if kind == "stdio":
        import functools

        import anyio

        from server.stdio import serve_stdio

        app = build_app(settings)
        start_up_gc.resume()
        return anyio.run(functools.partial(serve_stdio, app, drain_timeout=settings.transport.stdio_drain_timeout))
    check_exposure(settings, allow_unauthenticated=allow_unauthenticated or settings.auth.allow_unauthenticated)
    sock = listening_socket(settings.transport.host, settings.transport.port)
    try:
        return _serve_http(settings, kind, sock)
    finally:
        sock.close()


def _serve_http(settings: Settings, kind: str, sock: socket.socket) -> int:
    import uvicorn

    from server.http_app import build_http_app

    asgi = build_http_app(build_app(settings), settings, kind="http" if kind == "http" else "sse")
    start_up_gc.resume()
    config = uvicorn.Config(
        asgi,
        host=settings.transport.host,
        port=settings.transport.port,
        log_level="warning",
        timeout_graceful_shutdown=SHUTDOWN_TIMEOUT,
    )
    server = uvicorn.Server(config)
    log.info("serving %s on http://%s", kind, _address(settings.transport.host, settings.transport.port))
    server.run(sockets=[sock])
    return 0 if server.started else 1  # not started: the application's start-up failed (logged)


def check_exposure(settings: Settings, *, allow_unauthenticated: bool) -> None:
    """Refuse a non-loopback bind address without a token, unless explicitly allowed."""
    host = settings.transport.host
    if settings.auth.token is not None or allow_unauthenticated or is_loopback(host):
        return
    raise UsageError(
        f"refusing to serve {settings.transport.transport} on {host} without a token: anyone who reaches "
        f"{_address(host, settings.transport.port)} could use it; set TRIALSTOCK_AUTH_TOKEN, bind 127.0.0.1, "
        "or pass --allow-unauthenticated (TRIALSTOCK_AUTH__ALLOW_UNAUTHENTICATED=true) when something in front "
        "authenticates"
    )


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP address (a wildcard such as 0.0.0.0 or :: is not)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (as uvicorn binds: SO_REUSEADDR, IPv6 for a host with
    ':'), or :class:`UsageError` naming the address and the reason."""
    bare = host.strip("[]")
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on accepted sockets of that protocol; with
    # proto 0 every small response waited out the peer's delayed ACK (~40 ms a call).
    sock = socket.socket(socket.AF_INET6 if ":" in bare else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((bare, port))
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EADDRINUSE:
            reason += " (another process listens there: stop it or choose another --port)"
        raise UsageError(f"cannot listen on {_address(host, port)}: {reason}") from None
    return sock


def _address(host: str, port: int) -> str:
    bare = host.strip("[]")
    return f"[{bare}]:{port}" if ":" in bare else f"{bare}:{port}"


def with_transport(settings: Settings, **overrides: object) -> Settings:
    """Settings with command-line transport overrides applied and validated like the rest."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return settings
    transport = TransportSettings(**{**settings.transport.model_dump(), **given})
    return settings.model_copy(update={"transport": transport})

"""The HTTP transports: streamable HTTP (``/mcp``) and legacy SSE, as one ASGI app each.

- DNS-rebinding protection stays on: only loopback Host headers (plus configured extras and the
  bind host) are accepted; a foreign Host gets 421 from the SDK.
- With ``TRIALSTOCK_AUTH_TOKEN`` set, every path but ``/healthz`` needs ``Authorization: Bearer``.
- ``GET /healthz`` answers 200 without touching upstreams.
"""

from __future__ import annotations

import hmac
from typing import Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from server import __version__
from server.settings import Settings

_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
PUBLIC_PATHS = frozenset({"/healthz"})


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Accept loopback Host headers, the bind host and any configured extras; nothing else."""
    hosts = list(_LOOPBACK)
    bind = settings.transport.host
    if bind not in ("0.0.0.0", "::", *_LOOPBACK, "::1"):
        hosts.append(f"[{bind}]" if ":" in bind else bind)
    hosts.extend(settings.transport.allowed_hosts)
    allowed_hosts = [h for host in hosts for h in (host, f"{host}:*")]
    allowed_origins = [o for host in hosts for o in (f"http://{host}", f"http://{host}:*", f"https://{host}:*")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins
    )


class BearerTokenMiddleware:
    """Reject requests without ``Authorization: Bearer <token>`` (constant-time compare)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"authorization", b"")
        if not hmac.compare_digest(given, self._expected):
            response = JSONResponse(
                {"error": "unauthorized", "message": "send Authorization: Bearer <TRIALSTOCK_AUTH_TOKEN>"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="trialstock-mcp"'},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def add_health_route(mcp: MCPServer) -> None:
    @mcp.custom_route("/healthz", methods=["GET"])
    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})


def build_http_app(mcp: MCPServer, settings: Settings, kind: Literal["http", "sse"] = "http") -> ASGIApp:
    """The ASGI app for ``kind``, with health route, DNS-rebinding protection and optional auth."""
    add_health_route(mcp)
    security = transport_security(settings)
    host = settings.transport.host
    if kind == "http":
        app: ASGIApp = mcp.streamable_http_app(
            streamable_http_path=settings.transport.path, transport_security=security, host=host
        )
    else:
        app = mcp.sse_app(transport_security=security, host=host)
    token = settings.auth.token
    return BearerTokenMiddleware(app, token.get_secret_value()) if token else app

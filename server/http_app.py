"""The HTTP transports: streamable HTTP (``/mcp``) and legacy SSE, as one ASGI app each.

- DNS-rebinding protection stays on for every route: only loopback Host headers (plus configured
  extras and the bind host) are accepted; a foreign Host gets 421.
- With ``TRIALSTOCK_AUTH_TOKEN`` set, every path but ``/healthz`` needs ``Authorization: Bearer``.
- ``GET /healthz`` answers 200 without touching upstreams; ``GET /metrics`` is the Prometheus
  text exposition of the cache statistics and analytics (behind the token when one is set).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from cache.observe import CONTENT_TYPE as METRICS_CONTENT_TYPE
from cache.observe import render_metrics
from server import __version__
from server.app import App
from server.settings import Settings
from tools.http.metrics import render_upstream_metrics

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
    allowed_origins = [
        o for host in hosts for o in (f"http://{host}", f"http://{host}:*", f"https://{host}", f"https://{host}:*")
    ]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins
    )


class HttpGuard:
    """In front of every route (the SDK guards only its MCP endpoint): a Host header outside
    ``allowed_hosts`` gets 421 (DNS-rebinding protection); with a ``token``, every path but
    ``/healthz`` needs ``Authorization: Bearer <token>`` (compared in constant time) or gets 401."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str], token: str | None) -> None:
        self.app = app
        self._exact = {h for h in allowed_hosts if not h.endswith(":*")}
        self._any_port = tuple(h[:-1] for h in allowed_hosts if h.endswith(":*"))  # "host:" prefixes
        self._expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1")
        if not (host in self._exact or host.startswith(self._any_port)):
            await PlainTextResponse("Invalid Host header", status_code=421)(scope, receive, send)
            return
        if self._expected is not None and scope["path"] not in PUBLIC_PATHS:
            if not hmac.compare_digest(headers.get(b"authorization", b""), self._expected):
                response = JSONResponse(
                    {"error": "unauthorized", "message": "send Authorization: Bearer <TRIALSTOCK_AUTH_TOKEN>"},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="trialstock-mcp"'},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def add_routes(mcp: MCPServer, current_state: Callable[[], Any]) -> None:
    """``GET /healthz`` (no upstream touched) and ``GET /metrics`` (Prometheus text format)."""

    @mcp.custom_route("/healthz", methods=["GET"])
    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    @mcp.custom_route("/metrics", methods=["GET"])
    async def metrics(_request: Request) -> Response:
        try:
            state = current_state()
        except RuntimeError:  # legacy SSE builds the state with the first connection
            return JSONResponse({"error": "no client has connected yet; no cache to report"}, status_code=503)
        text = render_metrics(state.services.cache, state.services.analytics)
        text += render_upstream_metrics(client.status() for client in state.services.upstreams.values())
        return PlainTextResponse(text, media_type=METRICS_CONTENT_TYPE)


def build_http_app(app: App, settings: Settings, kind: Literal["http", "sse"] = "http") -> ASGIApp:
    """The ASGI app for ``kind``, with health and metrics routes, DNS-rebinding protection and
    optional bearer auth."""
    mcp, lifespan = app.mcp, app.lifespan
    add_routes(mcp, lambda: lifespan.current)
    security = transport_security(settings)
    host = settings.transport.host
    if kind == "http":
        asgi: ASGIApp = mcp.streamable_http_app(
            streamable_http_path=settings.transport.path, transport_security=security, host=host
        )
    else:
        asgi = mcp.sse_app(transport_security=security, host=host)
    token = settings.auth.token
    return HttpGuard(asgi, security.allowed_hosts, token.get_secret_value() if token else None)

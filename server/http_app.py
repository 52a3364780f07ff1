"""The HTTP transports: streamable HTTP (``/mcp``) and legacy SSE, as one ASGI app each.

- DNS-rebinding protection stays on for every route: only loopback Host headers (plus configured
  extras and the bind host) are accepted; a foreign Host gets 421.
- With ``TRIALSTOCK_AUTH_TOKEN`` set, every path but ``/healthz`` and ``/readyz`` needs
  ``Authorization: Bearer <token>`` (the scheme in any letter case, RFC 7235).
- ``GET /healthz`` (liveness) answers 200 without touching anything; ``GET /readyz``
  (readiness, :mod:`server.readiness`) pings the cache tiers and reads the upstream breakers,
  503 when not ready; both are public, so load balancers can probe them without the token.
  ``GET /metrics`` is the Prometheus text exposition of the cache statistics and analytics.
- Streamable HTTP keeps at most ``TRIALSTOCK_TRANSPORT__MAX_SESSIONS`` sessions (503 beyond)
  and closes one idle for ``TRIALSTOCK_TRANSPORT__SESSION_IDLE_TIMEOUT`` seconds.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
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
from server.readiness import readiness
from server.settings import Settings
from tools.http.metrics import render_upstream_metrics

_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})


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
    :data:`PUBLIC_PATHS` needs ``Authorization: Bearer <token>`` (the scheme in any case, the
    token compared in constant time) or gets 401."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str], token: str | None) -> None:
        self.app = app
        self._exact = {h for h in allowed_hosts if not h.endswith(":*")}
        self._any_port = tuple(h[:-1] for h in allowed_hosts if h.endswith(":*"))  # "host:" prefixes
        self._token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1")
        if not (host in self._exact or host.startswith(self._any_port)):
            await PlainTextResponse("Invalid Host header", status_code=421)(scope, receive, send)
            return
        if self._token is not None and scope["path"] not in PUBLIC_PATHS:
            if not self._authorized(headers.get(b"authorization", b"")):
                response = JSONResponse(
                    {"error": "unauthorized", "message": "send Authorization: Bearer <TRIALSTOCK_AUTH_TOKEN>"},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="trialstock-mcp"'},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _authorized(self, header: bytes) -> bool:
        """``Bearer <token>``: the scheme is case-insensitive and may be followed by several
        spaces (RFC 7235 ``1*SP``); the token is compared in constant time."""
        assert self._token is not None
        scheme, _, credentials = header.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(credentials.lstrip(b" "), self._token)


def add_routes(mcp: MCPServer, current_state: Callable[[], Any]) -> None:
    """``GET /healthz`` (nothing touched), ``GET /readyz`` (tiers pinged, breakers read) and
    ``GET /metrics`` (Prometheus text format)."""

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    async def readyz(_request: Request) -> Response:
        try:
            services = current_state().services
        except RuntimeError:  # asked before start-up finished: nothing to check yet
            return JSONResponse({"ready": True, "tiers": {}, "upstreams": {}, "reasons": []})
        verdict = readiness(await services.cache.ping(), [client.status() for client in services.upstreams.values()])
        return JSONResponse(verdict.body, status_code=200 if verdict.ready else 503)

    async def metrics(_request: Request) -> Response:
        try:
            state = current_state()
        except RuntimeError:  # asked before start-up finished
            return JSONResponse({"error": "no client has connected yet; no cache to report"}, status_code=503)
        text = render_metrics(state.services.cache, state.services.analytics)
        text += render_upstream_metrics(client.status() for client in state.services.upstreams.values())
        return PlainTextResponse(text, media_type=METRICS_CONTENT_TYPE)

    for path, endpoint in (("/healthz", healthz), ("/readyz", readyz), ("/metrics", metrics)):
        mcp.custom_route(path, methods=["GET"])(endpoint)


def _held_for_the_process(app: App) -> Callable[[object], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_asgi: object) -> AsyncIterator[None]:
        async with app.lifespan(app.mcp):
            yield

    return lifespan


def build_http_app(app: App, settings: Settings, kind: Literal["http", "sse"] = "http") -> ASGIApp:
    """The ASGI app for ``kind``, with health and metrics routes, DNS-rebinding protection and
    optional bearer auth."""
    mcp, lifespan = app.mcp, app.lifespan
    add_routes(mcp, lambda: lifespan.current)
    security = transport_security(settings)
    host = settings.transport.host
    if kind == "http":
        asgi: ASGIApp = mcp.streamable_http_app(
            streamable_http_path=settings.transport.path,
            transport_security=security,
            host=host,
            max_sessions=settings.transport.max_sessions,
            session_idle_timeout=settings.transport.session_idle_timeout,
        )
    else:
        sse = mcp.sse_app(transport_security=security, host=host)
        # The SDK enters the state per SSE connection; held from start-up to shutdown here, it
        # lives for the process (as with streamable HTTP) instead of being rebuilt, with an
        # empty memory tier and fresh breakers, whenever the last client leaves.
        sse.router.lifespan_context = _held_for_the_process(app)
        asgi = sse
    token = settings.auth.token
    return HttpGuard(asgi, security.allowed_hosts, token.get_secret_value() if token else None)

"""The replay upstream: a real HTTP server on 127.0.0.1 answering with recorded responses.

One server stands in for every upstream. Point clients at ``replay.base_url("ctgov")``
(``http://127.0.0.1:PORT/api/v2``) or ``replay.base_url()`` (``http://127.0.0.1:PORT``, for
twse, tpex, mis and yahoo); the real upstream paths do not collide. Routes come from the
modules of ``tests.support.replay_routes`` (see its docstring for the ``Route``/``Reply`` API)
plus any ``routes=`` given to the constructor or added with ``add_route``.

In a test (uvicorn runs in a background thread with its own event loop, so it serves sync and
async tests alike)::

    with ReplayServer() as replay:
        client = build_upstream("ctgov", replay.base_url("ctgov"), ...)
        replay.script("/api/v2/studies", Reply(429, {"Retry-After": "2"}), times=2)
        ...
        assert replay.count("/api/v2/studies") == 3

As a process (end-to-end tests): ``python -m tests.support.replay --port 0 --print-port``
prints the port on stdout, then serves until SIGINT/SIGTERM; ``--latency``,
``--failure-rate``, ``--reset-rate``, ``--seed`` and ``--fixtures`` set the knobs.
``GET /__replay__/stats`` returns the per-path counters as JSON, ``POST /__replay__/reset``
resets the knobs and counters, ``POST /__replay__/knobs?latency=5&failure_rate=0.3&reset_rate=0``
changes the given knobs while it runs (and answers with all of them).

Each request, in order: logged and counted -> delayed by ``latency`` -> answered by the next
scripted reply queued for its path (or for any path) -> failed with 503 at ``failure_rate``
(seeded RNG) -> its connection reset at ``reset_rate`` -> answered by the first matching route
-> else 404 "no recorded response for <path>?<query>". The knobs and the request log live in
:mod:`tests.support.replay_control`; a scripted :data:`RESET` resets one request's connection.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import struct
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import uvicorn

from tests.support.replay_control import RESET, LoggedRequest, ReplayControl
from tests.support.replay_routes import Reply, Route, RouteRequest, answer, load_routes

__all__ = ["DEFAULT_FIXTURES", "RESET", "LoggedRequest", "ReplayServer", "Reply", "Route", "RouteRequest"]

DEFAULT_FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
_CONTROL = "/__replay__/"
_LATENCY_SLICE = 0.05  # seconds between looks at the latency knob while a request is held


class ReplayApp:
    """The ASGI application: control endpoints, knobs, then the route table."""

    def __init__(self, routes: list[Route], control: ReplayControl) -> None:
        self.routes = routes
        self.control = control

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        method, path, raw_query = scope["method"], scope["path"], scope["query_string"].decode("latin-1")
        reply = (
            self._control_reply(method, path, raw_query)
            if path.startswith(_CONTROL)
            else await self._reply(method, path, raw_query, scope)
        )
        if reply is RESET:
            await _reset_connection(send)
            return
        headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in reply.headers.items()
            if k.lower() != "content-length"
        ]
        headers.append((b"content-length", str(len(reply.body)).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})

    async def _reply(self, method: str, path: str, raw_query: str, scope: dict[str, Any]) -> Reply:
        arrived = time.monotonic()
        _, scripted = self.control.arrive(method, path, raw_query)
        # Held while the knob says so: lowering the latency releases requests already held.
        while (left := arrived + self.control.latency() - time.monotonic()) > 0:
            await asyncio.sleep(min(left, _LATENCY_SLICE))
        if scripted is not None:
            return scripted
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        reply = answer(list(self.routes), RouteRequest(method, path, query, raw_query, headers))
        if reply is not None:
            return reply
        target = f"{path}?{raw_query}" if raw_query else path
        return Reply.text(f"no recorded response for {target}", status=404)

    def _control_reply(self, method: str, path: str, raw_query: str) -> Reply:
        if path == _CONTROL + "stats":
            return Reply.json({"total": self.control.count(), "paths": self.control.counts()})
        if path == _CONTROL + "reset" and method == "POST":
            self.control.reset()
            return Reply.json({"reset": True})
        if path == _CONTROL + "knobs" and method == "POST":
            return self._set_knobs(dict(parse_qsl(raw_query)))
        return Reply.text(f"unknown control endpoint {path}", status=404)

    def _set_knobs(self, query: dict[str, str]) -> Reply:
        try:
            values = {name: float(value) for name, value in query.items() if name != "seed"}
            seed = int(query.get("seed", "0"))
        except ValueError as exc:
            return Reply.text(f"bad knob value: {exc}", status=400)
        setters = {
            "latency": self.control.set_latency,
            "failure_rate": lambda rate: self.control.set_failure_rate(rate, seed),
            "reset_rate": lambda rate: self.control.set_reset_rate(rate, seed),
        }
        unknown = sorted(set(values) - set(setters))
        if unknown:
            return Reply.text(f"unknown knob(s) {', '.join(unknown)}; known: {', '.join(setters)}", status=400)
        for name, value in values.items():
            setters[name](value)
        return Reply.json(self.control.knobs())


async def _reset_connection(send: Any) -> None:
    """Close the request's connection without answering: an RST (SO_LINGER 0), not a FIN.

    ASGI has no way to say this, so it reaches uvicorn's transport through the ``send`` it
    handed us (a bound method of its request cycle); then it yields once so uvicorn sees the
    connection gone before the app returns (else it would try to answer 500)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("this ASGI server does not expose its transport: cannot reset a connection")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    await asyncio.sleep(0)


class ReplayServer:
    """Serve the replay app on 127.0.0.1 (a free port by default) from a background thread.

    The knob methods (``set_latency``, ``set_failure_rate``, ``set_reset_rate``, ``script``,
    ``count``, ``counts``, ``log``, ``request_times``, ``reset``) are those of ``ReplayControl``.
    """

    def __init__(
        self,
        fixtures_dir: Path | None = None,
        *,
        routes: list[Route] | None = None,
        load_modules: bool = True,
        port: int = 0,
        latency: float = 0.0,
        failure_rate: float = 0.0,
        seed: int = 0,
        reset_rate: float = 0.0,
    ) -> None:
        self.fixtures_dir = Path(fixtures_dir) if fixtures_dir is not None else DEFAULT_FIXTURES
        table = list(routes or [])
        if load_modules:
            table.extend(load_routes(self.fixtures_dir))
        self.control = ReplayControl(latency, failure_rate, seed, reset_rate)
        self.app = ReplayApp(table, self.control)
        self._socket = _bind(port)
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
            loop="asyncio",
            timeout_graceful_shutdown=5,
            log_level="warning",
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        # The knobs, straight from the control object.
        self.set_latency = self.control.set_latency
        self.set_failure_rate = self.control.set_failure_rate
        self.set_reset_rate = self.control.set_reset_rate
        self.script = self.control.script
        self.count = self.control.count
        self.counts = self.control.counts
        self.log = self.control.log
        self.request_times = self.control.request_times
        self.reset = self.control.reset

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def base_url(self, upstream: str | None = None) -> str:
        """Base URL for an upstream: ctgov lives under ``/api/v2``, the others at the root."""
        return f"{self.url}/api/v2" if upstream == "ctgov" else self.url

    def add_route(self, route: Route, *, first: bool = True) -> None:
        """Add a route at run time (before the loaded ones unless ``first=False``)."""
        if first:
            self.app.routes.insert(0, route)
        else:
            self.app.routes.append(route)

    def start(self, timeout: float = 10.0) -> ReplayServer:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="replay-upstream", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("replay server did not start")
            time.sleep(0.005)  # polling a flag uvicorn sets; bounded by the deadline
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving; requests still held by the latency knob are released and answered first."""
        self.control.set_latency(0.0)
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError("replay server did not stop")
            self._thread = None
        self._socket.close()

    def serve_forever(self) -> None:
        """Serve in the calling (main) thread until SIGINT/SIGTERM, then exit with status 0."""
        # uvicorn re-raises the stop signal after its graceful shutdown; answer it with a
        # clean exit instead of dying by the signal.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _exit_cleanly)
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _bind(port: int) -> socket.socket:
    # proto=IPPROTO_TCP so asyncio sets TCP_NODELAY on accepted connections (else ~40 ms per request)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)  # connections queue from now on, so the port can be published at once
    return sock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.replay", description="Replay upstream server.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--print-port", action="store_true", help="print the port on stdout once listening")
    parser.add_argument("--fixtures", type=Path, default=None, help=f"fixtures dir (default {DEFAULT_FIXTURES})")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--failure-rate", type=float, default=0.0, help="fraction of requests answered 503")
    parser.add_argument("--reset-rate", type=float, default=0.0, help="fraction of connections reset unanswered")
    parser.add_argument("--seed", type=int, default=0, help="seed of the failure RNG")
    args = parser.parse_args(argv)
    server = ReplayServer(
        args.fixtures,
        port=args.port,
        latency=args.latency,
        failure_rate=args.failure_rate,
        seed=args.seed,
        reset_rate=args.reset_rate,
    )
    if args.print_port:
        print(server.port, flush=True)
    print(f"replay upstream on {server.url} (fixtures {server.fixtures_dir})", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

"""The TLS context the upstream clients share, loaded on a thread while start-up goes on.

Loading the CA bundle (``httpx.create_ssl_context``: certifi's file, or ``SSL_CERT_FILE`` /
``SSL_CERT_DIR``) takes 30-80 ms, nearly all of it inside OpenSSL, which runs without the GIL.
:class:`TlsContext` starts that load on a daemon thread as soon as it is created, so it
overlaps with whatever the process does next (registering the tools, the handshake), and the
lifespan awaits it only when it builds the clients. A load that failed raises its error there,
as a load in place would have.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import Future

import httpx


class TlsContext:
    """One ``ssl.SSLContext`` for every upstream client, loaded on a daemon thread from creation
    (the thread never holds the process at exit)."""

    def __init__(self, load: Callable[[], ssl.SSLContext] = httpx.create_ssl_context) -> None:
        """``load`` builds the context (httpx's default: the CA bundle, honouring the environment)."""
        self._loaded: Future[ssl.SSLContext] = Future()
        self._load = load
        threading.Thread(target=self._run, name="tls-context", daemon=True).start()

    def _run(self) -> None:
        try:
            self._loaded.set_result(self._load())
        except BaseException as exc:  # handed to whoever awaits the context
            self._loaded.set_exception(exc)

    async def get(self) -> ssl.SSLContext:
        """The loaded context (waits for the thread if it has not finished); raises what the
        load raised."""
        return await asyncio.wrap_future(self._loaded)

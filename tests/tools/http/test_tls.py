"""The shared TLS context loads on a thread; its error, if any, surfaces where it is awaited."""

from __future__ import annotations

import ssl
import threading

import pytest

from tools.http.tls import TlsContext


async def test_the_context_loads_on_another_thread_and_is_the_same_every_time() -> None:
    threads: list[threading.Thread] = []

    def load() -> ssl.SSLContext:
        threads.append(threading.current_thread())
        return ssl.create_default_context()

    tls = TlsContext(load)
    first = await tls.get()
    assert await tls.get() is first
    assert threads and threads[0] is not threading.current_thread() and threads[0].daemon
    assert len(threads) == 1


async def test_a_failed_load_raises_its_error_where_the_context_is_awaited() -> None:
    def load() -> ssl.SSLContext:
        raise FileNotFoundError("no CA bundle at /nowhere/ca.pem")

    tls = TlsContext(load)
    with pytest.raises(FileNotFoundError, match="/nowhere/ca.pem"):
        await tls.get()

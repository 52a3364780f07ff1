"""Per-code MIS reads joined into shared requests: the loaders of the quote cache call this.

Every Taiwan quote is read through the cache engine, one key per code (single-flight, stale
while revalidate, stale on error). Loaders run one code at a time, but MIS takes up to
``max_channels`` channels per request and TWSE allows about 3 requests per 5 seconds, so the
loaders do not call MIS themselves: :meth:`MisBatcher.entry` queues the code and waits for a
shared request, and one flush sends every queued code in as few requests as the channel limit
allows (concurrent requests, spaced by the HTTP layer's rate limiter).

When to flush. A caller with a batch of codes announces them first (:meth:`MisBatcher.expect`,
a :class:`Ticket`); a flush waits until each announced code is accounted for (queued, in a
request already, or answered by the cache) so that one caller's cold codes leave together,
and codes queued meanwhile by other callers join the same request. It never waits longer than
``window`` seconds (a code may wait on another process's lock, or on another flight). A code
already in a request is joined, not asked again. Every waiting loader gets an answer: the
entry, None (MIS has none), the request's error, or an error when the flush itself failed.

Markets: a code of unknown market takes both channels unless :class:`MarketBook` knows it
(looked up once per flush); markets learned from the answers are remembered there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cache import stop_tasks
from tools.http.errors import UpstreamError
from tools.stocks.mis import MisRealtime, channels_for, entry_code, entry_market
from tools.stocks.models import Market
from tools.stocks.symbols import MarketBook

log = logging.getLogger(__name__)

Entry = dict[str, Any]
_BOTH: tuple[Market, ...] = ("TWSE", "TPEx")


@dataclass(eq=False)
class Ticket:
    """Codes one caller is about to read; :meth:`done` each one once the cache has answered it."""

    codes: frozenset[str]
    changed: asyncio.Event  # the batcher's: a flush waiting for this ticket looks again
    finished: set[str] = field(default_factory=set)

    def done(self, code: str) -> None:
        self.finished.add(code)
        self.changed.set()


@dataclass(eq=False)
class _Waiter:
    market: Market | None  # None: whichever market lists the code
    future: asyncio.Future[Entry | None]


class MisBatcher:
    """Queues per-code reads and sends them to MIS together; see the module docstring."""

    def __init__(self, mis: MisRealtime, book: MarketBook, *, max_channels: int, window: float) -> None:
        self._mis, self._book = mis, book
        self._max_channels, self._window = max_channels, window
        self._queued: dict[str, list[_Waiter]] = {}
        self._sending: dict[str, tuple[set[Market], list[_Waiter]]] = {}  # code -> (markets asked, waiters)
        self._tickets: set[Ticket] = set()
        self._changed = asyncio.Event()
        self._flush: asyncio.Task[None] | None = None  # the flush gathering codes now
        self._tasks: set[asyncio.Task[None]] = set()  # every flush not finished (gathering or sending)

    @contextmanager
    def expect(self, codes: Iterable[str]) -> Iterator[Ticket]:
        """Announce ``codes`` for the duration of the block (flushes wait for them, bounded)."""
        ticket = Ticket(frozenset(codes), self._changed)
        self._tickets.add(ticket)
        try:
            yield ticket
        finally:
            self._tickets.discard(ticket)
            self._changed.set()

    async def entry(self, code: str, market: Market | None) -> Entry | None:
        """The MIS entry of ``code`` (on ``market`` when given), None when MIS has none; the
        request's :class:`UpstreamError` when it failed."""
        waiter = _Waiter(market, asyncio.get_running_loop().create_future())
        sending = self._sending.get(code)
        if sending is not None and (market is None or market in sending[0]):
            sending[1].append(waiter)  # joins the request already under way
        else:
            self._queued.setdefault(code, []).append(waiter)
            if self._flush is None:
                self._flush = asyncio.create_task(self._run_flush(), name="mis-batch")
                self._tasks.add(self._flush)
                self._flush.add_done_callback(self._tasks.discard)
        self._changed.set()
        return await waiter.future

    async def aclose(self) -> None:
        """Cancel the flushes under way, and with them the loaders waiting on them; for shutdown."""
        await stop_tasks(list(self._tasks))

    # -- flushing ----------------------------------------------------------------------------

    async def _run_flush(self) -> None:
        try:
            await self._gather(list(self._tickets))
            await asyncio.sleep(0)  # loaders started in this same turn of the loop come along
        except BaseException as exc:  # cancelled (shutdown) before sending: so are the loaders
            batch, self._queued = self._queued, {}
            for waiters in batch.values():
                _fail(waiters, exc)
            raise
        finally:
            self._flush = None
        batch, self._queued = self._queued, {}
        if batch:
            await self._send(batch)

    async def _gather(self, tickets: list[Ticket]) -> None:
        """Wait until ``tickets`` are accounted for, at most ``window`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._window
        while not self._ready(tickets):
            self._changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return

    def _ready(self, tickets: list[Ticket]) -> bool:
        return all(
            code in ticket.finished or code in self._queued or code in self._sending
            for ticket in tickets
            if ticket in self._tickets
            for code in ticket.codes
        )

    async def _send(self, batch: dict[str, list[_Waiter]]) -> None:
        markets = {code: _asked(waiters) for code, waiters in batch.items()}
        for code, asked in markets.items():  # from now on, readers of these codes join this request
            self._sending[code] = (asked, batch[code])
        try:
            await self._narrow(markets)
            entries, failures = await self._fetch(markets)
            learned = {code: entry_market(entry) for code, entry in entries.items() if len(markets[code]) > 1}
            await self._book.remember({code: market for code, market in learned.items() if market is not None})
        except BaseException as exc:  # never leave a loader waiting
            for waiters in batch.values():
                _fail(waiters, exc)
            if not isinstance(exc, Exception):
                raise
            log.exception("MIS batch failed")
            return
        finally:
            for code in markets:
                self._sending.pop(code, None)
        for code, waiters in batch.items():
            _settle(waiters, entries.get(code), failures.get(code))

    async def _narrow(self, markets: dict[str, set[Market]]) -> None:
        """A code asked on any market (both channels) takes only its learned market's channel,
        unless a waiter named the other market."""
        open_codes = [code for code in markets if _open(self._sending[code][1])]
        known = await self._book.known(open_codes) if open_codes else {}
        for code, market in known.items():
            named = {waiter.market for waiter in self._sending[code][1] if waiter.market is not None}
            markets[code].intersection_update({market, *named})  # in place: joiners see it too

    async def _fetch(self, markets: dict[str, set[Market]]) -> tuple[dict[str, Entry], dict[str, UpstreamError]]:
        """Entries by code, and the error of each code whose request failed (and had no entry)."""
        channels = [
            (channel, code)
            for code, asked in markets.items()
            for market in _BOTH
            if market in asked
            for channel in channels_for(code, market)
        ]
        size = self._max_channels
        chunks = [channels[start : start + size] for start in range(0, len(channels), size)]
        outcomes = await asyncio.gather(*(self._request([name for name, _ in chunk]) for chunk in chunks))
        entries: dict[str, Entry] = {}
        failures: dict[str, UpstreamError] = {}
        for chunk, outcome in zip(chunks, outcomes, strict=True):
            if isinstance(outcome, UpstreamError):
                failures.update({code: outcome for _, code in chunk})
                continue
            for entry in outcome:
                code = entry_code(entry)
                if code in markets and entry_market(entry) in markets[code]:
                    entries[code] = entry
        return entries, {code: error for code, error in failures.items() if code not in entries}

    async def _request(self, channels: list[str]) -> list[Entry] | UpstreamError:
        try:
            return await self._mis.fetch(channels)
        except UpstreamError as exc:
            return exc


def _asked(waiters: list[_Waiter]) -> set[Market]:
    return set(_BOTH) if _open(waiters) else {waiter.market for waiter in waiters if waiter.market is not None}


def _open(waiters: list[_Waiter]) -> bool:
    return any(waiter.market is None for waiter in waiters)


def _settle(waiters: list[_Waiter], entry: Entry | None, error: UpstreamError | None) -> None:
    for waiter in waiters:
        if waiter.future.done():  # its loader was cancelled
            continue
        if entry is not None and waiter.market in (None, entry_market(entry)):
            waiter.future.set_result(entry)
        elif error is not None:
            waiter.future.set_exception(error)
        else:
            waiter.future.set_result(None)


def _fail(waiters: list[_Waiter], error: BaseException) -> None:
    """The flush failed (a bug) or was cancelled (shutdown): its loaders fail or are cancelled too."""
    for waiter in waiters:
        if waiter.future.done():
            continue
        if isinstance(error, Exception):
            waiter.future.set_exception(error)
        else:
            waiter.future.cancel()

"""Data-version watch: when ClinicalTrials.gov refreshes its data, drop our trial caches.

``/version`` answers ``{apiVersion, dataTimestamp}``; the timestamp moves when the data set
is refreshed (about daily). :meth:`DataVersionWatch.poke` is called on every service call:
at most once per ``interval`` seconds it starts a background check and returns at once, so
no tool call ever waits for /version (the check runs outside the calling tool's deadline, under
the HTTP layer's background deadline); that check is skipped when any process sharing the cache
checked within the interval (the time of the last check is kept in the cache too). The last timestamp seen is kept in the cache itself
(namespace ``trials.meta``), so a change that happened while the server was down is noticed
at the first check after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from cache import CachePolicy, TieredCache, detached_context, make_key, stop_tasks
from tools.clinical_trials.client import CtgovClient
from tools.http.errors import UpstreamError

log = logging.getLogger(__name__)

NS_META = "trials.meta"
_KEY = make_key(NS_META, {"item": "data_timestamp"})
_CHECKED_KEY = make_key(NS_META, {"item": "data_timestamp_checked_at"})
_KEEP = 365 * 86_400.0


class DataVersionWatch:
    """Invalidate ``namespaces`` of ``cache`` when ``/version``'s dataTimestamp moves."""

    def __init__(
        self,
        client: CtgovClient,
        cache: TieredCache,
        namespaces: Sequence[str],
        interval: float,
        clock: Callable[[], float],
    ) -> None:
        self._client = client
        self._cache = cache
        self._namespaces = tuple(namespaces)
        self._interval = interval
        self._clock = clock
        self._policy = CachePolicy(NS_META, _KEEP, _KEEP)
        self._last_check: float | None = None
        self._known: str | None = None
        self._task: asyncio.Task[bool] | None = None
        self.invalidations = 0

    @property
    def known(self) -> str | None:
        """The last dataTimestamp this process saw (or adopted)."""
        return self._known

    def adopt(self, stamp: str) -> None:
        """Another process saw ``stamp`` and already invalidated the trial caches everywhere:
        take it as known, so this process's next check does not invalidate a second time."""
        self._known = stamp

    @property
    def task(self) -> asyncio.Task[bool] | None:
        """The last background check started (running or done), if any."""
        return self._task

    def poke(self) -> None:
        """Start a background check if none ran in the last ``interval`` seconds; never waits."""
        now = self._clock()
        if self._task is not None and not self._task.done():
            return
        if self._last_check is not None and now - self._last_check < self._interval:
            return
        self._last_check = now
        self._task = asyncio.get_running_loop().create_task(
            self._background(), name="ctgov-version-check", context=detached_context()
        )

    async def check(self) -> bool:
        """Read /version now; True when the data moved and the namespaces were invalidated.

        The first timestamp ever seen (nothing stored) is only recorded. Upstream failures
        are logged and leave everything as it was.
        """
        try:
            stamp = (await self._client.version()).get("dataTimestamp")
        except UpstreamError as exc:
            log.warning("ClinicalTrials.gov /version check failed: %s", exc)
            return False
        if not isinstance(stamp, str) or not stamp:
            return False
        # Plain get/set on purpose: these are the check's bookkeeping (the previous stamp must be
        # compared with the new one, never answered in its place); the /version read itself runs
        # at most once per interval per deployment (poke's task and _CHECKED_KEY).
        await self._cache.set(_CHECKED_KEY, self._clock(), self._policy)
        previous = self._known if self._known is not None else await self._stored()
        self._known = stamp
        if previous == stamp:
            return False
        await self._cache.set(_KEY, stamp, self._policy)
        if previous is None:
            return False
        log.info("ClinicalTrials.gov data moved from %s to %s: invalidating %s", previous, stamp, self._namespaces)
        for namespace in self._namespaces:
            await self._cache.invalidate_namespace(namespace)
        self.invalidations += 1
        return True

    async def check_if_due(self) -> bool:
        """:meth:`check`, unless any process sharing the cache checked within ``interval``
        (so restarts, CLI runs and every server of a deployment do not each ask /version)."""
        found = await self._cache.get(_CHECKED_KEY)
        if found is not None and isinstance(found.value, (int, float)):
            if self._clock() - found.value < self._interval:
                return False
        return await self.check()

    async def _background(self) -> bool:
        try:
            return await self.check_if_due()
        except Exception:  # a background task has nobody to raise to
            log.exception("ClinicalTrials.gov data-version check failed")
            return False

    async def aclose(self) -> None:
        """Cancel a running check."""
        task, self._task = self._task, None
        await stop_tasks([task])

    async def _stored(self) -> str | None:
        found = await self._cache.get(_KEY)
        return found.value if found is not None and isinstance(found.value, str) else None

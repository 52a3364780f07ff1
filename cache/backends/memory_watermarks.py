"""When the memory tier's items were last used, without storing a time per item: watermarks.

Last use is NOT stored per item: a float per item set on every hit measured about 2% of
``get_entry`` (within noise) but costs 32 bytes per entry (a slot and a float object), most of
what not storing the size saves. Instead the LRU order already says which items were touched
least recently, and *watermarks* say when: :meth:`Watermarks.place` (called by the engine on
its sampled lookups, at most once per ``every`` seconds) appends a sentinel to the LRU order.
Hits and writes move an item behind every sentinel; so every item still in front of a sentinel
placed at time ``t`` has been neither read nor written since ``t``. "Unused since ``cutoff``"
therefore means "in front of the newest watermark placed at or before ``cutoff``": never an
item used after ``cutoff``, possibly fewer than all unused ones (granularity: the watermark
spacing; none before the first watermark). At most :data:`MAX_WATERMARKS` are kept; beyond that
the one whose removal leaves the smallest gap relative to its age goes, so the spacing grows
with age (roughly geometric: fine for recent cutoffs, coarse for old ones, the oldest kept).
Sentinels are not str keys: the owner never looks them up, matches or counts them.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Generic, TypeVar

__all__ = ["MAX_WATERMARKS", "Watermark", "Watermarks"]

V = TypeVar("V")
MAX_WATERMARKS = 64


class Watermark:
    """A sentinel in the LRU order: when it was placed. Not a str, so never a cache key."""

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = at


class Watermarks(Generic[V]):
    """The watermarks placed in ``order`` (the owner's LRU OrderedDict), each stored there with
    the value ``filler`` (which the owner must treat as expired and never return)."""

    __slots__ = ("_order", "_filler", "_marks")

    def __init__(self, order: OrderedDict[object, V], filler: V) -> None:
        self._order = order
        self._filler = filler
        self._marks: deque[Watermark] = deque()  # oldest first, in LRU order too

    def place(self, now: float, every: float) -> bool:
        """Place a watermark at ``now`` unless the last one is under ``every`` seconds old; True
        when placed. O(1) but for thinning (O(64), at most once per interval)."""
        marks = self._marks
        if marks and now - marks[-1].at < every:
            return False
        mark = Watermark(now)
        self._order[mark] = self._filler
        marks.append(mark)
        if len(marks) > MAX_WATERMARKS:  # drop the inner one leaving the gap smallest for its age
            index = min(
                range(1, len(marks) - 1),
                key=lambda i: (marks[i + 1].at - marks[i - 1].at) / (now - marks[i + 1].at + every),
            )
            del self._order[marks[index]]
            del marks[index]
        return True

    def newest_by(self, cutoff: float) -> Watermark | None:
        """The newest watermark placed at or before ``cutoff``, or None."""
        return next((mark for mark in reversed(self._marks) if mark.at <= cutoff), None)

    def drop_if_oldest(self, key: object) -> bool:
        """When ``key`` is the oldest watermark (it reached the LRU end), remove it; True then."""
        marks = self._marks
        if marks and key is marks[0]:
            del self._order[key]
            marks.popleft()
            return True
        return False

    def forget(self) -> None:
        """Forget every watermark (the owner has cleared ``order``)."""
        self._marks.clear()

    def __len__(self) -> int:
        return len(self._marks)

"""The engine: :class:`TieredCache` and the collaborators it is composed of.

Lookups over the tiers (``reader``), what happens on a memory miss (``read_through``),
single-flight in and across processes (``singleflight``, ``locked_loader``), running loaders
(``loading``), read results and how reads are counted (``results``), one breaker and one
deadline timer per tier (``tier_guard``, ``deadlines``), writes to every tier (``writes``),
invalidation by key, tag, pattern, namespace, age and disuse (``invalidation``,
``invalidator``, ``age_scan``), the per-tier views used by maintenance and statistics
(``views``) and the counters every tier and namespace keeps (``stats``). :class:`TieredCache`
builds each collaborator in its constructor and delegates to it; observers subscribe through
its ``subscribe_*`` methods.
"""

from cache.engine.invalidator import InvalidationEvent, InvalidationHook
from cache.engine.loading import HitWatcher
from cache.engine.locked_loader import Locker
from cache.engine.stats import CacheStats
from cache.engine.tiered import Loader, TieredCache

__all__ = ["CacheStats", "HitWatcher", "InvalidationEvent", "InvalidationHook", "Loader", "Locker", "TieredCache"]

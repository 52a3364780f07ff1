"""What the processes of one deployment share beyond cached values.

Invalidation and domain events over Redis pub/sub (``events``, ``event_codec``,
``domain_events``, ``event_subscription``), the memory sync through the SQLite file when there
is no Redis (``memory_sync``), the scheduler lease (``lease``), run-time tunables such as the
refresh-ahead cost cutoff (``tunables``) and the small key-value stores they sit on
(``shared_store``).
"""

from cache.coordination.event_codec import DomainEvent
from cache.coordination.events import EventBus, EventPublishError
from cache.coordination.instance import instance_id
from cache.coordination.lease import Lease, LeaseError, LeaseKeeper, LocalLease
from cache.coordination.memory_sync import MemorySync
from cache.coordination.shared_store import SharedStore, redis_scope_key, shared_store_for
from cache.coordination.tunables import TunableError, Tunables, TunableStoreError, tunables_for

__all__ = [
    "DomainEvent",
    "EventBus",
    "EventPublishError",
    "Lease",
    "LeaseError",
    "LeaseKeeper",
    "LocalLease",
    "MemorySync",
    "SharedStore",
    "TunableError",
    "TunableStoreError",
    "Tunables",
    "instance_id",
    "redis_scope_key",
    "shared_store_for",
    "tunables_for",
]

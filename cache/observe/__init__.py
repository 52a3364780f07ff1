"""Observing the cache: windowed analytics and recommendations over the engine's counters
(``analytics``), the deployment-wide board every process publishes to
(``board``) and the Prometheus text exposition (``prometheus``).
"""

from cache.observe.analytics import Analytics
from cache.observe.board import StatsBoard, merge_namespaces
from cache.observe.prometheus import CONTENT_TYPE, render_metrics
from cache.observe.recommendations import Recommendation

__all__ = ["CONTENT_TYPE", "Analytics", "Recommendation", "StatsBoard", "merge_namespaces", "render_metrics"]

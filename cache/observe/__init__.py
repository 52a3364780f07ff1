"""Observing the cache: windowed analytics and recommendations over the engine's counters
(``analytics``), the deployment-wide board every process publishes to
(``board``) and the Prometheus text exposition (``prometheus``).
"""

from cache.observe.analytics import Analytics, Figures, Views, window_label
from cache.observe.board import StatsBoard, merge_namespaces
from cache.observe.prometheus import CONTENT_TYPE, render_metrics
from cache.observe.recommendations import Recommendation, recommend

__all__ = [
    "CONTENT_TYPE",
    "Analytics",
    "Figures",
    "Recommendation",
    "StatsBoard",
    "Views",
    "merge_namespaces",
    "recommend",
    "render_metrics",
    "window_label",
]

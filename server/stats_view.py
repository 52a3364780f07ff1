"""Plain-text views of published statistics for ``trialstock-mcp cache stats``."""

from __future__ import annotations

from typing import Any

from cache.observe import merge_namespaces
from server.render import render_table


def render_stats(records: list[dict[str, Any]]) -> str:
    """Per-namespace figures added up over every process, the processes, and recommendations."""
    now = max(r["at"] for r in records)
    sections = [
        render_table(
            ("process", "published", "hits", "misses", "hit rate"),
            [(r["instance"], f"{now - r['at']:.0f}s ago", *_totals(r["stats"].get("totals", {}))) for r in records],
        )
    ]
    merged = merge_namespaces(records)
    if merged:
        rows = []
        for namespace, c in sorted(merged.items()):
            hits, misses = int(c.get("hits", 0)), int(c.get("misses", 0))
            rows.append(
                (
                    namespace,
                    hits,
                    misses,
                    _rate(hits, misses),
                    int(c.get("stale_serves", 0)),
                    int(c.get("loader_calls", 0)),
                    int(c.get("loader_errors", 0)),
                )
            )
        sections.append(
            render_table(("namespace", "hits", "misses", "hit rate", "stale", "loads", "load errors"), rows)
        )
    advice = sorted({line for r in records for line in r["stats"].get("analytics", {}).get("recommendations", [])})
    sections.append("recommendations:\n" + ("\n".join(f"- {line}" for line in advice) if advice else "- none"))
    return "\n\n".join(sections)


def _totals(totals: dict[str, Any]) -> tuple[int, int, str]:
    hits, misses = int(totals.get("hits", 0)), int(totals.get("misses", 0))
    return hits, misses, _rate(hits, misses)


def _rate(hits: int, misses: int) -> str:
    return "-" if hits + misses == 0 else f"{100 * hits / (hits + misses):.1f}%"

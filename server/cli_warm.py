"""``trialstock-mcp cache warm`` and ``cache cutoff``: warming and the refresh-ahead cutoff."""

from __future__ import annotations

import argparse
import math
import sys
from typing import TextIO

from cache.coordination import TunableError, TunableStoreError
from cache.warming import UnknownStrategyError, WarmItem, WarmOutcome, WarmSummary
from server.app import build_app
from server.cli_errors import UsageError
from server.render import render_table
from server.settings import Settings


async def warm(settings: Settings, args: argparse.Namespace) -> int:
    """Run the strategies (all enabled ones, or ``--strategy`` NAME...) with a progress bar on
    stderr and a summary table on stdout. Exit 1 when any item failed."""
    app = build_app(settings, role="cli")
    async with app.lifespan(app.mcp) as state:
        bar = ProgressBar(sys.stderr)
        await state.background.shared_usage.refresh()  # "trending" ranks what the servers published
        try:
            summary = await state.background.warmer.run(args.strategy or None, progress=bar.step)
        except UnknownStrategyError as exc:
            raise UsageError(str(exc)) from None
        bar.done()
    print(render_summary(summary))
    return 1 if summary.failed else 0


def render_summary(summary: WarmSummary) -> str:
    rows = [(r.name, r.kind, r.warmed, r.already_fresh, len(r.failed), f"{r.elapsed:.2f}s") for r in summary.strategies]
    rows.append(("total", "", summary.warmed, summary.already_fresh, summary.failed, f"{summary.elapsed:.2f}s"))
    lines = [render_table(("strategy", "kind", "warmed", "already fresh", "failed", "time"), rows)]
    failures = [(r.name, label, _short(reason)) for r in summary.strategies for label, reason in r.failed]
    if failures:
        lines += ["", render_table(("strategy", "failed item", "reason"), failures)]
    return "\n".join(lines)


def _short(text: str, width: int = 160) -> str:
    text = text.strip()
    return text if len(text) <= width else text[: width - 1] + "…"


class ProgressBar:
    """``[#####.....] 5/10 strategy: item -> outcome`` on one line when ``out`` is a terminal,
    one line per item otherwise (logs, CI)."""

    WIDTH = 24

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()

    def step(self, done: int, total: int, item: WarmItem, outcome: WarmOutcome) -> None:
        filled = self.WIDTH * done // max(total, 1)
        status = outcome.status.replace("_", " ")
        line = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total} {item.strategy}: {item.label} -> {status}"
        if self._tty:
            self._out.write("\r\x1b[2K" + line[:160])
        else:
            self._out.write(line + "\n")
        self._out.flush()

    def done(self) -> None:
        if self._tty:
            self._out.write("\n")
            self._out.flush()


async def cutoff(settings: Settings, args: argparse.Namespace) -> int:
    """Show the refresh-ahead cost cutoff, or set it for every process (no restart needed)."""
    app = build_app(settings, role="cli")
    async with app.lifespan(app.mcp) as state:
        tunables = state.background.tunables
        if args.seconds is not None:
            try:
                await tunables.set_cost_cutoff(_seconds(args.seconds))
            except TunableError as exc:
                raise UsageError(f"cutoff: {exc}") from None
            except TunableStoreError as exc:
                print(f"trialstock-mcp: {exc}", file=sys.stderr)
                return 1
        value = await tunables.get_cost_cutoff()
    shown = "off (inf)" if math.isinf(value) else f"{value:g} s"
    print(f"refresh-ahead cost cutoff: {shown} (stored in {tunables.where})")
    return 0


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"cutoff: {text!r} is not a number of seconds (use 'inf' to turn refresh-ahead off)") from None

"""What an agent pays in bytes: ``python -m benchmarks.contract_sizes``.

Over stdio with the official client (the console script against the replay upstream), one
representative call per tool (and the explicit large asks: a trial's results section, a year of
bars), measuring per call the structured content as compact JSON, the text content, their ratio
and whether the answer says it was cut; then the tool catalog: per tool the model-visible part
(name, description, input schema) and the whole tools/list entry (with output schema), as
compact JSON.

Budgets (the agent contract, docs/tools.md): structured <= 16 KB for records and pages, 64 KB
for explicit asks; text <= 1.1x structured; catalog <= 1,000 B a tool model-visible on average
and <= 3,000 B a tool in all.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from mcp import Client

from benchmarks._harness import child_env, scratch, stdio_params
from benchmarks._table import Target, print_targets
from tests.support.replay import ReplayServer

CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("search_trials", {"condition": "Phelan-McDermid Syndrome", "page_size": 50}),
    ("get_trial", {"nct_id": "NCT06604689"}),
    ("get_trial", {"nct_id": "NCT04280705"}),
    ("get_trial", {"nct_id": "NCT04280705", "sections": ["results"]}),
    ("get_trial", {"nct_id": "NCT04280705", "sites": {"country": "United States"}}),
    ("get_trial_results", {"nct_id": "NCT04280705"}),
    ("get_trial_results", {"nct_id": "NCT04280705", "part": "serious_events", "offset": 10}),
    ("search_trials_by_mutation", {"mutation": "EGFR L858R"}),
    ("search_trials_for_mutations", {"mutations": ["EGFR L858R", "KRAS G12C", "BRAF V600E"]}),
    (
        "find_trials_for_patient",
        {"condition": "non-small cell lung cancer", "mutations": ["EGFR L858R"], "age": 58, "sex": "female"},
    ),
    ("count_trials", {"condition": "Phelan-McDermid Syndrome"}),
    ("get_stock_quote", {"symbols": ["2330", "AAPL"]}),
    ("get_price_history", {"symbol": "2330", "start_date": "2026-08-01", "end_date": "2026-09-30"}),
    ("get_price_history", {"symbol": "2330", "period": "1y"}),
    ("get_price_history", {"symbol": "AAPL", "start_date": "2020-08-31", "end_date": "2020-11-06"}),
    ("get_price_history", {"symbol": "AAPL", "start_date": "2020-08-31", "end_date": "2020-11-06", "adjusted": True}),
    ("get_price_history", {"symbol": "2330", "period": "1y", "adjusted": True}),
    ("get_stock_info", {"symbol": "AAPL"}),
    ("analyze_stock", {"symbol": "2330", "days": 60}),
    ("compare_stocks", {"symbols": ["2330", "AAPL"], "start_date": "2020-09-01", "end_date": "2020-11-06"}),
    ("compare_stocks", {"symbols": ["2330", "2454", "0050", "6488"], "period": "1y"}),
    ("get_market_overview", {}),
    ("get_institutional_flows", {"symbol": "2409", "start_date": "2026-08-01", "end_date": "2026-09-04"}),
    ("get_margin_balance", {"symbol": "00679B", "date": "2026-09-03"}),
    ("service_status", {}),
    ("cache_stats", {}),
)


def compact(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def describe(arguments: dict[str, Any]) -> str:
    text = json.dumps(arguments, separators=(",", ":"))
    return text if len(text) <= 60 else text[:57] + "..."


def measure_targets(calls: list[list[str]], catalog: list[list[str]]) -> list[Target]:
    def number(text: str) -> int:
        return int(text.replace(",", ""))

    largest = max(number(row[3]) for row in calls if row[2] == "ok")
    ratio = max(float(row[5]) for row in calls if row[5] != "-")
    per_tool = catalog[-1]
    return [
        Target("largest structured answer <= 64 KB", f"{largest:,} B", largest <= 64 * 1024),
        Target("text / structured <= 1.1 on every call", f"max {ratio:.2f}", ratio <= 1.1),
        Target("model-visible catalog <= 1,000 B a tool", f"{per_tool[1]} B", number(per_tool[1]) <= 1_000),
        Target("whole tools/list <= 3,000 B a tool", f"{per_tool[2]} B", number(per_tool[2]) <= 3_000),
    ]


async def measure(replay_url: str) -> tuple[list[list[str]], list[list[str]]]:
    with scratch() as folder:
        params = stdio_params("trialstock", child_env(replay_url, folder), folder)
        async with Client(params, read_timeout_seconds=120) as client:
            listed = (await client.list_tools()).tools
            calls = []
            for name, arguments in CALLS:
                result = await client.call_tool(name, arguments)
                structured = compact(result.structured_content) if result.structured_content is not None else 0
                text = sum(len(block.text.encode()) for block in result.content if block.type == "text")
                cut = "truncated" in json.dumps(result.structured_content or {})
                calls.append(
                    [
                        name,
                        describe(arguments),
                        "error" if result.is_error else "ok",
                        f"{structured:,}",
                        f"{text:,}",
                        f"{text / structured:.2f}" if structured else "-",
                        "yes" if cut else "no",
                    ]
                )
    catalog = []
    for tool in listed:
        visible = compact({"name": tool.name, "description": tool.description, "inputSchema": tool.input_schema})
        whole = compact(tool.model_dump(mode="json", by_alias=True, exclude_none=True))
        catalog.append([tool.name, f"{visible:,}", f"{whole:,}"])
    visible_total = sum(int(row[1].replace(",", "")) for row in catalog)
    whole_total = sum(int(row[2].replace(",", "")) for row in catalog)
    catalog.append([f"all {len(listed)} tools", f"{visible_total:,}", f"{whole_total:,}"])
    catalog.append(["per tool", f"{visible_total // len(listed):,}", f"{whole_total // len(listed):,}"])
    return calls, catalog


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    """A markdown table (sizes are not timings: no percentiles here)."""
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main(argv: list[str] | None = None) -> int:
    del argv  # one shape only: --quick changes nothing
    with ReplayServer() as replay:
        calls, catalog = asyncio.run(measure(replay.url))
    print_table(
        "Result sizes over stdio (bytes; structured = compact JSON of structuredContent)",
        ["tool", "arguments", "outcome", "structured", "text", "text/structured", "cut"],
        calls,
    )
    print_table("Tool catalog (bytes, compact JSON)", ["tool", "name+description+input", "whole entry"], catalog)
    print()
    print_targets(measure_targets(calls, catalog))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

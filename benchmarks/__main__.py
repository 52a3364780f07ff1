"""Run every benchmark and write ``docs/benchmarks.md``: ``python -m benchmarks``.

Flags: ``--only floor,startup`` (a comma list, repeatable) runs some of them; ``--quick``
uses fewer samples; ``--write`` / ``--no-write`` force writing the report or not (by default
only a full run of everything writes it, so a partial or quick run never replaces the figures
of a full one); ``--output`` picks another file. Each script runs as its own child process
(``python -m benchmarks.<name>``), one after another, and its output goes into the report
as printed. Exit status 1 when a script failed or was missing, else 0 (missed targets are
findings, not failures).
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks._catalogue import BENCHMARKS, CHANGES, by_name
from benchmarks._harness import REPO
from benchmarks._report import Result, machine_facts, render, run

COMMAND = ".venv/bin/python -m benchmarks"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAMES",
        help=f"comma-separated subset of: {', '.join(b.module for b in BENCHMARKS)}",
    )
    parser.add_argument("--quick", action="store_true", help="fewer samples and shorter runs")
    parser.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write the report (default: only for a full run of everything)",
    )
    parser.add_argument("--output", default=str(REPO / "docs" / "benchmarks.md"), help="report path")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    names = [name.strip() for chunk in args.only for name in chunk.split(",") if name.strip()]
    try:
        chosen = by_name(names) if names else list(BENCHMARKS)
    except ValueError as exc:
        print(f"python -m benchmarks: {exc}", file=sys.stderr)
        return 2
    facts = machine_facts()
    started_wall, started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), time.perf_counter()
    results: list[Result] = []
    for benchmark in chosen:
        print(f"== {benchmark.module} ...", file=sys.stderr, flush=True)
        result = run(benchmark, quick=args.quick)
        results.append(result)
        print(f"== {benchmark.module}: {result.status} in {result.seconds:.0f} s", file=sys.stderr, flush=True)
        print(result.output + "\n", flush=True)
    seconds = time.perf_counter() - started
    write = args.write if args.write is not None else not (names or args.quick)
    if write:
        report = render(
            results, facts, command=COMMAND, quick=args.quick, changes=CHANGES, started=started_wall, seconds=seconds
        )
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(report)
        print(f"wrote {args.output}", file=sys.stderr)
    print(f"all done in {seconds / 60:.1f} minutes", file=sys.stderr)
    for result in results:
        for line in result.verdicts:
            print(f"  {result.benchmark.module}: {line}", file=sys.stderr)
    return 0 if all(r.status == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Fuzzing the tools' inputs: the server under test, hostile values, and the checks every answer passes.

:func:`fuzz_target` serves the real server in-process against a replay upstream and hands
back a :class:`FuzzTarget`: a synchronous client (:class:`tests.support.portal.PortalClient`),
every tool's input schema as the server publishes it in ``tools/list``, the count of upstream
requests, and the process's resident memory when it started. :meth:`FuzzTarget.check` makes
one call and returns what is wrong with its answer (an empty list when nothing is):

- the session still answers afterwards (``service_status``), so the server did not crash;
- no text of the result looks like a Python traceback;
- an answer rejecting the caller's input ("Invalid input") names one of the tool's
  arguments, and no upstream request was made for it;
- a call refused because its arguments are too large altogether (the server's per-call cap,
  ``TRIALSTOCK_TRANSPORT__MAX_ARGUMENT_BYTES``) made no upstream request either; that refusal
  is about the whole call, so it names the tool and the setting, not one argument;
- with ``must_reject``: the call was rejected one of those two ways (as invalid input, naming
  that argument).

:data:`HOSTILE` holds the values thrown at every argument; :func:`schema_rejects` says whether
the published schema itself rules a value out (then the server must reject it too).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from mcp.types import CallToolResult

from server.app import build_app
from tests.support.load import fault_settings, rss_bytes
from tests.support.portal import PortalClient
from tests.support.replay import ReplayServer

MB = 1_000_000
INVALID = "Invalid input"
TOO_LARGE = "are too large"  # "Arguments of tool 'x' are too large: ... (setting ..._MAX_ARGUMENT_BYTES)"
PSEUDO_FIELDS = ("criteria",)  # "give at least one of ..." names the group, not one argument
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")
_BACKGROUND_PATHS = ("/api/v2/version",)  # the data-version check runs on its own schedule

HOSTILE: dict[str, Any] = {
    "1 MB string": "x" * MB,
    "control characters": "a\x00b\x1b[31m\r\n\x7f\u202e",
    "unicode digits": "NCT0428070\uff15",
    "glob metacharacters": "*?[",
    "path traversal": "../../etc/passwd",
    "empty string": "",
    "huge integer": 10**30,
    "huge float": 1e308,
    "nested object": {"a": {"b": [1, {"c": None}]}},
    "list of objects": [{"x": 1}],
}
"""Values thrown at every argument of every tool (by name, for test ids)."""


def schema_rejects(schema: dict[str, Any], arguments: dict[str, Any]) -> bool:
    """Whether ``arguments`` break the published input schema (formats such as ``date`` checked)."""
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    return not validator.is_valid(arguments)


def result_text(result: CallToolResult) -> str:
    """Every text block of a result, joined."""
    return "\n".join(str(getattr(block, "text", "")) for block in result.content)


@dataclass
class FuzzTarget:
    client: PortalClient
    replay: ReplayServer
    schemas: dict[str, dict[str, Any]]
    rss_at_start: int
    outcomes: Counter[str] = field(default_factory=Counter)
    """Calls by outcome: answered, rejected (invalid input), too large (arguments over the per-call cap),
    error (any other isError), lost, bad (a check failed)."""
    max_latency: float = 0.0

    def figures(self, since: Counter[str] | None = None) -> str:
        """``calls=.. answered=.. rejected=.. error=.. lost=.. bad=.. max_latency=..`` (since a snapshot)."""
        seen = self.outcomes - (since or Counter())
        kinds = ("answered", "rejected", "too large", "error", "lost", "bad")
        counts = " ".join(f"{kind.replace(' ', '_')}={seen[kind]}" for kind in kinds)
        return f"calls={seen.total() - seen['bad']} {counts} max_latency={self.max_latency:.3f}s"

    def upstream_requests(self) -> int:
        """Requests the replay upstream has seen, the background data-version checks aside."""
        return sum(n for path, n in self.replay.counts().items() if path not in _BACKGROUND_PATHS)

    def rss_growth(self) -> int:
        return rss_bytes() - self.rss_at_start

    def call(self, tool: str, arguments: dict[str, Any]) -> tuple[CallToolResult, int]:
        """Call ``tool``; the result and the upstream requests made meanwhile."""
        before, started = self.upstream_requests(), time.perf_counter()
        try:
            result = self.client.call_tool(tool, arguments)
        except Exception:
            self.outcomes["lost"] += 1
            raise
        finally:
            self.max_latency = max(self.max_latency, time.perf_counter() - started)
        return result, self.upstream_requests() - before

    def check(self, tool: str, arguments: dict[str, Any], *, must_reject: str | None = None) -> list[str]:
        """Call ``tool`` and list what is wrong with the answer (see the module docstring)."""
        try:
            result, requests = self.call(tool, arguments)
        except Exception as exc:  # no answer at all
            return [f"no answer: {exc!r}"]
        problems = []
        try:
            if not self.client.alive():
                problems.append("the server's status tool answers with an error")
        except Exception as exc:  # the session is gone: the worst finding of all
            problems.append(f"the session stopped answering: {exc!r}")
        text = result_text(result)
        if _TRACEBACK.search(text):
            problems.append(f"traceback text in the result: {text[:300]!r}")
        rejected = result.is_error and INVALID in text
        too_large = result.is_error and not rejected and TOO_LARGE in text
        self.outcomes[
            "rejected" if rejected else "too large" if too_large else "error" if result.is_error else "answered"
        ] += 1
        if too_large and requests:
            problems.append(f"{requests} upstream request(s) for a call refused as too large")
        if rejected:
            named = text.split(INVALID, 1)[1]
            properties = self.schemas[tool].get("properties", {})
            error = (result.structured_content or {}).get("error", {})
            if error.get("kind") != "invalid_argument":
                problems.append(f"a rejection of kind {error.get('kind')!r}, not invalid_argument: {text[:300]!r}")
            if error.get("field") in arguments and error["field"] not in properties:  # an unknown argument
                if repr(error["field"]) not in named:
                    problems.append(f"the rejection of unknown argument {error['field']!r} does not name it")
            elif not any(field in named for field in [*properties, *PSEUDO_FIELDS]):
                problems.append(f"the rejection names none of the arguments {list(properties)}: {text[:300]!r}")
            if requests:
                problems.append(f"{requests} upstream request(s) for a rejected call")
        if must_reject is not None and not too_large:
            if not rejected:
                outcome = f"error {text[:200]!r}" if result.is_error else "an answer"
                problems.append(f"not rejected as invalid input; got {outcome} after {requests} upstream request(s)")
            elif must_reject not in text.split(INVALID, 1)[1]:
                problems.append(f"rejected without naming {must_reject!r}: {text[:300]!r}")
        if problems:
            self.outcomes["bad"] += 1
        return problems


@contextmanager
def fuzz_target(folder: Path) -> Iterator[FuzzTarget]:
    """The real server in-process (SQLite in ``folder``, no background schedules that reach
    upstream on their own) against a replay upstream, reached through a synchronous client."""
    with ReplayServer() as replay:
        settings = fault_settings(replay.url, folder, worker={"in_server": False, "refresh_ahead": False})
        with PortalClient(build_app(settings).mcp) as client:
            schemas = {tool.name: tool.input_schema for tool in client.list_tools()}
            yield FuzzTarget(client, replay, schemas, rss_bytes())

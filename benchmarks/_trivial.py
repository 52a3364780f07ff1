"""The baseline server: one MCPServer with one tool that returns a constant pydantic model.

It measures what the SDK itself costs per call, so the real server's figures can be read as
"x times the floor". In-process: ``build_trivial()``. As a process (stdio by default, the
same way the real server runs)::

    python -m benchmarks._trivial              # stdio; stdout carries only the protocol
    python -m benchmarks._trivial --http 8123  # streamable HTTP on 127.0.0.1:8123/mcp (+ /healthz)
    python -m benchmarks._trivial --payloads answers.json   # plus one constant-answer tool per entry

Both transports use the SDK defaults and ``log_level="WARNING"``, like the real server.

With ``payloads`` (tool name -> a structured answer), each named tool answers that object as
it is, with its compact JSON as the text, built once: what the SDK costs to carry an answer of
exactly that size, with no server work at all (and no output schema, so the client checks
nothing). The real tool's gap over it is the server's own work plus the client's check.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

TOOL = "constant"


class Constant(BaseModel):
    """What the trivial tool returns: always the same small object."""

    answer: int = Field(42, description="Always 42.")
    text: str = Field("constant", description="Always 'constant'.")


_CONSTANT = Constant()


def build_trivial(payloads: Mapping[str, dict[str, Any]] | None = None) -> MCPServer:
    """A server with the tool ``constant`` (no arguments, returns :class:`Constant`) and one
    constant-answer tool per entry of ``payloads`` (see the module doc)."""
    mcp = MCPServer("trivial-baseline", log_level="WARNING")

    @mcp.tool()
    async def constant() -> Constant:
        """Return a constant object (benchmark baseline)."""
        return _CONSTANT

    for name, payload in (payloads or {}).items():
        mcp.add_tool(_constant_answer(payload), name=name, description="Return a constant answer (benchmark baseline).")

    @mcp.custom_route("/healthz", methods=["GET"])
    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return mcp


def _constant_answer(payload: dict[str, Any]) -> Any:
    result = CallToolResult(
        content=[TextContent(type="text", text=orjson.dumps(payload).decode())], structured_content=payload
    )

    async def answer() -> CallToolResult:
        return result

    return answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._trivial", description=__doc__.splitlines()[0])
    parser.add_argument("--http", type=int, metavar="PORT", help="serve streamable HTTP on 127.0.0.1:PORT")
    parser.add_argument("--payloads", type=Path, metavar="FILE", help="JSON object: tool name -> constant answer")
    args = parser.parse_args(argv)
    mcp = build_trivial(orjson.loads(args.payloads.read_bytes()) if args.payloads else None)
    if args.http is None:
        mcp.run()
        return
    import uvicorn

    app = mcp.streamable_http_app(host="127.0.0.1")
    uvicorn.run(app, host="127.0.0.1", port=args.http, log_level="warning")


if __name__ == "__main__":
    main()

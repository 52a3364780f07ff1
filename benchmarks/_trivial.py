"""The baseline server: one MCPServer with one tool that returns a constant pydantic model.

It measures what the SDK itself costs per call, so the real server's figures can be read as
"x times the floor". In-process: ``build_trivial()``. As a process (stdio by default, the
same way the real server runs)::

    python -m benchmarks._trivial              # stdio; stdout carries only the protocol
    python -m benchmarks._trivial --http 8123  # streamable HTTP on 127.0.0.1:8123/mcp (+ /healthz)

Both transports use the SDK defaults and ``log_level="WARNING"``, like the real server.
"""

from __future__ import annotations

import argparse

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

TOOL = "constant"


class Constant(BaseModel):
    """What the trivial tool returns: always the same small object."""

    answer: int = Field(42, description="Always 42.")
    text: str = Field("constant", description="Always 'constant'.")


_CONSTANT = Constant()


def build_trivial() -> MCPServer:
    """A server with the single tool ``constant`` (no arguments, returns :class:`Constant`)."""
    mcp = MCPServer("trivial-baseline", log_level="WARNING")

    @mcp.tool()
    async def constant() -> Constant:
        """Return a constant object (benchmark baseline)."""
        return _CONSTANT

    @mcp.custom_route("/healthz", methods=["GET"])
    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return mcp


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._trivial", description=__doc__.splitlines()[0])
    parser.add_argument("--http", type=int, metavar="PORT", help="serve streamable HTTP on 127.0.0.1:PORT")
    args = parser.parse_args(argv)
    mcp = build_trivial()
    if args.http is None:
        mcp.run()
        return
    import uvicorn

    app = mcp.streamable_http_app(host="127.0.0.1")
    uvicorn.run(app, host="127.0.0.1", port=args.http, log_level="warning")


if __name__ == "__main__":
    main()

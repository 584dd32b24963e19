"""An MCP tool server for the tests, in its own process, instrumented by ``agentotel.init()``
alone (telemetry over OTLP to the test's receiver, from the ``OTEL_*`` environment).

    python tests/mcp_server.py [stdio|http PORT] [--fastmcp]

With the ``mcp`` 1.x SDK on the path it serves with 1.x's ``FastMCP`` instead.

Tools: ``whoami`` (returns the baggage and conversation id the handler sees, and opens an
``agentotel.tool`` span of its own), ``refuse`` (raises: an ``isError`` result), ``die``
(exits the process mid-call). A prompt ``greeting`` and a resource ``notes://today``.
``--fastmcp`` serves the same with FastMCP instead of the SDK's ``MCPServer``.
"""

from __future__ import annotations

import json
import os
import sys

import agentotel

agentotel.init(service_name=os.environ.get("OTEL_SERVICE_NAME", "mcp-tool-server"))

from opentelemetry import baggage  # noqa: E402

FASTMCP = "--fastmcp" in sys.argv
ARGS = [a for a in sys.argv[1:] if a != "--fastmcp"]
PORT = int(ARGS[1]) if ARGS and ARGS[0] == "http" else None
V1 = False
if FASTMCP:
    from fastmcp import FastMCP

    app = FastMCP("test-tools")
else:
    try:
        from mcp.server.mcpserver import MCPServer

        app = MCPServer("test-tools")
    except ImportError:  # mcp 1.x: its FastMCP takes the address when created
        from mcp.server.fastmcp import FastMCP as V1Server

        V1 = True
        app = V1Server("test-tools", host="127.0.0.1", port=PORT or 8000)


@app.tool()
def whoami(label: str) -> str:
    """What the handler sees of the caller's context."""
    with agentotel.tool("lookup_user") as inner:
        inner.set_attribute("test.label", label)
    return json.dumps({"label": label, "baggage": dict(baggage.get_all())})


@app.tool()
def refuse(reason: str) -> str:
    """Always fails: the SDK answers with an isError result."""
    raise ValueError(f"refused: {reason}")


@app.tool()
def die(code: int) -> str:
    """Exits the server process in the middle of the call."""
    os._exit(code)


@app.prompt()
def greeting(name: str) -> str:
    return f"Say hello to {name}."


@app.resource("notes://today")
def today() -> str:
    return "nothing planned"


if __name__ == "__main__":
    if PORT is None:
        app.run()
    elif FASTMCP:
        app.run(transport="http", host="127.0.0.1", port=PORT)
    elif V1:
        app.run(transport="streamable-http")
    else:
        app.run(transport="streamable-http", host="127.0.0.1", port=PORT)
    agentotel.shutdown()

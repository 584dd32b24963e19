"""An MCP client on the ``mcp`` 1.x SDK, in its own process, instrumented by
``agentotel.init()`` alone (telemetry over OTLP to the test's receiver).

    python tests/mcp1_client.py stdio|http URL

Inside a workflow, with ``tenant=acme`` in the baggage, calls ``whoami`` then ``refuse``
on ``tests/mcp_server.py`` (started over stdio, or reached at URL); prints one JSON line:
what ``whoami`` saw, whether ``refuse`` was an error result, and the workflow's trace id.
"""

from __future__ import annotations

import json
import os
import sys

import agentotel

agentotel.init(service_name="mcp1-client")

import anyio  # noqa: E402
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402
from mcp.client.streamable_http import streamablehttp_client  # noqa: E402
from opentelemetry import baggage, trace  # noqa: E402
from opentelemetry import context as otel_context  # noqa: E402

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mcp_server.py")


async def calls(session: ClientSession) -> dict[str, object]:
    await session.initialize()
    token = otel_context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        with agentotel.workflow("mcp1"):
            seen = await session.call_tool("whoami", {"label": "v1"})
            refused = await session.call_tool("refuse", {"reason": "no"})
            trace_id = f"{trace.get_current_span().get_span_context().trace_id:032x}"
    finally:
        otel_context.detach(token)
    return {"seen": json.loads(seen.content[0].text), "refused": refused.isError,
            "trace_id": trace_id}


async def main() -> dict[str, object]:
    if sys.argv[1] == "http":
        async with streamablehttp_client(sys.argv[2]) as (read, write, _), ClientSession(
            read, write
        ) as session:
            return await calls(session)
    params = StdioServerParameters(command=sys.executable, args=[SERVER], env=dict(os.environ))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        return await calls(session)


if __name__ == "__main__":
    result = anyio.run(main)
    agentotel.shutdown()
    print(json.dumps(result), flush=True)

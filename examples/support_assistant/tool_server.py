"""The help-centre tools as an MCP server over stdio (its own process, ``support-tools``).

    python -m examples.support_assistant.tool_server

Serves :data:`~.remote.MCP_TOOLS` from :data:`~.tools.TOOL_SPECS` with the SDK's
``MCPServer``. ``agentotel.init()`` is the only telemetry code: each call is a
``tools/call {name}`` SERVER span in the caller's trace (the context comes in
``params._meta``), with the caller's baggage, hence its conversation id, attached while the
tool runs; ``search_docs``'s retrieval span is its child. Telemetry leaves over OTLP (the
environment the demo sets); never on stdout, the MCP wire.
"""

from __future__ import annotations

import agentotel

agentotel.init()

from mcp.server.mcpserver import MCPServer  # noqa: E402

from .remote import MCP_TOOLS  # noqa: E402
from .tools import TOOL_SPECS  # noqa: E402

server = MCPServer("acme-support-tools")
for spec in TOOL_SPECS.values():
    if spec.name in MCP_TOOLS:
        server.add_tool(spec.function, name=spec.name, description=spec.description)


if __name__ == "__main__":
    server.run()
    agentotel.shutdown()

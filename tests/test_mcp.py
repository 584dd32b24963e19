"""MCP across processes, with the real ``mcp`` SDK (2.x) and FastMCP.

The client runs in the test process (agentotel's runtime on in-memory providers, the MCP
integration enabled as ``init()`` enables it); the server (``tests/mcp_server.py``) runs in
its own process with ``agentotel.init()`` alone, exporting over OTLP to the test's
receiver. Each test states the exact span names, kinds, parents and attributes the MCP
semantic conventions (semantic-conventions-genai ``docs/gen-ai/mcp.md``) ask for.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind, StatusCode

import agentotel
from agentotel.integrations.mcp import MCPInstrumentor

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared.exceptions import MCPError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SERVER = str(ROOT / "tests" / "mcp_server.py")
PROTOCOL = "2025-11-25"
STATELESS = "2026-07-28"
BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)
CONNECTION_CLOSED = "-32000"
METHOD_NOT_FOUND = "-32601"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module", autouse=True)
def instrumented() -> Iterator[None]:
    instrumentor = MCPInstrumentor()
    instrumentor.instrument()
    yield
    instrumentor.uninstrument()


def server_env(receiver: Any, service: str = "mcp-tool-server") -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "OTEL_SERVICE_NAME": service,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.http_endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_BSP_SCHEDULE_DELAY": "20",
        "OTEL_METRIC_EXPORT_INTERVAL": "200",
    }


@contextlib.asynccontextmanager
async def stdio_session(receiver: Any, *extra: str) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable, args=[SERVER, *extra], env=server_env(receiver)
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def server_spans(receiver: Any, trace_id: str, count: int) -> list[Any]:
    return receiver.wait_for(
        lambda: (
            found
            if len(found := [s for s in receiver.spans() if s.trace_id == trace_id]) >= count
            else None
        ),
        timeout=15,
    )


def hex_ids(span: Any) -> tuple[str, str]:
    return f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}"


def client_span(recorded: Any, name: str) -> Any:
    return recorded.span(name)


# --------------------------------------------------------------------------- stdio
def test_a_stdio_tool_call_is_one_client_and_one_server_span_of_one_trace(recorded, otlp_receiver):
    async def main() -> str:
        async with stdio_session(otlp_receiver) as session:
            with agentotel.workflow("handle-request"):
                result = await session.call_tool("whoami", {"label": "a"})
        return result.content[0].text

    anyio.run(main)
    client = client_span(recorded, "tools/call whoami")
    trace_id, span_id = hex_ids(client)
    assert client.kind is SpanKind.CLIENT
    assert dict(client.attributes) == {
        "mcp.method.name": "tools/call",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "whoami",
        "jsonrpc.request.id": "2",
        "mcp.protocol.version": PROTOCOL,
        "network.transport": "pipe",
    }
    spans = server_spans(otlp_receiver, trace_id, 2)
    server = next(s for s in spans if s.name == "tools/call whoami")
    inner = next(s for s in spans if s.name == "execute_tool lookup_user")
    assert (server.kind, server.parent_span_id) == ("SERVER", span_id)
    assert server.attributes == {
        "mcp.method.name": "tools/call",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "whoami",
        "jsonrpc.request.id": "2",
        "mcp.protocol.version": PROTOCOL,
        "network.transport": "pipe",
    }
    assert server.resource["service.name"] == "mcp-tool-server"
    assert inner.parent_span_id == server.span_id
    # one SERVER span per request: the call, and the listing the SDK's client makes to
    # validate the result against the tool's output schema
    servers = sorted(s.name for s in spans if s.kind == "SERVER")
    assert servers == ["tools/call whoami", "tools/list"]


def test_baggage_and_conversation_id_reach_the_tool_handler(recorded, otlp_receiver):
    async def main() -> dict[str, Any]:
        ctx = baggage.set_baggage("gen_ai.conversation.id", "conv-9")
        ctx = baggage.set_baggage("tenant", "acme", ctx)
        async with stdio_session(otlp_receiver) as session:
            token = otel_context.attach(ctx)
            try:
                result = await session.call_tool("whoami", {"label": "b"})
            finally:
                otel_context.detach(token)
        return json.loads(result.content[0].text)

    seen = anyio.run(main)
    assert seen == {"label": "b", "baggage": {"gen_ai.conversation.id": "conv-9", "tenant": "acme"}}
    trace_id, _ = hex_ids(client_span(recorded, "tools/call whoami"))
    spans = server_spans(otlp_receiver, trace_id, 2)
    server = next(s for s in spans if s.name == "tools/call whoami")
    assert server.attributes["gen_ai.conversation.id"] == "conv-9"


def test_an_is_error_result_is_a_tool_error_on_both_sides(recorded, otlp_receiver):
    async def main() -> bool:
        async with stdio_session(otlp_receiver) as session:
            result = await session.call_tool("refuse", {"reason": "no"})
        return bool(result.is_error)

    assert anyio.run(main) is True
    client = client_span(recorded, "tools/call refuse")
    assert client.attributes["error.type"] == "tool_error"
    assert client.status.status_code is StatusCode.ERROR
    trace_id, _ = hex_ids(client)
    (server,) = server_spans(otlp_receiver, trace_id, 1)
    assert (server.attributes["error.type"], server.status_code) == ("tool_error", "ERROR")
    points = [
        p for p in recorded.points("mcp.client.operation.duration")
        if p.attributes.get("gen_ai.tool.name") == "refuse"
    ]
    assert [p.attributes for p in points] == [{
        "mcp.method.name": "tools/call",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "refuse",
        "mcp.protocol.version": PROTOCOL,
        "network.transport": "pipe",
        "error.type": "tool_error",
    }]
    assert points[0].bounds == BUCKETS and points[0].unit == "s"


def test_an_unknown_method_is_its_json_rpc_error_code_on_both_sides(recorded, otlp_receiver):
    async def main() -> str:
        async with stdio_session(otlp_receiver) as session:
            with pytest.raises(MCPError) as raised:
                await session._dispatcher.send_raw_request("acme/unknown", {"x": 1})
        return str(raised.value.error.code)

    code = anyio.run(main)
    assert code == METHOD_NOT_FOUND
    client = client_span(recorded, "acme/unknown")
    assert (client.attributes["error.type"], client.attributes["rpc.response.status_code"]) == (
        code, code,
    )
    assert client.status.status_code is StatusCode.ERROR
    trace_id, _ = hex_ids(client)
    (server,) = server_spans(otlp_receiver, trace_id, 1)
    assert (server.attributes["error.type"], server.status_code) == (code, "ERROR")


def test_a_notification_carries_the_context_to_a_server_span(recorded, otlp_receiver):
    async def main() -> None:
        async with stdio_session(otlp_receiver) as session:
            with agentotel.workflow("notify"):
                await session.send_roots_list_changed()
                await session.send_ping()  # the notification is handled before the ping

    anyio.run(main)
    client = client_span(recorded, "notifications/roots/list_changed")
    assert client.kind is SpanKind.CLIENT
    assert "jsonrpc.request.id" not in client.attributes
    trace_id, span_id = hex_ids(client)
    spans = server_spans(otlp_receiver, trace_id, 2)
    server = next(s for s in spans if s.name == "notifications/roots/list_changed")
    assert (server.kind, server.parent_span_id) == ("SERVER", span_id)


def test_an_mcp_call_inside_a_tool_span_enriches_it_instead_of_a_second_span(
    recorded, otlp_receiver
):
    async def main() -> None:
        async with stdio_session(otlp_receiver) as session:
            with agentotel.tool("whoami"):
                await session.call_tool("whoami", {"label": "c"})

    anyio.run(main)
    names = [s.name for s in recorded.spans()]
    assert "tools/call whoami" not in names
    tool = recorded.span("execute_tool whoami")
    assert tool.kind is SpanKind.INTERNAL
    assert {k: tool.attributes[k] for k in ("mcp.method.name", "network.transport")} == {
        "mcp.method.name": "tools/call", "network.transport": "pipe",
    }
    trace_id, span_id = hex_ids(tool)
    spans = server_spans(otlp_receiver, trace_id, 2)
    server = next(s for s in spans if s.name == "tools/call whoami")
    assert server.parent_span_id == span_id


def test_an_is_error_result_inside_a_tool_span_fails_the_tool_and_its_metric(
    recorded, otlp_receiver
):
    async def main() -> None:
        async with stdio_session(otlp_receiver) as session:
            with agentotel.tool("refuse"):
                await session.call_tool("refuse", {"reason": "no"})

    anyio.run(main)
    tool = recorded.span("execute_tool refuse")
    assert (tool.attributes["error.type"], tool.status.status_code) == (
        "tool_error", StatusCode.ERROR,
    )
    (point,) = recorded.points("gen_ai.execute_tool.duration")
    assert point.attributes == {
        "gen_ai.tool.name": "refuse", "gen_ai.tool.type": "function", "error.type": "tool_error",
    }


def test_a_malformed_traceparent_is_ignored_and_the_call_succeeds(recorded, otlp_receiver):
    async def main() -> bool:
        async with stdio_session(otlp_receiver) as session:
            result = await session.call_tool(
                "whoami", {"label": "d"}, meta={"traceparent": "00-not-a-trace-context"}
            )
        return bool(result.is_error)

    assert anyio.run(main) is False
    server = otlp_receiver.wait_for(
        lambda: next((s for s in otlp_receiver.spans() if s.name == "tools/call whoami"), None)
    )
    client_trace, _ = hex_ids(client_span(recorded, "tools/call whoami"))
    assert server.trace_id != client_trace  # the caller's bad traceparent was kept, not used
    assert server.status_code == "UNSET"


def test_the_session_and_server_durations_are_recorded(recorded, otlp_receiver):
    async def main() -> None:
        async with stdio_session(otlp_receiver) as session:
            await session.call_tool("whoami", {"label": "e"})

    anyio.run(main)
    (session,) = recorded.points("mcp.client.session.duration")
    assert session.attributes == {"network.transport": "pipe", "mcp.protocol.version": PROTOCOL}
    assert session.bounds == BUCKETS
    server = otlp_receiver.wait_for(
        lambda: [
            p for p in otlp_receiver.metric_points("mcp.server.operation.duration")
            if p.attributes.get("gen_ai.tool.name") == "whoami"
        ]
    )
    assert server[0].attributes == {
        "mcp.method.name": "tools/call",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "whoami",
        "mcp.protocol.version": PROTOCOL,
        "network.transport": "pipe",
    }


def test_a_server_killed_mid_call_ends_the_client_span_with_an_error(recorded, otlp_receiver):
    async def main() -> str:
        with anyio.fail_after(30):  # nothing hangs
            async with stdio_session(otlp_receiver) as session:
                with pytest.raises(MCPError) as raised:
                    await session.call_tool("die", {"code": 3})
        return str(raised.value.error.code)

    code = anyio.run(main)
    assert code == CONNECTION_CLOSED
    client = client_span(recorded, "tools/call die")
    assert client.end_time is not None
    assert (client.attributes["error.type"], client.status.status_code) == (
        CONNECTION_CLOSED, StatusCode.ERROR,
    )


# --------------------------------------------------------------------------- Streamable HTTP
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def http_server(receiver: Any, *extra: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, **server_env(receiver)}
    process = subprocess.Popen(
        [sys.executable, SERVER, "http", str(port), *extra], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert process.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(10)


def test_a_streamable_http_tool_call_has_the_tcp_transport_and_session_on_both_sides(
    recorded, otlp_receiver
):
    with http_server(otlp_receiver) as url:

        async def main() -> None:
            async with streamable_http_client(url) as (read, write), ClientSession(
                read, write
            ) as session:
                await session.initialize()
                await session.call_tool("whoami", {"label": "f"})

        anyio.run(main)
        client = client_span(recorded, "tools/call whoami")
        trace_id, span_id = hex_ids(client)
        spans = server_spans(otlp_receiver, trace_id, 2)
    server = next(s for s in spans if s.name == "tools/call whoami")
    session_id = client.attributes["mcp.session.id"]
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    assert {k: v for k, v in client.attributes.items() if k != "mcp.session.id"} == {
        "mcp.method.name": "tools/call",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "whoami",
        "jsonrpc.request.id": "2",
        "mcp.protocol.version": PROTOCOL,
        "network.transport": "tcp",
        "network.protocol.name": "http",
        "server.address": "127.0.0.1",
        "server.port": port,
    }
    assert session_id
    assert (server.kind, server.parent_span_id) == ("SERVER", span_id)
    assert server.attributes["mcp.session.id"] == session_id
    assert server.attributes["network.transport"] == "tcp"
    assert server.attributes["client.address"] == "127.0.0.1"


# --------------------------------------------------------------------------- FastMCP
def test_fastmcp_over_the_sdk_is_one_client_and_one_server_span_per_call(recorded, otlp_receiver):
    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport

    transport = StdioTransport(
        command=sys.executable, args=[SERVER, "--fastmcp"], env=server_env(otlp_receiver)
    )

    async def main() -> None:
        async with Client(transport) as client:
            with agentotel.workflow("fastmcp"):
                await client.call_tool("whoami", {"label": "g"})

    anyio.run(main)
    workflow = recorded.span("invoke_workflow fastmcp")
    trace_id, _ = hex_ids(workflow)
    local = [s for s in recorded.spans() if f"{s.context.trace_id:032x}" == trace_id]
    # the call, and the listing FastMCP's client makes first: one CLIENT span each
    assert sorted((s.name, s.kind.name) for s in local) == [
        ("invoke_workflow fastmcp", "INTERNAL"),
        ("tools/call whoami", "CLIENT"),
        ("tools/list", "CLIENT"),
    ]
    server_spans(otlp_receiver, trace_id, 3)
    time.sleep(0.3)  # anything else the server would export for this trace
    remote = [s for s in otlp_receiver.spans() if s.trace_id == trace_id]
    assert sorted((s.name, s.kind) for s in remote) == [
        ("execute_tool lookup_user", "INTERNAL"),
        ("tools/call whoami", "SERVER"),
        ("tools/list", "SERVER"),
    ]
    # FastMCP's client speaks the stateless 2026-07-28 revision: no initialize, no session;
    # the version comes from each request's _meta, on both sides
    call = next(s for s in local if s.name == "tools/call whoami")
    served = next(s for s in remote if s.name == "tools/call whoami")
    for attributes in (dict(call.attributes), served.attributes):
        assert attributes["mcp.protocol.version"] == STATELESS
        assert "mcp.session.id" not in attributes


def test_fastmcp_over_streamable_http_is_one_client_and_one_server_span_per_call(
    recorded, otlp_receiver
):
    from fastmcp import Client

    with http_server(otlp_receiver, "--fastmcp") as url:

        async def main() -> None:
            async with Client(url) as client:
                with agentotel.workflow("fastmcp-http"):
                    await client.call_tool("whoami", {"label": "h"})

        anyio.run(main)
        trace_id, _ = hex_ids(recorded.span("invoke_workflow fastmcp-http"))
        server_spans(otlp_receiver, trace_id, 3)
        time.sleep(0.3)  # anything else the server would export for this trace
    local = [s for s in recorded.spans() if f"{s.context.trace_id:032x}" == trace_id]
    remote = [s for s in otlp_receiver.spans() if s.trace_id == trace_id]
    calls = [s for s in local if s.name == "tools/call whoami"]
    served = [s for s in remote if s.name == "tools/call whoami"]
    assert [s.kind for s in calls] == [SpanKind.CLIENT]
    assert [s.kind for s in served] == ["SERVER"]
    assert served[0].parent_span_id == f"{calls[0].context.span_id:016x}"
    assert calls[0].attributes["network.transport"] == "tcp"
    assert served[0].attributes["network.transport"] == "tcp"

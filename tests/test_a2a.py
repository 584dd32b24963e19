"""A2A across processes, with the real ``a2a-sdk`` (1.x), client and agent in their own
processes.

The client runs in the test process (agentotel's runtime on in-memory providers, the A2A
integration enabled as ``init()`` enables it) inside an ``agentotel.agent(...,
remote=True)`` span; the agent (``tests/a2a_agent.py``) runs in its own process with
``agentotel.init()`` alone, exporting over OTLP to the test's receiver. The expected
shapes are those of semantic-conventions-genai ``docs/gen-ai/a2a.md``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanKind, StatusCode

import agentotel
from agentotel.integrations.a2a import A2AInstrumentor

pytest.importorskip("a2a")
from a2a.client import ClientConfig, create_client  # noqa: E402
from a2a.types.a2a_pb2 import (  # noqa: E402
    AgentCard,
    AgentInterface,
    Message,
    Part,
    Role,
    SendMessageRequest,
)

ROOT = Path(__file__).resolve().parent.parent
AGENT = str(ROOT / "tests" / "a2a_agent.py")

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module", autouse=True)
def instrumented() -> Iterator[None]:
    instrumentor = A2AInstrumentor()
    instrumentor.instrument()
    yield
    instrumentor.uninstrument()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def agent_url(otlp_receiver: Any) -> Iterator[str]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        "PYTHONPATH": str(ROOT),
        "OTEL_SERVICE_NAME": "a2a-echo-agent",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.http_endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_BSP_SCHEDULE_DELAY": "20",
    }
    process = subprocess.Popen(
        [sys.executable, AGENT, str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert process.poll() is None and time.monotonic() < deadline, "agent did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def ask(url: str, text: str, *, streaming: bool) -> list[Any]:
    """Send one message to the agent inside a remote ``invoke_agent`` span; the events."""
    port = int(url.rsplit(":", 1)[1])

    async def main() -> list[Any]:
        client = await create_client(url, client_config=ClientConfig(streaming=streaming))
        request = SendMessageRequest(
            message=Message(role=Role.ROLE_USER, message_id="msg-1", parts=[Part(text=text)])
        )
        token = otel_context.attach(baggage.set_baggage("tenant", "acme"))
        try:
            with agentotel.agent("echo-agent", remote=True, provider="a2a",
                                 server_address="127.0.0.1", server_port=port):
                return [event async for event in client.send_message(request)]
        finally:
            otel_context.detach(token)
            await client.close()

    return anyio.run(main)


def hex_ids(span: Any) -> tuple[str, str]:
    return f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}"


def remote_spans(receiver: Any, trace_id: str, count: int) -> list[Any]:
    return receiver.wait_for(
        lambda: (
            found
            if len(found := [s for s in receiver.spans() if s.trace_id == trace_id]) >= count
            else None
        ),
        timeout=15,
    )


def test_send_message_is_one_client_span_under_the_remote_agent_and_one_server_span(
    recorded, otlp_receiver, agent_url
):
    events = ask(agent_url, "hello", streaming=False)
    task = events[-1].task
    answer = json.loads(task.artifacts[0].parts[0].text)
    assert answer == {"text": "hello", "baggage": {"tenant": "acme"}}
    remote_agent = recorded.span("invoke_agent echo-agent")
    client = recorded.span("SendMessage")
    assert remote_agent.kind is SpanKind.CLIENT
    assert client.kind is SpanKind.CLIENT
    assert client.parent.span_id == remote_agent.context.span_id
    port = int(agent_url.rsplit(":", 1)[1])
    assert dict(client.attributes) == {
        "a2a.method.name": "SendMessage",
        "a2a.message.id": "msg-1",
        "a2a.protocol.version": "1.0",
        "a2a.task.id": task.id,
        "a2a.task.state": "TASK_STATE_COMPLETED",
        "gen_ai.conversation.id": task.context_id,
        "gen_ai.agent.name": "echo-agent",
        "gen_ai.agent.description": "Says back what it gets",
        "gen_ai.agent.version": "1.2.0",
        "server.address": "127.0.0.1",
        "server.port": port,
    }
    trace_id, span_id = hex_ids(client)
    spans = remote_spans(otlp_receiver, trace_id, 2)
    server = next(s for s in spans if s.name == "SendMessage")
    inner = next(s for s in spans if s.name == "invoke_agent echo")
    assert (server.kind, server.parent_span_id) == ("SERVER", span_id)
    assert server.resource["service.name"] == "a2a-echo-agent"
    assert server.attributes["a2a.task.state"] == "TASK_STATE_COMPLETED"
    assert server.attributes["gen_ai.agent.name"] == "echo-agent"
    assert (inner.kind, inner.parent_span_id) == ("INTERNAL", server.span_id)
    # the SDK's own class-and-method spans are not there
    assert not [s for s in spans if s.scope_name == "a2a-python-sdk"]


def test_a_streaming_span_lasts_until_the_stream_ends(recorded, otlp_receiver, agent_url):
    events = ask(agent_url, "hello", streaming=True)
    assert len(events) > 1
    client = recorded.span("SendStreamingMessage")
    remote_agent = recorded.span("invoke_agent echo-agent")
    assert client.parent.span_id == remote_agent.context.span_id
    assert client.attributes["a2a.task.state"] == "TASK_STATE_COMPLETED"
    trace_id, span_id = hex_ids(client)
    spans = remote_spans(otlp_receiver, trace_id, 2)
    server = next(s for s in spans if s.name == "SendStreamingMessage")
    assert (server.kind, server.parent_span_id) == ("SERVER", span_id)
    inner = next(s for s in spans if s.name == "invoke_agent echo")
    assert server.end_time_unix_nano >= inner.end_time_unix_nano  # covers the whole stream
    assert client.end_time >= server.end_time_unix_nano - 50_000_000  # clocks of one machine


def test_a_failed_task_is_an_error_of_the_client_span(recorded, otlp_receiver, agent_url):
    ask(agent_url, "fail", streaming=False)
    client = recorded.span("SendMessage")
    assert (client.attributes["a2a.task.state"], client.attributes["error.type"]) == (
        "TASK_STATE_FAILED", "TASK_STATE_FAILED",
    )
    assert client.status.status_code is StatusCode.ERROR


def test_an_unreachable_agent_ends_both_client_spans_with_the_error(recorded):
    port = free_port()  # nothing listens there
    card = AgentCard(
        name="echo-agent",
        supported_interfaces=[AgentInterface(
            url=f"http://127.0.0.1:{port}/", protocol_binding="JSONRPC", protocol_version="1.0",
        )],
    )

    async def main() -> None:
        client = await create_client(card, client_config=ClientConfig(streaming=False))
        request = SendMessageRequest(
            message=Message(role=Role.ROLE_USER, message_id="msg-2", parts=[Part(text="x")])
        )
        try:
            with agentotel.agent("echo-agent", remote=True, provider="a2a"):
                async for _ in client.send_message(request):
                    pass
        finally:
            await client.close()

    with pytest.raises(Exception) as raised:  # noqa: B017 - whatever the SDK raises
        anyio.run(main)
    error_type = f"{type(raised.value).__module__}.{type(raised.value).__qualname__}"
    client = recorded.span("SendMessage")
    remote_agent = recorded.span("invoke_agent echo-agent")
    for span in (client, remote_agent):
        assert (span.attributes["error.type"], span.status.status_code) == (
            error_type, StatusCode.ERROR,
        )
    assert client.parent.span_id == remote_agent.context.span_id

"""The demo's other processes: the help-centre tools behind an MCP server (stdio) and the
planner as a remote agent (A2A over HTTP), each its own process with its own
``service.name``, instrumented by ``agentotel.init()`` alone.

- :class:`Relay`: a loopback OTLP/HTTP endpoint the child processes export their spans to
  (they never write telemetry to stdout: for the stdio server it is the MCP wire). The
  spans join this process's trace pipeline, so the terminal tree of a request shows every
  process's spans, each marked with its service, and an OTLP exporter configured here
  sends them on to the Collector. (In production each process exports to the Collector
  itself; the relay keeps the demo to one terminal.)
- :class:`Remote`: one asyncio loop on a thread, where the MCP client session and the A2A
  client live; the synchronous workflow calls them with its OpenTelemetry context, so the
  MCP and A2A spans are children of the caller's tool and agent spans.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Coroutine, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import requests
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

import agentotel

ROOT = Path(__file__).resolve().parents[2]
TOOLS_SERVICE = "support-tools"
PLANNER_SERVICE = "support-planner"
#: the planner's Agent Card name (the remote ``invoke_agent`` span's agent name)
PLANNER_AGENT = "planner"
#: ``gen_ai.provider.name`` of an agent the application hosts itself
PLANNER_PROVIDER = "acme_drive"
#: the tools the MCP server serves (the others run in-process)
MCP_TOOLS = frozenset({"calculate", "convert_units"})
_T = TypeVar("_T")
#: what the children take from this process's environment (the rest of OTEL_* is theirs)
_INHERITED = frozenset({
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "OTEL_SEMCONV_STABILITY_OPT_IN",
    "OTEL_SDK_DISABLED",
})


# --------------------------------------------------------------------------- the relay
def _any_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(_any_value(v) for v in value.array_value.values)
    return getattr(value, kind) if kind else None


def _attributes(key_values: Any) -> dict[str, Any]:
    return {kv.key: _any_value(kv.value) for kv in key_values}


def spans_of(request: trace_service_pb2.ExportTraceServiceRequest) -> list[ReadableSpan]:
    """The spans of an OTLP export request, as the SDK's ``ReadableSpan``. A span whose
    parent is in the demo process is marked as having a local parent, so the tree of that
    process's request shows it in place."""
    spans: list[ReadableSpan] = []
    for resource_spans in request.resource_spans:
        resource = Resource(_attributes(resource_spans.resource.attributes))
        for scope_spans in resource_spans.scope_spans:
            scope = InstrumentationScope(scope_spans.scope.name, scope_spans.scope.version)
            for span in scope_spans.spans:
                trace_id = int.from_bytes(span.trace_id, "big")
                parent = None
                if span.parent_span_id:
                    parent = SpanContext(trace_id, int.from_bytes(span.parent_span_id, "big"),
                                         is_remote=False, trace_flags=TraceFlags(1))
                spans.append(ReadableSpan(
                    name=span.name,
                    context=SpanContext(trace_id, int.from_bytes(span.span_id, "big"),
                                        is_remote=False, trace_flags=TraceFlags(1)),
                    parent=parent,
                    resource=resource,
                    attributes=_attributes(span.attributes),
                    events=[Event(e.name, _attributes(e.attributes), e.time_unix_nano)
                            for e in span.events],
                    kind=SpanKind(max(span.kind - 1, 0)),
                    status=Status(StatusCode(span.status.code), span.status.message or None),
                    start_time=span.start_time_unix_nano,
                    end_time=span.end_time_unix_nano,
                    instrumentation_scope=scope,
                ))
    return spans


class Relay:
    """``POST /v1/traces`` (OTLP/HTTP, protobuf) on a free loopback port; each span is
    handed to ``processor.on_end``."""

    def __init__(self, processor: Any, environment: str) -> None:
        self.processor = processor
        self.environment = environment
        #: spans received, by (trace id, service name): what a caller waits on
        self._received: dict[tuple[int, str], int] = {}
        self._arrived = threading.Condition()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the BaseHTTPRequestHandler API
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                if self.path == "/v1/traces":
                    request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
                    for span in spans_of(request):
                        relay.processor.on_end(span)
                        relay._count(span)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _count(self, span: ReadableSpan) -> None:
        service = span.resource.attributes.get("service.name")
        key = (span.context.trace_id if span.context else 0, str(service))
        with self._arrived:
            self._received[key] = self._received.get(key, 0) + 1
            self._arrived.notify_all()

    def received(self, trace_id: int, service: str) -> int:
        """How many spans of ``trace_id`` came from ``service`` so far."""
        with self._arrived:
            return self._received.get((trace_id, service), 0)

    def wait_for_more(self, trace_id: int, service: str, seen: int, timeout_s: float = 2.0
                      ) -> None:
        """Wait until more than ``seen`` spans of ``trace_id`` came from ``service`` (the
        child exports every 20 ms): the request's tree is printed with them."""
        with self._arrived:
            self._arrived.wait_for(
                lambda: self._received.get((trace_id, service), 0) > seen, timeout_s
            )

    def child_env(self, service: str, extra: Mapping[str, str] = {}) -> dict[str, str]:  # noqa: B006
        """A child process's environment: its service name, its spans to this relay."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("OTEL_") or k in _INHERITED}
        env.update({
            "PYTHONPATH": str(ROOT),
            "OTEL_SERVICE_NAME": service,
            "OTEL_RESOURCE_ATTRIBUTES": f"deployment.environment.name={self.environment}",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{self.url}/v1/traces",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_BSP_SCHEDULE_DELAY": "20",
            **extra,
        })
        return env

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------- the clients
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Remote:
    """The MCP tool server and the A2A planner, started here and used synchronously."""

    def __init__(self, relay: Relay, model_base_url: str, model_api_key: str) -> None:
        self.relay = relay
        self._expected: list[tuple[int, str, int]] = []
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self._devnull = open(os.devnull, "w")  # noqa: SIM115 - closed in close()
        port = _free_port()
        self.planner_url = f"http://127.0.0.1:{port}"
        self._planner = subprocess.Popen(
            [sys.executable, "-m", "examples.support_assistant.planner_agent", str(port)],
            cwd=ROOT,
            env=relay.child_env(PLANNER_SERVICE, {
                "OPENAI_BASE_URL": model_base_url, "OPENAI_API_KEY": model_api_key,
            }),
            stdout=subprocess.DEVNULL, stderr=self._devnull,
        )
        self.session: Any = None
        self.a2a: Any = None
        # one trace for the start-up (MCP initialize, the Agent Card), held open until the
        # child processes' spans of it have come in, so it prints as one tree
        with trace.get_tracer(__name__).start_as_current_span(
            f"start {TOOLS_SERVICE} and {PLANNER_SERVICE}"
        ):
            self._run(self._open_tools(relay))
            if self.session is None:
                raise RuntimeError("the MCP tool server did not start")
            self._wait_for_port(port)
            self._run(self._open_planner())
            time.sleep(0.2)  # the children export every 20 ms

    def _run(self, coro: Coroutine[Any, Any, _T], ctx: Any = None) -> _T:
        """Run ``coro`` on the loop with the OpenTelemetry context ``ctx`` (default: the
        caller's) and wait for its result."""
        ctx = otel_context.get_current() if ctx is None else ctx

        async def in_context() -> _T:
            token = otel_context.attach(ctx)
            try:
                return await coro
            finally:
                otel_context.detach(token)

        return asyncio.run_coroutine_threadsafe(in_context(), self.loop).result()

    async def _open_tools(self, relay: Relay) -> None:
        """Start the session's task (an MCP session is opened and closed by one task)."""
        ready = asyncio.Event()
        self._closing = asyncio.Event()
        self._tools_task = asyncio.ensure_future(self._tools(relay, ready))
        await ready.wait()

    async def _tools(self, relay: Relay, ready: asyncio.Event) -> None:
        from mcp import ClientSession, StdioServerParameters
        from mcp.client.stdio import stdio_client

        params = StdioServerParameters(
            command=sys.executable, args=["-m", "examples.support_assistant.tool_server"],
            env=relay.child_env(TOOLS_SERVICE), cwd=str(ROOT),
        )
        try:
            async with stdio_client(params, errlog=self._devnull) as (read, write), \
                    ClientSession(read, write) as session:
                await session.initialize()
                self.session = session
                ready.set()
                await self._closing.wait()
        finally:
            ready.set()

    def _wait_for_port(self, port: int, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            if self._planner.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the planner agent did not start")
            time.sleep(0.05)

    async def _open_planner(self) -> None:
        from a2a.client import ClientConfig, create_client

        self.a2a = await create_client(self.planner_url, client_config=ClientConfig(
            streaming=False))

    # -- the calls the workflow makes ---------------------------------------------------
    def call_tool(self, name: str, arguments: Mapping[str, Any]) -> tuple[str, bool]:
        """Call an MCP tool: (its text result, whether it is an error result)."""
        with self._waiting_for(TOOLS_SERVICE):
            result = self._run(self.session.call_tool(name, dict(arguments)))
        text = "".join(getattr(part, "text", "") for part in result.content)
        return text, bool(result.is_error)

    def plan(self, request: str, conversation_id: str) -> str:
        """The remote planner's plan for ``request``: an ``invoke_agent planner`` CLIENT span
        around the A2A ``SendMessage`` call. Raises ``requests.HTTPError`` with the remote
        agent's reason when its task fails (its model call failed)."""
        from a2a.types.a2a_pb2 import Message, Part, Role, SendMessageRequest, TaskState

        port = int(self.planner_url.rsplit(":", 1)[1])
        message = Message(role=Role.ROLE_USER, message_id=uuid.uuid4().hex,
                          context_id=conversation_id, parts=[Part(text=request)])
        with agentotel.agent(PLANNER_AGENT, remote=True, provider=PLANNER_PROVIDER,
                             server_address="127.0.0.1", server_port=port,
                             conversation_id=conversation_id):
            with self._waiting_for(PLANNER_SERVICE):
                task = self._run(self._send(SendMessageRequest(message=message)))
            if task.status.state != TaskState.TASK_STATE_COMPLETED or not task.artifacts:
                reason = "".join(p.text for p in task.status.message.parts) or "planner failed"
                raise requests.HTTPError(reason)  # the remote agent's failure, in its span
            return "".join(part.text for part in task.artifacts[0].parts)

    @contextlib.contextmanager
    def _waiting_for(self, service: str) -> Iterator[None]:
        """Note that the call makes spans in ``service``: :meth:`settle` waits for them."""
        trace_id = trace.get_current_span().get_span_context().trace_id
        self._expected.append((trace_id, service, self.relay.received(trace_id, service)))
        yield

    def settle(self) -> None:
        """Wait until the spans the calls made in the other processes have arrived (they
        export every 20 ms), so that the request's tree is printed with them."""
        expected, self._expected = self._expected, []
        for trace_id, service, seen in expected:
            self.relay.wait_for_more(trace_id, service, seen)

    async def _send(self, request: Any) -> Any:
        events = [event async for event in self.a2a.send_message(request)]
        return events[-1].task

    def close(self) -> None:
        try:
            if self.a2a is not None:
                self._run(self.a2a.close())
            self.loop.call_soon_threadsafe(self._closing.set)
            asyncio.run_coroutine_threadsafe(asyncio.wait([self._tools_task]), self.loop).result()
        finally:
            self._planner.terminate()
            self._planner.wait(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._devnull.close()


def tool_result(text: str, is_error: bool) -> str:
    """The JSON text the model reads from an MCP tool result."""
    if is_error:
        return json.dumps({"error": text})
    return text

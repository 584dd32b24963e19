"""``init()`` sees the whole application: the real SDKs and frameworks (openai, anthropic,
langchain-openai + LangGraph, openai-agents, pydantic-ai) against the local model API
server (``llm_server.py``), and nothing agentotel does mocked.

1. **init() alone instruments each library.** The application (``integration_app.py``,
   no telemetry code but ``agentotel.init()``) runs in one subprocess per library, since
   ``init()`` sets the global providers once per process; the subprocesses run side by
   side and export OTLP over loopback to their own ``OtlpReceiver``. Checked: the span
   tree (names, kinds, parents), the exact usage the server reported, the cost of every
   chat span, the HTTP client span under every chat span, the metric points, which
   instrumentations ``init()`` enabled, and ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS``.
2. **One span, one duration point, one input and one output token point, one cost
   increment per model request in every layering**: ``agentotel.llm()`` around an SDK
   call, a framework over an instrumented SDK, an SDK that traces itself inside the
   official instrumentation. In process, on test providers (``Instrumentations`` on
   them, ``GenAISpanProcessor`` before an in-memory exporter), except the anthropic SDK's
   own tracing, which needs agentotel's tracer provider to be the global one (the
   anthropic subprocess of part 1).
3. **Failures and content**: HTTP 500, the capture modes whatever the environment
   variable says, secrets in prompts redacted before export.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import integration_app as app
import llm_server
import openai
import pytest
from llm_server import (
    MODEL_SNAPSHOTS,
    LLMServer,
    TokenUsage,
    count_words,
    expected_usage,
    reply_text,
    serve,
    tool_reply_text,
)
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from otlp_receiver import OtlpReceiver, SpanRecord

import agentotel
from agentotel import _runtime, content
from agentotel import semconv as sc
from agentotel._instruments import Instruments
from agentotel._runtime import Runtime
from agentotel._settings import resolve
from agentotel.cost import load_price_table
from agentotel.integrations import GenAISpanProcessor, Instrumentations, catalog, chosen

ROOT = Path(__file__).resolve().parent.parent
APP = Path(app.__file__)

# --------------------------------------------------------------------------- expectations

#: the packaged price table's rates (agentotel/data/pricing.json), USD per million
#: tokens: input, cache read, output
RATES = {
    app.OPENAI_MODEL: (0.15, 0.075, 0.60),
    app.ANTHROPIC_MODEL: (1.0, 0.10, 5.0),
    app.EMBEDDING_MODEL: (0.02, 0.02, 0.0),
}

WEATHER_ARGUMENTS = '{"city": "Paris"}'
#: an agent's first model request: the tool call (name and arguments count as output)
TOOL_CALL_USAGE = expected_usage([app.SYSTEM, app.PROMPT], f"get_weather {WEATHER_ARGUMENTS}")
#: its second: after the tool result
AFTER_TOOL_USAGE = expected_usage(
    [app.SYSTEM, app.PROMPT, WEATHER_ARGUMENTS, app.TOOL_RESULT], tool_reply_text(app.TOOL_RESULT)
)

CHAT = sc.OP_CHAT
EMBEDDINGS = sc.OP_EMBEDDINGS
DURATION = sc.METRIC_OPERATION_DURATION
TOKENS = sc.METRIC_TOKEN_USAGE
COST = sc.METRIC_LLM_COST
TEMPERATURE = sc.GEN_AI_REQUEST_PARAMS["temperature"]
TOP_P = sc.GEN_AI_REQUEST_PARAMS["top_p"]
MAX_TOKENS = sc.GEN_AI_REQUEST_PARAMS["max_tokens"]
STREAM = sc.GEN_AI_REQUEST_PARAMS["stream"]
SCOPE_OPENAI = "opentelemetry.instrumentation.genai.openai"
SCOPE_ANTHROPIC = "opentelemetry.instrumentation.genai.anthropic"
SCOPE_LANGCHAIN = "opentelemetry.instrumentation.genai.langchain"
SCOPE_AGENTS = "opentelemetry.instrumentation.genai.openai_agents"
SCOPE_PYDANTIC_AI = "pydantic-ai"
SCOPE_ANTHROPIC_SDK = "com.anthropic.sdk.python"
SCOPE_HTTP = "opentelemetry.instrumentation.httpx"


def cost_of(model: str, usage: TokenUsage) -> float:
    """USD for one request, from :data:`RATES` (OpenAI's input tokens include the cached
    ones; the Anthropic requests here cache nothing)."""
    per_input, per_cached, per_output = RATES[model]
    uncached = usage.prompt_tokens - usage.cached_tokens
    return (
        uncached * per_input + usage.cached_tokens * per_cached + usage.output_tokens * per_output
    ) / 1e6


@dataclass(frozen=True)
class Request:
    """One model request the application made, and what the server answered."""

    model: str
    usage: TokenUsage
    response_id: str | None = None  # None: embeddings (no id)
    operation: str = CHAT
    path: str = "/v1/chat/completions"

    @property
    def cost(self) -> float:
        return cost_of(self.model, self.usage)


# --------------------------------------------------------------------------- one view of spans


@dataclass(frozen=True)
class Span:
    """A finished span, from the in-memory exporter or decoded from OTLP."""

    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]
    status: str
    scope: str
    start: int
    event_attributes: tuple[dict[str, Any], ...] = ()

    @property
    def is_inference(self) -> bool:
        return self.kind == "CLIENT" and self.attributes.get(sc.GEN_AI_OPERATION_NAME) in (
            sc.LLM_OPERATIONS
        )

    @property
    def url_path(self) -> str:
        url = str(self.attributes.get("url.full") or self.attributes.get("http.url") or "")
        return "/" + url.split("://", 1)[-1].partition("/")[2] if url else ""


def from_readable(span: ReadableSpan) -> Span:
    return Span(
        name=span.name,
        kind=span.kind.name,
        trace_id=f"{span.context.trace_id:032x}",
        span_id=f"{span.context.span_id:016x}",
        parent_id=f"{span.parent.span_id:016x}" if span.parent else "",
        attributes=dict(span.attributes or {}),
        status=span.status.status_code.name,
        scope=span.instrumentation_scope.name if span.instrumentation_scope else "",
        start=span.start_time or 0,
        event_attributes=tuple(dict(event.attributes or {}) for event in span.events),
    )


def from_record(span: SpanRecord) -> Span:
    return Span(
        name=span.name,
        kind=span.kind,
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_id=span.parent_span_id,
        attributes=span.attributes,
        status=span.status_code,
        scope=span.scope_name,
        start=span.start_time_unix_nano,
        event_attributes=tuple(event.attributes for event in span.events),
    )


@dataclass(frozen=True)
class Point:
    """One metric point: a histogram's count and sum, or a sum's value (``count`` None)."""

    name: str
    scope: str
    attributes: dict[str, Any]
    count: int | None
    total: float


@dataclass
class Telemetry:
    """What one run exported: spans and the last value of every metric point."""

    spans: list[Span]
    points: list[Point]

    def tree(self) -> list[str]:
        """The span tree as indented lines ``name [KIND]`` (HTTP spans with the URL path),
        roots and children in start order."""
        ids = {span.span_id for span in self.spans}
        lines: list[str] = []

        def walk(span: Span, depth: int) -> None:
            path = f" {span.url_path}" if span.name in ("POST", "GET") else ""
            lines.append(f"{'  ' * depth}{span.name} [{span.kind}]{path}")
            for child in self.children(span):
                walk(child, depth + 1)

        for root in sorted(
            (s for s in self.spans if s.parent_id not in ids), key=lambda s: s.start
        ):
            walk(root, 0)
        return lines

    def children(self, span: Span) -> list[Span]:
        found = [s for s in self.spans if s.parent_id == span.span_id]
        return sorted((s for s in found if s.trace_id == span.trace_id), key=lambda s: s.start)

    def parent(self, span: Span) -> Span | None:
        return next((s for s in self.spans if s.span_id == span.parent_id), None)

    def inference(self) -> list[Span]:
        return sorted((s for s in self.spans if s.is_inference), key=lambda s: s.start)

    def by_response_id(self, response_id: str) -> Span:
        found = [
            s for s in self.inference() if s.attributes.get(sc.GEN_AI_RESPONSE_ID) == response_id
        ]
        assert len(found) == 1, (response_id, self.tree())
        return found[0]

    def metric(self, name: str, **attributes: Any) -> list[Point]:
        return [
            p
            for p in self.points
            if p.name == name and all(p.attributes.get(k) == v for k, v in attributes.items())
        ]

    def count(self, name: str, **attributes: Any) -> int:
        """Data points recorded into histogram ``name`` (the sum of the points' counts)."""
        return sum(p.count or 0 for p in self.metric(name, **attributes))

    def total(self, name: str, **attributes: Any) -> float:
        return sum(p.total for p in self.metric(name, **attributes))


def _token(kind: str) -> dict[str, str]:
    return {sc.GEN_AI_TOKEN_TYPE: kind}


# --------------------------------------------------------------------------- shared checks


def check_request(telemetry: Telemetry, span: Span, request: Request) -> None:
    """The span of one model request: exact usage, response, cost, the HTTP span under it."""
    attributes = span.attributes
    usage = request.usage
    assert attributes[sc.GEN_AI_OPERATION_NAME] == request.operation
    assert attributes[sc.GEN_AI_REQUEST_MODEL] == request.model
    assert attributes[sc.GEN_AI_RESPONSE_MODEL] == MODEL_SNAPSHOTS.get(request.model, request.model)
    assert attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == usage.prompt_tokens
    if request.operation == CHAT:
        assert attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == usage.output_tokens
    assert attributes.get(sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, 0) == usage.cached_tokens
    assert attributes[sc.LLM_COST_USD] == pytest.approx(request.cost, rel=1e-9)
    http = [c for c in telemetry.children(span) if c.kind == "CLIENT" and c.name == "POST"]
    assert [(c.scope, c.url_path) for c in http] == [(SCOPE_HTTP, request.path)], telemetry.tree()


def check_requests(telemetry: Telemetry, requests: Sequence[Request]) -> None:
    """Exactly one inference span per request, each right; exactly one duration point, one
    input and (chat) one output token point per request; the cost counter sums the spans'
    costs."""
    spans = telemetry.inference()
    assert len(spans) == len(requests), telemetry.tree()
    for request in requests:
        if request.response_id is not None:
            span = telemetry.by_response_id(request.response_id)
        else:
            (span,) = [s for s in spans if s.attributes[sc.GEN_AI_OPERATION_NAME] == EMBEDDINGS]
        check_request(telemetry, span, request)
    for operation in (CHAT, EMBEDDINGS):
        mine = [r for r in requests if r.operation == operation]
        op = {sc.GEN_AI_OPERATION_NAME: operation}
        assert telemetry.count(DURATION, **op) == len(mine), telemetry.points
        assert telemetry.count(TOKENS, **op, **_token("input")) == len(mine)
        assert telemetry.total(TOKENS, **op, **_token("input")) == sum(
            r.usage.prompt_tokens for r in mine
        )
        outputs = len(mine) if operation == CHAT else 0
        assert telemetry.count(TOKENS, **op, **_token("output")) == outputs
        assert telemetry.total(TOKENS, **op, **_token("output")) == sum(
            r.usage.output_tokens for r in mine if r.operation == CHAT
        )
    assert telemetry.count(DURATION) == len(requests)
    span_costs = sum(s.attributes[sc.LLM_COST_USD] for s in spans)
    assert telemetry.total(COST) == pytest.approx(span_costs, rel=1e-9)
    assert telemetry.total(COST) == pytest.approx(sum(r.cost for r in requests), rel=1e-9)


def agent_requests(calls: Sequence[dict[str, Any]], path: str) -> list[Request]:
    """An agent's two requests: the tool call, then the answer after the tool result."""
    first, second = calls
    return [
        Request(app.OPENAI_MODEL, TOOL_CALL_USAGE, first["id"], path=path),
        Request(app.OPENAI_MODEL, AFTER_TOOL_USAGE, second["id"], path=path),
    ]


def agent_tree(agent: str, path: str, *, workflow: str | None = None) -> list[str]:
    indent = "  " if workflow else ""
    lines = [f"invoke_workflow {workflow} [INTERNAL]"] if workflow else []
    chat = [f"{indent}  chat {app.OPENAI_MODEL} [CLIENT]", f"{indent}    POST [CLIENT] {path}"]
    return [
        *lines,
        f"{indent}invoke_agent {agent} [INTERNAL]",
        *chat,
        f"{indent}  execute_tool get_weather [INTERNAL]",
        *chat,
    ]


# --------------------------------------------------------------------------- part 1: subprocesses


@dataclass
class AppRun:
    """One run of the application in a subprocess, exporting to its own receiver."""

    name: str
    process: subprocess.Popen[bytes]
    receiver: OtlpReceiver
    server: LLMServer
    stdout: Path
    stderr: Path
    _output: dict[str, Any] | None = None

    def output(self) -> dict[str, Any]:
        """The application's JSON line (waits for the run to finish)."""
        if self._output is None:
            code = self.process.wait(timeout=120)
            err = self.stderr.read_text()
            assert code == 0, f"{self.name} exited with {code}:\n{err[-4000:]}"
            self._output = json.loads(self.stdout.read_text().strip().splitlines()[-1])
        return self._output

    @property
    def calls(self) -> list[dict[str, Any]]:
        return list(self.output()["calls"])

    @property
    def instrumented(self) -> list[str]:
        """``Telemetry.instrumented`` after the application's last import."""
        return list(self.output()["imports"][-1][1])

    def instrumented_after(self, module: str) -> list[str]:
        return next(names for name, names in self.output()["imports"] if name == module)

    def log_events(self) -> list[str]:
        """The ``event`` of every JSON log line the application wrote to stderr."""
        self.output()
        events = []
        for line in self.stderr.read_text().splitlines():
            if line.startswith("{"):
                events.append(str(json.loads(line).get("event", "")))
        return events

    def telemetry(self) -> Telemetry:
        self.output()  # shutdown() flushed everything before the process printed its line
        spans = [from_record(s) for s in self.receiver.spans()]
        latest: dict[tuple[str, str, str], Point] = {}  # cumulative: the last export wins
        for p in self.receiver.metric_points():
            key = (p.name, p.scope_name, json.dumps(p.attributes, sort_keys=True, default=str))
            total = p.sum if p.count is not None else p.value
            latest[key] = Point(p.name, p.scope_name, p.attributes, p.count, float(total or 0))
        return Telemetry(spans, list(latest.values()))


#: run name -> (scenarios, options, extra environment)
RUNS: dict[str, tuple[tuple[str, ...], tuple[str, ...], dict[str, str]]] = {
    "openai": (("openai",), (), {}),
    # imported before init(): enabled at once rather than by the post-import hook
    "anthropic": (("anthropic",), ("--import-first",), {}),
    "langgraph": (("langgraph",), (), {}),
    "openai_agents": (("openai_agents",), (), {}),
    "pydantic_ai": (("pydantic_ai",), (), {}),
    # agentotel's mode, the variable unset: content on the spans, redacted before export
    "secret": (("secret",), ("--init", json.dumps({"capture_content": "SPAN_ONLY"})), {}),
    # HTTP 500 with init()'s whole set-up: the anthropic SDK's own span included
    "failure": (("failure",), (), {}),
    "disabled": (
        ("openai", "anthropic"),
        (),
        {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "openai,anthropic,httpx2"},
    ),
}


def _app_environment(
    receiver: OtlpReceiver, server: LLMServer, extra: dict[str, str]
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "AGENTOTEL_", "OPENAI_", "ANTHROPIC_"))
    }
    env.update(
        LLM_SERVER_URL=server.base_url,
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.http_endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_BSP_SCHEDULE_DELAY="50",
        OTEL_BLRP_SCHEDULE_DELAY="50",
        OTEL_METRIC_EXPORT_INTERVAL="200",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, AppRun]]:
    """Every run of :data:`RUNS`, started at once (each waits only for its own)."""
    directory = tmp_path_factory.mktemp("apps")
    with ExitStack() as stack:
        runs: dict[str, AppRun] = {}
        for name, (scenarios, options, extra) in RUNS.items():
            receiver = stack.enter_context(OtlpReceiver())
            server = stack.enter_context(serve())
            stdout, stderr = directory / f"{name}.out", directory / f"{name}.err"
            with stdout.open("wb") as out, stderr.open("wb") as err:
                process = subprocess.Popen(
                    [sys.executable, str(APP), *options, *scenarios],
                    cwd=ROOT,
                    env=_app_environment(receiver, server, extra),
                    stdout=out,
                    stderr=err,
                )
            stack.callback(_stop, process)
            runs[name] = AppRun(name, process, receiver, server, stdout, stderr)
        yield runs


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def test_init_instruments_openai_chat_stream_responses_and_embeddings(
    apps: dict[str, AppRun],
) -> None:
    run = apps["openai"]
    chat, chat_async, chat_stream, responses, embeddings = run.calls
    telemetry = run.telemetry()
    chat_lines = [f"chat {app.OPENAI_MODEL} [CLIENT]", "  POST [CLIENT] /v1/chat/completions"]
    assert telemetry.tree() == [
        *chat_lines,
        *chat_lines,
        *chat_lines,
        f"chat {app.OPENAI_MODEL} [CLIENT]",
        "  POST [CLIENT] /v1/responses",
        f"embeddings {app.EMBEDDING_MODEL} [CLIENT]",
        "  POST [CLIENT] /v1/embeddings",
    ]
    requests = [
        Request(
            app.OPENAI_MODEL, expected_usage([app.SYSTEM, app.PROMPT], reply_text(app.PROMPT)),
            chat["id"],
        ),
        Request(
            app.OPENAI_MODEL, expected_usage(app.ASYNC_PROMPT, reply_text(app.ASYNC_PROMPT)),
            chat_async["id"],
        ),
        Request(
            app.OPENAI_MODEL, expected_usage(app.LONG_PROMPT, reply_text(app.LONG_PROMPT)),
            chat_stream["id"],
        ),
        Request(
            app.OPENAI_MODEL,
            expected_usage([app.SYSTEM, app.RESPONSES_PROMPT], reply_text(app.RESPONSES_PROMPT)),
            responses["id"],
            path="/v1/responses",
        ),
        Request(
            app.EMBEDDING_MODEL,
            TokenUsage(sum(count_words(t) for t in app.EMBEDDING_INPUTS), 0),
            operation=EMBEDDINGS,
            path="/v1/embeddings",
        ),
    ]
    assert requests[2].usage.cached_tokens > 0  # the streamed prompt is long enough to cache
    # what the SDK saw is what the spans say (the application's own view of the answers)
    for call, request in zip(run.calls, requests, strict=True):
        assert (call["usage"]["input"], call["usage"]["cached"]) == (
            request.usage.prompt_tokens, request.usage.cached_tokens
        )
    assert embeddings["usage"]["input"] == requests[4].usage.prompt_tokens
    check_requests(telemetry, requests)
    streamed = telemetry.by_response_id(chat_stream["id"]).attributes
    assert streamed[STREAM] is True
    assert telemetry.by_response_id(chat["id"]).attributes[TEMPERATURE] == 0.2
    assert {s.scope for s in telemetry.inference()} == {SCOPE_OPENAI}


def test_init_instruments_anthropic_create_and_stream(apps: dict[str, AppRun]) -> None:
    run = apps["anthropic"]
    create, stream = run.calls
    telemetry = run.telemetry()
    chat_lines = [f"chat {app.ANTHROPIC_MODEL} [CLIENT]", "  POST [CLIENT] /v1/messages"]
    assert telemetry.tree() == [*chat_lines, *chat_lines]
    requests = [
        Request(
            app.ANTHROPIC_MODEL,
            expected_usage([app.SYSTEM, app.ANTHROPIC_PROMPT], reply_text(app.ANTHROPIC_PROMPT)),
            create["id"],
            path="/v1/messages",
        ),
        Request(
            app.ANTHROPIC_MODEL,
            expected_usage(app.ANTHROPIC_STREAM_PROMPT, reply_text(app.ANTHROPIC_STREAM_PROMPT)),
            stream["id"],
            path="/v1/messages",
        ),
    ]
    check_requests(telemetry, requests)
    assert telemetry.by_response_id(stream["id"]).attributes[STREAM] is True
    assert {s.scope for s in telemetry.inference()} == {SCOPE_ANTHROPIC}


def test_the_anthropic_sdks_own_span_and_the_instrumentations_are_one_span(
    apps: dict[str, AppRun],
) -> None:
    """The anthropic SDK traces itself on the global tracer provider (agentotel's, after
    init()): its ``anthropic.messages.create`` span inside the official instrumentation's
    ``chat`` span is the same model request. One span is exported, with what both knew."""
    run = apps["anthropic"]
    telemetry = run.telemetry()
    assert not [s for s in telemetry.spans if s.scope == SCOPE_ANTHROPIC_SDK], telemetry.tree()
    for call in run.calls:
        span = telemetry.by_response_id(call["id"])
        attributes = span.attributes
        # the instrumentation's own: request parameters, finish reasons in the conventions
        assert attributes[MAX_TOKENS] == 64
        assert attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
        # the SDK's own (its span was merged in): the request id header, the URL, its
        # own stop reason
        assert attributes["anthropic.request.id"].startswith("req_")
        assert attributes["url.full"] == run.server.base_url + "/v1/messages"
        assert attributes["anthropic.message.stop_reason"] == "end_turn"
        # the HTTP span hung under the SDK's span is re-parented to the exported one
        assert [c.name for c in telemetry.children(span)] == ["POST"]
    # one duration point and one token pair per request: the SDK records no metrics
    assert telemetry.count(DURATION) == 2
    assert {p.scope for p in telemetry.metric(DURATION)} == {SCOPE_ANTHROPIC}


def test_init_instruments_a_langgraph_agent_over_chat_openai(apps: dict[str, AppRun]) -> None:
    run = apps["langgraph"]
    telemetry = run.telemetry()
    assert telemetry.tree() == agent_tree("weather", "/v1/chat/completions")
    assert len({s.trace_id for s in telemetry.spans}) == 1
    check_requests(telemetry, agent_requests(run.calls, "/v1/chat/completions"))
    assert {s.scope for s in telemetry.inference()} == {SCOPE_LANGCHAIN}
    for span in telemetry.inference():
        # what only the OpenAI layer knew, on LangChain's span (util-genai's nesting)
        assert span.attributes[sc.SERVER_PORT] == run.server.port
        assert span.attributes[TEMPERATURE] == 0.3


def test_init_instruments_an_openai_agents_sdk_agent(apps: dict[str, AppRun]) -> None:
    run = apps["openai_agents"]
    telemetry = run.telemetry()
    assert telemetry.tree() == agent_tree(
        "weather", "/v1/responses", workflow="Agent workflow"
    )
    check_requests(telemetry, agent_requests(run.calls, "/v1/responses"))
    # the Agents SDK makes no inference span: the OpenAI instrumentation's, under the agent
    assert {s.scope for s in telemetry.inference()} == {SCOPE_OPENAI}
    for span in telemetry.inference():
        parent = telemetry.parent(span)
        assert parent is not None and parent.scope == SCOPE_AGENTS
    # the Agents SDK's upload of its traces to OpenAI is off: no key, no complaint
    assert not [e for e in run.log_events() if "trace" in e.lower() and "export" in e.lower()]


def test_init_instruments_a_pydantic_ai_agent(apps: dict[str, AppRun]) -> None:
    run = apps["pydantic_ai"]
    telemetry = run.telemetry()
    assert telemetry.tree() == agent_tree("agent", "/v1/chat/completions")
    check_requests(telemetry, agent_requests(run.calls, "/v1/chat/completions"))
    assert {s.scope for s in telemetry.inference()} == {SCOPE_PYDANTIC_AI}
    # the metrics are the OpenAI instrumentation's (pydantic-ai's own are left out)
    assert {p.scope for p in telemetry.metric(DURATION)} == {SCOPE_OPENAI}


#: run -> the instrumentations init() must have enabled once the application imported
#: its libraries (the HTTP client ones included)
EXPECTED_INSTRUMENTED = {
    "openai": {"httpx2", "openai"},
    "anthropic": {"httpx2", "anthropic"},
    "langgraph": {"httpx2", "openai", "langchain"},
    "openai_agents": {"httpx2", "openai", "openai_agents"},
    "pydantic_ai": {"httpx2", "openai", "pydantic_ai"},
    "secret": {"httpx2", "openai", "anthropic"},
    "failure": {"httpx2", "openai", "anthropic"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_INSTRUMENTED))
def test_init_enables_every_instrumentation_of_the_imported_libraries(
    apps: dict[str, AppRun], name: str
) -> None:
    """Fails when an instrumentation silently stops being enabled (a renamed module, a
    version conflict, a failing hook): ``Telemetry.instrumented`` and the start-up log
    lines must name each one."""
    run = apps[name]
    expected = EXPECTED_INSTRUMENTED[name]
    assert expected <= set(run.instrumented), run.instrumented
    lines = [e for e in run.log_events() if e.startswith("agentotel: instrumented ")]
    enabled = " ".join(line.partition(";")[0] for line in lines)  # not "when imported: ..."
    displays = {entry.name: entry.display for entry in catalog()}
    for instrumentation in expected:
        assert re.search(rf"[ ,]{re.escape(displays[instrumentation])} [0-9(]", enabled), (
            instrumentation,
            lines,
        )
    assert not [e for e in run.log_events() if "not instrumenting" in e], run.log_events()


def test_a_langgraph_application_without_the_langchain_package_is_instrumented(
    apps: dict[str, AppRun],
) -> None:
    run = apps["langgraph"]
    assert "langchain" in run.instrumented_after("langgraph.prebuilt")


def test_disabled_instrumentations_make_no_spans_and_no_metrics(apps: dict[str, AppRun]) -> None:
    """``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=openai,anthropic,httpx2``: the same calls
    as the openai and anthropic runs; neither instrumentation's spans or metrics, and no
    HTTP span (each ``POST`` span of the other runs is the httpx2 instrumentation's)."""
    run = apps["disabled"]
    assert len(run.calls) == 7
    assert not {"openai", "anthropic", "httpx2"} & set(run.instrumented), run.instrumented
    telemetry = run.telemetry()
    scopes = {s.scope for s in telemetry.spans}
    # what is left is the anthropic SDK's own tracing (ANTHROPIC_OPEN_TELEMETRY=false is
    # its switch): one span per create/stream call
    assert scopes == {SCOPE_ANTHROPIC_SDK}, telemetry.tree()
    assert telemetry.tree() == ["anthropic.messages.create [CLIENT]"] * 2
    # no instrumentation's metrics: agentotel measures the SDK's own spans, once each
    assert {p.scope for p in telemetry.metric(DURATION) + telemetry.metric(TOKENS)} == {
        sc.INSTRUMENTATION_SCOPE
    }
    assert sum(p.count or 0 for p in telemetry.metric(DURATION)) == 2
    assert sum(p.count or 0 for p in telemetry.metric(TOKENS)) == 4  # input + output, twice
    start_up = next(e for e in run.log_events() if e.startswith("agentotel: instrumented "))
    assert not re.search(r"(?<![\w-])(openai|anthropic|httpx2)(?![\w-])", start_up), start_up


# --------------------------------------------------------------------------- in process


@dataclass
class Stack:
    """agentotel's runtime and the chosen instrumentations on in-memory providers."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    instrumentations: Instrumentations

    def telemetry(self) -> Telemetry:
        spans = [from_readable(s) for s in self.exporter.get_finished_spans()]
        points: list[Point] = []
        data = self.reader.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    for p in metric.data.data_points:
                        count = getattr(p, "count", None)
                        total = p.sum if count is not None else p.value  # type: ignore[union-attr]
                        points.append(
                            Point(
                                metric.name,
                                scope_metrics.scope.name,
                                dict(p.attributes or {}),
                                count,
                                float(total),
                            )
                        )
        return Telemetry(spans, points)


def messages_on_every_inference_span(telemetry: Telemetry) -> list[tuple[str, str]]:
    """Asserts that there is an inference span and that each carries its input messages
    (with the canary) and its output messages (JSON); (inputs, outputs) of each."""
    spans = telemetry.inference()
    assert spans, telemetry.tree()
    found = []
    for span in spans:
        inputs = span.attributes.get(sc.GEN_AI_INPUT_MESSAGES)
        outputs = span.attributes.get(sc.GEN_AI_OUTPUT_MESSAGES)
        assert isinstance(inputs, str) and CANARY in inputs, (span.scope, span.attributes)
        assert isinstance(outputs, str) and json.loads(outputs), (span.scope, span.attributes)
        found.append((inputs, outputs))
    return found


@contextmanager
def instrumented(
    names: Sequence[str] | None = None,
    *,
    disabled: Sequence[str] = (),
    capture: str = content.NO_CONTENT,
) -> Iterator[Stack]:
    """What ``init()`` sets up, on test providers: the runtime, the span pipeline
    (``GenAISpanProcessor`` before the exporter) and the instrumentations (``names``, or
    all but ``disabled``), undone at the end so that other tests see the libraries as
    they were."""
    exporter = InMemorySpanExporter()
    reader = InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(
        GenAISpanProcessor([SimpleSpanProcessor(exporter)], capture)
    )
    meter_provider = MeterProvider(metric_readers=[reader])
    previous = _runtime.RUNTIME
    _runtime.install(
        Runtime(
            tracer_provider.get_tracer(sc.INSTRUMENTATION_SCOPE),
            Instruments(meter_provider.get_meter(sc.INSTRUMENTATION_SCOPE)),
            load_price_table(),
            capture=capture,
        )
    )
    instrumentations = Instrumentations(
        chosen(names, frozenset(disabled)),
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=LoggerProvider(),
    )
    try:
        yield Stack(exporter, reader, instrumentations)
    finally:
        instrumentations.close()
        _runtime.install(previous)
        tracer_provider.shutdown()
        meter_provider.shutdown()


def openai_client(server: LLMServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.openai_base_url, api_key=app.API_KEY, max_retries=0)


def anthropic_client(server: LLMServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key=app.API_KEY, max_retries=0
    )


def model_requests(server: LLMServer) -> int:
    return len([r for r in server.requests if r.api in ("chat", "responses", "messages")])


# --------------------------------------------------------------------------- part 2: layering


def _openai_inside_llm(server: LLMServer, stream: bool) -> str:
    """One chat completion (streamed with usage, or not) inside ``agentotel.llm()``: the
    outer call has temperature and top_p, the SDK call temperature and max_tokens."""
    with agentotel.llm(app.OPENAI_MODEL, provider="openai", temperature=0.2, top_p=0.9):
        request: dict[str, Any] = {
            "model": app.OPENAI_MODEL,
            "messages": [{"role": "user", "content": app.PROMPT}],
            "temperature": 0.2,
            "max_tokens": 64,
        }
        client = openai_client(server)
        if not stream:
            return client.chat.completions.create(**request).id
        chunks = list(
            client.chat.completions.create(
                **request, stream=True, stream_options={"include_usage": True}
            )
        )
        return chunks[0].id


def _anthropic_inside_llm(server: LLMServer, stream: bool) -> str:
    with agentotel.llm(app.ANTHROPIC_MODEL, provider="anthropic", temperature=0.5):
        client = anthropic_client(server)
        request: dict[str, Any] = {
            "model": app.ANTHROPIC_MODEL,
            "max_tokens": 64,
            "messages": [{"role": "user", "content": app.ANTHROPIC_PROMPT}],
        }
        if not stream:
            return client.messages.create(**request).id
        with client.messages.stream(**request) as streamed:
            return streamed.get_final_message().id


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_llm_around_an_openai_call_is_one_span(llm_server: LLMServer, stream: bool) -> None:
    with instrumented(["openai", "httpx2"]) as stack:
        assert stack.instrumentations.names == ["httpx2", "openai"]
        response_id = _openai_inside_llm(llm_server, stream)
        telemetry = stack.telemetry()
    assert telemetry.tree() == [
        f"chat {app.OPENAI_MODEL} [CLIENT]",
        "  POST [CLIENT] /v1/chat/completions",
    ]
    usage = expected_usage(app.PROMPT, reply_text(app.PROMPT))
    check_requests(telemetry, [Request(app.OPENAI_MODEL, usage, response_id)])
    (span,) = telemetry.inference()
    assert span.scope == sc.INSTRUMENTATION_SCOPE  # agentotel's span; the SDK's made none
    attributes = span.attributes
    # the outer call's request parameters, and the one only the SDK call had
    assert attributes[TEMPERATURE] == 0.2
    assert attributes[TOP_P] == 0.9
    assert attributes[MAX_TOKENS] == 64
    # what only the SDK call learned
    assert attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attributes[sc.SERVER_PORT] == llm_server.port
    assert {p.scope for p in telemetry.metric(DURATION)} == {sc.INSTRUMENTATION_SCOPE}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_llm_around_an_anthropic_call_is_one_span(llm_server: LLMServer, stream: bool) -> None:
    with instrumented(["anthropic", "httpx2"]) as stack:
        response_id = _anthropic_inside_llm(llm_server, stream)
        telemetry = stack.telemetry()
    assert telemetry.tree() == [
        f"chat {app.ANTHROPIC_MODEL} [CLIENT]",
        "  POST [CLIENT] /v1/messages",
    ]
    usage = expected_usage(app.ANTHROPIC_PROMPT, reply_text(app.ANTHROPIC_PROMPT))
    request = Request(app.ANTHROPIC_MODEL, usage, response_id, path="/v1/messages")
    check_requests(telemetry, [request])
    (span,) = telemetry.inference()
    assert span.scope == sc.INSTRUMENTATION_SCOPE
    assert span.attributes[TEMPERATURE] == 0.5
    assert span.attributes[MAX_TOKENS] == 64
    assert span.attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert {p.scope for p in telemetry.metric(DURATION)} == {sc.INSTRUMENTATION_SCOPE}


def test_llm_around_an_sdk_call_puts_the_server_on_its_metric_points(
    llm_server: LLMServer,
) -> None:
    with instrumented(["openai", "httpx2"]) as stack:
        with agentotel.llm(app.OPENAI_MODEL, provider="openai"):
            _openai_chat(llm_server, app.PROMPT)
        _openai_chat(llm_server, app.PROMPT)  # the same request, the instrumentation alone
        telemetry = stack.telemetry()
    server = {sc.SERVER_ADDRESS: "127.0.0.1", sc.SERVER_PORT: llm_server.port}
    for scope in (SCOPE_OPENAI, sc.INSTRUMENTATION_SCOPE):
        for name in (DURATION, TOKENS):
            points = [p for p in telemetry.metric(name, **server) if p.scope == scope]
            assert points, (scope, name, [p.attributes for p in telemetry.metric(name)])


def test_llm_around_an_sdk_call_leaves_zero_cache_counts_off(llm_server: LLMServer) -> None:
    with instrumented(["openai", "httpx2"]) as stack:
        with agentotel.llm(app.OPENAI_MODEL, provider="openai"):
            _openai_chat(llm_server, app.PROMPT)
        _openai_chat(llm_server, app.PROMPT)  # the same request, the instrumentation alone
        telemetry = stack.telemetry()
    inside, alone = telemetry.inference()
    assert (inside.scope, alone.scope) == (sc.INSTRUMENTATION_SCOPE, SCOPE_OPENAI)
    assert sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS not in alone.attributes
    assert sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS not in inside.attributes


def test_langchain_chat_openai_over_the_openai_sdk_is_one_span(llm_server: LLMServer) -> None:
    from langchain_openai import ChatOpenAI

    with instrumented(["langchain", "openai", "httpx2"]) as stack:
        assert sorted(stack.instrumentations.names) == ["httpx2", "langchain", "openai"]
        model = ChatOpenAI(
            model=app.OPENAI_MODEL,
            base_url=llm_server.openai_base_url,
            api_key=app.API_KEY,  # type: ignore[arg-type]
            max_retries=0,
            temperature=0.3,
        )
        message = model.invoke(app.PROMPT)
        telemetry = stack.telemetry()
    assert telemetry.tree() == [
        f"chat {app.OPENAI_MODEL} [CLIENT]",
        "  POST [CLIENT] /v1/chat/completions",
    ]
    usage = expected_usage(app.PROMPT, reply_text(app.PROMPT))
    check_requests(
        telemetry, [Request(app.OPENAI_MODEL, usage, message.response_metadata["id"])]
    )
    (span,) = telemetry.inference()
    assert span.scope == SCOPE_LANGCHAIN
    assert span.attributes[TEMPERATURE] == 0.3
    # only the OpenAI layer knew the server (LangChain's callbacks do not see it)
    assert span.attributes[sc.SERVER_PORT] == llm_server.port
    assert {p.scope for p in telemetry.metric(DURATION)} == {SCOPE_LANGCHAIN}


def test_the_agents_sdk_over_the_responses_api_is_one_span_per_request(
    llm_server: LLMServer,
) -> None:
    with instrumented(["openai_agents", "openai", "httpx2"]) as stack:
        calls = app.run_openai_agents(llm_server.base_url)
        telemetry = stack.telemetry()
    assert model_requests(llm_server) == 2
    assert telemetry.tree() == agent_tree("weather", "/v1/responses", workflow="Agent workflow")
    check_requests(telemetry, agent_requests(calls, "/v1/responses"))
    for span in telemetry.inference():
        parent = telemetry.parent(span)
        assert parent is not None and parent.name == "invoke_agent weather"
        assert span.attributes["openai.api.type"] == "responses"


def test_pydantic_ai_over_the_openai_sdk_is_one_span_per_request(llm_server: LLMServer) -> None:
    with instrumented(["pydantic_ai", "openai", "httpx2"]) as stack:
        calls = app.run_pydantic_ai(llm_server.base_url)
        telemetry = stack.telemetry()
    assert model_requests(llm_server) == 2
    assert telemetry.tree() == agent_tree("agent", "/v1/chat/completions")
    check_requests(telemetry, agent_requests(calls, "/v1/chat/completions"))
    for span in telemetry.inference():
        assert span.scope == SCOPE_PYDANTIC_AI
        # pydantic-ai's own (the agent), and what only the OpenAI instrumentation's span
        # knew, merged in
        assert span.attributes[sc.GEN_AI_AGENT_NAME] == "agent"
        assert span.attributes["openai.response.system_fingerprint"].startswith("fp_")
    assert {p.scope for p in telemetry.metric(DURATION)} == {SCOPE_OPENAI}


@pytest.mark.parametrize(
    ("name", "scope"),
    [
        ("langchain", SCOPE_LANGCHAIN),
        ("openai_agents", SCOPE_AGENTS),
        ("pydantic_ai", SCOPE_PYDANTIC_AI),
    ],
)
def test_a_disabled_framework_instrumentation_leaves_the_sdks_spans(
    llm_server: LLMServer, name: str, scope: str
) -> None:
    """One framework's instrumentation off (as ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS``
    chooses): none of its spans; each model request is still one span, the OpenAI
    instrumentation's."""
    run: Callable[[str], list[dict[str, Any]]] = {
        "langchain": app.run_langgraph,
        # the Agents SDK's tracing, left without the instrumentation, would upload to OpenAI
        "openai_agents": lambda server: app.run_openai_agents(server, sdk_tracing=False),
        "pydantic_ai": app.run_pydantic_ai,
    }[name]
    with instrumented(disabled=[name]) as stack:
        calls = run(llm_server.base_url)
        assert name not in stack.instrumentations.names
        assert "openai" in stack.instrumentations.names
        telemetry = stack.telemetry()
    assert scope not in {s.scope for s in telemetry.spans}, telemetry.tree()
    path = "/v1/responses" if name == "openai_agents" else "/v1/chat/completions"
    check_requests(telemetry, agent_requests(calls, path))
    assert {s.scope for s in telemetry.inference()} == {SCOPE_OPENAI}


def test_pydantic_ai_without_the_openai_instrumentation_still_records_the_metrics(
    llm_server: LLMServer,
) -> None:
    with instrumented(disabled=["openai"]) as stack:
        calls = app.run_pydantic_ai(llm_server.base_url)
        telemetry = stack.telemetry()
    assert {s.scope for s in telemetry.inference()} == {SCOPE_PYDANTIC_AI}
    check_requests(telemetry, agent_requests(calls, "/v1/chat/completions"))


# --------------------------------------------------------------------------- part 3: failures


def _fail_openai(server: LLMServer) -> None:
    openai_client(server).chat.completions.create(
        model=app.OPENAI_MODEL, messages=[{"role": "user", "content": app.FAIL_500_PROMPT}]
    )


def _fail_anthropic(server: LLMServer) -> None:
    anthropic_client(server).messages.create(
        model=app.ANTHROPIC_MODEL,
        max_tokens=64,
        messages=[{"role": "user", "content": app.FAIL_500_PROMPT}],
    )


FAILURES: dict[str, tuple[Callable[[LLMServer], None], type[Exception], str, str]] = {
    "openai": (
        _fail_openai, openai.InternalServerError, app.OPENAI_MODEL, "/v1/chat/completions"
    ),
    "anthropic": (
        _fail_anthropic, anthropic.InternalServerError, app.ANTHROPIC_MODEL, "/v1/messages"
    ),
}


@pytest.mark.parametrize("inside_llm", [False, True], ids=["plain", "inside_llm"])
@pytest.mark.parametrize("provider", sorted(FAILURES))
def test_http_500_is_one_error_span(llm_server: LLMServer, provider: str, inside_llm: bool) -> None:
    fail, error, model, path = FAILURES[provider]
    with instrumented([provider, "httpx2"]) as stack:
        with pytest.raises(error):
            if inside_llm:
                with agentotel.llm(model, provider=provider):
                    fail(llm_server)
            else:
                fail(llm_server)
        telemetry = stack.telemetry()
    assert [r.status for r in llm_server.requests] == [500]  # max_retries=0: one attempt
    assert telemetry.tree() == [f"chat {model} [CLIENT]", f"  POST [CLIENT] {path}"]
    (span,) = telemetry.inference()
    instrumentation = f"opentelemetry.instrumentation.genai.{provider}"
    assert span.scope == (sc.INSTRUMENTATION_SCOPE if inside_llm else instrumentation)
    assert span.status == "ERROR"
    error_type = span.attributes[sc.ERROR_TYPE]
    assert error_type == f"{provider}.InternalServerError"  # the fully qualified class
    assert sc.LLM_COST_USD not in span.attributes
    (duration,) = telemetry.metric(DURATION)
    assert duration.count == 1 and duration.attributes[sc.ERROR_TYPE] == error_type
    assert not telemetry.metric(TOKENS) and not telemetry.metric(COST)


def test_http_500_is_one_error_span_over_otlp(apps: dict[str, AppRun]) -> None:
    """With init() alone (the anthropic SDK tracing itself too): each failed request is one
    ERROR chat span naming the error, over its HTTP span; one duration point with the
    error; no usage, no cost."""
    run = apps["failure"]
    assert [call["text"] for call in run.calls] == ["InternalServerError"] * 2
    telemetry = run.telemetry()
    assert telemetry.tree() == [
        f"chat {app.OPENAI_MODEL} [CLIENT]",
        "  POST [CLIENT] /v1/chat/completions",
        f"chat {app.ANTHROPIC_MODEL} [CLIENT]",
        "  POST [CLIENT] /v1/messages",
    ]
    for span, provider in zip(telemetry.inference(), ("openai", "anthropic"), strict=True):
        assert span.status == "ERROR"
        assert span.attributes[sc.ERROR_TYPE] == f"{provider}.InternalServerError"
        assert sc.LLM_COST_USD not in span.attributes
        (http,) = telemetry.children(span)
        old, new = "http.status_code", sc.HTTP_RESPONSE_STATUS_CODE  # either conventions
        status = http.attributes.get(old, http.attributes.get(new))
        assert (http.status, status) == ("ERROR", 500)
        (duration,) = telemetry.metric(DURATION, **{sc.GEN_AI_PROVIDER_NAME: provider})
        assert duration.count == 1
        assert duration.attributes[sc.ERROR_TYPE] == f"{provider}.InternalServerError"
    # the anthropic SDK's own failed span was merged into the instrumentation's
    anthropic_span = telemetry.inference()[1]
    assert anthropic_span.attributes[sc.HTTP_RESPONSE_STATUS_CODE] == 500
    assert anthropic_span.attributes["anthropic.request.id"].startswith("req_")
    assert not telemetry.metric(TOKENS) and not telemetry.metric(COST)


# --------------------------------------------------------------------------- part 3: content

CANARY = "Canary7f3a"
CANARY_PROMPT = f"What is the weather in {CANARY} Paris?"
CONTENT_VARIABLE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


def _openai_chat(server: LLMServer, prompt: str) -> None:
    openai_client(server).chat.completions.create(
        model=app.OPENAI_MODEL, messages=[{"role": "user", "content": prompt}]
    )


def _anthropic_message(server: LLMServer, prompt: str) -> None:
    anthropic_client(server).messages.create(
        model=app.ANTHROPIC_MODEL, max_tokens=64, messages=[{"role": "user", "content": prompt}]
    )


DRIVERS: dict[str, Callable[[LLMServer, str], Any]] = {
    "openai": _openai_chat,
    "anthropic": _anthropic_message,
    "langgraph": lambda server, prompt: app.run_langgraph(server.base_url, prompt),
    "openai_agents": lambda server, prompt: app.run_openai_agents(server.base_url, prompt),
    "pydantic_ai": lambda server, prompt: app.run_pydantic_ai(server.base_url, prompt),
}


def _every_value(telemetry: Telemetry) -> str:
    return json.dumps(
        [[s.attributes, list(s.event_attributes)] for s in telemetry.spans], default=str
    )


@pytest.mark.parametrize("library", sorted(DRIVERS))
def test_span_only_puts_the_messages_on_every_chat_span_without_the_variable(
    llm_server: LLMServer, library: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """agentotel's ``SPAN_ONLY`` mode, the instrumentations' variable unset: the
    instrumentations read only the variable, agentotel's completion hook writes the
    messages (pydantic-ai is told by agentotel directly)."""
    import langchain  # noqa: F401

    monkeypatch.delenv(CONTENT_VARIABLE, raising=False)
    with instrumented(capture=content.SPAN_ONLY) as stack:
        DRIVERS[library](llm_server, CANARY_PROMPT)
        telemetry = stack.telemetry()
    for inputs, outputs in messages_on_every_inference_span(telemetry):
        assert any(
            answer in outputs for answer in ("You said:", "The tool returned:", "get_weather")
        ), outputs
        assert json.loads(inputs)[-1]["role"] in ("user", "tool")


@pytest.mark.parametrize("library", sorted(DRIVERS))
def test_no_content_puts_no_content_anywhere_even_when_the_variable_says_span_only(
    llm_server: LLMServer, library: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import langchain  # noqa: F401

    monkeypatch.setenv(CONTENT_VARIABLE, "SPAN_ONLY")
    settings = resolve({"capture_content": "NO_CONTENT"})  # the argument wins, as in init()
    assert settings.capture_content == content.NO_CONTENT
    with instrumented(capture=settings.capture_content) as stack:
        DRIVERS[library](llm_server, CANARY_PROMPT)
        telemetry = stack.telemetry()
    assert telemetry.inference(), telemetry.tree()
    for span in telemetry.spans:
        assert not set(sc.CONTENT_ATTRIBUTES) & set(span.attributes), (span.name, span.attributes)
    assert CANARY not in _every_value(telemetry)


@pytest.mark.parametrize("variable", [None, "SPAN_ONLY"], ids=["unset", "span_only"])
def test_span_only_puts_the_messages_of_an_sdk_call_inside_llm_on_its_span(
    llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch, variable: str | None
) -> None:
    if variable is None:
        monkeypatch.delenv(CONTENT_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(CONTENT_VARIABLE, variable)
    with instrumented(["openai", "httpx2"], capture=content.SPAN_ONLY) as stack:
        with agentotel.llm(app.OPENAI_MODEL, provider="openai"):
            _openai_chat(llm_server, CANARY_PROMPT)
        telemetry = stack.telemetry()
    (span,) = telemetry.inference()
    assert span.scope == sc.INSTRUMENTATION_SCOPE
    assert CANARY in span.attributes.get(sc.GEN_AI_INPUT_MESSAGES, "")
    assert reply_text(CANARY_PROMPT) in span.attributes.get(sc.GEN_AI_OUTPUT_MESSAGES, "")


def test_secrets_in_prompts_arrive_redacted_over_otlp(apps: dict[str, AppRun]) -> None:
    """init(capture_content="SPAN_ONLY") with the variable unset: both SDKs' chat spans
    carry the messages, and the API key and e-mail address in the prompt (and in the
    echoed reply) arrive as ``[REDACTED:...]``."""
    run = apps["secret"]
    telemetry = run.telemetry()
    spans = telemetry.inference()
    assert {s.scope for s in spans} == {SCOPE_OPENAI, SCOPE_ANTHROPIC}, telemetry.tree()
    for span in spans:
        for key in (sc.GEN_AI_INPUT_MESSAGES, sc.GEN_AI_OUTPUT_MESSAGES):
            text = span.attributes[key]
            assert "please remember" in text, (span.scope, key, text)
            assert "[REDACTED:openai_key]" in text and "[REDACTED:email]" in text, text
    received = _every_value(telemetry) + json.dumps(
        [[r.body, r.attributes] for r in run.receiver.log_records()], default=str
    )
    assert app.SECRET_KEY not in received
    assert app.SECRET_EMAIL not in received
    assert app.SECRET_KEY[8:] not in received  # no part of the key either


def test_the_application_and_the_server_agree_on_names() -> None:
    """The application hard-codes what it needs of the server (it imports nothing of the
    tests): the same names."""
    assert (app.API_KEY, app.OPENAI_MODEL, app.ANTHROPIC_MODEL, app.EMBEDDING_MODEL) == (
        llm_server.API_KEY,
        llm_server.OPENAI_MODEL,
        llm_server.ANTHROPIC_MODEL,
        llm_server.EMBEDDING_MODEL,
    )
    assert app.FAIL_500_PROMPT.count(llm_server.FAIL_500_MARKER) == 1

"""Over the wire: the demo's traces, metrics and logs reach an OTLP receiver.

The demo runs as a subprocess with ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at the
in-process receiver of ``otlp_receiver.py``, once per protocol (``http/protobuf`` and
``grpc``). The real OTLP exporters send; the receiver decodes the protobuf; the tests
read resource attributes, the span tree, metric names and units, and log records.

The first tests check the receiver itself with the plain OpenTelemetry SDK exporters,
so that a failure further down points at the application, not at the test harness.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetricExporter,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetricExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from otlp_receiver import (
    GRPC,
    HTTP,
    LOGS,
    METRICS,
    PROTOCOLS,
    REPO_ROOT,
    TRACES,
    OtlpReceiver,
    SpanRecord,
    children_of,
    demo_command,
    demo_env,
    free_port,
    parent_of,
)

# --------------------------------------------------------------------------- the receiver itself
_RESOURCE = Resource.create({"service.name": "probe", "deployment.environment.name": "test"})


def _span_exporter(receiver: OtlpReceiver, protocol: str, gzip: bool = False) -> object:
    if protocol == GRPC:
        return GrpcSpanExporter(endpoint=receiver.grpc_endpoint, insecure=True)
    compression = Compression.Gzip if gzip else Compression.NoCompression
    return HttpSpanExporter(endpoint=f"{receiver.http_endpoint}/v1/traces", compression=compression)


def _emit_parent_and_failing_child(exporter: object) -> None:
    provider = TracerProvider(resource=_RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[arg-type]
    tracer = provider.get_tracer("probe-scope")
    with tracer.start_as_current_span("parent"):
        with tracer.start_as_current_span(
            "child", kind=SpanKind.CLIENT, attributes={"n": 3, "tags": ["a", "b"]}
        ) as child:
            child.set_status(Status(StatusCode.ERROR))
            child.add_event("exception", {"exception.type": "ValueError"})
    provider.shutdown()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_receiver_decodes_span_tree_from_sdk_exporter(
    otlp_receiver: OtlpReceiver, protocol: str  # noqa: F811
) -> None:
    _emit_parent_and_failing_child(_span_exporter(otlp_receiver, protocol))

    spans = {span.name: span for span in otlp_receiver.spans()}
    assert set(spans) == {"parent", "child"}
    parent, child = spans["parent"], spans["child"]
    assert parent.is_root and parent.kind == "INTERNAL" and parent.status_code == "UNSET"
    assert (child.trace_id, child.parent_span_id) == (parent.trace_id, parent.span_id)
    assert len(child.trace_id) == 32 and len(child.span_id) == 16
    assert child.kind == "CLIENT"
    assert child.status_code == "ERROR"
    assert child.attributes == {"n": 3, "tags": ("a", "b")}
    assert [(e.name, e.attributes) for e in child.events] == [
        ("exception", {"exception.type": "ValueError"})
    ]
    assert child.resource["service.name"] == "probe"
    assert child.resource["deployment.environment.name"] == "test"
    assert child.scope_name == "probe-scope"
    assert otlp_receiver.transports(TRACES) == {protocol}


def test_receiver_accepts_gzip_encoded_http_bodies(otlp_receiver: OtlpReceiver) -> None:  # noqa: F811
    _emit_parent_and_failing_child(_span_exporter(otlp_receiver, HTTP, gzip=True))

    assert sorted(span.name for span in otlp_receiver.spans()) == ["child", "parent"]
    assert otlp_receiver.errors == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_receiver_decodes_metric_points_from_sdk_exporter(
    otlp_receiver: OtlpReceiver, protocol: str  # noqa: F811
) -> None:
    exporter = (GrpcMetricExporter(endpoint=otlp_receiver.grpc_endpoint, insecure=True)
                if protocol == GRPC
                else HttpMetricExporter(endpoint=f"{otlp_receiver.http_endpoint}/v1/metrics"))
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(resource=_RESOURCE, metric_readers=[reader])
    meter = provider.get_meter("probe-scope")
    meter.create_histogram("probe.duration", unit="s").record(0.25, {"kind": "x"})
    meter.create_counter("probe.tokens", unit="{token}").add(7, {"kind": "y"})
    provider.shutdown()  # exports once

    histogram = otlp_receiver.metric_points("probe.duration")
    counter = otlp_receiver.metric_points("probe.tokens")
    assert [(p.data_type, p.unit, p.count, p.sum, p.attributes) for p in histogram] == [
        ("histogram", "s", 1, 0.25, {"kind": "x"})
    ]
    assert [(p.data_type, p.unit, p.value, p.is_monotonic, p.attributes) for p in counter] == [
        ("sum", "{token}", 7.0, True, {"kind": "y"})
    ]
    assert otlp_receiver.metric_units() == {"probe.duration": "s", "probe.tokens": "{token}"}
    assert otlp_receiver.transports(METRICS) == {protocol}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_receiver_decodes_log_records_from_sdk_exporter(
    otlp_receiver: OtlpReceiver, protocol: str  # noqa: F811
) -> None:
    from opentelemetry._logs import SeverityNumber

    exporter = (GrpcLogExporter(endpoint=otlp_receiver.grpc_endpoint, insecure=True)
                if protocol == GRPC
                else HttpLogExporter(endpoint=f"{otlp_receiver.http_endpoint}/v1/logs"))
    provider = LoggerProvider(resource=_RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.get_logger("probe-scope").emit(
        body="hello", severity_number=SeverityNumber.WARN, severity_text="WARN",
        attributes={"k": "v"},
    )
    provider.shutdown()

    records = otlp_receiver.log_records()
    assert [(r.body, r.severity_text, r.severity_number, r.attributes) for r in records] == [
        ("hello", "WARN", SeverityNumber.WARN.value, {"k": "v"})
    ]
    assert records[0].resource["service.name"] == "probe"
    assert otlp_receiver.transports(LOGS) == {protocol}


def test_receiver_wait_for_returns_as_soon_as_data_arrives(
    otlp_receiver: OtlpReceiver,  # noqa: F811
) -> None:
    assert otlp_receiver.wait_for(lambda: otlp_receiver.spans(), timeout=0.2) == []

    _emit_parent_and_failing_child(_span_exporter(otlp_receiver, HTTP))

    assert len(otlp_receiver.wait_for(lambda: otlp_receiver.spans(), timeout=10)) == 2


# --------------------------------------------------------------------------- the demo over the wire
#: requests the demo handles per run; each one is one `support-triage` workflow. The
#: first six bundled requests include a denied one, an HTTP 500 and a failing tool.
LIMIT = 6
DEMO_TIMEOUT_S = 180
WORKFLOW = "invoke_workflow support-triage"
#: the demo's start-up trace (starting the MCP tool server and the remote planner)
STARTUP = "start support-tools and support-planner"
AGENTS = {"invoke_agent planner", "invoke_agent researcher", "invoke_agent writer"}
ID_ATTRIBUTES = {
    "gen_ai.conversation.id", "gen_ai.response.id", "gen_ai.tool.call.id", "gen_ai.agent.id",
}
EXPECTED_METRIC_UNITS = {
    "gen_ai.client.operation.duration": "s",
    "gen_ai.client.token.usage": "{token}",
    "gen_ai.invoke_agent.duration": "s",
    "gen_ai.execute_tool.duration": "s",
    "gen_ai.invoke_workflow.duration": "s",
    "agentotel.guardrail.checks": "{check}",
    "agentotel.llm.cost": "USD",
    "agentotel.agent.active": "{invocation}",
}


@dataclass(frozen=True)
class DemoRun:
    protocol: str
    receiver: OtlpReceiver
    result: subprocess.CompletedProcess[str]

    def spans(self) -> list[SpanRecord]:
        return self.receiver.spans()

    def named(self, prefix: str) -> list[SpanRecord]:
        return [span for span in self.spans() if span.name.startswith(prefix)]


@pytest.fixture(scope="module", params=PROTOCOLS)
def demo_run(request: pytest.FixtureRequest) -> Iterator[DemoRun]:
    """One demo run exporting to a fresh receiver over ``request.param``."""
    protocol: str = request.param
    with OtlpReceiver() as receiver:
        env = demo_env(
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint(protocol),
            OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
            OTEL_METRIC_EXPORT_INTERVAL="500",
            OTEL_EXPORTER_PROMETHEUS_PORT=str(free_port()),
        )
        result = subprocess.run(
            demo_command("--quiet", "--limit", str(LIMIT)),
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=DEMO_TIMEOUT_S,
        )
        yield DemoRun(protocol, receiver, result)


def _tree(run: DemoRun) -> str:
    """The received span tree as indented text, for assertion messages."""
    spans = run.spans()
    lines: list[str] = []

    def walk(span: SpanRecord, depth: int) -> None:
        lines.append(f"{'  ' * depth}{span.name} [{span.kind}, {span.status_code}]")
        for child in sorted(children_of(spans, span), key=lambda s: s.start_time_unix_nano):
            walk(child, depth + 1)

    for root in (span for span in spans if parent_of(spans, span) is None):
        walk(root, 0)
    return "\n".join(lines[:200])


def test_demo_completes_with_exit_code_0(demo_run: DemoRun) -> None:
    assert demo_run.result.returncode == 0, demo_run.result.stderr[-4000:]


def test_every_signal_arrives_over_the_configured_protocol(demo_run: DemoRun) -> None:
    receiver = demo_run.receiver
    assert receiver.transports(TRACES) == {demo_run.protocol}
    assert receiver.transports(METRICS) == {demo_run.protocol}
    assert receiver.transports(LOGS) == {demo_run.protocol}
    assert receiver.errors == []


def test_resource_names_the_service_and_the_environment(demo_run: DemoRun) -> None:
    resources = demo_run.receiver.resources()
    assert resources
    # the demo, and its MCP tool server and remote planner (their spans come through it)
    assert {(r.get("service.name"), r.get("deployment.environment.name")) for r in resources} == {
        ("support-assistant", "demo"), ("support-tools", "demo"), ("support-planner", "demo"),
    }


def test_each_workflow_is_the_root_of_its_own_trace(demo_run: DemoRun) -> None:
    spans = demo_run.spans()
    roots = [span for span in spans if span.is_root and span.name != STARTUP]
    workflows = demo_run.named("invoke_workflow ")

    assert [span.name for span in roots] == [WORKFLOW] * LIMIT, _tree(demo_run)
    assert workflows == roots
    assert all(span.kind == "INTERNAL" for span in workflows)
    # one trace per request across the processes, and the start-up's
    assert len({span.trace_id for span in spans}) == LIMIT + 1


def test_every_span_hangs_from_a_received_parent(demo_run: DemoRun) -> None:
    spans = demo_run.spans()
    orphans = [span.name for span in spans
               if not span.is_root and parent_of(spans, span) is None]
    assert orphans == []


def test_agents_are_children_of_the_workflow(demo_run: DemoRun) -> None:
    spans = demo_run.spans()
    agents = [span for span in demo_run.named("invoke_agent ")
              if span.resource["service.name"] == "support-assistant"]

    assert {span.name for span in agents} == AGENTS, _tree(demo_run)
    # the planner is remote: a CLIENT span here, its INTERNAL span in its own process
    assert {(span.name, span.kind) for span in agents} == {
        ("invoke_agent planner", "CLIENT"), ("invoke_agent researcher", "INTERNAL"),
        ("invoke_agent writer", "INTERNAL"),
    }
    parents = {parent_of(spans, span).name for span in agents}  # type: ignore[union-attr]
    assert parents == {WORKFLOW}
    remote = [span for span in demo_run.named("invoke_agent planner")
              if span.resource["service.name"] == "support-planner"]
    assert remote and all(span.kind == "INTERNAL" for span in remote)
    assert {parent_of(spans, span).name for span in remote} == {"SendMessage"}  # type: ignore[union-attr]


def test_chat_spans_are_client_spans_under_agents(demo_run: DemoRun) -> None:
    spans = demo_run.spans()
    chats = demo_run.named("chat ")

    assert chats, _tree(demo_run)
    for chat in chats:
        parent = parent_of(spans, chat)
        assert chat.kind == "CLIENT"
        assert chat.attributes["gen_ai.operation.name"] == "chat"
        assert chat.name == f"chat {chat.attributes['gen_ai.request.model']}"
        assert parent is not None and parent.name in AGENTS, _tree(demo_run)


def test_each_chat_span_has_an_http_client_child_from_requests(demo_run: DemoRun) -> None:
    spans = demo_run.spans()
    chats = demo_run.named("chat ")

    assert chats, _tree(demo_run)
    for chat in chats:
        http_children = [child for child in children_of(spans, chat)
                         if child.kind == "CLIENT" and "http.request.method" in child.attributes]
        assert [(child.name, child.attributes["http.request.method"])
                for child in http_children] == [("POST", "POST")], (
            [(c.name, c.attributes) for c in children_of(spans, chat)])


def test_http_client_spans_only_come_from_chat_calls(demo_run: DemoRun) -> None:
    # Exporter traffic to the receiver must not be traced, and no other request is made.
    spans = demo_run.spans()
    http_spans = [span for span in spans
                  if "http.request.method" in span.attributes or "http.method" in span.attributes]
    parents = {getattr(parent_of(spans, span), "name", None) for span in http_spans}
    assert http_spans
    # the model API calls, the A2A calls to the remote planner, and its Agent Card fetched
    # at start-up
    assert all(name is not None and (name.startswith("chat ") or name in ("SendMessage", STARTUP))
               for name in parents), parents


def test_tool_spans_are_internal_and_name_their_tool(demo_run: DemoRun) -> None:
    tools = demo_run.named("execute_tool ")

    assert {tool.name for tool in tools} == {
        "execute_tool search_docs", "execute_tool convert_units",
    }, _tree(demo_run)
    for tool in tools:
        assert tool.kind == "INTERNAL"
        assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
        assert tool.name == f"execute_tool {tool.attributes['gen_ai.tool.name']}"


def test_guardrail_spans_are_internal_and_carry_a_verdict(demo_run: DemoRun) -> None:
    guardrails = demo_run.named("apply_guardrail ")

    assert {guardrail.name for guardrail in guardrails} == {
        "apply_guardrail secret-scanner", "apply_guardrail prompt-injection",
        "apply_guardrail pii-filter",
    }, _tree(demo_run)
    for guardrail in guardrails:
        assert guardrail.kind == "INTERNAL"
        assert guardrail.attributes["gen_ai.operation.name"] == "apply_guardrail"
        assert guardrail.attributes["agentotel.guardrail.verdict"] in {
            "allow", "deny", "modify", "warn",
        }
    verdicts = {g.attributes["agentotel.guardrail.verdict"] for g in guardrails}
    assert "deny" in verdicts


def test_error_spans_carry_status_error_and_error_type(demo_run: DemoRun) -> None:
    errors = [span for span in demo_run.spans() if span.status_code == "ERROR"]

    assert errors, _tree(demo_run)
    assert [span.name for span in errors if not span.attributes.get("error.type")] == []


def test_instrumented_error_spans_record_the_exception_named_by_error_type(
    demo_run: DemoRun,
) -> None:
    # The SDK's exception.type and agentotel's error.type follow the same rule: module-
    # qualified class name, builtins unqualified (e.g. requests.exceptions.HTTPError).
    prefixes = ("invoke_workflow ", "invoke_agent ", "chat ", "execute_tool ", "apply_guardrail ")
    # (an MCP tool's isError result, error.type tool_error, is a failure without exception)
    errors = [span for span in demo_run.spans()
              if span.status_code == "ERROR" and span.name.startswith(prefixes)
              and span.attributes.get("error.type") != "tool_error"]

    assert errors, _tree(demo_run)
    for span in errors:
        exception_types = [event.attributes.get("exception.type") for event in span.events
                           if event.name == "exception"]
        assert exception_types == [span.attributes.get("error.type")], span


def test_genai_metrics_arrive_with_their_units(demo_run: DemoRun) -> None:
    units = demo_run.receiver.metric_units()
    assert {name: units.get(name) for name in EXPECTED_METRIC_UNITS} == EXPECTED_METRIC_UNITS


def test_token_usage_is_split_into_input_and_output(demo_run: DemoRun) -> None:
    points = demo_run.receiver.metric_points("gen_ai.client.token.usage")
    assert {point.attributes.get("gen_ai.token.type") for point in points} == {"input", "output"}


def test_metric_points_carry_no_id_attributes(demo_run: DemoRun) -> None:
    points = demo_run.receiver.metric_points()
    assert points
    leaked = {(p.name, key) for p in points for key in p.attributes if key in ID_ATTRIBUTES}
    assert leaked == set()


def test_log_records_arrive_with_the_service_resource(demo_run: DemoRun) -> None:
    records = demo_run.receiver.log_records()
    assert records, "no log record received"
    assert {r.resource.get("service.name") for r in records} == {"support-assistant"}


def test_log_records_carry_the_ids_of_a_received_span(demo_run: DemoRun) -> None:
    """Every record the demo logs inside its work; agentotel's start-up line comes before
    any span (scope ``agentotel``, logged by init())."""
    records = [r for r in demo_run.receiver.log_records() if r.scope_name != "agentotel"]
    span_ids = {(span.trace_id, span.span_id) for span in demo_run.spans()}

    assert records, "no log record received"
    assert [(r.body, r.trace_id, r.span_id) for r in records
            if (r.trace_id, r.span_id) not in span_ids] == []

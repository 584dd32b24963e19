"""Sampling never blinds the metrics.

With ``OTEL_TRACES_SAMPLER=parentbased_traceidratio`` and ``OTEL_TRACES_SAMPLER_ARG=0.1``
nine traces in ten are not exported, yet every operation's duration, tokens, cost and
guardrail verdict is counted in the metrics: agentotel's own operations record their
metrics whether their span is sampled or not, and the inference spans of the
instrumentations are recorded (never exported) when their trace is dropped, so that
agentotel still prices them (:mod:`agentotel.integrations._sampling`).

The end-to-end tests run ``init()`` with the real ratio sampler in a fresh interpreter,
exporting OTLP over loopback to the test's receiver. Which traces the sampler keeps
depends on random trace ids: the kept count is checked against a binomial bound (mean
± 5 standard deviations; a correct sampler fails it about once in 1.7 million runs).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import integration_app as app
import pytest
from llm_server import LLMServer
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)
from opentelemetry.trace import SpanKind
from otlp_receiver import MetricPoint, OtlpReceiver, SpanRecord

from agentotel import semconv as sc
from agentotel.cost import load_price_table
from agentotel.integrations import InferenceRecordingSampler, record_dropped_inference

ROOT = Path(__file__).resolve().parent.parent
RATIO = 0.1
SAMPLER_ENV = {
    "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
    "OTEL_TRACES_SAMPLER_ARG": str(RATIO),
    "OTEL_METRIC_EXPORT_INTERVAL": "600000",  # one export, at shutdown
}
CHAT_START = {sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT, sc.GEN_AI_PROVIDER_NAME: "openai"}


def binomial_bounds(n: int, p: float) -> tuple[float, float]:
    """Mean ± 5 standard deviations of the number kept out of ``n`` at ratio ``p``."""
    mean = n * p
    spread = 5 * math.sqrt(n * p * (1 - p))
    return mean - spread, mean + spread


# --------------------------------------------------------------------------- the sampler
@pytest.fixture
def provider() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider(sampler=InferenceRecordingSampler(ALWAYS_OFF))
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        yield tracer_provider, exporter
    finally:
        tracer_provider.shutdown()


def test_a_dropped_inference_span_is_recorded_with_its_start_attributes_and_not_sampled(
    provider: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    tracer_provider, exporter = provider
    span = tracer_provider.get_tracer("t").start_span(
        "chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=CHAT_START
    )
    assert span.is_recording()
    assert not span.get_span_context().trace_flags.sampled
    assert dict(span.attributes or {}) == CHAT_START  # type: ignore[attr-defined]
    span.end()
    assert exporter.get_finished_spans() == ()  # export processors skip it


@pytest.mark.parametrize(
    ("kind", "attributes"),
    [
        (SpanKind.INTERNAL, {sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL}),
        (SpanKind.INTERNAL, {sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT}),
        (SpanKind.CLIENT, {sc.GEN_AI_OPERATION_NAME: sc.OP_RETRIEVAL}),
        (SpanKind.CLIENT, {"http.request.method": "POST"}),
        (SpanKind.CLIENT, None),
    ],
    ids=["tool", "internal-chat", "retrieval", "http", "no-attributes"],
)
def test_other_dropped_spans_stay_dropped(
    provider: tuple[TracerProvider, InMemorySpanExporter],
    kind: SpanKind,
    attributes: dict[str, str] | None,
) -> None:
    tracer_provider, _ = provider
    span = tracer_provider.get_tracer("t").start_span("x", kind=kind, attributes=attributes)
    assert not span.is_recording()


def test_the_http_span_under_a_recorded_inference_span_is_dropped() -> None:
    tracer_provider = TracerProvider(sampler=InferenceRecordingSampler(ParentBased(ALWAYS_OFF)))
    tracer = tracer_provider.get_tracer("t")
    chat = tracer.start_span("chat m", kind=SpanKind.CLIENT, attributes=CHAT_START)
    with otel_trace.use_span(chat, end_on_exit=True):
        http = tracer.start_span("POST", kind=SpanKind.CLIENT)
        assert not http.is_recording()
        assert http.get_span_context().trace_id == chat.get_span_context().trace_id
    tracer_provider.shutdown()


@pytest.mark.parametrize("wrapped", [ALWAYS_ON, TraceIdRatioBased(1.0)], ids=str)
def test_sampled_spans_keep_the_wrapped_samplers_decision(wrapped: Sampler) -> None:
    sampler = InferenceRecordingSampler(wrapped)
    for kind, attributes in ((SpanKind.CLIENT, CHAT_START), (SpanKind.INTERNAL, None)):
        result = sampler.should_sample(None, 0x1234, "s", kind, attributes)
        assert result.decision is Decision.RECORD_AND_SAMPLE


def test_the_description_names_the_wrapped_sampler_and_wrapping_is_not_repeated() -> None:
    sampler = record_dropped_inference(ParentBased(ALWAYS_OFF))
    assert sampler.get_description().startswith("InferenceRecordingSampler{ParentBased{")
    assert record_dropped_inference(sampler) is sampler


# --------------------------------------------------------------------------- end to end
def run(script: str, receiver: OtlpReceiver, env: dict[str, str] | None = None) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    clean.update(SAMPLER_ENV)
    clean["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.http_endpoint
    clean.update(env or {})
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def totals(receiver: OtlpReceiver, metric: str) -> list[MetricPoint]:
    """The last (cumulative) point of each attribute set of ``metric``."""
    last: dict[tuple[tuple[str, str], ...], MetricPoint] = {}
    for point in receiver.metric_points(metric):
        last[tuple(sorted((k, str(v)) for k, v in point.attributes.items()))] = point
    return list(last.values())


def count_of(points: list[MetricPoint], **attributes: str) -> int:
    """Histogram counts (or sum values) of the points carrying ``attributes``."""
    selected = [
        p for p in points if all(p.attributes.get(k) == v for k, v in attributes.items())
    ]
    return int(sum(p.count if p.count is not None else (p.value or 0) for p in selected))


def sum_of(points: list[MetricPoint], **attributes: str) -> float:
    selected = [
        p for p in points if all(p.attributes.get(k) == v for k, v in attributes.items())
    ]
    return sum((p.sum if p.count is not None else p.value) or 0.0 for p in selected)


def traces(spans: list[SpanRecord]) -> dict[str, list[SpanRecord]]:
    by_trace: dict[str, list[SpanRecord]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    return by_trace


RUNS = 1000
INPUT_TOKENS, OUTPUT_TOKENS = 120, 30


def test_a_ratio_sampler_keeps_a_tenth_of_the_traces_and_the_metrics_count_every_operation(
    otlp_receiver: OtlpReceiver,
) -> None:
    """1000 agent runs (workflow > agent > guardrail, LLM call, tool): every fourth
    guardrail denies, every tenth tool fails; every operation counts in the metrics."""
    run(
        f"""
        import agentotel
        telemetry = agentotel.init("sampled", logs_exporter="none")
        for i in range({RUNS}):
            with agentotel.workflow("support"), agentotel.agent("assistant"):
                with agentotel.guardrail("pii", target="input") as check:
                    check.verdict("deny" if i % 4 == 0 else "allow")
                with agentotel.llm("gpt-4o-mini", provider="openai") as call:
                    call.record_response(
                        input_tokens={INPUT_TOKENS}, output_tokens={OUTPUT_TOKENS})
                try:
                    with agentotel.tool("search"):
                        if i % 10 == 0:
                            raise TimeoutError("search backend")
                except TimeoutError:
                    pass
        telemetry.shutdown()
        """,
        otlp_receiver,
    )
    durations = {
        metric: totals(otlp_receiver, metric)
        for metric in (
            sc.METRIC_INVOKE_WORKFLOW_DURATION,
            sc.METRIC_INVOKE_AGENT_DURATION,
            sc.METRIC_OPERATION_DURATION,
            sc.METRIC_EXECUTE_TOOL_DURATION,
        )
    }
    assert {metric: count_of(points) for metric, points in durations.items()} == dict.fromkeys(
        durations, RUNS
    )
    tools = durations[sc.METRIC_EXECUTE_TOOL_DURATION]
    assert count_of(tools, **{sc.ERROR_TYPE: "TimeoutError"}) == RUNS // 10

    tokens = totals(otlp_receiver, sc.METRIC_TOKEN_USAGE)
    assert count_of(tokens, **{sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_INPUT}) == RUNS
    assert count_of(tokens, **{sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_OUTPUT}) == RUNS
    assert sum_of(tokens, **{sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_INPUT}) == RUNS * INPUT_TOKENS
    assert sum_of(tokens, **{sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_OUTPUT}) == RUNS * OUTPUT_TOKENS

    prices = load_price_table()
    per_call = prices.cost("gpt-4o-mini", INPUT_TOKENS, OUTPUT_TOKENS, provider="openai")
    assert per_call is not None and per_call > 0
    assert sum_of(totals(otlp_receiver, sc.METRIC_LLM_COST)) == pytest.approx(RUNS * per_call)

    checks = totals(otlp_receiver, sc.METRIC_GUARDRAIL_CHECKS)
    assert count_of(checks, **{sc.GUARDRAIL_VERDICT: "deny"}) == RUNS // 4
    assert count_of(checks, **{sc.GUARDRAIL_VERDICT: "allow"}) == RUNS - RUNS // 4

    kept = traces(otlp_receiver.spans())
    low, high = binomial_bounds(RUNS, RATIO)
    assert low <= len(kept) <= high, len(kept)
    # parent-based: a kept trace is whole (five spans), a dropped one leaves nothing
    assert Counter(len(spans) for spans in kept.values()) == {5: len(kept)}
    roots = [s for spans in kept.values() for s in spans if s.is_root]
    assert {s.name for s in roots} == {"invoke_workflow support"}


SDK_CALLS = 400


def test_instrumented_sdk_calls_in_dropped_traces_are_priced_and_measured(
    otlp_receiver: OtlpReceiver, llm_server: LLMServer
) -> None:
    """400 OpenAI SDK calls through the official instrumentation, no agentotel code
    around them: the cost agentotel adds counts every call, not only the kept tenth."""
    run(
        f"""
        import agentotel
        telemetry = agentotel.init("sampled-sdk", logs_exporter="none")
        import openai
        client = openai.OpenAI(base_url={llm_server.openai_base_url!r},
                               api_key={app.API_KEY!r}, max_retries=0)
        for _ in range({SDK_CALLS}):
            client.chat.completions.create(
                model={app.OPENAI_MODEL!r},
                messages=[{{"role": "user", "content": {app.PROMPT!r}}}])
        print("instrumented:", ",".join(telemetry.instrumented))
        telemetry.shutdown()
        """,
        otlp_receiver,
    )
    spans = otlp_receiver.spans()
    chats = [s for s in spans if s.name == f"chat {app.OPENAI_MODEL}"]
    low, high = binomial_bounds(SDK_CALLS, RATIO)
    assert low <= len(chats) <= high, len(chats)
    assert len(spans) == 2 * len(chats)  # each kept chat span with its HTTP span, no more
    costs = {s.attributes[sc.LLM_COST_USD] for s in chats}
    assert len(costs) == 1  # the same request each time
    (per_call,) = costs
    assert per_call > 0

    cost = totals(otlp_receiver, sc.METRIC_LLM_COST)
    assert sum_of(cost) == pytest.approx(SDK_CALLS * per_call)
    assert count_of(totals(otlp_receiver, sc.METRIC_OPERATION_DURATION)) == SDK_CALLS
    tokens = totals(otlp_receiver, sc.METRIC_TOKEN_USAGE)
    assert count_of(tokens, **{sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_INPUT}) == SDK_CALLS
    assert count_of(tokens, **{sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_OUTPUT}) == SDK_CALLS

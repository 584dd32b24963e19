"""The five instruments: exact span names, kinds, parents, attributes and metric points.

Expected values follow the GenAI semantic conventions (agentotel/semconv.py cites them).
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from conftest import Recorded
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Sampler
from opentelemetry.trace import SpanKind, StatusCode

import agentotel
from agentotel import _runtime
from agentotel import semconv as sc
from agentotel._runtime import Runtime


def test_workflow_span_name_kind_and_attributes(recorded):
    with agentotel.workflow("support-triage", conversation_id="conv-1"):
        pass
    span = recorded.span("invoke_workflow support-triage")
    assert span.kind is SpanKind.INTERNAL
    assert span.parent is None
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.workflow.name": "support-triage",
        "gen_ai.conversation.id": "conv-1",
    }
    assert span.status.status_code is StatusCode.UNSET


def test_workflow_records_duration_with_name_only(recorded):
    with agentotel.workflow("support-triage", conversation_id="conv-1"):
        pass
    (point,) = recorded.points("gen_ai.invoke_workflow.duration")
    assert point.unit == "s"
    assert point.attributes == {"gen_ai.workflow.name": "support-triage"}
    assert point.value == 1
    assert point.bounds == sc.BUCKETS_INVOKE_WORKFLOW_DURATION


def test_agent_span_is_child_of_workflow_and_inherits_conversation(recorded):
    with agentotel.workflow("wf", conversation_id="conv-7"):
        with agentotel.agent("planner", id="agent-1", description="plans", version="2"):
            pass
    workflow = recorded.span("invoke_workflow wf")
    agent = recorded.span("invoke_agent planner")
    assert agent.kind is SpanKind.INTERNAL
    assert agent.parent.span_id == workflow.context.span_id
    assert dict(agent.attributes) == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "planner",
        "gen_ai.agent.id": "agent-1",
        "gen_ai.agent.description": "plans",
        "gen_ai.agent.version": "2",
        "gen_ai.conversation.id": "conv-7",
    }


def test_agent_metrics_duration_and_active_count(recorded):
    with agentotel.agent("planner", id="agent-1"):
        (active,) = recorded.points("agentotel.agent.active")
        assert active.value == 1
    (duration,) = recorded.points("gen_ai.invoke_agent.duration")
    assert duration.unit == "s"
    assert duration.attributes == {"gen_ai.agent.name": "planner"}
    assert duration.bounds == sc.BUCKETS_INVOKE_AGENT_DURATION
    (active,) = recorded.points("agentotel.agent.active")
    assert (active.value, active.unit, active.attributes) == (
        0,
        "{invocation}",
        {"gen_ai.agent.name": "planner"},
    )


def _chat(**response):
    with agentotel.llm(
        "gpt-4o-mini",
        provider="openai",
        server_address="api.openai.com",
        server_port=443,
        temperature=0.2,
        max_tokens=256,
    ) as call:
        call.record_response(**response)


def test_llm_span_attributes_at_start_and_from_response(recorded):
    _chat(
        response_model="gpt-4o-mini-2024-07-18",
        response_id="chatcmpl-42",
        finish_reasons=["stop"],
        input_tokens=1200,
        output_tokens=80,
        cache_read_input_tokens=1024,
        cache_write_input_tokens=0,
    )
    span = recorded.span("chat gpt-4o-mini")
    assert span.kind is SpanKind.CLIENT
    attributes = dict(span.attributes)
    cost = attributes.pop("agentotel.llm.cost_usd")
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "server.address": "api.openai.com",
        "server.port": 443,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 256,
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.id": "chatcmpl-42",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 80,
        "gen_ai.usage.cache_read.input_tokens": 1024,
    }  # a zero cache-write count is left off, as opentelemetry-util-genai does
    # gpt-4o-mini: 0.15 uncached, 0.075 cached, 0.60 output USD per million tokens
    assert cost == pytest.approx((176 * 0.15 + 1024 * 0.075 + 80 * 0.60) / 1e6)


class _RecordingSampler(Sampler):
    """A real sampler that keeps the attributes it was shown at span start."""

    def __init__(self):
        self.seen = {}

    def should_sample(
        self,
        parent_context,
        trace_id,
        name,
        kind=None,
        attributes=None,
        links=None,
        trace_state=None,
    ):
        self.seen[name] = dict(attributes or {})
        return ALWAYS_ON.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self):
        return "recording"


def test_sampling_relevant_attributes_are_set_at_span_start(recorded):
    sampler = _RecordingSampler()
    provider = TracerProvider(sampler=sampler)
    previous = _runtime.RUNTIME
    _runtime.install(
        Runtime(provider.get_tracer("t"), _runtime.current().instruments, _runtime.current().prices)
    )
    try:
        with agentotel.llm(
            "gpt-4o", provider="openai", server_address="api.openai.com", server_port=443
        ):
            pass
        with agentotel.agent("planner"):
            pass
    finally:
        _runtime.install(previous)
    assert sampler.seen["chat gpt-4o"] == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "server.address": "api.openai.com",
        "server.port": 443,
    }
    assert sampler.seen["invoke_agent planner"] == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "planner",
    }


def test_llm_duration_metric_attributes(recorded):
    _chat(response_model="gpt-4o-mini-2024-07-18", input_tokens=10, output_tokens=5)
    (point,) = recorded.points("gen_ai.client.operation.duration")
    assert point.unit == "s"
    assert point.bounds == sc.BUCKETS_OPERATION_DURATION
    assert point.attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "server.address": "api.openai.com",
        "server.port": 443,
    }


def test_llm_token_usage_per_token_type(recorded):
    _chat(response_model="gpt-4o-mini-2024-07-18", input_tokens=1200, output_tokens=80)
    points = {
        p.attributes["gen_ai.token.type"]: p for p in recorded.points("gen_ai.client.token.usage")
    }
    assert set(points) == {"input", "output"}
    assert (points["input"].sum, points["output"].sum) == (1200, 80)
    assert points["input"].unit == "{token}"
    assert points["input"].bounds == sc.BUCKETS_TOKEN_USAGE


def test_llm_unknown_token_counts_record_no_token_metric(recorded):
    _chat(response_model="gpt-4o-mini-2024-07-18")
    assert recorded.points("gen_ai.client.token.usage") == []


def test_llm_cost_counter_in_usd_by_provider_and_model(recorded):
    _chat(response_model="gpt-4o-mini-2024-07-18", input_tokens=1_000_000, output_tokens=0)
    (point,) = recorded.points("agentotel.llm.cost")
    assert point.unit == "USD"
    assert point.attributes == {
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
    }
    assert point.value == pytest.approx(0.15)


def test_llm_unknown_model_records_no_cost_and_no_error(recorded):
    with agentotel.llm("in-house-model-7", provider="vllm") as call:
        call.record_response(input_tokens=100, output_tokens=10)
    span = recorded.span("chat in-house-model-7")
    assert "agentotel.llm.cost_usd" not in span.attributes
    assert span.status.status_code is StatusCode.UNSET
    assert recorded.points("agentotel.llm.cost") == []


def test_llm_embeddings_operation_names_the_span(recorded):
    with agentotel.llm("text-embedding-3-small", provider="openai", operation="embeddings"):
        pass
    span = recorded.span("embeddings text-embedding-3-small")
    assert span.attributes["gen_ai.operation.name"] == "embeddings"


def test_llm_unknown_operation_warns_and_records_chat(recorded, caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        with agentotel.llm("gpt-4o", provider="openai", operation="summarize"):
            pass
    assert recorded.span("chat gpt-4o").attributes["gen_ai.operation.name"] == "chat"
    (message,) = [r.getMessage() for r in caplog.records]
    assert message == (
        "agentotel: agentotel.llm(operation)='summarize' is not valid; accepted: chat, "
        "embeddings, generate_content, text_completion; using 'chat'"
    )


def test_llm_unknown_request_parameter_warns_and_is_left_out(recorded, caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        with agentotel.llm("gpt-4o", provider="openai", temprature=0.3, top_p=0.9):
            pass
    attributes = recorded.span("chat gpt-4o").attributes
    assert attributes["gen_ai.request.top_p"] == 0.9
    assert not any("temp" in key for key in attributes)
    (message,) = [r.getMessage() for r in caplog.records]
    assert message.startswith(
        "agentotel: agentotel.llm(**request_params)='temprature' is not valid; accepted: "
        "temperature, top_p"
    )


def test_tool_span_and_metric(recorded):
    with agentotel.tool("web_search", type="function", description="Search", call_id="call_9"):
        pass
    span = recorded.span("execute_tool web_search")
    assert span.kind is SpanKind.INTERNAL
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "web_search",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.description": "Search",
        "gen_ai.tool.call.id": "call_9",
    }
    (point,) = recorded.points("gen_ai.execute_tool.duration")
    assert point.attributes == {"gen_ai.tool.name": "web_search", "gen_ai.tool.type": "function"}
    assert point.bounds == sc.BUCKETS_EXECUTE_TOOL_DURATION


def test_guardrail_span_with_verdict(recorded):
    with agentotel.guardrail("pii-filter", target="input") as check:
        check.verdict("deny", reason="email address", categories=["pii"])
    span = recorded.span("apply_guardrail pii-filter")
    assert span.kind is SpanKind.INTERNAL
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "apply_guardrail",
        "agentotel.guardrail.name": "pii-filter",
        "agentotel.guardrail.target": "input",
        "agentotel.guardrail.verdict": "deny",
        "agentotel.guardrail.reason": "email address",
        "agentotel.guardrail.categories": ("pii",),
    }


def test_guardrail_checks_counted_by_verdict(recorded):
    for verdict in ("deny", "modify", "deny"):
        with agentotel.guardrail("pii-filter", target="output") as check:
            check.verdict(verdict)
    counts = {
        p.attributes["agentotel.guardrail.verdict"]: p
        for p in recorded.points("agentotel.guardrail.checks")
    }
    assert {v: p.value for v, p in counts.items()} == {"deny": 2, "modify": 1}
    assert counts["deny"].unit == "{check}"
    assert counts["deny"].attributes == {
        "agentotel.guardrail.name": "pii-filter",
        "agentotel.guardrail.target": "output",
        "agentotel.guardrail.verdict": "deny",
    }


def test_guardrail_without_verdict_counts_as_allow(recorded):
    with agentotel.guardrail("injection"):
        pass
    (point,) = recorded.points("agentotel.guardrail.checks")
    assert point.attributes["agentotel.guardrail.verdict"] == "allow"
    assert (
        recorded.span("apply_guardrail injection").attributes["agentotel.guardrail.verdict"]
        == "allow"
    )


def test_guardrail_unknown_verdict_warns_and_keeps_the_verdict_so_far(recorded, caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        with agentotel.guardrail("pii-filter") as check:
            check.verdict("deny")
            check.verdict("block", reason="looks risky")
    attributes = recorded.span("apply_guardrail pii-filter").attributes
    assert attributes["agentotel.guardrail.verdict"] == "deny"
    assert attributes["agentotel.guardrail.reason"] == "looks risky"
    (point,) = recorded.points("agentotel.guardrail.checks")
    assert point.attributes["agentotel.guardrail.verdict"] == "deny"
    (message,) = [r.getMessage() for r in caplog.records]
    assert message == (
        "agentotel: agentotel.guardrail.verdict(verdict)='block' is not valid; accepted: "
        "allow, deny, modify, warn; not recorded"
    )


def test_exception_propagates_unchanged_and_marks_span(recorded):
    error = KeyError("missing")
    with pytest.raises(KeyError) as raised:
        with agentotel.tool("lookup"):
            raise error
    assert raised.value is error
    span = recorded.span("execute_tool lookup")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "KeyError"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "KeyError"


def test_error_type_is_fully_qualified_for_non_builtin_exceptions(recorded):
    with pytest.raises(json.JSONDecodeError):
        with agentotel.llm("gpt-4o", provider="openai"):
            json.loads("{not json")
    span = recorded.span("chat gpt-4o")
    assert span.attributes["error.type"] == "json.decoder.JSONDecodeError"


def test_duration_metrics_carry_error_type(recorded):
    class QuotaExceeded(Exception):
        pass

    with pytest.raises(QuotaExceeded):
        with agentotel.llm("gpt-4o", provider="openai"):
            raise QuotaExceeded()
    (point,) = recorded.points("gen_ai.client.operation.duration")
    expected = f"{__name__}.test_duration_metrics_carry_error_type.<locals>.QuotaExceeded"
    assert point.attributes["error.type"] == expected
    assert recorded.span("chat gpt-4o").attributes["error.type"] == expected


def test_fail_without_exception_sets_error_type(recorded):
    with agentotel.llm("gpt-4o", provider="openai") as call:
        call.fail("rate_limited", "HTTP 429")
    span = recorded.span("chat gpt-4o")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "rate_limited"
    (point,) = recorded.points("gen_ai.client.operation.duration")
    assert point.attributes["error.type"] == "rate_limited"


def test_ids_never_reach_metric_attributes(recorded):
    with agentotel.workflow("wf", conversation_id="conv-secret-id"):
        with agentotel.agent("a", id="agent-id-1"):
            with agentotel.tool("t", call_id="call-id-1"):
                pass
            with agentotel.llm("gpt-4o", provider="openai") as call:
                call.record_response(response_id="resp-id-1", input_tokens=1, output_tokens=1)
    ids = {"conv-secret-id", "agent-id-1", "call-id-1", "resp-id-1"}
    for point in recorded.points():
        assert not ids & {str(v) for v in point.attributes.values()}, point


def test_nested_spans_form_one_trace(recorded):
    with agentotel.workflow("wf"):
        with agentotel.agent("researcher"):
            with agentotel.llm("gpt-4o", provider="openai"):
                pass
            with agentotel.tool("calc"):
                pass
    spans = {s.name: s for s in recorded.spans()}
    assert len({s.context.trace_id for s in spans.values()}) == 1
    agent_id = spans["invoke_agent researcher"].context.span_id
    assert spans["chat gpt-4o"].parent.span_id == agent_id
    assert spans["execute_tool calc"].parent.span_id == agent_id


def test_context_manager_works_inside_async_tasks(recorded):
    async def one(name):
        with agentotel.agent(name):
            await asyncio.sleep(0.001)
            with agentotel.tool(f"{name}-tool"):
                await asyncio.sleep(0.001)

    async def main():
        await asyncio.gather(one("a"), one("b"))

    asyncio.run(main())
    spans = {s.name: s for s in recorded.spans()}
    for name in ("a", "b"):
        assert (
            spans[f"execute_tool {name}-tool"].parent.span_id
            == spans[f"invoke_agent {name}"].context.span_id
        )


def test_span_attribute_helper_sets_span_not_metric(recorded):
    with agentotel.tool("t") as t:
        t.set_attribute("app.query_length", 42)
    assert recorded.span("execute_tool t").attributes["app.query_length"] == 42
    (point,) = recorded.points("gen_ai.execute_tool.duration")
    assert "app.query_length" not in point.attributes


def test_wrong_token_count_type_warns_naming_it_and_is_left_out(recorded, caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        _chat(input_tokens="many", output_tokens=80)
    attributes = recorded.span("chat gpt-4o-mini").attributes
    assert "gen_ai.usage.input_tokens" not in attributes
    assert attributes["gen_ai.usage.output_tokens"] == 80
    points = recorded.points("gen_ai.client.token.usage")
    assert [p.attributes["gen_ai.token.type"] for p in points] == ["output"]
    (message,) = [r.getMessage() for r in caplog.records]
    assert message == (
        "agentotel: agentotel.llm.record_response(input_tokens)='many' is not valid; "
        "accepted: an int >= 0; not recorded"
    )


def test_agent_active_goes_up_and_down_on_the_runtime_it_started_with(recorded):
    later = Recorded()
    with agentotel.agent("planner"):
        _runtime.install(later.runtime())  # as if init() ran while the agent is active
    (point,) = recorded.points("agentotel.agent.active")
    assert point.value == 0
    assert len(recorded.points("gen_ai.invoke_agent.duration")) == 1
    assert later.points("agentotel.agent.active") == []

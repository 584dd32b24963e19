"""Opt-in content capture: each mode produces exactly the content it promises.

OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: NO_CONTENT (default), SPAN_ONLY,
EVENT_ONLY, SPAN_AND_EVENT. Content goes in the GenAI conventions' message format.
"""

from __future__ import annotations

import json
import logging

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

import agentotel
from agentotel import _runtime
from agentotel._instruments import Instruments
from agentotel._runtime import Runtime
from agentotel.content import truncate

CANARY = "CANARY-7f3a-do-not-export"
CONTENT_KEYS = {
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
}


@pytest.fixture
def capture(recorded):
    """Install a runtime with the given capture mode; returns the log exporter."""
    logs = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    previous = _runtime.RUNTIME

    def install(mode: str, max_length: int = 16 * 1024) -> InMemoryLogRecordExporter:
        _runtime.install(
            Runtime(
                recorded.tracer_provider.get_tracer("agentotel"),
                Instruments(recorded.meter_provider.get_meter("agentotel")),
                _runtime.current().prices,
                capture=mode,
                content_max_length=max_length,
                event_logger=provider.get_logger("agentotel"),
            )
        )
        return logs

    yield install
    _runtime.install(previous)


def _everything(text: str) -> None:
    """Push ``text`` through every content API agentotel has."""

    @agentotel.tool("lookup")
    def lookup(query: str) -> dict:
        return {"answer": text}

    with agentotel.workflow("wf") as wf:
        wf.record_input([text])
        with agentotel.agent("a") as ag:
            ag.record_input([{"role": "user", "content": text}])
            with agentotel.llm("gpt-4o", provider="openai") as call:
                call.record_input([{"role": "user", "content": text}], system_instructions=text)
                call.record_output(
                    [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]
                )
                call.record_response(input_tokens=3, output_tokens=2)
            with agentotel.tool("t") as t:
                t.record_arguments({"q": text})
                t.record_result(text)
            lookup(text)
            ag.record_output([text])
        wf.record_output([text])


def _all_exported_text(recorded, logs) -> str:
    parts = []
    for span in recorded.spans():
        parts.append(json.dumps(dict(span.attributes), default=str))
        parts.extend(json.dumps(dict(e.attributes), default=str) for e in span.events)
    for log in logs.get_finished_logs():
        record = log.log_record
        parts.append(
            json.dumps(
                {"body": record.body, "attributes": dict(record.attributes or {})}, default=str
            )
        )
    return "\n".join(parts)


def test_no_content_exports_no_content_anywhere(recorded, capture):
    logs = capture("NO_CONTENT")
    _everything(CANARY)
    assert len(recorded.spans()) == 5
    assert CANARY not in _all_exported_text(recorded, logs)
    assert not any(CONTENT_KEYS & set(s.attributes) for s in recorded.spans())
    assert logs.get_finished_logs() == ()


def test_span_only_puts_json_messages_on_spans_and_no_event(recorded, capture):
    logs = capture("SPAN_ONLY")
    _everything(CANARY)
    chat = recorded.span("chat gpt-4o")
    assert json.loads(chat.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": CANARY}]}
    ]
    assert json.loads(chat.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": CANARY}],
            "finish_reason": "stop",
        }
    ]
    assert json.loads(chat.attributes["gen_ai.system_instructions"]) == [
        {"type": "text", "content": CANARY}
    ]
    assert logs.get_finished_logs() == ()


def test_span_only_records_tool_arguments_and_results(recorded, capture):
    capture("SPAN_ONLY")
    _everything(CANARY)
    tool = recorded.span("execute_tool t")
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"]) == {"q": CANARY}
    assert tool.attributes["gen_ai.tool.call.result"] == CANARY
    decorated = recorded.span("execute_tool lookup")
    assert json.loads(decorated.attributes["gen_ai.tool.call.arguments"]) == {"query": CANARY}
    assert json.loads(decorated.attributes["gen_ai.tool.call.result"]) == {"answer": CANARY}


def test_span_only_records_workflow_and_agent_messages(recorded, capture):
    capture("SPAN_ONLY")
    _everything(CANARY)
    for name in ("invoke_workflow wf", "invoke_agent a"):
        span = recorded.span(name)
        assert (
            json.loads(span.attributes["gen_ai.input.messages"])[0]["parts"][0]["content"] == CANARY
        )
        assert (
            json.loads(span.attributes["gen_ai.output.messages"])[0]["parts"][0]["content"]
            == CANARY
        )


def test_event_only_emits_structured_event_and_nothing_on_spans(recorded, capture):
    logs = capture("EVENT_ONLY")
    _everything(CANARY)
    assert not any(CONTENT_KEYS & set(s.attributes) for s in recorded.spans())
    (log,) = logs.get_finished_logs()
    record = log.log_record
    assert record.event_name == "gen_ai.client.inference.operation.details"
    attributes = record.attributes
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.request.model"] == "gpt-4o"
    assert attributes["gen_ai.usage.input_tokens"] == 3
    assert _plain(attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": CANARY}]}
    ]
    assert _plain(attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": CANARY}],
            "finish_reason": "stop",
        }
    ]
    chat = recorded.span("chat gpt-4o")
    assert record.trace_id == chat.context.trace_id
    assert record.span_id == chat.context.span_id


def test_span_and_event_does_both(recorded, capture):
    logs = capture("SPAN_AND_EVENT")
    _everything(CANARY)
    assert "gen_ai.input.messages" in recorded.span("chat gpt-4o").attributes
    assert len(logs.get_finished_logs()) == 1


def test_content_is_truncated_with_a_visible_marker(recorded, capture):
    capture("SPAN_ONLY", max_length=64)
    with agentotel.tool("t") as t:
        t.record_result("x" * 500)
    value = recorded.span("execute_tool t").attributes["gen_ai.tool.call.result"]
    assert len(value) <= 64
    assert value == "x" * 40 + "...[truncated 460 chars]"


def test_openai_tool_calls_become_tool_call_parts(recorded, capture):
    capture("SPAN_ONLY")
    with agentotel.llm("gpt-4o", provider="openai") as call:
        call.record_output(
            [
                {
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "calc", "arguments": '{"expr": "2+2"}'},
                            }
                        ],
                    },
                    "finish_reason": "tool_calls",
                }
            ]
        )
        call.record_input([{"role": "tool", "tool_call_id": "call_1", "content": "4"}])
    attributes = recorded.span("chat gpt-4o").attributes
    assert json.loads(attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_1", "name": "calc", "arguments": {"expr": "2+2"}}
            ],
            "finish_reason": "tool_calls",
        }
    ]
    assert json.loads(attributes["gen_ai.input.messages"]) == [
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "4"}]}
    ]


def _plain(value):
    """Log attribute values come back as tuples/mappings; compare as plain JSON."""
    return json.loads(
        json.dumps(value, default=lambda o: dict(o) if hasattr(o, "items") else list(o))
    )


def test_truncation_never_exceeds_the_limit_marker_included():
    text = "y" * 1009
    cut = truncate(text, 1000)
    assert len(cut) == 1000
    assert cut == "y" * 977 + "...[truncated 32 chars]"


def test_truncation_to_a_limit_smaller_than_the_marker_ends_in_an_ellipsis():
    assert truncate("z" * 50, 8) == "z" * 7 + "…"


def test_decorated_tool_with_tuple_keys_runs_and_captures_string_keys(recorded, capture):
    capture("SPAN_ONLY")
    calls = []

    @agentotel.tool("route")
    def route(table: dict) -> str:
        calls.append(table)
        return "ok"

    table = {("A", 1): "first", ("B", 2): "second"}
    assert route(table) == "ok"
    assert calls == [table]
    arguments = recorded.span("execute_tool route").attributes["gen_ai.tool.call.arguments"]
    assert json.loads(arguments) == {"table": {"('A', 1)": "first", "('B', 2)": "second"}}


def test_decorated_tool_returning_a_cycle_returns_it_and_captures_the_cycle_marker(
    recorded, capture
):
    capture("SPAN_ONLY")
    node: dict = {"name": "root"}
    node["parent"] = node

    @agentotel.tool("tree")
    def tree() -> dict:
        return node

    assert tree() is node
    result = recorded.span("execute_tool tree").attributes["gen_ai.tool.call.result"]
    assert json.loads(result) == {"name": "root", "parent": "<cycle>"}


class Note:
    def __str__(self) -> str:
        return "a note object"


@pytest.mark.parametrize("kind", ["agent", "llm"])
def test_record_input_of_an_object_captures_its_text_on_every_kind(recorded, capture, kind):
    capture("SPAN_ONLY")
    operation = (
        agentotel.agent("helper") if kind == "agent" else agentotel.llm("m", provider="p")
    )
    with operation as op:
        op.record_input([Note()])
    span = recorded.span("invoke_agent helper" if kind == "agent" else "chat m")
    assert json.loads(span.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "a note object"}]}
    ]


@pytest.mark.parametrize("kind", ["agent", "llm"])
def test_record_input_of_a_non_iterable_warns_naming_it_on_every_kind(
    recorded, capture, caplog, kind
):
    capture("SPAN_ONLY")
    operation = (
        agentotel.agent("helper") if kind == "agent" else agentotel.llm("m", provider="p")
    )
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        with operation as op:
            op.record_input(42)
    (message,) = [r.getMessage() for r in caplog.records]
    assert message == (
        f"agentotel: agentotel.{kind}.record_input(messages)=42 is not valid; accepted: an "
        "iterable of messages (mappings with role and content or parts) or str; not captured"
    )
    span = recorded.span("invoke_agent helper" if kind == "agent" else "chat m")
    assert "gen_ai.input.messages" not in span.attributes

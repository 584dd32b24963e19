"""Handoffs: one agent passing control to another, in the manual API, the OpenAI Agents
SDK and LangGraph.

Each handoff is an ``execute_tool transfer_to_{target}`` span (semantic-conventions-genai
PR #98's model) carrying the source and target agents, one count on
``agentotel.agent.handoffs`` by source and target, and a link from the target agent's
``invoke_agent`` span to the handoff span. The frameworks run for real against the local
model server, on what ``init()`` sets up (``instrumented()``: every installed
instrumentation, agentotel's span pipeline before an in-memory exporter).
"""

from __future__ import annotations

from typing import Any

import integration_app as app
import openai
import pytest
from llm_server import LLMServer
from opentelemetry.sdk.trace import ReadableSpan
from test_integrations import Stack, instrumented

import agentotel
from agentotel import semconv as sc
from agentotel.console import render_tree

HANDOFFS = sc.METRIC_AGENT_HANDOFFS
SOURCE, TARGET = sc.HANDOFF_SOURCE_AGENT_NAME, sc.HANDOFF_TARGET_AGENT_NAME


def spans(stack: Stack) -> dict[str, ReadableSpan]:
    return {span.name: span for span in stack.exporter.get_finished_spans()}


def handoff_counts(stack: Stack) -> dict[tuple[str, str], float]:
    return {
        (p.attributes[SOURCE], p.attributes[TARGET]): p.total
        for p in stack.telemetry().points
        if p.name == HANDOFFS
    }


def linked_to(span: ReadableSpan, other: ReadableSpan) -> bool:
    return [
        (link.context.span_id, dict(link.attributes or {})) for link in span.links
    ] == [(other.context.span_id, {sc.LINK_HANDOFF: True})]


# --------------------------------------------------------------------------- manual API


def test_handoff_is_a_transfer_span_under_the_source_with_both_agents() -> None:
    with instrumented([]) as stack:
        with agentotel.agent("researcher", id="agent-r1"):
            agentotel.handoff("researcher", "writer", from_id="agent-r1", to_id="agent-w1")
        recorded = spans(stack)
    researcher = recorded["invoke_agent researcher"]
    transfer = recorded["execute_tool transfer_to_writer"]
    assert transfer.parent is not None
    assert transfer.parent.span_id == researcher.context.span_id
    assert dict(transfer.attributes or {}) == {
        sc.GEN_AI_OPERATION_NAME: "execute_tool",
        sc.GEN_AI_TOOL_NAME: "transfer_to_writer",
        sc.GEN_AI_TOOL_TYPE: "function",
        sc.GEN_AI_AGENT_NAME: "researcher",
        SOURCE: "researcher",
        TARGET: "writer",
        sc.HANDOFF_SOURCE_AGENT_ID: "agent-r1",
        sc.HANDOFF_TARGET_AGENT_ID: "agent-w1",
    }


def test_the_targets_invoke_agent_span_is_linked_to_the_handoff() -> None:
    with instrumented([]) as stack:
        with agentotel.workflow("report"):
            with agentotel.agent("researcher"):
                agentotel.handoff("researcher", "writer")
            with agentotel.agent("writer"):
                pass
            with agentotel.agent("writer"):  # a second run of it: not a handoff's target
                pass
        writers = [s for s in stack.exporter.get_finished_spans() if s.name.endswith("writer")]
    transfer, first, second = sorted(writers, key=lambda s: s.start_time or 0)
    assert transfer.name == "execute_tool transfer_to_writer"
    assert linked_to(first, transfer)
    assert not second.links


def test_handoffs_are_counted_by_source_and_target() -> None:
    with instrumented([]) as stack:
        for _ in range(2):
            agentotel.handoff("triage", "billing")
        agentotel.handoff("triage", "writer")
        counts = handoff_counts(stack)
    assert counts == {("triage", "billing"): 2, ("triage", "writer"): 1}


def test_agent_handoff_from_records_the_handoff_before_the_target_starts() -> None:
    with instrumented([]) as stack:
        with agentotel.workflow("report") as workflow:
            with agentotel.agent("writer", id="agent-w1", handoff_from="researcher"):
                pass
        recorded = spans(stack)
        counts = handoff_counts(stack)
    transfer, writer = recorded["execute_tool transfer_to_writer"], recorded["invoke_agent writer"]
    assert transfer.parent is not None and writer.parent is not None
    workflow_id = workflow.span.get_span_context().span_id
    assert transfer.parent.span_id == writer.parent.span_id == workflow_id
    assert (transfer.end_time or 0) <= (writer.start_time or 0)
    assert (transfer.attributes or {})[sc.HANDOFF_TARGET_AGENT_ID] == "agent-w1"
    assert linked_to(writer, transfer)
    assert counts == {("researcher", "writer"): 1}


def test_the_console_tree_shows_the_handoffs_target() -> None:
    with instrumented([]) as stack:
        with agentotel.agent("researcher"):
            agentotel.handoff("researcher", "writer")
        tree = render_tree(stack.exporter.get_finished_spans())
    lines = tree.splitlines()
    assert lines[0].startswith("invoke_agent researcher")
    assert lines[1].startswith("└─ execute_tool transfer_to_writer  ")
    assert lines[1].endswith("  → writer")


@pytest.mark.parametrize("bad", [None, 3, object()])
def test_a_bad_agent_name_never_raises(bad: Any, caplog: pytest.LogCaptureFixture) -> None:
    with instrumented([]) as stack:
        agentotel.handoff(bad, "writer")
        agentotel.handoff("researcher", bad)
        assert len(stack.exporter.get_finished_spans()) == 2
    assert "agentotel.handoff" in caplog.text


# --------------------------------------------------------------------------- frameworks


def test_an_agents_sdk_handoff_is_a_transfer_span_under_the_source_agent(
    llm_server: LLMServer,
) -> None:
    """A triage agent hands off to a writer (the model calls ``transfer_to_writer``)."""
    from agents import Agent, OpenAIResponsesModel, Runner

    client = openai.AsyncOpenAI(
        base_url=llm_server.openai_base_url, api_key=app.API_KEY, max_retries=0
    )
    model = OpenAIResponsesModel(model=app.OPENAI_MODEL, openai_client=client)
    writer = Agent(name="writer", instructions="Write the answer.", model=model)
    triage = Agent(name="triage", instructions=app.SYSTEM, model=model, handoffs=[writer])
    with instrumented() as stack:
        Runner.run_sync(triage, "Please transfer_to_writer for the weather in Paris")
        tree = stack.telemetry().tree()
        recorded = spans(stack)
        counts = handoff_counts(stack)
    chat = [f"    chat {app.OPENAI_MODEL} [CLIENT]", "      POST [CLIENT] /v1/responses"]
    assert tree == [
        "invoke_workflow Agent workflow [INTERNAL]",
        "  invoke_agent triage [INTERNAL]",
        *chat,
        "    execute_tool transfer_to_writer [INTERNAL]",
        "  invoke_agent writer [INTERNAL]",
        *chat,
    ]
    transfer = recorded["execute_tool transfer_to_writer"]
    assert ((transfer.attributes or {})[SOURCE], (transfer.attributes or {})[TARGET]) == (
        "triage", "writer"
    )
    assert linked_to(recorded["invoke_agent writer"], transfer)
    assert counts == {("triage", "writer"): 1}


def test_a_langgraph_command_goto_is_a_transfer_span_between_the_agents(
    llm_server: LLMServer,
) -> None:
    """A node running the researcher agent returns ``Command(goto="writer")``."""
    from langchain.agents import create_agent
    from langchain_openai import ChatOpenAI
    from langgraph.graph import START, MessagesState, StateGraph
    from langgraph.types import Command

    model = ChatOpenAI(
        model=app.OPENAI_MODEL,
        base_url=llm_server.openai_base_url,
        api_key=app.API_KEY,  # type: ignore[arg-type]
        max_retries=0,
    )
    researcher = create_agent(model, tools=[], name="researcher")
    writer = create_agent(model, tools=[], name="writer")

    def research(state: MessagesState) -> Command[Any]:
        result = researcher.invoke(state)
        return Command(goto="writer", update={"messages": result["messages"]})

    graph = StateGraph(MessagesState)
    graph.add_node("researcher", research)
    graph.add_node("writer", writer)
    graph.add_edge(START, "researcher")
    with instrumented() as stack:
        graph.compile().invoke({"messages": [{"role": "user", "content": app.PROMPT}]})
        tree = stack.telemetry().tree()
        recorded = spans(stack)
        counts = handoff_counts(stack)
    chat = [f"    chat {app.OPENAI_MODEL} [CLIENT]", "      POST [CLIENT] /v1/chat/completions"]
    assert tree == [
        "invoke_workflow LangGraph [INTERNAL]",
        "  invoke_agent researcher [INTERNAL]",
        *chat,
        "  execute_tool transfer_to_writer [INTERNAL]",
        "  invoke_agent writer [INTERNAL]",
        *chat,
    ]
    transfer = recorded["execute_tool transfer_to_writer"]
    assert (transfer.attributes or {})[SOURCE] == "researcher"
    assert linked_to(recorded["invoke_agent writer"], transfer)
    assert counts == {("researcher", "writer"): 1}

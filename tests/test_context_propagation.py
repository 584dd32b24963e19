"""Context follows the work: threads, thread pools, asyncio tasks and executors.

A span started where the application hands work on — a ``ThreadPoolExecutor`` worker, a
``threading.Thread`` or ``Timer``, an ``asyncio`` task, ``loop.run_in_executor``,
``asyncio.to_thread`` — inside an agentotel operation is a child of that operation, and
sees its baggage and its conversation id. Threads and thread pools need the ``threading``
instrumentation (``opentelemetry-instrumentation-threading``), which ``init()`` enables;
asyncio tasks and ``to_thread`` copy the context themselves.

The ``threading`` instrumentation patches ``threading`` and ``concurrent.futures`` for the
whole process, so the in-process tests set the state they need (instrumented or not) and
put back the state they found, whatever ran before them; the ``init()`` tests run in a
fresh interpreter each.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import Recorded
from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.instrumentation.threading import ThreadingInstrumentor
from opentelemetry.sdk.trace import ReadableSpan

import agentotel
from agentotel import semconv as sc

ROOT = Path(__file__).resolve().parent.parent
MODEL = "gpt-4o-mini"
CONVERSATION = "conv-42"
TENANT = "acme"

Work = Callable[[], None]


# --------------------------------------------------------------------------- the paths
def _thread_pool(work: Work) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        pool.submit(work).result()


def _thread(work: Work) -> None:
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()


def _timer(work: Work) -> None:
    timer = threading.Timer(0.0, work)
    timer.start()
    timer.join()


async def _task(work: Work) -> None:
    async def in_task() -> None:
        work()

    await asyncio.create_task(in_task())


async def _gather(work: Work) -> None:
    async def in_task() -> None:
        await asyncio.sleep(0)
        work()

    await asyncio.gather(in_task(), in_task())


async def _run_in_executor(work: Work) -> None:
    await asyncio.get_running_loop().run_in_executor(None, work)


async def _run_in_executor_pool(work: Work) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        await asyncio.get_running_loop().run_in_executor(pool, work)


async def _to_thread(work: Work) -> None:
    await asyncio.to_thread(work)


SYNC_PATHS: dict[str, Callable[[Work], None]] = {
    "thread_pool": _thread_pool,
    "thread": _thread,
    "timer": _timer,
}
ASYNC_PATHS: dict[str, Callable[[Work], Awaitable[None]]] = {
    "task": _task,
    "gather": _gather,
    "run_in_executor": _run_in_executor,
    "run_in_executor_pool": _run_in_executor_pool,
    "to_thread": _to_thread,
}
EVERY_PATH = sorted([*SYNC_PATHS, *ASYNC_PATHS])
#: the paths on which Python itself copies the context (contextvars)
NATIVE_PATHS = ["gather", "task", "to_thread"]
#: the paths that need the threading instrumentation
THREAD_PATHS = sorted(set(EVERY_PATH) - set(NATIVE_PATHS))


def handed_on(path: str) -> list[str | None]:
    """Inside a workflow with a conversation id and with baggage ``tenant=acme``, hand a
    unit of work on along ``path``; the work runs a tool with an LLM call inside and
    returns the baggage it saw (one entry per time it ran)."""
    seen: list[str | None] = []

    def work() -> None:
        value = baggage.get_baggage("tenant")
        seen.append(value if isinstance(value, str) or value is None else str(value))
        with agentotel.tool("lookup"), agentotel.llm(MODEL, provider="openai") as call:
            call.record_response(input_tokens=10, output_tokens=2)

    token = otel_context.attach(baggage.set_baggage("tenant", TENANT))
    try:
        if path in SYNC_PATHS:
            with agentotel.workflow("triage", conversation_id=CONVERSATION):
                SYNC_PATHS[path](work)
        else:

            async def main() -> None:
                with agentotel.workflow("triage", conversation_id=CONVERSATION):
                    await ASYNC_PATHS[path](work)

            asyncio.run(main())
    finally:
        otel_context.detach(token)
    return seen


def spans_named(recorded: Recorded, prefix: str) -> list[ReadableSpan]:
    return [span for span in recorded.spans() if span.name.startswith(prefix)]


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def threads_instrumented() -> Iterator[None]:
    """The ``threading`` instrumentation on for the test (as ``init()`` leaves it)."""
    instrumentor = ThreadingInstrumentor()
    already = instrumentor.is_instrumented_by_opentelemetry
    if not already:
        instrumentor.instrument()
    try:
        yield
    finally:
        if not already:
            instrumentor.uninstrument()


@pytest.fixture
def threads_not_instrumented() -> Iterator[None]:
    """The ``threading`` instrumentation off for the test (as without ``init()``)."""
    instrumentor = ThreadingInstrumentor()
    was = instrumentor.is_instrumented_by_opentelemetry
    if was:
        instrumentor.uninstrument()
    try:
        yield
    finally:
        if was:
            instrumentor.instrument()


# --------------------------------------------------------------------------- in process
@pytest.mark.parametrize("path", EVERY_PATH)
def test_spans_of_handed_on_work_are_children_of_the_operation(
    recorded: Recorded, threads_instrumented: None, path: str
) -> None:
    handed_on(path)
    workflow = recorded.span("invoke_workflow triage")
    tools = spans_named(recorded, "execute_tool lookup")
    assert tools, path
    for tool in tools:
        assert tool.parent is not None, path
        assert tool.parent.span_id == workflow.context.span_id
        assert tool.context.trace_id == workflow.context.trace_id
    llm_parents = {span.parent.span_id for span in spans_named(recorded, "chat ") if span.parent}
    assert llm_parents == {tool.context.span_id for tool in tools}


@pytest.mark.parametrize("path", EVERY_PATH)
def test_baggage_follows_handed_on_work(
    recorded: Recorded, threads_instrumented: None, path: str
) -> None:
    seen = handed_on(path)
    assert seen and set(seen) == {TENANT}


@pytest.mark.parametrize("path", EVERY_PATH)
def test_the_conversation_id_follows_handed_on_work(
    recorded: Recorded, threads_instrumented: None, path: str
) -> None:
    handed_on(path)
    chats = spans_named(recorded, "chat ")
    assert chats
    for chat in chats:
        assert (chat.attributes or {}).get(sc.GEN_AI_CONVERSATION_ID) == CONVERSATION


@pytest.mark.parametrize("path", NATIVE_PATHS)
def test_asyncio_tasks_and_to_thread_carry_the_context_without_the_instrumentation(
    recorded: Recorded, threads_not_instrumented: None, path: str
) -> None:
    seen = handed_on(path)
    workflow = recorded.span("invoke_workflow triage")
    for tool in spans_named(recorded, "execute_tool lookup"):
        assert tool.parent is not None
        assert tool.parent.span_id == workflow.context.span_id
    for chat in spans_named(recorded, "chat "):
        assert (chat.attributes or {}).get(sc.GEN_AI_CONVERSATION_ID) == CONVERSATION
    assert set(seen) == {TENANT}


@pytest.mark.parametrize("path", THREAD_PATHS)
def test_without_the_instrumentation_threads_lose_the_context(
    recorded: Recorded, threads_not_instrumented: None, path: str
) -> None:
    """What the instrumentation fixes: a worker thread starts from an empty context."""
    seen = handed_on(path)
    workflow = recorded.span("invoke_workflow triage")
    (tool,) = spans_named(recorded, "execute_tool lookup")
    assert tool.parent is None
    assert tool.context.trace_id != workflow.context.trace_id
    (chat,) = spans_named(recorded, "chat ")
    assert sc.GEN_AI_CONVERSATION_ID not in (chat.attributes or {})
    assert seen == [None]


def test_an_agent_in_a_worker_inherits_the_conversation_id(
    recorded: Recorded, threads_instrumented: None
) -> None:
    def work() -> None:
        with agentotel.agent("researcher"):
            pass

    with agentotel.workflow("triage", conversation_id=CONVERSATION):
        _thread_pool(work)
    agent = recorded.span("invoke_agent researcher")
    assert (agent.attributes or {})[sc.GEN_AI_CONVERSATION_ID] == CONVERSATION
    assert agent.parent is not None
    assert agent.parent.span_id == recorded.span("invoke_workflow triage").context.span_id


def test_parallel_tools_in_a_pool_are_siblings_under_their_agent(
    recorded: Recorded, threads_instrumented: None
) -> None:
    """The issue's case: an agent runs its tools in parallel on a thread pool."""

    def run_tool(name: str) -> str:
        with agentotel.tool(name):
            return name

    with agentotel.agent("planner"), ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run_tool, ["search", "fetch", "summarize", "cite"]))
    assert results == ["search", "fetch", "summarize", "cite"]
    agent = recorded.span("invoke_agent planner")
    tools = spans_named(recorded, "execute_tool ")
    assert len(tools) == 4
    assert {t.parent.span_id for t in tools if t.parent} == {agent.context.span_id}
    assert all(t.parent is not None for t in tools)


def test_a_worker_that_outlives_the_operation_stays_its_child(
    recorded: Recorded, threads_instrumented: None
) -> None:
    """Work submitted inside the operation and finished after it ended keeps its parent."""
    release = threading.Event()

    def work() -> None:
        release.wait(5)
        with agentotel.tool("late"):
            pass

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        with agentotel.agent("fire-and-forget"):
            future = pool.submit(work)
        release.set()
        future.result(5)
    finally:
        pool.shutdown()
    agent = recorded.span("invoke_agent fire-and-forget")
    tool = recorded.span("execute_tool late")
    assert tool.parent is not None and tool.parent.span_id == agent.context.span_id


# --------------------------------------------------------------------------- through init()
def run(script: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``script`` in a fresh interpreter; it prints one JSON object as its last line."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    clean.update(env or {})
    result = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(script)],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


#: what every script shares: spans to memory through the handle, a pool worker's tool
PRELUDE = textwrap.dedent(
    """
    import json, threading
    from concurrent.futures import ThreadPoolExecutor
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.instrumentation.threading import ThreadingInstrumentor
    import agentotel

    def start(**arguments):
        telemetry = agentotel.init(
            "svc", traces_exporter="none", metrics_exporter="none", logs_exporter="none",
            **arguments)
        exporter = InMemorySpanExporter()
        telemetry.add_span_processor(SimpleSpanProcessor(exporter))
        return telemetry, exporter

    def lookup():
        with agentotel.tool("lookup"):
            pass

    def tool_in_a_pool():
        with agentotel.workflow("triage", conversation_id="conv-1"):
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(lookup).result()

    def parent_of_tool(exporter):
        spans = {s.name: s for s in exporter.get_finished_spans()}
        tool, workflow = spans["execute_tool lookup"], spans["invoke_workflow triage"]
        if tool.parent is None:
            return "none"
        return "workflow" if tool.parent.span_id == workflow.context.span_id else "other"

    def patched():
        return {
            "submit": hasattr(ThreadPoolExecutor.submit, "__wrapped__"),
            "start": hasattr(threading.Thread.start, "__wrapped__"),
            "instrumented": ThreadingInstrumentor().is_instrumented_by_opentelemetry,
        }
    """
)


def test_init_enables_the_threading_instrumentation_and_shutdown_undoes_it() -> None:
    found = run(
        """
        telemetry, exporter = start()
        enabled = "threading" in telemetry.instrumented
        during = patched()
        tool_in_a_pool()
        parent = parent_of_tool(exporter)
        telemetry.shutdown()
        print(json.dumps({"enabled": enabled, "during": during, "parent": parent,
                          "after": patched()}))
        """
    )
    assert found["enabled"] is True
    assert found["during"] == {"submit": True, "start": True, "instrumented": True}
    assert found["parent"] == "workflow"
    assert found["after"] == {"submit": False, "start": False, "instrumented": False}


@pytest.mark.parametrize(
    ("arguments", "env"),
    [
        ("", {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "threading"}),
        ("", {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "*"}),
        ("instrumentations=['requests']", {}),
    ],
    ids=["disabled-variable", "disabled-all", "not-chosen"],
)
def test_the_threading_instrumentation_can_be_switched_off(
    arguments: str, env: dict[str, str]
) -> None:
    found = run(
        f"""
        telemetry, exporter = start({arguments})
        tool_in_a_pool()
        print(json.dumps({{"enabled": "threading" in telemetry.instrumented,
                          "patched": patched(), "parent": parent_of_tool(exporter)}}))
        """,
        env,
    )
    assert found["enabled"] is False
    assert found["patched"] == {"submit": False, "start": False, "instrumented": False}
    assert found["parent"] == "none"


def test_an_application_that_instrumented_threading_itself_keeps_it_after_shutdown() -> None:
    found = run(
        """
        ThreadingInstrumentor().instrument()
        telemetry, exporter = start()
        enabled = "threading" in telemetry.instrumented
        tool_in_a_pool()
        parent = parent_of_tool(exporter)
        telemetry.shutdown()
        print(json.dumps({"enabled": enabled, "parent": parent, "after": patched()}))
        """
    )
    assert found["enabled"] is False  # not agentotel's to enable, nor to undo
    assert found["parent"] == "workflow"
    assert found["after"] == {"submit": True, "start": True, "instrumented": True}

"""Decorators on the four function kinds, early-stopped generators, exceptions, disabled mode."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

import agentotel
from agentotel import _runtime


def test_bare_decorator_takes_the_function_name(recorded):
    @agentotel.tool
    def lookup_order(order_id: str) -> str:
        return order_id.upper()

    assert lookup_order("ab-1") == "AB-1"
    assert lookup_order.__name__ == "lookup_order"
    span = recorded.span("execute_tool lookup_order")
    assert span.attributes["gen_ai.tool.name"] == "lookup_order"


def test_each_call_gets_its_own_span(recorded):
    @agentotel.tool("add", type="function")
    def add(a: int, b: int) -> int:
        return a + b

    assert [add(1, 2), add(3, 4)] == [3, 7]
    spans = [s for s in recorded.spans() if s.name == "execute_tool add"]
    assert len(spans) == 2
    assert spans[0].context.span_id != spans[1].context.span_id


def test_decorated_function_runs_inside_its_span(recorded):
    @agentotel.agent("planner")
    def plan() -> int:
        return trace.get_current_span().get_span_context().span_id

    inner_id = plan()
    assert recorded.span("invoke_agent planner").context.span_id == inner_id


def test_async_function_decorator(recorded):
    @agentotel.agent("researcher")
    async def research(q: str) -> str:
        await asyncio.sleep(0)
        with agentotel.tool("search"):
            await asyncio.sleep(0)
        return q[::-1]

    assert asyncio.run(research("abc")) == "cba"
    agent = recorded.span("invoke_agent researcher")
    assert recorded.span("execute_tool search").parent.span_id == agent.context.span_id


def test_generator_span_covers_the_whole_iteration(recorded):
    @agentotel.tool("stream_rows")
    def rows():
        for i in range(3):
            with agentotel.tool("fetch_row"):
                pass
            yield i

    gen = rows()
    assert recorded.spans() == []  # nothing ends before iteration finishes
    assert list(gen) == [0, 1, 2]
    outer = recorded.span("execute_tool stream_rows")
    inner = [s for s in recorded.spans() if s.name == "execute_tool fetch_row"]
    assert len(inner) == 3
    assert all(s.parent.span_id == outer.context.span_id for s in inner)
    assert outer.end_time >= max(s.end_time for s in inner)


def test_generator_span_is_not_current_in_consumer_code(recorded):
    @agentotel.tool("numbers")
    def numbers():
        yield 1
        yield 2

    for _ in numbers():
        assert not trace.get_current_span().get_span_context().is_valid
    assert recorded.span("execute_tool numbers").status.status_code is StatusCode.UNSET


def test_generator_stopped_early_ends_span_without_error(recorded):
    @agentotel.tool("tokens")
    def tokens():
        yield from range(100)

    gen = tokens()
    assert next(gen) == 0
    assert recorded.spans() == []  # open while the consumer holds the generator
    gen.close()
    span = recorded.span("execute_tool tokens")  # ended (and exported) by close()
    assert span.status.status_code is StatusCode.UNSET


def test_generator_break_ends_span(recorded):
    @agentotel.workflow("pipeline")
    def pipeline():
        yield from "abc"

    open_during_iteration = []
    for ch in pipeline():
        open_during_iteration.append(recorded.spans() == [])
        if ch == "b":
            break
    assert open_during_iteration == [True, True]
    assert [s.name for s in recorded.spans()] == ["invoke_workflow pipeline"]


def test_generator_return_value_and_send_are_forwarded(recorded):
    @agentotel.tool("accumulate")
    def accumulate():
        total = 0
        while True:
            value = yield total
            if value is None:
                return total
            total += value

    gen = accumulate()
    assert next(gen) == 0
    assert gen.send(5) == 5
    assert gen.send(7) == 12
    with pytest.raises(StopIteration) as stop:
        gen.send(None)
    assert stop.value.value == 12
    assert recorded.span("execute_tool accumulate").status.status_code is StatusCode.UNSET


def test_generator_exception_marks_span(recorded):
    @agentotel.tool("broken")
    def broken():
        yield 1
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        list(broken())
    span = recorded.span("execute_tool broken")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "RuntimeError"


def test_async_generator_decorator_and_early_stop(recorded):
    @agentotel.llm("gpt-4o", provider="openai", stream=True)
    async def stream():
        for word in ("a", "b", "c"):
            await asyncio.sleep(0)
            yield word

    ended = []

    async def consume():
        got = []
        agen = stream()
        async for word in agen:
            got.append(word)
            if word == "b":
                break
        ended.append(len(recorded.spans()))
        await agen.aclose()
        ended.append(len(recorded.spans()))
        return got

    assert asyncio.run(consume()) == ["a", "b"]
    assert ended == [0, 1]  # the span ends when the consumer closes the stream
    span = recorded.span("chat gpt-4o")
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.status.status_code is StatusCode.UNSET


def test_async_generator_exception_marks_span(recorded):
    @agentotel.tool("feed")
    async def feed():
        yield 1
        raise ValueError("bad item")

    async def consume():
        return [x async for x in feed()]

    with pytest.raises(ValueError, match="bad item"):
        asyncio.run(consume())
    assert recorded.span("execute_tool feed").attributes["error.type"] == "ValueError"


def test_exception_from_decorated_function_propagates_unchanged(recorded):
    error = ZeroDivisionError("division by zero")

    @agentotel.tool
    def divide():
        raise error

    with pytest.raises(ZeroDivisionError) as raised:
        divide()
    assert raised.value is error
    assert recorded.span("execute_tool divide").attributes["error.type"] == "ZeroDivisionError"


def test_disabled_runtime_calls_straight_through(recorded):
    previous = _runtime.RUNTIME
    _runtime.install(recorded.runtime(disabled=True))
    try:

        @agentotel.tool
        def double(x: int) -> int:
            return 2 * x

        @agentotel.tool
        def gen():
            yield 1

        assert double(21) == 42
        assert list(gen()) == [1]
    finally:
        _runtime.install(previous)
    assert recorded.spans() == []

"""The public surface never raises into the application, whatever it is given.

The OpenTelemetry error-handling principle (https://opentelemetry.io/docs/specs/otel/error-handling/):
API methods must not throw when used incorrectly at run time. Property: for hostile
inputs (cycles, non-string keys, bytes, NaN/inf, huge strings and ints, objects whose
``__repr__``/``__str__`` raise, wrong types in every argument) in every content capture
mode, on every entry point — constructors, ``__enter__``/``__exit__``, ``record_*``,
``verdict``, ``fail``, ``set_attribute``, ``evaluation``, decorated calls of all four
function kinds, ``memory_size`` registrations and the collections that call their callbacks;
``record_chunk`` and ``stream`` over sync and async iterables that raise, consumed by an
application that raises, stops early or abandons the stream:

- no exception raised by agentotel reaches the caller;
- a decorated function runs exactly once per call and its return value, yielded values
  and its own exception reach the caller unchanged (the same objects); so do a stream's
  chunks and its exception, and the consumer's own exception;
- every span that starts also ends, and the caller's context is restored.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

# util-genai's handler imported, as any instrumentation does: its nesting contracts are
# live, so the inner and outer roles of llm() and retrieval() are exercised too
from opentelemetry.util.genai import handler as _util_genai_handler  # noqa: F401

import agentotel
from agentotel import _runtime
from agentotel._instruments import MEMORY_SIZES, Instruments
from agentotel._runtime import Runtime
from agentotel.content import CAPTURE_MODES
from agentotel.cost import load_price_table

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --------------------------------------------------------------------------- hostile values
class Unprintable:
    """An object whose ``repr`` and ``str`` raise."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")

    __str__ = __repr__


class Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no comparison either")


def _cyclic(value: Any) -> Any:
    box: dict[str, Any] = {"value": value}
    box["self"] = box
    return box


def _cyclic_list(value: Any) -> Any:
    items: list[Any] = [value]
    items.append(items)
    return items


def _huge_int() -> int:
    return 10**5000  # str() of it raises (Python's 4300-digit limit)


def _huge_text() -> str:
    return "x" * 100_000


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**30) | st.builds(_huge_int),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.builds(_huge_text),
    st.builds(Unprintable),
    st.builds(Unhashable),
    st.builds(object),
)
KEYS = st.one_of(
    st.text(max_size=8),
    st.integers(),
    st.tuples(st.integers(), st.integers()),
    st.none(),
    st.frozensets(st.integers(), max_size=2),
    st.builds(Unprintable),
)
HOSTILE = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.tuples(children, children),
        st.dictionaries(KEYS, children, max_size=3),
        st.builds(_cyclic, children),
        st.builds(_cyclic_list, children),
    ),
    max_leaves=8,
)
#: Sometimes a well-formed value, sometimes anything.
TEXT_OR_HOSTILE = st.text(max_size=12) | HOSTILE
INT_OR_HOSTILE = st.integers(min_value=0, max_value=10**6) | HOSTILE
PARAMS = st.dictionaries(
    st.sampled_from(["temperature", "top_p", "max_tokens", "stop_sequences", "seed", "bogus"]),
    HOSTILE,
    max_size=3,
)


class UserError(Exception):
    """The application's own exception; must reach the caller as the same object."""


class UnprintableError(UserError):
    """An application exception whose message cannot be read."""

    def __str__(self) -> str:
        raise RuntimeError("no message for you")


USER_ERRORS = st.sampled_from([UserError, UnprintableError])


# --------------------------------------------------------------------------- the providers
class SpanCounter(SpanProcessor):
    """Counts spans started and ended."""

    def __init__(self) -> None:
        self.started = 0
        self.ended = 0

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        self.started += 1

    def on_end(self, span: ReadableSpan) -> None:
        self.ended += 1


@pytest.fixture(scope="module")
def providers() -> Iterator[tuple[TracerProvider, MeterProvider, LoggerProvider, SpanCounter]]:
    counter = SpanCounter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(counter)
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    logger_provider = LoggerProvider()
    yield tracer_provider, meter_provider, logger_provider, counter
    tracer_provider.shutdown()
    meter_provider.shutdown()
    logger_provider.shutdown()


@pytest.fixture(params=CAPTURE_MODES)
def counter(request: pytest.FixtureRequest, providers: Any) -> Iterator[SpanCounter]:
    """agentotel installed in one capture mode; yields the span counter."""
    tracer_provider, meter_provider, logger_provider, span_counter = providers
    previous = _runtime.RUNTIME
    _runtime.install(
        Runtime(
            tracer_provider.get_tracer("agentotel"),
            Instruments(meter_provider.get_meter("agentotel")),
            load_price_table(),
            capture=request.param,
            content_max_length=64,
            event_logger=logger_provider.get_logger("agentotel"),
        )
    )
    yield span_counter
    _runtime.install(previous)


class Spans:
    """Every span started in the block has ended and the context is back as it was."""

    def __init__(self, counter: SpanCounter) -> None:
        self.counter = counter

    def __enter__(self) -> None:
        self.before = (self.counter.started, self.counter.ended)
        self.span = trace.get_current_span()

    def __exit__(self, *exc_info: Any) -> None:
        started = self.counter.started - self.before[0]
        ended = self.counter.ended - self.before[1]
        assert started == ended, f"{started} spans started, {ended} ended"
        assert trace.get_current_span() is self.span, "the caller's context was not restored"


# --------------------------------------------------------------------------- context managers
@EXAMPLES
@given(
    model=TEXT_OR_HOSTILE,
    provider=TEXT_OR_HOSTILE,
    operation=st.sampled_from(["chat", "embeddings"]) | HOSTILE,
    address=TEXT_OR_HOSTILE,
    port=INT_OR_HOSTILE,
    params=PARAMS,
    messages=HOSTILE,
    instructions=HOSTILE,
    response=st.fixed_dictionaries(
        {},
        optional={
            "response_model": TEXT_OR_HOSTILE,
            "response_id": TEXT_OR_HOSTILE,
            "finish_reasons": st.lists(st.text(max_size=5)) | HOSTILE,
            "input_tokens": INT_OR_HOSTILE,
            "output_tokens": INT_OR_HOSTILE,
            "cache_read_input_tokens": INT_OR_HOSTILE,
            "cache_write_input_tokens": INT_OR_HOSTILE,
        },
    ),
    attribute=st.tuples(TEXT_OR_HOSTILE, HOSTILE),
    failure=st.tuples(TEXT_OR_HOSTILE, TEXT_OR_HOSTILE),
    raise_inside=st.booleans(),
    error_type=USER_ERRORS,
)
def test_llm_call_never_raises(
    counter, model, provider, operation, address, port, params, messages, instructions,
    response, attribute, failure, raise_inside, error_type,
):
    error = error_type("the application's own")
    with Spans(counter):
        try:
            with agentotel.llm(
                model,
                provider=provider,
                operation=operation,
                server_address=address,
                server_port=port,
                **params,
            ) as call:
                call.record_input(messages, system_instructions=instructions)
                call.record_output(messages)
                call.record_response(**response)
                call.set_attribute(*attribute)
                call.fail(*failure)
                _ = call.context
                if raise_inside:
                    raise error
        except UserError as raised:
            assert raised is error
        else:
            assert not raise_inside


@EXAMPLES
@given(
    kind=st.sampled_from(["workflow", "agent"]),
    name=TEXT_OR_HOSTILE,
    options=st.lists(TEXT_OR_HOSTILE, min_size=4, max_size=4),
    messages=HOSTILE,
    raise_inside=st.booleans(),
)
def test_workflow_and_agent_never_raise(counter, kind, name, options, messages, raise_inside):
    error = UserError("the application's own")
    if kind == "workflow":
        operation = agentotel.workflow(name, conversation_id=options[0])
    else:
        operation = agentotel.agent(
            name, id=options[0], description=options[1], version=options[2],
            conversation_id=options[3],
        )
    with Spans(counter):
        try:
            with operation as op:
                op.record_input(messages)
                op.record_output(messages)
                with op:  # a second use of the same object
                    pass
                if raise_inside:
                    raise error
        except UserError as raised:
            assert raised is error
        with operation:  # used again after it ended
            pass


@EXAMPLES
@given(
    name=TEXT_OR_HOSTILE,
    tool_type=TEXT_OR_HOSTILE,
    options=st.tuples(TEXT_OR_HOSTILE, TEXT_OR_HOSTILE),
    arguments=HOSTILE,
    result=HOSTILE,
    target=TEXT_OR_HOSTILE,
    verdict=st.sampled_from(["allow", "deny", "modify", "warn"]) | HOSTILE,
    reason=TEXT_OR_HOSTILE,
    categories=st.lists(st.text(max_size=5)) | HOSTILE,
)
def test_tool_and_guardrail_never_raise(
    counter, name, tool_type, options, arguments, result, target, verdict, reason, categories
):
    with Spans(counter):
        with agentotel.tool(name, type=tool_type, description=options[0], call_id=options[1]) as t:
            t.record_arguments(arguments)
            t.record_result(result)
        with agentotel.guardrail(name, target=target) as check:
            check.verdict(verdict, reason=reason, categories=categories)
            assert check.current_verdict in ("allow", "deny", "modify", "warn")


@EXAMPLES
@given(
    data_source=TEXT_OR_HOSTILE,
    options=st.tuples(TEXT_OR_HOSTILE, TEXT_OR_HOSTILE, TEXT_OR_HOSTILE),
    port=INT_OR_HOSTILE,
    top_k=INT_OR_HOSTILE,
    query=TEXT_OR_HOSTILE,
    documents=st.lists(HOSTILE, max_size=4) | HOSTILE,
    attribute=st.tuples(TEXT_OR_HOSTILE, HOSTILE),
    failure=st.tuples(TEXT_OR_HOSTILE, TEXT_OR_HOSTILE),
    nested=st.booleans(),
    raise_inside=st.booleans(),
    error_type=USER_ERRORS,
)
def test_retrieval_never_raises(
    counter, data_source, options, port, top_k, query, documents, attribute, failure, nested,
    raise_inside, error_type,
):
    error = error_type("the application's own")
    with Spans(counter):
        try:
            with agentotel.retrieval(
                data_source,
                provider=options[0],
                request_model=options[1],
                server_address=options[2],
                server_port=port,
                top_k=top_k,
            ) as lookup:
                lookup.record_query(query)
                lookup.record_documents(documents)
                lookup.set_attribute(*attribute)
                lookup.fail(*failure)
                if nested:  # inside another retrieval: publishes to the outer one
                    with agentotel.retrieval(options[0], top_k=top_k) as inner:
                        inner.record_query(query)
                        inner.record_documents(documents)
                if raise_inside:
                    raise error
        except UserError as raised:
            assert raised is error
        else:
            assert not raise_inside


@EXAMPLES
@given(
    operation=st.sampled_from(["search_memory", "upsert_memory", "store", "delete"]) | HOSTILE,
    options=st.lists(TEXT_OR_HOSTILE, min_size=5, max_size=5),
    port=INT_OR_HOSTILE,
    query=TEXT_OR_HOSTILE,
    records=st.lists(HOSTILE, max_size=4) | HOSTILE,
    count=INT_OR_HOSTILE,
    failure=st.tuples(TEXT_OR_HOSTILE, TEXT_OR_HOSTILE),
    raise_inside=st.booleans(),
    error_type=USER_ERRORS,
)
def test_memory_never_raises(
    counter, operation, options, port, query, records, count, failure, raise_inside, error_type
):
    error = error_type("the application's own")
    with Spans(counter):
        try:
            with agentotel.memory(
                operation,
                store=options[0],
                memory_type=options[1],
                record_id=options[2],
                provider=options[3],
                server_address=options[4],
                server_port=port,
            ) as mem:
                mem.record_query(query)
                mem.record_memories(records)
                mem.record_memories(records, count=count)
                mem.record_memories(count=count)
                mem.fail(*failure)
                if raise_inside:
                    raise error
        except UserError as raised:
            assert raised is error
        else:
            assert not raise_inside


class SizeCallbackError(Exception):
    """Raised by a memory-size callback; must never reach the collection's caller."""


@EXAMPLES
@given(
    store=TEXT_OR_HOSTILE,
    memory_type=TEXT_OR_HOSTILE,
    unit=st.sampled_from(["record", "By"]) | HOSTILE,
    value=st.integers(min_value=0, max_value=10**6) | st.floats() | HOSTILE,
    raises=st.booleans(),
    callable_callback=st.booleans(),
)
def test_memory_size_and_its_collection_never_raise(
    counter, store, memory_type, unit, value, raises, callable_callback
):
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    Instruments(meter_provider.get_meter("agentotel"))

    def size() -> Any:
        if raises:
            raise SizeCallbackError("store offline")
        return value

    try:
        handle = agentotel.memory_size(
            store, size if callable_callback else value, memory_type=memory_type, unit=unit
        )
        reader.get_metrics_data()
        reader.get_metrics_data()
        handle.unregister()
        handle.unregister()
    finally:
        MEMORY_SIZES.clear()
        meter_provider.shutdown()


@EXAMPLES
@given(
    name=TEXT_OR_HOSTILE,
    score=st.floats(min_value=0, max_value=1) | st.integers() | HOSTILE,
    texts=st.lists(TEXT_OR_HOSTILE, min_size=4, max_size=4),
    parent=st.sampled_from(["none", "operation", "unstarted", "span_context", "span"]) | HOSTILE,
)
def test_evaluation_never_raises(counter, caplog, name, score, texts, parent):
    caplog.clear()
    with agentotel.llm("gpt-4o", provider="openai") as call:
        pass
    given = {
        "none": None,
        "operation": call,
        "unstarted": agentotel.tool("never-entered"),
        "span_context": call.span.get_span_context(),
        "span": call.span,
    }
    span_context = given[parent] if isinstance(parent, str) and parent in given else parent
    label, explanation, response_id, error_type = texts
    with Spans(counter):
        with agentotel.agent("judge"):
            result = agentotel.evaluation(
                name,
                score=score,
                label=label,
                explanation=explanation,
                response_id=response_id,
                span_context=span_context,
                error_type=error_type,
            )
        agentotel.evaluation(name, score, label, explanation, response_id, span_context)
    assert result is None
    # misuse gets its warning; nothing inside agentotel failed on the way
    assert [r.getMessage() for r in caplog.records if "failed to" in r.getMessage()] == []


# --------------------------------------------------------------------------- decorators
INSTRUMENTS = {
    "workflow": lambda name: agentotel.workflow(name),
    "agent": lambda name: agentotel.agent(name),
    "tool": lambda name: agentotel.tool(name),
    "guardrail": lambda name: agentotel.guardrail(name),
    "retrieval": lambda name: agentotel.retrieval(name),
    "memory": lambda name: agentotel.memory(name),
}


@EXAMPLES
@given(
    instrument=st.sampled_from(sorted(INSTRUMENTS)),
    name=TEXT_OR_HOSTILE,
    args=st.lists(HOSTILE, max_size=3),
    kwargs=st.dictionaries(st.sampled_from(["a", "b", "query"]), HOSTILE, max_size=2),
    values=st.lists(HOSTILE, min_size=1, max_size=3),
    raise_inside=st.booleans(),
    error_type=USER_ERRORS,
)
def test_decorated_functions_run_once_and_return_unchanged(
    counter, instrument, name, args, kwargs, values, raise_inside, error_type
):
    decorator = INSTRUMENTS[instrument](name)
    error = error_type("the application's own")
    calls: list[str] = []

    def outcome() -> Any:
        if raise_inside:
            raise error
        return values[0]

    @decorator
    def function(*a: Any, **k: Any) -> Any:
        calls.append("function")
        return outcome()

    @decorator
    async def coroutine(*a: Any, **k: Any) -> Any:
        calls.append("coroutine")
        return outcome()

    @decorator
    def generator(*a: Any, **k: Any) -> Iterator[Any]:
        calls.append("generator")
        yield from values
        return outcome()

    @decorator
    async def async_generator(*a: Any, **k: Any) -> Any:
        calls.append("async_generator")
        for value in values:
            yield value
        outcome()

    async def drain() -> list[Any]:
        return [item async for item in async_generator(*args, **kwargs)]

    runs = {
        "function": lambda: function(*args, **kwargs),
        "coroutine": lambda: asyncio.run(coroutine(*args, **kwargs)),
        "generator": lambda: list(generator(*args, **kwargs)),
        "async_generator": lambda: asyncio.run(drain()),
    }
    with Spans(counter):
        for kind, run in runs.items():
            try:
                got = run()
            except UserError as raised:
                assert raise_inside and raised is error
            else:
                assert not raise_inside
                if kind in ("function", "coroutine"):
                    assert got is values[0]
                else:
                    assert len(got) == len(values)
                    assert all(g is v for g, v in zip(got, values, strict=True))
    assert calls == ["function", "coroutine", "generator", "async_generator"]


@EXAMPLES
@given(name=TEXT_OR_HOSTILE, target=HOSTILE)
def test_decorating_something_that_is_not_a_function_returns_it(counter, name, target):
    for make in INSTRUMENTS.values():
        assert make(name)(target) is target


def test_a_bare_memory_decorator_returns_the_function_unchanged(counter):
    def function() -> str:
        return "result"

    assert agentotel.memory(function) is function  # type: ignore[arg-type]
    assert function() == "result"



# --------------------------------------------------------------------------- streams
class StreamFailure(UserError):
    """The stream's own exception (raised by the iterable agentotel wraps)."""


def _sync_source(values: list[Any], error: BaseException | None) -> Iterator[Any]:
    yield from values
    if error is not None:
        raise error


async def _async_source(values: list[Any], error: BaseException | None) -> AsyncIterator[Any]:
    for value in values:
        await asyncio.sleep(0)
        yield value
    if error is not None:
        raise error


@EXAMPLES
@given(
    values=st.lists(HOSTILE, max_size=3),
    texts=st.lists(TEXT_OR_HOSTILE, max_size=3),
    is_async=st.booleans(),
    in_with=st.booleans(),
    source_raises=st.booleans(),
    consumer_raises=st.booleans(),
    ending=st.sampled_from(["exhaust", "close", "abandon"]),
    error_type=USER_ERRORS,
)
def test_streams_never_raise_and_hand_everything_through_unchanged(
    counter, values, texts, is_async, in_with, source_raises, consumer_raises, ending,
    error_type,
):
    source_error = StreamFailure("the stream's own") if source_raises else None
    consumer_error = error_type("the application's own")
    got: list[Any] = []

    def consume_sync(stream: Any) -> None:
        for item in stream:
            got.append(item)
            if consumer_raises:
                raise consumer_error
            if ending != "exhaust":
                break
        if ending == "close":
            stream.close()

    async def consume_async(stream: Any) -> None:
        async for item in stream:
            got.append(item)
            if consumer_raises:
                raise consumer_error
            if ending != "exhaust":
                break
        if ending == "close":
            await stream.aclose()

    def run(call: agentotel.LLMCall) -> None:
        for text in texts:
            call.record_chunk(text)
        if is_async:
            asyncio.run(consume_async(call.stream(_async_source(values, source_error))))
        else:
            consume_sync(call.stream(_sync_source(values, source_error)))

    with Spans(counter):
        try:
            if in_with:
                with agentotel.llm("gpt-4o-mini", provider="openai") as call:
                    run(call)
            else:
                run(agentotel.llm("gpt-4o-mini", provider="openai"))
        except UserError as raised:
            if raised is consumer_error:
                assert consumer_raises and values
            else:
                assert raised is source_error
                assert ending == "exhaust" or not values
        else:
            assert not (consumer_raises and values)
            assert source_error is None or (ending != "exhaust" and values)
        assert all(g is v for g, v in zip(got, values, strict=False))
        expected = len(values) if ending == "exhaust" and not consumer_raises else 1
        assert len(got) == min(expected, len(values))
        # an abandoned stream ends when it is collected; a raised exception's traceback
        # (the consumer's frame) keeps it until then
        for error in (consumer_error, source_error):
            if error is not None:
                error.__traceback__ = None
        if ending == "abandon" or consumer_raises or source_raises:
            gc.collect()


@EXAMPLES
@given(value=HOSTILE, in_with=st.booleans())
def test_stream_of_anything_never_raises(counter, value, in_with):
    with Spans(counter):
        call = agentotel.llm("gpt-4o-mini", provider="openai")
        if in_with:
            with call:
                wrapped = call.stream(value)
        else:
            wrapped = call.stream(value)
        if hasattr(type(value), "__iter__"):
            assert len(list(wrapped)) == len(list(value))
        else:
            assert wrapped is value

"""agentotel.memory() and agentotel.memory_size(): exact spans, metric points and gauges.

Span names, kinds and attributes follow the GenAI memory draft (semantic-conventions-genai,
docs/gen-ai/gen-ai-spans.md, "Memory"); the metrics, the memory type and the outcome are
agentotel's own (``agentotel.memory.*``), as the draft defines none.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator

import pytest
from conftest import Recorded
from opentelemetry.trace import SpanKind, StatusCode

import agentotel
from agentotel import _runtime
from agentotel import semconv as sc
from agentotel._instruments import MEMORY_SIZES, Instruments
from agentotel._runtime import Runtime

CANARY = "CANARY-memory-do-not-export"
CONTENT_KEYS = {"gen_ai.memory.query.text", "gen_ai.memory.records"}
DRAFT_OPERATIONS = [
    "create_memory_store",
    "delete_memory_store",
    "create_memory",
    "update_memory",
    "upsert_memory",
    "search_memory",
    "delete_memory",
]


@pytest.fixture(autouse=True)
def no_memory_sizes() -> Iterator[None]:
    """Each test starts and ends with no memory sizes registered (the registry is global)."""
    MEMORY_SIZES.clear()
    yield
    MEMORY_SIZES.clear()


@pytest.fixture
def capture(recorded) -> Iterator[Callable[..., None]]:
    """Install a runtime on the test's providers with the given capture mode."""
    previous = _runtime.RUNTIME

    def install(mode: str, max_length: int = 16 * 1024) -> None:
        _runtime.install(
            Runtime(
                recorded.tracer_provider.get_tracer("agentotel"),
                Instruments(recorded.meter_provider.get_meter("agentotel")),
                _runtime.current().prices,
                capture=mode,
                content_max_length=max_length,
            )
        )

    yield install
    _runtime.install(previous)


def _search() -> None:
    with agentotel.memory(
        "search_memory", store="conversation", memory_type="short_term"
    ) as mem:
        mem.record_query(CANARY)
        mem.record_memories(
            [{"content": "prefers dark mode", "id": "mem-1", "score": 0.9}, CANARY, {"k": 1}]
        )


# --------------------------------------------------------------------------- spans


@pytest.mark.parametrize("operation", DRAFT_OPERATIONS)
def test_span_per_draft_operation_named_after_it(recorded, operation):
    with agentotel.memory(operation, store="user-prefs", memory_type="long_term"):
        pass
    span = recorded.span(operation)
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {
        "gen_ai.operation.name": operation,
        "gen_ai.memory.store.id": "user-prefs",
        "agentotel.memory.type": "long_term",
    }


def test_every_attribute_of_the_draft(recorded):
    with agentotel.memory(
        "delete_memory",
        store="ms_abc123",
        memory_type="vector",
        record_id="mem_5j66",
        provider="aws.bedrock",
        server_address="bedrock-agentcore.us-east-1.amazonaws.com",
        server_port=443,
    ) as mem:
        mem.record_memories(count=1)
    assert dict(recorded.span("delete_memory").attributes) == {
        "gen_ai.operation.name": "delete_memory",
        "gen_ai.memory.store.id": "ms_abc123",
        "gen_ai.memory.record.id": "mem_5j66",
        "gen_ai.provider.name": "aws.bedrock",
        "server.address": "bedrock-agentcore.us-east-1.amazonaws.com",
        "server.port": 443,
        "agentotel.memory.type": "vector",
        "gen_ai.memory.record.count": 1,
    }


def test_memory_span_is_a_child_of_the_agent(recorded):
    with agentotel.agent("assistant"):
        with agentotel.memory("search_memory", store="conversation"):
            pass
    agent = recorded.span("invoke_agent assistant")
    assert recorded.span("search_memory").parent.span_id == agent.context.span_id


@pytest.mark.parametrize(
    ("word", "operation"),
    [
        ("store", "upsert_memory"),
        ("retrieve", "search_memory"),
        ("search", "search_memory"),
        ("update", "update_memory"),
        ("delete", "delete_memory"),
    ],
)
def test_plain_words_map_to_draft_operations_without_a_warning(recorded, caplog, word, operation):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        with agentotel.memory(word, store="kb"):
            pass
    assert recorded.span(operation).attributes["gen_ai.operation.name"] == operation
    (point,) = recorded.points("agentotel.memory.operations")
    assert point.attributes["gen_ai.operation.name"] == operation
    assert caplog.records == []


def test_another_operation_is_recorded_as_given_with_a_warning(recorded, caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        with agentotel.memory("consolidate_memory", store="kb"):
            pass
    assert recorded.span("consolidate_memory").attributes["gen_ai.operation.name"] == (
        "consolidate_memory"
    )
    (message,) = [r.getMessage() for r in caplog.records]
    assert message == (
        "agentotel: agentotel.memory(operation)='consolidate_memory' is not valid; accepted: "
        "create_memory_store, delete_memory_store, create_memory, update_memory, "
        "upsert_memory, search_memory, delete_memory (or store = upsert_memory, "
        "retrieve = search_memory, search = search_memory, update = update_memory, "
        "delete = delete_memory); recorded as given"
    )


# --------------------------------------------------------------------------- metrics


def test_duration_and_count_by_operation_type_and_outcome(recorded):
    for _ in range(3):
        with agentotel.memory("search_memory", store="conversation", memory_type="short_term"):
            pass
    with agentotel.memory("upsert_memory", store="conversation", memory_type="short_term"):
        pass
    with agentotel.memory("create_memory_store", store="scratch"):
        pass
    search = {
        "gen_ai.operation.name": "search_memory",
        "agentotel.memory.type": "short_term",
        "agentotel.memory.outcome": "success",
    }
    upsert = {**search, "gen_ai.operation.name": "upsert_memory"}
    create = {"gen_ai.operation.name": "create_memory_store", "agentotel.memory.outcome": "success"}
    by_operation = {
        p.attributes["gen_ai.operation.name"]: (p.value, p.unit, p.attributes)
        for p in recorded.points("agentotel.memory.operations")
    }
    assert by_operation == {
        "search_memory": (3, "{operation}", search),
        "upsert_memory": (1, "{operation}", upsert),
        "create_memory_store": (1, "{operation}", create),
    }
    durations = recorded.points("agentotel.memory.operation.duration")
    assert {
        p.attributes["gen_ai.operation.name"]: (p.value, p.unit, p.attributes) for p in durations
    } == {
        "search_memory": (3, "s", search),
        "upsert_memory": (1, "s", upsert),
        "create_memory_store": (1, "s", create),
    }
    assert {p.bounds for p in durations} == {sc.BUCKETS_OPERATION_DURATION}


def test_store_and_record_ids_stay_off_the_metrics(recorded):
    with agentotel.memory("delete_memory", store="user-42-store", record_id="mem-7"):
        pass
    for point in recorded.points():
        assert not {"user-42-store", "mem-7"} & {str(v) for v in point.attributes.values()}


def test_an_exception_is_an_error_outcome_and_propagates(recorded):
    error = TimeoutError("memory service slow")
    with pytest.raises(TimeoutError) as raised:
        with agentotel.memory("upsert_memory", store="prefs", memory_type="long_term"):
            raise error
    assert raised.value is error
    span = recorded.span("upsert_memory")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "memory service slow"
    assert span.attributes["error.type"] == "TimeoutError"
    expected = {
        "gen_ai.operation.name": "upsert_memory",
        "agentotel.memory.type": "long_term",
        "agentotel.memory.outcome": "error",
        "error.type": "TimeoutError",
    }
    (count,) = recorded.points("agentotel.memory.operations")
    assert (count.value, count.attributes) == (1, expected)
    (duration,) = recorded.points("agentotel.memory.operation.duration")
    assert (duration.value, duration.attributes) == (1, expected)


def test_fail_without_exception_is_an_error_outcome(recorded):
    with agentotel.memory("search_memory", store="kb") as mem:
        mem.fail("store_unavailable")
    (point,) = recorded.points("agentotel.memory.operations")
    assert point.attributes == {
        "gen_ai.operation.name": "search_memory",
        "agentotel.memory.outcome": "error",
        "error.type": "store_unavailable",
    }


# --------------------------------------------------------------------------- content


def test_no_content_records_the_count_and_no_content(recorded, capture):
    capture("NO_CONTENT")
    _search()
    attributes = recorded.span("search_memory").attributes
    assert attributes["gen_ai.memory.record.count"] == 3
    assert not CONTENT_KEYS & set(attributes)
    assert CANARY not in json.dumps(dict(attributes))


def test_event_only_puts_no_content_on_the_span(recorded, capture):
    capture("EVENT_ONLY")  # the draft defines no memory event
    _search()
    attributes = recorded.span("search_memory").attributes
    assert not CONTENT_KEYS & set(attributes)
    assert attributes["gen_ai.memory.record.count"] == 3


@pytest.mark.parametrize("mode", ["SPAN_ONLY", "SPAN_AND_EVENT"])
def test_span_capture_records_query_and_records(recorded, capture, mode):
    capture(mode)
    _search()
    attributes = recorded.span("search_memory").attributes
    assert attributes["gen_ai.memory.query.text"] == CANARY
    assert json.loads(attributes["gen_ai.memory.records"]) == [
        {"content": "prefers dark mode", "id": "mem-1", "score": 0.9},
        {"content": CANARY},
        {"k": 1},
    ]


def test_an_explicit_count_wins_over_the_records(recorded):
    with agentotel.memory("delete_memory", store="kb") as mem:
        mem.record_memories(["a"], count=12)
    assert recorded.span("delete_memory").attributes["gen_ai.memory.record.count"] == 12


def test_bad_records_and_count_warn_and_are_left_out(recorded, caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        with agentotel.memory("search_memory", store="kb") as mem:
            mem.record_memories(7, count=-1)
    assert "gen_ai.memory.record.count" not in recorded.span("search_memory").attributes
    assert [r.getMessage() for r in caplog.records] == [
        "agentotel: agentotel.memory.record_memories(records)=7 is not valid; accepted: an "
        "iterable of memory records (mappings, or any value as the content); not recorded",
        "agentotel: agentotel.memory.record_memories(count)=-1 is not valid; accepted: an "
        "int >= 0; not recorded",
    ]


# --------------------------------------------------------------------------- decorator


def test_decorator_on_the_four_kinds_of_functions(recorded):
    remember = agentotel.memory("search_memory", store="kb", memory_type="vector")

    @remember
    def find(query):
        return [query]

    @remember
    async def afind(query):
        return [query]

    @remember
    def stream(query):
        yield query

    @remember
    async def astream(query):
        yield query

    async def drain():
        return [item async for item in astream("d")]

    assert find("a") == ["a"]
    assert asyncio.run(afind("b")) == ["b"]
    assert list(stream("c")) == ["c"]
    assert asyncio.run(drain()) == ["d"]
    assert [s.name for s in recorded.spans()] == ["search_memory"] * 4
    (point,) = recorded.points("agentotel.memory.operations")
    assert point.value == 4


def test_a_bare_decorator_warns_and_leaves_the_function_alone(recorded, caplog):
    def search_notes(query):
        return [query]

    with caplog.at_level(logging.WARNING, logger="agentotel"):
        decorated = agentotel.memory(search_notes)  # type: ignore[arg-type]
    assert decorated is search_notes
    assert decorated("x") == ["x"]
    assert recorded.spans() == []
    (message,) = [r.getMessage() for r in caplog.records]
    assert message.startswith("agentotel: agentotel.memory(operation)=<function ")
    assert message.endswith("; the function is returned undecorated")


# --------------------------------------------------------------------------- memory size


def test_memory_size_gauges_read_the_callbacks(recorded):
    buffer = ["hi", "hello"]
    agentotel.memory_size("conversation", lambda: len(buffer), memory_type="short_term")
    agentotel.memory_size("vectors", lambda: 4096, memory_type="vector", unit="By")
    (records,) = recorded.points("agentotel.memory.record.count")
    assert (records.value, records.unit, records.attributes) == (
        2,
        "{record}",
        {"gen_ai.memory.store.id": "conversation", "agentotel.memory.type": "short_term"},
    )
    (size,) = recorded.points("agentotel.memory.size")
    assert (size.value, size.unit, size.attributes) == (
        4096,
        "By",
        {"gen_ai.memory.store.id": "vectors", "agentotel.memory.type": "vector"},
    )
    buffer.append("bye")  # read again at the next collection
    (records,) = recorded.points("agentotel.memory.record.count")
    assert records.value == 3


def test_no_gauge_points_without_a_registration(recorded):
    with agentotel.memory("search_memory"):
        pass
    assert recorded.points("agentotel.memory.record.count") == []
    assert recorded.points("agentotel.memory.size") == []


def test_registering_again_replaces_and_unregister_stops(recorded):
    first = agentotel.memory_size("kb", lambda: 1)
    second = agentotel.memory_size("kb", lambda: 2)
    other = agentotel.memory_size("kb", lambda: 3, memory_type="long_term")
    values = sorted(p.value for p in recorded.points("agentotel.memory.record.count"))
    assert values == [2, 3]
    first.unregister()  # replaced already: nothing to stop
    other.unregister()
    other.unregister()  # idempotent
    assert [p.value for p in recorded.points("agentotel.memory.record.count")] == [2]
    assert (first.registered, second.registered, other.registered) == (False, True, False)


def test_a_size_registered_before_the_providers_is_reported_on_them():
    agentotel.memory_size("kb", lambda: 5)
    later = Recorded()  # as init() would install them, after the registration
    later.runtime()
    try:
        (point,) = later.points("agentotel.memory.record.count")
        assert point.value == 5
    finally:
        later.meter_provider.shutdown()


def test_a_raising_callback_is_skipped_and_logged_once(recorded, caplog):
    calls = []

    def broken() -> int:
        calls.append(1)
        raise RuntimeError("store offline")

    agentotel.memory_size("kb", broken)
    agentotel.memory_size("ok", lambda: 1)
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        first = recorded.points("agentotel.memory.record.count")
        second = recorded.points("agentotel.memory.record.count")
    assert [p.attributes for p in first] == [{"gen_ai.memory.store.id": "ok"}]
    assert [p.attributes for p in second] == [{"gen_ai.memory.store.id": "ok"}]
    assert len(calls) == 2  # still read at every collection
    (record,) = caplog.records
    assert record.getMessage() == (
        "agentotel failed to read agentotel.memory.record.count "
        "{'gen_ai.memory.store.id': 'kb'}: the callback raised; its value is left out "
        "(logged once)"
    )
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


@pytest.mark.parametrize("value", ["many", None, -1, float("nan"), True, 2**70])
def test_a_callback_returning_no_size_is_skipped_and_logged_once(recorded, caplog, value):
    agentotel.memory_size("kb", lambda: value)
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        assert recorded.points("agentotel.memory.record.count") == []
        assert recorded.points("agentotel.memory.record.count") == []
    (message,) = [r.getMessage() for r in caplog.records]
    assert message.startswith(
        "agentotel: agentotel.memory.record.count {'gen_ai.memory.store.id': 'kb'}: "
        "the callback returned "
    )
    assert message.endswith(", not a number >= 0; left out (logged once)")


def test_invalid_unit_or_callback_registers_nothing(recorded, caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        bad_unit = agentotel.memory_size("kb", lambda: 1, unit="items")
        bad_callback = agentotel.memory_size("kb", 3)  # type: ignore[arg-type]
    assert (bad_unit.registered, bad_callback.registered) == (False, False)
    bad_unit.unregister()
    assert recorded.points("agentotel.memory.record.count") == []
    assert [r.getMessage() for r in caplog.records] == [
        "agentotel: agentotel.memory_size(unit)='items' is not valid; accepted: record, By; "
        "not registered",
        "agentotel: agentotel.memory_size(callback)=3 is not valid; accepted: a function "
        "returning the size; not registered",
    ]

"""agentotel.retrieval(): exact span names, kinds, attributes, metric points and content.

Expected values follow the GenAI retrieval span (semantic-conventions-genai, "Retrievals")
as ``opentelemetry-util-genai`` 1.3b0 emits it; ``test_conformance`` runs the same
retrieval through the helper and compares.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Sampler
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.util.genai.handler import TelemetryHandler
from opentelemetry.util.genai.types import RetrievalDocument

import agentotel
from agentotel import _runtime
from agentotel import semconv as sc
from agentotel._instruments import Instruments
from agentotel._runtime import Runtime

CANARY = "CANARY-retrieval-do-not-export"
CONTENT_KEYS = {"gen_ai.retrieval.query.text", "gen_ai.retrieval.documents"}


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


def _search(**kwargs) -> None:
    with agentotel.retrieval(
        "kb-support",
        provider="openai",
        request_model="text-embedding-3-small",
        server_address="api.openai.com",
        server_port=443,
        top_k=5,
        **kwargs,
    ) as lookup:
        lookup.record_query(CANARY)
        lookup.record_documents([{"id": "doc-1", "score": 0.91}, {"id": "doc-2", "score": 0.74}])


# --------------------------------------------------------------------------- span


def test_span_name_kind_and_attributes(recorded):
    _search()
    span = recorded.span("retrieval kb-support")
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "retrieval",
        "gen_ai.data_source.id": "kb-support",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "text-embedding-3-small",
        "server.address": "api.openai.com",
        "server.port": 443,
        "gen_ai.retrieval.top_k": 5,
        "agentotel.retrieval.document.count": 2,
    }


def test_without_a_data_source_the_span_is_named_retrieval(recorded):
    with agentotel.retrieval():
        pass
    span = recorded.span("retrieval")
    assert dict(span.attributes) == {"gen_ai.operation.name": "retrieval"}


class _RecordingSampler(Sampler):
    def __init__(self):
        self.seen = {}

    def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None,
                      links=None, trace_state=None):
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
    current = _runtime.current()
    _runtime.install(Runtime(provider.get_tracer("t"), current.instruments, current.prices))
    try:
        _search()
    finally:
        _runtime.install(previous)
    assert sampler.seen["retrieval kb-support"] == {
        "gen_ai.operation.name": "retrieval",
        "gen_ai.data_source.id": "kb-support",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "text-embedding-3-small",
        "server.address": "api.openai.com",
        "server.port": 443,
        "gen_ai.retrieval.top_k": 5,
    }


def test_retrieval_is_a_child_of_the_agent(recorded):
    with agentotel.agent("researcher"):
        with agentotel.retrieval("kb"):
            pass
    agent = recorded.span("invoke_agent researcher")
    assert recorded.span("retrieval kb").parent.span_id == agent.context.span_id


# --------------------------------------------------------------------------- metrics


def test_operation_duration_is_the_only_metric_and_has_no_data_source(recorded):
    _search()
    (point,) = recorded.points("gen_ai.client.operation.duration")
    assert point.unit == "s"
    assert point.value == 1
    assert point.bounds == sc.BUCKETS_OPERATION_DURATION
    assert point.attributes == {
        "gen_ai.operation.name": "retrieval",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "text-embedding-3-small",
        "server.address": "api.openai.com",
        "server.port": 443,
    }
    assert {p.metric for p in recorded.points()} == {"gen_ai.client.operation.duration"}


def test_three_retrievals_count_three(recorded):
    for _ in range(3):
        with agentotel.retrieval("kb", provider="chroma"):
            pass
    (point,) = recorded.points("gen_ai.client.operation.duration")
    assert (point.value, point.attributes) == (
        3,
        {"gen_ai.operation.name": "retrieval", "gen_ai.provider.name": "chroma"},
    )


# --------------------------------------------------------------------------- errors


def test_exception_marks_span_and_metric_and_propagates(recorded):
    error = ConnectionError("vector store down")
    with pytest.raises(ConnectionError) as raised:
        with agentotel.retrieval("kb", provider="pinecone"):
            raise error
    assert raised.value is error
    span = recorded.span("retrieval kb")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "vector store down"
    assert span.attributes["error.type"] == "ConnectionError"
    (point,) = recorded.points("gen_ai.client.operation.duration")
    assert point.attributes == {
        "gen_ai.operation.name": "retrieval",
        "gen_ai.provider.name": "pinecone",
        "error.type": "ConnectionError",
    }


def test_fail_without_exception(recorded):
    with agentotel.retrieval("kb") as lookup:
        lookup.fail("index_not_found")
    assert recorded.span("retrieval kb").attributes["error.type"] == "index_not_found"
    (point,) = recorded.points("gen_ai.client.operation.duration")
    assert point.attributes["error.type"] == "index_not_found"


# --------------------------------------------------------------------------- content


def test_no_content_records_the_count_and_no_content(recorded, capture):
    capture("NO_CONTENT")
    _search()
    attributes = recorded.span("retrieval kb-support").attributes
    assert attributes["agentotel.retrieval.document.count"] == 2
    assert not CONTENT_KEYS & set(attributes)
    assert CANARY not in json.dumps(dict(attributes))


def test_event_only_puts_no_content_on_the_span(recorded, capture):
    capture("EVENT_ONLY")  # the conventions define no retrieval event
    _search()
    attributes = recorded.span("retrieval kb-support").attributes
    assert not CONTENT_KEYS & set(attributes)
    assert attributes["agentotel.retrieval.document.count"] == 2


@pytest.mark.parametrize("mode", ["SPAN_ONLY", "SPAN_AND_EVENT"])
def test_span_capture_records_query_and_documents(recorded, capture, mode):
    capture(mode)
    _search()
    attributes = recorded.span("retrieval kb-support").attributes
    assert attributes["gen_ai.retrieval.query.text"] == CANARY
    assert json.loads(attributes["gen_ai.retrieval.documents"]) == [
        {"id": "doc-1", "score": 0.91},
        {"id": "doc-2", "score": 0.74},
    ]


def test_documents_of_every_accepted_shape(recorded, capture):
    capture("SPAN_ONLY")

    class Hit:  # a vector store's result object: id and score, and text never taken
        def __init__(self, id, score):
            self.id, self.score, self.page_content = id, score, CANARY

    class Page:  # LangChain's Document shape: an id, no score
        id = "page-9"
        page_content = CANARY

    with agentotel.retrieval("kb") as lookup:
        lookup.record_documents(
            [
                {"id": "a", "score": 0.5, "source": "faq.md"},
                "b",
                (Page(), 0.25),
                Hit("c", 0.125),
                RetrievalDocument(id="d", score=0.0625),
                object(),
            ]
        )
    attributes = recorded.span("retrieval kb").attributes
    assert attributes["agentotel.retrieval.document.count"] == 6
    assert json.loads(attributes["gen_ai.retrieval.documents"]) == [
        {"id": "a", "score": 0.5, "source": "faq.md"},
        {"id": "b"},
        {"id": "page-9", "score": 0.25},
        {"id": "c", "score": 0.125},
        {"id": "d", "score": 0.0625},
        {},
    ]
    assert CANARY not in attributes["gen_ai.retrieval.documents"]


def test_query_is_truncated_to_the_content_length(recorded, capture):
    capture("SPAN_ONLY", max_length=64)
    with agentotel.retrieval("kb") as lookup:
        lookup.record_query("q" * 500)
    assert recorded.span("retrieval kb").attributes["gen_ai.retrieval.query.text"] == (
        "q" * 40 + "...[truncated 460 chars]"
    )


def test_documents_that_are_not_iterable_warn_and_record_nothing(recorded, caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        with agentotel.retrieval("kb") as lookup:
            lookup.record_documents(42)
    assert "agentotel.retrieval.document.count" not in recorded.span("retrieval kb").attributes
    (message,) = [r.getMessage() for r in caplog.records]
    assert message == (
        "agentotel: agentotel.retrieval.record_documents(documents)=42 is not valid; accepted: "
        "an iterable of documents (mappings, ids, (document, score) pairs, objects); "
        "not recorded"
    )


def test_wrong_argument_types_warn_and_are_left_out(recorded, caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        with agentotel.retrieval("kb", server_port=70000, top_k=-1):
            pass
    assert dict(recorded.span("retrieval kb").attributes) == {
        "gen_ai.operation.name": "retrieval",
        "gen_ai.data_source.id": "kb",
    }
    assert [r.getMessage() for r in caplog.records] == [
        "agentotel: agentotel.retrieval(server_port)=70000 is not valid; accepted: an int "
        "from 0 to 65535; not recorded",
        "agentotel: agentotel.retrieval(top_k)=-1 is not valid; accepted: an int >= 0; "
        "not recorded",
    ]


# --------------------------------------------------------------------------- decorator


def test_decorator_on_the_four_kinds_of_functions(recorded):
    @agentotel.retrieval("kb")
    def search(query):
        return [query]

    @agentotel.retrieval("kb")
    async def asearch(query):
        return [query]

    @agentotel.retrieval("kb")
    def stream(query):
        yield query

    @agentotel.retrieval("kb")
    async def astream(query):
        yield query

    async def drain():
        return [item async for item in astream("d")]

    assert search("a") == ["a"]
    assert asyncio.run(asearch("b")) == ["b"]
    assert list(stream("c")) == ["c"]
    assert asyncio.run(drain()) == ["d"]
    assert [s.name for s in recorded.spans()] == ["retrieval kb"] * 4
    (point,) = recorded.points("gen_ai.client.operation.duration")
    assert point.value == 4


def test_bare_decorator_names_no_data_source(recorded):
    @agentotel.retrieval
    def search_notes(query):
        return []

    assert search_notes("x") == []
    span = recorded.span("retrieval")
    assert "gen_ai.data_source.id" not in span.attributes


# --------------------------------------------------------------------------- nesting contract


@pytest.fixture
def helper(recorded, monkeypatch) -> TelemetryHandler:
    """util-genai's handler on the same providers, as an instrumented retriever uses it."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    return TelemetryHandler(
        tracer_provider=recorded.tracer_provider, meter_provider=recorded.meter_provider
    )


def test_an_instrumented_retriever_inside_adds_its_facts_to_agentotels_span(
    recorded, capture, helper
):
    capture("SPAN_ONLY")
    with agentotel.retrieval("kb-support", provider="openai") as lookup:
        with helper.retrieval(
            data_source_id="inner-id", provider="chroma", server_address="db.local",
            server_port=8000,
        ) as inner:  # what LangChain's or Bedrock's instrumentation does
            inner.top_k = 4
            inner.query_text = "what the retriever saw"
            inner.documents = [RetrievalDocument(id="x", score=0.5)]
            inner.attributes["db.collection.name"] = "faq"
    assert lookup is not None
    (span,) = recorded.spans()  # one span for the one retrieval
    assert span.name == "retrieval kb-support"
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "retrieval",
        "gen_ai.data_source.id": "kb-support",  # the outer's own values win
        "gen_ai.provider.name": "openai",
        "server.address": "db.local",  # what only the inner knew is added
        "server.port": 8000,
        "gen_ai.retrieval.top_k": 4,
        "db.collection.name": "faq",
        "agentotel.retrieval.document.count": 1,
        "gen_ai.retrieval.query.text": "what the retriever saw",
        "gen_ai.retrieval.documents": '[{"id": "x", "score": 0.5}]',
    }
    (point,) = recorded.points("gen_ai.client.operation.duration")
    assert point.value == 1
    assert point.attributes == {
        "gen_ai.operation.name": "retrieval",
        "gen_ai.provider.name": "openai",
        "server.address": "db.local",
        "server.port": 8000,
    }


def test_inner_content_stays_out_when_agentotel_captures_none(recorded, helper):
    with agentotel.retrieval("kb"):
        with helper.retrieval(provider="chroma") as inner:
            inner.query_text = CANARY
            inner.documents = [RetrievalDocument(id=CANARY, score=0.5)]
    (span,) = recorded.spans()
    assert not CONTENT_KEYS & set(span.attributes)
    assert CANARY not in json.dumps(dict(span.attributes))
    assert span.attributes["gen_ai.provider.name"] == "chroma"


def test_agentotel_inside_an_instrumented_retrieval_publishes_to_it(recorded, capture, helper):
    capture("SPAN_ONLY")
    with helper.retrieval(provider="aws.bedrock") as outer:
        with agentotel.retrieval("kb-7", request_model="titan-embed", top_k=3) as lookup:
            lookup.record_query("refund policy")
            lookup.record_documents(["doc-1"])
    assert outer is not None
    (span,) = recorded.spans()
    assert span.name == "retrieval"  # the helper's span, named when it started
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "retrieval",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.data_source.id": "kb-7",
        "gen_ai.request.model": "titan-embed",
        "gen_ai.retrieval.top_k": 3,
    }  # no content: the helper's RetrievalData does not ask inner retrievals for it
    (point,) = recorded.points("gen_ai.client.operation.duration")  # the helper's, once
    assert point.value == 1


def test_agentotel_inside_agentotel_makes_one_span(recorded):
    with agentotel.retrieval("outer-kb"):
        with agentotel.retrieval("inner-kb", provider="qdrant"):
            pass
    (span,) = recorded.spans()
    assert span.name == "retrieval outer-kb"
    assert span.attributes["gen_ai.provider.name"] == "qdrant"
    (point,) = recorded.points("gen_ai.client.operation.duration")
    assert point.value == 1

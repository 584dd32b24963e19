"""Embeddings: ``agentotel.llm(model, provider=..., operation="embeddings")``.

The span and metrics util-genai's ``EmbeddingInvocation`` records (``embeddings {model}``,
CLIENT; ``gen_ai.embeddings.dimension.count``; input tokens only; no conversation id),
on their own and around an instrumented OpenAI embeddings call (util-genai's embeddings
contract: one span, one duration point, one input-token point, one cost).
"""

from __future__ import annotations

import logging

import integration_app as app
import pytest
from llm_server import LLMServer, TokenUsage, count_words
from opentelemetry.trace import SpanKind, StatusCode
from test_integrations import EMBEDDINGS, Request, check_requests, instrumented, openai_client

import agentotel
from agentotel import semconv as sc

MODEL = "text-embedding-3-small"
SPAN = f"embeddings {MODEL}"
START_ATTRIBUTES = {
    "gen_ai.operation.name": "embeddings",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": MODEL,
    "server.address": "api.openai.com",
    "server.port": 443,
}


def embed(**response: object) -> None:
    with agentotel.llm(
        MODEL,
        provider="openai",
        operation="embeddings",
        server_address="api.openai.com",
        server_port=443,
        encoding_formats=["float"],
    ) as call:
        call.record_response(**response)  # type: ignore[arg-type]


def test_embeddings_span_attributes(recorded):
    with agentotel.workflow("index", conversation_id="conv-1"):
        embed(response_model=MODEL, input_tokens=12, dimension_count=1536)
    span = recorded.span(SPAN)
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {
        **START_ATTRIBUTES,  # no gen_ai.conversation.id, as util-genai
        "gen_ai.request.encoding_formats": ("float",),
        "gen_ai.response.model": MODEL,
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.embeddings.dimension.count": 1536,
        "agentotel.llm.cost_usd": pytest.approx(12 * 0.02e-6),
    }


def test_embeddings_record_duration_and_input_tokens_only(recorded):
    embed(response_model=MODEL, input_tokens=12, dimension_count=1536)
    metric_attributes = {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": MODEL,
        "gen_ai.response.model": MODEL,
        "server.address": "api.openai.com",
        "server.port": 443,
    }
    (duration,) = recorded.points("gen_ai.client.operation.duration")
    assert (duration.attributes, duration.value, duration.unit) == (metric_attributes, 1, "s")
    (tokens,) = recorded.points("gen_ai.client.token.usage")
    assert tokens.attributes == {**metric_attributes, "gen_ai.token.type": "input"}
    assert (tokens.value, tokens.sum) == (1, 12)
    (cost,) = recorded.points("agentotel.llm.cost")
    assert cost.value == pytest.approx(12 * 0.02e-6)


def test_output_tokens_on_embeddings_are_left_out_with_a_warning(recorded, caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        embed(input_tokens=12, output_tokens=3)
    attributes = recorded.span(SPAN).attributes or {}
    assert "gen_ai.usage.output_tokens" not in attributes
    assert [p.attributes["gen_ai.token.type"] for p in recorded.points(sc.METRIC_TOKEN_USAGE)] == [
        "input"
    ]
    assert [r.getMessage() for r in caplog.records] == [
        "agentotel: agentotel.llm.record_response(output_tokens)=3 is not valid; accepted: "
        "None on an embeddings call (embeddings report input tokens only); not recorded"
    ]


def test_dimension_count_on_a_chat_call_is_left_out_with_a_warning(recorded, caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        with agentotel.llm("gpt-4o-mini", provider="openai") as call:
            call.record_response(dimension_count=1536, input_tokens=1)
    assert "gen_ai.embeddings.dimension.count" not in (
        recorded.span("chat gpt-4o-mini").attributes or {}
    )
    assert [r.getMessage() for r in caplog.records] == [
        "agentotel: agentotel.llm.record_response(dimension_count)=1536 is not valid; "
        "accepted: a count on an embeddings call (operation='embeddings'); not recorded"
    ]


def test_wrong_dimension_count_type_is_left_out(recorded, caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        embed(dimension_count="1536")
    assert "gen_ai.embeddings.dimension.count" not in (recorded.span(SPAN).attributes or {})
    assert len(caplog.records) == 1


def test_llm_embeddings_around_an_instrumented_openai_call_is_one_span(llm_server: LLMServer):
    with instrumented(["openai", "httpx2"]) as stack:
        with agentotel.llm(app.EMBEDDING_MODEL, provider="openai", operation="embeddings"):
            openai_client(llm_server).embeddings.create(
                model=app.EMBEDDING_MODEL, input=app.EMBEDDING_INPUTS, dimensions=256
            )
        telemetry = stack.telemetry()
    assert telemetry.tree() == [
        f"embeddings {app.EMBEDDING_MODEL} [CLIENT]",
        "  POST [CLIENT] /v1/embeddings",
    ]
    usage = TokenUsage(sum(count_words(t) for t in app.EMBEDDING_INPUTS), 0)
    request = Request(app.EMBEDDING_MODEL, usage, operation=EMBEDDINGS, path="/v1/embeddings")
    check_requests(telemetry, [request])  # one span, duration point, input point, cost
    (span,) = telemetry.inference()
    assert span.scope == sc.INSTRUMENTATION_SCOPE  # agentotel's; the instrumentation made none
    assert span.attributes[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 256
    assert span.attributes[sc.SERVER_PORT] == llm_server.port
    assert {p.scope for p in telemetry.metric(sc.METRIC_OPERATION_DURATION)} == {
        sc.INSTRUMENTATION_SCOPE
    }

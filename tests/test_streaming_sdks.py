"""SDK streams inside ``call.stream(...)``, with the official instrumentations on.

The real OpenAI and Anthropic SDKs stream from the local model API server
(``llm_server.py``, ``chunk_delay_s`` spacing the events); the instrumentations
``init()`` enables run in process on test providers (``test_integrations.instrumented``).
The SDK call made inside the LLM call is suppressed by util-genai's nesting contract and,
when its stream finishes, publishes what it read — the usage of OpenAI's
``include_usage`` last chunk, of Anthropic's ``message_delta`` event — to agentotel's
span: one span, one duration point, one pair of token points, one cost. agentotel times
the chunks; it parses none of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import anthropic
import integration_app as app
import openai
import pytest
from llm_server import LLMServer, expected_usage, reply_text, serve
from test_integrations import (
    DURATION,
    SCOPE_OPENAI,
    TOKENS,
    Request,
    Telemetry,
    anthropic_client,
    check_requests,
    instrumented,
    openai_client,
)

import agentotel
from agentotel import semconv as sc

TTFC = sc.METRIC_TIME_TO_FIRST_CHUNK
PER_CHUNK = sc.METRIC_TIME_PER_OUTPUT_CHUNK
ANSWER_DELAY_S = 0.05  # before the server starts answering
CHUNK_DELAY_S = 0.005  # between the events of a stream
OPENAI_USAGE = expected_usage(app.PROMPT, reply_text(app.PROMPT))
ANTHROPIC_USAGE = expected_usage(app.ANTHROPIC_PROMPT, reply_text(app.ANTHROPIC_PROMPT))


@pytest.fixture
def server() -> Iterator[LLMServer]:
    """The model API server answering late, its stream events spaced."""
    with serve(delay_s=ANSWER_DELAY_S, chunk_delay_s=CHUNK_DELAY_S) as running:
        yield running


def openai_request(include_usage: bool = True) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": app.OPENAI_MODEL,
        "messages": [{"role": "user", "content": app.PROMPT}],
        "stream": True,
    }
    if include_usage:
        request["stream_options"] = {"include_usage": True}
    return request


def anthropic_request() -> dict[str, Any]:
    return {
        "model": app.ANTHROPIC_MODEL,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": app.ANTHROPIC_PROMPT}],
    }


def check_streamed(telemetry: Telemetry, chunks: int) -> None:
    """The one span's stream attributes and one chunk-metric record per chunk."""
    (span,) = telemetry.inference()
    assert span.scope == sc.INSTRUMENTATION_SCOPE  # agentotel's; the instrumentation made none
    assert span.attributes[sc.GEN_AI_REQUEST_STREAM] is True
    ttfc = span.attributes[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    (duration,) = telemetry.metric(DURATION)
    # the request is made inside the call, and answered ANSWER_DELAY_S late
    assert ANSWER_DELAY_S <= ttfc <= duration.total
    (first,) = telemetry.metric(TTFC)
    assert (first.count, first.total, first.scope) == (1, ttfc, sc.INSTRUMENTATION_SCOPE)
    assert telemetry.count(PER_CHUNK) == chunks - 1
    assert 0.0 < telemetry.total(PER_CHUNK) <= duration.total - ttfc
    assert {p.scope for p in telemetry.metric(DURATION)} == {sc.INSTRUMENTATION_SCOPE}


# --------------------------------------------------------------------------- OpenAI


def test_openai_include_usage_stream_inside_call_stream(server: LLMServer) -> None:
    with instrumented(["openai", "httpx2"]) as stack:
        with agentotel.llm(app.OPENAI_MODEL, provider="openai") as call:
            sdk_stream = openai_client(server).chat.completions.create(**openai_request())
            chunks = list(call.stream(sdk_stream))
        telemetry = stack.telemetry()
    assert all(isinstance(c, openai.types.chat.ChatCompletionChunk) for c in chunks)
    assert chunks[-1].usage is not None and chunks[-1].choices == []  # the usage chunk
    assert telemetry.tree() == [
        f"chat {app.OPENAI_MODEL} [CLIENT]",
        "  POST [CLIENT] /v1/chat/completions",
    ]
    check_requests(telemetry, [Request(app.OPENAI_MODEL, OPENAI_USAGE, chunks[0].id)])
    check_streamed(telemetry, len(chunks))
    (span,) = telemetry.inference()
    assert span.attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_openai_async_stream_inside_call_stream(server: LLMServer) -> None:
    async def main() -> list[Any]:
        client = openai.AsyncOpenAI(
            base_url=server.openai_base_url, api_key=app.API_KEY, max_retries=0
        )
        with agentotel.llm(app.OPENAI_MODEL, provider="openai") as call:
            sdk_stream = await client.chat.completions.create(**openai_request())
            return [chunk async for chunk in call.stream(sdk_stream)]

    with instrumented(["openai", "httpx2"]) as stack:
        chunks = asyncio.run(main())
        telemetry = stack.telemetry()
    check_requests(telemetry, [Request(app.OPENAI_MODEL, OPENAI_USAGE, chunks[0].id)])
    check_streamed(telemetry, len(chunks))


def test_openai_stream_without_usage_records_no_tokens_no_cost_no_error(
    server: LLMServer,
) -> None:
    with instrumented(["openai", "httpx2"]) as stack:
        with agentotel.llm(app.OPENAI_MODEL, provider="openai") as call:
            sdk_stream = openai_client(server).chat.completions.create(
                **openai_request(include_usage=False)
            )
            chunks = list(call.stream(sdk_stream))
        telemetry = stack.telemetry()
    (span,) = telemetry.inference()
    assert span.status == "UNSET"
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes
    assert sc.LLM_COST_USD not in span.attributes
    assert span.attributes[sc.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert telemetry.count(DURATION) == 1
    assert telemetry.metric(TOKENS) == []
    assert telemetry.metric(sc.METRIC_LLM_COST) == []
    check_streamed(telemetry, len(chunks))


def test_openai_stream_closed_early_publishes_what_it_read_once(server: LLMServer) -> None:
    with instrumented(["openai", "httpx2"]) as stack:
        with agentotel.llm(app.OPENAI_MODEL, provider="openai") as call:
            stream = call.stream(openai_client(server).chat.completions.create(**openai_request()))
            first = next(stream)
            stream.close()  # closes the SDK stream (its HTTP response) too
        telemetry = stack.telemetry()
    (span,) = telemetry.inference()
    assert span.status == "UNSET"
    assert span.attributes[sc.GEN_AI_RESPONSE_ID] == first.id  # the instrumentation's read
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes  # the usage chunk never came
    assert telemetry.count(DURATION) == 1
    assert telemetry.count(TTFC) == 1
    assert telemetry.count(PER_CHUNK) == 0


def test_record_response_mid_stream_and_the_sdks_usage_together(server: LLMServer) -> None:
    with instrumented(["openai", "httpx2"]) as stack:
        with agentotel.llm(app.OPENAI_MODEL, provider="openai") as call:
            sdk_stream = openai_client(server).chat.completions.create(**openai_request())
            ids = []
            for chunk in call.stream(sdk_stream):
                if not ids:
                    call.record_response(response_model=chunk.model)
                ids.append(chunk.id)
        telemetry = stack.telemetry()
    check_requests(telemetry, [Request(app.OPENAI_MODEL, OPENAI_USAGE, ids[0])])
    # the chunk points after record_response carry the response model
    models = {p.attributes.get(sc.GEN_AI_RESPONSE_MODEL) for p in telemetry.metric(PER_CHUNK)}
    assert models == {"gpt-4o-mini-2024-07-18"}


def test_lazy_request_without_a_with_block_joins_the_call(server: LLMServer) -> None:
    def answer() -> Iterator[Any]:  # the request is made when the stream is first read
        yield from openai_client(server).chat.completions.create(**openai_request())

    with instrumented(["openai", "httpx2"]) as stack:
        chunks = list(agentotel.llm(app.OPENAI_MODEL, provider="openai").stream(answer()))
        telemetry = stack.telemetry()
    check_requests(telemetry, [Request(app.OPENAI_MODEL, OPENAI_USAGE, chunks[0].id)])
    check_streamed(telemetry, len(chunks))


def test_sdk_stream_opened_before_the_call_started_is_a_request_of_its_own(
    server: LLMServer,
) -> None:
    with instrumented(["openai", "httpx2"]) as stack:
        sdk_stream = openai_client(server).chat.completions.create(**openai_request())
        chunks = list(agentotel.llm(app.OPENAI_MODEL, provider="openai").stream(sdk_stream))
        telemetry = stack.telemetry()
    own, sdk = sorted(telemetry.inference(), key=lambda s: s.scope)
    assert (own.scope, sdk.scope) == (sc.INSTRUMENTATION_SCOPE, SCOPE_OPENAI)
    assert sc.GEN_AI_USAGE_INPUT_TOKENS in sdk.attributes
    assert sc.GEN_AI_USAGE_INPUT_TOKENS not in own.attributes
    assert own.attributes[sc.GEN_AI_REQUEST_STREAM] is True
    assert len(chunks) > 1


# --------------------------------------------------------------------------- Anthropic


def test_anthropic_raw_event_stream_inside_call_stream(server: LLMServer) -> None:
    with instrumented(["anthropic", "httpx2"]) as stack:
        with agentotel.llm(app.ANTHROPIC_MODEL, provider="anthropic") as call:
            events = list(
                call.stream(
                    anthropic_client(server).messages.create(**anthropic_request(), stream=True)
                )
            )
        telemetry = stack.telemetry()
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and "message_delta" in kinds and kinds[-1] == "message_stop"
    message_id = events[0].message.id
    request = Request(app.ANTHROPIC_MODEL, ANTHROPIC_USAGE, message_id, path="/v1/messages")
    check_requests(telemetry, [request])
    check_streamed(telemetry, len(events))


def test_anthropic_message_stream_inside_call_stream(server: LLMServer) -> None:
    with instrumented(["anthropic", "httpx2"]) as stack:
        with agentotel.llm(app.ANTHROPIC_MODEL, provider="anthropic") as call:
            with anthropic_client(server).messages.stream(**anthropic_request()) as sdk_stream:
                events = list(call.stream(sdk_stream))
                message_id = sdk_stream.get_final_message().id
        telemetry = stack.telemetry()
    request = Request(app.ANTHROPIC_MODEL, ANTHROPIC_USAGE, message_id, path="/v1/messages")
    check_requests(telemetry, [request])
    check_streamed(telemetry, len(events))


def test_anthropic_async_raw_event_stream_inside_call_stream(server: LLMServer) -> None:
    async def main() -> list[Any]:
        client = anthropic.AsyncAnthropic(
            base_url=server.anthropic_base_url, api_key=app.API_KEY, max_retries=0
        )
        with agentotel.llm(app.ANTHROPIC_MODEL, provider="anthropic") as call:
            sdk_stream = await client.messages.create(**anthropic_request(), stream=True)
            return [event async for event in call.stream(sdk_stream)]

    with instrumented(["anthropic", "httpx2"]) as stack:
        events = asyncio.run(main())
        telemetry = stack.telemetry()
    request = Request(
        app.ANTHROPIC_MODEL, ANTHROPIC_USAGE, events[0].message.id, path="/v1/messages"
    )
    check_requests(telemetry, [request])
    check_streamed(telemetry, len(events))

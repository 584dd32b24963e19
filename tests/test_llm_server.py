"""The local model API server (``llm_server.py``) speaks the providers' wire formats.

Proved by driving the real SDKs and frameworks at it (openai, anthropic, langchain-openai,
langgraph, openai-agents, pydantic-ai), sync and async, streaming and not, and by
validating its raw JSON and SSE payloads against the SDKs' own pydantic types (which,
unlike the SDKs' lenient parsing, reject a missing required field). No agentotel here.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anthropic
import httpx
import openai
import pytest
from llm_server import (
    ANTHROPIC_MODEL,
    API_KEY,
    CACHE_WRITE_TOKENS,
    CACHED_TOKENS,
    CHAT,
    EMBEDDING_DIMENSIONS,
    EMBEDDING_MODEL,
    FAIL_429_MARKER,
    FAIL_500_MARKER,
    FLAKY_429_MARKER,
    INPUT_OVERHEAD_TOKENS,
    MESSAGES,
    OPENAI_MODEL,
    REASONING_MODEL,
    REASONING_TOKENS,
    LLMServer,
    TokenUsage,
    embedding_vector,
    expected_usage,
    prompt_texts,
    reply_text,
    tool_arguments,
    tool_reply_text,
)
from pydantic import TypeAdapter

PROMPT = "What is the weather in Paris?"  # 6 words
SYSTEM = "You are a terse assistant."  # 5 words
LONG_PROMPT = " ".join(["Please summarise this long and winding customer request."] * 4)  # 32

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
CHAT_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": WEATHER_SCHEMA,
    },
}
RESPONSES_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": WEATHER_SCHEMA,
    "strict": False,
}
ANTHROPIC_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": WEATHER_SCHEMA,
}
WEATHER_ARGUMENTS = '{"city": "Paris"}'
WEATHER = "Sunny, 22 degrees"


def openai_client(server: LLMServer, max_retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.openai_base_url, api_key=API_KEY, max_retries=max_retries)


def anthropic_client(server: LLMServer, max_retries: int = 0) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key=API_KEY, max_retries=max_retries
    )


# --------------------------------------------------------------------------- the formula


def test_the_token_formula_is_the_documented_one() -> None:
    usage = expected_usage([SYSTEM, PROMPT], "You said: hi")
    assert usage == TokenUsage(prompt_tokens=INPUT_OVERHEAD_TOKENS + 11, output_tokens=3)
    assert usage.total_tokens == INPUT_OVERHEAD_TOKENS + 14
    long = expected_usage(LONG_PROMPT, "ok", reasoning=True, cache_write=True)
    assert long.prompt_tokens == INPUT_OVERHEAD_TOKENS + 32
    assert long.cached_tokens == CACHED_TOKENS
    assert long.cache_write_tokens == CACHE_WRITE_TOKENS
    assert long.anthropic_input_tokens == long.prompt_tokens - CACHED_TOKENS - CACHE_WRITE_TOKENS
    assert long.output_tokens == 1 + REASONING_TOKENS
    assert reply_text("  hello \n world ") == "You said: hello world"
    assert tool_reply_text(["a", "b c"]) == "The tool returned: a b c"


def test_tool_arguments_come_from_the_prompt_or_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer"},
            "metric": {"type": "boolean"},
            "unit": {"enum": ["celsius", "fahrenheit"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "where": {"$ref": "#/$defs/Where"},
            "note": {"anyOf": [{"type": "null"}, {"type": "number"}]},
        },
        "$defs": {"Where": {"type": "object", "properties": {"country": {"type": "string"}}}},
    }
    assert tool_arguments(schema, PROMPT) == {
        "city": "Paris",
        "days": 6,
        "metric": True,
        "unit": "celsius",
        "tags": ["Paris"],
        "where": {"country": "Paris"},
        "note": 6.0,
    }
    assert tool_arguments(schema, 'Look up {"city": "Oslo", "days": 2} please') == {
        "city": "Oslo",
        "days": 2,
    }
    assert tool_arguments({}, PROMPT) == {}


# --------------------------------------------------------------------------- OpenAI chat


def test_chat_completion(llm_server: LLMServer) -> None:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}]
    completion = openai_client(llm_server).chat.completions.create(
        model=OPENAI_MODEL, messages=messages
    )
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "gpt-4o-mini-2024-07-18"
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == "You said: What is the weather in Paris?"
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (19, 8, 27)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 0

    request = llm_server.last_request
    assert (request.method, request.path, request.api, request.status) == (
        "POST",
        "/v1/chat/completions",
        CHAT,
        200,
    )
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.body == {"model": OPENAI_MODEL, "messages": messages}
    assert not request.stream


def test_chat_completion_stream_with_usage(llm_server: LLMServer) -> None:
    stream = openai_client(llm_server).chat.completions.create(
        model=OPENAI_MODEL,
        messages=[{"role": "user", "content": LONG_PROMPT}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk.id for chunk in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == reply_text(LONG_PROMPT)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    *body, last = chunks
    assert all(chunk.usage is None for chunk in body)
    assert last.choices == []
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (40, 34)
    assert last.usage.prompt_tokens_details is not None
    assert last.usage.prompt_tokens_details.cached_tokens == CACHED_TOKENS
    assert llm_server.last_request.stream


def test_chat_completion_stream_without_usage(llm_server: LLMServer) -> None:
    stream = openai_client(llm_server).chat.completions.create(
        model=OPENAI_MODEL, messages=[{"role": "user", "content": PROMPT}], stream=True
    )
    chunks = list(stream)
    assert all(chunk.choices and chunk.usage is None for chunk in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_chat_tool_call_round_trip(llm_server: LLMServer) -> None:
    client = openai_client(llm_server)
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    first = client.chat.completions.create(model=OPENAI_MODEL, messages=messages, tools=[CHAT_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert call.type == "function"
    assert call.id.startswith("call_")
    assert (call.function.name, call.function.arguments) == ("get_weather", WEATHER_ARGUMENTS)
    assert first.usage is not None
    assert (first.usage.prompt_tokens, first.usage.completion_tokens) == (14, 3)

    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": WEATHER},
    ]
    second = client.chat.completions.create(
        model=OPENAI_MODEL, messages=messages, tools=[CHAT_TOOL]
    )
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "The tool returned: Sunny, 22 degrees"
    assert second.usage is not None
    # 8 + 6 prompt words + 2 argument words + 3 result words
    assert (second.usage.prompt_tokens, second.usage.completion_tokens) == (19, 6)


def test_chat_tool_call_streamed(llm_server: LLMServer) -> None:
    stream = openai_client(llm_server).chat.completions.create(
        model=OPENAI_MODEL,
        messages=[{"role": "user", "content": PROMPT}],
        tools=[CHAT_TOOL],
        stream=True,
    )
    chunks = list(stream)
    deltas = [d for c in chunks for d in c.choices[0].delta.tool_calls or []]
    assert deltas[0].id and deltas[0].function and deltas[0].function.name == "get_weather"
    assert "".join(d.function.arguments or "" for d in deltas if d.function) == WEATHER_ARGUMENTS
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_chat_reasoning_model_and_token_limit(llm_server: LLMServer) -> None:
    client = openai_client(llm_server)
    reasoning = client.chat.completions.create(
        model=REASONING_MODEL, messages=[{"role": "user", "content": PROMPT}]
    )
    assert reasoning.model == REASONING_MODEL
    assert reasoning.usage is not None and reasoning.usage.completion_tokens_details is not None
    assert reasoning.usage.completion_tokens_details.reasoning_tokens == REASONING_TOKENS
    assert reasoning.usage.completion_tokens == 8 + REASONING_TOKENS

    limited = client.chat.completions.create(
        model=OPENAI_MODEL, messages=[{"role": "user", "content": PROMPT}], max_tokens=3
    )
    assert limited.choices[0].finish_reason == "length"
    assert limited.choices[0].message.content == "You said: What"
    assert limited.usage is not None and limited.usage.completion_tokens == 3


def test_async_chat_completion(llm_server: LLMServer) -> None:
    async def run() -> tuple[str | None, str]:
        async with openai.AsyncOpenAI(
            base_url=llm_server.openai_base_url, api_key=API_KEY, max_retries=0
        ) as client:
            plain = await client.chat.completions.create(
                model=OPENAI_MODEL, messages=[{"role": "user", "content": PROMPT}]
            )
            stream = await client.chat.completions.create(
                model=OPENAI_MODEL, messages=[{"role": "user", "content": PROMPT}], stream=True
            )
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            return plain.choices[0].message.content, text

    assert asyncio.run(run()) == (reply_text(PROMPT), reply_text(PROMPT))


# --------------------------------------------------------------------------- OpenAI responses


def test_response(llm_server: LLMServer) -> None:
    response = openai_client(llm_server).responses.create(
        model=OPENAI_MODEL, instructions=SYSTEM, input=PROMPT
    )
    assert response.object == "response"
    assert response.id.startswith("resp_")
    assert response.status == "completed"
    assert response.model == "gpt-4o-mini-2024-07-18"
    assert response.output_text == reply_text(PROMPT)
    (message,) = response.output
    assert message.type == "message" and message.id.startswith("msg_")
    assert response.usage is not None
    assert (response.usage.input_tokens, response.usage.output_tokens) == (19, 8)
    assert response.usage.total_tokens == 27
    assert response.usage.input_tokens_details.cached_tokens == 0
    assert response.usage.output_tokens_details.reasoning_tokens == 0
    assert llm_server.last_request.body == {
        "model": OPENAI_MODEL,
        "instructions": SYSTEM,
        "input": PROMPT,
    }


def test_response_stream(llm_server: LLMServer) -> None:
    with openai_client(llm_server).responses.stream(
        model=REASONING_MODEL, input=[{"role": "user", "content": LONG_PROMPT}]
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert kinds.count("response.output_item.added") == 2  # the reasoning item, the message
    assert "response.content_part.added" in kinds and "response.output_text.done" in kinds
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(deltas) == reply_text(LONG_PROMPT)
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert final.output_text == reply_text(LONG_PROMPT)
    assert final.usage is not None
    assert final.usage.input_tokens == 40
    assert final.usage.input_tokens_details.cached_tokens == CACHED_TOKENS
    assert final.usage.output_tokens == 34 + REASONING_TOKENS
    assert final.usage.output_tokens_details.reasoning_tokens == REASONING_TOKENS


def test_response_function_call_round_trip(llm_server: LLMServer) -> None:
    client = openai_client(llm_server)
    first = client.responses.create(model=OPENAI_MODEL, input=PROMPT, tools=[RESPONSES_TOOL])
    (call,) = first.output
    assert call.type == "function_call"
    assert (call.name, call.arguments, call.status) == (
        "get_weather",
        WEATHER_ARGUMENTS,
        "completed",
    )
    assert call.call_id.startswith("call_") and call.id and call.id.startswith("fc_")
    second = client.responses.create(
        model=OPENAI_MODEL,
        tools=[RESPONSES_TOOL],
        input=[
            {"role": "user", "content": PROMPT},
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            },
            {"type": "function_call_output", "call_id": call.call_id, "output": WEATHER},
        ],
    )
    assert second.output_text == tool_reply_text(WEATHER)
    assert second.usage is not None and second.usage.input_tokens == 19


def test_response_function_call_streamed(llm_server: LLMServer) -> None:
    stream = openai_client(llm_server).responses.create(
        model=OPENAI_MODEL, input=PROMPT, tools=[RESPONSES_TOOL], stream=True
    )
    events = list(stream)
    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    assert "".join(deltas) == WEATHER_ARGUMENTS
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert done.arguments == WEATHER_ARGUMENTS
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.output[0].type == "function_call"


def test_response_truncated_by_max_output_tokens(llm_server: LLMServer) -> None:
    stream = openai_client(llm_server).responses.create(
        model=OPENAI_MODEL, input=PROMPT, max_output_tokens=4, stream=True
    )
    events = list(stream)
    last = events[-1]
    # no response.completed, so the responses.stream() helper's get_final_response() raises
    assert last.type == "response.incomplete"
    final = last.response
    assert final.status == "incomplete"
    assert final.incomplete_details is not None
    assert final.incomplete_details.reason == "max_output_tokens"
    assert final.output_text == "You said: What is"
    assert final.usage is not None and final.usage.output_tokens == 4


# --------------------------------------------------------------------------- OpenAI embeddings


def test_embeddings(llm_server: LLMServer) -> None:
    client = openai_client(llm_server)
    default = client.embeddings.create(model=EMBEDDING_MODEL, input=["hello world", PROMPT])
    assert llm_server.last_request.body["encoding_format"] == "base64"  # the SDK's default
    assert default.object == "list" and default.model == EMBEDDING_MODEL
    assert [item.index for item in default.data] == [0, 1]
    assert len(default.data[0].embedding) == EMBEDDING_DIMENSIONS
    assert default.data[1].embedding == embedding_vector(PROMPT)
    assert (default.usage.prompt_tokens, default.usage.total_tokens) == (8, 8)

    small = client.embeddings.create(
        model=EMBEDDING_MODEL, input=PROMPT, dimensions=8, encoding_format="float"
    )
    assert small.data[0].embedding == embedding_vector(PROMPT, 8)
    assert abs(sum(v * v for v in small.data[0].embedding) - 1) < 1e-6


# --------------------------------------------------------------------------- Anthropic


def test_anthropic_message(llm_server: LLMServer) -> None:
    message = anthropic_client(llm_server).messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=256,
        system=SYSTEM,
        messages=[{"role": "user", "content": PROMPT}],
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.id.startswith("msg_01")
    assert message.model == "claude-haiku-4-5-20251001"
    assert message.stop_reason == "end_turn"
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].type == "text"
    assert message.content[0].text == reply_text(PROMPT)
    usage = message.usage
    assert (usage.input_tokens, usage.output_tokens) == (19, 8)
    assert (usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (0, 0)
    request = llm_server.last_request
    assert request.api == MESSAGES
    # this SDK sends the API key as a bearer token, not as x-api-key
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert "anthropic-version" in request.headers


def test_anthropic_input_tokens_exclude_the_cached_ones(llm_server: LLMServer) -> None:
    system = [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    message = anthropic_client(llm_server).messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=256,
        system=system,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": LONG_PROMPT}],
    )
    usage = message.usage
    prompt = INPUT_OVERHEAD_TOKENS + 5 + 32
    assert usage.cache_read_input_tokens == CACHED_TOKENS
    assert usage.cache_creation_input_tokens == CACHE_WRITE_TOKENS
    assert usage.input_tokens == prompt - CACHED_TOKENS - CACHE_WRITE_TOKENS
    assert usage.output_tokens == 34
    assert message.content[0].type == "text"
    texts = prompt_texts(MESSAGES, llm_server.last_request.body)
    assert texts == [SYSTEM, LONG_PROMPT]
    expected = expected_usage(texts, message.content[0].text, cache_write=True)
    assert expected.anthropic_input_tokens == usage.input_tokens


def test_anthropic_stream_helper(llm_server: LLMServer) -> None:
    with anthropic_client(llm_server).messages.stream(
        model=ANTHROPIC_MODEL, max_tokens=256, messages=[{"role": "user", "content": PROMPT}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == reply_text(PROMPT)
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (14, 8)
    assert llm_server.last_request.body["stream"] is True


def test_anthropic_raw_stream(llm_server: LLMServer) -> None:
    stream = anthropic_client(llm_server).messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=256,
        messages=[{"role": "user", "content": PROMPT}],
        stream=True,
    )
    events = list(stream)
    assert [e.type for e in events[:2]] == ["message_start", "content_block_start"]
    assert [e.type for e in events[-3:]] == ["content_block_stop", "message_delta", "message_stop"]
    start, delta = events[0], events[-2]
    assert start.type == "message_start" and delta.type == "message_delta"
    assert start.message.usage.input_tokens == 14
    assert start.message.usage.output_tokens == 1  # as the API does: the count so far
    assert delta.delta.stop_reason == "end_turn"
    assert delta.usage.output_tokens == 8


def test_anthropic_tool_use_round_trip(llm_server: LLMServer) -> None:
    client = anthropic_client(llm_server)
    with client.messages.stream(
        model=ANTHROPIC_MODEL,
        max_tokens=256,
        tools=[ANTHROPIC_TOOL],  # type: ignore[list-item]
        messages=[{"role": "user", "content": PROMPT}],
    ) as stream:
        first = stream.get_final_message()
    assert first.stop_reason == "tool_use"
    (block,) = first.content
    assert block.type == "tool_use"
    assert block.id.startswith("toolu_01")
    assert (block.name, block.input) == ("get_weather", {"city": "Paris"})
    assert first.usage.output_tokens == 3

    second = client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=256,
        tools=[ANTHROPIC_TOOL],  # type: ignore[list-item]
        messages=[
            {"role": "user", "content": PROMPT},
            {"role": "assistant", "content": first.content},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": block.id, "content": WEATHER}],
            },
        ],
    )
    assert second.stop_reason == "end_turn"
    assert second.content[0].type == "text"
    assert second.content[0].text == tool_reply_text(WEATHER)
    assert second.usage.input_tokens == 19


def test_async_anthropic(llm_server: LLMServer) -> None:
    async def run() -> tuple[str, str]:
        async with anthropic.AsyncAnthropic(
            base_url=llm_server.anthropic_base_url, api_key=API_KEY, max_retries=0
        ) as client:
            plain = await client.messages.create(
                model=ANTHROPIC_MODEL, max_tokens=64, messages=[{"role": "user", "content": PROMPT}]
            )
            async with client.messages.stream(
                model=ANTHROPIC_MODEL, max_tokens=64, messages=[{"role": "user", "content": PROMPT}]
            ) as stream:
                text = "".join([piece async for piece in stream.text_stream])
            assert plain.content[0].type == "text"
            return plain.content[0].text, text

    assert asyncio.run(run()) == (reply_text(PROMPT), reply_text(PROMPT))


def test_anthropic_max_tokens(llm_server: LLMServer) -> None:
    message = anthropic_client(llm_server).messages.create(
        model=ANTHROPIC_MODEL, max_tokens=2, messages=[{"role": "user", "content": PROMPT}]
    )
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 2


# --------------------------------------------------------------------------- failures


def test_openai_server_error_every_time(llm_server: LLMServer) -> None:
    client = openai_client(llm_server)
    for stream in (False, True, False):
        with pytest.raises(openai.InternalServerError) as raised:
            client.chat.completions.create(
                model=OPENAI_MODEL,
                messages=[{"role": "user", "content": f"Please {FAIL_500_MARKER} now"}],
                stream=stream,
            )
        assert raised.value.status_code == 500
        assert raised.value.type == "server_error"
    with pytest.raises(openai.InternalServerError):
        client.responses.create(model=OPENAI_MODEL, input=FAIL_500_MARKER)
    with pytest.raises(openai.InternalServerError):
        client.embeddings.create(model=EMBEDDING_MODEL, input=FAIL_500_MARKER)
    assert [r.status for r in llm_server.requests] == [500] * 5


def test_openai_rate_limit(llm_server: LLMServer) -> None:
    with pytest.raises(openai.RateLimitError) as raised:
        openai_client(llm_server).chat.completions.create(
            model=OPENAI_MODEL, messages=[{"role": "user", "content": FAIL_429_MARKER}]
        )
    assert raised.value.status_code == 429
    assert raised.value.code == "rate_limit_exceeded"
    assert raised.value.response.headers["retry-after"] == "0"


def test_retries_see_the_same_failure_or_the_flaky_one_recover(llm_server: LLMServer) -> None:
    client = openai_client(llm_server, max_retries=2)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(
            model=OPENAI_MODEL, messages=[{"role": "user", "content": FAIL_429_MARKER}]
        )
    assert [r.status for r in llm_server.requests] == [429, 429, 429]
    assert [r.headers.get("x-stainless-retry-count") for r in llm_server.requests] == [
        "0",
        "1",
        "2",
    ]
    llm_server.clear()
    prompt = f"{FLAKY_429_MARKER} hello"
    completion = client.chat.completions.create(
        model=OPENAI_MODEL, messages=[{"role": "user", "content": prompt}]
    )
    assert completion.choices[0].message.content == reply_text(prompt)
    assert [r.status for r in llm_server.requests] == [429, 200]
    reply = anthropic_client(llm_server, max_retries=1).messages.create(
        model=ANTHROPIC_MODEL, max_tokens=64, messages=[{"role": "user", "content": prompt}]
    )
    assert reply.stop_reason == "end_turn"
    assert [r.status for r in llm_server.requests] == [429, 200, 429, 200]


def test_anthropic_failures(llm_server: LLMServer) -> None:
    client = anthropic_client(llm_server)
    with pytest.raises(anthropic.InternalServerError) as server_error:
        client.messages.create(
            model=ANTHROPIC_MODEL,
            max_tokens=64,
            messages=[{"role": "user", "content": FAIL_500_MARKER}],
        )
    assert server_error.value.status_code == 500
    assert server_error.value.body["error"]["type"] == "api_error"  # type: ignore[index]
    with pytest.raises(anthropic.RateLimitError) as rate_limited:
        with client.messages.stream(
            model=ANTHROPIC_MODEL,
            max_tokens=64,
            messages=[{"role": "user", "content": FAIL_429_MARKER}],
        ) as stream:
            stream.get_final_message()
    assert rate_limited.value.response.headers["retry-after"] == "0"
    assert isinstance(rate_limited.value, anthropic.APIStatusError)


def test_auth_unknown_paths_and_models(llm_server: LLMServer) -> None:
    missing_key = httpx.post(f"{llm_server.openai_base_url}/chat/completions", json={})
    assert missing_key.status_code == 401
    assert missing_key.json()["error"]["type"] == "invalid_request_error"
    missing_version = httpx.post(
        f"{llm_server.base_url}/v1/messages", json={}, headers={"x-api-key": API_KEY}
    )
    assert missing_version.status_code == 400
    assert missing_version.json()["type"] == "error"
    unknown = httpx.post(f"{llm_server.base_url}/v1/nope", json={}, headers={"x-api-key": "k"})
    assert unknown.status_code == 404
    no_model = httpx.post(
        f"{llm_server.openai_base_url}/chat/completions",
        json={"messages": []},
        headers={"authorization": f"Bearer {API_KEY}"},
    )
    assert no_model.status_code == 400
    assert no_model.json()["error"]["code"] == "missing_required_parameter"

    assert OPENAI_MODEL in [model.id for model in openai_client(llm_server).models.list()]
    assert openai_client(llm_server).models.retrieve(OPENAI_MODEL).object == "model"
    anthropic_ids = [model.id for model in anthropic_client(llm_server).models.list()]
    assert "claude-haiku-4-5-20251001" in anthropic_ids


# --------------------------------------------------------------------------- raw payloads


def _sse(response: httpx.Response) -> list[tuple[str | None, str]]:
    """``(event, data)`` of every server-sent event."""
    assert response.headers["content-type"].startswith("text/event-stream")
    events = []
    for block in response.text.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((fields.get("event"), fields["data"]))
    return events


def test_payloads_validate_against_the_sdk_types(llm_server: LLMServer) -> None:
    """The SDKs parse leniently; their pydantic types, used strictly, must accept every
    payload too (every required field present, every literal right)."""
    from anthropic.types import Message, RawMessageStreamEvent
    from openai.types import CreateEmbeddingResponse
    from openai.types.chat import ChatCompletion, ChatCompletionChunk
    from openai.types.responses import Response, ResponseStreamEvent

    def post(path: str, body: dict[str, Any], **headers: str) -> httpx.Response:
        headers = headers or {"authorization": f"Bearer {API_KEY}"}
        response = httpx.post(f"{llm_server.base_url}{path}", json=body, headers=headers)
        assert response.status_code == 200, response.text
        return response

    anthropic_headers = {"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}
    user = [{"role": "user", "content": PROMPT}]
    for tools in ([], [CHAT_TOOL]):
        chat = {"model": OPENAI_MODEL, "messages": user, "tools": tools}
        ChatCompletion.model_validate(post("/v1/chat/completions", chat).json())
        stream = {**chat, "stream": True, "stream_options": {"include_usage": True}}
        events = _sse(post("/v1/chat/completions", stream))
        assert events[-1] == (None, "[DONE]")
        for event, data in events[:-1]:
            assert event is None
            ChatCompletionChunk.model_validate(json.loads(data))
    for model in (OPENAI_MODEL, REASONING_MODEL):
        for tools in ([], [RESPONSES_TOOL]):
            body = {"model": model, "input": PROMPT, "tools": tools}
            Response.model_validate(post("/v1/responses", body).json())
            events = _sse(post("/v1/responses", {**body, "stream": True}))
            adapter: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
            for event, data in events:
                parsed = adapter.validate_python(json.loads(data))
                assert parsed.type == event
    for tools in ([], [ANTHROPIC_TOOL]):
        body = {"model": ANTHROPIC_MODEL, "max_tokens": 64, "messages": user, "tools": tools}
        Message.model_validate(post("/v1/messages", body, **anthropic_headers).json())
        events = _sse(post("/v1/messages", {**body, "stream": True}, **anthropic_headers))
        adapter = TypeAdapter(RawMessageStreamEvent)
        for event, data in events:
            if event == "ping":
                continue
            assert adapter.validate_python(json.loads(data)).type == event
    embeddings = {"model": EMBEDDING_MODEL, "input": ["a", "b"], "encoding_format": "float"}
    CreateEmbeddingResponse.model_validate(post("/v1/embeddings", embeddings).json())


# --------------------------------------------------------------------------- frameworks


def test_langchain_chat_openai(llm_server: LLMServer) -> None:
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(
        model=OPENAI_MODEL,
        base_url=llm_server.openai_base_url,
        api_key=API_KEY,  # type: ignore[arg-type]
        max_retries=0,
        stream_usage=True,  # off by default with a custom base_url
    )
    message = model.invoke([("system", SYSTEM), ("human", PROMPT)])
    assert message.content == reply_text(PROMPT)
    assert message.usage_metadata is not None
    assert message.usage_metadata["input_tokens"] == 19
    assert message.usage_metadata["output_tokens"] == 8
    assert message.response_metadata["model_name"] == "gpt-4o-mini-2024-07-18"
    assert message.response_metadata["finish_reason"] == "stop"

    chunks = list(model.stream(PROMPT))
    assert "".join(str(chunk.content) for chunk in chunks) == reply_text(PROMPT)
    usage = [chunk.usage_metadata for chunk in chunks if chunk.usage_metadata]
    assert [(u["input_tokens"], u["output_tokens"]) for u in usage] == [(14, 8)]
    assert llm_server.last_request.body["stream_options"] == {"include_usage": True}


def test_langgraph_agent_with_a_tool(llm_server: LLMServer) -> None:
    from langchain.agents import create_agent
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    @tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"Sunny in {city}"

    model = ChatOpenAI(
        model=OPENAI_MODEL,
        base_url=llm_server.openai_base_url,
        api_key=API_KEY,  # type: ignore[arg-type]
        max_retries=0,
    )
    agent = create_agent(model, [get_weather], system_prompt=SYSTEM)
    state = agent.invoke({"messages": [("user", PROMPT)]})
    assert state["messages"][-1].content == tool_reply_text("Sunny in Paris")
    assert [m.type for m in state["messages"]] == ["human", "ai", "tool", "ai"]
    assert state["messages"][1].tool_calls[0]["args"] == {"city": "Paris"}
    assert len(llm_server.requests_to("/v1/chat/completions")) == 2


def test_openai_agents_runner(llm_server: LLMServer) -> None:
    from agents import Agent, OpenAIResponsesModel, RunConfig, Runner, function_tool

    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"Sunny in {city}"

    client = openai.AsyncOpenAI(base_url=llm_server.openai_base_url, api_key=API_KEY, max_retries=0)
    agent = Agent(
        name="weather",
        instructions=SYSTEM,
        tools=[get_weather],
        model=OpenAIResponsesModel(model=OPENAI_MODEL, openai_client=client),
    )
    # tracing off for this run only: the global switch (set_tracing_disabled) would
    # outlive the test and silence the Agents SDK's traces in later tests
    result = Runner.run_sync(agent, PROMPT, run_config=RunConfig(tracing_disabled=True))
    assert result.final_output == tool_reply_text("Sunny in Paris")
    requests = llm_server.requests_to("/v1/responses")
    assert len(requests) == 2
    assert requests[0].body["tools"][0]["name"] == "get_weather"
    usage = result.context_wrapper.usage
    assert usage.requests == 2
    # 8 + 5 + 6, then 8 + 5 + 6 + 2 argument words + 3 output words
    assert usage.input_tokens == 19 + 24
    assert usage.output_tokens == 3 + 6


def test_pydantic_ai_agent(llm_server: LLMServer) -> None:
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    provider = OpenAIProvider(base_url=llm_server.openai_base_url, api_key=API_KEY)
    agent = Agent(OpenAIChatModel(OPENAI_MODEL, provider=provider), instructions=SYSTEM)

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"Sunny in {city}"

    result = agent.run_sync(PROMPT)
    assert result.output == tool_reply_text("Sunny in Paris")
    usage = result.usage
    assert usage.requests == 2
    assert usage.input_tokens == 19 + 24
    assert usage.output_tokens == 3 + 6
    first, second = llm_server.requests_to("/v1/chat/completions")
    assert prompt_texts(CHAT, first.body) == [SYSTEM, PROMPT]
    assert prompt_texts(CHAT, second.body) == [SYSTEM, PROMPT, WEATHER_ARGUMENTS, "Sunny in Paris"]

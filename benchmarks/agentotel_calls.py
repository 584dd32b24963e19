"""The tool, LLM and streamed LLM calls of ``benchmarks/calls.py`` through agentotel's
public API (the benchmarks that run agentotel import them from here)."""

from __future__ import annotations

from calls import (
    CACHE_READ_TOKENS,
    CACHE_WRITE_TOKENS,
    FINISH_REASONS,
    INPUT_TOKENS,
    MAX_TOKENS,
    MODEL,
    OUTPUT_TOKENS,
    PROVIDER,
    RESPONSE_ID,
    RESPONSE_MODEL,
    SERVER_ADDRESS,
    SERVER_PORT,
    STREAM_CHUNKS,
    TEMPERATURE,
    TOOL,
    TOOL_CALL_ID,
    TOOL_DESCRIPTION,
    work,
)

import agentotel


def tool_call(x: int) -> int:
    with agentotel.tool(TOOL, type="function", description=TOOL_DESCRIPTION, call_id=TOOL_CALL_ID):
        return work(x)


def llm_call(x: int) -> int:
    with _chat() as call:
        result = work(x)
        _record_response(call)
        return result


def streamed_llm_call(x: int) -> int:
    with _chat() as call:
        for _chunk in call.stream(STREAM_CHUNKS):
            pass
        result = work(x)
        _record_response(call)
        return result


def _chat() -> agentotel.LLMCall:
    """The chat request both LLM calls make."""
    return agentotel.llm(
        MODEL,
        provider=PROVIDER,
        server_address=SERVER_ADDRESS,
        server_port=SERVER_PORT,
        temperature=TEMPERATURE,
        max_tokens=MAX_TOKENS,
    )


def _record_response(call: agentotel.LLMCall) -> None:
    call.record_response(
        response_model=RESPONSE_MODEL,
        response_id=RESPONSE_ID,
        finish_reasons=FINISH_REASONS,
        input_tokens=INPUT_TOKENS,
        output_tokens=OUTPUT_TOKENS,
        cache_read_input_tokens=CACHE_READ_TOKENS,
        cache_write_input_tokens=CACHE_WRITE_TOKENS,
    )

"""Conformance: agentotel against ``opentelemetry-util-genai`` 1.3b0, the official GenAI helper.

The same operations go once through agentotel and once through the helper's
``TelemetryHandler``, each on its own real SDK providers with in-memory exporters:

- success: a workflow with a conversation id runs a local agent, which makes an LLM chat
  call (request parameters, response model and id, finish reasons, input, output,
  cache-read and cache-write tokens) and a tool call (name, type, call id, description);
- LLM failure: the provider call raises ``requests.exceptions.HTTPError``, which
  propagates out of the agent and the workflow;
- tool failure: the tool raises ``TimeoutError``, which the agent handles;
- retrieval: inside the same workflow and agent, a retrieval from a data source (provider,
  embedding model, server, top-k) that returns two documents;
- retrieval failure: the retrieval raises ``ConnectionError``, which the agent handles;
- streaming: the same chat call with its answer streamed (agentotel's ``call.stream()``,
  the helper's ``SyncStreamWrapper``): ``gen_ai.request.stream``,
  ``gen_ai.response.time_to_first_chunk`` and the time-to-first-chunk and
  time-per-output-chunk metrics; and a stream abandoned after its first chunk (garbage,
  unclosed) and one whose task is cancelled while it waits for a chunk, each finishing
  the call on its own (no ``with`` block: the stream owns the call's end);
- embeddings: an embeddings call (encoding formats, response model, input tokens,
  dimension count);
- remote agent: inside the workflow, an agent in another process (``agentotel.agent(...,
  remote=True)``, the helper's ``invoke_remote_agent``): provider, server address and port,
  agent id, version and description; and the same call failing with ``ConnectionError``,
  which propagates out of the workflow.

Both must give the same span names, kinds, parents, status codes, span attribute keys and
values, metric names, units, histogram bucket boundaries and metric attribute sets.
agentotel may add attributes and metrics of its own under ``agentotel.``, nothing else.
Every test states the expected values explicitly as well, so this module reads as the
specification agentotel follows and catches the helper changing under us.

Where the helper and the v1.41 text of the GenAI semantic conventions differ, agentotel
follows the helper:

- cache-write tokens are ``gen_ai.usage.cache_write.input_tokens`` (the newer
  ``semantic-conventions-genai`` drafts); v1.41 names them
  ``gen_ai.usage.cache_creation.input_tokens``;
- the agent, tool and workflow duration metrics (``gen_ai.invoke_agent.duration``,
  ``gen_ai.execute_tool.duration``, ``gen_ai.invoke_workflow.duration``) and their bucket
  boundaries are the helper's own spellings of the newer drafts;
  ``opentelemetry-semantic-conventions`` has no constant for any of them;
- the helper leaves cache token counts of 0 off the span (it writes ``count or None``).

A failed span's status description is the exception's message, as the helper writes it.
Not compared: durations (wall-clock; ``gen_ai.response.time_to_first_chunk`` is compared
as "a float >= 0"), instrumentation scope names, and span events — agentotel records an
``exception`` event on a failed span, the helper records none.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.util.genai.environment_variables import (
    OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
    OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK,
    OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT,
)
from opentelemetry.util.genai.handler import TelemetryHandler
from opentelemetry.util.genai.invocation import InferenceInvocation
from opentelemetry.util.genai.stream import AsyncStreamWrapper, SyncStreamWrapper
from opentelemetry.util.genai.types import RetrievalDocument

import agentotel
from agentotel import _runtime
from agentotel._instruments import Instruments
from agentotel._runtime import Runtime
from agentotel.cost import load_price_table

# --------------------------------------------------------------------------- the operations

WORKFLOW = "support-triage"
CONVERSATION_ID = "conv-0042"
AGENT = "researcher"
AGENT_DESCRIPTION = "Finds sources for the answer"
PROVIDER = "openai"
MODEL = "gpt-4o-mini"
SERVER_ADDRESS = "api.openai.com"
SERVER_PORT = 443
TEMPERATURE = 0.2
MAX_TOKENS = 512
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
RESPONSE_ID = "chatcmpl-8f2a"
FINISH_REASONS = ["tool_calls"]
INPUT_TOKENS = 1200
OUTPUT_TOKENS = 40
CACHE_READ_TOKENS = 1024
CACHE_WRITE_TOKENS = 64
TOOL = "web_search"
TOOL_TYPE = "function"
TOOL_CALL_ID = "call_7Qx"
TOOL_DESCRIPTION = "Searches the web"

DATA_SOURCE = "kb-support-articles"
RETRIEVAL_PROVIDER = "openai"
EMBEDDING_MODEL = "text-embedding-3-small"
TOP_K = 5
DOCUMENTS = [("doc-17", 0.91), ("doc-4", 0.74)]
QUERY = "how do I reset my password"

LLM_ERROR_MESSAGE = "503 Server Error: Service Unavailable"
TOOL_ERROR_MESSAGE = "search backend timed out"
RETRIEVAL_ERROR_MESSAGE = "vector store unreachable"
CHUNKS = 4
EMBEDDING_TOKENS = 10
DIMENSIONS = 1536
ENCODING_FORMATS = ["float"]


def _ours_chat() -> agentotel.LLMCall:
    return agentotel.llm(
        MODEL,
        provider=PROVIDER,
        server_address=SERVER_ADDRESS,
        server_port=SERVER_PORT,
        temperature=TEMPERATURE,
        max_tokens=MAX_TOKENS,
    )


def _ours_respond(call: agentotel.LLMCall, *, cache_read: int, cache_write: int) -> None:
    call.record_response(
        response_model=RESPONSE_MODEL,
        response_id=RESPONSE_ID,
        finish_reasons=FINISH_REASONS,
        input_tokens=INPUT_TOKENS,
        output_tokens=OUTPUT_TOKENS,
        cache_read_input_tokens=cache_read,
        cache_write_input_tokens=cache_write,
    )


def _ours_tool() -> agentotel.Tool:
    return agentotel.tool(TOOL, type=TOOL_TYPE, description=TOOL_DESCRIPTION, call_id=TOOL_CALL_ID)


def _oracle_chat(handler: TelemetryHandler) -> InferenceInvocation:
    inference = handler.inference(
        PROVIDER, request_model=MODEL, server_address=SERVER_ADDRESS, server_port=SERVER_PORT
    )
    inference.temperature = TEMPERATURE
    inference.max_tokens = MAX_TOKENS
    return inference


def _oracle_respond(inference: InferenceInvocation, *, cache_read: int, cache_write: int) -> None:
    inference.response_model_name = RESPONSE_MODEL
    inference.response_id = RESPONSE_ID
    inference.finish_reasons = FINISH_REASONS
    inference.input_tokens = INPUT_TOKENS
    inference.output_tokens = OUTPUT_TOKENS
    inference.cache_read_input_tokens = cache_read
    inference.cache_write_input_tokens = cache_write


@contextlib.contextmanager
def _oracle_tool(handler: TelemetryHandler) -> Iterator[None]:
    with handler.tool(TOOL, tool_type=TOOL_TYPE) as tool:
        tool.tool_call_id = TOOL_CALL_ID
        tool.tool_description = TOOL_DESCRIPTION
        yield


@contextlib.contextmanager
def _ours_agent_run() -> Iterator[None]:
    with agentotel.workflow(WORKFLOW, conversation_id=CONVERSATION_ID):
        with agentotel.agent(AGENT, description=AGENT_DESCRIPTION):
            yield


@contextlib.contextmanager
def _oracle_agent_run(handler: TelemetryHandler) -> Iterator[None]:
    with handler.workflow(WORKFLOW, conversation_id=CONVERSATION_ID):
        with handler.invoke_local_agent(agent_name=AGENT) as agent:
            agent.agent_description = AGENT_DESCRIPTION
            yield


def ours_success(
    *, cache_read: int = CACHE_READ_TOKENS, cache_write: int = CACHE_WRITE_TOKENS
) -> None:
    with _ours_agent_run():
        with _ours_chat() as call:
            _ours_respond(call, cache_read=cache_read, cache_write=cache_write)
        with _ours_tool():
            pass


def oracle_success(
    handler: TelemetryHandler,
    *,
    cache_read: int = CACHE_READ_TOKENS,
    cache_write: int = CACHE_WRITE_TOKENS,
) -> None:
    with _oracle_agent_run(handler):
        with _oracle_chat(handler) as inference:
            _oracle_respond(inference, cache_read=cache_read, cache_write=cache_write)
        with _oracle_tool(handler):
            pass


def ours_llm_failure() -> None:
    with pytest.raises(requests.exceptions.HTTPError):
        with _ours_agent_run():
            with _ours_chat():
                raise requests.exceptions.HTTPError(LLM_ERROR_MESSAGE)


def oracle_llm_failure(handler: TelemetryHandler) -> None:
    with pytest.raises(requests.exceptions.HTTPError):
        with _oracle_agent_run(handler):
            with _oracle_chat(handler):
                raise requests.exceptions.HTTPError(LLM_ERROR_MESSAGE)


def ours_tool_failure() -> None:
    with _ours_agent_run():
        with contextlib.suppress(TimeoutError):
            with _ours_tool():
                raise TimeoutError(TOOL_ERROR_MESSAGE)


def oracle_tool_failure(handler: TelemetryHandler) -> None:
    with _oracle_agent_run(handler):
        with contextlib.suppress(TimeoutError):
            with _oracle_tool(handler):
                raise TimeoutError(TOOL_ERROR_MESSAGE)


@contextlib.contextmanager
def _ours_retrieval() -> Iterator[agentotel.Retrieval]:
    with agentotel.retrieval(
        DATA_SOURCE,
        provider=RETRIEVAL_PROVIDER,
        request_model=EMBEDDING_MODEL,
        server_address=SERVER_ADDRESS,
        server_port=SERVER_PORT,
        top_k=TOP_K,
    ) as lookup:
        yield lookup


@contextlib.contextmanager
def _oracle_retrieval(handler: TelemetryHandler) -> Iterator[Any]:
    with handler.retrieval(
        data_source_id=DATA_SOURCE,
        provider=RETRIEVAL_PROVIDER,
        request_model=EMBEDDING_MODEL,
        server_address=SERVER_ADDRESS,
        server_port=SERVER_PORT,
    ) as retrieval:
        retrieval.top_k = TOP_K
        yield retrieval


def ours_retrieval() -> None:
    with _ours_agent_run():
        with _ours_retrieval() as lookup:
            lookup.record_query(QUERY)
            lookup.record_documents([{"id": i, "score": score} for i, score in DOCUMENTS])


def oracle_retrieval(handler: TelemetryHandler) -> None:
    with _oracle_agent_run(handler):
        with _oracle_retrieval(handler) as retrieval:
            retrieval.query_text = QUERY
            retrieval.documents = [RetrievalDocument(id=i, score=score) for i, score in DOCUMENTS]


def ours_retrieval_failure() -> None:
    with _ours_agent_run():
        with contextlib.suppress(ConnectionError):
            with _ours_retrieval():
                raise ConnectionError(RETRIEVAL_ERROR_MESSAGE)


def oracle_retrieval_failure(handler: TelemetryHandler) -> None:
    with _oracle_agent_run(handler):
        with contextlib.suppress(ConnectionError):
            with _oracle_retrieval(handler):
                raise ConnectionError(RETRIEVAL_ERROR_MESSAGE)



def _sdk_stream() -> Iterator[object]:
    """An SDK response stream stand-in: chunk objects nobody reads."""
    for _ in range(CHUNKS):
        yield object()


async def _stalled_stream(first_chunk: asyncio.Event) -> AsyncIterator[object]:
    """One chunk, then a wait for the next that only a cancellation ends."""
    yield object()
    first_chunk.set()
    await asyncio.sleep(3600)
    yield object()


class OracleStream(SyncStreamWrapper[object]):
    """The helper's stream wrapper as an instrumentation subclasses it; ``finish``: the
    stream stops or fails the invocation (else a ``with`` block does)."""

    def __init__(self, stream: Iterator[object], inference: InferenceInvocation, finish: bool):
        super().__init__(stream, inference)  # type: ignore[arg-type]
        self._self_finish = finish

    def _process_chunk(self, chunk: object) -> None:
        pass

    def _on_stream_end(self) -> None:
        if self._self_finish:
            self._self_invocation.stop()  # type: ignore[union-attr]

    def _on_stream_error(self, error: BaseException) -> None:
        if self._self_finish:
            self._self_invocation.fail(error)  # type: ignore[union-attr]


class OracleAsyncStream(AsyncStreamWrapper[object]):
    """The async one; the stream stops or fails the invocation."""

    def _process_chunk(self, chunk: object) -> None:
        pass

    def _on_stream_end(self) -> None:
        self._self_invocation.stop()  # type: ignore[union-attr]

    def _on_stream_error(self, error: BaseException) -> None:
        self._self_invocation.fail(error)  # type: ignore[union-attr]


def ours_streaming() -> None:
    with _ours_agent_run():
        with _ours_chat() as call:
            for _ in call.stream(_sdk_stream()):
                pass
            _ours_respond(call, cache_read=CACHE_READ_TOKENS, cache_write=CACHE_WRITE_TOKENS)


def oracle_streaming(handler: TelemetryHandler) -> None:
    with _oracle_agent_run(handler):
        with _oracle_chat(handler) as inference:
            for _ in OracleStream(_sdk_stream(), inference, finish=False):
                pass
            _oracle_respond(
                inference, cache_read=CACHE_READ_TOKENS, cache_write=CACHE_WRITE_TOKENS
            )


def ours_abandoned_stream() -> None:
    with _ours_agent_run():
        stream = _ours_chat().stream(_sdk_stream())
        for _ in stream:
            break
        del stream  # garbage, unclosed
        gc.collect()


def oracle_abandoned_stream(handler: TelemetryHandler) -> None:
    with _oracle_agent_run(handler):
        inference = _oracle_chat(handler)
        stream = OracleStream(_sdk_stream(), inference, finish=True)
        inference.suspend()  # the stream is handed back to the caller
        for _ in stream:
            break
        del stream
        gc.collect()


def _cancel_while_waiting(consume: Callable[[asyncio.Event], Any]) -> None:
    """Run ``consume`` as a task and cancel it while it waits for the second chunk."""

    async def main() -> None:
        first_chunk = asyncio.Event()
        task = asyncio.ensure_future(consume(first_chunk))
        await first_chunk.wait()
        await asyncio.sleep(0.01)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())


def ours_cancelled_stream() -> None:
    async def consume(first_chunk: asyncio.Event) -> None:
        async for _ in _ours_chat().stream(_stalled_stream(first_chunk)):
            pass

    with _ours_agent_run():
        _cancel_while_waiting(consume)


def oracle_cancelled_stream(handler: TelemetryHandler) -> None:
    async def consume(first_chunk: asyncio.Event) -> None:
        inference = _oracle_chat(handler)
        stream = OracleAsyncStream(_stalled_stream(first_chunk), inference)
        inference.suspend()
        async for _ in stream:
            pass

    with _oracle_agent_run(handler):
        _cancel_while_waiting(consume)


def ours_embeddings() -> None:
    with _ours_agent_run():
        with agentotel.llm(
            EMBEDDING_MODEL,
            provider=PROVIDER,
            operation="embeddings",
            server_address=SERVER_ADDRESS,
            server_port=SERVER_PORT,
            encoding_formats=ENCODING_FORMATS,
        ) as call:
            call.record_response(
                response_model=EMBEDDING_MODEL,
                input_tokens=EMBEDDING_TOKENS,
                dimension_count=DIMENSIONS,
            )


def oracle_embeddings(handler: TelemetryHandler) -> None:
    with _oracle_agent_run(handler):
        with handler.embedding(
            PROVIDER,
            request_model=EMBEDDING_MODEL,
            server_address=SERVER_ADDRESS,
            server_port=SERVER_PORT,
        ) as embedding:
            embedding.encoding_formats = ENCODING_FORMATS
            embedding.response_model_name = EMBEDDING_MODEL
            embedding.input_tokens = EMBEDDING_TOKENS
            embedding.dimension_count = DIMENSIONS


REMOTE_AGENT = "billing-specialist"
REMOTE_PROVIDER = "acme_agents"
REMOTE_ADDRESS = "agents.internal"
REMOTE_PORT = 8080
REMOTE_AGENT_ID = "agent-billing-1"
REMOTE_AGENT_VERSION = "2026-11"
REMOTE_ERROR_MESSAGE = "agent host unreachable"


@contextlib.contextmanager
def _ours_remote() -> Iterator[None]:
    with agentotel.workflow(WORKFLOW, conversation_id=CONVERSATION_ID):
        with agentotel.agent(
            REMOTE_AGENT, id=REMOTE_AGENT_ID, version=REMOTE_AGENT_VERSION,
            description=AGENT_DESCRIPTION, remote=True, provider=REMOTE_PROVIDER,
            server_address=REMOTE_ADDRESS, server_port=REMOTE_PORT,
        ):
            yield


@contextlib.contextmanager
def _oracle_remote(handler: TelemetryHandler) -> Iterator[None]:
    with handler.workflow(WORKFLOW, conversation_id=CONVERSATION_ID):
        with handler.invoke_remote_agent(
            REMOTE_PROVIDER, agent_name=REMOTE_AGENT, server_address=REMOTE_ADDRESS,
            server_port=REMOTE_PORT,
        ) as agent:
            agent.agent_id = REMOTE_AGENT_ID
            agent.agent_version = REMOTE_AGENT_VERSION
            agent.agent_description = AGENT_DESCRIPTION
            yield


def ours_remote_agent() -> None:
    with _ours_remote():
        pass


def oracle_remote_agent(handler: TelemetryHandler) -> None:
    with _oracle_remote(handler):
        pass


def ours_remote_agent_failure() -> None:
    with contextlib.suppress(ConnectionError), _ours_remote():
        raise ConnectionError(REMOTE_ERROR_MESSAGE)


def oracle_remote_agent_failure(handler: TelemetryHandler) -> None:
    with contextlib.suppress(ConnectionError), _oracle_remote(handler):
        raise ConnectionError(REMOTE_ERROR_MESSAGE)


# --------------------------------------------------------------------------- the expected telemetry

WORKFLOW_SPAN = f"invoke_workflow {WORKFLOW}"
AGENT_SPAN = f"invoke_agent {AGENT}"
CHAT_SPAN = f"chat {MODEL}"
TOOL_SPAN = f"execute_tool {TOOL}"
RETRIEVAL_SPAN = f"retrieval {DATA_SOURCE}"
EMBEDDINGS_SPAN = f"embeddings {EMBEDDING_MODEL}"

LLM_ERROR_TYPE = "requests.exceptions.HTTPError"
TOOL_ERROR_TYPE = "TimeoutError"
RETRIEVAL_ERROR_TYPE = "ConnectionError"
ABANDONED_ERROR_TYPE = "_OTHER"
CANCELLED_ERROR_TYPE = "asyncio.exceptions.CancelledError"
#: stands for the value of ``gen_ai.response.time_to_first_chunk`` (checked: a float >= 0)
SECONDS = "<seconds>"

WORKFLOW_ATTRIBUTES: dict[str, Any] = {
    "gen_ai.operation.name": "invoke_workflow",
    "gen_ai.workflow.name": WORKFLOW,
    "gen_ai.conversation.id": CONVERSATION_ID,
}
AGENT_ATTRIBUTES: dict[str, Any] = {
    "gen_ai.operation.name": "invoke_agent",
    "gen_ai.agent.name": AGENT,
    "gen_ai.agent.description": AGENT_DESCRIPTION,
    "gen_ai.conversation.id": CONVERSATION_ID,
}
CHAT_REQUEST_ATTRIBUTES: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": PROVIDER,
    "gen_ai.request.model": MODEL,
    "server.address": SERVER_ADDRESS,
    "server.port": SERVER_PORT,
    "gen_ai.request.temperature": TEMPERATURE,
    "gen_ai.request.max_tokens": MAX_TOKENS,
    "gen_ai.conversation.id": CONVERSATION_ID,
}
CHAT_RESPONSE_ATTRIBUTES: dict[str, Any] = {
    "gen_ai.response.model": RESPONSE_MODEL,
    "gen_ai.response.id": RESPONSE_ID,
    "gen_ai.response.finish_reasons": ("tool_calls",),
    "gen_ai.usage.input_tokens": INPUT_TOKENS,
    "gen_ai.usage.output_tokens": OUTPUT_TOKENS,
}
CHAT_CACHE_ATTRIBUTES: dict[str, Any] = {
    "gen_ai.usage.cache_read.input_tokens": CACHE_READ_TOKENS,
    "gen_ai.usage.cache_write.input_tokens": CACHE_WRITE_TOKENS,
}
STREAM_ATTRIBUTES: dict[str, Any] = {
    "gen_ai.request.stream": True,
    "gen_ai.response.time_to_first_chunk": SECONDS,
}
EMBEDDINGS_ATTRIBUTES: dict[str, Any] = {  # no conversation id on embeddings spans
    "gen_ai.operation.name": "embeddings",
    "gen_ai.provider.name": PROVIDER,
    "gen_ai.request.model": EMBEDDING_MODEL,
    "server.address": SERVER_ADDRESS,
    "server.port": SERVER_PORT,
    "gen_ai.request.encoding_formats": ("float",),
    "gen_ai.response.model": EMBEDDING_MODEL,
    "gen_ai.usage.input_tokens": EMBEDDING_TOKENS,
    "gen_ai.embeddings.dimension.count": DIMENSIONS,
}
TOOL_ATTRIBUTES: dict[str, Any] = {
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": TOOL,
    "gen_ai.tool.type": TOOL_TYPE,
    "gen_ai.tool.call.id": TOOL_CALL_ID,
    "gen_ai.tool.description": TOOL_DESCRIPTION,
}
RETRIEVAL_ATTRIBUTES: dict[str, Any] = {  # no conversation id: the helper sets none
    "gen_ai.operation.name": "retrieval",
    "gen_ai.data_source.id": DATA_SOURCE,
    "gen_ai.provider.name": RETRIEVAL_PROVIDER,
    "gen_ai.request.model": EMBEDDING_MODEL,
    "server.address": SERVER_ADDRESS,
    "server.port": SERVER_PORT,
    "gen_ai.retrieval.top_k": TOP_K,
}

CHAT_METRIC_ATTRIBUTES: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": PROVIDER,
    "gen_ai.request.model": MODEL,
    "server.address": SERVER_ADDRESS,
    "server.port": SERVER_PORT,
}
EMBEDDINGS_METRIC_ATTRIBUTES: dict[str, Any] = {
    "gen_ai.operation.name": "embeddings",
    "gen_ai.provider.name": PROVIDER,
    "gen_ai.request.model": EMBEDDING_MODEL,
    "gen_ai.response.model": EMBEDDING_MODEL,
    "server.address": SERVER_ADDRESS,
    "server.port": SERVER_PORT,
}
TOOL_METRIC_ATTRIBUTES: dict[str, Any] = {"gen_ai.tool.name": TOOL, "gen_ai.tool.type": TOOL_TYPE}
AGENT_METRIC_ATTRIBUTES: dict[str, Any] = {"gen_ai.agent.name": AGENT}
WORKFLOW_METRIC_ATTRIBUTES: dict[str, Any] = {"gen_ai.workflow.name": WORKFLOW}
RETRIEVAL_METRIC_ATTRIBUTES: dict[str, Any] = {  # never the data source id
    "gen_ai.operation.name": "retrieval",
    "gen_ai.provider.name": RETRIEVAL_PROVIDER,
    "gen_ai.request.model": EMBEDDING_MODEL,
    "server.address": SERVER_ADDRESS,
    "server.port": SERVER_PORT,
}

OPERATION_DURATION_BUCKETS = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
TOKEN_USAGE_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
INVOKE_AGENT_DURATION_BUCKETS = (
    0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6,
)  # fmt: skip
INVOKE_WORKFLOW_DURATION_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)

UNITS = {
    "gen_ai.client.operation.duration": "s",
    "gen_ai.client.token.usage": "{token}",
    "gen_ai.execute_tool.duration": "s",
    "gen_ai.invoke_agent.duration": "s",
    "gen_ai.invoke_workflow.duration": "s",
    "gen_ai.client.operation.time_to_first_chunk": "s",
    "gen_ai.client.operation.time_per_output_chunk": "s",
}
BUCKETS = {
    "gen_ai.client.operation.duration": OPERATION_DURATION_BUCKETS,
    "gen_ai.client.token.usage": TOKEN_USAGE_BUCKETS,
    "gen_ai.execute_tool.duration": OPERATION_DURATION_BUCKETS,
    "gen_ai.invoke_agent.duration": INVOKE_AGENT_DURATION_BUCKETS,
    "gen_ai.invoke_workflow.duration": INVOKE_WORKFLOW_DURATION_BUCKETS,
    "gen_ai.client.operation.time_to_first_chunk": OPERATION_DURATION_BUCKETS,
    "gen_ai.client.operation.time_per_output_chunk": OPERATION_DURATION_BUCKETS,
}


@dataclass(frozen=True)
class SpanShape:
    """What is compared of one span."""

    kind: SpanKind
    parent: str | None  # the parent span's name
    status: StatusCode
    attributes: dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    """One run of operations through both sides and what both must record."""

    name: str
    run_ours: Callable[[], None]
    run_oracle: Callable[[TelemetryHandler], None]
    spans: dict[str, SpanShape]
    #: metric name -> the attribute set of each data point
    metric_points: dict[str, list[dict[str, Any]]]
    #: span name -> the ``agentotel.*`` attribute keys agentotel adds
    extra_span_attributes: dict[str, set[str]] = field(default_factory=dict)
    extra_metrics: set[str] = field(default_factory=set)


SUCCESS = Scenario(
    name="success",
    run_ours=ours_success,
    run_oracle=oracle_success,
    spans={
        WORKFLOW_SPAN: SpanShape(SpanKind.INTERNAL, None, StatusCode.UNSET, WORKFLOW_ATTRIBUTES),
        AGENT_SPAN: SpanShape(SpanKind.INTERNAL, WORKFLOW_SPAN, StatusCode.UNSET, AGENT_ATTRIBUTES),
        CHAT_SPAN: SpanShape(
            SpanKind.CLIENT,
            AGENT_SPAN,
            StatusCode.UNSET,
            {**CHAT_REQUEST_ATTRIBUTES, **CHAT_RESPONSE_ATTRIBUTES, **CHAT_CACHE_ATTRIBUTES},
        ),
        TOOL_SPAN: SpanShape(SpanKind.INTERNAL, AGENT_SPAN, StatusCode.UNSET, TOOL_ATTRIBUTES),
    },
    metric_points={
        "gen_ai.client.operation.duration": [
            {**CHAT_METRIC_ATTRIBUTES, "gen_ai.response.model": RESPONSE_MODEL},
        ],
        "gen_ai.client.token.usage": [
            {
                **CHAT_METRIC_ATTRIBUTES,
                "gen_ai.response.model": RESPONSE_MODEL,
                "gen_ai.token.type": "input",
            },
            {
                **CHAT_METRIC_ATTRIBUTES,
                "gen_ai.response.model": RESPONSE_MODEL,
                "gen_ai.token.type": "output",
            },
        ],
        "gen_ai.execute_tool.duration": [TOOL_METRIC_ATTRIBUTES],
        "gen_ai.invoke_agent.duration": [AGENT_METRIC_ATTRIBUTES],
        "gen_ai.invoke_workflow.duration": [WORKFLOW_METRIC_ATTRIBUTES],
    },
    extra_span_attributes={CHAT_SPAN: {"agentotel.llm.cost_usd"}},
    extra_metrics={"agentotel.agent.active", "agentotel.llm.cost"},
)

LLM_FAILURE = Scenario(
    name="llm-failure",
    run_ours=ours_llm_failure,
    run_oracle=oracle_llm_failure,
    spans={
        WORKFLOW_SPAN: SpanShape(
            SpanKind.INTERNAL,
            None,
            StatusCode.ERROR,
            {**WORKFLOW_ATTRIBUTES, "error.type": LLM_ERROR_TYPE},
        ),
        AGENT_SPAN: SpanShape(
            SpanKind.INTERNAL,
            WORKFLOW_SPAN,
            StatusCode.ERROR,
            {**AGENT_ATTRIBUTES, "error.type": LLM_ERROR_TYPE},
        ),
        CHAT_SPAN: SpanShape(
            SpanKind.CLIENT,
            AGENT_SPAN,
            StatusCode.ERROR,
            {**CHAT_REQUEST_ATTRIBUTES, "error.type": LLM_ERROR_TYPE},
        ),
    },
    metric_points={
        "gen_ai.client.operation.duration": [
            {**CHAT_METRIC_ATTRIBUTES, "error.type": LLM_ERROR_TYPE},
        ],
        "gen_ai.invoke_agent.duration": [{**AGENT_METRIC_ATTRIBUTES, "error.type": LLM_ERROR_TYPE}],
        "gen_ai.invoke_workflow.duration": [
            {**WORKFLOW_METRIC_ATTRIBUTES, "error.type": LLM_ERROR_TYPE},
        ],
    },
    extra_metrics={"agentotel.agent.active"},
)

TOOL_FAILURE = Scenario(
    name="tool-failure",
    run_ours=ours_tool_failure,
    run_oracle=oracle_tool_failure,
    spans={
        WORKFLOW_SPAN: SpanShape(SpanKind.INTERNAL, None, StatusCode.UNSET, WORKFLOW_ATTRIBUTES),
        AGENT_SPAN: SpanShape(SpanKind.INTERNAL, WORKFLOW_SPAN, StatusCode.UNSET, AGENT_ATTRIBUTES),
        TOOL_SPAN: SpanShape(
            SpanKind.INTERNAL,
            AGENT_SPAN,
            StatusCode.ERROR,
            {**TOOL_ATTRIBUTES, "error.type": TOOL_ERROR_TYPE},
        ),
    },
    metric_points={
        "gen_ai.execute_tool.duration": [{**TOOL_METRIC_ATTRIBUTES, "error.type": TOOL_ERROR_TYPE}],
        "gen_ai.invoke_agent.duration": [AGENT_METRIC_ATTRIBUTES],
        "gen_ai.invoke_workflow.duration": [WORKFLOW_METRIC_ATTRIBUTES],
    },
    extra_metrics={"agentotel.agent.active"},
)

RETRIEVAL = Scenario(
    name="retrieval",
    run_ours=ours_retrieval,
    run_oracle=oracle_retrieval,
    spans={
        WORKFLOW_SPAN: SpanShape(SpanKind.INTERNAL, None, StatusCode.UNSET, WORKFLOW_ATTRIBUTES),
        AGENT_SPAN: SpanShape(SpanKind.INTERNAL, WORKFLOW_SPAN, StatusCode.UNSET, AGENT_ATTRIBUTES),
        RETRIEVAL_SPAN: SpanShape(
            SpanKind.CLIENT, AGENT_SPAN, StatusCode.UNSET, RETRIEVAL_ATTRIBUTES
        ),
    },
    metric_points={
        "gen_ai.client.operation.duration": [RETRIEVAL_METRIC_ATTRIBUTES],
        "gen_ai.invoke_agent.duration": [AGENT_METRIC_ATTRIBUTES],
        "gen_ai.invoke_workflow.duration": [WORKFLOW_METRIC_ATTRIBUTES],
    },
    extra_span_attributes={RETRIEVAL_SPAN: {"agentotel.retrieval.document.count"}},
    extra_metrics={"agentotel.agent.active"},
)

RETRIEVAL_FAILURE = Scenario(
    name="retrieval-failure",
    run_ours=ours_retrieval_failure,
    run_oracle=oracle_retrieval_failure,
    spans={
        WORKFLOW_SPAN: SpanShape(SpanKind.INTERNAL, None, StatusCode.UNSET, WORKFLOW_ATTRIBUTES),
        AGENT_SPAN: SpanShape(SpanKind.INTERNAL, WORKFLOW_SPAN, StatusCode.UNSET, AGENT_ATTRIBUTES),
        RETRIEVAL_SPAN: SpanShape(
            SpanKind.CLIENT,
            AGENT_SPAN,
            StatusCode.ERROR,
            {**RETRIEVAL_ATTRIBUTES, "error.type": RETRIEVAL_ERROR_TYPE},
        ),
    },
    metric_points={
        "gen_ai.client.operation.duration": [
            {**RETRIEVAL_METRIC_ATTRIBUTES, "error.type": RETRIEVAL_ERROR_TYPE},
        ],
        "gen_ai.invoke_agent.duration": [AGENT_METRIC_ATTRIBUTES],
        "gen_ai.invoke_workflow.duration": [WORKFLOW_METRIC_ATTRIBUTES],
    },
    extra_metrics={"agentotel.agent.active"},
)

STREAMING = Scenario(
    name="streaming",
    run_ours=ours_streaming,
    run_oracle=oracle_streaming,
    spans={  # the success scenario's, without the tool
        WORKFLOW_SPAN: SUCCESS.spans[WORKFLOW_SPAN],
        AGENT_SPAN: SUCCESS.spans[AGENT_SPAN],
        CHAT_SPAN: SpanShape(
            SpanKind.CLIENT,
            AGENT_SPAN,
            StatusCode.UNSET,
            {
                **CHAT_REQUEST_ATTRIBUTES,
                **CHAT_RESPONSE_ATTRIBUTES,
                **CHAT_CACHE_ATTRIBUTES,
                **STREAM_ATTRIBUTES,
            },
        ),
    },
    metric_points={
        **{
            name: points
            for name, points in SUCCESS.metric_points.items()
            if name != "gen_ai.execute_tool.duration"
        },
        # recorded as the chunks arrive: the response model came after them
        "gen_ai.client.operation.time_to_first_chunk": [CHAT_METRIC_ATTRIBUTES],
        "gen_ai.client.operation.time_per_output_chunk": [CHAT_METRIC_ATTRIBUTES],
    },
    extra_span_attributes={CHAT_SPAN: {"agentotel.llm.cost_usd"}},
    extra_metrics={"agentotel.agent.active", "agentotel.llm.cost"},
)


def _abandoned_or_cancelled(name: str, error_type: str, ours: Any, oracle: Any) -> Scenario:
    """A stream that ends the call on its own after one chunk, failed with ``error_type``."""
    return Scenario(
        name=name,
        run_ours=ours,
        run_oracle=oracle,
        spans={
            WORKFLOW_SPAN: SUCCESS.spans[WORKFLOW_SPAN],
            AGENT_SPAN: SUCCESS.spans[AGENT_SPAN],
            CHAT_SPAN: SpanShape(
                SpanKind.CLIENT,
                AGENT_SPAN,
                StatusCode.ERROR,
                {**CHAT_REQUEST_ATTRIBUTES, **STREAM_ATTRIBUTES, "error.type": error_type},
            ),
        },
        metric_points={
            "gen_ai.client.operation.duration": [
                {**CHAT_METRIC_ATTRIBUTES, "error.type": error_type},
            ],
            "gen_ai.client.operation.time_to_first_chunk": [CHAT_METRIC_ATTRIBUTES],
            "gen_ai.invoke_agent.duration": [AGENT_METRIC_ATTRIBUTES],
            "gen_ai.invoke_workflow.duration": [WORKFLOW_METRIC_ATTRIBUTES],
        },
        extra_metrics={"agentotel.agent.active"},
    )


ABANDONED_STREAM = _abandoned_or_cancelled(
    "abandoned-stream", ABANDONED_ERROR_TYPE, ours_abandoned_stream, oracle_abandoned_stream
)
CANCELLED_STREAM = _abandoned_or_cancelled(
    "cancelled-stream", CANCELLED_ERROR_TYPE, ours_cancelled_stream, oracle_cancelled_stream
)

EMBEDDINGS = Scenario(
    name="embeddings",
    run_ours=ours_embeddings,
    run_oracle=oracle_embeddings,
    spans={
        WORKFLOW_SPAN: SUCCESS.spans[WORKFLOW_SPAN],
        AGENT_SPAN: SUCCESS.spans[AGENT_SPAN],
        EMBEDDINGS_SPAN: SpanShape(
            SpanKind.CLIENT, AGENT_SPAN, StatusCode.UNSET, EMBEDDINGS_ATTRIBUTES
        ),
    },
    metric_points={
        "gen_ai.client.operation.duration": [EMBEDDINGS_METRIC_ATTRIBUTES],
        "gen_ai.client.token.usage": [  # input tokens only
            {**EMBEDDINGS_METRIC_ATTRIBUTES, "gen_ai.token.type": "input"},
        ],
        "gen_ai.invoke_agent.duration": [AGENT_METRIC_ATTRIBUTES],
        "gen_ai.invoke_workflow.duration": [WORKFLOW_METRIC_ATTRIBUTES],
    },
    extra_span_attributes={EMBEDDINGS_SPAN: {"agentotel.llm.cost_usd"}},
    extra_metrics={"agentotel.agent.active", "agentotel.llm.cost"},
)

REMOTE_AGENT_SPAN = f"invoke_agent {REMOTE_AGENT}"
REMOTE_AGENT_ATTRIBUTES: dict[str, Any] = {
    "gen_ai.operation.name": "invoke_agent",
    "gen_ai.agent.name": REMOTE_AGENT,
    "gen_ai.agent.id": REMOTE_AGENT_ID,
    "gen_ai.agent.version": REMOTE_AGENT_VERSION,
    "gen_ai.agent.description": AGENT_DESCRIPTION,
    "gen_ai.conversation.id": CONVERSATION_ID,
    "gen_ai.provider.name": REMOTE_PROVIDER,
    "server.address": REMOTE_ADDRESS,
    "server.port": REMOTE_PORT,
}
REMOTE_AGENT_METRIC_ATTRIBUTES: dict[str, Any] = {
    "gen_ai.operation.name": "invoke_agent",
    "gen_ai.provider.name": REMOTE_PROVIDER,
    "server.address": REMOTE_ADDRESS,
    "server.port": REMOTE_PORT,
}
REMOTE_AGENT_CALL = Scenario(
    name="remote-agent",
    run_ours=ours_remote_agent,
    run_oracle=oracle_remote_agent,
    spans={
        WORKFLOW_SPAN: SUCCESS.spans[WORKFLOW_SPAN],
        REMOTE_AGENT_SPAN: SpanShape(
            SpanKind.CLIENT, WORKFLOW_SPAN, StatusCode.UNSET, REMOTE_AGENT_ATTRIBUTES
        ),
    },
    metric_points={  # the client operation duration; not the in-process agent's metric
        "gen_ai.client.operation.duration": [REMOTE_AGENT_METRIC_ATTRIBUTES],
        "gen_ai.invoke_workflow.duration": [WORKFLOW_METRIC_ATTRIBUTES],
    },
    extra_metrics={"agentotel.agent.active"},
)
REMOTE_AGENT_FAILURE = Scenario(
    name="remote-agent-failure",
    run_ours=ours_remote_agent_failure,
    run_oracle=oracle_remote_agent_failure,
    spans={
        WORKFLOW_SPAN: SpanShape(
            SpanKind.INTERNAL, None, StatusCode.ERROR,
            {**WORKFLOW_ATTRIBUTES, "error.type": RETRIEVAL_ERROR_TYPE},
        ),
        REMOTE_AGENT_SPAN: SpanShape(
            SpanKind.CLIENT, WORKFLOW_SPAN, StatusCode.ERROR,
            {**REMOTE_AGENT_ATTRIBUTES, "error.type": RETRIEVAL_ERROR_TYPE},
        ),
    },
    metric_points={
        "gen_ai.client.operation.duration": [
            {**REMOTE_AGENT_METRIC_ATTRIBUTES, "error.type": RETRIEVAL_ERROR_TYPE},
        ],
        "gen_ai.invoke_workflow.duration": [
            {**WORKFLOW_METRIC_ATTRIBUTES, "error.type": RETRIEVAL_ERROR_TYPE},
        ],
    },
    extra_metrics={"agentotel.agent.active"},
)

SCENARIOS = (
    SUCCESS, LLM_FAILURE, TOOL_FAILURE, RETRIEVAL, RETRIEVAL_FAILURE,
    STREAMING, ABANDONED_STREAM, CANCELLED_STREAM, EMBEDDINGS,
    REMOTE_AGENT_CALL, REMOTE_AGENT_FAILURE,
)  # fmt: skip
FAILURES = (LLM_FAILURE, TOOL_FAILURE, RETRIEVAL_FAILURE, REMOTE_AGENT_FAILURE)
ERROR_MESSAGES = {
    LLM_FAILURE.name: LLM_ERROR_MESSAGE,
    TOOL_FAILURE.name: TOOL_ERROR_MESSAGE,
    RETRIEVAL_FAILURE.name: RETRIEVAL_ERROR_MESSAGE,
    REMOTE_AGENT_FAILURE.name: REMOTE_ERROR_MESSAGE,
}


# --------------------------------------------------------------------------- recording


@dataclass(frozen=True)
class MetricShape:
    """What is compared of one metric."""

    unit: str
    bounds: tuple[float, ...] | None  # histogram bucket boundaries; None for sums
    points: list[dict[str, Any]]  # the attribute set of each data point, in a stable order
    sums: list[float]  # each data point's sum (histograms) or value, same order
    counts: list[int | None]  # each histogram data point's count, same order


def _point_key(attributes: dict[str, Any]) -> str:
    return repr(sorted(attributes.items()))


class Capture:
    """One set of real SDK providers whose exporters and reader keep everything in memory."""

    def __init__(self) -> None:
        self.span_exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.span_exporter))
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])
        self.log_exporter = InMemoryLogRecordExporter()
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter))

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()

    def spans(self) -> dict[str, ReadableSpan]:
        finished = self.span_exporter.get_finished_spans()
        by_name = {span.name: span for span in finished}
        assert len(by_name) == len(finished), f"span names repeat: {[s.name for s in finished]}"
        return by_name

    def span_shapes(self) -> dict[str, SpanShape]:
        spans = self.spans()
        names = {span.context.span_id: name for name, span in spans.items()}
        return {
            name: SpanShape(
                span.kind,
                names.get(span.parent.span_id) if span.parent is not None else None,
                span.status.status_code,
                _timing_free(dict(span.attributes or {})),
            )
            for name, span in spans.items()
        }

    def metric_shapes(self) -> dict[str, MetricShape]:
        data = self.metric_reader.get_metrics_data()
        shapes: dict[str, MetricShape] = {}
        for resource_metrics in data.resource_metrics if data is not None else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    assert metric.name not in shapes, f"{metric.name} recorded by two scopes"
                    shapes[metric.name] = _metric_shape(metric)
        return shapes


def _timing_free(attributes: dict[str, Any]) -> dict[str, Any]:
    """``attributes`` with the time to first chunk (a float >= 0) read as :data:`SECONDS`."""
    key = "gen_ai.response.time_to_first_chunk"
    if key in attributes:
        value = attributes[key]
        assert isinstance(value, float) and value >= 0.0, value
        attributes[key] = SECONDS
    return attributes


def _metric_shape(metric: Any) -> MetricShape:
    points = sorted(metric.data.data_points, key=lambda p: _point_key(dict(p.attributes or {})))
    bounds = {tuple(p.explicit_bounds) for p in points if hasattr(p, "explicit_bounds")}
    assert len(bounds) <= 1, f"{metric.name}: data points disagree on buckets {bounds}"
    return MetricShape(
        unit=metric.unit or "",
        bounds=bounds.pop() if bounds else None,
        points=[dict(p.attributes or {}) for p in points],
        sums=[p.sum if hasattr(p, "bucket_counts") else p.value for p in points],
        counts=[p.count if hasattr(p, "bucket_counts") else None for p in points],
    )


@dataclass
class Recorded:
    """The telemetry of one scenario, from agentotel and from the helper."""

    ours: Capture
    oracle: Capture


def _without_own(attributes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if not k.startswith("agentotel.")}


def _spec_metrics(shapes: dict[str, MetricShape]) -> dict[str, MetricShape]:
    return {name: shape for name, shape in shapes.items() if not name.startswith("agentotel.")}


@pytest.fixture
def ours() -> Iterator[Capture]:
    """agentotel's operations on their own providers (``init()`` would set global ones)."""
    capture = Capture()
    previous = _runtime.RUNTIME
    _runtime.install(
        Runtime(
            capture.tracer_provider.get_tracer("agentotel"),
            Instruments(capture.meter_provider.get_meter("agentotel")),
            load_price_table(),
        )
    )
    try:
        yield capture
    finally:
        _runtime.install(previous)
        capture.shutdown()


@pytest.fixture
def oracle(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TelemetryHandler, Capture]]:
    """The helper's ``TelemetryHandler`` on a second, separate set of providers."""
    for variable in (
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
        OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT,
        OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK,
    ):
        monkeypatch.delenv(variable, raising=False)  # the helper's defaults: no content
    capture = Capture()
    handler = TelemetryHandler(
        tracer_provider=capture.tracer_provider,
        meter_provider=capture.meter_provider,
        logger_provider=capture.logger_provider,
    )
    try:
        yield handler, capture
    finally:
        capture.shutdown()


@pytest.fixture(params=SCENARIOS, ids=lambda s: s.name)
def scenario(request: pytest.FixtureRequest) -> Scenario:
    return request.param  # type: ignore[no-any-return]


def record(scenario: Scenario, ours: Capture, oracle: tuple[TelemetryHandler, Capture]) -> Recorded:
    handler, oracle_capture = oracle
    scenario.run_ours()
    scenario.run_oracle(handler)
    return Recorded(ours, oracle_capture)


# --------------------------------------------------------------------------- spans


def test_span_names_kinds_and_parents_match_oracle(scenario, ours, oracle):
    recorded = record(scenario, ours, oracle)
    expected = {name: (s.kind, s.parent) for name, s in scenario.spans.items()}
    theirs = {name: (s.kind, s.parent) for name, s in recorded.oracle.span_shapes().items()}
    mine = {name: (s.kind, s.parent) for name, s in recorded.ours.span_shapes().items()}
    assert theirs == expected
    assert mine == expected


def test_span_status_codes_match_oracle(scenario, ours, oracle):
    recorded = record(scenario, ours, oracle)
    expected = {name: s.status for name, s in scenario.spans.items()}
    assert {n: s.status for n, s in recorded.oracle.span_shapes().items()} == expected
    assert {n: s.status for n, s in recorded.ours.span_shapes().items()} == expected


def test_span_attributes_match_oracle_apart_from_agentotel_namespace(scenario, ours, oracle):
    recorded = record(scenario, ours, oracle)
    expected = {name: s.attributes for name, s in scenario.spans.items()}
    theirs = {n: s.attributes for n, s in recorded.oracle.span_shapes().items()}
    mine = {n: _without_own(s.attributes) for n, s in recorded.ours.span_shapes().items()}
    assert theirs == expected
    assert mine == expected


def test_agentotel_adds_only_its_own_namespaced_span_attributes(scenario, ours, oracle):
    recorded = record(scenario, ours, oracle)
    theirs = recorded.oracle.span_shapes()
    extra = {
        name: set(shape.attributes) - set(theirs[name].attributes)
        for name, shape in recorded.ours.span_shapes().items()
        if name in theirs
    }
    expected = {name: scenario.extra_span_attributes.get(name, set()) for name in scenario.spans}
    assert extra == expected


@pytest.mark.parametrize("failure", FAILURES, ids=lambda s: s.name)
def test_error_status_description_is_the_exception_message_like_oracle(failure, ours, oracle):
    recorded = record(failure, ours, oracle)
    message = ERROR_MESSAGES[failure.name]
    expected = {name: message for name, s in failure.spans.items() if s.status is StatusCode.ERROR}
    theirs = {
        name: span.status.description
        for name, span in recorded.oracle.spans().items()
        if span.status.status_code is StatusCode.ERROR
    }
    assert theirs == expected
    mine = {
        name: span.status.description
        for name, span in recorded.ours.spans().items()
        if span.status.status_code is StatusCode.ERROR
    }
    assert mine == expected


def test_zero_cache_token_counts_are_left_off_the_span_like_oracle(ours, oracle):
    handler, oracle_capture = oracle
    ours_success(cache_read=0, cache_write=0)
    oracle_success(handler, cache_read=0, cache_write=0)
    expected = {**CHAT_REQUEST_ATTRIBUTES, **CHAT_RESPONSE_ATTRIBUTES}
    theirs = dict(oracle_capture.spans()[CHAT_SPAN].attributes or {})
    assert theirs == expected
    assert _without_own(dict(ours.spans()[CHAT_SPAN].attributes or {})) == expected


# --------------------------------------------------------------------------- metrics


def test_metric_names_and_units_match_oracle(scenario, ours, oracle):
    recorded = record(scenario, ours, oracle)
    expected = {name: UNITS[name] for name in scenario.metric_points}
    theirs = {n: m.unit for n, m in _spec_metrics(recorded.oracle.metric_shapes()).items()}
    mine = {n: m.unit for n, m in _spec_metrics(recorded.ours.metric_shapes()).items()}
    assert theirs == expected
    assert mine == expected


def test_histogram_bucket_boundaries_match_oracle(scenario, ours, oracle):
    recorded = record(scenario, ours, oracle)
    expected = {name: BUCKETS[name] for name in scenario.metric_points}
    theirs = {n: m.bounds for n, m in _spec_metrics(recorded.oracle.metric_shapes()).items()}
    mine = {n: m.bounds for n, m in _spec_metrics(recorded.ours.metric_shapes()).items()}
    assert theirs == expected
    assert mine == expected


def test_metric_attributes_match_oracle(scenario, ours, oracle):
    recorded = record(scenario, ours, oracle)
    expected = {
        name: sorted(points, key=_point_key) for name, points in scenario.metric_points.items()
    }
    theirs = {n: m.points for n, m in _spec_metrics(recorded.oracle.metric_shapes()).items()}
    mine = {n: m.points for n, m in _spec_metrics(recorded.ours.metric_shapes()).items()}
    assert theirs == expected
    assert mine == expected


def test_token_usage_values_match_oracle(ours, oracle):
    recorded = record(SUCCESS, ours, oracle)
    expected = {"input": INPUT_TOKENS, "output": OUTPUT_TOKENS}

    def by_token_type(capture: Capture) -> dict[str, float]:
        usage = capture.metric_shapes()["gen_ai.client.token.usage"]
        return {p["gen_ai.token.type"]: s for p, s in zip(usage.points, usage.sums, strict=True)}

    assert by_token_type(recorded.oracle) == expected
    assert by_token_type(recorded.ours) == expected


def test_agentotel_adds_only_its_own_namespaced_metrics(scenario, ours, oracle):
    recorded = record(scenario, ours, oracle)
    extra = set(recorded.ours.metric_shapes()) - set(recorded.oracle.metric_shapes())
    assert extra == scenario.extra_metrics


# --------------------------------------------------------------------------- retrieval content


def test_retrieval_content_matches_oracle_when_captured_on_spans(
    ours: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With span capture on both sides: the same query text, the same documents (as JSON
    values; agentotel writes its usual JSON spacing, the helper a compact one)."""
    monkeypatch.setenv(OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, "SPAN_ONLY")
    oracle_capture = Capture()
    handler = TelemetryHandler(
        tracer_provider=oracle_capture.tracer_provider,
        meter_provider=oracle_capture.meter_provider,
        logger_provider=oracle_capture.logger_provider,
    )
    runtime = _runtime.current()
    _runtime.install(
        Runtime(runtime.tracer, runtime.instruments, runtime.prices, capture="SPAN_ONLY")
    )
    try:
        ours_retrieval()
        oracle_retrieval(handler)
        theirs = dict(oracle_capture.spans()[RETRIEVAL_SPAN].attributes or {})
        mine = dict(ours.spans()[RETRIEVAL_SPAN].attributes or {})
    finally:
        oracle_capture.shutdown()
    expected_documents = [{"id": i, "score": score} for i, score in DOCUMENTS]
    for attributes in (theirs, mine):
        assert attributes["gen_ai.retrieval.query.text"] == QUERY
        assert json.loads(attributes["gen_ai.retrieval.documents"]) == expected_documents
    assert _without_own(mine).keys() == theirs.keys()



# --------------------------------------------------------------------------- streaming


def test_chunk_metrics_are_recorded_once_per_chunk_like_oracle(ours, oracle):
    recorded = record(STREAMING, ours, oracle)
    expected = {
        "gen_ai.client.operation.duration": [1],
        "gen_ai.client.operation.time_to_first_chunk": [1],
        "gen_ai.client.operation.time_per_output_chunk": [CHUNKS - 1],
    }

    def counts(capture: Capture) -> dict[str, list[int | None]]:
        shapes = capture.metric_shapes()
        return {name: shapes[name].counts for name in expected}

    assert counts(recorded.oracle) == expected
    assert counts(recorded.ours) == expected


@pytest.mark.parametrize(
    "scenario", [ABANDONED_STREAM, CANCELLED_STREAM], ids=lambda s: s.name
)
def test_stream_failure_status_description_like_oracle(scenario, ours, oracle):
    recorded = record(scenario, ours, oracle)
    expected = "abandoned stream" if scenario is ABANDONED_STREAM else ""
    assert recorded.oracle.spans()[CHAT_SPAN].status.description == expected
    assert recorded.ours.spans()[CHAT_SPAN].status.description == expected

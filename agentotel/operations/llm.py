"""The LLM call kind: ``{operation} {request model}``, a CLIENT span around one model
request, with the GenAI client metrics and the call's cost.

Source: GenAI spans, "Inference" (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/)
and GenAI metrics (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/);
the attribute set and the ``gen_ai.client.inference.operation.details`` event as in
``opentelemetry-util-genai`` 1.3b0 (``_inference_invocation.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from time import perf_counter as default_timer
from types import TracebackType
from typing import Any, TypeVar, overload

from opentelemetry import context as otel_context
from opentelemetry._logs import LogRecord
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind

from agentotel import content
from agentotel import semconv as sc
from agentotel._errors import warn, warn_failure, warn_misuse
from agentotel._runtime import Runtime
from agentotel.operations import _genai_context
from agentotel.operations._operation import (
    _ACTIVE,
    _NEW,
    MESSAGES_ACCEPTED,
    Attributes,
    Operation,
    count,
    inherited_conversation,
    optional_text,
    text,
    texts,
)
from agentotel.operations._stream import AsyncChunkStream, ChunkStream

_T = TypeVar("_T")

_OPERATIONS_ACCEPTED = ", ".join(sorted(sc.LLM_OPERATIONS))
# where the record_response arguments are named in warnings
_RESPONSE_MODEL = "agentotel.llm.record_response(response_model)"
_RESPONSE_ID = "agentotel.llm.record_response(response_id)"
_INPUT_TOKENS = "agentotel.llm.record_response(input_tokens)"
_OUTPUT_TOKENS = "agentotel.llm.record_response(output_tokens)"
_CACHE_READ = "agentotel.llm.record_response(cache_read_input_tokens)"
_CACHE_WRITE = "agentotel.llm.record_response(cache_write_input_tokens)"
_FINISH_REASONS = "agentotel.llm.record_response(finish_reasons)"
_DIMENSIONS = "agentotel.llm.record_response(dimension_count)"
_PARAMS_ACCEPTED = ", ".join(sc.GEN_AI_REQUEST_PARAMS)


class _Streaming:
    """The stream of one LLM call: chunk times, chunk texts, who ends the call.

    Made by the call's first ``stream()``, ``record_chunk()`` or decorated-generator item.
    ``held``: a ``with`` block (or the decorator) is still open and ends the call; else the
    last of the ``open`` streams to end does.
    """

    __slots__ = ("held", "open", "last_at", "ttfc", "texts", "attributes", "error", "abandoned")

    def __init__(self, held: bool, capture: bool) -> None:
        self.held = held
        self.open = 0  # streams handed out and not ended yet
        self.last_at: float | None = None  # when the last chunk arrived
        self.ttfc: float | None = None  # seconds from the call's start to the first chunk
        self.texts: list[str] | None = [] if capture else None  # chunk texts (capture on)
        self.attributes: Attributes | None = None  # the chunk metrics' attributes
        self.error: BaseException | None = None  # the first stream failure
        self.abandoned = False  # a stream was garbage-collected while nothing held the call


class LLMCall(Operation):
    """``{operation} {request model}`` — CLIENT span, operation duration, tokens and cost.

    Span attributes at start (visible to samplers): ``gen_ai.operation.name`` (required:
    ``chat``, ``text_completion``, ``embeddings``, ``generate_content``),
    ``gen_ai.provider.name`` (required), ``gen_ai.request.model`` (conditionally
    required), ``server.address`` / ``server.port`` (recommended), the request
    parameters (``gen_ai.request.temperature``, ``.top_p``, ``.max_tokens``, ...) and
    ``gen_ai.conversation.id`` (when a workflow or agent set one). From
    :meth:`record_response`: ``gen_ai.response.model``, ``gen_ai.response.id``,
    ``gen_ai.response.finish_reasons``, ``gen_ai.usage.input_tokens``,
    ``gen_ai.usage.output_tokens``, ``gen_ai.usage.cache_read.input_tokens``,
    ``gen_ai.usage.cache_write.input_tokens`` and ``agentotel.llm.cost_usd`` (USD).
    ``error.type`` on failure. Opt-in content: see :meth:`record_input`.

    Metrics: ``gen_ai.client.operation.duration`` (histogram, s) and
    ``gen_ai.client.token.usage`` (histogram, {token}; ``gen_ai.token.type`` ``input`` /
    ``output``), both with operation, provider, request and response model, server
    address/port, ``error.type``; ``agentotel.llm.cost`` (counter, USD; provider,
    request model).

    Streamed (:meth:`stream`, :meth:`record_chunk`, or a decorated generator): also
    ``gen_ai.request.stream`` (true) and ``gen_ai.response.time_to_first_chunk`` (s) on the
    span, ``gen_ai.client.operation.time_to_first_chunk`` (at the first chunk: seconds
    since the call started) and ``gen_ai.client.operation.time_per_output_chunk`` (at each
    later chunk: seconds since the previous one), histograms with the duration's
    attributes (``error.type`` aside) as they are when the chunk arrives.

    Embeddings (``operation="embeddings"``): input tokens only, and
    ``gen_ai.embeddings.dimension.count`` from ``record_response(dimension_count=...)``;
    no conversation id, as util-genai's embeddings spans.
    """

    __slots__ = (
        "model",
        "provider",
        "operation",
        "server_address",
        "server_port",
        "request_params",
        "conversation_id",
        "_recorded",
        "_details",
        "_inner",
        "_outer",
        "_streaming",
    )
    _span_kind = SpanKind.CLIENT
    _api = "agentotel.llm"

    def __init__(
        self,
        model: str,
        provider: str,
        operation: str = sc.OP_CHAT,
        server_address: str | None = None,
        server_port: int | None = None,
        request_params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__((model, provider, operation, server_address, server_port, request_params))
        if not (  # the usual case checked inline: no call on the hot path
            model.__class__ is str
            and provider.__class__ is str
            and operation.__class__ is str
            and operation in sc.LLM_OPERATIONS
            and (server_address is None or server_address.__class__ is str)
            and (server_port is None or server_port.__class__ is int and 0 <= server_port < 65536)
        ):
            model = text(model, "agentotel.llm(model)")
            provider = text(provider, "agentotel.llm(provider)")
            operation = _operation(operation)
            server_address = optional_text(server_address, "agentotel.llm(server_address)")
            server_port = _port(server_port)
        self.model = model
        self.provider = provider
        self.operation = operation
        self.server_address = server_address
        self.server_port = server_port
        self.request_params = _request_params(request_params)
        # util-genai's embeddings spans carry no conversation id
        self.conversation_id = (
            inherited_conversation(None) if operation != sc.OP_EMBEDDINGS else None
        )
        self._recorded: dict[str, Any] = {}  # what record_response() set on the span
        self._details: dict[str, Any] | None = None  # event attributes (EVENT modes only)
        self._inner: Any = None  # InferenceData (EmbeddingData) inner instrumented calls fill in
        self._outer: Any = None  # the data of the inference this call runs inside
        self._streaming: _Streaming | None = None  # once streamed

    def _begin(self, *, attach: bool) -> None:
        contract = _genai_context.loaded()
        if contract is not None:
            try:
                embeddings = self.operation == sc.OP_EMBEDDINGS  # a contract of their own
                self._outer = contract.outer(otel_context.get_current(), embeddings)
                if self._outer is None:
                    capture = self._runtime.capture != content.NO_CONTENT
                    self._inner = contract.new_data(capture, embeddings)
            except Exception:  # noqa: BLE001
                warn_failure("join the GenAI inference context")
        if self._outer is None:
            super()._begin(attach=attach)
            return
        # inside another inference: no span of its own (util-genai's nesting contract)
        self._state = _ACTIVE
        self._start = default_timer()

    def _enter_context(self, ctx: Context) -> Context:
        if self._inner is not None:
            return _genai_context.enter(ctx, self._inner)
        return ctx

    def _span_name(self) -> str:
        return f"{self.operation} {self.model}"

    def _base_attributes(self) -> Attributes:
        attributes: Attributes = {
            sc.GEN_AI_OPERATION_NAME: self.operation,
            sc.GEN_AI_PROVIDER_NAME: self.provider,
            sc.GEN_AI_REQUEST_MODEL: self.model,
        }
        if self.server_address is not None:
            attributes[sc.SERVER_ADDRESS] = self.server_address
        if self.server_port is not None:
            attributes[sc.SERVER_PORT] = self.server_port
        return attributes

    def _start_attributes(self) -> Attributes:
        attributes = self._base_attributes()
        attributes.update(self.request_params)
        if self.conversation_id is not None:
            attributes[sc.GEN_AI_CONVERSATION_ID] = self.conversation_id
        return attributes

    def record_response(
        self,
        *,
        response_model: str | None = None,
        response_id: str | None = None,
        finish_reasons: Sequence[str] | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cache_read_input_tokens: int | None = None,
        cache_write_input_tokens: int | None = None,
        dimension_count: int | None = None,
    ) -> None:
        """Record what the provider answered. Token counts are in tokens (ints >= 0).

        ``input_tokens`` includes cached tokens (``cache_read_input_tokens`` and
        ``cache_write_input_tokens`` break them out), per the GenAI usage attributes.
        The cost in USD is computed from the offline pricing table (see
        :mod:`agentotel.cost`); an unknown model records no cost. A value of the wrong
        type is left out with one warning naming it. Callable any time before the call
        ends, mid-stream too (later values win; chunks timed after it carry its response
        model).

        Embeddings (``operation="embeddings"``): ``dimension_count`` is the length of the
        returned vectors (``gen_ai.embeddings.dimension.count``); embeddings report input
        tokens only, so ``output_tokens`` is left out there (with a warning), and
        ``dimension_count`` anywhere else.
        """
        try:
            cache_read = cache_read_input_tokens
            cache_write = cache_write_input_tokens
            if not (  # the usual case checked inline: no call on the hot path
                (response_model is None or response_model.__class__ is str)
                and (response_id is None or response_id.__class__ is str)
                and (input_tokens is None or input_tokens.__class__ is int and input_tokens >= 0)
                and (output_tokens is None or output_tokens.__class__ is int and output_tokens >= 0)
                and (cache_read is None or cache_read.__class__ is int and cache_read >= 0)
                and (cache_write is None or cache_write.__class__ is int and cache_write >= 0)
                and dimension_count is None
            ):
                response_model = optional_text(response_model, _RESPONSE_MODEL)
                response_id = optional_text(response_id, _RESPONSE_ID)
                input_tokens = count(input_tokens, _INPUT_TOKENS)
                output_tokens = count(output_tokens, _OUTPUT_TOKENS)
                cache_read = count(cache_read, _CACHE_READ)
                cache_write = count(cache_write, _CACHE_WRITE)
                dimension_count = count(dimension_count, _DIMENSIONS)
                if dimension_count is not None and self.operation != sc.OP_EMBEDDINGS:
                    warn_misuse(
                        _DIMENSIONS,
                        dimension_count,
                        "a count on an embeddings call (operation='embeddings')",
                        "not recorded",
                    )
                    dimension_count = None
            if output_tokens is not None and self.operation == sc.OP_EMBEDDINGS:
                warn_misuse(
                    _OUTPUT_TOKENS,
                    output_tokens,
                    "None on an embeddings call (embeddings report input tokens only)",
                    "not recorded",
                )
                output_tokens = None
            attributes: Attributes = {}  # the values given (inline: no call per value)
            if response_model is not None:
                attributes[sc.GEN_AI_RESPONSE_MODEL] = response_model
            if response_id is not None:
                attributes[sc.GEN_AI_RESPONSE_ID] = response_id
            if input_tokens is not None:
                attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] = input_tokens
            if output_tokens is not None:
                attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = output_tokens
            # zero cache counts are left off, as opentelemetry-util-genai does
            if cache_read:
                attributes[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cache_read
            if cache_write:
                attributes[sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] = cache_write
            if dimension_count is not None:
                attributes[sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimension_count
            reasons = (  # the SDK checks the items of a list or tuple (str, or dropped)
                list(finish_reasons)
                if finish_reasons.__class__ in (list, tuple)
                else texts(finish_reasons, _FINISH_REASONS)
            )
            if reasons:
                attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
            recorded = self._recorded
            recorded.update(attributes)
            # the cost goes on the span with the usage it is priced from (one SDK call)
            cost = self._cost(
                self._runtime,
                recorded.get(sc.GEN_AI_USAGE_INPUT_TOKENS),
                recorded.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS),
            )
            if cost is not None:
                attributes[sc.LLM_COST_USD] = cost
            self.span.set_attributes(attributes)
            streaming = self._streaming
            if streaming is not None:
                streaming.attributes = None  # the next chunk's metric attributes anew
        except Exception:  # noqa: BLE001
            warn_failure("record a response")

    # -- streaming ---------------------------------------------------------------------
    @overload
    def stream(self, chunks: AsyncIterable[_T]) -> AsyncChunkStream[_T]: ...

    @overload
    def stream(self, chunks: Iterable[_T]) -> ChunkStream[_T]: ...

    def stream(
        self, chunks: Iterable[_T] | AsyncIterable[_T]
    ) -> ChunkStream[_T] | AsyncChunkStream[_T]:
        """The response stream ``chunks`` (a sync or async iterator or iterable: an SDK
        stream, a generator), wrapped so that iterating it times each chunk. It yields the
        very same chunk objects; the iterable's exceptions reach the consumer unchanged.

        Inside ``with agentotel.llm(...) as call:`` the call ends at the block's end or the
        stream's, whichever comes later. Without a ``with`` block,
        ``agentotel.llm(...).stream(chunks)`` starts the call and the stream ends it. The
        stream ends when it is exhausted, closed (``close()`` / ``aclose()``, or leaving
        ``with call.stream(...) as chunks:``), fails (``error.type`` of its exception; a
        cancelled task: ``asyncio.CancelledError``), or is garbage-collected unclosed —
        an abandoned stream, ``error.type`` ``_OTHER`` unless a ``with`` block still holds
        the call (as util-genai's stream wrappers record it; a ``break`` out of a ``for``
        with nothing closing the stream is one). Either way the span ends and the metrics
        are recorded once.

        A ``str`` chunk is text: under content capture the chunks' text is joined into the
        output message (unless :meth:`record_output` gave one). Other chunks are not read:
        an instrumented SDK stream (init() enables the official instrumentations) reports
        its usage, response model and content to this call when it finishes, if the SDK
        call was made inside the call — inside the ``with`` block, or lazily by the
        iterable (reading it runs in the call's context). An SDK stream opened before
        ``stream()`` started the call is a request of its own, with its own span.
        """
        try:
            if self._runtime.disabled:
                return chunks  # type: ignore[return-value]
            cls = type(chunks)
            wrapper: type[ChunkStream[_T]] | type[AsyncChunkStream[_T]]
            if hasattr(cls, "__aiter__"):
                wrapper = AsyncChunkStream
            elif hasattr(cls, "__iter__"):
                wrapper = ChunkStream
            else:
                warn_misuse(
                    "agentotel.llm.stream(chunks)",
                    chunks,
                    "an iterable or async iterable",
                    "returned unchanged, not timed",
                )
                return chunks  # type: ignore[return-value]
            state = self._state
            if state == _NEW:  # no with block: the stream starts the call and ends it
                self._begin(attach=False)
                streaming = self._streaming = _Streaming(False, self._capturing())
            elif state == _ACTIVE:
                streaming = self._streaming_state()
            else:
                warn(
                    "agentotel.llm.stream() called after the call ended; "
                    "the stream is returned unchanged, not timed"
                )
                return chunks  # type: ignore[return-value]
            stream = wrapper(chunks, self)  # type: ignore[arg-type]
            streaming.open += 1
            return stream
        except Exception:  # noqa: BLE001
            warn_failure("wrap a stream")
            return chunks  # type: ignore[return-value]

    def record_chunk(self, text: str | None = None) -> None:
        """Report that one chunk of the response stream arrived now (use :meth:`stream` to
        have an iterable report its chunks itself).

        The first chunk records ``gen_ai.client.operation.time_to_first_chunk`` (seconds
        since the call started) and ``gen_ai.response.time_to_first_chunk`` on the span;
        each later one ``gen_ai.client.operation.time_per_output_chunk`` (seconds since
        the previous chunk); the span gets ``gen_ai.request.stream`` true. ``text``, kept
        only under content capture, is joined with the other chunks' text into the output
        message when the call ends (unless :meth:`record_output` gave one). Does nothing
        before the call started or after it ended.
        """
        try:
            if self._state != _ACTIVE:
                return
            if text is not None and text.__class__ is not str:
                text = optional_text(text, "agentotel.llm.record_chunk(text)")
            self._streaming_state()
            self._chunk(text)
        except Exception:  # noqa: BLE001
            warn_failure("record a chunk")

    def _capturing(self) -> bool:
        return self._runtime.capture != content.NO_CONTENT

    def _streaming_state(self) -> _Streaming:
        """The call's stream state; a new one is held by the ``with`` block (or decorator)
        that started the call."""
        streaming = self._streaming
        if streaming is None:
            streaming = self._streaming = _Streaming(True, self._capturing())
        return streaming

    def _chunk_hook(self) -> Callable[[Any], None] | None:
        if self._state != _ACTIVE:
            return None
        self._streaming_state()
        return self._chunk

    def _chunk(self, chunk: object) -> None:
        """One chunk arrived: the time to it, its text (``str`` chunks, content capture on).

        As util-genai's ``_on_stream_chunk``: the first chunk's delta from the call's start
        is the time to first chunk, each later chunk's delta from the previous one the
        time per output chunk; no metrics inside another inference. Never raises.
        """
        if self._state != _ACTIVE:
            return
        now = default_timer()
        streaming: _Streaming = self._streaming  # type: ignore[assignment]
        try:
            last = streaming.last_at
            streaming.last_at = now
            instruments = self._runtime.instruments
            if last is None:
                delta = now - self._start
                if delta < 0.0:
                    delta = 0.0
                streaming.ttfc = delta
                histogram = instruments.time_to_first_chunk
            else:
                delta = now - last
                if delta < 0.0:
                    delta = 0.0
                histogram = instruments.time_per_output_chunk
            if self._outer is None:
                attributes = streaming.attributes
                if attributes is None:
                    attributes = streaming.attributes = self._metric_attributes()
                histogram.record(delta, attributes, self._context)
            if chunk.__class__ is str and streaming.texts is not None:
                streaming.texts.append(chunk)
        except Exception:  # noqa: BLE001
            warn_failure("record a chunk")

    def _stream_end(self, error: BaseException | None, abandoned: bool) -> None:
        """One stream ended (see :meth:`stream`); the last one ends a call nothing holds."""
        try:
            streaming = self._streaming
            if streaming is None or self._state != _ACTIVE:
                return
            streaming.open -= 1
            if error is not None:
                if streaming.error is None:
                    streaming.error = error
            elif abandoned and not streaming.held:
                streaming.abandoned = True
            if streaming.held or streaming.open > 0:
                return
            if streaming.error is None and streaming.abandoned:
                self.fail(sc.ERROR_TYPE_OTHER, sc.ABANDONED_STREAM)
            self._end(streaming.error)
        except Exception:  # noqa: BLE001
            warn_failure("end a stream")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        streaming = self._streaming
        if streaming is not None and not self._reentered and self._state == _ACTIVE:
            if exc is None and streaming.open > 0:
                # a stream outlives the block: the block lets go, the stream ends the call
                streaming.held = False
                token, self._token = self._token, None
                if token is not None:
                    try:
                        otel_context.detach(token)  # type: ignore[arg-type]
                    except Exception:  # noqa: BLE001
                        pass
                return
            if exc is None:
                exc = streaming.error  # a stream that failed inside the block
        super().__exit__(exc_type, exc, tb)

    def _event_details(self) -> dict[str, Any]:
        if self._details is None:
            self._details = {}
        return self._details

    def record_input(
        self,
        messages: Iterable[Mapping[str, Any] | str],
        system_instructions: str | Sequence[Any] | None = None,
    ) -> None:
        """Opt-in content: the prompt messages and system instructions.

        ``SPAN_ONLY``/``SPAN_AND_EVENT``: JSON strings ``gen_ai.input.messages`` and
        ``gen_ai.system_instructions`` on the span; ``EVENT_ONLY``/``SPAN_AND_EVENT``: the
        same in structured form on the ``gen_ai.client.inference.operation.details``
        event. ``NO_CONTENT``: nothing. Format: :mod:`agentotel.content`.
        """
        if self._runtime.capture == content.NO_CONTENT:
            return
        self._capture(
            sc.GEN_AI_INPUT_MESSAGES, "record_input(messages)", messages, content.input_messages
        )
        if system_instructions is not None:
            self._capture(
                sc.GEN_AI_SYSTEM_INSTRUCTIONS,
                "record_input(system_instructions)",
                system_instructions,
                content.system_instructions,
            )

    def record_output(self, messages: Iterable[Mapping[str, Any] | str]) -> None:
        """Opt-in content: the completion (``gen_ai.output.messages``); see :meth:`record_input`.

        Accepts OpenAI ``choices`` entries, assistant messages or strings.
        """
        if self._runtime.capture == content.NO_CONTENT:
            return
        self._capture(
            sc.GEN_AI_OUTPUT_MESSAGES, "record_output(messages)", messages, content.output_messages
        )

    def _capture(
        self, key: str, where: str, value: Any, convert: Callable[[Any], list[dict[str, Any]]]
    ) -> None:
        try:
            converted = convert(value)
        except Exception:  # noqa: BLE001 - not of the message shape
            warn_misuse(f"agentotel.llm.{where}", value, MESSAGES_ACCEPTED, "not captured")
            return
        runtime = self._runtime
        if runtime.capture in content.ON_SPAN:
            self._set_content(key, converted)
        if runtime.capture in content.ON_EVENT:
            self._event_details()[key] = content.to_plain(converted, runtime.content_max_length)

    def _emit_details(self, runtime: Runtime) -> None:
        """The ``gen_ai.client.inference.operation.details`` event, parented to the span."""
        details = self._details
        if details is None or runtime.event_logger is None:
            return
        if not any(key in details for key in sc.CONTENT_ATTRIBUTES):
            return
        attributes: dict[str, Any] = self._with_error(self._start_attributes())
        attributes.update(details)
        runtime.event_logger.emit(
            LogRecord(
                event_name=sc.EVENT_INFERENCE_DETAILS, attributes=attributes, context=self._context
            )
        )

    def _metric_attributes(self) -> Attributes:
        """The client metrics' attributes (``error.type`` aside): operation, provider,
        request model, server, and the response model and server as recorded so far."""
        attributes = self._base_attributes()
        recorded = self._recorded
        for key in (sc.GEN_AI_RESPONSE_MODEL, sc.SERVER_ADDRESS, sc.SERVER_PORT):
            if key not in attributes and recorded.get(key) is not None:
                attributes[key] = recorded[key]  # learned from an instrumented call inside
        return attributes

    def _stream_attributes(self, streaming: _Streaming, recorded: dict[str, Any]) -> None:
        """``gen_ai.request.stream`` (unless given as a request parameter) and the time to
        first chunk, on the span and among the recorded values (ahead of an inner call's)."""
        attributes: Attributes = {}
        if sc.GEN_AI_REQUEST_STREAM not in self.request_params:
            attributes[sc.GEN_AI_REQUEST_STREAM] = True
        if streaming.ttfc is not None:
            attributes[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = streaming.ttfc
        recorded.update(attributes)
        self.span.set_attributes(attributes)

    def _chunk_output(self, chunk_texts: list[str], recorded: dict[str, Any]) -> None:
        """The chunks' text as the output message, unless one was captured already
        (:meth:`record_output`, or an instrumented call's completion hook)."""
        on_span = getattr(self.span, "attributes", None)
        if (on_span and sc.GEN_AI_OUTPUT_MESSAGES in on_span) or (
            self._details and sc.GEN_AI_OUTPUT_MESSAGES in self._details
        ):
            return
        reasons = recorded.get(sc.GEN_AI_RESPONSE_FINISH_REASONS)
        reason = reasons[0] if reasons else None
        self._capture(
            sc.GEN_AI_OUTPUT_MESSAGES,
            "record_chunk(text)",
            ["".join(chunk_texts)],
            lambda messages: content.output_messages(messages, reason),
        )

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        recorded = self._recorded
        streaming = self._streaming
        if streaming is not None:
            self._stream_attributes(streaming, recorded)
        if self._outer is not None:  # inside another inference: publish, record nothing
            _genai_context.publish(
                self._outer, {**self._base_attributes(), **self.request_params, **recorded}
            )
            return
        if self._inner is not None and _genai_context.filled(self._inner):
            own = self._start_attributes()  # the outer's own values win, as in util-genai
            learned = {  # what the instrumented calls inside it learned
                key: value
                for key, value in _genai_context.attributes_of(self._inner).items()
                if key not in recorded and key not in own
            }
            if learned:
                recorded.update(learned)
                recorded.pop(sc.LLM_COST_USD, None)  # priced again below, with what it learned
                self.span.set_attributes(learned)
        if streaming is not None and streaming.texts:
            try:
                self._chunk_output(streaming.texts, recorded)
            except Exception:  # noqa: BLE001 - the metrics below must still be recorded
                warn_failure("capture the streamed output")
        input_tokens = recorded.get(sc.GEN_AI_USAGE_INPUT_TOKENS)
        output_tokens = recorded.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS)
        cost = recorded.get(sc.LLM_COST_USD)  # priced by record_response
        if cost is None:
            cost = self._cost(runtime, input_tokens, output_tokens)
            if cost is not None:
                self.span.set_attribute(sc.LLM_COST_USD, cost)
        if runtime.capture in content.ON_EVENT:
            self._event_details().update(recorded)
        if self._details is not None:
            try:
                self._emit_details(runtime)
            except Exception:  # noqa: BLE001 - the metrics below must still be recorded
                warn_failure("emit the inference details event")
        attributes = self._with_error(self._metric_attributes())
        instruments = runtime.instruments
        ctx = self._context
        instruments.operation_duration.record(duration_s, attributes, ctx)
        if input_tokens is not None:
            instruments.token_usage.record(
                input_tokens, {**attributes, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_INPUT}, ctx
            )
        if output_tokens is not None:
            attributes[sc.GEN_AI_TOKEN_TYPE] = sc.TOKEN_TYPE_OUTPUT
            instruments.token_usage.record(output_tokens, attributes, ctx)
        if cost is not None:
            instruments.llm_cost.add(
                cost, {sc.GEN_AI_PROVIDER_NAME: self.provider, sc.GEN_AI_REQUEST_MODEL: self.model}
            )

    def _cost(
        self, runtime: Runtime, input_tokens: int | None, output_tokens: int | None
    ) -> float | None:
        """The call's cost in USD from the recorded usage (ints: checked by
        record_response, or by the contract when an inner call wrote them), kept among
        the recorded values; ``None`` without usage or for a model no source prices.
        The caller puts it on the span."""
        if input_tokens is None and output_tokens is None:
            return None
        recorded = self._recorded
        model = recorded.get(sc.GEN_AI_RESPONSE_MODEL)
        cost = runtime.prices.cost(
            model if model.__class__ is str else self.model,
            input_tokens,
            output_tokens,
            recorded.get(sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
            recorded.get(sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS),
            provider=self.provider,
        )
        if cost is not None:
            recorded[sc.LLM_COST_USD] = cost
        return cost


def _operation(value: object) -> str:
    if isinstance(value, str) and value in sc.LLM_OPERATIONS:
        return value
    warn_misuse("agentotel.llm(operation)", value, _OPERATIONS_ACCEPTED, f"using {sc.OP_CHAT!r}")
    return sc.OP_CHAT


def _port(value: object) -> int | None:
    if value is None or (
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535
    ):
        return value
    warn_misuse("agentotel.llm(server_port)", value, "an int from 0 to 65535", "not recorded")
    return None


def _request_params(params: Mapping[str, Any] | None) -> Attributes:
    """``gen_ai.request.*`` attributes from ``llm(**request_params)``; unknown names and
    ``None`` values are left out (the SDK drops values of a type attributes cannot hold)."""
    attributes: Attributes = {}
    if params is None:
        return attributes
    if params.__class__ is not dict and not isinstance(params, Mapping):
        warn_misuse("agentotel.LLMCall(request_params)", params, "a mapping", "not recorded")
        return attributes
    for key, value in params.items():
        name = sc.GEN_AI_REQUEST_PARAMS.get(key)
        if name is None:
            warn_misuse("agentotel.llm(**request_params)", key, _PARAMS_ACCEPTED, "not recorded")
        elif value is not None:
            attributes[name] = value
    return attributes


def llm(
    model: str,
    *,
    provider: str,
    operation: str = sc.OP_CHAT,
    server_address: str | None = None,
    server_port: int | None = None,
    **request_params: Any,
) -> LLMCall:
    """A ``{operation} {model}`` span (CLIENT), operation duration, token usage and cost.

    ``request_params``: ``temperature``, ``top_p``, ``top_k``, ``max_tokens``,
    ``frequency_penalty``, ``presence_penalty``, ``stop_sequences``, ``seed``,
    ``choice_count``, ``stream``, ``encoding_formats``, ``output_type`` ->
    ``gen_ai.request.*``. Record the answer with :meth:`LLMCall.record_response`; time a
    streamed answer with :meth:`LLMCall.stream` (or :meth:`LLMCall.record_chunk`).
    ``operation="embeddings"``: an embeddings call (input tokens, dimension count).
    Never raises: an unknown ``operation`` is read as ``chat``, an unknown request
    parameter is left out, each with one warning naming the value.
    """
    return LLMCall(model, provider, operation, server_address, server_port, request_params)

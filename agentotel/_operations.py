"""The span + metric lifecycle shared by the five kinds (workflow, agent, LLM, tool, guardrail).

One base class, :class:`Operation`, does what every kind needs (the model is
``opentelemetry-util-genai``'s ``_invocation.py``):

1. start the span *with the sampling-relevant attributes already set*, make it current,
   note a monotonic start time;
2. on exit, set the end attributes, map an exception to ``error.type`` and status ERROR
   (recording the exception on the span), record the duration and the kind's metrics;
3. detach the context and end the span in ``finally``.

The kinds only supply their attributes and metrics. Nothing in here raises into user code:
a failure inside agentotel is logged (once per minute at most) and swallowed, while the
user's own exception always propagates unchanged. Span attributes and metric attributes
are kept apart; metric attributes are low cardinality only (names, model, provider, type,
verdict, ``error.type``) — ids never reach metrics.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from timeit import default_timer
from types import TracebackType
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import metrics as otel_metrics
from opentelemetry import trace as otel_trace
from opentelemetry._logs import Logger, LogRecord
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from agentotel import content
from agentotel import semconv as sc
from agentotel._config import DEFAULT_CONTENT_MAX_LENGTH
from agentotel._instruments import Instruments
from agentotel._ratelimit import log_throttled
from agentotel.cost import PriceTable, load_price_table

_logger = logging.getLogger("agentotel")
_CONVERSATION_KEY = otel_context.create_key("agentotel.conversation_id")
_F = TypeVar("_F", bound=Callable[..., Any])

Attributes = dict[str, AttributeValue]


class Runtime:
    """What the operations need from ``init()``: tracer, instruments, prices, switches."""

    __slots__ = (
        "tracer",
        "instruments",
        "prices",
        "disabled",
        "capture",
        "content_max_length",
        "event_logger",
    )

    def __init__(
        self,
        tracer: Tracer,
        instruments: Instruments,
        prices: PriceTable,
        *,
        disabled: bool = False,
        capture: str = content.NO_CONTENT,
        content_max_length: int = DEFAULT_CONTENT_MAX_LENGTH,
        event_logger: Logger | None = None,
    ) -> None:
        self.tracer = tracer
        self.instruments = instruments
        self.prices = prices
        self.disabled = disabled
        self.capture = (
            capture  # one of content.NO_CONTENT / SPAN_ONLY / EVENT_ONLY / SPAN_AND_EVENT
        )
        self.content_max_length = content_max_length
        self.event_logger = event_logger


def _default_runtime() -> Runtime:
    """Before ``init()``: the global (proxy) providers, so an app's own SDK setup works."""
    return Runtime(
        otel_trace.get_tracer(sc.INSTRUMENTATION_SCOPE),
        Instruments(otel_metrics.get_meter(sc.INSTRUMENTATION_SCOPE)),
        load_price_table(),
    )


RUNTIME: Runtime = _default_runtime()


def install(runtime: Runtime) -> None:
    """Make ``runtime`` the one every operation uses from now on."""
    global RUNTIME
    RUNTIME = runtime


def error_type_of(exc: BaseException) -> str:
    """``error.type`` for an exception: its fully qualified class name, builtins unqualified.

    Matches the ``exception.type`` the SDK records and ``opentelemetry-util-genai``.
    """
    cls = type(exc)
    module = cls.__module__
    return cls.__qualname__ if module in (None, "builtins") else f"{module}.{cls.__qualname__}"


class Operation:
    """One GenAI operation: a span plus its metrics. Use the kinds, not this base.

    Usable once as a context manager (``with agentotel.tool("search") as t:``); calling
    the object on a function returns a decorator that starts a fresh operation per call.
    """

    __slots__ = ("span", "_token", "_context", "_start", "_error_type", "_spec")
    _span_kind: SpanKind = SpanKind.INTERNAL

    def __init__(self, spec: tuple[Any, ...]) -> None:
        self._spec = spec  # the constructor arguments, to start a fresh copy per decorated call
        self._error_type: str | None = None
        self._token: object | None = None
        self.span: Span = otel_trace.INVALID_SPAN

    # -- what the kinds supply ------------------------------------------------------
    def _span_name(self) -> str:
        raise NotImplementedError

    def _start_attributes(self) -> Attributes:
        raise NotImplementedError

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        """Set end attributes and record metrics; ``self._error_type`` is set on failure."""
        raise NotImplementedError

    def _fresh(self) -> Operation:
        return type(self)(*self._spec)

    # -- lifecycle ------------------------------------------------------------------
    def _begin(self, *, attach: bool) -> None:
        runtime = RUNTIME
        parent = self._context = otel_context.get_current()
        try:
            self.span = runtime.tracer.start_span(
                self._span_name(),
                parent,
                self._span_kind,
                self._start_attributes(),
                record_exception=False,
                set_status_on_exception=False,
            )
            ctx = otel_trace.set_span_in_context(self.span, parent)
            self._context = self._enter_context(ctx)
            if attach:
                self._token = otel_context.attach(self._context)
        except Exception:  # noqa: BLE001 - telemetry must not break the application
            log_throttled(_logger, "agentotel failed to start a span", exc_info=True)
        self._start = default_timer()

    def _enter_context(self, ctx: Context) -> Context:
        return ctx

    def _end(self, exc: BaseException | None) -> None:
        duration = default_timer() - self._start
        span = self.span
        try:
            if isinstance(exc, Exception):
                self._error_type = error_type_of(exc)
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                span.set_attribute(sc.ERROR_TYPE, self._error_type)
            self._finish(duration, RUNTIME)
        except Exception:  # noqa: BLE001
            log_throttled(_logger, "agentotel failed to finish a span", exc_info=True)
        finally:
            token, self._token = self._token, None
            if token is not None:
                try:
                    otel_context.detach(token)  # type: ignore[arg-type]
                except Exception:  # noqa: BLE001
                    pass
            span.end()

    def __enter__(self) -> Any:
        self._begin(attach=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end(exc)

    def __call__(self, fn: _F) -> _F:
        from agentotel._decorators import decorate

        return decorate(self._fresh, fn)

    @property
    def context(self) -> Context:
        """The OpenTelemetry context holding this operation's span."""
        return self._context

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Set one span attribute (never a metric attribute)."""
        self.span.set_attribute(key, value)

    def fail(self, error_type: str, description: str | None = None) -> None:
        """Mark the operation failed without an exception (e.g. a handled HTTP 429).

        Sets ``error.type`` (a low-cardinality code) and status ERROR; the duration metrics
        carry the same ``error.type``.
        """
        self._error_type = error_type
        self.span.set_status(Status(StatusCode.ERROR, description or error_type))
        self.span.set_attribute(sc.ERROR_TYPE, error_type)

    def _set_content(self, key: str, value: Any) -> None:
        """Put one content value on the span as bounded JSON, when capture is on the span."""
        runtime = RUNTIME
        if runtime.capture in content.ON_SPAN:
            self.span.set_attribute(key, content.to_json(value, runtime.content_max_length))

    def _on_call(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """Decorator hook: the call's arguments (content capture only)."""

    def _on_return(self, value: Any) -> None:
        """Decorator hook: the call's return value (content capture only)."""

    def _with_error(self, attributes: Attributes) -> Attributes:
        if self._error_type is not None:
            attributes[sc.ERROR_TYPE] = self._error_type
        return attributes


def _put(attributes: Attributes, pairs: tuple[tuple[str, Any], ...]) -> Attributes:
    """Add the pairs whose value is not ``None``; returns ``attributes``."""
    for key, value in pairs:
        if value is not None:
            attributes[key] = value
    return attributes


def _conversation(conversation_id: str | None) -> str | None:
    if conversation_id is not None:
        return conversation_id
    value = otel_context.get_value(_CONVERSATION_KEY)
    return value if isinstance(value, str) else None


class _Invocation(Operation):
    """Workflow and agent: operations whose opt-in content is input and output messages."""

    __slots__ = ()

    def record_input(self, messages: Iterable[Mapping[str, Any] | str]) -> None:
        """Opt-in content: the input messages (``gen_ai.input.messages``, JSON on the span).

        Captured only when content capture is on the span (``SPAN_ONLY`` or
        ``SPAN_AND_EVENT``); see :mod:`agentotel.content` for the message format.
        """
        if RUNTIME.capture in content.ON_SPAN:
            self._set_content(sc.GEN_AI_INPUT_MESSAGES, content.input_messages(messages))

    def record_output(self, messages: Iterable[Mapping[str, Any] | str]) -> None:
        """Opt-in content: the output messages (``gen_ai.output.messages``, JSON on the span)."""
        if RUNTIME.capture in content.ON_SPAN:
            self._set_content(sc.GEN_AI_OUTPUT_MESSAGES, content.output_messages(messages))


class Workflow(_Invocation):
    """``invoke_workflow {name}`` — INTERNAL span and ``gen_ai.invoke_workflow.duration``.

    Span attributes: ``gen_ai.operation.name`` = ``invoke_workflow`` (required),
    ``gen_ai.workflow.name``, ``gen_ai.conversation.id`` (when given or inherited),
    ``error.type`` on failure. Metric attributes: workflow name, ``error.type``.
    A ``conversation_id`` given here is inherited by the agent and LLM spans inside.
    Source: GenAI agent spans (semantic-conventions-genai), as implemented by
    ``opentelemetry-util-genai`` 1.3b0.
    """

    __slots__ = ("name", "conversation_id")

    def __init__(self, name: str, conversation_id: str | None = None) -> None:
        super().__init__((name, conversation_id))
        self.name = name
        self.conversation_id = _conversation(conversation_id)

    def _span_name(self) -> str:
        return f"{sc.OP_INVOKE_WORKFLOW} {self.name}"

    def _start_attributes(self) -> Attributes:
        attributes: Attributes = {
            sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_WORKFLOW,
            sc.GEN_AI_WORKFLOW_NAME: self.name,
        }
        if self.conversation_id is not None:
            attributes[sc.GEN_AI_CONVERSATION_ID] = self.conversation_id
        return attributes

    def _enter_context(self, ctx: Context) -> Context:
        if self.conversation_id is None:
            return ctx
        return otel_context.set_value(_CONVERSATION_KEY, self.conversation_id, ctx)

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        runtime.instruments.invoke_workflow_duration.record(
            duration_s, self._with_error({sc.GEN_AI_WORKFLOW_NAME: self.name}), self._context
        )


class Agent(_Invocation):
    """``invoke_agent {name}`` — INTERNAL span (in-process agent), agent metrics.

    Span attributes: ``gen_ai.operation.name`` = ``invoke_agent`` (required),
    ``gen_ai.agent.name`` (set at start, for samplers), ``gen_ai.agent.id``,
    ``gen_ai.agent.description``, ``gen_ai.agent.version`` (when given),
    ``gen_ai.conversation.id`` (when given or inherited), ``error.type`` on failure.
    Metrics: ``gen_ai.invoke_agent.duration`` (s; agent name, ``error.type``) and
    ``agentotel.agent.active`` (+1 at start, -1 at end; agent name).
    Source: GenAI agent spans, "Invoke agent internal span".
    """

    __slots__ = ("name", "id", "description", "version", "conversation_id")

    def __init__(
        self,
        name: str,
        id: str | None = None,  # noqa: A002 - the spec's attribute is gen_ai.agent.id
        description: str | None = None,
        version: str | None = None,
        conversation_id: str | None = None,
    ) -> None:
        super().__init__((name, id, description, version, conversation_id))
        self.name = name
        self.id = id
        self.description = description
        self.version = version
        self.conversation_id = _conversation(conversation_id)

    def _span_name(self) -> str:
        return f"{sc.OP_INVOKE_AGENT} {self.name}"

    def _start_attributes(self) -> Attributes:
        return _put(
            {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: self.name},
            (
                (sc.GEN_AI_AGENT_ID, self.id),
                (sc.GEN_AI_AGENT_DESCRIPTION, self.description),
                (sc.GEN_AI_AGENT_VERSION, self.version),
                (sc.GEN_AI_CONVERSATION_ID, self.conversation_id),
            ),
        )

    def _begin(self, *, attach: bool) -> None:
        super()._begin(attach=attach)
        try:
            RUNTIME.instruments.agent_active.add(1, {sc.GEN_AI_AGENT_NAME: self.name})
        except Exception:  # noqa: BLE001
            log_throttled(_logger, "agentotel failed to record a metric", exc_info=True)

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        instruments = runtime.instruments
        instruments.agent_active.add(-1, {sc.GEN_AI_AGENT_NAME: self.name})
        instruments.invoke_agent_duration.record(
            duration_s, self._with_error({sc.GEN_AI_AGENT_NAME: self.name}), self._context
        )


class LLMCall(Operation):
    """``{operation} {request model}`` — CLIENT span, operation duration, tokens and cost.

    Span attributes at start (visible to samplers): ``gen_ai.operation.name``
    (``chat``, ``text_completion``, ``embeddings``, ``generate_content``),
    ``gen_ai.provider.name``, ``gen_ai.request.model``, ``server.address``,
    ``server.port``, ``gen_ai.request.*`` parameters, ``gen_ai.conversation.id`` (inherited).
    From :meth:`record_response`: ``gen_ai.response.model``, ``gen_ai.response.id``,
    ``gen_ai.response.finish_reasons``, ``gen_ai.usage.input_tokens`` (includes cached
    tokens), ``gen_ai.usage.output_tokens``, ``gen_ai.usage.cache_read.input_tokens``,
    ``gen_ai.usage.cache_write.input_tokens``, and ``agentotel.llm.cost_usd`` (USD) when
    the model is priced. ``error.type`` on failure.

    Metrics: ``gen_ai.client.operation.duration`` (s) and ``gen_ai.client.token.usage``
    ({token}, per ``gen_ai.token.type``; only counts that are known), with attributes
    operation, provider, request model, response model, server address/port,
    ``error.type``; ``agentotel.llm.cost`` (USD; provider, request model).
    Source: GenAI spans "Inference" and GenAI metrics; attribute set as in
    ``opentelemetry-util-genai`` 1.3b0.
    """

    __slots__ = (
        "model",
        "provider",
        "operation",
        "server_address",
        "server_port",
        "request_params",
        "conversation_id",
        "response_model",
        "input_tokens",
        "output_tokens",
        "_details",
    )
    _span_kind = SpanKind.CLIENT

    def __init__(
        self,
        model: str,
        provider: str,
        operation: str = sc.OP_CHAT,
        server_address: str | None = None,
        server_port: int | None = None,
        request_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__((model, provider, operation, server_address, server_port, request_params))
        if operation not in sc.LLM_OPERATIONS:
            raise ValueError(
                f"operation={operation!r} is not valid; accepted: "
                + ", ".join(sorted(sc.LLM_OPERATIONS))
            )
        params = request_params or {}
        unknown = params.keys() - sc.GEN_AI_REQUEST_PARAMS.keys()
        if unknown:
            raise TypeError(
                f"unknown request parameters {sorted(unknown)}; accepted: "
                + ", ".join(sc.GEN_AI_REQUEST_PARAMS)
            )
        self.model = model
        self.provider = provider
        self.operation = operation
        self.server_address = server_address
        self.server_port = server_port
        self.request_params = params
        self.conversation_id = _conversation(None)
        self.response_model: str | None = None
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self._details: dict[str, Any] | None = None  # event attributes (EVENT modes only)

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
        for key, value in self.request_params.items():
            if value is not None:
                attributes[sc.GEN_AI_REQUEST_PARAMS[key]] = value
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
    ) -> None:
        """Record what the provider answered. Token counts are in tokens.

        ``input_tokens`` includes cached tokens (``cache_read_input_tokens`` and
        ``cache_write_input_tokens`` break them out), per the GenAI usage attributes.
        The cost in USD is computed from the offline pricing table (see
        :mod:`agentotel.cost`); an unknown model records no cost.
        """
        try:
            self.response_model = response_model
            self.input_tokens = input_tokens
            self.output_tokens = output_tokens
            attributes = _put(
                {},
                (
                    (sc.GEN_AI_RESPONSE_MODEL, response_model),
                    (sc.GEN_AI_RESPONSE_ID, response_id),
                    (sc.GEN_AI_USAGE_INPUT_TOKENS, input_tokens),
                    (sc.GEN_AI_USAGE_OUTPUT_TOKENS, output_tokens),
                    # zero cache counts are left off, as opentelemetry-util-genai does
                    (sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, cache_read_input_tokens or None),
                    (sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, cache_write_input_tokens or None),
                ),
            )
            if finish_reasons:
                attributes[sc.GEN_AI_RESPONSE_FINISH_REASONS] = list(finish_reasons)
            if RUNTIME.capture in content.ON_EVENT:
                self._event_details().update(attributes)
            cost = RUNTIME.prices.cost(
                response_model or self.model,
                input_tokens,
                output_tokens,
                cache_read_input_tokens,
                cache_write_input_tokens,
            )
            if cost is not None:
                attributes[sc.LLM_COST_USD] = cost
                RUNTIME.instruments.llm_cost.add(
                    cost,
                    {sc.GEN_AI_PROVIDER_NAME: self.provider, sc.GEN_AI_REQUEST_MODEL: self.model},
                )
            self.span.set_attributes(attributes)
        except Exception:  # noqa: BLE001
            log_throttled(_logger, "agentotel failed to record a response", exc_info=True)

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
        runtime = RUNTIME
        if runtime.capture == content.NO_CONTENT:
            return
        try:
            values: list[tuple[str, list[dict[str, Any]]]] = [
                (sc.GEN_AI_INPUT_MESSAGES, content.input_messages(messages))
            ]
            if system_instructions is not None:
                values.append(
                    (
                        sc.GEN_AI_SYSTEM_INSTRUCTIONS,
                        content.system_instructions(system_instructions),
                    )
                )
            self._capture(values, runtime)
        except Exception:  # noqa: BLE001
            log_throttled(_logger, "agentotel failed to capture content", exc_info=True)

    def record_output(self, messages: Iterable[Mapping[str, Any] | str]) -> None:
        """Opt-in content: the completion (``gen_ai.output.messages``); see :meth:`record_input`.

        Accepts OpenAI ``choices`` entries, assistant messages or strings.
        """
        runtime = RUNTIME
        if runtime.capture == content.NO_CONTENT:
            return
        try:
            self._capture([(sc.GEN_AI_OUTPUT_MESSAGES, content.output_messages(messages))], runtime)
        except Exception:  # noqa: BLE001
            log_throttled(_logger, "agentotel failed to capture content", exc_info=True)

    def _capture(self, values: list[tuple[str, list[dict[str, Any]]]], runtime: Runtime) -> None:
        for key, value in values:
            if runtime.capture in content.ON_SPAN:
                self.span.set_attribute(key, content.to_json(value, runtime.content_max_length))
            if runtime.capture in content.ON_EVENT:
                self._event_details()[key] = content.bound_parts(value, runtime.content_max_length)

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

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        if self._details is not None:
            self._emit_details(runtime)
        attributes = self._with_error(self._base_attributes())
        if self.response_model is not None:
            attributes[sc.GEN_AI_RESPONSE_MODEL] = self.response_model
        instruments = runtime.instruments
        ctx = self._context
        instruments.operation_duration.record(duration_s, attributes, ctx)
        if self.input_tokens is not None:
            instruments.token_usage.record(
                self.input_tokens, {**attributes, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_INPUT}, ctx
            )
        if self.output_tokens is not None:
            attributes[sc.GEN_AI_TOKEN_TYPE] = sc.TOKEN_TYPE_OUTPUT
            instruments.token_usage.record(self.output_tokens, attributes, ctx)


class Tool(Operation):
    """``execute_tool {name}`` — INTERNAL span and ``gen_ai.execute_tool.duration``.

    Span attributes: ``gen_ai.operation.name`` = ``execute_tool`` (required),
    ``gen_ai.tool.name``, ``gen_ai.tool.type`` (``function``, ``extension``,
    ``datastore``), ``gen_ai.tool.call.id``, ``gen_ai.tool.description`` (when given),
    ``error.type`` on failure. Metric attributes: tool name, tool type, ``error.type``.
    Source: GenAI spans, "Execute tool span".
    """

    __slots__ = ("name", "type", "description", "call_id")

    def __init__(
        self,
        name: str,
        type: str | None = "function",  # noqa: A002 - the spec's attribute is gen_ai.tool.type
        description: str | None = None,
        call_id: str | None = None,
    ) -> None:
        super().__init__((name, type, description, call_id))
        self.name = name
        self.type = type
        self.description = description
        self.call_id = call_id

    def _span_name(self) -> str:
        return f"{sc.OP_EXECUTE_TOOL} {self.name}"

    def _start_attributes(self) -> Attributes:
        return _put(
            {sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: self.name},
            (
                (sc.GEN_AI_TOOL_TYPE, self.type),
                (sc.GEN_AI_TOOL_CALL_ID, self.call_id),
                (sc.GEN_AI_TOOL_DESCRIPTION, self.description),
            ),
        )

    def record_arguments(self, arguments: Any) -> None:
        """Opt-in content: the tool's arguments (``gen_ai.tool.call.arguments``, JSON).

        Captured on the span with ``SPAN_ONLY``/``SPAN_AND_EVENT`` (the conventions define
        no tool event). The decorator form records the call's arguments by itself.
        """
        self._set_content(sc.GEN_AI_TOOL_CALL_ARGUMENTS, arguments)

    def record_result(self, result: Any) -> None:
        """Opt-in content: the tool's result (``gen_ai.tool.call.result``, JSON)."""
        self._set_content(sc.GEN_AI_TOOL_CALL_RESULT, result)

    def _on_call(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        try:
            arguments: Any = dict(inspect.signature(fn).bind_partial(*args, **kwargs).arguments)
        except (TypeError, ValueError):
            arguments = {"args": list(args), **kwargs}
        self.record_arguments(arguments)

    def _on_return(self, value: Any) -> None:
        self.record_result(value)

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        attributes: Attributes = {sc.GEN_AI_TOOL_NAME: self.name}
        if self.type is not None:
            attributes[sc.GEN_AI_TOOL_TYPE] = self.type
        runtime.instruments.execute_tool_duration.record(
            duration_s, self._with_error(attributes), self._context
        )


class Guardrail(Operation):
    """``apply_guardrail {name}`` — INTERNAL span and ``agentotel.guardrail.checks``.

    The GenAI conventions have not released guardrail names yet, so the attributes are
    agentotel's own: ``agentotel.guardrail.name``, ``.target`` (e.g. ``input``,
    ``output``, ``tool_call``, ``tool_result``), ``.verdict`` (``allow``, ``deny``,
    ``modify``, ``warn``), ``.reason``, ``.categories``; plus ``gen_ai.operation.name`` =
    ``apply_guardrail`` and ``error.type`` on failure. Every check counts once on
    ``agentotel.guardrail.checks`` ({check}; name, target, verdict, ``error.type``); a
    check that set no verdict counts as ``allow``.
    """

    __slots__ = ("name", "target", "_verdict")

    def __init__(self, name: str, target: str = "input") -> None:
        super().__init__((name, target))
        self.name = name
        self.target = target
        self._verdict: str | None = None

    def _span_name(self) -> str:
        return f"{sc.OP_APPLY_GUARDRAIL} {self.name}"

    def _start_attributes(self) -> Attributes:
        return {
            sc.GEN_AI_OPERATION_NAME: sc.OP_APPLY_GUARDRAIL,
            sc.GUARDRAIL_NAME: self.name,
            sc.GUARDRAIL_TARGET: self.target,
        }

    def verdict(
        self, verdict: str, *, reason: str | None = None, categories: Sequence[str] | None = None
    ) -> None:
        """Record the check's outcome.

        Raises:
            ValueError: ``verdict`` is not one of ``allow``, ``deny``, ``modify``, ``warn``.
        """
        if verdict not in sc.GUARDRAIL_VERDICTS:
            raise ValueError(
                f"verdict={verdict!r} is not valid; accepted: " + ", ".join(sc.GUARDRAIL_VERDICTS)
            )
        self._verdict = verdict
        attributes: Attributes = {sc.GUARDRAIL_VERDICT: verdict}
        if reason is not None:
            attributes[sc.GUARDRAIL_REASON] = reason
        if categories:
            attributes[sc.GUARDRAIL_CATEGORIES] = list(categories)
        self.span.set_attributes(attributes)

    @property
    def current_verdict(self) -> str:
        """The verdict so far (``allow`` until :meth:`verdict` says otherwise)."""
        return self._verdict or sc.GUARDRAIL_DEFAULT_VERDICT

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        verdict = self.current_verdict
        if self._verdict is None:
            self.span.set_attribute(sc.GUARDRAIL_VERDICT, verdict)
        runtime.instruments.guardrail_checks.add(
            1,
            self._with_error(
                {
                    sc.GUARDRAIL_NAME: self.name,
                    sc.GUARDRAIL_TARGET: self.target,
                    sc.GUARDRAIL_VERDICT: verdict,
                }
            ),
            self._context,
        )

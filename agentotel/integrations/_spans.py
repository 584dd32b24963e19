"""What agentotel adds to every GenAI span in the process, whoever made it.

:class:`GenAISpanProcessor` sits between agentotel's tracer provider and its export
processors (batch -> redaction -> exporter) and, at span end, on the thread that ends the
span:

1. **One span per model request.** Layers that do not share ``opentelemetry-util-genai``'s
   nesting contract (see :mod:`agentotel.operations._genai_context`) make a second
   inference span for the same request: a framework's own span around an instrumented
   SDK call (pydantic-ai around the OpenAI instrumentation's), or an SDK's own span
   inside the official instrumentation's (anthropic's ``anthropic.messages.create``). An
   inference span whose parent is an inference span is that second span: it is not
   exported; the outer span gets the attributes it lacks, and the inner span's children
   (the HTTP client span) are re-parented to the outer one.
2. **Cost on every inference span.** An inference span that carries usage but no
   ``agentotel.llm.cost_usd`` (the official instrumentations', a framework's) gets it,
   priced from ``gen_ai.provider.name``, the response (else request) model and
   ``gen_ai.usage.*`` (:mod:`agentotel.cost`), and ``agentotel.llm.cost`` gets its
   increment here, once per span. agentotel's own ``llm()`` spans are priced when they
   end and pass through.
3. **The client metrics, once.** An inference span from a layer that records no
   ``gen_ai.client.operation.duration`` / ``gen_ai.client.token.usage`` (pydantic-ai,
   the Anthropic SDK's own tracing) gets them here — unless the instrumented call inside it,
   merged into it, already recorded them.
4. **Content as agentotel captures it.** With agentotel's mode not putting content on
   spans, the content attributes an instrumentation captured anyway (it reads only the
   environment variable) are removed.
5. **Handoffs read both ways.** A handoff span (``agentotel.handoff.target.agent.name``,
   :mod:`agentotel.operations.handoff`, whoever recorded it) is remembered by trace and
   target; the next ``invoke_agent`` span of that agent in that trace to end gets a link
   to it (attribute ``agentotel.link.handoff``). The target's span may be another
   instrumentation's (the Agents SDK's, LangGraph's), which agentotel cannot give a link
   when it starts; at most 1024 handoffs wait for their target.

An inference span is a CLIENT span whose ``gen_ai.operation.name`` is ``chat``,
``text_completion``, ``generate_content`` or ``embeddings``. Never raises: a span this
step cannot handle is exported as it is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace import Link, SpanContext, SpanKind

from agentotel import _readable, _runtime, content
from agentotel import semconv as sc
from agentotel._errors import warn_failure
from agentotel._settings import OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT

_CLIENT = SpanKind.CLIENT  # looked up once: an enum member access is a slow path in 3.11
_INTERNAL = SpanKind.INTERNAL
_PENDING_HANDOFFS = 1024
_HANDOFF_SPAN = f"{sc.OP_EXECUTE_TOOL} {sc.HANDOFF_TOOL_PREFIX}"
_AGENT_SPAN = f"{sc.OP_INVOKE_AGENT} "

#: The variables from which instrumentations take their own content capture mode.
_CONTENT_VARIABLES = (
    OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
    "ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE",  # the Anthropic SDK's own tracing
)

#: Scopes whose inference spans come without the GenAI client metrics (pydantic-ai, whose
#: own metrics agentotel leaves out; the Anthropic SDK's own tracing): agentotel records
#: ``gen_ai.client.operation.duration`` and ``gen_ai.client.token.usage`` for them, unless
#: an instrumented call inside (merged into the span) already did.
_UNMEASURED_SCOPES = ("pydantic-ai", "com.anthropic.sdk.python")

#: Scopes whose ``gen_ai.usage.input_tokens`` leave the cached tokens out (the Bedrock
#: Converse API's ``inputTokens``), unlike the GenAI conventions: added back for pricing.
_INPUT_EXCLUDES_CACHE = frozenset({"opentelemetry.instrumentation.genai.bedrock"})


def is_inference(kind: SpanKind | None, attributes: Mapping[str, Any] | None) -> bool:
    """A CLIENT span of one of the inference operations (chat, embeddings, ...)."""
    return (
        kind is _CLIENT
        and attributes is not None
        and attributes.get(sc.GEN_AI_OPERATION_NAME) in sc.LLM_OPERATIONS
    )


class GenAISpanProcessor(SpanProcessor):
    """One span per model request and a cost on every inference span; then ``processors``.

    Args:
        processors: agentotel's export processors; every span they should see goes
            through them in order (a span dropped as a duplicate never reaches them).
        capture: agentotel's content capture mode (default: the current runtime's).
    """

    def __init__(self, processors: Sequence[SpanProcessor], capture: str | None = None) -> None:
        self._processors: tuple[SpanProcessor, ...] = tuple(processors)
        # those that do something when a span starts (the export processors do not)
        self._starting = _starting(self._processors)
        # content to take off: agentotel's mode keeps it off spans while a variable asks
        # the instrumentations for it (read once; nothing to do in the usual case)
        mode = _runtime.current().capture if capture is None else capture
        self._strip_content = mode not in content.ON_SPAN and any(
            os.environ.get(name, "").strip().upper() not in ("", "NO_CONTENT", "FALSE")
            for name in _CONTENT_VARIABLES
        )
        # live CLIENT spans by span id: the parents a nested inference span is merged into
        self._live: dict[int, Span] = {}
        # spans into which a measured (metrics recorded) inner span was merged
        self._measured: set[int] = set()
        # (trace id, target agent name) -> the handoff span waiting for its target
        self._handoffs: dict[tuple[int, str], SpanContext] = {}

    def add(self, processor: SpanProcessor) -> None:
        """Hand spans to ``processor`` too, after the export processors."""
        self._processors = (*self._processors, processor)
        self._starting = _starting(self._processors)

    # -- the SpanProcessor interface ---------------------------------------------------
    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if span.kind is _CLIENT:
            self._live[span.context.span_id] = span
        for processor in self._starting:
            processor.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if span.kind is not _CLIENT and not self._strip_content:
            # a handoff, or an agent a handoff waits for (told by name: no call for the rest)
            if span.kind is _INTERNAL and (
                self._handoffs or span.name.startswith(_HANDOFF_SPAN)
            ):
                try:
                    span = self._handoff_link(span)
                except Exception:  # noqa: BLE001 - export the span as it is
                    warn_failure("link a handoff")
            for processor in self._processors:  # the usual span: nothing to add or drop
                processor.on_end(span)
            return
        try:
            out = self._handle(span)
        except Exception:  # noqa: BLE001 - export the span as it is
            warn_failure("process a GenAI span")
            out = span
        if out is None:
            return
        for processor in self._processors:
            processor.on_end(out)

    def shutdown(self) -> None:
        for processor in self._processors:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(processor.force_flush(timeout_millis) for processor in self._processors)

    # -- the work ------------------------------------------------------------------------
    def _handoff_link(self, span: ReadableSpan) -> ReadableSpan:
        """Remember a handoff span; link a target agent's span to its handoff. Told by
        name first: most spans are neither, and reading their attributes costs more."""
        name = span.name
        handoffs = self._handoffs
        if name.startswith(_HANDOFF_SPAN):
            target = (span.attributes or {}).get(sc.HANDOFF_TARGET_AGENT_NAME)
            if isinstance(target, str):
                handoffs[(span.context.trace_id, target)] = span.context
                if len(handoffs) > _PENDING_HANDOFFS:
                    handoffs.pop(next(iter(handoffs)), None)
            return span
        if not handoffs or not name.startswith(_AGENT_SPAN):
            return span
        agent = (span.attributes or {}).get(sc.GEN_AI_AGENT_NAME)
        handoff = (
            handoffs.pop((span.context.trace_id, agent), None) if isinstance(agent, str) else None
        )
        if handoff is None:
            return span
        return _readable.replace(span, links=[*span.links, Link(handoff, {sc.LINK_HANDOFF: True})])

    def _handle(self, span: ReadableSpan) -> ReadableSpan | None:
        """The span to export (changed, or as it is), or ``None`` to drop it."""
        live = self._live
        if span.kind is _CLIENT:
            live.pop(span.context.span_id, None)
        parent = live.get(span.parent.span_id) if span.parent is not None else None
        if parent is not None and is_inference(parent.kind, parent.attributes):
            if is_inference(span.kind, span.attributes):
                _merge_into(parent, span)  # the second span of this model request
                if not _unmeasured(span):
                    self._measured.add(parent.context.span_id)
                return None
            # a child (the HTTP span) of a second span: hang it under the first one
            first = live.get(parent.parent.span_id) if parent.parent is not None else None
            if first is not None and is_inference(first.kind, first.attributes):
                span = _readable.replace(span, parent=first.get_span_context())
        if self._strip_content:
            span = _without_content(span)
        scope = span.instrumentation_scope
        if scope is not None and scope.name == sc.INSTRUMENTATION_SCOPE:
            return span  # agentotel's own: priced and measured when it ended
        if is_inference(span.kind, span.attributes):
            measured = span.context.span_id in self._measured
            self._measured.discard(span.context.span_id)
            if not measured and _unmeasured(span):
                _record_metrics(span)
            return self._priced(span)
        return span

    def _priced(self, span: ReadableSpan) -> ReadableSpan:
        attributes = span.attributes or {}
        scope = span.instrumentation_scope
        if sc.LLM_COST_USD in attributes:
            return span
        cost = _cost_of(attributes, scope.name if scope is not None else "")
        if cost is None:
            return span
        _runtime.current().instruments.llm_cost.add(
            cost,
            {
                sc.GEN_AI_PROVIDER_NAME: str(attributes.get(sc.GEN_AI_PROVIDER_NAME, "")),
                sc.GEN_AI_REQUEST_MODEL: str(attributes.get(sc.GEN_AI_REQUEST_MODEL, "")),
            },
        )
        return _readable.replace(span, attributes={**attributes, sc.LLM_COST_USD: cost})


#: ``on_start`` of the SDK's processors, which does nothing
_NO_OP_STARTS = frozenset(
    {SpanProcessor.on_start, BatchSpanProcessor.on_start, SimpleSpanProcessor.on_start}
)


def _starting(processors: Sequence[SpanProcessor]) -> tuple[SpanProcessor, ...]:
    """The processors whose ``on_start`` does something (the SDK's export processors'
    does nothing: no call for them on every span)."""
    return tuple(p for p in processors if type(p).on_start not in _NO_OP_STARTS)


def _unmeasured(span: ReadableSpan) -> bool:
    scope = span.instrumentation_scope
    return scope is not None and scope.name.startswith(_UNMEASURED_SCOPES)


_METRIC_KEYS = (
    sc.GEN_AI_OPERATION_NAME,
    sc.GEN_AI_PROVIDER_NAME,
    sc.GEN_AI_REQUEST_MODEL,
    sc.GEN_AI_RESPONSE_MODEL,
    sc.SERVER_ADDRESS,
    sc.SERVER_PORT,
    sc.ERROR_TYPE,
)


def _record_metrics(span: ReadableSpan) -> None:
    """``gen_ai.client.operation.duration`` (s) and ``gen_ai.client.token.usage`` for one
    span, with the metric attributes the GenAI metrics conventions list."""
    attributes = span.attributes or {}
    metric_attributes = {k: attributes[k] for k in _METRIC_KEYS if k in attributes}
    instruments = _runtime.current().instruments
    if span.start_time is not None and span.end_time is not None:
        duration_s = (span.end_time - span.start_time) / 1e9
        instruments.operation_duration.record(duration_s, metric_attributes)
    for key, token_type in (
        (sc.GEN_AI_USAGE_INPUT_TOKENS, sc.TOKEN_TYPE_INPUT),
        (sc.GEN_AI_USAGE_OUTPUT_TOKENS, sc.TOKEN_TYPE_OUTPUT),
    ):
        tokens = _int(attributes.get(key))
        if tokens is not None:
            instruments.token_usage.record(
                tokens, {**metric_attributes, sc.GEN_AI_TOKEN_TYPE: token_type}
            )


def _without_content(span: ReadableSpan) -> ReadableSpan:
    """``span`` without content attributes (agentotel's capture mode keeps them off spans;
    an instrumentation read a different mode from the environment)."""
    attributes = span.attributes or {}
    if not any(key in attributes for key in sc.CONTENT_ATTRIBUTES):
        return span
    kept = {k: v for k, v in attributes.items() if k not in sc.CONTENT_ATTRIBUTES}
    return _readable.replace(span, attributes=kept)


def _merge_into(outer: Span, inner: ReadableSpan) -> None:
    """Give the live ``outer`` span the attributes of ``inner`` it does not have."""
    own = outer.attributes or {}
    missing = {key: value for key, value in (inner.attributes or {}).items() if key not in own}
    if missing and outer.is_recording():
        outer.set_attributes(missing)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _cost_of(attributes: Mapping[str, Any], scope: str) -> float | None:
    """USD for one inference span's usage, or ``None`` (no usage, unknown model)."""
    input_tokens = _int(attributes.get(sc.GEN_AI_USAGE_INPUT_TOKENS))
    output_tokens = _int(attributes.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS))
    if input_tokens is None and output_tokens is None:
        return None
    model = attributes.get(sc.GEN_AI_RESPONSE_MODEL) or attributes.get(sc.GEN_AI_REQUEST_MODEL)
    if not isinstance(model, str):
        return None
    cache_read = _int(attributes.get(sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS))
    cache_write = _int(attributes.get(sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS))
    if cache_write is None:
        cache_write = _int(attributes.get(sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS))
    if scope in _INPUT_EXCLUDES_CACHE and input_tokens is not None:
        input_tokens += (cache_read or 0) + (cache_write or 0)
    provider = attributes.get(sc.GEN_AI_PROVIDER_NAME)
    return _runtime.current().prices.cost(
        model,
        input_tokens,
        output_tokens,
        cache_read,
        cache_write,
        provider=provider if isinstance(provider, str) else None,
    )

"""Sampling never blinds the metrics: the inference spans of dropped traces are recorded.

agentotel's own operations record their metrics (durations, tokens, cost, guardrail
verdicts) whether their span is sampled or not. The spans of the instrumentations are
different: :class:`~agentotel.integrations.GenAISpanProcessor` prices them (and measures
the layers that record no GenAI client metrics) when they end, and a span processor only
ever sees spans that are recording. With ``OTEL_TRACES_SAMPLER=parentbased_traceidratio``
and ``OTEL_TRACES_SAMPLER_ARG=0.1`` nine model requests in ten would have no cost.

:class:`InferenceRecordingSampler` wraps the sampler of the tracer provider ``init()``
creates (the one ``OTEL_TRACES_SAMPLER`` chose): when that sampler drops an inference
span (a CLIENT span whose ``gen_ai.operation.name``, set at start as the conventions ask,
is ``chat``, ``text_completion``, ``generate_content`` or ``embeddings``), the span is
recorded instead (``RECORD_ONLY``, OpenTelemetry trace SDK specification, "Sampling"):
its ``sampled`` trace flag stays off, so no export processor exports it and its children
(the HTTP span) are dropped as before, but the span processors see it end and the cost
and metrics are counted. Every other decision is the wrapped sampler's, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from agentotel.integrations._spans import is_inference

_CLIENT = SpanKind.CLIENT
_DROP = Decision.DROP


class InferenceRecordingSampler(Sampler):
    """``sampler``'s decisions, except that a dropped inference span is ``RECORD_ONLY``.

    Args:
        sampler: the sampler whose decisions stand (the one the environment chose).

    The recorded span keeps the attributes it was started with (the wrapped sampler's
    ``DROP`` result carries none); its trace state is the wrapped sampler's. Cost: one
    more call per span start; a full span, never exported, per inference span of a
    dropped trace.
    """

    def __init__(self, sampler: Sampler) -> None:
        self._sampler = sampler

    @property
    def sampler(self) -> Sampler:
        """The wrapped sampler."""
        return self._sampler

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        result = self._sampler.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )
        if result.decision is _DROP and kind is _CLIENT and is_inference(kind, attributes):
            return SamplingResult(Decision.RECORD_ONLY, attributes, result.trace_state)
        return result

    def get_description(self) -> str:
        return f"InferenceRecordingSampler{{{self._sampler.get_description()}}}"


def record_dropped_inference(sampler: Sampler) -> Sampler:
    """``sampler`` wrapped in :class:`InferenceRecordingSampler` (once)."""
    if isinstance(sampler, InferenceRecordingSampler):
        return sampler
    return InferenceRecordingSampler(sampler)

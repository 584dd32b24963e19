"""Evaluation results: the ``gen_ai.evaluation.result`` event and ``agentotel.evaluation.score``.

An evaluation judges the output of a GenAI operation that already happened (an LLM
judge, a heuristic, a human rating), often long after that operation's span ended, so it
is not an operation with a span of its own: :func:`evaluation` is a function that emits
one event and records one metric point.

Source: GenAI events, ``gen_ai.evaluation.result`` (``open-telemetry/semantic-conventions-genai``,
``model/gen-ai/events.yaml``): "This event SHOULD be parented to GenAI operation span
being evaluated when possible or set ``gen_ai.response.id`` when span id is not
available." Attributes: ``gen_ai.evaluation.name`` (required),
``gen_ai.evaluation.score.value`` and ``gen_ai.evaluation.score.label`` (conditionally
required: if applicable), ``gen_ai.evaluation.explanation`` (recommended),
``gen_ai.response.id`` (recommended, when available), ``error.type`` (conditionally
required: if the evaluation failed). ``opentelemetry-util-genai`` 1.3b0 has no
evaluation support to compare with.

The explanation is not opt-in content: the conventions make only the messages, system
instructions and tool call arguments and results opt-in, while the explanation is
recommended. It is recorded in every capture mode; like every log record it passes
through redaction before export.
"""

from __future__ import annotations

import math
from numbers import Real
from time import time_ns

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry._logs import LogRecord
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext

from agentotel import _runtime
from agentotel import semconv as sc
from agentotel._errors import warn_failure, warn_misuse
from agentotel.operations._operation import Attributes, Operation, optional_text, put, text

_SPAN_CONTEXT_ACCEPTED = (
    "a valid OpenTelemetry SpanContext or Span, or an agentotel operation that has started"
)


def evaluation(
    name: str,
    score: float | None = None,
    label: str | None = None,
    explanation: str | None = None,
    response_id: str | None = None,
    span_context: SpanContext | Span | Operation | None = None,
    *,
    error_type: str | None = None,
) -> None:
    """Record one evaluation result of a GenAI operation's output.

    Emits the ``gen_ai.evaluation.result`` event (a log record with that ``event_name``)
    with ``gen_ai.evaluation.name`` = ``name``, ``gen_ai.evaluation.score.value`` =
    ``score``, ``gen_ai.evaluation.score.label`` = ``label`` (e.g. ``pass`` / ``fail``),
    ``gen_ai.evaluation.explanation``, ``gen_ai.response.id`` (the evaluated response)
    and ``error.type`` (a low-cardinality code when the evaluation itself failed), each
    when given. With a ``score``, also records it on ``agentotel.evaluation.score``
    (histogram, unit ``1``; attributes: evaluation name and label only).

    The event is parented to the evaluated span: the current span, or ``span_context``
    — an OpenTelemetry ``SpanContext`` or ``Span``, or an agentotel operation (its
    span) — which may have ended long ago (batch evaluations). Pass ``response_id`` as
    well when you have it: it correlates the result where no span is known.

    A negative score stays on the event but cannot go on the histogram (OpenTelemetry
    histograms take values >= 0); one warning says so.

    Never raises: a ``score`` that is not a finite number is left out, a ``span_context``
    of the wrong kind (or an operation that never started) falls back to the current
    span, a non-string text is recorded as its ``str()``; each with one warning naming
    the value.
    """
    try:
        runtime = _runtime.RUNTIME
        if runtime is None:
            runtime = _runtime.current()
        if runtime.disabled:
            return
        name = text(name, "agentotel.evaluation(name)")
        value = _score(score)
        label = optional_text(label, "agentotel.evaluation(label)")
        ctx = _parent(span_context)
        attributes: Attributes = {sc.GEN_AI_EVALUATION_NAME: name}
        put(
            attributes,
            (
                (sc.GEN_AI_EVALUATION_SCORE_VALUE, value),
                (sc.GEN_AI_EVALUATION_SCORE_LABEL, label),
                (
                    sc.GEN_AI_EVALUATION_EXPLANATION,
                    optional_text(explanation, "agentotel.evaluation(explanation)"),
                ),
                (
                    sc.GEN_AI_RESPONSE_ID,
                    optional_text(response_id, "agentotel.evaluation(response_id)"),
                ),
                (sc.ERROR_TYPE, optional_text(error_type, "agentotel.evaluation(error_type)")),
            ),
        )
        if runtime.event_logger is not None:
            try:
                runtime.event_logger.emit(
                    LogRecord(
                        timestamp=time_ns(),
                        context=ctx,
                        attributes=attributes,
                        event_name=sc.EVENT_EVALUATION_RESULT,
                    )
                )
            except Exception:  # noqa: BLE001 - the metric below must still be recorded
                warn_failure("emit the evaluation result event")
        if value is not None and value < 0:  # histograms take no negative values (SDK)
            warn_misuse(
                "agentotel.evaluation(score)",
                score,
                "a number >= 0 for agentotel.evaluation.score",
                "kept on the event only",
            )
        elif value is not None:
            point: Attributes = {sc.GEN_AI_EVALUATION_NAME: name}
            if label is not None:
                point[sc.GEN_AI_EVALUATION_SCORE_LABEL] = label
            runtime.instruments.evaluation_score.record(value, point, ctx)
    except Exception:  # noqa: BLE001 - telemetry must not break the application
        warn_failure("record an evaluation")


def _score(value: object) -> float | None:
    """A finite real number as a float (``gen_ai.evaluation.score.value`` is a double)."""
    if value is None:
        return None
    if isinstance(value, Real) and not isinstance(value, bool):
        try:
            score = float(value)
        except Exception:  # noqa: BLE001 - an int too large for a float, a broken __float__
            score = math.nan
        if math.isfinite(score):
            return score
    warn_misuse("agentotel.evaluation(score)", value, "a finite int or float", "not recorded")
    return None


def _parent(value: object) -> Context:
    """The context holding the evaluated span: ``value``'s span, else the current one."""
    if value is None:
        return otel_context.get_current()
    given = value
    if isinstance(value, Operation):
        value = value.span
    if isinstance(value, Span):
        value = value.get_span_context()
    if isinstance(value, SpanContext) and value.is_valid:
        return otel_trace.set_span_in_context(NonRecordingSpan(value))
    where = "agentotel.evaluation(span_context)"
    warn_misuse(where, given, _SPAN_CONTEXT_ACCEPTED, "using the current span")
    return otel_context.get_current()

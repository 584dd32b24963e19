"""The OpenAI Agents SDK's guardrails and handoffs as agentotel operations.

The official ``opentelemetry-instrumentation-genai-openai-agents`` turns the Agents SDK's
workflow, agent and function spans into GenAI spans and ignores its guardrail spans (no
released convention names them): a tripwire that stops an agent leaves no trace. This
Agents SDK tracing processor (its public extension point,
``agents.tracing.add_trace_processor``) makes each guardrail run an agentotel guardrail
operation: an ``apply_guardrail {name}`` span under the agent's span and one count on
``agentotel.guardrail.checks``, verdict ``deny`` when the tripwire triggered, else
``allow``. The target is ``input`` for a guardrail that starts before the current agent's
first model response ended, ``output`` after it (the SDK's guardrail span does not say
which).

Callbacks for one guardrail span start and end on the same asyncio task (the SDK's own
rule), so the operation's context is attached and detached there.

The instrumentation ignores the SDK's handoff spans too: :class:`AgentsHandoffProcessor`
records each as an agentotel handoff (:mod:`agentotel.operations.handoff`: an
``execute_tool transfer_to_{target}`` span under the source agent's ``invoke_agent`` span,
one count on ``agentotel.agent.handoffs``) when the SDK's handoff span ends, since the
SDK learns the target agent only then; the target's ``invoke_agent`` span is linked to
it.
"""

from __future__ import annotations

import weakref
from typing import Any

from agentotel.operations import Guardrail, handoff


class AgentsGuardrailProcessor:
    """An Agents SDK ``TracingProcessor``: guardrail spans -> agentotel guardrail checks."""

    def __init__(self) -> None:
        self.active = True
        self._open: weakref.WeakKeyDictionary[Any, Guardrail] = weakref.WeakKeyDictionary()
        self._answered: set[str] = set()  # traces whose current agent's model has responded

    def on_trace_start(self, trace: Any) -> None:
        pass

    def on_trace_end(self, trace: Any) -> None:
        self._answered.discard(trace.trace_id)

    def on_span_start(self, span: Any) -> None:
        data = span.span_data
        kind = getattr(data, "type", None)
        if kind == "agent":  # a new agent (first, or after a handoff): its input comes first
            self._answered.discard(span.trace_id)
        elif self.active and kind == "guardrail":
            target = "output" if span.trace_id in self._answered else "input"
            check = Guardrail(data.name, target)
            check.__enter__()
            self._open[span] = check

    def on_span_end(self, span: Any) -> None:
        data = span.span_data
        kind = getattr(data, "type", None)
        if kind in ("response", "generation"):
            self._answered.add(span.trace_id)
        check = self._open.pop(span, None)
        if check is not None:
            check.verdict("deny" if data.triggered else "allow")
            check.__exit__(None, None, None)

    def shutdown(self) -> None:
        for check in list(self._open.values()):
            check.__exit__(None, None, None)
        self._open.clear()

    def force_flush(self) -> None:
        pass


class AgentsHandoffProcessor:
    """An Agents SDK ``TracingProcessor``: handoff spans -> agentotel handoffs."""

    def __init__(self) -> None:
        self.active = True

    def on_trace_start(self, trace: Any) -> None:
        pass

    def on_trace_end(self, trace: Any) -> None:
        pass

    def on_span_start(self, span: Any) -> None:
        pass

    def on_span_end(self, span: Any) -> None:
        data = span.span_data
        if self.active and getattr(data, "type", None) == "handoff":
            if data.from_agent and data.to_agent:
                handoff(data.from_agent, data.to_agent)

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        pass


class _ProcessorInstrumentor:
    """Adds one agentotel processor to the Agents SDK's trace processors; the same
    interface as an OpenTelemetry ``BaseInstrumentor``. The SDK has no call to remove a
    processor: ``uninstrument`` makes it inert."""

    is_instrumented_by_opentelemetry = False
    _processor: Any = None

    @staticmethod
    def _new_processor() -> Any:
        raise NotImplementedError

    def instrument(self, **_: Any) -> None:
        from agents.tracing import add_trace_processor

        processor = self._new_processor()
        add_trace_processor(processor)
        type(self)._processor = processor
        type(self).is_instrumented_by_opentelemetry = True

    def uninstrument(self) -> None:
        processor = type(self)._processor
        if processor is not None:
            processor.active = False
        type(self).is_instrumented_by_opentelemetry = False


class AgentsGuardrailsInstrumentor(_ProcessorInstrumentor):
    """Adds :class:`AgentsGuardrailProcessor` to the Agents SDK's trace processors."""

    _new_processor = AgentsGuardrailProcessor


class AgentsHandoffsInstrumentor(_ProcessorInstrumentor):
    """Adds :class:`AgentsHandoffProcessor` to the Agents SDK's trace processors."""

    _new_processor = AgentsHandoffProcessor

"""pydantic-ai instruments itself; ``init()`` routes its agents to agentotel's providers.

pydantic-ai's own OpenTelemetry support (``Agent.instrument_all``, ``InstrumentationSettings``)
makes ``invoke_agent``, ``chat`` and ``execute_tool`` spans. It is enabled here for every
agent that does not choose its own instrumentation, on agentotel's tracer provider, with
message text only when agentotel captures content. Its own metrics are left out (a no-op
meter provider): its model requests go through the OpenAI / Anthropic SDKs, whose official
instrumentations record ``gen_ai.client.token.usage`` and ``gen_ai.client.operation.duration``
for each request, and two sets would count every token twice. Its ``chat`` span and the
instrumentation's become one span in
:class:`~agentotel.integrations._spans.GenAISpanProcessor`, which also records the client
metrics for a pydantic-ai ``chat`` span when no instrumented call inside it did.

The same interface as an OpenTelemetry ``BaseInstrumentor`` (``instrument`` with the
providers, ``uninstrument``, ``is_instrumented_by_opentelemetry``), so that the catalog
treats it like the others.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.metrics import NoOpMeterProvider

from agentotel import _runtime, content


class PydanticAIInstrumentor:
    """``Agent.instrument_all(InstrumentationSettings(...))`` on agentotel's providers."""

    is_instrumented_by_opentelemetry = False

    def instrument(self, *, tracer_provider: Any = None, **_: Any) -> None:
        from pydantic_ai import Agent, InstrumentationSettings

        Agent.instrument_all(
            InstrumentationSettings(
                tracer_provider=tracer_provider,
                meter_provider=NoOpMeterProvider(),
                include_content=_runtime.current().capture != content.NO_CONTENT,
            )
        )
        type(self).is_instrumented_by_opentelemetry = True

    def uninstrument(self) -> None:
        from pydantic_ai import Agent

        Agent.instrument_all(False)
        type(self).is_instrumented_by_opentelemetry = False

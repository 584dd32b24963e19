"""The calls the per-call benchmarks time, and the same telemetry written by hand.

Shared by ``overhead.py`` (agentotel through ``init()``) and ``peers.py`` (each peer
library in its own environment): every side makes the same tool call and the same LLM
call (one chat request: model, provider, server, two request parameters; the response's
model, id, finish reason, input/output/cache tokens), and :class:`RawOTel` is the same
telemetry hand-written with the raw OpenTelemetry API on its own SDK providers, as a
careful engineer writes it: an ``execute_tool`` INTERNAL span and
``gen_ai.execute_tool.duration``; a ``chat`` CLIENT span with the response attributes and
the cost (prices from a dict), ``gen_ai.client.operation.duration``, two
``gen_ai.client.token.usage`` records and the cost counter. Its providers export the way
``agentotel.init()`` does by default: spans through a ``BatchSpanProcessor`` and metrics
through a ``PeriodicExportingMetricReader``, both over OTLP/HTTP, with the SDK's default
settings.

Only the OpenTelemetry SDK and the OTLP/HTTP exporter are needed (every peer environment
has them); attribute names are spelled out here because the peers' environments do not
have agentotel.
"""

from __future__ import annotations

from timeit import default_timer
from typing import Any

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

TOOL = "web_search"
TOOL_DESCRIPTION = "Searches the web"
TOOL_CALL_ID = "call_7Qx"
PROVIDER = "openai"
MODEL = "gpt-4o-mini"
SERVER_ADDRESS = "api.openai.com"
SERVER_PORT = 443
TEMPERATURE = 0.2
MAX_TOKENS = 512
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
RESPONSE_ID = "chatcmpl-8f2a"
FINISH_REASONS = ["stop"]
INPUT_TOKENS = 1200
OUTPUT_TOKENS = 40
CACHE_READ_TOKENS = 1024
CACHE_WRITE_TOKENS = 64
STREAM_CHUNKS = [object() for _ in range(20)]  # what an SDK stream hands out: opaque chunks

#: USD per million tokens (input, cache read, cache write, output), as an engineer keeps
#: them next to hand-written instrumentation
PRICES = {MODEL: (0.15, 0.075, 0.15, 0.60)}
DURATION_BUCKETS = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip

OPERATION = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL_KEY = "gen_ai.response.model"
TOOL_NAME = "gen_ai.tool.name"
TOOL_TYPE = "gen_ai.tool.type"
ERROR_TYPE = "error.type"


def work(x: int) -> int:
    """The instrumented function's own body: as cheap as possible, so telemetry dominates."""
    return x + 1


def error_type(exc: BaseException) -> str:
    """``error.type``: the exception's fully qualified class name, builtins unqualified."""
    cls = type(exc)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


def cost_usd() -> float:
    price_in, price_read, price_write, price_out = PRICES[MODEL]
    uncached = INPUT_TOKENS - CACHE_READ_TOKENS - CACHE_WRITE_TOKENS
    return (
        uncached * price_in
        + CACHE_READ_TOKENS * price_read
        + CACHE_WRITE_TOKENS * price_write
        + OUTPUT_TOKENS * price_out
    ) * 1e-6


class RawOTel:
    """The raw OpenTelemetry SDK on its own providers, exporting OTLP/HTTP to ``endpoint``
    (``http://host:port``; ``/v1/traces`` and ``/v1/metrics`` are appended)."""

    def __init__(self, endpoint: str, service_name: str = "hand-written") -> None:
        resource = Resource.create({"service.name": service_name})
        self.span_processor = BatchSpanProcessor(OTLPSpanExporter(f"{endpoint}/v1/traces"))
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(self.span_processor)
        reader = PeriodicExportingMetricReader(OTLPMetricExporter(f"{endpoint}/v1/metrics"))
        self.meter_provider = MeterProvider(metric_readers=[reader], resource=resource)
        self.tracer = self.tracer_provider.get_tracer("hand-written")
        meter = self.meter_provider.get_meter("hand-written")
        self.tool_duration = meter.create_histogram(
            "gen_ai.execute_tool.duration", unit="s",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.operation_duration = meter.create_histogram(
            "gen_ai.client.operation.duration", unit="s",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage", unit="{token}",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self.cost = meter.create_counter("agentotel.llm.cost", unit="USD")
        self.time_to_first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk", unit="s",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.time_per_output_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_per_output_chunk", unit="s",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )

    def flush(self) -> None:
        self.span_processor.force_flush()

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()

    def tool_call(self, x: int) -> int:
        start = default_timer()
        with self.tracer.start_as_current_span(
            f"execute_tool {TOOL}",
            kind=SpanKind.INTERNAL,
            attributes={
                OPERATION: "execute_tool",
                TOOL_NAME: TOOL,
                TOOL_TYPE: "function",
                "gen_ai.tool.call.id": TOOL_CALL_ID,
                "gen_ai.tool.description": TOOL_DESCRIPTION,
            },
        ) as span:
            metric_attributes = {TOOL_NAME: TOOL, TOOL_TYPE: "function"}
            try:
                return work(x)
            except Exception as exc:
                metric_attributes[ERROR_TYPE] = error_type(exc)
                span.set_attribute(ERROR_TYPE, error_type(exc))
                raise
            finally:
                self.tool_duration.record(default_timer() - start, metric_attributes)

    def llm_call(self, x: int) -> int:
        return self._chat(x, streamed=False)

    def streamed_llm_call(self, x: int) -> int:
        return self._chat(x, streamed=True)

    def _chat(self, x: int, *, streamed: bool) -> int:
        start = default_timer()
        with self.tracer.start_as_current_span(
            f"chat {MODEL}",
            kind=SpanKind.CLIENT,
            attributes={
                OPERATION: "chat",
                PROVIDER_NAME: PROVIDER,
                REQUEST_MODEL: MODEL,
                "server.address": SERVER_ADDRESS,
                "server.port": SERVER_PORT,
                "gen_ai.request.temperature": TEMPERATURE,
                "gen_ai.request.max_tokens": MAX_TOKENS,
            },
        ) as span:
            metric_attributes: dict[str, Any] = {
                OPERATION: "chat",
                PROVIDER_NAME: PROVIDER,
                REQUEST_MODEL: MODEL,
                "server.address": SERVER_ADDRESS,
                "server.port": SERVER_PORT,
            }
            try:
                streamed_attributes: dict[str, Any] = {}
                if streamed:
                    last: float | None = None
                    for _chunk in STREAM_CHUNKS:
                        now = default_timer()
                        if last is None:
                            ttfc = now - start
                            self.time_to_first_chunk.record(ttfc, metric_attributes)
                            streamed_attributes = {
                                "gen_ai.request.stream": True,
                                "gen_ai.response.time_to_first_chunk": ttfc,
                            }
                        else:
                            self.time_per_output_chunk.record(now - last, metric_attributes)
                        last = now
                result = work(x)
                cost = cost_usd()
                span.set_attributes(
                    {
                        **streamed_attributes,
                        RESPONSE_MODEL_KEY: RESPONSE_MODEL,
                        "gen_ai.response.id": RESPONSE_ID,
                        "gen_ai.response.finish_reasons": FINISH_REASONS,
                        "gen_ai.usage.input_tokens": INPUT_TOKENS,
                        "gen_ai.usage.output_tokens": OUTPUT_TOKENS,
                        "gen_ai.usage.cache_read.input_tokens": CACHE_READ_TOKENS,
                        "gen_ai.usage.cache_write.input_tokens": CACHE_WRITE_TOKENS,
                        "agentotel.llm.cost_usd": cost,
                    }
                )
                self.cost.add(cost, {PROVIDER_NAME: PROVIDER, REQUEST_MODEL: MODEL})
                metric_attributes[RESPONSE_MODEL_KEY] = RESPONSE_MODEL
                return result
            except Exception as exc:
                metric_attributes[ERROR_TYPE] = error_type(exc)
                span.set_attribute(ERROR_TYPE, error_type(exc))
                raise
            finally:
                self.operation_duration.record(default_timer() - start, metric_attributes)
                if ERROR_TYPE not in metric_attributes:
                    self.token_usage.record(
                        INPUT_TOKENS, {**metric_attributes, "gen_ai.token.type": "input"}
                    )
                    self.token_usage.record(
                        OUTPUT_TOKENS, {**metric_attributes, "gen_ai.token.type": "output"}
                    )


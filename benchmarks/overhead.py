"""Per-call overhead of agentotel against the same telemetry written by hand.

Run from the repository root::

    python benchmarks/overhead.py [--rounds 15] [--calls 4000]

What is measured, side by side in one process:

- a tool call: agentotel's ``with agentotel.tool(...)`` against a hand-written
  ``tracer.start_as_current_span("execute_tool ...", kind=INTERNAL, attributes=...)``
  plus the ``gen_ai.execute_tool.duration`` histogram record;
- an LLM call (span and all metrics): ``with agentotel.llm(...) as call:
  call.record_response(...)`` against a hand-written CLIENT span with the same start
  and response attributes, ``gen_ai.client.operation.duration`` and two
  ``gen_ai.client.token.usage`` records with the same metric attributes, and the
  ``agentotel.llm.cost`` counter with the price taken from a dict;
- the same LLM call with its answer streamed in 20 chunks: ``for chunk in
  call.stream(chunks)`` against the hand-written call timing each chunk itself
  (``gen_ai.client.operation.time_to_first_chunk`` at the first,
  ``gen_ai.client.operation.time_per_output_chunk`` at each later one, with the duration's
  attributes; ``gen_ai.request.stream`` and ``gen_ai.response.time_to_first_chunk`` on the
  span). Per chunk: the streamed call's time less the plain call's, over 20 (median of
  the per-round differences), on each side;

and, in a subprocess started with ``OTEL_SDK_DISABLED=true`` that calls
``agentotel.init()`` exactly as an application would, a function decorated with
``@agentotel.tool`` against the same function undecorated.

Both sides run on the same real SDK providers. Spans go through a
``BatchSpanProcessor`` to an exporter that discards them — the shape ``init()`` builds
for OTLP, so the caller's thread pays what it pays in production. Its queue holds more
spans than one timed block makes and its worker only wakes on ``force_flush()``, which
runs between blocks, outside the timing: no span is dropped (dropping would make a side
look cheaper) and the export thread does not compete for the interpreter lock inside a
timed block. Metrics go to an ``InMemoryMetricReader`` that is never collected.

Repetitions are interleaved: each round times every variant once (``--calls`` calls
each), the order alternating between rounds, with the garbage collector paused inside
timed blocks as ``timeit`` does. The figures are medians over rounds; a ratio is the
median of the per-round ratios (each pair measured close together in time). The script
prints and asserts nothing. Targets on the CI machine: agentotel / hand-written <= 1.15
for both calls, and <= 2 µs per decorated call with the SDK disabled.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from time import perf_counter
from timeit import default_timer
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import median_us, paired_ratio, time_block  # noqa: E402

import agentotel  # noqa: E402
from agentotel import _runtime  # noqa: E402
from agentotel import semconv as sc  # noqa: E402
from agentotel._instruments import Instruments  # noqa: E402
from agentotel._runtime import Runtime  # noqa: E402
from agentotel.cost import load_price_table  # noqa: E402

# --------------------------------------------------------------------------- the call

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

# USD per million tokens (input, cache read, cache write, output), as an engineer would
# keep it next to hand-written instrumentation.
PRICES = {MODEL: (0.15, 0.075, 0.15, 0.60)}
DURATION_BUCKETS = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
TOKEN_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip


def work(x: int) -> int:
    """The instrumented function's own body: as cheap as possible, so telemetry dominates."""
    return x + 1


def error_type(exc: BaseException) -> str:
    """``error.type``: the exception's fully qualified class name, builtins unqualified."""
    cls = type(exc)
    return (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )


# --------------------------------------------------------------------------- providers


class DiscardingExporter(SpanExporter):
    """A span exporter that accepts every batch and keeps nothing."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class Providers:
    """One tracer provider and one meter provider, shared by both sides."""

    def __init__(self, calls_per_block: int) -> None:
        queue = 2 * calls_per_block + 1024
        self.span_processor = BatchSpanProcessor(
            DiscardingExporter(),
            max_queue_size=queue,
            max_export_batch_size=queue,
            schedule_delay_millis=3_600_000,
        )
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(self.span_processor)
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])

    def flush(self) -> None:
        self.span_processor.force_flush()

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


# --------------------------------------------------------------------------- hand-written


class HandWritten:
    """The same telemetry with the raw OpenTelemetry API, as a careful engineer writes it
    (names from the semantic-conventions constants, as agentotel's ``semconv`` holds them)."""

    def __init__(self, providers: Providers) -> None:
        self.tracer = providers.tracer_provider.get_tracer("handwritten")
        meter = providers.meter_provider.get_meter("handwritten")
        self.tool_duration = meter.create_histogram(
            sc.METRIC_EXECUTE_TOOL_DURATION,
            unit="s",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.operation_duration = meter.create_histogram(
            sc.METRIC_OPERATION_DURATION,
            unit="s",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.token_usage = meter.create_histogram(
            sc.METRIC_TOKEN_USAGE,
            unit="{token}",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self.cost = meter.create_counter(sc.METRIC_LLM_COST, unit="USD")
        self.time_to_first_chunk = meter.create_histogram(
            sc.METRIC_TIME_TO_FIRST_CHUNK,
            unit="s",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.time_per_output_chunk = meter.create_histogram(
            sc.METRIC_TIME_PER_OUTPUT_CHUNK,
            unit="s",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )

    def tool_call(self, x: int) -> int:
        start = default_timer()
        with self.tracer.start_as_current_span(
            f"execute_tool {TOOL}",
            kind=SpanKind.INTERNAL,
            attributes={
                sc.GEN_AI_OPERATION_NAME: "execute_tool",
                sc.GEN_AI_TOOL_NAME: TOOL,
                sc.GEN_AI_TOOL_TYPE: "function",
                sc.GEN_AI_TOOL_CALL_ID: TOOL_CALL_ID,
                sc.GEN_AI_TOOL_DESCRIPTION: TOOL_DESCRIPTION,
            },
        ) as span:
            metric_attributes = {sc.GEN_AI_TOOL_NAME: TOOL, sc.GEN_AI_TOOL_TYPE: "function"}
            try:
                return work(x)
            except Exception as exc:
                metric_attributes[sc.ERROR_TYPE] = error_type(exc)
                span.set_attribute(sc.ERROR_TYPE, error_type(exc))
                raise
            finally:
                self.tool_duration.record(default_timer() - start, metric_attributes)

    def llm_call(self, x: int) -> int:
        start = default_timer()
        with self.tracer.start_as_current_span(
            f"chat {MODEL}",
            kind=SpanKind.CLIENT,
            attributes={
                sc.GEN_AI_OPERATION_NAME: "chat",
                sc.GEN_AI_PROVIDER_NAME: PROVIDER,
                sc.GEN_AI_REQUEST_MODEL: MODEL,
                sc.SERVER_ADDRESS: SERVER_ADDRESS,
                sc.SERVER_PORT: SERVER_PORT,
                sc.GEN_AI_REQUEST_PARAMS["temperature"]: TEMPERATURE,
                sc.GEN_AI_REQUEST_PARAMS["max_tokens"]: MAX_TOKENS,
            },
        ) as span:
            metric_attributes: dict[str, Any] = {
                sc.GEN_AI_OPERATION_NAME: "chat",
                sc.GEN_AI_PROVIDER_NAME: PROVIDER,
                sc.GEN_AI_REQUEST_MODEL: MODEL,
                sc.SERVER_ADDRESS: SERVER_ADDRESS,
                sc.SERVER_PORT: SERVER_PORT,
            }
            try:
                result = work(x)
                price_in, price_read, price_write, price_out = PRICES[MODEL]
                uncached = INPUT_TOKENS - CACHE_READ_TOKENS - CACHE_WRITE_TOKENS
                cost = (
                    uncached * price_in
                    + CACHE_READ_TOKENS * price_read
                    + CACHE_WRITE_TOKENS * price_write
                    + OUTPUT_TOKENS * price_out
                ) * 1e-6
                span.set_attributes(
                    {
                        sc.GEN_AI_RESPONSE_MODEL: RESPONSE_MODEL,
                        sc.GEN_AI_RESPONSE_ID: RESPONSE_ID,
                        sc.GEN_AI_RESPONSE_FINISH_REASONS: FINISH_REASONS,
                        sc.GEN_AI_USAGE_INPUT_TOKENS: INPUT_TOKENS,
                        sc.GEN_AI_USAGE_OUTPUT_TOKENS: OUTPUT_TOKENS,
                        sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: CACHE_READ_TOKENS,
                        sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: CACHE_WRITE_TOKENS,
                        sc.LLM_COST_USD: cost,
                    }
                )
                self.cost.add(
                    cost, {sc.GEN_AI_PROVIDER_NAME: PROVIDER, sc.GEN_AI_REQUEST_MODEL: MODEL}
                )
                metric_attributes[sc.GEN_AI_RESPONSE_MODEL] = RESPONSE_MODEL
                return result
            except Exception as exc:
                metric_attributes[sc.ERROR_TYPE] = error_type(exc)
                span.set_attribute(sc.ERROR_TYPE, error_type(exc))
                raise
            finally:
                self.operation_duration.record(default_timer() - start, metric_attributes)
                if sc.ERROR_TYPE not in metric_attributes:
                    self.token_usage.record(
                        INPUT_TOKENS, {**metric_attributes, sc.GEN_AI_TOKEN_TYPE: "input"}
                    )
                    self.token_usage.record(
                        OUTPUT_TOKENS, {**metric_attributes, sc.GEN_AI_TOKEN_TYPE: "output"}
                    )


    def streamed_llm_call(self, x: int) -> int:
        start = default_timer()
        with self.tracer.start_as_current_span(
            f"chat {MODEL}",
            kind=SpanKind.CLIENT,
            attributes={
                sc.GEN_AI_OPERATION_NAME: "chat",
                sc.GEN_AI_PROVIDER_NAME: PROVIDER,
                sc.GEN_AI_REQUEST_MODEL: MODEL,
                sc.SERVER_ADDRESS: SERVER_ADDRESS,
                sc.SERVER_PORT: SERVER_PORT,
                sc.GEN_AI_REQUEST_PARAMS["temperature"]: TEMPERATURE,
                sc.GEN_AI_REQUEST_PARAMS["max_tokens"]: MAX_TOKENS,
            },
        ) as span:
            metric_attributes: dict[str, Any] = {
                sc.GEN_AI_OPERATION_NAME: "chat",
                sc.GEN_AI_PROVIDER_NAME: PROVIDER,
                sc.GEN_AI_REQUEST_MODEL: MODEL,
                sc.SERVER_ADDRESS: SERVER_ADDRESS,
                sc.SERVER_PORT: SERVER_PORT,
            }
            try:
                last: float | None = None
                ttfc = 0.0
                for _chunk in STREAM_CHUNKS:
                    now = default_timer()
                    if last is None:
                        ttfc = now - start
                        self.time_to_first_chunk.record(ttfc, metric_attributes)
                    else:
                        self.time_per_output_chunk.record(now - last, metric_attributes)
                    last = now
                result = work(x)
                price_in, price_read, price_write, price_out = PRICES[MODEL]
                uncached = INPUT_TOKENS - CACHE_READ_TOKENS - CACHE_WRITE_TOKENS
                cost = (
                    uncached * price_in
                    + CACHE_READ_TOKENS * price_read
                    + CACHE_WRITE_TOKENS * price_write
                    + OUTPUT_TOKENS * price_out
                ) * 1e-6
                span.set_attributes(
                    {
                        sc.GEN_AI_REQUEST_STREAM: True,
                        sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: ttfc,
                        sc.GEN_AI_RESPONSE_MODEL: RESPONSE_MODEL,
                        sc.GEN_AI_RESPONSE_ID: RESPONSE_ID,
                        sc.GEN_AI_RESPONSE_FINISH_REASONS: FINISH_REASONS,
                        sc.GEN_AI_USAGE_INPUT_TOKENS: INPUT_TOKENS,
                        sc.GEN_AI_USAGE_OUTPUT_TOKENS: OUTPUT_TOKENS,
                        sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: CACHE_READ_TOKENS,
                        sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: CACHE_WRITE_TOKENS,
                        sc.LLM_COST_USD: cost,
                    }
                )
                self.cost.add(
                    cost, {sc.GEN_AI_PROVIDER_NAME: PROVIDER, sc.GEN_AI_REQUEST_MODEL: MODEL}
                )
                metric_attributes[sc.GEN_AI_RESPONSE_MODEL] = RESPONSE_MODEL
                return result
            except Exception as exc:
                metric_attributes[sc.ERROR_TYPE] = error_type(exc)
                span.set_attribute(sc.ERROR_TYPE, error_type(exc))
                raise
            finally:
                self.operation_duration.record(default_timer() - start, metric_attributes)
                if sc.ERROR_TYPE not in metric_attributes:
                    self.token_usage.record(
                        INPUT_TOKENS, {**metric_attributes, sc.GEN_AI_TOKEN_TYPE: "input"}
                    )
                    self.token_usage.record(
                        OUTPUT_TOKENS, {**metric_attributes, sc.GEN_AI_TOKEN_TYPE: "output"}
                    )


# --------------------------------------------------------------------------- agentotel


def install_agentotel(providers: Providers) -> None:
    """agentotel on the same providers, by the path ``init()`` takes after building them."""
    _runtime.install(
        Runtime(
            providers.tracer_provider.get_tracer("agentotel"),
            Instruments(providers.meter_provider.get_meter("agentotel")),
            load_price_table(),
        )
    )


def agentotel_tool_call(x: int) -> int:
    with agentotel.tool(TOOL, type="function", description=TOOL_DESCRIPTION, call_id=TOOL_CALL_ID):
        return work(x)


def agentotel_llm_call(x: int) -> int:
    with agentotel.llm(
        MODEL,
        provider=PROVIDER,
        server_address=SERVER_ADDRESS,
        server_port=SERVER_PORT,
        temperature=TEMPERATURE,
        max_tokens=MAX_TOKENS,
    ) as call:
        result = work(x)
        call.record_response(
            response_model=RESPONSE_MODEL,
            response_id=RESPONSE_ID,
            finish_reasons=FINISH_REASONS,
            input_tokens=INPUT_TOKENS,
            output_tokens=OUTPUT_TOKENS,
            cache_read_input_tokens=CACHE_READ_TOKENS,
            cache_write_input_tokens=CACHE_WRITE_TOKENS,
        )
        return result


def agentotel_streamed_llm_call(x: int) -> int:
    with agentotel.llm(
        MODEL,
        provider=PROVIDER,
        server_address=SERVER_ADDRESS,
        server_port=SERVER_PORT,
        temperature=TEMPERATURE,
        max_tokens=MAX_TOKENS,
    ) as call:
        for _chunk in call.stream(STREAM_CHUNKS):
            pass
        result = work(x)
        call.record_response(
            response_model=RESPONSE_MODEL,
            response_id=RESPONSE_ID,
            finish_reasons=FINISH_REASONS,
            input_tokens=INPUT_TOKENS,
            output_tokens=OUTPUT_TOKENS,
            cache_read_input_tokens=CACHE_READ_TOKENS,
            cache_write_input_tokens=CACHE_WRITE_TOKENS,
        )
        return result


class UtilGenAI:
    """The same LLM call through ``opentelemetry-util-genai``'s ``TelemetryHandler`` (what
    the official instrumentations use), to weigh building agentotel's ``llm()`` on it."""

    def __init__(self, providers: Providers) -> None:
        from opentelemetry.util.genai.handler import TelemetryHandler

        self.handler = TelemetryHandler(
            tracer_provider=providers.tracer_provider, meter_provider=providers.meter_provider
        )

    def llm_call(self, x: int) -> int:
        invocation = self.handler.inference(
            PROVIDER,
            request_model=MODEL,
            server_address=SERVER_ADDRESS,
            server_port=SERVER_PORT,
        )
        invocation.temperature = TEMPERATURE
        invocation.max_tokens = MAX_TOKENS
        try:
            result = work(x)
        except Exception as exc:
            invocation.fail(exc)
            raise
        invocation.response_model_name = RESPONSE_MODEL
        invocation.response_id = RESPONSE_ID
        invocation.finish_reasons = FINISH_REASONS
        invocation.input_tokens = INPUT_TOKENS
        invocation.output_tokens = OUTPUT_TOKENS
        invocation.data.usage_cache_read_input_tokens = CACHE_READ_TOKENS
        invocation.data.usage_cache_write_input_tokens = CACHE_WRITE_TOKENS
        invocation.stop()
        return result


# --------------------------------------------------------------------------- timing




def interleaved(
    variants: dict[str, Callable[[int], int]],
    rounds: int,
    calls: int,
    between: Callable[[], None] = lambda: None,
) -> dict[str, list[float]]:
    """Per-call seconds of every variant in every round, order alternating per round."""
    names = list(variants)
    for name in names:  # warm-up: caches, instrument storage, attribute sets
        time_block(variants[name], max(calls // 10, 100))
        between()
    results: dict[str, list[float]] = {name: [] for name in names}
    for round_no in range(rounds):
        for name in names if round_no % 2 == 0 else reversed(names):
            results[name].append(time_block(variants[name], calls))
            between()
    return results






# --------------------------------------------------------------------------- disabled SDK


def disabled_child(rounds: int, calls: int) -> None:
    """In a process with OTEL_SDK_DISABLED=true: decorated vs. undecorated, JSON on stdout."""
    agentotel.init()

    def plain(x: int) -> int:
        return x + 1

    @agentotel.tool
    def decorated(x: int) -> int:
        return x + 1

    results = interleaved({"decorated": decorated, "plain": plain}, rounds, calls)
    print(
        json.dumps(
            {
                "runtime_disabled": _runtime.current().disabled,
                "decorated_us": median_us(results["decorated"]),
                "plain_us": median_us(results["plain"]),
                "overhead_us": statistics.median(
                    (d - p) * 1e6
                    for d, p in zip(results["decorated"], results["plain"], strict=True)
                ),
            }
        )
    )


def run_disabled(rounds: int, calls: int) -> dict[str, Any]:
    env = {**os.environ, "OTEL_SDK_DISABLED": "true"}
    completed = subprocess.run(
        [
            sys.executable,
            __file__,
            "--disabled-child",
            "--rounds",
            str(rounds),
            "--calls",
            str(calls),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (15)")
    parser.add_argument("--calls", type=int, default=4000, help="calls per timed block (4000)")
    parser.add_argument("--disabled-calls", type=int, default=100_000, help=argparse.SUPPRESS)
    parser.add_argument("--disabled-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.disabled_child:
        disabled_child(args.rounds, args.calls)
        return

    started = perf_counter()
    providers = Providers(args.calls)
    previous = _runtime.RUNTIME
    install_agentotel(providers)
    hand = HandWritten(providers)
    try:
        results = interleaved(
            {
                "tool/hand": hand.tool_call,
                "tool/agentotel": agentotel_tool_call,
                "llm/hand": hand.llm_call,
                "llm/agentotel": agentotel_llm_call,
                "stream/hand": hand.streamed_llm_call,
                "stream/agentotel": agentotel_streamed_llm_call,
            },
            args.rounds,
            args.calls,
            between=providers.flush,
        )
        # Then as in an application with an official GenAI instrumentation: util-genai is
        # loaded, and agentotel.llm() takes part in its nesting contract (one span per
        # model request); and the same call through util-genai's own TelemetryHandler.
        util = UtilGenAI(providers)
        results |= {
            f"{name}/genai": samples
            for name, samples in interleaved(
                {
                    "llm/hand": hand.llm_call,
                    "llm/agentotel": agentotel_llm_call,
                    "llm/util-genai": util.llm_call,
                },
                args.rounds,
                args.calls,
                between=providers.flush,
            ).items()
        }
    finally:
        _runtime.install(previous)
        providers.shutdown()
    disabled = run_disabled(args.rounds, args.disabled_calls)

    print(
        f"agentotel overhead: {args.rounds} interleaved rounds x {args.calls} calls, "
        "medians in µs per call"
    )
    sdk = metadata.version("opentelemetry-sdk")
    print(
        f"python {platform.python_version()}, opentelemetry-sdk {sdk}, "
        "BatchSpanProcessor -> discarding exporter, InMemoryMetricReader (never collected)"
    )
    print()
    print(f"{'':28}{'hand-written':>14}{'agentotel':>12}{'ratio':>9}   target")
    for label, key in (("tool call (span + metric)", "tool"), ("LLM call (span + metrics)", "llm")):
        theirs, ours = results[f"{key}/hand"], results[f"{key}/agentotel"]
        print(
            f"{label:28}{median_us(theirs):14.2f}{median_us(ours):12.2f}"
            f"{paired_ratio(ours, theirs):9.3f}   <= 1.15"
        )
    chunks = len(STREAM_CHUNKS)
    theirs, ours = results["stream/hand"], results["stream/agentotel"]
    print(
        f"{f'streamed LLM call ({chunks} chunks)':28}{median_us(theirs):14.2f}"
        f"{median_us(ours):12.2f}{paired_ratio(ours, theirs):9.3f}"
    )
    per_chunk = {
        side: [
            (streamed - plain) / chunks
            for streamed, plain in zip(
                results[f"stream/{side}"], results[f"llm/{side}"], strict=True
            )
        ]
        for side in ("hand", "agentotel")
    }
    print(
        f"{'  per chunk':28}{median_us(per_chunk['hand']):14.2f}"
        f"{median_us(per_chunk['agentotel']):12.2f}"
        f"{paired_ratio(per_chunk['agentotel'], per_chunk['hand']):9.3f}"
    )
    print()
    print("With opentelemetry-util-genai loaded (an official GenAI instrumentation present):")
    theirs = results["llm/hand/genai"]
    for label, key, note in (
        ("LLM call, agentotel", "llm/agentotel/genai", "one-span contract on"),
        ("LLM call, util-genai handler", "llm/util-genai/genai", "no cost counter"),
    ):
        ours = results[key]
        print(
            f"{label:28}{median_us(theirs):14.2f}{median_us(ours):12.2f}"
            f"{paired_ratio(ours, theirs):9.3f}   ({note})"
        )
    print()
    print("OTEL_SDK_DISABLED=true (subprocess, agentotel.init()):")
    if not disabled["runtime_disabled"]:
        print("  WARNING: agentotel.init() did not install a disabled runtime")
    print(f"  @agentotel.tool decorated call {disabled['decorated_us']:8.3f} µs   target <= 2 µs")
    print(f"  undecorated call               {disabled['plain_us']:8.3f} µs")
    print(f"  overhead per call              {disabled['overhead_us']:8.3f} µs")
    print()
    print(f"(ran in {perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()

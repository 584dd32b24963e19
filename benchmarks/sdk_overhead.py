"""Per-call cost of an instrumented OpenAI SDK chat call, against a local server.

Run from the repository root::

    python benchmarks/sdk_overhead.py [--rounds 15] [--calls 250]

What is measured, side by side in one process, each a non-streaming
``client.chat.completions.create(...)`` (``max_retries=0``) answered by the
support-assistant example's fake OpenAI-compatible server, started in-process on a
loopback port (no simulated latency, no faults):

- ``plain``: the ``openai`` client, no instrumentation;
- ``instrumented``: the same call with what ``agentotel.init()`` enables for it - the
  official ``openai`` and ``httpx2`` instrumentations (entries of
  :func:`agentotel.integrations.catalog`, enabled the way ``init()`` enables them) on SDK
  providers: spans through agentotel's ``GenAISpanProcessor`` (one span per model request,
  cost) and a ``BatchSpanProcessor`` to an exporter that discards them,
  metrics to an ``InMemoryMetricReader`` that is never collected, logs through a
  ``BatchLogRecordProcessor`` to a discarding exporter;
- ``instrumented+llm``: the same, inside ``with agentotel.llm(...)`` on the same providers
  (agentotel's span replaces the SDK instrumentation's: one span per model request).

The method is ``benchmarks/overhead.py``'s: repetitions are interleaved (each round times
every variant once, ``--calls`` calls each, the order alternating between rounds), the
garbage collector is paused inside timed blocks, the span queue holds a whole block and
is flushed between blocks (outside the timing: export, and the redaction ``init()`` adds
to it, run on the SDK's thread, not the caller's). The instrumentations are switched on
before and off after each instrumented block (outside the timing), so ``plain`` runs
unpatched. Figures are medians over rounds; a ratio or an added time is the median of the
per-round ones. The server answers in the same process, so its work is part of every
call: the HTTP round trip dominates, which is why the added microseconds are printed
next to the ratios. The script prints and asserts nothing; spans per call are counted
(from the discarding exporter) to show what each variant records.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from time import perf_counter
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openai  # noqa: E402
from timing import median_us, paired_ratio, time_block  # noqa: E402

import agentotel  # noqa: E402
from agentotel import _runtime  # noqa: E402
from agentotel._instruments import Instruments  # noqa: E402
from agentotel._runtime import Runtime  # noqa: E402
from agentotel.cost import load_price_table  # noqa: E402
from agentotel.integrations import GenAISpanProcessor, catalog  # noqa: E402
from examples.support_assistant.fake_openai import FakeChatModel, FakeOpenAIServer  # noqa: E402

MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "You are a concise assistant."},
    {"role": "user", "content": "In one sentence: why do traces help debug agents?"},
]
INSTRUMENTATIONS = ("httpx2", "openai")  # the HTTP client first, as init() enables them
SPANS_PER_REQUEST = 2  # the chat span and its POST span


# --------------------------------------------------------------------------- providers


class DiscardingSpanExporter(SpanExporter):
    """Accepts every batch, keeps only the count."""

    def __init__(self) -> None:
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.exported += len(spans)
        return SpanExportResult.SUCCESS


class DiscardingLogExporter(LogRecordExporter):
    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def shutdown(self) -> None:
        pass


class Providers:
    """SDK tracer, meter and logger providers shaped as ``init()`` builds them for OTLP."""

    def __init__(self, calls_per_block: int) -> None:
        queue = SPANS_PER_REQUEST * calls_per_block + 1024
        self.span_exporter = DiscardingSpanExporter()
        self.span_processor = BatchSpanProcessor(
            self.span_exporter,
            max_queue_size=queue,
            max_export_batch_size=queue,
            schedule_delay_millis=3_600_000,
        )
        self.tracer_provider = TracerProvider()  # with agentotel's step ahead of the batch
        self.tracer_provider.add_span_processor(GenAISpanProcessor([self.span_processor]))
        self.meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
        self.log_processor = BatchLogRecordProcessor(
            DiscardingLogExporter(), schedule_delay_millis=3_600_000
        )
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(self.log_processor)

    def flush(self) -> None:
        self.span_processor.force_flush()
        self.log_processor.force_flush()

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()


class Instrumentation:
    """The ``httpx2`` and ``openai`` instrumentors of agentotel's catalog, switched on with
    the arguments ``init()`` passes them and off again."""

    def __init__(self, providers: Providers) -> None:
        entries = {entry.name: entry for entry in catalog()}
        self.instrumentors = []
        for name in INSTRUMENTATIONS:
            module_name, _, class_name = entries[name].instrumentor.partition(":")
            self.instrumentors.append(getattr(importlib.import_module(module_name), class_name)())
        self.providers = providers

    def on(self) -> None:
        for instrumentor in self.instrumentors:
            instrumentor.instrument(
                tracer_provider=self.providers.tracer_provider,
                meter_provider=self.providers.meter_provider,
                logger_provider=self.providers.logger_provider,
                raise_exception_on_conflict=True,
            )

    def off(self) -> None:
        for instrumentor in reversed(self.instrumentors):
            instrumentor.uninstrument()


# --------------------------------------------------------------------------- the calls


class Calls:
    """The three variants, each a function of the call number."""

    def __init__(self, client: openai.OpenAI, port: int) -> None:
        self.client = client
        self.port = port

    def plain(self, _: int) -> Any:
        return self.client.chat.completions.create(model=MODEL, messages=MESSAGES)

    instrumented = plain  # the same call; the instrumentation is what differs

    def with_llm(self, _: int) -> Any:
        with agentotel.llm(MODEL, provider="openai", server_address="127.0.0.1",
                           server_port=self.port):
            return self.client.chat.completions.create(model=MODEL, messages=MESSAGES)


# --------------------------------------------------------------------------- timing




Variant = tuple[Callable[[int], Any], bool]  # the call, whether it runs instrumented


def run_block(variant: Variant, calls: int, instrumentation: Instrumentation,
              providers: Providers) -> tuple[float, int]:
    """Per-call seconds of one block, and the spans it exported."""
    fn, instrumented = variant
    if instrumented:
        instrumentation.on()
    try:
        seconds = time_block(fn, calls)
    finally:
        if instrumented:
            instrumentation.off()
    before = providers.span_exporter.exported
    providers.flush()
    return seconds, providers.span_exporter.exported - before


def interleaved(variants: dict[str, Variant], rounds: int, calls: int,
                instrumentation: Instrumentation, providers: Providers
                ) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Per-call seconds of every variant in every round (order alternating per round),
    and the spans each variant exported per call."""
    names = list(variants)
    for name in names:  # warm-up: connections, caches, instrument storage
        run_block(variants[name], max(calls // 10, 20), instrumentation, providers)
    results: dict[str, list[float]] = {name: [] for name in names}
    spans: dict[str, int] = dict.fromkeys(names, 0)
    for round_no in range(rounds):
        for name in names if round_no % 2 == 0 else reversed(names):
            seconds, exported = run_block(variants[name], calls, instrumentation, providers)
            results[name].append(seconds)
            spans[name] += exported
    return results, {name: spans[name] / (rounds * calls) for name in names}






def paired_added_us(ours: list[float], theirs: list[float]) -> float:
    return statistics.median((o - t) * 1e6 for o, t in zip(ours, theirs, strict=True))


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (15)")
    parser.add_argument("--calls", type=int, default=250, help="calls per timed block (250)")
    args = parser.parse_args(argv)

    started = perf_counter()
    providers = Providers(args.calls)
    instrumentation = Instrumentation(providers)
    previous = _runtime.RUNTIME
    _runtime.install(
        Runtime(
            providers.tracer_provider.get_tracer("agentotel"),
            Instruments(providers.meter_provider.get_meter("agentotel")),
            load_price_table(),
        )
    )
    server = FakeOpenAIServer(max_latency_s=0, model=FakeChatModel(0, 0)).start()
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-bench", max_retries=0)
    port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
    calls = Calls(client, port)
    try:
        results, spans = interleaved(
            {
                "plain": (calls.plain, False),
                "instrumented": (calls.instrumented, True),
                "instrumented+llm": (calls.with_llm, True),
            },
            args.rounds,
            args.calls,
            instrumentation,
            providers,
        )
    finally:
        client.close()
        server.stop()
        _runtime.install(previous)
        providers.shutdown()

    plain, instrumented, with_llm = (
        results["plain"], results["instrumented"], results["instrumented+llm"]
    )
    print(
        f"OpenAI SDK chat call against a local server: {args.rounds} interleaved rounds x "
        f"{args.calls} calls, medians in µs per call"
    )
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("openai", "opentelemetry-sdk", "opentelemetry-instrumentation-genai-openai",
                     "opentelemetry-instrumentation-httpx")
    )
    print(f"python {platform.python_version()}, {versions}")
    print()
    print(f"{'':36}{'µs/call':>10}{'spans/call':>12}")
    for label, key in (
        ("(a) plain openai client", "plain"),
        ("(b) + openai, httpx2 instrumentation", "instrumented"),
        ("(c) (b) inside agentotel.llm()", "instrumented+llm"),
    ):
        print(f"{label:36}{median_us(results[key]):10.1f}{spans[key]:12.2f}")
    print()
    print(f"{'':12}{'ratio':>8}{'added µs':>11}")
    for label, ours, theirs in (
        ("b / a", instrumented, plain),
        ("c / a", with_llm, plain),
        ("c / b", with_llm, instrumented),
    ):
        print(f"{label:12}{paired_ratio(ours, theirs):8.3f}"
              f"{paired_added_us(ours, theirs):11.1f}")
    print()
    print(f"(ran in {perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()

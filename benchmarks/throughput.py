"""Offered vs delivered spans at fixed rates: agentotel against the raw SDK, side by side.

Run from the repository root (alone: it uses both cores)::

    python benchmarks/throughput.py [--rates 2000 5000 10000 20000] [--seconds 3] [--runs 3]

For each rate and each side, a fresh sender process offers tool calls at that rate for
``--seconds`` seconds, exporting spans over OTLP/HTTP to a counting receiver in another
process (``benchmarks/otlp_sink.py``), then flushes and shuts down:

- ``sdk``: the raw OpenTelemetry SDK with its default settings -- a ``TracerProvider`` with
  a ``BatchSpanProcessor`` around ``OTLPSpanExporter``; each call is a hand-written
  ``execute_tool lookup`` span with the same attributes and a
  ``gen_ai.execute_tool.duration`` record;
- ``agentotel``: ``agentotel.init()`` exporting traces over OTLP (redaction on, as by
  default), each call ``with agentotel.tool("lookup", ...)``.

Calls are paced against the clock (the sender catches up in bursts when it falls
behind); a sender that cannot keep up offers fewer calls per second than asked, so the
achieved rate is printed. ``received`` is what the receiver decoded. For agentotel, what
it counted as lost comes from ``Telemetry.health()`` (the same counts as the
``otel_sdk_*`` metrics): spans dropped by the batch processor (``queue_full``) and spans
of failed exports; ``identity`` says whether received + counted = offered. The raw SDK
counts nothing by default. Figures are medians over ``--runs`` runs; nothing is asserted.

``--memory N`` runs the other measurement instead: N agentotel operations (workflow ->
agent -> LLM call -> tool, so 4 spans each) with a new model name, agent name, tool name
and error message on every call, printing resident memory every N/10 operations and the
number of metric series at the end (the SDK's cardinality limit caps them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SINK = Path(__file__).resolve().parent / "otlp_sink.py"
TOOL_ATTRIBUTES = {
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.tool.name": "lookup",
    "gen_ai.tool.type": "function",
}


# --------------------------------------------------------------------------- sender (child)


def offer(call: Callable[[int], None], rate: int, seconds: float) -> tuple[int, float]:
    """Call ``call`` ``rate * seconds`` times, paced to ``rate`` per second; the number
    of calls and the seconds they took."""
    total = int(rate * seconds)
    start = time.perf_counter()
    done = 0
    while done < total:
        due = min(total, int((time.perf_counter() - start) * rate) + 1)
        while done < due:
            call(done)
            done += 1
        if done < total:
            wait = start + done / rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
    return done, time.perf_counter() - start


def sdk_sender(endpoint: str, rate: int, seconds: float) -> dict[str, Any]:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    tracer = tracer_provider.get_tracer("bench")
    histogram = meter_provider.get_meter("bench").create_histogram(
        "gen_ai.execute_tool.duration", unit="s"
    )
    metric_attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup"}

    def call(i: int) -> None:
        start = time.perf_counter()
        with tracer.start_as_current_span("execute_tool lookup", attributes=TOOL_ATTRIBUTES):
            pass
        histogram.record(time.perf_counter() - start, metric_attributes)

    offered, elapsed = offer(call, rate, seconds)
    tracer_provider.shutdown()
    meter_provider.shutdown()
    return {"offered": offered, "elapsed": elapsed, "counted": None}


def agentotel_sender(endpoint: str, rate: int, seconds: float) -> dict[str, Any]:
    import agentotel

    telemetry = agentotel.init(
        "bench", traces_exporter="otlp", metrics_exporter="none", logs_exporter="none"
    )

    def call(i: int) -> None:
        with agentotel.tool("lookup", type="function"):
            pass

    offered, elapsed = offer(call, rate, seconds)
    telemetry.force_flush(timeout_s=30.0)
    traces = telemetry.health().signals["traces"]
    counted = {"dropped": traces.dropped, "failed": traces.failed, "errors": dict(traces.errors)}
    agentotel.shutdown()
    return {"offered": offered, "elapsed": elapsed, "counted": counted}


def child(side: str, endpoint: str, rate: int, seconds: float) -> None:
    sender = sdk_sender if side == "sdk" else agentotel_sender
    print(json.dumps(sender(endpoint, rate, seconds)), flush=True)


# --------------------------------------------------------------------------- driver


def _sink_request(port: int, method: str, path: str) -> dict[str, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=None)
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_run(side: str, rate: int, seconds: float, port: int) -> dict[str, Any]:
    """One sender process against the sink; its figures and what the sink received."""
    _sink_request(port, "POST", "/reset")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    endpoint = f"http://127.0.0.1:{port}/v1/traces"
    env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = endpoint
    result = subprocess.run(
        [sys.executable, __file__, "--child", side, endpoint, str(rate), str(seconds)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{side} sender failed:\n{result.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    figures["received"] = _sink_request(port, "GET", "/count")["spans"]
    return figures


def throughput(rates: Sequence[int], seconds: float, runs: int) -> None:
    port = _free_port()
    sink = subprocess.Popen(
        [sys.executable, str(SINK), str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert sink.stdout is not None
        sink.stdout.readline()  # "ready"
        print(f"{runs} runs of {seconds:g} s per rate and side; medians. "
              f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
        print(f"{'rate/s':>7} {'side':>10} {'achieved/s':>11} {'offered':>8} {'received':>9}"
              f" {'delivered':>10} {'counted lost':>13} {'identity':>9}")
        for rate in rates:
            for side in ("sdk", "agentotel"):
                results = [one_run(side, rate, seconds, port) for _ in range(runs)]
                _print_row(rate, side, results)
    finally:
        sink.terminate()
        sink.wait()


def _print_row(rate: int, side: str, results: list[dict[str, Any]]) -> None:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    offered = median([r["offered"] for r in results])
    received = median([r["received"] for r in results])
    achieved = median([r["offered"] / r["elapsed"] for r in results])
    delivered = median([r["received"] / r["offered"] for r in results])
    lowest = min(r["received"] / r["offered"] for r in results)
    if results[0]["counted"] is None:
        counted, identity = "-", "-"
    else:
        lost = [r["counted"]["dropped"] + r["counted"]["failed"] for r in results]
        counted = f"{median(lost):.0f}"
        exact = sum(
            r["received"] + r["counted"]["dropped"] + r["counted"]["failed"] == r["offered"]
            for r in results
        )
        identity = f"{exact}/{len(results)}"
    print(f"{rate:>7} {side:>10} {achieved:>11.0f} {offered:>8.0f} {received:>9.0f}"
          f" {delivered:>9.1%} {counted:>13} {identity:>9}   (lowest {lowest:.1%})", flush=True)


# --------------------------------------------------------------------------- memory


def rss_mib() -> float:
    """Resident memory now, in MiB (``/proc/self/statm``; peak RSS elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory(operations: int) -> None:
    """N operations with new names every call; resident memory along the way."""
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    import agentotel

    class Discard(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    telemetry = agentotel.init(
        "bench", traces_exporter="none", metrics_exporter="none", logs_exporter="none"
    )
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    telemetry.add_span_processor(BatchSpanProcessor(Discard()))
    reader = InMemoryMetricReader()
    # the readers of init()'s meter provider are fixed; read the series from a second
    # provider fed the same way would change what is measured, so count at the end instead
    step = max(1, operations // 10)
    print(f"{'operations':>11} {'RSS MiB':>8}")
    print(f"{0:>11} {rss_mib():>8.1f}", flush=True)
    for i in range(1, operations + 1):
        with agentotel.workflow(f"flow-{i}"):
            with agentotel.agent(f"agent-{i}"):
                with agentotel.llm(f"model-{i}", provider="openai") as call:
                    call.record_response(input_tokens=10, output_tokens=5)
                try:
                    with agentotel.tool(f"tool-{i}"):
                        raise ValueError(f"failure number {i}")
                except ValueError:
                    pass
        if i % step == 0:
            print(f"{i:>11} {rss_mib():>8.1f}", flush=True)
    del reader
    agentotel.shutdown()


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--child"]:
        side, endpoint, rate, seconds = args[1:5]
        child(side, endpoint, int(rate), float(seconds))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[2000, 5000, 10000, 20000])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory", type=int, default=0, metavar="N",
                        help="measure resident memory over N high-cardinality operations")
    options = parser.parse_args(args)
    if options.memory:
        memory(options.memory)
    else:
        throughput(options.rates, options.seconds, options.runs)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()

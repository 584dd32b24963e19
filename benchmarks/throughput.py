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
agent -> LLM call -> failing tool, 4 spans each) with a new workflow, agent, model and tool
name and error message on every call, metrics served on ``/metrics`` (Prometheus pull, so
the SDK keeps every series), in a fresh process per cardinality limit (``--limits``;
default 2000, agentotel's default, against 10**9, no limit): resident memory every N/10
operations, and the number of agentotel series ``/metrics`` serves at the end.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from otlp_sink import Sink  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
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


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_run(side: str, rate: int, seconds: float, sink: Sink) -> dict[str, Any]:
    """One sender process against the sink; its figures and what the sink received."""
    sink.reset()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    endpoint = f"{sink.endpoint}/v1/traces"
    env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = endpoint
    result = subprocess.run(
        [sys.executable, __file__, "--child", side, endpoint, str(rate), str(seconds)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{side} sender failed:\n{result.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    figures["received"] = sink.count()["spans"]
    return figures


def throughput(rates: Sequence[int], seconds: float, runs: int) -> None:
    with Sink() as sink:
        print(f"{runs} runs of {seconds:g} s per rate and side; medians. "
              f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
        print(f"{'rate/s':>7} {'side':>10} {'achieved/s':>11} {'offered':>8} {'received':>9}"
              f" {'delivered':>10} {'counted lost':>13} {'identity':>9}")
        for rate in rates:
            for side in ("sdk", "agentotel"):
                results = [one_run(side, rate, seconds, sink) for _ in range(runs)]
                _print_row(rate, side, results)


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


def memory_child(operations: int, limit: int) -> None:
    """N operations with new names every call (in a process of its own, /metrics on the
    port the environment names); resident memory every N/10 operations, then the number
    of agentotel metric series /metrics serves."""
    import agentotel

    telemetry = agentotel.init(
        "bench", traces_exporter="none", metrics_exporter="prometheus", logs_exporter="none",
        system_metrics="off", metric_cardinality_limit=limit,
    )
    step = max(1, operations // 10)
    print(json.dumps({"operations": 0, "rss_mib": rss_mib()}), flush=True)
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
            print(json.dumps({"operations": i, "rss_mib": rss_mib()}), flush=True)
    port = os.environ["OTEL_EXPORTER_PROMETHEUS_PORT"]
    try:  # without a limit the page is hundreds of megabytes
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=900) as page:
            text = page.read().decode()
    except OSError as error:
        print(json.dumps({"series": None, "overflow": None, "error": str(error)}), flush=True)
    else:
        series = [
            line for line in text.splitlines()
            if line.startswith(("gen_ai_", "agentotel_")) and "_bucket{" not in line
        ]
        overflow = sum('otel_metric_overflow="true"' in line for line in series)
        print(json.dumps({"series": len(series), "overflow": overflow}), flush=True)
    telemetry.shutdown()


def memory(operations: int, limits: Sequence[int]) -> None:
    """The resident-memory curve for each cardinality limit, side by side."""
    curves: dict[int, list[dict[str, Any]]] = {}
    for limit in limits:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
        env["OTEL_EXPORTER_PROMETHEUS_PORT"] = str(_free_port())
        result = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(operations), str(limit)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=7200, check=False,
        )
        if result.returncode != 0:
            print(f"limit {limit}: the run failed:\n{result.stderr[-3000:]}", file=sys.stderr)
        curves[limit] = [json.loads(line) for line in result.stdout.splitlines()
                         if line.startswith("{")]
    print(f"{operations} operations (workflow, agent, LLM call, failing tool: 4 spans), each "
          "with a new workflow, agent, model and tool name and a new error message")
    print(f"{'operations':>11}" + "".join(f" {f'RSS MiB, limit {n}':>22}" for n in limits))
    rows = [row for row in curves[limits[0]] if "operations" in row]
    for index, row in enumerate(rows):
        cells = "".join(f" {curves[n][index]['rss_mib']:>22.1f}" for n in limits)
        print(f"{row['operations']:>11}{cells}")
    for n in limits:
        final = curves[n][-1]
        if final.get("series") is None:
            print(f"limit {n}: /metrics not read ({final.get('error', 'the run failed')})")
        else:
            print(f"limit {n}: {final['series']} agentotel series on /metrics (buckets not "
                  f"counted), {final['overflow']} of them overflow series")


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--child"]:
        side, endpoint, rate, seconds = args[1:5]
        child(side, endpoint, int(rate), float(seconds))
        return
    if args[:1] == ["--memory-child"]:
        memory_child(int(args[1]), int(args[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[2000, 5000, 10000, 20000])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory", type=int, default=0, metavar="N",
                        help="measure resident memory over N high-cardinality operations")
    parser.add_argument("--limits", type=int, nargs="+", default=[2000, 10**9],
                        help="cardinality limits to compare in --memory (2000 and none)")
    options = parser.parse_args(args)
    if options.memory:
        memory(options.memory, options.limits)
    else:
        throughput(options.rates, options.seconds, options.runs)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()

"""Per-call overhead of agentotel's MCP layer, side by side with the MCP SDK's own tracing.

Run from the repository root::

    python benchmarks/mcp_overhead.py [--rounds 11] [--calls 300]

One process holds an MCP client and an MCP server (the SDK's ``MCPServer`` with one tool),
connected over in-memory streams with the JSON-RPC session loop (``Client(server,
mode="legacy")``), so a ``tools/call`` goes through both sides' dispatchers, as over stdio
but without a pipe. Both variants run on the same real SDK providers (spans through a
``BatchSpanProcessor`` to an exporter that discards them, flushed between blocks; metrics to
an ``InMemoryMetricReader`` never collected):

- ``sdk``: the ``mcp`` SDK's own tracing (its ``MCP send`` CLIENT span, its SERVER
  middleware span, ``traceparent`` in ``_meta``) — what an application gets from ``mcp``
  2.x with OpenTelemetry configured and no agentotel;
- ``agentotel``: agentotel's MCP layer enabled (conventions-shaped CLIENT and SERVER
  spans with all their attributes, the client and server operation-duration histograms,
  propagation with the caller's keys kept, the extracted context attached in the handler).

Rounds interleave the two (the order alternating), each timing ``--calls`` sequential
calls in one session with the garbage collector paused. The time is the process's CPU time
(all its threads; the sync tool runs in a worker thread): on a machine shared with other
work, wall-clock time mostly measures the neighbours. Printed: the median µs per call of
each, the median of the per-round ratios agentotel / sdk, and the added µs per call.
Nothing is asserted: the machines are noisy; the ratio is what to read.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from time import process_time
from typing import Any

import anyio
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentotel import _runtime  # noqa: E402
from agentotel._instruments import Instruments  # noqa: E402
from agentotel._runtime import Runtime  # noqa: E402
from agentotel.cost import load_price_table  # noqa: E402
from agentotel.integrations.mcp import MCPInstrumentor  # noqa: E402


class Discard(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def providers(calls: int) -> tuple[TracerProvider, MeterProvider, BatchSpanProcessor]:
    processor = BatchSpanProcessor(
        Discard(), max_queue_size=calls * 16, schedule_delay_millis=3_600_000,
        max_export_batch_size=calls * 16,
    )
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(processor)
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return tracer_provider, meter_provider, processor


def server() -> Any:
    from mcp.server.mcpserver import MCPServer

    app = MCPServer("bench")

    @app.tool()
    def lookup(order_id: str) -> str:
        return f"order {order_id}: shipped"

    return app


async def block(app: Any, calls: int) -> float:
    """CPU seconds per ``tools/call`` over ``calls`` calls in one session."""
    from mcp import Client

    async with Client(app, mode="legacy") as client:
        await client.call_tool("lookup", {"order_id": "warm-up"})
        gc.collect()
        gc.disable()
        try:
            start = process_time()
            for i in range(calls):
                await client.call_tool("lookup", {"order_id": str(i)})
            return (process_time() - start) / calls
        finally:
            gc.enable()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args(argv)

    tracer_provider, meter_provider, processor = providers(args.calls)
    trace.set_tracer_provider(tracer_provider)  # the SDK's own spans go here
    _runtime.install(Runtime(
        tracer_provider.get_tracer("agentotel"),
        Instruments(meter_provider.get_meter("agentotel")),
        load_price_table(),
    ))
    app = server()
    instrumentor = MCPInstrumentor()
    samples: dict[str, list[float]] = {"sdk": [], "agentotel": []}
    for round_ in range(args.rounds):
        order = ("sdk", "agentotel") if round_ % 2 == 0 else ("agentotel", "sdk")
        for variant in order:
            if variant == "agentotel":
                instrumentor.instrument()
            try:
                samples[variant].append(anyio.run(block, app, args.calls))
            finally:
                if variant == "agentotel":
                    instrumentor.uninstrument()
            processor.force_flush()

    sdk, ours = (statistics.median(samples[k]) * 1e6 for k in ("sdk", "agentotel"))
    ratio = statistics.median(o / s for o, s in zip(samples["agentotel"], samples["sdk"],
                                                    strict=True))
    print(f"MCP tools/call round trip, client and server in one process, in-memory streams "
          f"({args.rounds} rounds x {args.calls} calls)")
    print(f"  mcp SDK's own tracing      {sdk:8.1f} µs/call")
    print(f"  agentotel's MCP layer      {ours:8.1f} µs/call")
    print(f"  ratio agentotel / sdk      {ratio:8.3f}")
    print(f"  added by agentotel         {ours - sdk:8.1f} µs/call (both sides)")


if __name__ == "__main__":
    main()

"""Per-call overhead of agentotel through ``agentotel.init()``, against hand-written OTel.

Run from the repository root, alone (it uses both cores)::

    python benchmarks/overhead.py [--rounds 15] [--calls 2000] [--pause-us 100]

What users run is what is measured. A receiver in a process of its own
(``benchmarks/otlp_sink.py``) decodes and discards OTLP/HTTP. A second process, started
with nothing but ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at it, measures side by side:

- ``agentotel``: ``agentotel.init()`` with every default - spans, metrics and logs over
  OTLP/HTTP, redaction, the pipeline's own ``otel.sdk.*`` metrics, process metrics, the
  threading instrumentation, the GenAI span step, the recording sampler, the cardinality
  limit - and the calls through agentotel's public API: ``with agentotel.tool(...)``,
  ``with agentotel.llm(...) as call: call.record_response(...)``, ``call.stream(...)``;
- ``hand-written``: the same telemetry written with the raw OpenTelemetry API on its own
  SDK providers exporting the same way (``benchmarks/calls.py``, :class:`RawOTel`);
- ``agentotel, pipeline metrics off``: a second ``agentotel.init(pipeline_metrics=False)``
  in the same process (the API's global providers are set aside while it runs, then
  given back to the first), for the "self-metrics cost next to nothing" row.

Each call is timed two ways. ``burst``: a block of ``--calls`` calls back to back (the
export threads compete for the interpreter lock, as under load). ``paced``: one call at a
time with ``--pause-us`` microseconds of sleep between calls, each call timed on its own
(the export threads run in the pauses, as they do while an agent waits on a model).

Rounds are interleaved: each round times every variant once, the order alternating
between rounds, with the garbage collector paused inside timed blocks (as ``timeit``
does); spans are flushed between blocks, outside the timing. Figures are medians over
rounds; a ratio is the median of the per-round ratios (each pair measured close together
in time). The streamed LLM call (20 chunks) gives the cost per chunk: the streamed call's
time less the plain call's, over 20. Then, in a process started with
``OTEL_SDK_DISABLED=true`` that calls ``agentotel.init()``, a function decorated with
``@agentotel.tool`` against the same function undecorated. The script prints and
asserts nothing; targets: agentotel / hand-written <= 1.10 for both calls, pipeline
metrics on / off <= 1.03, <= 2 µs per decorated call with the SDK disabled.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from time import perf_counter
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentotel_calls import llm_call, streamed_llm_call, tool_call  # noqa: E402
from calls import STREAM_CHUNKS, RawOTel  # noqa: E402
from otlp_sink import Sink  # noqa: E402
from timing import Variant, interleaved, median_us, paired_ratio  # noqa: E402

import agentotel  # noqa: E402
from agentotel import _runtime, _setup  # noqa: E402

# --------------------------------------------------------------------------- two init()s


def _reset_api_globals() -> None:
    """Forget the API's global providers, as opentelemetry-test-utils' ``globals_test``
    does between tests, so that another ``init()`` can install its own."""
    from opentelemetry import trace
    from opentelemetry._logs import _internal as logs_api
    from opentelemetry.metrics import _internal as metrics_api
    from opentelemetry.util._once import Once

    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    metrics_api._METER_PROVIDER_SET_ONCE = Once()  # type: ignore[attr-defined]
    metrics_api._METER_PROVIDER = None  # type: ignore[attr-defined]
    logs_api._LOGGER_PROVIDER_SET_ONCE = Once()  # type: ignore[attr-defined]
    logs_api._LOGGER_PROVIDER = None  # type: ignore[attr-defined]


def second_init(first: _setup.Telemetry, **arguments: Any) -> tuple[Any, Any]:
    """A second, independent ``agentotel.init(**arguments)`` in this process; the first
    stays the installed one. Returns the second's handle and runtime."""
    from opentelemetry import _logs, metrics, trace

    first_runtime = _runtime.current()
    _reset_api_globals()
    _setup._telemetry = None
    second = agentotel.init(**arguments)
    second_runtime = _runtime.current()
    _reset_api_globals()
    trace.set_tracer_provider(first.tracer_provider)
    metrics.set_meter_provider(first.meter_provider)
    if first.logger_provider is not None:
        _logs.set_logger_provider(first.logger_provider)
    _setup._telemetry = first
    _runtime.install(first_runtime)
    return second, second_runtime


# --------------------------------------------------------------------------- timing


def child(rounds: int, calls: int, pause_s: float, out: str) -> None:
    """The measuring process: ``init()`` as an application calls it, the raw SDK beside it."""
    endpoint = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]
    telemetry = agentotel.init()
    on = _runtime.current()
    off_telemetry, off = second_init(telemetry, pipeline_metrics=False)
    raw = RawOTel(endpoint)

    def flush() -> None:
        raw.flush()
        telemetry.tracer_provider.force_flush()  # type: ignore[attr-defined]
        off_telemetry.tracer_provider.force_flush()

    def use(runtime: Any) -> Callable[[], None]:
        return lambda: _runtime.install(runtime)

    variants = {
        "tool/hand": Variant(raw.tool_call),
        "tool/agentotel": Variant(tool_call, use(on)),
        "tool/metrics-off": Variant(tool_call, use(off)),
        "llm/hand": Variant(raw.llm_call),
        "llm/agentotel": Variant(llm_call, use(on)),
        "llm/metrics-off": Variant(llm_call, use(off)),
    }
    streams = {
        "stream/hand": Variant(raw.streamed_llm_call),
        "stream/agentotel": Variant(streamed_llm_call, use(on)),
    }
    results = {
        "burst": interleaved({**variants, **streams}, rounds, calls, None, flush),
        "paced": interleaved(variants, rounds, calls, pause_s, flush),
    }
    _runtime.install(on)
    health = telemetry.health()
    traces = health.signals.get("traces")
    results["health"] = {  # type: ignore[assignment]
        "status": health.status,
        "dropped": traces.dropped if traces else None,
        "failed": traces.failed if traces else None,
    }
    raw.shutdown()
    off_telemetry.shutdown()
    telemetry.shutdown()
    Path(out).write_text(json.dumps(results))


def run_child(endpoint: str, rounds: int, calls: int, pause_us: float) -> dict[str, Any]:
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
           "OTEL_SERVICE_NAME": "overhead-benchmark"}
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "results.json")
        subprocess.run(
            [sys.executable, __file__, "--child", out, "--rounds", str(rounds),
             "--calls", str(calls), "--pause-us", str(pause_us)],
            env=env, check=True, timeout=1800, stdout=subprocess.DEVNULL,
        )
        result: dict[str, Any] = json.loads(Path(out).read_text())
        return result


# --------------------------------------------------------------------------- disabled SDK


def disabled_child(rounds: int, calls: int) -> None:
    """In a process with OTEL_SDK_DISABLED=true: decorated vs. undecorated, JSON on stdout."""
    agentotel.init()

    def plain(x: int) -> int:
        return x + 1

    @agentotel.tool
    def decorated(x: int) -> int:
        return x + 1

    results = interleaved(
        {"decorated": Variant(decorated), "plain": Variant(plain)}, rounds, calls, None
    )
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
        [sys.executable, __file__, "--disabled-child", "--rounds", str(rounds),
         "--calls", str(calls)],
        env=env, capture_output=True, text=True, check=True, timeout=300,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------- report


def _print_ratios(
    paced: dict[str, list[float]], burst: dict[str, list[float]], base: str, target: str
) -> None:
    """A row per call and mode: the ``base`` variant, agentotel's, and their ratio."""
    for label, key in (("tool call", "tool"), ("LLM call", "llm")):
        for mode, data in (("paced", paced), ("burst", burst)):
            theirs, ours = data[f"{key}/{base}"], data[f"{key}/agentotel"]
            print(
                f"{f'{label}, {mode}':34}{median_us(theirs):13.2f}{median_us(ours):11.2f}"
                f"{paired_ratio(ours, theirs):8.3f}   {target}"
            )


def report(results: dict[str, Any], disabled: dict[str, Any], args: argparse.Namespace) -> None:
    burst, paced = results["burst"], results["paced"]
    print(
        f"agentotel overhead through agentotel.init(): {args.rounds} interleaved rounds x "
        f"{args.calls} calls, medians in µs per call"
    )
    print(
        f"python {platform.python_version()}, opentelemetry-sdk "
        f"{metadata.version('opentelemetry-sdk')}, {os.cpu_count()} CPUs; OTLP/HTTP to a "
        f"receiver in another process; paced: {args.pause_us:g} µs sleep between calls"
    )
    print()
    print("init() defaults vs hand-written raw OpenTelemetry (same process, same export):")
    print(f"{'':34}{'hand-written':>13}{'agentotel':>11}{'ratio':>8}   target")
    _print_ratios(paced, burst, "hand", "<= 1.10")
    chunks = len(STREAM_CHUNKS)
    theirs, ours = burst["stream/hand"], burst["stream/agentotel"]
    print(
        f"{f'streamed LLM call ({chunks} chunks), burst':34}{median_us(theirs):13.2f}"
        f"{median_us(ours):11.2f}{paired_ratio(ours, theirs):8.3f}"
    )
    per_chunk = {
        side: [(s - p) / chunks for s, p in zip(burst[f"stream/{side}"], burst[f"llm/{side}"],
                                                 strict=True)]
        for side in ("hand", "agentotel")
    }
    print(
        f"{'  per chunk':34}{median_us(per_chunk['hand']):13.2f}"
        f"{median_us(per_chunk['agentotel']):11.2f}"
        f"{paired_ratio(per_chunk['agentotel'], per_chunk['hand']):8.3f}"
    )
    print()
    print("Pipeline metrics on (the default) vs off (a second init(pipeline_metrics=False)):")
    print(f"{'':34}{'off':>13}{'on':>11}{'ratio':>8}   target")
    _print_ratios(paced, burst, "metrics-off", "<= 1.03")
    health = results["health"]
    print(
        f"(agentotel's health after the run: {health['status']}, spans dropped "
        f"{health['dropped']}, failed {health['failed']})"
    )
    print()
    print("OTEL_SDK_DISABLED=true (subprocess, agentotel.init()):")
    if not disabled["runtime_disabled"]:
        print("  WARNING: agentotel.init() did not install a disabled runtime")
    print(f"  @agentotel.tool decorated call {disabled['decorated_us']:8.3f} µs   target <= 2 µs")
    print(f"  undecorated call               {disabled['plain_us']:8.3f} µs")
    print(f"  overhead per call              {disabled['overhead_us']:8.3f} µs")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (15)")
    parser.add_argument("--calls", type=int, default=2000, help="calls per timed block (2000)")
    parser.add_argument("--pause-us", type=float, default=100.0,
                        help="sleep between paced calls, µs (100)")
    parser.add_argument("--disabled-calls", type=int, default=100_000, help=argparse.SUPPRESS)
    parser.add_argument("--child", metavar="OUT", help=argparse.SUPPRESS)
    parser.add_argument("--disabled-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.disabled_child:
        disabled_child(args.rounds, args.calls)
        return
    if args.child:
        child(args.rounds, args.calls, args.pause_us * 1e-6, args.child)
        return

    started = perf_counter()
    with Sink() as sink:
        results = run_child(sink.endpoint, args.rounds, args.calls, args.pause_us)
    disabled = run_disabled(args.rounds, args.disabled_calls)
    report(results, disabled, args)
    print()
    print(f"(ran in {perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()

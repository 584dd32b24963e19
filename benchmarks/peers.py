"""Per-call overhead of agentotel and its peers, each against hand-written OpenTelemetry.

Run from the repository root, alone (it uses both cores)::

    python benchmarks/peers.py [--rounds 9] [--calls 1000] [--out FILE.md]

(``make bench-peers`` runs it and writes ``benchmarks/results/peers.md``.)

Each library runs in a virtual environment of its own under ``benchmarks/.peers/`` (made
on first use with the pinned versions in :data:`PEERS`, pip upgraded first: some peers'
pins do not resolve with the pip that ``python -m venv`` brings), in a process of its
own, exporting over OTLP/HTTP to a receiver in another process
(``benchmarks/otlp_sink.py``) as its documentation says to point it at a Collector. In
the same process, the same calls hand-written with the raw OpenTelemetry API on its own
SDK providers exporting the same way (``benchmarks/calls.py``) are the yardstick; agentotel
runs in the project's environment, through ``agentotel.init()`` with its defaults.

The same tool call and LLM call through each library's public API:

- ``agentotel``: ``with agentotel.tool(...)``; ``with agentotel.llm(...) as call:
  call.record_response(...)`` (span, duration, tokens, cost);
- ``opentelemetry-util-genai``: ``TelemetryHandler.tool(...)`` and
  ``TelemetryHandler.inference(...)`` on SDK providers built by hand (span, duration,
  tokens; no cost);
- ``traceloop-sdk``: ``Traceloop.init(api_endpoint=...)``, the ``@tool`` decorator, and
  ``track_llm_call`` with ``report_request`` / ``report_response`` / ``report_usage`` (spans
  only: no duration or token metric for a manual call, no cost);
- ``logfire``: ``logfire.configure(send_to_logfire=False)`` with
  ``OTEL_EXPORTER_OTLP_ENDPOINT``; ``logfire.span(...)`` with the same attributes and
  ``logfire.metric_histogram`` / ``metric_counter`` for the same metrics.

Timing is ``overhead.py``'s: ``paced`` (one call at a time, ``--pause-us`` of sleep
between) and ``burst`` (blocks of ``--calls`` calls), interleaved rounds, the garbage
collector paused in timed blocks, spans flushed between blocks; a ratio is the median of
the per-round ratios library / hand-written. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import venv
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calls import (  # noqa: E402
    CACHE_READ_TOKENS,
    CACHE_WRITE_TOKENS,
    FINISH_REASONS,
    INPUT_TOKENS,
    MAX_TOKENS,
    MODEL,
    OUTPUT_TOKENS,
    PROVIDER,
    RESPONSE_ID,
    RESPONSE_MODEL,
    SERVER_ADDRESS,
    SERVER_PORT,
    TEMPERATURE,
    TOOL,
    TOOL_CALL_ID,
    TOOL_DESCRIPTION,
    RawOTel,
    cost_usd,
    work,
)
from timing import Variant, interleaved, paired_ratio  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEER_ENVS = HERE / ".peers"
#: the OTLP/HTTP exporter the hand-written side needs in every environment
EXPORTER = "opentelemetry-exporter-otlp-proto-http"

#: name -> (distribution whose version is reported, what pip installs); agentotel runs in
#: the project's own environment
PEERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "agentotel": ("agentotel", ()),
    "util-genai": (
        "opentelemetry-util-genai", ("opentelemetry-util-genai==1.3b0", "opentelemetry-sdk")
    ),
    # traceloop-sdk imports httpx without declaring it
    "traceloop": ("traceloop-sdk", ("traceloop-sdk==0.62.4", "httpx")),
    "logfire": ("logfire", ("logfire==5.4.0",)),
}
#: what each library's LLM call records besides the span, for the table
RECORDS = {
    "agentotel": "span, duration, tokens, cost",
    "util-genai": "span, duration, tokens",
    "traceloop": "span only",
    "logfire": "span, duration, tokens, cost (by hand)",
}


# --------------------------------------------------------------------------- the libraries

#: a library's tool call, LLM call, and how to flush its spans (between timed blocks)
Calls = tuple[Callable[[int], int], Callable[[int], int], Callable[[], object]]


def flush_global() -> object:
    """Flush the global tracer provider (the one the library installed)."""
    from opentelemetry import trace

    force_flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    return force_flush() if callable(force_flush) else None



def setup_agentotel(endpoint: str) -> Calls:
    from agentotel_calls import llm_call, tool_call

    import agentotel

    agentotel.init()
    return tool_call, llm_call, flush_global


def setup_util_genai(endpoint: str) -> Calls:
    from opentelemetry.util.genai.handler import TelemetryHandler

    providers = RawOTel(endpoint, "util-genai")  # the helper sets up no SDK of its own
    handler = TelemetryHandler(
        tracer_provider=providers.tracer_provider, meter_provider=providers.meter_provider
    )

    def tool(x: int) -> int:
        with handler.tool(TOOL, tool_type="function") as invocation:
            invocation.tool_call_id = TOOL_CALL_ID
            invocation.tool_description = TOOL_DESCRIPTION
            return work(x)

    def llm(x: int) -> int:
        invocation = handler.inference(
            PROVIDER, request_model=MODEL, server_address=SERVER_ADDRESS,
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

    return tool, llm, providers.flush


def setup_traceloop(endpoint: str) -> Calls:
    from traceloop.sdk import Traceloop
    from traceloop.sdk.decorators import tool as traceloop_tool
    from traceloop.sdk.tracing.manual import LLMUsage, track_llm_call

    Traceloop.init(app_name="peers-traceloop", api_endpoint=endpoint, telemetry_enabled=False)

    @traceloop_tool(name=TOOL)
    def tool(x: int) -> int:
        return work(x)

    def llm(x: int) -> int:
        with track_llm_call(vendor=PROVIDER, type="chat") as span:
            span.report_request(model=MODEL, messages=[])
            result = work(x)
            span.report_response(RESPONSE_MODEL, [])
            span.report_usage(LLMUsage(
                prompt_tokens=INPUT_TOKENS, completion_tokens=OUTPUT_TOKENS,
                total_tokens=INPUT_TOKENS + OUTPUT_TOKENS,
                cache_read_input_tokens=CACHE_READ_TOKENS,
                cache_creation_input_tokens=CACHE_WRITE_TOKENS,
            ))
            return result

    return tool, llm, flush_global


def setup_logfire(endpoint: str) -> Calls:
    import logfire

    logfire.configure(service_name="peers-logfire", send_to_logfire=False, console=False)
    tool_duration = logfire.metric_histogram("gen_ai.execute_tool.duration", unit="s")
    operation_duration = logfire.metric_histogram("gen_ai.client.operation.duration", unit="s")
    token_usage = logfire.metric_histogram("gen_ai.client.token.usage", unit="{token}")
    cost_counter = logfire.metric_counter("agentotel.llm.cost", unit="USD")
    tool_attributes = {
        "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": TOOL,
        "gen_ai.tool.type": "function", "gen_ai.tool.call.id": TOOL_CALL_ID,
        "gen_ai.tool.description": TOOL_DESCRIPTION,
    }
    request_attributes = {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": PROVIDER,
        "gen_ai.request.model": MODEL, "server.address": SERVER_ADDRESS,
        "server.port": SERVER_PORT, "gen_ai.request.temperature": TEMPERATURE,
        "gen_ai.request.max_tokens": MAX_TOKENS,
    }
    metric_attributes = {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": PROVIDER,
        "gen_ai.request.model": MODEL, "server.address": SERVER_ADDRESS,
        "server.port": SERVER_PORT, "gen_ai.response.model": RESPONSE_MODEL,
    }
    from time import perf_counter

    def tool(x: int) -> int:
        start = perf_counter()
        with logfire.span(f"execute_tool {TOOL}", **tool_attributes):
            try:
                return work(x)
            finally:
                tool_duration.record(perf_counter() - start, {
                    "gen_ai.tool.name": TOOL, "gen_ai.tool.type": "function",
                })

    def llm(x: int) -> int:
        start = perf_counter()
        with logfire.span(f"chat {MODEL}", **request_attributes) as span:
            result = work(x)
            cost = cost_usd()
            span.set_attributes({
                "gen_ai.response.model": RESPONSE_MODEL, "gen_ai.response.id": RESPONSE_ID,
                "gen_ai.response.finish_reasons": FINISH_REASONS,
                "gen_ai.usage.input_tokens": INPUT_TOKENS,
                "gen_ai.usage.output_tokens": OUTPUT_TOKENS,
                "gen_ai.usage.cache_read.input_tokens": CACHE_READ_TOKENS,
                "gen_ai.usage.cache_write.input_tokens": CACHE_WRITE_TOKENS,
                "agentotel.llm.cost_usd": cost,
            })
            cost_counter.add(cost, {"gen_ai.provider.name": PROVIDER,
                                    "gen_ai.request.model": MODEL})
            operation_duration.record(perf_counter() - start, metric_attributes)
            token_usage.record(INPUT_TOKENS, {**metric_attributes, "gen_ai.token.type": "input"})
            token_usage.record(OUTPUT_TOKENS,
                               {**metric_attributes, "gen_ai.token.type": "output"})
            return result

    return tool, llm, flush_global


SETUPS: dict[str, Callable[[str], Calls]] = {
    "agentotel": setup_agentotel,
    "util-genai": setup_util_genai,
    "traceloop": setup_traceloop,
    "logfire": setup_logfire,
}


# --------------------------------------------------------------------------- one library


def child(name: str, rounds: int, calls: int, pause_s: float, out: str) -> None:
    """In the library's environment: its calls against the hand-written ones."""
    endpoint = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]
    raw = RawOTel(endpoint)
    tool, llm, flush_library = SETUPS[name](endpoint)

    def flush() -> None:
        raw.flush()
        flush_library()

    variants = {
        "tool/hand": Variant(raw.tool_call), "tool/library": Variant(tool),
        "llm/hand": Variant(raw.llm_call), "llm/library": Variant(llm),
    }
    results = {
        "paced": interleaved(variants, rounds, calls, pause_s, flush),
        "burst": interleaved(variants, rounds, calls, None, flush),
        "version": metadata.version(PEERS[name][0]),
        "sdk": metadata.version("opentelemetry-sdk"),
    }
    Path(out).write_text(json.dumps(results))
    os._exit(0)  # no exit-time export: each library's shutdown differs and is not timed


def environment(name: str) -> Path:
    """The Python of the library's environment, made on first use."""
    if name == "agentotel":
        return Path(sys.executable)
    folder = PEER_ENVS / name
    python = folder / "bin" / "python"
    if not python.exists():
        print(f"making the {name} environment in {folder.relative_to(ROOT)} ...", flush=True)
        venv.create(folder, with_pip=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, *PEERS[name][1], EXPORTER], check=True)
    return python


def run(name: str, endpoint: str, args: argparse.Namespace) -> dict[str, Any]:
    python = environment(name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    env.update(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_SERVICE_NAME=f"peers-{name}")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        subprocess.run(
            [str(python), __file__, "--child", name, "--out", str(out),
             "--rounds", str(args.rounds), "--calls", str(args.calls),
             "--pause-us", str(args.pause_us)],
            env=env, cwd=ROOT, check=True, timeout=3600,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def table(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"Per call, ratio to the same telemetry hand-written with the raw OpenTelemetry SDK in "
        f"the same process; {args.rounds} interleaved rounds of {args.calls} calls; paced: "
        f"{args.pause_us:g} µs between calls. Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs.",
        "",
        "| library | tool, paced | tool, burst | LLM, paced | LLM, burst | the LLM call records |",
        "|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        cells = []
        for key in ("tool", "llm"):
            for mode in ("paced", "burst"):
                data = result[mode]
                cells.append(f"{paired_ratio(data[f'{key}/library'], data[f'{key}/hand']):.2f}")
        label = f"{PEERS[name][0]} {result['version']} (sdk {result['sdk']})"
        lines.append(f"| {label} | {' | '.join(cells)} | {RECORDS[name]} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (9)")
    parser.add_argument("--calls", type=int, default=1000, help="calls per timed block (1000)")
    parser.add_argument("--pause-us", type=float, default=100.0,
                        help="sleep between paced calls, µs (100)")
    parser.add_argument("--only", nargs="*", choices=list(PEERS), help="these libraries only")
    parser.add_argument("--out", help="also write the Markdown table to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.rounds, args.calls, args.pause_us * 1e-6, args.out)
        return

    from otlp_sink import Sink

    results = {}
    with Sink() as sink:
        for name in args.only or PEERS:
            print(f"measuring {name} ...", flush=True)
            results[name] = run(name, sink.endpoint, args)
    text = table(results, args)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()

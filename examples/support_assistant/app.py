"""Command line of the support-assistant demo.

    python -m examples.support_assistant [--requests PATH] [--limit N] [--linger SECONDS]
                                         [--quiet]

Handles each request of the input file (default: the bundled ``data/requests.jsonl``)
in its own ``support-triage`` workflow, prints one result line per request, then a
summary of the run and of its telemetry, and exits 0 once the run is complete, also when
some requests were denied or failed (2 when the input cannot be read).

Telemetry defaults (an ``OTEL_{TRACES,METRICS,LOGS}_EXPORTER`` variable, when set, wins):

- no OTLP endpoint configured: trace trees on the terminal (``agentotel_console``),
  metrics on Prometheus ``/metrics`` (``OTEL_EXPORTER_PROMETHEUS_HOST``/``_PORT``,
  default ``localhost:9464``), no log export;
- ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or a per-signal ``..._TRACES/_METRICS/_LOGS_ENDPOINT``)
  set: traces, metrics and logs are also exported over OTLP
  (``OTEL_EXPORTER_OTLP_PROTOCOL``).

``--quiet`` leaves the trace trees out; ``--linger S`` keeps the process (and
``/metrics``) up for S seconds after the run. The model API is a local fake server
(:mod:`.fake_openai`) unless both ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` are set;
``OPENAI_MODEL`` then picks the model for all agents.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider

import agentotel

from .fake_openai import FakeOpenAIServer
from .llm_client import ChatClient
from .remote import Relay, Remote
from .summary import RunStatistics
from .workflow import DEFAULT_REQUESTS, Outcome, SupportAssistant, SupportRequest, load_requests

SERVICE_NAME = "support-assistant"
ENVIRONMENT = "demo"
#: the bearer token sent to the local fake server (it only checks that one is present).
FAKE_API_KEY = "sk-local-fake-server"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m examples.support_assistant",
        description="Run the Acme Drive support assistant on a file of customer requests "
        "and show its telemetry.",
    )
    parser.add_argument(
        "--requests", type=Path, default=DEFAULT_REQUESTS, metavar="PATH",
        help="JSON-lines file of requests (default: the bundled data/requests.jsonl)",
    )
    parser.add_argument(
        "--limit", type=int, default=None, metavar="N", help="handle only the first N requests"
    )
    parser.add_argument(
        "--linger", type=float, default=0.0, metavar="SECONDS",
        help="keep the process (and /metrics) up this long after the run",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="do not print the trace trees"
    )
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- exporters


def _endpoint_set(env: Mapping[str, str], signal: str) -> bool:
    return bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    )


@dataclass(frozen=True)
class Exporters:
    """Comma lists for ``agentotel.init(traces_exporter=..., metrics_exporter=...,
    logs_exporter=...)``."""

    traces: str
    metrics: str
    logs: str

    def describe(self) -> str:
        return f"traces={self.traces}, metrics={self.metrics}, logs={self.logs}"


def exporter_settings(env: Mapping[str, str], *, quiet: bool = False) -> Exporters:
    """The demo's exporters (explicit ``init()`` arguments win over the environment in
    agentotel, so the demo computes them from the environment itself).

    ``OTEL_{TRACES,METRICS,LOGS}_EXPORTER`` win when set. Otherwise: traces go to the
    terminal as trees (unless ``quiet``), metrics to Prometheus ``/metrics``, logs
    nowhere; each signal is also exported over OTLP when an endpoint is configured.
    """
    local = {"traces": [] if quiet else ["agentotel_console"], "metrics": ["prometheus"],
             "logs": []}
    chosen = {}
    for signal, exporters in local.items():
        explicit = env.get(f"OTEL_{signal.upper()}_EXPORTER")
        if explicit:
            chosen[signal] = explicit
        else:
            otlp = ["otlp"] if _endpoint_set(env, signal) else []
            chosen[signal] = ",".join(otlp + exporters) or "none"
    return Exporters(**chosen)


# --------------------------------------------------------------------------- model API


@dataclass(frozen=True)
class Backend:
    """Where the Chat Completions requests go."""

    base_url: str
    api_key: str
    description: str


@contextlib.contextmanager
def model_backend(env: Mapping[str, str]) -> Iterator[Backend]:
    """The real provider when ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` are both set,
    else the bundled fake server (started here, stopped on exit)."""
    base_url, api_key = env.get("OPENAI_BASE_URL"), env.get("OPENAI_API_KEY")
    if base_url and api_key:
        yield Backend(base_url, api_key, f"OpenAI-compatible API at {base_url}")
        return
    with FakeOpenAIServer() as server:
        yield Backend(server.base_url, FAKE_API_KEY, f"local fake OpenAI API at {server.base_url}")


# --------------------------------------------------------------------------- output


def _shorten(text: str, width: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def result_line(request: SupportRequest, outcome: Outcome, duration_s: float) -> str:
    """One line per request: id, status, duration and the reply / reason / error."""
    status = {"answered": "answered", "denied": "DENIED", "error": "ERROR"}[outcome.status]
    line = f"{request.id}  {status:<8} {duration_s:6.2f}s  {_shorten(outcome.detail)}"
    if outcome.notes:
        line += f"\n{'':18}[{outcome.notes}]"
    return line


def run_summary(outcomes: list[Outcome]) -> str:
    """``38 requests: 25 answered, 9 denied, 4 failed; 6 modified, 1 warned``."""
    statuses = Counter(outcome.status for outcome in outcomes)
    modified = sum(
        "modify" in (outcome.input_verdict, outcome.output_verdict) for outcome in outcomes
    )
    warned = sum("warn" in (outcome.input_verdict, outcome.output_verdict) for outcome in outcomes)
    return (
        f"{len(outcomes)} requests: {statuses['answered']} answered, {statuses['denied']} denied, "
        f"{statuses['error']} failed; {modified} modified by guardrails, {warned} warned"
    )


def evaluation_summary(outcomes: list[Outcome]) -> str:
    """``groundedness: mean 0.72 over 25 replies; 21 pass, 4 fail``."""
    results = [o.groundedness for o in outcomes if o.groundedness is not None]
    if not results:
        return "groundedness: no replies evaluated"
    labels = Counter(result.label for result in results)
    mean = sum(result.score for result in results) / len(results)
    return (
        f"groundedness: mean {mean:.2f} over {len(results)} replies; "
        f"{labels['pass']} pass, {labels['fail']} fail"
    )


def _display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _say(text: str = "") -> None:
    print(text, flush=True)


# --------------------------------------------------------------------------- run


class _NoProcessor:
    """Where relayed spans go when tracing is off (``OTEL_SDK_DISABLED``)."""

    def on_end(self, span: object) -> None:
        pass


def remote_tools() -> str:
    from .remote import MCP_TOOLS

    return ", ".join(sorted(MCP_TOOLS))


def handle_one(assistant: SupportAssistant, request: SupportRequest) -> Outcome:
    """Run the workflow for one request; a failure becomes an ``error`` outcome."""
    try:
        return assistant.handle(request)
    except Exception as error:  # noqa: BLE001 - one failed request must not stop the run
        # "requests.exceptions.HTTPError: 500 ...": the class qualified as error.type is
        detail = traceback.format_exception_only(type(error), error)[-1].strip()
        return Outcome(request.id, "error", detail)


def linger(seconds: float, metrics_url: str | None) -> None:
    """Stay alive ``seconds`` (serving ``/metrics``); Ctrl-C ends the wait early."""
    if seconds <= 0:
        return
    where = f", serving {metrics_url}" if metrics_url else ""
    try:
        _say(f"Lingering {seconds:g} s{where} (Ctrl-C to stop) ...")
        time.sleep(seconds)
    except KeyboardInterrupt:
        pass


def metrics_url(env: Mapping[str, str], metrics_exporter: str) -> str | None:
    """Where ``/metrics`` is served, or None without the prometheus exporter."""
    if "prometheus" not in metrics_exporter:
        return None
    host = env.get("OTEL_EXPORTER_PROMETHEUS_HOST", "localhost")
    port = env.get("OTEL_EXPORTER_PROMETHEUS_PORT", "9464")
    return f"http://{host}:{port}/metrics"


def run(assistant: SupportAssistant, support_requests: list[SupportRequest]) -> list[Outcome]:
    """Handle the requests one by one, printing a result line for each."""
    outcomes = []
    for request in support_requests:
        started = time.monotonic()
        outcome = handle_one(assistant, request)
        outcomes.append(outcome)
        _say(result_line(request, outcome, time.monotonic() - started))
    return outcomes


def main(argv: list[str] | None = None) -> int:
    """Run the demo; the process exit status (0 once the run completes, 2 on bad input)."""
    args = parse_args(argv)
    try:
        support_requests = load_requests(args.requests, args.limit)
    except (OSError, ValueError) as error:
        print(f"cannot read the requests: {error}", file=sys.stderr)
        return 2
    env = os.environ
    # The application's choice, not agentotel's: stable HTTP names on the requests spans.
    env.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    exporters = exporter_settings(env, quiet=args.quiet)
    telemetry = agentotel.init(
        SERVICE_NAME,
        environment=ENVIRONMENT,
        traces_exporter=exporters.traces,
        metrics_exporter=exporters.metrics,
        logs_exporter=exporters.logs,
    )
    statistics = RunStatistics()
    if isinstance(telemetry.tracer_provider, TracerProvider):  # not with OTEL_SDK_DISABLED
        telemetry.add_span_processor(statistics)
    url = metrics_url(env, exporters.metrics)

    _say(f"Support assistant: {len(support_requests)} requests from "
         f"{_display_path(args.requests)}")
    _say(f"Exporters: {exporters.describe()}" + (f"; metrics at {url}" if url else ""))
    # the child processes' spans join this process's pipeline (the provider's processor)
    relay = Relay(getattr(telemetry.tracer_provider, "_active_span_processor", None)
                  or _NoProcessor(), ENVIRONMENT)
    with model_backend(env) as backend:
        remote = Remote(relay, backend.base_url, backend.api_key)
        _say(f"Model API: {backend.description}")
        _say(f"Tools over MCP (stdio): {remote_tools()}; planner over A2A at "
             f"{remote.planner_url}\n")
        client = ChatClient(backend.base_url, backend.api_key)
        try:
            outcomes = run(SupportAssistant(client, remote=remote), support_requests)
        finally:
            client.close()
            remote.close()
    relay.close()

    _say("\n== Run ==")
    _say("  " + run_summary(outcomes))
    _say("  " + evaluation_summary(outcomes))
    _say("== Telemetry (counted from this run's spans) ==")
    for line in statistics.lines():
        _say(line)
    telemetry.force_flush()
    linger(args.linger, url)
    _say("Run complete.")
    agentotel.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

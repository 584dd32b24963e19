"""The Prometheus names the documentation, the dashboards and the alert rules use are served.

A small application runs in a subprocess: ``agentotel.init()`` with the Prometheus
exporter on a free port (``OTEL_EXPORTER_PROMETHEUS_PORT``), then one workflow with a
guardrail, an agent, a priced and streamed LLM call (so a cost and the chunk metrics are
recorded) and a scored evaluation of it, a tool, a handoff, a retrieval and a memory
search, an MCP tool call to an in-process MCP server, and two memory sizes (records and
bytes), logs a line, and flushes every signal over OTLP to the test's receiver (so the
pipeline's own ``otel_sdk_*`` metrics are recorded); it reports process and host metrics
(``system_metrics="host"``); then it waits on stdin. Its ``/metrics`` is scraped once and
parsed with ``prometheus_client``; every name in the "Prometheus name" columns of the
documentation's pages (as the site shows them, the generated reference tables included),
every ``semconv.PROM_*`` constant and every agentotel metric the dashboards and
``alerts.yml`` query must be among the served sample names. A histogram's base name
counts as served when its ``_bucket``, ``_sum`` and ``_count`` series are.
"""

from __future__ import annotations

import re
import select
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import docs_pages
import pytest
import requests
from otlp_receiver import REPO_ROOT, OtlpReceiver, demo_env, free_port
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from promql_names import dashboard_and_rule_metrics

from agentotel import semconv

READY_LINE = b"recorded"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")

# Only the public API and the standard OTEL_* variables.
APP = f"""
import sys

import agentotel

telemetry = agentotel.init(
    service_name="prometheus-names",
    traces_exporter="otlp",
    logs_exporter="otlp",
    metrics_exporter="prometheus,otlp",
    system_metrics="host",  # the host metrics too
)
with agentotel.workflow("names-check"):
    with agentotel.guardrail("input-filter", target="input") as check:
        check.verdict("allow")
    with agentotel.agent("planner"):
        with agentotel.llm("gpt-4o-mini", provider="openai") as call:
            for _ in call.stream(["Hello", ", world"]):  # streamed: the chunk metrics
                pass
            call.record_response(
                response_model="gpt-4o-mini", input_tokens=1200, output_tokens=300
            )
        with agentotel.tool("lookup_order"):
            pass
        agentotel.handoff("planner", "writer")  # the handoff counter
        with agentotel.retrieval("kb-orders", provider="chroma") as lookup:
            lookup.record_documents(["doc-1"])
        with agentotel.memory("search_memory", store="conversation", memory_type="short_term"):
            pass
    agentotel.evaluation("relevance", score=0.9, label="pass", span_context=call)


# an MCP tool server in the process, called over in-memory streams (the stream loop of a
# session, so both sides record their operation and session durations)
import anyio
from mcp import Client
from mcp.server.mcpserver import MCPServer

tools = MCPServer("names-check")
tools.add_tool(lambda order_id: "shipped", name="lookup_order")


async def mcp_call():
    async with Client(tools, mode="legacy") as client:
        await client.call_tool("lookup_order", {{"order_id": "A-1"}})


anyio.run(mcp_call)
agentotel.memory_size("conversation", lambda: 3, memory_type="short_term")
agentotel.memory_size("conversation", lambda: 2048, memory_type="short_term", unit="By")
agentotel.get_logger().info("names recorded")
telemetry.force_flush()  # every signal exported once: the exporter metrics are recorded
print({READY_LINE.decode()!r}, flush=True)
sys.stdin.read()
"""


# --------------------------------------------------------------------------- the check


def is_served(name: str, served: set[str]) -> bool:
    """``name`` is a served sample name, or the base name of a served histogram."""
    return name in served or all(name + suffix in served for suffix in HISTOGRAM_SERIES)


def unserved(names: Iterable[str], served: set[str]) -> list[str]:
    """The names in ``names`` that ``served`` does not serve, sorted."""
    return sorted({name for name in names if not is_served(name, served)})


def served_names(families: Iterable[Metric]) -> set[str]:
    """Every sample name of the parsed families (``..._total``, ``..._bucket``, ...)."""
    return {sample.name for family in families for sample in family.samples}


# --------------------------------------------------------------------------- the names


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def prometheus_column(text: str) -> list[str]:
    """The names in the "Prometheus name" column of every Markdown table that has one.

    A cell that is not a single backticked name is returned as written, so it fails the
    served check instead of being skipped.
    """
    lines = text.splitlines()
    names: list[str] = []
    for index, line in enumerate(lines):
        header = _cells(line) if line.lstrip().startswith("|") else []
        if "Prometheus name" not in header:
            continue
        column = header.index("Prometheus name")
        for row in lines[index + 2:]:  # after the header and the |---| line
            if not row.lstrip().startswith("|"):
                break
            cell = _cells(row)[column]
            match = re.fullmatch(r"`([A-Za-z_:][A-Za-z0-9_:]*)`", cell)
            names.append(match.group(1) if match else cell)
    return names


def documented_prometheus_names() -> dict[str, list[str]]:
    """Page -> the names in its "Prometheus name" columns, for every page that has one."""
    found = {page: prometheus_column(docs_pages.rendered(page)) for page in docs_pages.pages()}
    return {page: names for page, names in found.items() if names}


def semconv_prometheus_names() -> dict[str, str]:
    """``PROM_*`` constant -> its value."""
    return {attr: getattr(semconv, attr) for attr in dir(semconv) if attr.startswith("PROM_")}


# --------------------------------------------------------------------------- the application


def _output_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:]


def _wait_until_recorded(process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the application prints that it recorded its operations; fail if it exits."""
    assert process.stdout is not None
    readable, _, _ = select.select([process.stdout], [], [], READY_TIMEOUT_S)
    line = process.stdout.readline() if readable else b""
    if line.strip() != READY_LINE:
        pytest.fail(
            f"the application did not report its operations recorded within "
            f"{READY_TIMEOUT_S:.0f}s (exit code {process.poll()}, printed {line!r}):\n"
            + _output_tail(log)
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Close stdin (the application exits on its own), then terminate, then kill."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
    if process.stdout is not None:
        process.stdout.close()


@pytest.fixture(scope="module")
def families(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Metric]]:
    """The metric families the application serves once it has recorded its operations."""
    port = free_port()
    log = tmp_path_factory.mktemp("prometheus-names") / "app.log"
    with log.open("wb") as stderr, OtlpReceiver() as otlp:
        process = subprocess.Popen(
            [sys.executable, "-c", APP],
            cwd=REPO_ROOT,
            env=demo_env(
                OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
                OTEL_EXPORTER_PROMETHEUS_PORT=str(port),
                OTEL_EXPORTER_OTLP_ENDPOINT=otlp.http_endpoint,
            ),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        try:
            _wait_until_recorded(process, log)
            # init() has bound the /metrics server before the operations ran.
            try:
                response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
                response.raise_for_status()
            except requests.RequestException as error:
                pytest.fail(f"scraping the application's /metrics: {error}\n" + _output_tail(log))
            yield list(text_string_to_metric_families(response.text))
        finally:
            _stop(process)


@pytest.fixture(scope="module")
def served(families: list[Metric]) -> set[str]:
    return served_names(families)


# --------------------------------------------------------------------------- tests


def test_every_prometheus_name_the_docs_show_is_served(served: set[str]) -> None:
    documented = documented_prometheus_names()
    # the hand-written tables of the how-to pages and the generated metrics reference
    assert {"how-to/pipeline-health.md", "how-to/process-metrics.md",
            "reference/telemetry.md"} <= set(documented)
    assert {page: unserved(names, served) for page, names in documented.items()} == {
        page: [] for page in documented
    }


def test_the_metrics_reference_gives_every_semconv_metric_its_prometheus_name() -> None:
    metrics = {v for k, v in vars(semconv).items() if k.startswith("METRIC_")}
    reference = prometheus_column(docs_pages.rendered("reference/telemetry.md"))
    assert len(reference) == len(metrics)
    assert set(reference) == set(semconv_prometheus_names().values())


def test_every_semconv_prometheus_name_is_served(served: set[str]) -> None:
    names = semconv_prometheus_names()
    assert names
    assert {attr: name for attr, name in names.items() if not is_served(name, served)} == {}


def test_every_metric_the_dashboards_and_rules_query_is_served(served: set[str]) -> None:
    names = dashboard_and_rule_metrics()
    assert names, "no gen_ai_*/agentotel_* metric found in the dashboards and rules"
    assert unserved(names, served) == []


def test_the_llm_cost_is_served_under_its_semconv_name(families: list[Metric]) -> None:
    costs = [
        sample for family in families for sample in family.samples
        if sample.name == semconv.PROM_LLM_COST
    ]
    assert [(s.labels.get("gen_ai_request_model"), s.value > 0) for s in costs] == [
        ("gpt-4o-mini", True)
    ]


def test_check_reports_a_name_that_is_not_served(served: set[str]) -> None:
    names = ["gen_ai_client_token_usage_total", semconv.PROM_TOKEN_USAGE]
    assert unserved(names, served) == ["gen_ai_client_token_usage_total"]


def test_histogram_base_name_needs_bucket_sum_and_count() -> None:
    served = {"latency_seconds_bucket", "latency_seconds_count", "requests_total"}
    assert unserved(["latency_seconds", "requests_total", "requests"], served) == [
        "latency_seconds", "requests",
    ]
    assert unserved(["latency_seconds"], served | {"latency_seconds_sum"}) == []


def test_the_parser_reads_the_prometheus_name_column_of_every_table() -> None:
    text = (
        "| metric | Prometheus name |\n|---|---|\n"
        "| `a.b` | `a_b_total` |\n| `c.d` | c_d (typo, no backticks) |\n\nafter\n\n"
        "| Prometheus name | what |\n|---|---|\n| `e_f` | more |\n"
    )
    assert prometheus_column(text) == ["a_b_total", "c_d (typo, no backticks)", "e_f"]

"""Every Grafana panel query and every Prometheus rule expression, run on a real Prometheus.

A real ``prometheus`` server (Debian's package) scrapes the running demo
(``python -m examples.support_assistant``), whose metrics are served by the Python
Prometheus exporter. The scrape job is named after the demo's ``service.name`` and keeps
exported labels (``honor_labels``), so series carry the same ``job`` label as when they
come through the Collector's ``prometheus`` exporter; both exporters translate names the
same way (``agentotel_llm_cost_USD_total``, ``gen_ai_client_operation_duration_seconds_bucket``).
The demo reports host metrics too (``AGENTOTEL_SYSTEM_METRICS=host``), so every panel of
the Overview's Resources row has data.
A second job named ``otel-collector`` points at a closed port, the state
``TelemetryPipelineDown`` exists to catch. The demo also exports every signal over OTLP to
the test's receiver (metrics every second), so that the pipeline's own ``otel_sdk_*``
metrics - batch queues, processed and exported items, export durations - are served too.

Prometheus loads ``collector-config/prometheus/alerts.yml`` itself (1 s evaluation), so alert
expressions that read recording rules see real recorded series.

Queries that legitimately return nothing here are listed in ``EXPECTED_EMPTY`` with the
reason; everything else must return at least one finite sample.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from live_servers import Prometheus as PrometheusApi
from live_servers import binary, epoch, poll, prometheus_server
from otlp_receiver import OtlpReceiver, free_port

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "collector-config"
DASHBOARDS = CONFIG / "grafana" / "dashboards"
RULES = CONFIG / "prometheus" / "alerts.yml"

SCRAPE_INTERVAL = "500ms"
# Values Grafana would give its built-in variables; the windows cover the whole demo run.
BUILTIN_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m"}

# Queries that return no samples against the demo, by id, with the reason.
EXPECTED_EMPTY: dict[str, str] = {
    "dashboard agentotel-overview / Span calls per second by span name / A": (
        "traces_span_metrics_* come from the Collector's spanmetrics connector, which"
        " computes them from spans inside the Collector; no Collector runs here"
    ),
    "dashboard agentotel-overview / Span p95 duration by span name / A": (
        "traces_span_metrics_* come from the Collector's spanmetrics connector"
    ),
    "dashboard agentotel-agents-tools / Handoffs per second by source and target agent / A": (
        "the demo's agents run one after another without handing off;"
        " tests/test_prometheus_names.py serves agentotel_agent_handoffs_total"
    ),
    "dashboard agentotel-agents-tools / Memory bytes by store / A": (
        "the demo reports its conversation store's size in records"
        " (agentotel.memory.record.count), not in bytes; tests/test_prometheus_names.py"
        " serves agentotel_memory_size_bytes"
    ),
    "record agentotel:process_memory_growth:min_ratio_per_30m": (
        "compares the resident memory with its means 30m and 1h ago; the demo's process is"
        " minutes old (promtool covers it in alerts.test.yml)"
    ),
    "alert CollectorExportFailing": (
        "otelcol_exporter_send_failed_* are the Collector's own metrics; no Collector runs here"
    ),
}
EXPECTED_EMPTY.update({
    "dashboard agentotel-agents-tools / MCP servers: calls per second and p95 by server / A": (
        "the demo's MCP tool server exports its spans only (through the demo process);"
        " tests/test_prometheus_names.py serves mcp_server_operation_duration_seconds"
    ),
    "dashboard agentotel-agents-tools / MCP servers: calls per second and p95 by server / B": (
        "the demo's MCP tool server exports its spans only"
    ),
    "dashboard agentotel-agents-tools / MCP session mean duration by side / B": (
        "the demo's MCP tool server exports its spans only"
    ),
})
EXPECTED_EMPTY.update({
    f"dashboard agentotel-pipeline / {title} / {ref}": (
        "otelcol_* are the Collector's own metrics; no Collector runs here"
    )
    for title, refs in {
        "Collector accepted per second by signal": "ABC",
        "Collector refused per second by signal": "ABC",
        "Collector dropped per second by signal": "ABCDEF",
        "Collector exporter queue fill": "A",
        "Collector sent per second by exporter": "ABC",
    }.items()
    for ref in refs
})
# Alert expressions return series only while their condition holds; whether the demo's
# traffic crosses a threshold (e.g. 5% LLM errors) is not what this test checks. They must
# evaluate without error. TelemetryPipelineDown is the exception: the closed
# `otel-collector` target makes its condition true, so it must return a series.
ALERTS_THAT_MUST_FIRE = {"TelemetryPipelineDown"}


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Query:
    """One PromQL expression to evaluate, with a stable id for reports."""

    id: str
    expr: str
    kind: str  # "panel" | "record" | "alert"


def _substitute(expr: str, values: dict[str, str]) -> str:
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace(name, values[name])
    return expr


def dashboard_variables(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return list(dashboard.get("templating", {}).get("list", []))


def all_values(dashboard: dict[str, Any]) -> dict[str, str]:
    """``$name`` -> the variable's "All" value (what the dashboard loads with)."""
    values = dict(BUILTIN_VARIABLES)
    for var in dashboard_variables(dashboard):
        values["$" + var["name"]] = var.get("allValue") or ".*"
    return values


def is_prometheus(datasource: Any) -> bool:
    return isinstance(datasource, dict) and datasource.get("type") == "prometheus"


def dashboard_queries(
    dashboard: dict[str, Any], values: dict[str, str] | None = None
) -> list[Query]:
    """Every Prometheus target of every panel, variables substituted."""
    values = values if values is not None else all_values(dashboard)
    queries = []
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            datasource = target.get("datasource", panel.get("datasource"))
            if not is_prometheus(datasource):
                continue
            qid = f"dashboard {dashboard['uid']} / {panel['title']} / {target['refId']}"
            queries.append(Query(qid, _substitute(target["expr"], values), "panel"))
    return queries


def rule_queries(rules: dict[str, Any]) -> list[Query]:
    queries = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "record" in rule:
                queries.append(Query(f"record {rule['record']}", rule["expr"], "record"))
            else:
                queries.append(Query(f"alert {rule['alert']}", rule["expr"], "alert"))
    return queries


def load_dashboards() -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))]


# --------------------------------------------------------------------------- checker


@dataclass
class Outcome:
    query: Query
    error: str | None = None
    samples: list[float] = field(default_factory=list)

    @property
    def finite(self) -> bool:
        return any(math.isfinite(v) for v in self.samples)


class Prometheus(PrometheusApi):
    """The shared HTTP API client, plus :meth:`evaluate` for the checker."""

    def evaluate(self, query: Query) -> Outcome:
        body = self.query(query.expr)
        if body.get("status") != "success":
            return Outcome(query, error=f"{body.get('errorType')}: {body.get('error')}")
        data = body["data"]
        if data["resultType"] == "vector":
            samples = [float(item["value"][1]) for item in data["result"]]
        elif data["resultType"] == "scalar":
            samples = [float(data["result"][1])]
        else:
            return Outcome(query, error=f"unexpected result type {data['resultType']}")
        return Outcome(query, samples=samples)


@dataclass(frozen=True)
class Problem:
    query: Query
    what: str  # "ERROR <message>" | "EMPTY" | "NO FINITE SAMPLE"

    def __str__(self) -> str:
        return f"{self.query.id}: {self.what}\n    {self.query.expr}"


def problems(outcomes: list[Outcome], may_be_empty: Callable[[Query], bool]) -> list[Problem]:
    """What is wrong with the outcomes: errors, and empty or all-NaN results."""
    found = []
    for outcome in outcomes:
        if outcome.error:
            found.append(Problem(outcome.query, f"ERROR {outcome.error}"))
        elif not outcome.finite and not may_be_empty(outcome.query):
            found.append(Problem(outcome.query, "NO FINITE SAMPLE" if outcome.samples else "EMPTY"))
    return found


def may_be_empty(query: Query) -> bool:
    if query.id in EXPECTED_EMPTY:
        return True
    return query.kind == "alert" and query.id.removeprefix("alert ") not in ALERTS_THAT_MUST_FIRE


# --------------------------------------------------------------------------- processes


class Demo:
    """``python -m examples.support_assistant`` serving /metrics on a given port."""

    def __init__(self, port: int, workdir: Path, args: list[str], otlp_endpoint: str) -> None:
        env = {
            k: v for k, v in os.environ.items()
            if not k.startswith(("OTEL_", "OPENAI_"))
        }
        env.update(
            OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
            OTEL_EXPORTER_PROMETHEUS_PORT=str(port),
            OTEL_EXPORTER_OTLP_ENDPOINT=otlp_endpoint,
            OTEL_METRIC_EXPORT_INTERVAL="1000",
            PYTHONUNBUFFERED="1",
            # host metrics too, so that the host panels of the Resources row have data
            AGENTOTEL_SYSTEM_METRICS="host",
        )
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.log = workdir / f"demo-{port}-{len(list(workdir.glob('demo-*')))}.log"
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "examples.support_assistant", "--quiet", *args],
            cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text()

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(
                f"demo exited with {self.process.returncode} before it was stopped:\n"
                + self.output()
            )

    def metrics_text(self) -> str:
        self.check_alive()
        return requests.get(self.url, timeout=5).text

    def wait_until_lingering(self) -> None:
        def lingering() -> bool:
            self.check_alive()
            return "Lingering" in self.output()

        poll("the demo to finish its run", lingering)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log_file.close()


def service_name_from(metrics_text: str) -> str:
    match = re.search(r'^target_info\{[^}]*service_name="([^"]+)"', metrics_text, re.M)
    if match is None:
        raise ValueError("no target_info with service_name yet")
    return match.group(1)


def prometheus_config(service: str, demo_port: int, closed_port: int) -> dict[str, Any]:
    return {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "scrape_timeout": SCRAPE_INTERVAL,
            "evaluation_interval": "1s",
        },
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {
                # Named like the series the Collector's prometheus exporter labels with
                # job=<service.name>; honor_labels as for the collector target.
                "job_name": service,
                "honor_labels": True,
                "static_configs": [{"targets": [f"127.0.0.1:{demo_port}"]}],
            },
            {
                "job_name": "otel-collector",
                "static_configs": [{"targets": [f"127.0.0.1:{closed_port}"]}],
            },
        ],
    }


@dataclass
class LiveStack:
    prometheus: Prometheus
    service: str
    demo_output: str


@pytest.fixture(scope="module")
def stack() -> Iterator[LiveStack]:
    binary("prometheus", package="prometheus")  # skip before the demo runs
    with tempfile.TemporaryDirectory(prefix="agentotel-prom-") as tmp, OtlpReceiver() as otlp:
        workdir = Path(tmp)
        demo_port, prom_port, closed_port = free_port(), free_port(), free_port()

        # 1. A short run, to learn the service name the demo reports (target_info).
        probe = Demo(demo_port, workdir, ["--limit", "1", "--linger", "60"], otlp.http_endpoint)
        try:
            service = poll(
                "the demo's /metrics", lambda: service_name_from(probe.metrics_text())
            )
        finally:
            probe.stop()

        # 2. Prometheus scraping the demo's port every 500 ms, evaluating the rules.
        config = prometheus_config(service, demo_port, closed_port)
        with prometheus_server(config, workdir, prom_port) as server:
            client = Prometheus(f"http://127.0.0.1:{prom_port}")
            demo: Demo | None = None
            try:
                try:
                    # 3. The full run, scraped while it happens, so counters rise between
                    # scrapes.
                    demo = Demo(demo_port, workdir, ["--linger", "90"], otlp.http_endpoint)
                    demo.wait_until_lingering()
                    wait_for_scrape_and_rules_after(client, service, time.time())
                except AssertionError as error:
                    demo_tail = demo.output()[-3000:] if demo is not None else ""
                    raise AssertionError(
                        f"{error}\n--- demo output (end)\n{demo_tail}"
                        f"\n--- prometheus log (end)\n{server.output()}"
                    ) from error
                yield LiveStack(client, service, demo.output())
            finally:
                if demo is not None:
                    demo.stop()


def wait_for_scrape_and_rules_after(client: Prometheus, service: str, finished_at: float) -> None:
    """Until Prometheus has scraped the finished run and evaluated every rule group since."""

    def scraped_after_run() -> bool:
        up = client.query(f'timestamp(up{{job="{service}"}} == 1)')["data"]["result"]
        return bool(up) and float(up[0]["value"][1]) > finished_at + 1

    poll("a scrape after the run", scraped_after_run)

    def rules_evaluated_after_run() -> bool:
        stamps = [group["lastEvaluation"] for group in client.rule_groups()]
        return all(epoch(stamp) > finished_at + 1.5 for stamp in stamps)

    poll("rule evaluations after the run", rules_evaluated_after_run)


# --------------------------------------------------------------------------- tests


def test_every_dashboard_panel_query_returns_data(stack: LiveStack) -> None:
    queries = [q for board in load_dashboards() for q in dashboard_queries(board)]
    outcomes = [stack.prometheus.evaluate(q) for q in queries]
    found = problems(outcomes, may_be_empty)
    non_empty = sum(1 for o in outcomes if o.finite)
    assert found == [], (
        f"{len(found)} of {len(queries)} panel queries failed "
        f"({non_empty} returned data):\n" + "\n".join(map(str, found))
    )


def test_every_recording_rule_expression_returns_data(stack: LiveStack) -> None:
    rules = yaml.safe_load(RULES.read_text())
    queries = [q for q in rule_queries(rules) if q.kind == "record"]
    outcomes = [stack.prometheus.evaluate(q) for q in queries]
    found = problems(outcomes, may_be_empty)
    assert found == [], "\n".join(map(str, found))


def test_every_alert_expression_evaluates(stack: LiveStack) -> None:
    rules = yaml.safe_load(RULES.read_text())
    queries = [q for q in rule_queries(rules) if q.kind == "alert"]
    outcomes = [stack.prometheus.evaluate(q) for q in queries]
    found = problems(outcomes, may_be_empty)
    assert found == [], "\n".join(map(str, found))


def test_telemetry_pipeline_down_fires_for_the_unreachable_collector(stack: LiveStack) -> None:
    body = stack.prometheus.query(
        'ALERTS{alertname="TelemetryPipelineDown", job="otel-collector"}'
    )
    states = {item["metric"]["alertstate"] for item in body["data"]["result"]}
    assert states & {"pending", "firing"}, body


def test_every_rule_is_healthy_in_prometheus(stack: LiveStack) -> None:
    rules = stack.prometheus.rules()
    unhealthy = [
        f"{r.get('name')}: {r.get('health')} {r.get('lastError', '')}"
        for r in rules if r.get("health") != "ok"
    ]
    assert len(rules) == len(rule_queries(yaml.safe_load(RULES.read_text())))
    assert unhealthy == []


def test_expected_empty_queries_are_empty_for_the_stated_reason(stack: LiveStack) -> None:
    queries = {q.id: q for board in load_dashboards() for q in dashboard_queries(board)}
    queries.update({q.id: q for q in rule_queries(yaml.safe_load(RULES.read_text()))})
    assert set(EXPECTED_EMPTY) <= set(queries), set(EXPECTED_EMPTY) - set(queries)
    non_empty = [
        qid for qid in EXPECTED_EMPTY if stack.prometheus.evaluate(queries[qid]).samples
    ]
    assert non_empty == []


def test_dashboard_variables_resolve_to_values(stack: LiveStack) -> None:
    empty = []
    for board in load_dashboards():
        values = all_values(board)
        for var in dashboard_variables(board):
            label, match = parse_label_values(var["query"]["query"])
            if not stack.prometheus.label_values(label, _substitute(match, values)):
                empty.append(f"{board['uid']} ${var['name']}")
    assert empty == []


def test_panel_queries_run_with_concrete_variable_values(stack: LiveStack) -> None:
    """Each variable set to its first value (as a user picking one would) instead of All."""
    errors = []
    for board in load_dashboards():
        values = all_values(board)
        for var in dashboard_variables(board):
            label, match = parse_label_values(var["query"]["query"])
            found = stack.prometheus.label_values(label, _substitute(match, values))
            values["$" + var["name"]] = regex_literal(found[0])
        for query in dashboard_queries(board, values):
            outcome = stack.prometheus.evaluate(query)
            if outcome.error:
                errors.append(f"{query.id}: {outcome.error}")
    assert errors == []


def test_cost_counter_is_served_as_agentotel_llm_cost_usd_total(stack: LiveStack) -> None:
    body = stack.prometheus.query(
        f'count by (__name__) ({{__name__=~"agentotel_llm_cost.*", job="{stack.service}"}})'
    )
    names = {item["metric"]["__name__"] for item in body["data"]["result"]}
    assert names == {"agentotel_llm_cost_USD_total"}


def regex_literal(value: str) -> str:
    """``value`` as a regex inside a PromQL string, as Grafana writes a selected value."""
    return re.sub(r"([.*+?^${}()|\[\]\\/])", r"\\\\\1", value)


def parse_label_values(query: str) -> tuple[str, str]:
    """``label_values(metric{sel}, label)`` -> (label, series selector)."""
    match = re.fullmatch(r"label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)", query.strip())
    if match is None:
        raise ValueError(f"not a label_values() query: {query}")
    return match.group(2), match.group(1)


# ------------------------------------------------- the checker catches broken queries


def test_checker_reports_a_misspelled_metric_in_a_dashboard(stack: LiveStack) -> None:
    board = json.loads((DASHBOARDS / "llm.json").read_text())
    broken = json.loads(
        json.dumps(board).replace(
            "gen_ai_client_token_usage_sum", "gen_ai_client_tokens_usage_sum"
        )
    )
    outcomes = [stack.prometheus.evaluate(q) for q in dashboard_queries(broken)]
    found = problems(outcomes, may_be_empty)
    assert [(p.query.id, p.what) for p in found] == [
        ("dashboard agentotel-llm / Tokens per second by type / A", "EMPTY"),
        ("dashboard agentotel-llm / Tokens per second by model and type / A", "EMPTY"),
    ]


def test_checker_reports_a_rule_expression_that_does_not_parse(stack: LiveStack) -> None:
    expr = "sum by (job (rate(gen_ai_invoke_agent_duration_seconds_count[5m]))"
    broken = Query("record broken", expr, "record")
    found = problems([stack.prometheus.evaluate(broken)], may_be_empty)
    assert len(found) == 1 and found[0].what.startswith("ERROR bad_data")


def test_checker_reports_a_misspelled_metric_in_a_rule(stack: LiveStack) -> None:
    rules = yaml.safe_load(
        RULES.read_text().replace("agentotel_llm_cost_USD_total", "agentotel_llm_cost_usd_total")
    )
    outcomes = [stack.prometheus.evaluate(q) for q in rule_queries(rules) if q.kind == "record"]
    found = problems(outcomes, may_be_empty)
    assert [(p.query.id, p.what) for p in found] == [
        ("record agentotel:llm_cost_usd:increase1h", "EMPTY")
    ]


def test_checker_reports_a_misspelled_label_in_a_dashboard(stack: LiveStack) -> None:
    board = json.loads((DASHBOARDS / "guardrails.json").read_text())
    broken = json.loads(
        json.dumps(board).replace(
            'agentotel_guardrail_verdict=\\"deny\\"', 'agentotel_guardrail_verdic=\\"deny\\"'
        )
    )
    assert broken != board
    outcomes = [stack.prometheus.evaluate(q) for q in dashboard_queries(broken)]
    found = problems(outcomes, may_be_empty)
    assert [(p.query.id, p.what) for p in found] == [
        ("dashboard agentotel-guardrails / Blocks per second by guardrail and target / A", "EMPTY")
    ]

"""The metric names the shipped Grafana dashboards and Prometheus rules query.

Shared by the static checks (``test_collector_config``) and the check against a live
``/metrics`` endpoint (``test_prometheus_names``).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

CONFIG = Path(__file__).resolve().parent.parent / "collector-config"
DASHBOARDS = CONFIG / "grafana" / "dashboards"
RULES = CONFIG / "prometheus" / "alerts.yml"

# A metric name in PromQL: followed by a selector or a range (label names are not).
PROMQL_METRIC = re.compile(
    r"\b((?:gen_ai|agentotel|mcp|otel_sdk|process|cpython|system|traces_span_metrics|otelcol)"
    r"_[A-Za-z0-9_]+)\s*[{\[]"
)


def queried_metrics(text: str) -> set[str]:
    """The agentotel metric names queried in ``text``: ``gen_ai_*``, ``agentotel_*``,
    ``mcp_*``, the SDK's ``otel_sdk_*`` that agentotel switches on, and the process
    metrics init() reports (``process_*``, ``cpython_*``, ``system_*``).

    The Collector's own metrics (``otelcol_*``) and its span metrics
    (``traces_span_metrics_*``) are left out.
    """
    return {
        m for m in PROMQL_METRIC.findall(text)
        if not m.startswith(("traces_span_metrics_", "otelcol_"))
    }


def dashboard_and_rule_texts() -> list[str]:
    """Each dashboard as JSON text, then each rule expression of ``alerts.yml``."""
    texts = [path.read_text() for path in sorted(DASHBOARDS.glob("*.json"))]
    rules = yaml.safe_load(RULES.read_text())
    texts += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    return texts


def dashboard_and_rule_metrics() -> set[str]:
    """The agentotel metric names the dashboards and rules query."""
    return set().union(*(queried_metrics(text) for text in dashboard_and_rule_texts()))


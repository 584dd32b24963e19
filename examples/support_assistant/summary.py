"""The metrics summary printed at the end of the demo, read from the Prometheus registry.

With the ``prometheus`` metrics exporter, agentotel's metrics are collected into
``prometheus_client.REGISTRY`` (the registry ``/metrics`` serves). Reading them back here
shows in the terminal what a Prometheus server would scrape, under the same names
(``agentotel.semconv.PROM_*``): operation counts per kind, failures by ``error.type``,
tokens, cost and guardrail verdicts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.samples import Sample

from agentotel import semconv

#: operation kind -> the Prometheus name of the histogram that counts it.
DURATION_HISTOGRAMS = {
    "workflows": semconv.PROM_INVOKE_WORKFLOW_DURATION,
    "agents": semconv.PROM_INVOKE_AGENT_DURATION,
    "LLM calls": semconv.PROM_OPERATION_DURATION,
    "tool calls": semconv.PROM_EXECUTE_TOOL_DURATION,
}
ERROR_TYPE_LABEL = semconv.ERROR_TYPE.replace(".", "_")
TOKEN_TYPE_LABEL = semconv.GEN_AI_TOKEN_TYPE.replace(".", "_")
VERDICT_LABEL = semconv.GUARDRAIL_VERDICT.replace(".", "_")


@dataclass
class MetricsSummary:
    """Totals over every label set: counts are operations, tokens are tokens, cost USD."""

    operations: dict[str, int] = field(default_factory=dict)
    errors: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> error.type -> n
    tokens: dict[str, int] = field(default_factory=dict)  # "input"/"output" -> tokens
    cost_usd: float = 0.0
    verdicts: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.operations.values())


def read_summary(registry: CollectorRegistry = REGISTRY) -> MetricsSummary:
    """Collect ``registry`` once and add up agentotel's series."""
    samples = [sample for family in registry.collect() for sample in family.samples]
    summary = MetricsSummary()
    for kind, histogram in DURATION_HISTOGRAMS.items():
        counts = [s for s in samples if s.name == histogram + "_count"]
        summary.operations[kind] = int(sum(s.value for s in counts))
        summary.errors[kind] = _sum_by(
            [s for s in counts if s.labels.get(ERROR_TYPE_LABEL)], ERROR_TYPE_LABEL
        )
    checks = [s for s in samples if s.name == semconv.PROM_GUARDRAIL_CHECKS]
    summary.operations["guardrail checks"] = int(sum(s.value for s in checks))
    summary.verdicts = _sum_by(checks, VERDICT_LABEL)
    token_sums = [s for s in samples if s.name == semconv.PROM_TOKEN_USAGE + "_sum"]
    summary.tokens = _sum_by(token_sums, TOKEN_TYPE_LABEL)
    summary.cost_usd = sum(s.value for s in samples if s.name == semconv.PROM_LLM_COST)
    return summary


def _sum_by(samples: list[Sample], label: str) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for sample in samples:
        totals[sample.labels.get(label, "")] += int(sample.value)
    return dict(sorted(totals.items()))


def format_summary(summary: MetricsSummary) -> list[str]:
    """The summary as aligned text lines."""
    operations = ", ".join(f"{kind} {count}" for kind, count in summary.operations.items())
    lines = [f"  operations  {operations}"]
    failed = {kind: by_type for kind, by_type in summary.errors.items() if by_type}
    if not failed:
        lines.append("  failed      none")
    for index, (kind, by_type) in enumerate(failed.items()):
        label = "failed" if index == 0 else ""
        types = ", ".join(f"{error_type} {count}" for error_type, count in by_type.items())
        lines.append(f"  {label:<10}  {kind + ' ' + str(sum(by_type.values())):<14} {types}")
    verdicts = ", ".join(f"{verdict} {count}" for verdict, count in summary.verdicts.items())
    lines += [
        f"  tokens      input {summary.tokens.get('input', 0):,}, "
        f"output {summary.tokens.get('output', 0):,}",
        f"  cost        ${summary.cost_usd:.4f} USD",
        f"  guardrails  {verdicts or 'no checks'}",
    ]
    return lines

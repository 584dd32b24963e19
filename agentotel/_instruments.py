"""The metric instruments, created once per meter provider.

Names, units and advised bucket boundaries come from :mod:`agentotel.semconv` (GenAI
metrics semantic conventions, https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/).
"""

from __future__ import annotations

from opentelemetry.metrics import Counter, Histogram, Meter, UpDownCounter

from agentotel import semconv as sc


class Instruments:
    """All of agentotel's instruments on one meter."""

    def __init__(self, meter: Meter) -> None:
        self.operation_duration: Histogram = meter.create_histogram(
            sc.METRIC_OPERATION_DURATION,
            unit=sc.UNIT_SECONDS,
            description="Duration of GenAI client operation",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_OPERATION_DURATION,
        )
        self.token_usage: Histogram = meter.create_histogram(
            sc.METRIC_TOKEN_USAGE,
            unit=sc.UNIT_TOKENS,
            description="Number of input and output tokens used by GenAI clients",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_TOKEN_USAGE,
        )
        self.invoke_agent_duration: Histogram = meter.create_histogram(
            sc.METRIC_INVOKE_AGENT_DURATION,
            unit=sc.UNIT_SECONDS,
            description="Measures the duration of an in-process agent invocation.",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_INVOKE_AGENT_DURATION,
        )
        self.execute_tool_duration: Histogram = meter.create_histogram(
            sc.METRIC_EXECUTE_TOOL_DURATION,
            unit=sc.UNIT_SECONDS,
            description="Measures the duration of a tool execution.",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_EXECUTE_TOOL_DURATION,
        )
        self.invoke_workflow_duration: Histogram = meter.create_histogram(
            sc.METRIC_INVOKE_WORKFLOW_DURATION,
            unit=sc.UNIT_SECONDS,
            description="Measures the duration of a workflow execution.",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_INVOKE_WORKFLOW_DURATION,
        )
        self.guardrail_checks: Counter = meter.create_counter(
            sc.METRIC_GUARDRAIL_CHECKS,
            unit=sc.UNIT_CHECKS,
            description="Guardrail checks by guardrail, target and verdict.",
        )
        self.llm_cost: Counter = meter.create_counter(
            sc.METRIC_LLM_COST,
            unit=sc.UNIT_USD,
            description="Estimated LLM spend from the offline pricing table.",
        )
        self.agent_active: UpDownCounter = meter.create_up_down_counter(
            sc.METRIC_AGENT_ACTIVE,
            unit=sc.UNIT_INVOCATIONS,
            description="Agent invocations in progress.",
        )
        self.evaluation_score: Histogram = meter.create_histogram(
            sc.METRIC_EVALUATION_SCORE,
            unit=sc.UNIT_EVALUATION_SCORE,
            description="Scores of GenAI output evaluations, by evaluation name and label.",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_EVALUATION_SCORE,
        )

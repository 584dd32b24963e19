"""The metric instruments, created once per meter provider.

Names, units and advised bucket boundaries come from :mod:`agentotel.semconv` (GenAI
metrics semantic conventions, https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/).

Each synchronous instrument is capped (:class:`Limited`): at most ``cardinality_limit``
attribute sets (2000 by default, as the metrics SDK specification advises, "Cardinality
limits"); the measurements of every further attribute set go to the overflow set
``{otel.metric.overflow: true}``, so totals stay right and memory stays bounded
(opentelemetry-sdk 1.45 for Python has no cardinality limit of its own).

The memory-size gauges are observable: the application registers callbacks
(``agentotel.memory_size``) in :data:`MEMORY_SIZES`, one process-wide registry that the
gauges of every meter provider read at each collection, so a callback registered before
``init()`` reports on the providers ``init()`` installs.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.metrics import (
    CallbackOptions,
    Counter,
    Histogram,
    Meter,
    ObservableGauge,
    Observation,
    UpDownCounter,
)
from opentelemetry.util.types import AttributeValue

from agentotel import semconv as sc
from agentotel._errors import safe_repr, warn, warn_failure

_OVERFLOW: dict[str, AttributeValue] = {sc.OTEL_METRIC_OVERFLOW: True}


class Limited:
    """A synchronous instrument with a cardinality limit (metrics SDK specification,
    "Cardinality limits"): the first ``limit - 1`` distinct attribute sets are recorded as
    given, every later one as the overflow set ``{otel.metric.overflow: true}`` (the
    limit counts the overflow set), with one warning per instrument naming it. An
    attribute set is told apart by its keys then its values, in order (one flat tuple: a
    set of n attributes always makes 2n items, so no two sets make the same tuple):
    agentotel builds its attribute dicts in a fixed order, so each set is counted once.
    Thread-safe; never raises.
    """

    __slots__ = ("_instrument", "_seen", "_room", "_lock", "_name")

    def __init__(self, instrument: Any, name: str, limit: int) -> None:
        self._instrument = instrument
        self._name = name
        self._seen: set[tuple[Any, ...]] = set()
        self._room = max(limit - 1, 0)
        self._lock = threading.Lock()

    def _admit(self, key: tuple[Any, ...], attributes: Any) -> Any:
        with self._lock:
            if key in self._seen:
                return attributes
            if len(self._seen) < self._room:
                self._seen.add(key)
                return attributes
            first = self._room >= 0 and len(self._seen) == self._room
            self._room = -1 if first else self._room
        if first:
            warn(
                f"metric {self._name} reached its cardinality limit "
                f"({len(self._seen) + 1} attribute sets); later attribute sets are recorded "
                f"as {sc.OTEL_METRIC_OVERFLOW}=true"
            )
        return _OVERFLOW

    def record(self, amount: float, attributes: Any = None, context: Any = None) -> None:
        """``Histogram.record`` with the limit applied."""
        if attributes:
            key = (*attributes, *attributes.values())
            if key not in self._seen:
                attributes = self._admit(key, attributes)
        self._instrument.record(amount, attributes, context)

    def add(self, amount: float, attributes: Any = None, context: Any = None) -> None:
        """``Counter.add`` / ``UpDownCounter.add`` with the limit applied."""
        if attributes:
            key = (*attributes, *attributes.values())
            if key not in self._seen:
                attributes = self._admit(key, attributes)
        self._instrument.add(amount, attributes, context)


class Instruments:
    """All of agentotel's instruments on one meter; the synchronous ones capped at
    ``cardinality_limit`` attribute sets each (:class:`Limited`)."""

    def __init__(self, meter: Meter, cardinality_limit: int = sc.CARDINALITY_LIMIT) -> None:
        def limit(instrument: Histogram | Counter | UpDownCounter) -> Limited:
            name = getattr(instrument, "name", None) or type(instrument).__name__
            return Limited(instrument, name, cardinality_limit)

        self.operation_duration: Limited = limit(meter.create_histogram(
            sc.METRIC_OPERATION_DURATION,
            unit=sc.UNIT_SECONDS,
            description="Duration of GenAI client operation",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_OPERATION_DURATION,
        ))
        self.token_usage: Limited = limit(meter.create_histogram(
            sc.METRIC_TOKEN_USAGE,
            unit=sc.UNIT_TOKENS,
            description="Number of input and output tokens used by GenAI clients",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_TOKEN_USAGE,
        ))
        self.time_to_first_chunk: Limited = limit(meter.create_histogram(
            sc.METRIC_TIME_TO_FIRST_CHUNK,
            unit=sc.UNIT_SECONDS,
            description="Time to receive the first chunk, measured from when the client "
            "issues the generation request to when the first chunk is received in the "
            "response stream.",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_TIME_TO_FIRST_CHUNK,
        ))
        self.time_per_output_chunk: Limited = limit(meter.create_histogram(
            sc.METRIC_TIME_PER_OUTPUT_CHUNK,
            unit=sc.UNIT_SECONDS,
            description="Time per output chunk, recorded for each chunk received after "
            "the first one, measured as the time elapsed from the end of the previous "
            "chunk to the end of the current chunk.",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_TIME_PER_OUTPUT_CHUNK,
        ))
        self.invoke_agent_duration: Limited = limit(meter.create_histogram(
            sc.METRIC_INVOKE_AGENT_DURATION,
            unit=sc.UNIT_SECONDS,
            description="Measures the duration of an in-process agent invocation.",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_INVOKE_AGENT_DURATION,
        ))
        self.execute_tool_duration: Limited = limit(meter.create_histogram(
            sc.METRIC_EXECUTE_TOOL_DURATION,
            unit=sc.UNIT_SECONDS,
            description="Measures the duration of a tool execution.",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_EXECUTE_TOOL_DURATION,
        ))
        self.invoke_workflow_duration: Limited = limit(meter.create_histogram(
            sc.METRIC_INVOKE_WORKFLOW_DURATION,
            unit=sc.UNIT_SECONDS,
            description="Measures the duration of a workflow execution.",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_INVOKE_WORKFLOW_DURATION,
        ))
        self.guardrail_checks: Limited = limit(meter.create_counter(
            sc.METRIC_GUARDRAIL_CHECKS,
            unit=sc.UNIT_CHECKS,
            description="Guardrail checks by guardrail, target and verdict.",
        ))
        self.llm_cost: Limited = limit(meter.create_counter(
            sc.METRIC_LLM_COST,
            unit=sc.UNIT_USD,
            description="Estimated LLM spend from the offline pricing table.",
        ))
        self.agent_active: Limited = limit(meter.create_up_down_counter(
            sc.METRIC_AGENT_ACTIVE,
            unit=sc.UNIT_INVOCATIONS,
            description="Agent invocations in progress.",
        ))
        self.agent_handoffs: Limited = limit(meter.create_counter(
            sc.METRIC_AGENT_HANDOFFS,
            unit=sc.UNIT_HANDOFFS,
            description="Handoffs from one agent to another, by source and target agent.",
        ))
        self.memory_operation_duration: Limited = limit(meter.create_histogram(
            sc.METRIC_MEMORY_OPERATION_DURATION,
            unit=sc.UNIT_SECONDS,
            description="Duration of memory operations.",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_OPERATION_DURATION,
        ))
        self.memory_operations: Limited = limit(meter.create_counter(
            sc.METRIC_MEMORY_OPERATIONS,
            unit=sc.UNIT_OPERATIONS,
            description="Memory operations by operation, memory type and outcome.",
        ))
        self.memory_size: ObservableGauge = meter.create_observable_gauge(
            sc.METRIC_MEMORY_SIZE,
            callbacks=[MEMORY_SIZES.callback(sc.METRIC_MEMORY_SIZE)],
            unit=sc.UNIT_BYTES,
            description="Size of a memory store as the application reports it.",
        )
        self.memory_record_count: ObservableGauge = meter.create_observable_gauge(
            sc.METRIC_MEMORY_RECORD_COUNT,
            callbacks=[MEMORY_SIZES.callback(sc.METRIC_MEMORY_RECORD_COUNT)],
            unit=sc.UNIT_RECORDS,
            description="Records in a memory store as the application reports it.",
        )

        self.evaluation_score: Limited = limit(meter.create_histogram(
            sc.METRIC_EVALUATION_SCORE,
            unit=sc.UNIT_EVALUATION_SCORE,
            description="Scores of GenAI output evaluations, by evaluation name and label.",
            explicit_bucket_boundaries_advisory=sc.BUCKETS_EVALUATION_SCORE,
        ))

        # MCP (semantic-conventions-genai docs/gen-ai/mcp.md), recorded by
        # agentotel.integrations.mcp; the spec's descriptions and buckets
        def mcp_histogram(name: str, description: str) -> Limited:
            return limit(meter.create_histogram(
                name,
                unit=sc.UNIT_SECONDS,
                description=description,
                explicit_bucket_boundaries_advisory=sc.BUCKETS_MCP_DURATION,
            ))

        self.mcp_client_operation_duration = mcp_histogram(
            sc.METRIC_MCP_CLIENT_OPERATION_DURATION,
            "The duration of the MCP request or notification as observed on the sender "
            "from the time it was sent until the response or ack is received.",
        )
        self.mcp_server_operation_duration = mcp_histogram(
            sc.METRIC_MCP_SERVER_OPERATION_DURATION,
            "MCP request or notification duration as observed on the receiver from the "
            "time it was received until the result or ack is sent.",
        )
        self.mcp_client_session_duration = mcp_histogram(
            sc.METRIC_MCP_CLIENT_SESSION_DURATION,
            "The duration of the MCP session as observed on the MCP client.",
        )
        self.mcp_server_session_duration = mcp_histogram(
            sc.METRIC_MCP_SERVER_SESSION_DURATION,
            "The duration of the MCP session as observed on the MCP server.",
        )


class _Report:
    """One registered callback: the gauge it feeds, its attributes, whether it failed."""

    __slots__ = ("metric", "attributes", "read", "complained")

    def __init__(
        self, metric: str, attributes: dict[str, AttributeValue], read: Callable[[], object]
    ) -> None:
        self.metric = metric
        self.attributes = attributes
        self.read = read
        self.complained = False  # a failure of this callback has been logged


class MemorySizeReports:
    """The memory sizes the application reports, read when metrics are collected.

    One report per gauge, store and memory type: registering the same three again
    replaces the earlier callback. A callback that raises, or returns something that is
    not a finite number >= 0, is left out of that collection; the first such failure of
    each callback is logged (with the traceback when it raised), later ones are not.
    Callbacks run on the metric reader's thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reports: dict[tuple[str, tuple[tuple[str, AttributeValue], ...]], _Report] = {}

    def add(
        self, metric: str, attributes: dict[str, AttributeValue], read: Callable[[], object]
    ) -> object:
        """Register ``read`` for ``metric`` with ``attributes``; returns a token for
        :meth:`remove`."""
        key = (metric, tuple(sorted(attributes.items())))
        report = _Report(metric, attributes, read)
        with self._lock:
            self._reports[key] = report
        return report

    def remove(self, token: object) -> None:
        """Stop the report ``token`` stands for (nothing if it was replaced or removed)."""
        with self._lock:
            for key, report in list(self._reports.items()):
                if report is token:
                    del self._reports[key]

    def clear(self) -> None:
        """Forget every report."""
        with self._lock:
            self._reports.clear()

    def callback(self, metric: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        """The observable-gauge callback for ``metric``."""

        def observe(options: CallbackOptions) -> Iterable[Observation]:
            return self.observe(metric)

        return observe

    def observe(self, metric: str) -> list[Observation]:
        """One observation per report for ``metric`` whose callback gave a size."""
        with self._lock:
            reports = [r for r in self._reports.values() if r.metric == metric]
        observations = []
        for report in reports:
            try:
                value = report.read()
            except Exception:  # noqa: BLE001 - the application's callback
                if not report.complained:
                    report.complained = True
                    warn_failure(
                        f"read {metric} {report.attributes}: the callback raised; its value"
                        " is left out (logged once)"
                    )
                continue
            size = _size(value)
            if size is not None:
                observations.append(Observation(size, report.attributes))
            elif not report.complained:
                report.complained = True
                warn(
                    f"{metric} {report.attributes}: the callback returned {safe_repr(value)},"
                    " not a number >= 0; left out (logged once)"
                )
        return observations


def _size(value: object) -> int | float | None:
    """``value`` if it is a size a gauge can hold (an int64 or a finite float, >= 0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value) if 0 <= value < 2**63 else None
    if isinstance(value, float):
        return float(value) if math.isfinite(value) and value >= 0 else None
    return None


#: The process-wide registry ``agentotel.memory_size`` adds to.
MEMORY_SIZES = MemorySizeReports()

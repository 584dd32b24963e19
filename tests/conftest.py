"""Shared fixtures: agentotel driven by real SDK providers with in-memory exporters.

``agentotel.init()`` installs global providers, which a process can do only once, so the
unit tests install agentotel's runtime on their own providers instead (the same path
``init()`` takes after building its providers).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentotel import _ratelimit, _runtime
from agentotel._instruments import Instruments
from agentotel._runtime import Runtime
from agentotel.cost import load_price_table

# the OTLP receiver and model API server fixtures, for every test module
pytest_plugins = ("otlp_receiver", "llm_server")


@dataclass
class Point:
    """One metric data point, flattened."""

    metric: str
    unit: str
    attributes: dict[str, Any]
    value: Any  # sum / gauge value, or histogram count
    sum: float | None = None
    bounds: tuple[float, ...] | None = None


class Recorded:
    """What agentotel recorded on the test's providers."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.reader = InMemoryMetricReader()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def runtime(self, *, disabled: bool = False) -> Runtime:
        return Runtime(
            self.tracer_provider.get_tracer("agentotel"),
            Instruments(self.meter_provider.get_meter("agentotel")),
            load_price_table(),
            disabled=disabled,
        )

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def span(self, name: str) -> ReadableSpan:
        matches = [s for s in self.spans() if s.name == name]
        assert len(matches) == 1, (
            f"expected one span {name!r}, got {[s.name for s in self.spans()]}"
        )
        return matches[0]

    def points(self, metric: str | None = None) -> list[Point]:
        data = self.reader.get_metrics_data()
        found: list[Point] = []
        if data is None:
            return found
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for m in scope_metrics.metrics:
                    if metric is not None and m.name != metric:
                        continue
                    for p in m.data.data_points:
                        if hasattr(p, "bucket_counts"):
                            found.append(
                                Point(
                                    m.name,
                                    m.unit or "",
                                    dict(p.attributes or {}),
                                    p.count,
                                    p.sum,
                                    tuple(p.explicit_bounds),
                                )
                            )
                        else:
                            found.append(
                                Point(m.name, m.unit or "", dict(p.attributes or {}), p.value)
                            )
        return found


@pytest.fixture(autouse=True)
def fresh_warning_throttle() -> Iterator[None]:
    """Each test sees agentotel's throttled warnings afresh (the throttle is per process)."""
    _ratelimit.reset()
    yield


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    """agentotel's operations recorded on fresh in-memory providers."""
    previous = _runtime.RUNTIME
    rec = Recorded()
    _runtime.install(rec.runtime())
    try:
        yield rec
    finally:
        _runtime.install(previous)
        rec.tracer_provider.shutdown()
        rec.meter_provider.shutdown()

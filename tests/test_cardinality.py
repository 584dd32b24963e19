"""Metric cardinality is capped: attribute sets beyond the limit go to the overflow series.

Metrics SDK specification, "Cardinality limits": at most ``limit`` metric points per
metric, the last one being ``{otel.metric.overflow: true}``, which aggregates every
measurement whose attribute set did not get a point of its own; totals stay right.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from conftest import Recorded

import agentotel
from agentotel import _runtime
from agentotel import semconv as sc
from agentotel._instruments import Instruments
from agentotel._runtime import Runtime
from agentotel.cost import load_price_table

OVERFLOW = {"otel.metric.overflow": True}


@pytest.fixture
def limited() -> Iterator[Recorded]:
    """Operations recorded with instruments capped at 3 attribute sets each."""
    previous = _runtime.RUNTIME
    rec = Recorded()
    meter = rec.meter_provider.get_meter("agentotel")
    _runtime.install(Runtime(rec.tracer_provider.get_tracer("agentotel"),
                             Instruments(meter, cardinality_limit=3), load_price_table()))
    try:
        yield rec
    finally:
        _runtime.install(previous)
        rec.tracer_provider.shutdown()
        rec.meter_provider.shutdown()


def test_attribute_sets_beyond_the_limit_are_recorded_as_overflow(
    limited: Recorded, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        for name in ("search", "fetch", "rank", "summarise", "search", "translate"):
            with agentotel.tool(name):
                pass
    points = {
        point.attributes.get(sc.GEN_AI_TOOL_NAME, "overflow"): (point.attributes, point.value)
        for point in limited.points(sc.METRIC_EXECUTE_TOOL_DURATION)
    }

    # 3 = two attribute sets of their own + the overflow set; every call is counted
    assert {name: count for name, (_, count) in points.items()} == {
        "search": 2, "fetch": 1, "overflow": 3,
    }
    assert points["overflow"][0] == OVERFLOW
    # the spans keep every name: only the metric is capped
    assert sorted({s.attributes[sc.GEN_AI_TOOL_NAME] for s in limited.spans()}) == [
        "fetch", "rank", "search", "summarise", "translate",
    ]
    warnings = [r.getMessage() for r in caplog.records if "cardinality limit" in r.getMessage()]
    assert warnings == [
        "agentotel: metric gen_ai.execute_tool.duration reached its cardinality limit "
        "(3 attribute sets); later attribute sets are recorded as otel.metric.overflow=true"
    ]


def test_each_metric_has_its_own_limit(limited: Recorded) -> None:
    for model in ("m1", "m2", "m3"):
        with agentotel.llm(model, provider="openai") as call:
            call.record_response(input_tokens=1, output_tokens=1)
    durations = limited.points(sc.METRIC_OPERATION_DURATION)
    tokens = limited.points(sc.METRIC_TOKEN_USAGE)

    # durations: m1, m2 and the overflow (m3); tokens: m1 input and output, then overflow
    assert [p.attributes.get(sc.GEN_AI_REQUEST_MODEL) for p in durations] == ["m1", "m2", None]
    assert sum(p.value for p in durations) == 3
    assert [(p.attributes.get(sc.GEN_AI_REQUEST_MODEL), p.attributes.get(sc.GEN_AI_TOKEN_TYPE))
            for p in tokens] == [("m1", "input"), ("m1", "output"), (None, None)]
    assert sum(p.sum for p in tokens) == 6


def test_the_default_limit_is_the_specifications_2000() -> None:
    assert sc.CARDINALITY_LIMIT == 2000
    rec = Recorded()
    instruments = rec.runtime().instruments
    for i in range(2100):
        instruments.execute_tool_duration.record(0.1, {sc.GEN_AI_TOOL_NAME: f"tool-{i}"})
    points = rec.points(sc.METRIC_EXECUTE_TOOL_DURATION)

    assert len(points) == 2000
    assert [p.value for p in points if p.attributes == OVERFLOW] == [101]

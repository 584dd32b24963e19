"""agentotel.evaluation(): the gen_ai.evaluation.result event and agentotel.evaluation.score.

Exact values: the event's name and attributes (GenAI events, ``gen_ai.evaluation.result``),
its trace and span ids (the current span, or the evaluated span given after it ended),
the histogram's points (bounds, bucket counts, sum, attributes) and the warnings misuse
gets.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.trace import SpanContext, TraceFlags

import agentotel
from agentotel import _runtime
from agentotel._instruments import Instruments
from agentotel._runtime import Runtime

EVENT = "gen_ai.evaluation.result"
METRIC = "agentotel.evaluation.score"
BOUNDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass
class Event:
    name: str | None
    attributes: dict[str, Any]
    trace_id: int
    span_id: int
    body: Any
    timestamp: int | None


@dataclass
class ScorePoint:
    attributes: dict[str, Any]
    count: int
    sum: float
    bounds: tuple[float, ...]
    bucket_counts: tuple[int, ...]


class Evaluations:
    """What ``agentotel.evaluation`` recorded: events, spans and histogram points."""

    def __init__(self, recorded: Any, logs: InMemoryLogRecordExporter) -> None:
        self.recorded = recorded
        self.logs = logs

    def events(self) -> list[Event]:
        found = []
        for log in self.logs.get_finished_logs():
            record = log.log_record
            found.append(
                Event(
                    record.event_name,
                    dict(record.attributes or {}),
                    record.trace_id or 0,
                    record.span_id or 0,
                    record.body,
                    record.timestamp,
                )
            )
        return found

    def points(self) -> list[ScorePoint]:
        data = self.recorded.reader.get_metrics_data()
        found = []
        for resource_metrics in data.resource_metrics if data is not None else []:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name != METRIC:
                        continue
                    assert metric.unit == "1"
                    for p in metric.data.data_points:
                        found.append(
                            ScorePoint(
                                dict(p.attributes or {}),
                                p.count,
                                p.sum,
                                tuple(p.explicit_bounds),
                                tuple(p.bucket_counts),
                            )
                        )
        return sorted(found, key=lambda p: sorted(p.attributes.items()))


def buckets(*indexes: int) -> tuple[int, ...]:
    """Bucket counts with one observation per given bucket index (12 buckets)."""
    counts = [0] * (len(BOUNDS) + 1)
    for index in indexes:
        counts[index] += 1
    return tuple(counts)


def install(recorded: Any, logs: InMemoryLogRecordExporter, **options: Any) -> None:
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    _runtime.install(
        Runtime(
            recorded.tracer_provider.get_tracer("agentotel"),
            Instruments(recorded.meter_provider.get_meter("agentotel")),
            _runtime.current().prices,
            event_logger=provider.get_logger("agentotel"),
            **options,
        )
    )


@pytest.fixture
def evaluations(recorded: Any) -> Iterator[Evaluations]:
    """agentotel on in-memory providers, with an event logger (capture mode: the default)."""
    logs = InMemoryLogRecordExporter()
    previous = _runtime.RUNTIME
    install(recorded, logs)
    yield Evaluations(recorded, logs)
    _runtime.install(previous)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "agentotel"]


# --------------------------------------------------------------------------- the event


def test_event_has_the_convention_name_and_attributes_and_the_current_span(evaluations):
    before = time.time_ns()
    with agentotel.llm("gpt-4o-mini", provider="openai") as call:
        agentotel.evaluation(
            "relevance",
            score=0.8,
            label="pass",
            explanation="Answers the question; cites the order.",
            response_id="chatcmpl-42",
        )
    (event,) = evaluations.events()
    assert event.name == "gen_ai.evaluation.result"
    assert event.attributes == {
        "gen_ai.evaluation.name": "relevance",
        "gen_ai.evaluation.score.value": 0.8,
        "gen_ai.evaluation.score.label": "pass",
        "gen_ai.evaluation.explanation": "Answers the question; cites the order.",
        "gen_ai.response.id": "chatcmpl-42",
    }
    assert event.body is None
    assert before <= event.timestamp <= time.time_ns()  # when the result was recorded
    span = evaluations.recorded.span("chat gpt-4o-mini")
    assert (event.trace_id, event.span_id) == (span.context.trace_id, span.context.span_id)
    assert call.span.get_span_context() == span.context


def test_only_the_given_attributes_are_set(evaluations):
    with agentotel.agent("planner"):
        agentotel.evaluation("tone", label="polite")
        agentotel.evaluation("helpfulness", score=3)
    tone, helpfulness = evaluations.events()
    assert tone.attributes == {
        "gen_ai.evaluation.name": "tone",
        "gen_ai.evaluation.score.label": "polite",
    }
    assert helpfulness.attributes == {
        "gen_ai.evaluation.name": "helpfulness",
        "gen_ai.evaluation.score.value": 3.0,
    }
    assert isinstance(helpfulness.attributes["gen_ai.evaluation.score.value"], float)


def test_a_failed_evaluation_carries_error_type_and_records_no_score(evaluations):
    with agentotel.llm("gpt-4o", provider="openai"):
        agentotel.evaluation("faithfulness", error_type="judge_timeout", response_id="resp-1")
    (event,) = evaluations.events()
    assert event.attributes == {
        "gen_ai.evaluation.name": "faithfulness",
        "gen_ai.response.id": "resp-1",
        "error.type": "judge_timeout",
    }
    assert evaluations.points() == []


def test_explicit_operation_parents_the_event_after_its_span_ended(evaluations):
    """A batch evaluation: the evaluated call has ended; another span is current."""
    with agentotel.llm("gpt-4o-mini", provider="openai") as call:
        call.record_response(response_id="chatcmpl-7")
    evaluated = evaluations.recorded.span("chat gpt-4o-mini")
    assert evaluated.end_time is not None
    with agentotel.workflow("nightly-evals"):
        agentotel.evaluation("relevance", score=0.5, label="fail", span_context=call)
    batch = evaluations.recorded.span("invoke_workflow nightly-evals")
    (event,) = evaluations.events()
    assert (event.trace_id, event.span_id) == (
        evaluated.context.trace_id,
        evaluated.context.span_id,
    )
    assert event.trace_id != batch.context.trace_id


def test_explicit_span_context_parents_the_event_with_no_span_current(evaluations):
    """The span context of a span from another process, as a batch job would store it."""
    stored = SpanContext(
        trace_id=0x5B8EFFF798038103D269B633813FC60C,
        span_id=0xEEE19B7EC3C1B174,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    assert not trace.get_current_span().get_span_context().is_valid
    agentotel.evaluation("relevance", score=0.9, span_context=stored)
    (event,) = evaluations.events()
    assert (event.trace_id, event.span_id) == (
        0x5B8EFFF798038103D269B633813FC60C,
        0xEEE19B7EC3C1B174,
    )
    assert evaluations.recorded.spans() == []  # an evaluation starts no span


def test_a_span_object_parents_the_event(evaluations):
    tracer = evaluations.recorded.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("retrieve") as span:
        pass
    agentotel.evaluation("context_precision", score=0.75, span_context=span)
    (event,) = evaluations.events()
    context = span.get_span_context()
    assert (event.trace_id, event.span_id) == (context.trace_id, context.span_id)


def test_without_a_span_the_event_has_no_parent(evaluations):
    agentotel.evaluation("relevance", score=1.0, label="pass", response_id="chatcmpl-9")
    (event,) = evaluations.events()
    assert (event.trace_id, event.span_id) == (0, 0)
    assert event.attributes["gen_ai.response.id"] == "chatcmpl-9"


@pytest.mark.parametrize("mode", ["NO_CONTENT", "SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT"])
def test_explanation_is_recorded_in_every_capture_mode(recorded, mode):
    """gen_ai.evaluation.explanation is recommended, not opt-in content."""
    logs = InMemoryLogRecordExporter()
    previous = _runtime.RUNTIME
    install(recorded, logs, capture=mode)
    try:
        agentotel.evaluation("relevance", label="fail", explanation="Off topic.")
    finally:
        _runtime.install(previous)
    (event,) = Evaluations(recorded, logs).events()
    assert event.attributes["gen_ai.evaluation.explanation"] == "Off topic."


def test_disabled_sdk_records_nothing(recorded):
    logs = InMemoryLogRecordExporter()
    previous = _runtime.RUNTIME
    install(recorded, logs, disabled=True)
    try:
        agentotel.evaluation("relevance", score=0.5, label="fail")
    finally:
        _runtime.install(previous)
    results = Evaluations(recorded, logs)
    assert (results.events(), results.points()) == ([], [])


def test_a_runtime_without_event_logger_still_records_the_score(recorded):
    agentotel.evaluation("relevance", score=0.5)  # the `recorded` runtime has no event logger
    (point,) = Evaluations(recorded, InMemoryLogRecordExporter()).points()
    assert (point.count, point.sum) == (1, 0.5)


def test_the_default_runtime_emits_events_on_the_global_logger_provider():
    previous = _runtime.RUNTIME
    _runtime.install(None)
    try:
        assert _runtime.current().event_logger is not None
    finally:
        _runtime.install(previous)


# --------------------------------------------------------------------------- the histogram


def test_scores_are_recorded_by_name_and_label_with_tenth_buckets(evaluations):
    with agentotel.llm("gpt-4o-mini", provider="openai"):
        agentotel.evaluation("relevance", score=0.8, label="pass", response_id="r-1",
                             explanation="good")
        agentotel.evaluation("relevance", score=0.95, label="pass", response_id="r-2")
        agentotel.evaluation("relevance", score=0.3, label="fail", response_id="r-3")
        agentotel.evaluation("relevance", score=0, label="fail")
        agentotel.evaluation("faithfulness", score=1)
        agentotel.evaluation("faithfulness", score=Fraction(1, 4))
        agentotel.evaluation("toxicity", label="fail")  # no score: no point
    assert evaluations.points() == [
        ScorePoint(
            {"gen_ai.evaluation.name": "faithfulness"}, 2, 1.25, BOUNDS, buckets(3, 10)
        ),
        ScorePoint(
            {"gen_ai.evaluation.name": "relevance", "gen_ai.evaluation.score.label": "fail"},
            2, 0.3, BOUNDS, buckets(0, 3),
        ),
        ScorePoint(
            {"gen_ai.evaluation.name": "relevance", "gen_ai.evaluation.score.label": "pass"},
            2, 1.75, BOUNDS, buckets(8, 10),
        ),
    ]
    assert len(evaluations.events()) == 7


def test_scores_above_one_land_in_the_last_bucket(evaluations):
    agentotel.evaluation("likert", score=4)
    agentotel.evaluation("likert", score=5.5)
    (point,) = evaluations.points()
    assert (point.count, point.sum, point.bucket_counts) == (2, 9.5, buckets(11, 11))


def test_a_negative_score_stays_on_the_event_and_warns_that_the_histogram_cannot_take_it(
    evaluations, caplog
):
    with caplog.at_level(logging.WARNING):
        agentotel.evaluation("sentiment", score=-0.5, label="negative")
    assert [r.getMessage() for r in caplog.records] == [
        "agentotel: agentotel.evaluation(score)=-0.5 is not valid; accepted: a number >= 0 "
        "for agentotel.evaluation.score; kept on the event only"
    ]
    (event,) = evaluations.events()
    assert event.attributes["gen_ai.evaluation.score.value"] == -0.5
    assert evaluations.points() == []


# --------------------------------------------------------------------------- misuse


@pytest.mark.parametrize(
    ("score", "shown"),
    [("high", "'high'"), (math.nan, "nan"), (math.inf, "inf"), (True, "True"),
     (10**400, "1" + "0" * 76 + "...")],
)
def test_a_score_that_is_not_a_finite_number_warns_and_is_left_out(
    evaluations, caplog, score, shown
):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        agentotel.evaluation("relevance", score=score, label="pass")
    assert warnings(caplog) == [
        f"agentotel: agentotel.evaluation(score)={shown} is not valid; "
        "accepted: a finite int or float; not recorded"
    ]
    (event,) = evaluations.events()
    assert event.attributes == {
        "gen_ai.evaluation.name": "relevance",
        "gen_ai.evaluation.score.label": "pass",
    }
    assert evaluations.points() == []


def test_the_same_misuse_warns_once(evaluations, caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        for _ in range(3):
            agentotel.evaluation("relevance", score="high")
    assert len(warnings(caplog)) == 1
    assert len(evaluations.events()) == 3


def test_a_non_string_name_or_label_warns_and_is_recorded_as_its_str(evaluations, caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        agentotel.evaluation(7, score=0.5, label=1)  # type: ignore[arg-type]
    assert warnings(caplog) == [
        "agentotel: agentotel.evaluation(name)=7 is not valid; accepted: a str; using its str()",
        "agentotel: agentotel.evaluation(label)=1 is not valid; accepted: a str; "
        "using its str()",
    ]
    (event,) = evaluations.events()
    assert event.attributes == {
        "gen_ai.evaluation.name": "7",
        "gen_ai.evaluation.score.value": 0.5,
        "gen_ai.evaluation.score.label": "1",
    }
    (point,) = evaluations.points()
    assert point.attributes == {
        "gen_ai.evaluation.name": "7",
        "gen_ai.evaluation.score.label": "1",
    }


def test_a_wrong_span_context_warns_and_the_current_span_parents_the_event(
    evaluations, caplog
):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        with agentotel.tool("search"):
            agentotel.evaluation("relevance", score=0.5, span_context="00f067aa0ba902b7")
    assert warnings(caplog) == [
        "agentotel: agentotel.evaluation(span_context)='00f067aa0ba902b7' is not valid; "
        "accepted: a valid OpenTelemetry SpanContext or Span, or an agentotel operation "
        "that has started; using the current span"
    ]
    span = evaluations.recorded.span("execute_tool search")
    (event,) = evaluations.events()
    assert (event.trace_id, event.span_id) == (span.context.trace_id, span.context.span_id)


def test_an_operation_that_never_started_warns(evaluations, caplog):
    never_entered = agentotel.llm("gpt-4o", provider="openai")
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        agentotel.evaluation("relevance", score=0.5, span_context=never_entered)
    (message,) = warnings(caplog)
    assert message.startswith(
        "agentotel: agentotel.evaluation(span_context)=<agentotel.operations.llm.LLMCall "
    )
    assert message.endswith("using the current span")
    (event,) = evaluations.events()
    assert (event.trace_id, event.span_id) == (0, 0)
    assert len(evaluations.points()) == 1


def test_a_failing_event_logger_still_records_the_score(recorded, caplog):
    class Broken:
        def emit(self, record: Any) -> None:
            raise RuntimeError("exporter on fire")

    previous = _runtime.RUNTIME
    _runtime.install(
        Runtime(
            recorded.tracer_provider.get_tracer("agentotel"),
            Instruments(recorded.meter_provider.get_meter("agentotel")),
            _runtime.current().prices,
            event_logger=Broken(),  # type: ignore[arg-type]
        )
    )
    try:
        with caplog.at_level(logging.WARNING, logger="agentotel"):
            agentotel.evaluation("relevance", score=0.5)
    finally:
        _runtime.install(previous)
    assert warnings(caplog) == ["agentotel failed to emit the evaluation result event"]
    (point,) = Evaluations(recorded, InMemoryLogRecordExporter()).points()
    assert point.count == 1

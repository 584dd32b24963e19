"""The export pipeline counts itself: ``otel.sdk.*`` metrics and the health counts.

Each test builds agentotel's real trace (or log) pipeline - the OTLP exporter and the
batch processor ``init()`` builds, watched by a :class:`agentotel._health.Monitor` -
exporting over loopback to the test receiver, and reads the metrics with an in-memory
reader. Failures are real: a receiver that answers 503, a closed port, a receiver holding
a request while the queue overflows. No ``OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED`` is
set: agentotel switches the SDK's recorders on itself.

Spec: OpenTelemetry semantic conventions, "Metrics for the OpenTelemetry SDK"
(https://opentelemetry.io/docs/specs/semconv/otel/sdk-metrics/).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from otlp_receiver import GRPC, HTTP, PROTOCOLS, OtlpReceiver, free_port

from agentotel import semconv as sc
from agentotel._health import Monitor, MonitoredTracerProvider, duration_views
from agentotel._providers import log_processors, span_processors
from agentotel._settings import Settings, resolve

#: short delays and a 1 s export timeout, so that failures finish quickly
FAST = {
    "OTEL_EXPORTER_OTLP_TIMEOUT": "1000",
    "OTEL_BSP_SCHEDULE_DELAY": "50",
    "OTEL_BLRP_SCHEDULE_DELAY": "50",
}


@dataclass
class Pipeline:
    """agentotel's span pipeline on its own providers, with the in-memory metric reader."""

    monitor: Monitor
    tracer_provider: MonitoredTracerProvider
    meter_provider: MeterProvider
    reader: InMemoryMetricReader
    settings: Settings

    def spans(self, count: int) -> None:
        tracer = self.tracer_provider.get_tracer("test")
        for index in range(count):
            tracer.start_span(f"span {index}").end()

    def flush(self) -> None:
        assert self.tracer_provider.force_flush(10_000)

    def points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        """(attributes, value or histogram count) of every point of metric ``name``."""
        data = self.reader.get_metrics_data()
        found = []
        for resource_metrics in data.resource_metrics if data else []:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name != name:
                        continue
                    for point in metric.data.data_points:
                        value = getattr(point, "value", None)
                        found.append((dict(point.attributes or {}),
                                      point.count if value is None else value))
        return found

    def total(self, name: str, **attributes: Any) -> float:
        """Sum of the points of ``name`` whose attributes include ``attributes``
        (``error_type=None``: points without ``error.type``)."""
        wanted = {k.replace("error_type", sc.ERROR_TYPE): v for k, v in attributes.items()}
        return sum(
            value for attrs, value in self.points(name)
            if all(attrs.get(k) == v for k, v in wanted.items())
        )


def build(endpoint: str, protocol: str = HTTP, *, record: bool = True,
          **env: str) -> Pipeline:
    settings = resolve({"endpoint": endpoint, "protocol": protocol}, {**FAST, **env})
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader], views=duration_views())
    monitor = Monitor(record_metrics=record)
    monitor.attach(meter_provider)
    tracer_provider = MonitoredTracerProvider(meter_provider=meter_provider)
    tracer_provider.monitor = monitor
    for processor in span_processors(settings, lambda e: e, None, monitor, meter_provider):
        tracer_provider.add_span_processor(processor)
    return Pipeline(monitor, tracer_provider, meter_provider, reader, settings)


@pytest.fixture
def pipelines() -> Iterator[list[Pipeline]]:
    made: list[Pipeline] = []
    yield made
    for pipeline in made:
        pipeline.tracer_provider.shutdown()
        pipeline.meter_provider.shutdown()
        pipeline.monitor.close()


# --------------------------------------------------------------------------- exports


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_delivered_spans_are_counted_exported_without_error_type(
    otlp_receiver: OtlpReceiver, pipelines: list[Pipeline], protocol: str
) -> None:
    pipeline = build(otlp_receiver.endpoint(protocol), protocol)
    pipelines.append(pipeline)
    pipeline.spans(5)
    pipeline.flush()

    component = sc.OTLP_EXPORTER_COMPONENT_TYPES[("traces", protocol)]
    assert len(otlp_receiver.spans()) == 5
    assert pipeline.points(sc.METRIC_SDK_SPAN_EXPORTED) == [({
        sc.OTEL_COMPONENT_TYPE: component,
        sc.OTEL_COMPONENT_NAME: f"{component}/0",
        sc.SERVER_ADDRESS: "127.0.0.1",
        sc.SERVER_PORT: otlp_receiver.http_port if protocol == HTTP else otlp_receiver.grpc_port,
    }, 5)]
    assert pipeline.total(sc.METRIC_SDK_SPAN_INFLIGHT) == 0
    assert pipeline.total(sc.METRIC_SDK_EXPORT_DURATION, error_type=None) >= 1


def test_export_duration_uses_second_buckets_from_a_millisecond_up(
    otlp_receiver: OtlpReceiver, pipelines: list[Pipeline]
) -> None:
    pipeline = build(otlp_receiver.http_endpoint)
    pipelines.append(pipeline)
    pipeline.spans(1)
    pipeline.flush()
    data = pipeline.reader.get_metrics_data()
    bounds = {
        tuple(point.explicit_bounds)
        for rm in data.resource_metrics for scm in rm.scope_metrics for m in scm.metrics
        if m.name == sc.METRIC_SDK_EXPORT_DURATION for point in m.data.data_points
    }
    assert bounds == {sc.BUCKETS_SDK_DURATION}


@pytest.mark.parametrize(("protocol", "error_type"), [(HTTP, "503"), (GRPC, "UNAVAILABLE")])
def test_spans_the_collector_refuses_are_counted_failed_with_its_status(
    otlp_receiver: OtlpReceiver, pipelines: list[Pipeline], protocol: str, error_type: str
) -> None:
    otlp_receiver.fail_with = 503
    pipeline = build(otlp_receiver.endpoint(protocol), protocol)
    pipelines.append(pipeline)
    pipeline.spans(3)
    pipeline.flush()

    assert otlp_receiver.spans() == []
    assert pipeline.total(sc.METRIC_SDK_SPAN_EXPORTED, error_type=error_type) == 3
    assert pipeline.total(sc.METRIC_SDK_SPAN_EXPORTED, error_type=None) == 0
    status_key = sc.HTTP_RESPONSE_STATUS_CODE if protocol == HTTP else sc.RPC_RESPONSE_STATUS_CODE
    status = 503 if protocol == HTTP else "UNAVAILABLE"
    assert [attrs.get(status_key) for attrs, _ in pipeline.points(sc.METRIC_SDK_EXPORT_DURATION)
            ] == [status]
    traces = pipeline.monitor.health().signals["traces"]
    assert (traces.status, traces.failed, traces.last_error, traces.errors) == (
        "down", 3, error_type, {error_type: 3}
    )


@pytest.mark.parametrize(("protocol", "error_type"),
                         [(HTTP, "ConnectionError"), (GRPC, "UNAVAILABLE")])
def test_spans_sent_to_a_closed_port_are_counted_failed(
    pipelines: list[Pipeline], protocol: str, error_type: str
) -> None:
    pipeline = build(f"http://127.0.0.1:{free_port()}", protocol)
    pipelines.append(pipeline)
    pipeline.spans(2)
    pipeline.flush()
    assert pipeline.total(sc.METRIC_SDK_SPAN_EXPORTED, error_type=error_type) == 2
    assert pipeline.monitor.health().signals["traces"].consecutive_failures == 1


def test_the_otlp_exporters_own_recorder_counts_an_http_503_as_exported(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why agentotel records the exporter metrics itself (opentelemetry-exporter-otlp
    1.45). When this fails, the SDK got it right: its own recorder can be used instead."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    monkeypatch.setenv("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "true")
    otlp_receiver.fail_with = 503
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    exporter = OTLPSpanExporter(endpoint=f"{otlp_receiver.http_endpoint}/v1/traces",
                                timeout=1.0, meter_provider=meter_provider)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("test").start_span("refused").end()
    data = reader.get_metrics_data()
    exported = [
        dict(point.attributes or {}) for rm in data.resource_metrics
        for scm in rm.scope_metrics for m in scm.metrics
        if m.name == sc.METRIC_SDK_SPAN_EXPORTED for point in m.data.data_points
    ]
    provider.shutdown()
    meter_provider.shutdown()
    assert [sc.ERROR_TYPE in attrs for attrs in exported] == [False]


# --------------------------------------------------------------------------- drops


def test_a_full_queue_drops_spans_counted_as_queue_full(
    otlp_receiver: OtlpReceiver, pipelines: list[Pipeline]
) -> None:
    pipeline = build(otlp_receiver.http_endpoint, OTEL_BSP_MAX_QUEUE_SIZE="4",
                     OTEL_BSP_SCHEDULE_DELAY="60000")
    pipelines.append(pipeline)
    with otlp_receiver.hold():
        pipeline.spans(4)  # a full batch: the worker takes it and waits on the receiver
        assert otlp_receiver.wait_for(lambda: otlp_receiver.held == 1)
        pipeline.spans(4 + 6)  # the queue holds 4; the other 6 are dropped
    pipeline.flush()

    assert len(otlp_receiver.spans()) == 8
    assert pipeline.total(sc.METRIC_SDK_SPAN_PROCESSED, error_type="queue_full") == 6
    assert pipeline.total(sc.METRIC_SDK_SPAN_PROCESSED, error_type=None) == 8
    traces = pipeline.monitor.health().signals["traces"]
    assert (traces.dropped, traces.errors, traces.exported) == (6, {"queue_full": 6}, 8)
    # what was offered is what arrived plus what was counted lost
    assert len(otlp_receiver.spans()) + traces.dropped + traces.failed == 4 + 4 + 6


def test_drops_are_counted_exactly_while_the_worker_empties_the_queue(
    otlp_receiver: OtlpReceiver, pipelines: list[Pipeline]
) -> None:
    # Four threads end spans into a small queue as fast as they can while the worker
    # takes batches out: the SDK decides "full" before it appends, without a lock, so a
    # batch taken in between made it count drops that never happened.
    pipeline = build(otlp_receiver.http_endpoint, OTEL_BSP_MAX_QUEUE_SIZE="64",
                     OTEL_BSP_MAX_EXPORT_BATCH_SIZE="16", OTEL_BSP_SCHEDULE_DELAY="1")
    pipelines.append(pipeline)
    threads = [threading.Thread(target=pipeline.spans, args=(5000,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pipeline.flush()
    traces = pipeline.monitor.health().signals["traces"]
    dropped = pipeline.total(sc.METRIC_SDK_SPAN_PROCESSED, error_type="queue_full")

    assert traces.dropped > 0  # the queue did overflow
    assert (dropped, traces.failed) == (traces.dropped, 0)
    assert len(otlp_receiver.spans()) + traces.dropped == 4 * 5000


def test_queue_size_and_capacity_are_observed(
    otlp_receiver: OtlpReceiver, pipelines: list[Pipeline]
) -> None:
    pipeline = build(otlp_receiver.http_endpoint, OTEL_BSP_MAX_QUEUE_SIZE="16",
                     OTEL_BSP_SCHEDULE_DELAY="60000")
    pipelines.append(pipeline)
    pipeline.spans(3)  # below the batch size (16): they wait in the queue
    assert pipeline.total(sc.METRIC_SDK_SPAN_QUEUE_SIZE) == 3
    assert pipeline.total(sc.METRIC_SDK_SPAN_QUEUE_CAPACITY) == 16
    traces = pipeline.monitor.health().signals["traces"]
    assert (traces.queue_size, traces.queue_capacity, traces.queue_fill) == (3, 16, 3 / 16)


def test_spans_ended_after_shutdown_are_counted_already_shutdown(
    otlp_receiver: OtlpReceiver, pipelines: list[Pipeline]
) -> None:
    pipeline = build(otlp_receiver.http_endpoint)
    pipelines.append(pipeline)
    tracer = pipeline.tracer_provider.get_tracer("test")
    span = tracer.start_span("late")
    pipeline.tracer_provider.shutdown()
    span.end()
    assert pipeline.total(sc.METRIC_SDK_SPAN_PROCESSED, error_type="already_shutdown") == 1
    assert pipeline.monitor.health().signals["traces"].errors == {"already_shutdown": 1}


# --------------------------------------------------------------------------- the SDK's own


def test_started_and_live_spans_are_counted_by_sampling_result(
    otlp_receiver: OtlpReceiver, pipelines: list[Pipeline]
) -> None:
    pipeline = build(otlp_receiver.http_endpoint)
    pipelines.append(pipeline)
    tracer = pipeline.tracer_provider.get_tracer("test")
    open_span = tracer.start_span("open")
    pipeline.spans(2)
    assert pipeline.points(sc.METRIC_SDK_SPAN_STARTED) == [
        ({"otel.span.parent.origin": "none", "otel.span.sampling_result": "RECORD_AND_SAMPLE"},
         3)
    ]
    assert pipeline.total(sc.METRIC_SDK_SPAN_LIVE) == 1
    open_span.end()
    assert pipeline.total(sc.METRIC_SDK_SPAN_LIVE) == 0


def test_spans_started_from_many_threads_are_counted_exactly_and_none_stays_live(
    otlp_receiver: OtlpReceiver, pipelines: list[Pipeline]
) -> None:
    # The counts are plain integer increments on the caller's thread; switching threads
    # as often as the interpreter allows must not lose one.
    pipeline = build(otlp_receiver.http_endpoint)
    pipelines.append(pipeline)
    tracer = pipeline.tracer_provider.get_tracer("test")

    def spans(count: int) -> None:
        for _ in range(count):
            with tracer.start_as_current_span("parent"):
                tracer.start_span("child").end()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=spans, args=(2500,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    pipeline.flush()

    sampled = "RECORD_AND_SAMPLE"
    assert sorted(pipeline.points(sc.METRIC_SDK_SPAN_STARTED), key=str) == [
        ({"otel.span.parent.origin": "local", "otel.span.sampling_result": sampled}, 10_000),
        ({"otel.span.parent.origin": "none", "otel.span.sampling_result": sampled}, 10_000),
    ]
    assert pipeline.points(sc.METRIC_SDK_SPAN_LIVE) == [
        ({"otel.span.sampling_result": sampled}, 0)
    ]
    # every span ended reached the batch processor: exported, or dropped from a full queue
    processed = pipeline.total(sc.METRIC_SDK_SPAN_PROCESSED, error_type=None)
    dropped = pipeline.total(sc.METRIC_SDK_SPAN_PROCESSED, error_type="queue_full")
    assert (processed + dropped, len(otlp_receiver.spans())) == (20_000, processed)


def test_dropped_and_record_only_spans_are_counted_by_sampling_result(
    otlp_receiver: OtlpReceiver, pipelines: list[Pipeline]
) -> None:
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
    from opentelemetry.trace import NonRecordingSpan, SpanContext, set_span_in_context

    class ByName(Sampler):
        def should_sample(self, parent_context: Any, trace_id: int, name: str,
                          *args: Any, **kwargs: Any) -> SamplingResult:
            return SamplingResult(Decision[name])

        def get_description(self) -> str:
            return "by name"

    pipeline = build(otlp_receiver.http_endpoint)
    pipelines.append(pipeline)
    pipeline.tracer_provider.sampler = ByName()
    tracer = pipeline.tracer_provider.get_tracer("test")
    remote = set_span_in_context(NonRecordingSpan(SpanContext(1, 2, is_remote=True)))
    for _ in range(3):
        tracer.start_span("DROP").end()
    tracer.start_span("RECORD_ONLY", context=remote).end()
    live = tracer.start_span("RECORD_ONLY")

    assert sorted(pipeline.points(sc.METRIC_SDK_SPAN_STARTED), key=str) == [
        ({"otel.span.parent.origin": "none", "otel.span.sampling_result": "DROP"}, 3),
        ({"otel.span.parent.origin": "none", "otel.span.sampling_result": "RECORD_ONLY"}, 1),
        ({"otel.span.parent.origin": "remote", "otel.span.sampling_result": "RECORD_ONLY"}, 1),
    ]
    assert pipeline.points(sc.METRIC_SDK_SPAN_LIVE) == [
        ({"otel.span.sampling_result": "RECORD_ONLY"}, 1)
    ]
    live.end()
    assert pipeline.total(sc.METRIC_SDK_SPAN_LIVE) == 0


def test_log_records_created_processed_and_exported_are_counted(
    otlp_receiver: OtlpReceiver, pipelines: list[Pipeline]
) -> None:
    pipeline = build(otlp_receiver.http_endpoint)
    pipelines.append(pipeline)
    provider = LoggerProvider(meter_provider=pipeline.meter_provider)
    pipeline.monitor.enable_logger_metrics(provider)
    for processor in log_processors(pipeline.settings, lambda e: e, pipeline.monitor,
                                    pipeline.meter_provider):
        provider.add_log_record_processor(processor)
    logger = provider.get_logger("test")
    for index in range(3):
        logger.emit(body=f"line {index}")
    assert provider.force_flush(10_000)
    provider.shutdown()

    assert len(otlp_receiver.log_records()) == 3
    assert pipeline.total(sc.METRIC_SDK_LOG_CREATED) == 3
    assert pipeline.total(sc.METRIC_SDK_LOG_PROCESSED, error_type=None) == 3
    assert pipeline.total(sc.METRIC_SDK_LOG_EXPORTED, error_type=None) == 3
    assert pipeline.total(sc.METRIC_SDK_LOG_QUEUE_CAPACITY) == 2048
    assert pipeline.monitor.health().signals["logs"].exported == 3


def test_pipeline_metrics_off_records_no_sdk_metric_but_health_still_counts(
    otlp_receiver: OtlpReceiver, pipelines: list[Pipeline]
) -> None:
    otlp_receiver.fail_with = 503
    pipeline = build(otlp_receiver.http_endpoint, record=False)
    pipelines.append(pipeline)
    pipeline.spans(2)
    pipeline.flush()
    data = pipeline.reader.get_metrics_data()
    names = {m.name for rm in (data.resource_metrics if data else [])
             for scm in rm.scope_metrics for m in scm.metrics}
    assert names == set()
    assert pipeline.monitor.health().signals["traces"].errors == {"503": 2}

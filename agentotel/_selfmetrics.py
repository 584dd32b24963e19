"""The pipeline's own ``otel.sdk.*`` counts: integers on the hot path, read at collection.

Spec: "Semantic conventions for OpenTelemetry SDK metrics"
(https://opentelemetry.io/docs/specs/semconv/otel/sdk-metrics/); names in
:mod:`agentotel.semconv`.

opentelemetry-sdk 1.45 records these metrics itself once switched on, each as a
synchronous measurement (an attribute-set lookup and an aggregation under a lock) on the
thread that starts a span, ends it or emits a log record: three per span (started, live
+1, live -1), about as much work as the span itself. The SDK's parts call their recorder
whether the metrics are on or not (a no-op recorder when off), so the objects here take
the recorder's place and do the cheapest thing Python has: one in-place integer increment
on an object they already hold. Observable instruments (:func:`observe`) read the integers
when the metrics are collected, on the metric reader's thread:

- :class:`SpanCounts` (a tracer's recorder): ``otel.sdk.span.started`` by
  ``otel.span.parent.origin`` and ``otel.span.sampling_result``; ``otel.sdk.span.live``
  (started and recording, minus ended) by ``otel.span.sampling_result``;
- :class:`LogCounts` (the logger provider's recorder): ``otel.sdk.log.created``;
- :class:`ProcessorCounts` (a batch processor's recorder): ``otel.sdk.processor.{span,log}
  .processed`` (``error.type`` ``queue_full`` / ``already_shutdown`` for what it drops),
  ``...queue.size`` and ``...queue.capacity``; it also tells the health state
  (:class:`agentotel._health.Monitor`) what was dropped. The processor calls it per batch
  on its worker thread, and per dropped item; the items a full queue pushes out are
  counted from what the processor handed to its queue (:class:`CountingBatchSpanProcessor`,
  an increment per span) and what its worker took.

Exactness: an increment is a single ``+=`` on an attribute with no call in between, which
CPython's interpreter lock does not interrupt (since 3.10 it switches threads only at calls
and backward jumps), so no count is lost to a race; a free-threaded build may lose a rare
one. ``live`` reads the ended count before the started count, so it never goes below the
spans really live.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import SpanContext

from agentotel import semconv as sc

_RECORD_AND_SAMPLE = Decision.RECORD_AND_SAMPLE
_RECORD_ONLY = Decision.RECORD_ONLY


def _nothing() -> None:
    """What a dropped span calls when it ends (it never does: it is not recording)."""


class _DecisionCounts:
    """Spans started with one sampling result, by parent origin; and those that ended."""

    __slots__ = ("result", "none", "local", "remote", "ended", "end")

    def __init__(self, result: str) -> None:
        self.result = result
        self.none = 0
        self.local = 0
        self.remote = 0
        self.ended = 0
        self.end: Callable[[], None] = self._end  # bound once, handed to every span

    def _end(self) -> None:
        self.ended += 1

    def reset(self) -> None:
        self.none = self.local = self.remote = self.ended = 0

    def started(self) -> Iterator[tuple[str, int]]:
        yield sc.SPAN_PARENT_ORIGIN_NONE, self.none
        yield sc.SPAN_PARENT_ORIGIN_LOCAL, self.local
        yield sc.SPAN_PARENT_ORIGIN_REMOTE, self.remote


class SpanCounts:
    """A tracer's recorder (the SDK's ``TracerMetricsT``): counts started and live spans.

    One instance serves every tracer of a provider. :meth:`start_span` is called by the
    SDK for every span, sampled or not, and returns what the span calls when it ends.
    """

    __slots__ = ("_sampled", "_recorded", "_dropped")

    def __init__(self) -> None:
        self._sampled = _DecisionCounts(sc.SAMPLING_RESULT_RECORD_AND_SAMPLE)
        self._recorded = _DecisionCounts(sc.SAMPLING_RESULT_RECORD_ONLY)
        self._dropped = _DecisionCounts(sc.SAMPLING_RESULT_DROP)

    def start_span(
        self, parent_span_context: SpanContext | None, sampling_decision: Decision
    ) -> Callable[[], None]:
        if sampling_decision is _RECORD_AND_SAMPLE:
            counts = self._sampled
        elif sampling_decision is _RECORD_ONLY:
            counts = self._recorded
        else:
            counts = self._dropped
        if parent_span_context is None:
            counts.none += 1
        elif parent_span_context.is_remote:
            counts.remote += 1
        else:
            counts.local += 1
        return _nothing if counts is self._dropped else counts.end

    def reset(self) -> None:
        """Count from zero (a forked child: the parent's spans are the parent's)."""
        for counts in (self._sampled, self._recorded, self._dropped):
            counts.reset()

    def started(self) -> list[tuple[dict[str, Any], int]]:
        """``(attributes, spans started)`` of each attribute set that has spans."""
        return [
            ({sc.OTEL_SPAN_PARENT_ORIGIN: origin, sc.OTEL_SPAN_SAMPLING_RESULT: counts.result}, n)
            for counts in (self._sampled, self._recorded, self._dropped)
            for origin, n in counts.started()
            if n
        ]

    def live(self) -> list[tuple[dict[str, Any], int]]:
        """``(attributes, spans live)`` per recording sampling result that started spans."""
        found = []
        for counts in (self._sampled, self._recorded):
            ended = counts.ended  # first: a span that ends meanwhile is still counted live
            started = counts.none + counts.local + counts.remote
            if started:
                found.append(({sc.OTEL_SPAN_SAMPLING_RESULT: counts.result}, started - ended))
        return found


class LogCounts:
    """The logger provider's recorder (the SDK's ``LoggerMetricsT``): log records created."""

    __slots__ = ("created",)

    def __init__(self) -> None:
        self.created = 0

    def emit_log(self) -> None:
        self.created += 1


class CountingBatchSpanProcessor(BatchSpanProcessor):
    """The SDK's ``BatchSpanProcessor``, counting the spans it hands to its queue.

    ``on_end`` is the SDK's own (opentelemetry-sdk 1.45) with one integer increment after
    the hand-over: no call is added on the thread that ends the span. With the items the
    worker took (:meth:`ProcessorCounts.finish_items`) and the queue's length, that gives
    the spans a full queue pushed out exactly (:meth:`ProcessorCounts.evicted`).
    """

    offered = 0

    def on_end(self, span: ReadableSpan) -> None:
        if not (span.context and span.context.trace_flags.sampled):
            return
        self._batch_processor.emit(span)
        self.offered += 1


class CountingBatchLogRecordProcessor(BatchLogRecordProcessor):
    """The SDK's ``BatchLogRecordProcessor``, counting the log records it hands to its
    queue (as :class:`CountingBatchSpanProcessor`)."""

    offered = 0

    def on_emit(self, log_record: Any) -> None:
        super().on_emit(log_record)
        self.offered += 1


class ProcessorCounts:
    """A batch processor's recorder (the SDK's ``ProcessorMetricsT``).

    Args:
        signal: ``traces`` or ``logs``.
        attributes: ``otel.component.type`` / ``otel.component.name`` of the processor.
        capacity: the most items its queue holds.
        on_drop: told ``(items, error.type)`` of every drop it is called with (the health
            state).
        counting: the processor when it counts what it hands to its queue
            (:class:`CountingBatchSpanProcessor`, :class:`CountingBatchLogRecordProcessor`):
            the ``queue_full`` drops are then :meth:`evicted`, and the SDK's own
            ``queue_full`` calls are ignored (it decides "full" before it appends, without a
            lock, and the worker may take a batch in between, so it counts drops that did
            not happen).
    """

    __slots__ = (
        "signal", "attributes", "capacity", "processed", "dropped", "queue_size", "_on_drop",
        "_lock", "_counting", "_evicted",
    )

    def __init__(
        self,
        signal: str,
        attributes: dict[str, Any],
        capacity: int | None,
        on_drop: Callable[[int, str], None],
        *,
        counting: CountingBatchSpanProcessor | CountingBatchLogRecordProcessor | None = None,
    ) -> None:
        self.signal = signal
        self.attributes = attributes
        self.capacity = capacity
        self.processed = 0  # handed to the exporter
        self.dropped: dict[str, int] = {}  # error.type -> items (but the evicted ones)
        self.queue_size: Callable[[], int] | None = None
        self._on_drop = on_drop
        self._lock = threading.Lock()
        self._counting = counting
        self._evicted = 0

    def register_queue_size(self, get_queue_size: Callable[[], int]) -> None:
        self.queue_size = get_queue_size

    def drop_items(self, count: int, error_type: str = sc.ERROR_TYPE_QUEUE_FULL) -> None:
        if self._counting is not None and error_type == sc.ERROR_TYPE_QUEUE_FULL:
            return  # see evicted()
        # drops come from every thread that ends a span; under a lock (only when dropping)
        with self._lock:
            self.dropped[error_type] = self.dropped.get(error_type, 0) + count
        self._on_drop(count, error_type)

    def finish_items(self, count: int) -> None:
        self.processed += count

    def evicted(self) -> int:
        """The items a full queue pushed out so far (``queue_full``); 0 unless counting.

        offered - already_shutdown - processed - queue length, taken while the worker is
        not exporting (``processed`` is counted after a batch is taken: the processor's
        export lock, tried without waiting; when the worker holds it, the last figure
        stands) and the offered count read first (it is counted after each hand-over:
        late only), so it never counts a drop that did not happen, is exact whenever no
        item is being handed over, and never goes down."""
        counting = self._counting
        if counting is None:
            return 0
        batch = counting._batch_processor
        lock = batch._export_lock
        if lock.acquire(blocking=False):
            try:
                offered = counting.offered
                waiting = len(batch._queue)
                shutdown = self.dropped.get(sc.ERROR_TYPE_ALREADY_SHUTDOWN, 0)
                evicted = offered - shutdown - self.processed - waiting
            finally:
                lock.release()
            if evicted > self._evicted:
                self._evicted = evicted
        return self._evicted

    def reset(self) -> None:
        """Count from zero with a new lock (a forked child: the parent's items are the
        parent's, and a lock a parent's thread held at the fork stays held; the SDK
        empties the queue there)."""
        self._lock = threading.Lock()
        self.processed = 0
        self.dropped = {}
        self._evicted = 0
        if self._counting is not None:
            self._counting.offered = 0

    def drops(self) -> list[tuple[str, int]]:
        """``(error.type, items)`` dropped so far."""
        with self._lock:
            found = dict(self.dropped)
        evicted = self.evicted()
        if evicted:
            found[sc.ERROR_TYPE_QUEUE_FULL] = found.get(sc.ERROR_TYPE_QUEUE_FULL, 0) + evicted
        return list(found.items())


class PipelineCounts:
    """Every counting object of one pipeline, read by the observable instruments
    :func:`observe` makes (when the pipeline's metrics are on). Processors are added as
    the providers are built."""

    def __init__(self) -> None:
        self.spans = SpanCounts()
        self.logs = LogCounts()
        self.processors: list[ProcessorCounts] = []

    def after_fork_in_child(self) -> None:
        """In a forked child, every count starts from zero: what the parent counted before
        the fork is reported by the parent alone (as the SDK's own aggregations are)."""
        self.spans.reset()
        self.logs.created = 0
        for processor in self.processors:
            processor.reset()

    def processors_of(self, signal: str) -> list[ProcessorCounts]:
        return [p for p in self.processors if p.signal == signal]


def _observations(pairs: Iterable[tuple[dict[str, Any], int]]) -> list[Observation]:
    return [Observation(value, attributes) for attributes, value in pairs]


def observe(meter: Meter, counts: PipelineCounts) -> None:
    """Make the observable instruments that report ``counts`` on ``meter`` (the SDK's
    meter scope, ``opentelemetry-sdk``): names, units and descriptions as the SDK's own
    synchronous instruments have them (opentelemetry-semantic-conventions' creators)."""

    def started(_: CallbackOptions) -> list[Observation]:
        return _observations(counts.spans.started())

    def live(_: CallbackOptions) -> list[Observation]:
        return _observations(counts.spans.live())

    def created(_: CallbackOptions) -> list[Observation]:
        made = counts.logs.created
        return [Observation(made, {})] if made else []

    meter.create_observable_counter(
        sc.METRIC_SDK_SPAN_STARTED, [started], unit=sc.UNIT_SPANS,
        description="The number of created spans.",
    )
    meter.create_observable_up_down_counter(
        sc.METRIC_SDK_SPAN_LIVE, [live], unit=sc.UNIT_SPANS,
        description="The number of created spans with `recording=true` for which the end "
        "operation has not been called yet.",
    )
    meter.create_observable_counter(
        sc.METRIC_SDK_LOG_CREATED, [created], unit=sc.UNIT_LOG_RECORDS,
        description="The number of logs submitted to enabled SDK Loggers.",
    )
    for signal, unit, instruments in _PROCESSOR_INSTRUMENTS:
        _observe_processors(meter, counts, signal, unit, instruments)


#: signal -> unit, and the (name, description) of processed, queue size and queue capacity,
#: as opentelemetry-semantic-conventions' creators have them
_PROCESSOR_INSTRUMENTS = (
    ("traces", sc.UNIT_SPANS, (
        (sc.METRIC_SDK_SPAN_PROCESSED, "The number of spans for which the processing has "
         "finished, either successful or failed."),
        (sc.METRIC_SDK_SPAN_QUEUE_SIZE, "The number of spans in the queue of a given "
         "instance of an SDK span processor."),
        (sc.METRIC_SDK_SPAN_QUEUE_CAPACITY, "The maximum number of spans the queue of a "
         "given instance of an SDK span processor can hold."),
    )),
    ("logs", sc.UNIT_LOG_RECORDS, (
        (sc.METRIC_SDK_LOG_PROCESSED, "The number of log records for which the processing "
         "has finished, either successful or failed."),
        (sc.METRIC_SDK_LOG_QUEUE_SIZE, "The number of log records in the queue of a given "
         "instance of an SDK log processor."),
        (sc.METRIC_SDK_LOG_QUEUE_CAPACITY, "The maximum number of log records the queue of "
         "a given instance of an SDK Log Record processor can hold."),
    )),
)


def _observe_processors(
    meter: Meter,
    counts: PipelineCounts,
    signal: str,
    unit: str,
    instruments: tuple[tuple[str, str], ...],
) -> None:
    (processed_name, processed_doc), (size_name, size_doc), (capacity_name, capacity_doc) = (
        instruments
    )

    def processed(_: CallbackOptions) -> list[Observation]:
        found = []
        for processor in counts.processors_of(signal):
            found.append(Observation(processor.processed, processor.attributes))
            for error_type, n in processor.drops():
                found.append(Observation(n, {**processor.attributes, sc.ERROR_TYPE: error_type}))
        return found

    def size(_: CallbackOptions) -> list[Observation]:
        return [
            Observation(p.queue_size(), p.attributes)
            for p in counts.processors_of(signal) if p.queue_size is not None
        ]

    def capacity(_: CallbackOptions) -> list[Observation]:
        return [
            Observation(p.capacity, p.attributes)
            for p in counts.processors_of(signal) if p.capacity is not None
        ]

    meter.create_observable_counter(processed_name, [processed], unit, processed_doc)
    meter.create_observable_up_down_counter(size_name, [size], unit, size_doc)
    meter.create_observable_up_down_counter(capacity_name, [capacity], unit, capacity_doc)

"""The export pipeline watching itself: the ``otel.sdk.*`` metrics and ``health()``.

Spec: "Semantic conventions for OpenTelemetry SDK metrics"
(https://opentelemetry.io/docs/specs/semconv/otel/sdk-metrics/); names in
:mod:`agentotel.semconv`.

The spans started and live, the log records created and the batch processors' counts
(processed, with ``error.type`` ``queue_full`` / ``already_shutdown`` for what they drop;
queue size and capacity) are counted by :mod:`agentotel._selfmetrics` with plain integers
in the SDK's own recorder slots and reported by observable instruments: nothing per span
on the caller's thread but an increment. The metric readers'
``otel.sdk.metric_reader.collection.duration`` is the SDK's own recorder (per collection).
opentelemetry-sdk 1.45 reads its switch from ``OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED``
only when each part is built, and agentotel never writes ``os.environ``, so
:class:`Monitor` puts the recorders into each part agentotel builds.

The OTLP exporters' ``otel.sdk.exporter.{span,log,metric_data_point}.exported`` /
``.inflight`` and ``otel.sdk.exporter.operation.duration`` are recorded by agentotel
(:class:`_ExportOperations`, in the exporter's own hook): the exporters' recorder
(opentelemetry-exporter-otlp 1.45) counts a batch the collector answered with an HTTP
error status (503, 400, ...) as exported, with no ``error.type``. Here every failed export
carries one: the HTTP status code, the gRPC status name, or the exception's class name.

The same hooks feed :meth:`Monitor.health`, with or without the metrics: per OTLP signal,
the last successful export, consecutive failures, the queue, and what was lost. Nothing
here raises into the application or does network I/O; a hook the SDK no longer offers is
skipped with one warning.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from time import perf_counter
from typing import Any, Literal
from urllib.parse import urlsplit

from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.semconv._incubating.metrics import otel_metrics

from agentotel import semconv as sc
from agentotel._ratelimit import log_throttled
from agentotel._selfmetrics import (
    CountingBatchLogRecordProcessor,
    CountingBatchSpanProcessor,
    PipelineCounts,
    ProcessorCounts,
    observe,
)

_logger = logging.getLogger("agentotel")

Signal = Literal["traces", "metrics", "logs"]
Status = Literal["ok", "degraded", "down"]

#: how long a drop or a failed export keeps a signal ``degraded``, in seconds
RECENT_S = 60.0
#: what one item of each signal is called in health reasons
ITEMS: Mapping[str, str] = {
    "traces": "spans", "metrics": "metric data points", "logs": "log records",
}


# --------------------------------------------------------------------------- health values


@dataclass(frozen=True)
class SignalHealth:
    """One OTLP signal's export pipeline, as seen at one moment.

    Attributes:
        status: ``ok``; ``degraded`` (something was dropped or failed within the last
            :data:`RECENT_S` seconds, the last export succeeded); ``down`` (the last
            export failed).
        endpoint_host: the host of the OTLP endpoint (no scheme, port, path or headers).
        last_success: Unix time in seconds of the last successful export, ``None``
            before the first.
        consecutive_failures: failed exports since the last success.
        last_error: ``error.type`` of the last failed export (``"503"``, ``"UNAVAILABLE"``,
            ``"ConnectionError"``), ``None`` before the first failure.
        queue_size / queue_capacity: items waiting in the batch processor's queue and the
            most it holds; ``None`` for metrics (no queue).
        exported: items delivered so far.
        failed: items of failed exports so far (lost: the SDK does not retry a batch once
            the exporter gave up).
        dropped: items the batch processor dropped so far (``queue_full``,
            ``already_shutdown``), never handed to the exporter.
        errors: ``error.type`` -> items, over both ``failed`` and ``dropped``.
    """

    status: Status
    endpoint_host: str | None
    last_success: float | None
    consecutive_failures: int
    last_error: str | None
    queue_size: int | None
    queue_capacity: int | None
    exported: int
    failed: int
    dropped: int
    errors: Mapping[str, int] = field(default_factory=dict)
    reason: str = ""

    @property
    def queue_fill(self) -> float | None:
        """``queue_size / queue_capacity`` (0 to 1), ``None`` without a queue."""
        if self.queue_size is None or not self.queue_capacity:
            return None
        return self.queue_size / self.queue_capacity

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601 UTC strings, ``queue_fill`` included."""
        return {
            "status": self.status,
            "reason": self.reason,
            "endpoint_host": self.endpoint_host,
            "last_success": _iso(self.last_success),
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
            "queue_size": self.queue_size,
            "queue_capacity": self.queue_capacity,
            "queue_fill": self.queue_fill,
            "exported": self.exported,
            "failed": self.failed,
            "dropped": self.dropped,
            "errors": dict(self.errors),
        }


@dataclass(frozen=True)
class Health:
    """The telemetry pipeline's health (what ``Telemetry.health()`` returns).

    Attributes:
        status: ``down`` when telemetry is shut down or every OTLP signal's last export
            failed; ``degraded`` when some signal is ``down`` or ``degraded``; else ``ok``.
        reason: one line saying why (per signal that is not ``ok``), never a secret: it
            names signals, counts, ``error.type`` values and ages in seconds only.
        live: the providers are running (``init()`` ran, ``shutdown()`` has not).
        ready: live, and the last export of each OTLP signal succeeded (a signal that has
            not exported yet counts as ready).
        signals: ``traces`` / ``metrics`` / ``logs`` -> :class:`SignalHealth`, for each
            signal agentotel exports over OTLP.
    """

    status: Status
    reason: str
    live: bool
    ready: bool
    signals: Mapping[str, SignalHealth] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"status", "reason", "live", "ready", "signals": {...}}``."""
        return {
            "status": self.status,
            "reason": self.reason,
            "live": self.live,
            "ready": self.ready,
            "signals": {name: signal.to_dict() for name, signal in self.signals.items()},
        }


def _iso(unix_s: float | None) -> str | None:
    if unix_s is None:
        return None
    return datetime.fromtimestamp(unix_s, timezone.utc).isoformat(timespec="milliseconds")


def _age(seconds: float) -> str:
    return f"{seconds:.0f} s ago" if seconds >= 1 else "just now"


# --------------------------------------------------------------------------- per-signal state


class _SignalState:
    """What the hooks saw of one signal; every method is thread-safe and never raises."""

    def __init__(self, signal: str) -> None:
        self.signal = signal
        self.endpoint_host: str | None = None
        self.queue_size: Callable[[], int] | None = None
        self.queue_capacity: int | None = None
        #: the items a full queue pushed out so far (read when health is asked for)
        self.evicted: Callable[[], int] | None = None
        self._evicted_seen = 0
        self._lock = threading.Lock()
        self._exported = 0
        self._failed = 0
        self._dropped = 0
        self._errors: Counter[str] = Counter()
        self._last_success: float | None = None
        self._consecutive_failures = 0
        self._last_error: str | None = None
        self._last_loss: float | None = None  # time.monotonic()

    def export_finished(self, items: int, error_type: str | None) -> None:
        with self._lock:
            if error_type is None:
                self._exported += items
                self._consecutive_failures = 0
                self._last_success = time.time()
            else:
                self._failed += items
                self._errors[error_type] += items
                self._consecutive_failures += 1
                self._last_error = error_type
                self._last_loss = time.monotonic()

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def never_delivered(self) -> bool:
        """Nothing exported yet, and every failure so far a refused connection."""
        with self._lock:
            return self._last_success is None and set(self._errors) <= _REFUSED

    def dropped(self, items: int, error_type: str) -> None:
        with self._lock:
            self._dropped += items
            self._errors[error_type] += items
            self._last_loss = time.monotonic()

    def _count_evicted(self) -> None:
        """Take in the items a full queue pushed out since the last look (counted by the
        queue without a lock; seen here, so the time of the loss is when it is seen)."""
        evicted = self.evicted
        if evicted is None:
            return
        try:
            count = evicted()
        except Exception:  # noqa: BLE001 - health never raises
            return
        with self._lock:
            new = count - self._evicted_seen
            if new > 0:
                self._evicted_seen = count
                self._dropped += new
                self._errors[sc.ERROR_TYPE_QUEUE_FULL] += new
                self._last_loss = time.monotonic()

    def snapshot(self) -> SignalHealth:
        self._count_evicted()
        with self._lock:
            exported, failed, dropped = self._exported, self._failed, self._dropped
            errors = dict(self._errors)
            last_success, failures = self._last_success, self._consecutive_failures
            last_error, last_loss = self._last_error, self._last_loss
        size: int | None = None
        if self.queue_size is not None:
            try:
                size = self.queue_size()
            except Exception:  # noqa: BLE001 - health never raises
                size = None
        items = ITEMS[self.signal]
        status: Status = "ok"
        reason = ""
        since_loss = None if last_loss is None else time.monotonic() - last_loss
        if failures:
            status = "down"
            since = "never succeeded" if last_success is None else (
                f"last success {_age(time.time() - last_success)}"
            )
            reason = (
                f"{self.signal}: the last {failures} export(s) failed ({last_error}), {since}"
            )
        elif since_loss is not None and since_loss < RECENT_S:
            status = "degraded"
            lost = ", ".join(f"{k}: {v}" for k, v in sorted(errors.items()))
            reason = (
                f"{self.signal}: {failed + dropped} {items} lost so far, the last "
                f"{_age(since_loss)} ({lost})"
            )
        return SignalHealth(
            status=status,
            endpoint_host=self.endpoint_host,
            last_success=last_success,
            consecutive_failures=failures,
            last_error=last_error,
            queue_size=size,
            queue_capacity=self.queue_capacity,
            exported=exported,
            failed=failed,
            dropped=dropped,
            errors=errors,
            reason=reason,
        )


# --------------------------------------------------------------------------- exporter hook


@dataclass
class _ExportResult:
    """What an OTLP exporter writes into its hook (the shape of the SDK's ``ExportResult``)."""

    error: BaseException | None = None
    error_attrs: Mapping[str, Any] | None = None


def _error_type(result: _ExportResult) -> str | None:
    """``error.type`` of a finished export: ``None`` on success.

    The exporter sets ``error_attrs`` only on failure; an HTTP error status comes with no
    exception (opentelemetry-exporter-otlp 1.45).
    """
    attrs = result.error_attrs or {}
    if sc.HTTP_RESPONSE_STATUS_CODE in attrs:
        return str(attrs[sc.HTTP_RESPONSE_STATUS_CODE])
    if sc.RPC_RESPONSE_STATUS_CODE in attrs:
        return str(attrs[sc.RPC_RESPONSE_STATUS_CODE])
    if result.error is not None:
        return type(result.error).__qualname__
    return None


class _ExporterInstruments:
    """The three exporter instruments of one signal, made by the semconv creators."""

    _CREATORS = {
        "traces": (otel_metrics.create_otel_sdk_exporter_span_exported,
                   otel_metrics.create_otel_sdk_exporter_span_inflight),
        "logs": (otel_metrics.create_otel_sdk_exporter_log_exported,
                 otel_metrics.create_otel_sdk_exporter_log_inflight),
        "metrics": (otel_metrics.create_otel_sdk_exporter_metric_data_point_exported,
                    otel_metrics.create_otel_sdk_exporter_metric_data_point_inflight),
    }

    def __init__(self, meter_provider: MeterProvider, signal: str) -> None:
        meter = meter_provider.get_meter(sc.SDK_METER_SCOPE)
        create_exported, create_inflight = self._CREATORS[signal]
        self.exported = create_exported(meter)
        self.inflight = create_inflight(meter)
        self.duration = otel_metrics.create_otel_sdk_exporter_operation_duration(meter)


class _ExportOperations:
    """Stands in for an OTLP exporter's own export hook (its ``_metrics``).

    The exporter calls ``with hook.export_operation(n) as result:`` around each export,
    retries included, and writes ``result.error`` / ``result.error_attrs`` on failure.
    Each export updates the signal's health state and, when metrics are on, records
    inflight, exported and the duration with ``otel.component.*``, ``server.*`` and, on
    failure, ``error.type`` (plus the HTTP / gRPC status on the duration).
    """

    def __init__(
        self,
        state: _SignalState,
        instruments: Callable[[], _ExporterInstruments | None],
        attributes: Mapping[str, Any],
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self._state = state
        self._instruments = instruments
        self._attributes = dict(attributes)
        self._on_failure = on_failure
        #: set when the retries were abandoned at shutdown (:func:`_abandon_retries`)
        self.retries_abandoned = False

    @contextlib.contextmanager
    def export_operation(self, num_items: int) -> Iterator[_ExportResult]:
        instruments = self._instruments()
        attributes = self._attributes
        start = perf_counter()
        if instruments is not None:
            instruments.inflight.add(num_items, attributes)
        result = _ExportResult()
        try:
            yield result
        except BaseException as exc:
            result.error = exc  # an exception out of the exporter is a failed export too
            raise
        finally:
            try:
                self._finished(num_items, result, instruments, perf_counter() - start)
            except Exception:  # noqa: BLE001 - counting never changes the export's outcome
                log_throttled(_logger, "agentotel: recording an export failed")

    def _finished(
        self,
        num_items: int,
        result: _ExportResult,
        instruments: _ExporterInstruments | None,
        duration_s: float,
    ) -> None:
        error_type = _error_type(result)
        if error_type is None and self.retries_abandoned:
            # the exporter's "shutdown in progress, aborting retry" path records no error;
            # retries are abandoned only for an endpoint that never took an export, so an
            # export after earlier refusals most likely was refused too
            error_type = self._state.last_error
        self._state.export_finished(num_items, error_type)
        if error_type is not None and self._on_failure is not None:
            self._on_failure(error_type)
        if instruments is None:
            return
        attributes = self._attributes
        instruments.inflight.add(-num_items, attributes)
        outcome = attributes if error_type is None else {**attributes, sc.ERROR_TYPE: error_type}
        instruments.exported.add(num_items, outcome)
        instruments.duration.record(duration_s, {**outcome, **(result.error_attrs or {})})


def _server_attributes(endpoint: str, grpc: bool) -> dict[str, Any]:
    """``server.address`` / ``server.port`` of an exporter endpoint (as the SDK derives them)."""
    parts = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}")
    found: dict[str, Any] = {}
    if parts.hostname:
        found[sc.SERVER_ADDRESS] = parts.hostname
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if grpc or parts.scheme == "https" else 80 if parts.scheme == "http" else None
    if port is not None:
        found[sc.SERVER_PORT] = port
    return found


# --------------------------------------------------------------------------- processor hook


# --------------------------------------------------------------------------- the monitor


class Monitor:
    """Watches the export pipeline agentotel builds; one per ``init()``.

    Args:
        record_metrics: switch the ``otel.sdk.*`` metrics on (the ``pipeline_metrics``
            setting). Health is tracked either way.

    The ``watch_*`` / ``enable_*`` methods are called while the providers are built; each
    never raises (a hook the installed SDK does not offer is skipped with one warning).
    :meth:`attach` gives the monitor the meter provider the metrics go to.
    """

    def __init__(self, *, record_metrics: bool) -> None:
        self.record_metrics = record_metrics
        self._meter_provider: MeterProvider | None = None
        self._states: dict[str, _SignalState] = {}
        self._instruments: dict[str, _ExporterInstruments] = {}
        self._component_counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.counts = PipelineCounts()
        self.live = True
        self._unserved: str | None = None
        self._exports: list[tuple[str, Any, _ExportOperations]] = []
        self._failure_reported = False
        self._endpoints: dict[str, tuple[str, str]] = {}

    def attach(self, meter_provider: MeterProvider) -> None:
        """The meter provider the pipeline's metrics are recorded on. The instruments are
        made now: an export may first happen at exit, after the meter provider stopped
        handing out meters, and tracers are made from many threads."""
        self._meter_provider = meter_provider
        if not self.record_metrics:
            return
        self._instruments = {
            signal: _ExporterInstruments(meter_provider, signal) for signal in ITEMS
        }
        observe(meter_provider.get_meter(sc.SDK_METER_SCOPE), self.counts)

    def close(self) -> None:
        """Telemetry was shut down: health says ``down``, not live; the exporters' loggers
        log their failures again."""
        self.live = False
        unquiet_exporter_loggers(self)

    def _state(self, signal: str) -> _SignalState:
        with self._lock:
            state = self._states.get(signal)
            if state is None:
                state = self._states[signal] = _SignalState(signal)
            return state

    def _exporter_instruments(self, signal: str) -> _ExporterInstruments | None:
        return self._instruments.get(signal)

    # ------------------------------------------------------------------- hooks

    def watch_exporter(
        self,
        signal: Signal,
        exporter: Any,
        *,
        protocol: str,
        endpoint: str,
        endpoint_source: str = "OTEL_EXPORTER_OTLP_ENDPOINT",
    ) -> None:
        """Put agentotel's export hook into an OTLP exporter of ``signal``; its failures
        are counted, the first one said in one line (:meth:`_first_failure`), none logged
        per batch (:func:`quiet_exporter_loggers`). ``endpoint_source`` names what set the
        endpoint (a variable, or ``init(endpoint=...)``)."""
        quiet_exporter_loggers(self)
        self._endpoints[signal] = (endpoint, endpoint_source)
        state = self._state(signal)
        state.endpoint_host = urlsplit(endpoint if "://" in endpoint else f"//{endpoint}").hostname
        if not _has(exporter, "_metrics", "export_operation"):
            _skipped(f"the {signal} OTLP exporter's export hook")
            return
        attributes = {
            **self._component(sc.OTLP_EXPORTER_COMPONENT_TYPES[(signal, protocol)]),
            **_server_attributes(endpoint, grpc=protocol == "grpc"),
        }
        operations = _ExportOperations(
            state,
            lambda: self._exporter_instruments(signal),
            attributes,
            on_failure=lambda error_type: self._first_failure(signal, error_type),
        )
        exporter._metrics = operations
        with self._lock:
            self._exports.append((signal, exporter, operations))

    def _component(self, component_type: str) -> dict[str, str]:
        """``otel.component.type`` / ``otel.component.name`` of the next part of that type
        (``batching_span_processor/0``, ...; numbered per type, as the SDK does)."""
        with self._lock:
            count = self._component_counts[component_type]
            self._component_counts[component_type] += 1
        return {sc.OTEL_COMPONENT_TYPE: component_type,
                sc.OTEL_COMPONENT_NAME: f"{component_type}/{count}"}

    def watch_processor(self, signal: Literal["traces", "logs"], processor: Any) -> None:
        """Put agentotel's recorder (:class:`~agentotel._selfmetrics.ProcessorCounts`) into
        a ``BatchSpanProcessor`` / ``BatchLogRecordProcessor``: what it drops, for health
        and, with metrics on, processed, queue size and queue capacity. Drops from a full
        queue are counted exactly for agentotel's counting processors
        (:func:`agentotel._providers.batch_span_processor` builds them), as the SDK counts
        them for others."""
        state = self._state(signal)
        batch = getattr(processor, "_batch_processor", None)
        if batch is None or not _has(batch, "_metrics", "drop_items"):
            _skipped(f"the {signal} batch processor's drop hook")
            return
        queue = batch._queue
        state.queue_capacity = getattr(batch, "_max_queue_size", None)
        component = (
            sc.BATCHING_SPAN_PROCESSOR if signal == "traces" else sc.BATCHING_LOG_PROCESSOR
        )
        exact = isinstance(processor, (CountingBatchSpanProcessor, CountingBatchLogRecordProcessor))
        counts = ProcessorCounts(
            signal,
            self._component(component.value),
            state.queue_capacity,
            state.dropped,
            counting=processor if exact else None,
        )
        state.evicted = counts.evicted
        counts.register_queue_size(lambda: len(queue))
        state.queue_size = counts.queue_size
        batch._metrics = counts
        self.counts.processors.append(counts)  # reported only when record_metrics

    def enable_tracer_metrics(self, tracer: Any) -> None:
        """Count a tracer's spans (``otel.sdk.span.started`` / ``.live``): agentotel's
        :class:`~agentotel._selfmetrics.SpanCounts` in the tracer's recorder slot, where
        the SDK put its no-op one."""
        if not self.record_metrics or self._meter_provider is None:
            return
        try:
            from opentelemetry.sdk.trace._tracer_metrics import NoOpTracerMetrics

            if isinstance(getattr(tracer, "_tracer_metrics", None), NoOpTracerMetrics):
                tracer._tracer_metrics = self.counts.spans
        except Exception:  # noqa: BLE001
            _skipped("the tracers' SDK metrics")

    def enable_logger_metrics(self, logger_provider: Any) -> None:
        """Count the log records created (``otel.sdk.log.created``): agentotel's
        :class:`~agentotel._selfmetrics.LogCounts` in the logger provider's recorder slot,
        before any logger is made (each logger takes the provider's recorder when made)."""
        if not self.record_metrics or self._meter_provider is None:
            return
        try:
            from opentelemetry.sdk._logs._internal._logger_metrics import NoOpLoggerMetrics

            if isinstance(getattr(logger_provider, "_logger_metrics", None), NoOpLoggerMetrics):
                logger_provider._logger_metrics = self.counts.logs
        except Exception:  # noqa: BLE001
            _skipped("the logger provider's SDK metrics")

    def enable_reader_metrics(self, reader: Any) -> None:
        """Switch a metric reader's SDK metric on
        (``otel.sdk.metric_reader.collection.duration``); after its meter provider is made."""
        if not self.record_metrics or self._meter_provider is None:
            return
        try:
            from opentelemetry.sdk.metrics._internal.export._metric_reader_metrics import (
                NoOpMetricReaderMetrics,
                create_metric_reader_metrics,
            )

            if isinstance(getattr(reader, "_metrics", None), NoOpMetricReaderMetrics):
                reader._metrics = create_metric_reader_metrics(
                    reader._otel_component_type, self._meter_provider, True
                )
        except Exception:  # noqa: BLE001
            _skipped("the metric readers' SDK metrics")

    # ------------------------------------------------------------------- process models

    def metrics_unserved(self, reason: str) -> None:
        """This process's measurements are on no ``/metrics`` (``reason`` says why and
        what to do): ``health()`` is never ``ok`` from now on; said once."""
        _metrics_unserved(self, reason)

    def after_fork_in_child(self) -> None:
        """New locks in a forked child (one held by a parent's thread at the fork stays
        held in the child)."""
        self._lock = threading.Lock()
        for state in self._states.values():
            state._lock = threading.Lock()
            state._evicted_seen = 0  # the queue's counts start again (see below)
        self.counts.after_fork_in_child()

    def exporters(self) -> list[Any]:
        """The OTLP exporters watched."""
        with self._lock:
            return [exporter for _, exporter, _ in self._exports]

    def _first_failure(self, signal: str, error_type: str) -> None:
        _first_failure(self, signal, error_type)

    def stop_retrying_if_never_delivered(self) -> None:
        """At shutdown: see :func:`_abandon_retries`. Never raises."""
        try:
            _abandon_retries(self)
        except Exception:  # noqa: BLE001
            _skipped("the OTLP exporters' retry switch")

    # ------------------------------------------------------------------- health

    def health(self) -> Health:
        """The pipeline's health now (see :class:`Health`); never raises, no I/O."""
        try:
            with self._lock:
                states = dict(self._states)
            signals = {name: states[name].snapshot() for name in sorted(states)}
            return _unserved(_overall(signals, live=self.live), self._unserved)
        except Exception:  # noqa: BLE001 - health never raises
            log_throttled(_logger, "agentotel: computing health failed")
            return Health("degraded", "health could not be computed", self.live, self.live)


# --------------------------------------------------------------------------- process models


#: ``error.type`` values of an export that found nothing listening at the endpoint
_REFUSED = frozenset({"ConnectionError", "UNAVAILABLE"})

#: the OTLP exporters' loggers (opentelemetry-exporter-otlp 1.45)
_EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.http._log_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.otlp.common.http",
)
#: the exporters' lines about a failed, retried or abandoned export
_FAILURE_LINES = ("Failed to export", "Transient error", "Shutdown in progress, aborting retry")


class _CountedNotLogged(logging.Filter):
    """Drops the OTLP exporters' per-batch failure and retry lines: agentotel counts every
    failed export (``health()``, ``otel.sdk.exporter.*``) and says the first in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_FAILURE_LINES)


_QUIET = _CountedNotLogged()
#: the monitors that put :data:`_QUIET` on the exporters' loggers and are not closed yet
_quieting: set[int] = set()
_quiet_lock = threading.Lock()


def quiet_exporter_loggers(monitor: object) -> None:
    """Put :class:`_CountedNotLogged` on the OTLP exporters' loggers while ``monitor``
    runs (idempotent; :func:`unquiet_exporter_loggers` takes it off)."""
    with _quiet_lock:
        _quieting.add(id(monitor))
        for name in _EXPORTER_LOGGERS:
            logger = logging.getLogger(name)
            if _QUIET not in logger.filters:
                logger.addFilter(_QUIET)


def unquiet_exporter_loggers(monitor: object) -> None:
    """``monitor`` was closed: once no running monitor needs it, the exporters' loggers
    are as they were (a guest leaves the loggers it touched as it found them)."""
    with _quiet_lock:
        _quieting.discard(id(monitor))
        if not _quieting:
            for name in _EXPORTER_LOGGERS:
                logging.getLogger(name).removeFilter(_QUIET)


def first_failure_line(signal: str, endpoint: str, source: str, error_type: str) -> str:
    """The one line said at the first failed export: where, why, and what to do."""
    line = f"agentotel: cannot export {signal} to {endpoint} ({error_type}; set by {source})"
    if error_type in _REFUSED:
        line += (
            ": no OpenTelemetry Collector is listening there; start the local stack with "
            f"`make up`, point {source.split()[0]} at your Collector, or set "
            "OTEL_TRACES_EXPORTER=console to see traces here"
        )
    return line + "; later failures are counted in health(), not logged"


def _unserved(health: Health, reason: str | None) -> Health:
    """``health``, never ``ok`` while this process's measurements are on no ``/metrics``."""
    if reason is None or not health.live:
        return health
    why = f"metrics: {reason}"
    status: Status = "down" if health.status == "down" else "degraded"
    return Health(status, "; ".join(r for r in (health.reason, why) if r), health.live,
                  health.ready, health.signals)


def _metrics_unserved(monitor: Monitor, reason: str) -> None:
    monitor._unserved = reason
    log_throttled(_logger, f"agentotel: {reason}")


def _first_failure(monitor: Monitor, signal: str, error_type: str) -> None:
    with monitor._lock:
        if monitor._failure_reported:
            return
        monitor._failure_reported = True
    endpoint, source = monitor._endpoints.get(
        signal, ("the OTLP endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    _logger.warning(first_failure_line(signal, endpoint, source, error_type))


def _abandon_retries(monitor: Monitor) -> None:
    """Before the last exports at shutdown: an OTLP exporter whose endpoint never took an
    export and only ever refused the connection makes each last export once, with no
    retry and no backoff wait (one waiting now wakes up); others keep their retries,
    within the export timeout."""
    with monitor._lock:
        exports = list(monitor._exports)
    for signal, exporter, operations in exports:
        if not monitor._state(signal).never_delivered():
            continue
        operations.retries_abandoned = True
        client = getattr(exporter, "_client", None)
        event = getattr(client, "_shutdown_event", None)  # OTLP/HTTP
        if event is None:  # OTLP/gRPC: UNAVAILABLE no longer retried
            event = getattr(exporter, "_shutdown_in_progress", None)
            if hasattr(exporter, "_retryable_error_codes"):
                exporter._retryable_error_codes = frozenset()
        if isinstance(event, threading.Event):
            event.set()
        else:
            _skipped(f"the {signal} OTLP exporter's retry switch")


def _overall(signals: Mapping[str, SignalHealth], *, live: bool) -> Health:
    if not live:
        return Health("down", "telemetry is shut down", False, False, signals)
    statuses = [signal.status for signal in signals.values()]
    reason = "; ".join(signal.reason for signal in signals.values() if signal.reason)
    ready = "down" not in statuses
    if statuses and all(status == "down" for status in statuses):
        return Health("down", reason, True, ready, signals)
    if any(status != "ok" for status in statuses):
        return Health("degraded", reason, True, ready, signals)
    return Health("ok", "", True, ready, signals)


def disabled_health() -> Health:
    """Health with the SDK disabled (``OTEL_SDK_DISABLED=true``): nothing to watch, ok."""
    return Health("ok", "the OpenTelemetry SDK is disabled (OTEL_SDK_DISABLED)", True, True)


def _has(obj: Any, attribute: str, method: str) -> bool:
    return callable(getattr(getattr(obj, attribute, None), method, None))


def _skipped(what: str) -> None:
    log_throttled(
        _logger,
        f"agentotel: {what} is not where opentelemetry-sdk 1.45 has it; "
        "that part of the pipeline's self-observability is off",
    )


# --------------------------------------------------------------------------- the SDK's parts


class MonitoredTracerProvider(TracerProvider):
    """A ``TracerProvider`` whose tracers record ``otel.sdk.span.started`` / ``.live``
    (the SDK makes each tracer's recorder when the tracer is first asked for)."""

    monitor: Monitor | None = None

    def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
        tracer = super().get_tracer(*args, **kwargs)
        if self.monitor is not None:
            self.monitor.enable_tracer_metrics(tracer)
        return tracer


def duration_views() -> list[View]:
    """Bucket boundaries (seconds) for the SDK's two duration histograms."""
    aggregation = ExplicitBucketHistogramAggregation(list(sc.BUCKETS_SDK_DURATION))
    return [
        View(instrument_name=name, aggregation=aggregation)
        for name in (sc.METRIC_SDK_EXPORT_DURATION, sc.METRIC_SDK_COLLECTION_DURATION)
    ]


"""Pre-fork servers and task queues: a worker forked after ``init()``, and one ``/metrics``
for all the workers of a server.

**After a fork.** A pre-fork server (gunicorn ``--preload``, Celery prefork, a
``multiprocessing`` pool started with ``fork``) runs ``init()`` once in the parent and
forks workers. The SDK (1.45) restarts the batch processors' and the periodic metric
reader's threads in each child and gives it its own ``service.instance.id``;
:func:`after_fork_in_child` does the rest:

- the measurements the parent recorded before the fork are not the child's: the metric
  aggregations the child inherited are emptied (every reader: OTLP, Prometheus), so the
  child's first export counts what the child recorded, and the parent's are counted once,
  by the parent;
- ``process.pid`` on the resource is the child's;
- the OTLP exporters get connections of their own (:func:`reconnect`): a connection
  inherited from the parent would carry both processes' requests.

**One /metrics for the whole server.** Each worker records its own measurements and a
Prometheus scrape reaches one process. ``prometheus_client`` solves this for its own
metrics with its multiprocess mode: each process writes its values into files of its own
(named by pid) in the directory ``PROMETHEUS_MULTIPROC_DIR``, and the process serving
``/metrics`` merges the files of every process at scrape time
(``prometheus_client.multiprocess.MultiProcessCollector``: counters and histograms summed,
gauges per their mode; https://prometheus.github.io/client_python/multiprocess/).
agentotel uses that mode as it is for the OpenTelemetry metrics: with the ``prometheus``
exporter and ``PROMETHEUS_MULTIPROC_DIR`` set, :class:`MultiprocessMetricExporter` writes
this process's measurements into its files through ``prometheus_client``'s own file values
every :data:`WRITE_INTERVAL_S` seconds and at shutdown, under the names
``opentelemetry-exporter-prometheus`` gives them, and ``/metrics`` serves the merge of the
directory (:func:`multiprocess_registry`). Counters, up-down counters and histograms are
written as deltas added to the process's file (so a forked child starts from zero);
observable counters and gauges as the value observed (they observe this process).
Histogram buckets, sums and counts are summed over the processes; up-down counters are
summed over the live processes (``livesum``); gauges keep one series per live process
(``liveall``, a ``pid`` label). As with ``prometheus_client``, the directory must be
emptied before the server starts, and a dead worker's gauges are dropped by
``prometheus_client.multiprocess.mark_process_dead(pid)`` (gunicorn's ``child_exit``).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    MeterProvider,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Metric,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
    Sum,
)
from opentelemetry.sdk.metrics.export import Histogram as HistogramData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from agentotel import semconv as sc
from agentotel._ratelimit import log_throttled

_logger = logging.getLogger("agentotel")

#: prometheus_client's variable: the directory of the per-process metric files.
PROMETHEUS_MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
#: how often each process writes its measurements into its files, in seconds
WRITE_INTERVAL_S = 1.0

_DELTA = AggregationTemporality.DELTA
_CUMULATIVE = AggregationTemporality.CUMULATIVE


def multiproc_dir() -> str | None:
    """``PROMETHEUS_MULTIPROC_DIR`` when it names a directory, else ``None`` (a value that
    is not one gets one warning)."""
    path = os.environ.get(PROMETHEUS_MULTIPROC_DIR, "").strip()
    if not path:
        return None
    if not os.path.isdir(path):
        log_throttled(
            _logger,
            f"agentotel: {PROMETHEUS_MULTIPROC_DIR}={path!r} is not a directory; "
            "/metrics serves this process's measurements only",
        )
        return None
    return path


# --------------------------------------------------------------------------- after a fork


def after_fork_in_child(meter_provider: MeterProvider, providers: Sequence[Any]) -> None:
    """In a child just forked: empty the inherited metric aggregations of
    ``meter_provider`` and put the child's ``process.pid`` on the ``providers``' resources.
    Never raises (the fork is the application's)."""
    try:
        _empty_aggregations(meter_provider)
        _new_reader_locks(meter_provider)
    except Exception:  # noqa: BLE001
        log_throttled(
            _logger,
            "agentotel: cannot empty the metrics inherited from the parent process "
            "(opentelemetry-sdk internals moved); the parent's measurements may be counted "
            "again by this process",
        )
    pid = Resource({sc.PROCESS_PID: os.getpid()})
    for provider in providers:
        update = getattr(provider, "_update_resource", None)
        if callable(update):
            try:
                update(pid)
            except Exception:  # noqa: BLE001
                log_throttled(_logger, "agentotel: cannot set process.pid after a fork")


def reconnect(exporters: Iterable[Any]) -> None:
    """In a child just forked: OTLP exporters with connections of their own.

    An OTLP/HTTP exporter's ``requests`` session keeps its connection to the Collector
    open between exports; the child inherits that socket, and the parent's and the child's
    requests would interleave on it (the Collector answers 400, both lose batches). The
    child's pools are made anew (with the same settings; the inherited sockets are left to
    the parent, not closed). An OTLP/gRPC exporter gets a new channel. Never raises."""
    for exporter in exporters:
        try:
            session = getattr(getattr(getattr(exporter, "_client", None), "_transport", None),
                              "_session", None)
            if session is not None:
                for adapter in session.adapters.values():
                    adapter.init_poolmanager(
                        adapter._pool_connections, adapter._pool_maxsize, block=adapter._pool_block
                    )
                    adapter.proxy_manager = {}
            elif callable(getattr(exporter, "_initialize_channel_and_stub", None)):
                exporter._initialize_channel_and_stub()
        except Exception:  # noqa: BLE001
            log_throttled(
                _logger,
                "agentotel: cannot give an OTLP exporter its own connection after a fork; "
                "its exports may fail in this process",
            )


def _new_reader_locks(meter_provider: MeterProvider) -> None:
    """The readers' export locks new (the SDK restarts a periodic reader's thread after a
    fork, not its lock: held by the parent's thread mid-export at the fork, it would stop
    the child's exports for good); the multiprocess writer starts on its own files."""
    consumer: Any = meter_provider._measurement_consumer
    for reader in list(consumer._reader_storages):
        if hasattr(reader, "_export_lock"):
            reader._export_lock = threading.Lock()
        exporter = getattr(reader, "_exporter", None)
        if isinstance(exporter, MultiprocessMetricExporter):
            exporter.after_fork_in_child()


def _empty_aggregations(meter_provider: MeterProvider) -> None:
    """What the SDK keeps per reader, instrument and attribute set, emptied; its locks new
    (a lock held by another thread of the parent at the fork stays held in the child)."""
    consumer: Any = meter_provider._measurement_consumer
    consumer._lock = threading.Lock()
    for storage in consumer._reader_storages.values():
        storage._lock = threading.RLock()
        for matches in storage._instrument_view_instrument_matches.values():
            for match in matches:
                match._lock = threading.Lock()
                match._attributes_aggregation = {}


# --------------------------------------------------------------------------- the files


def multiprocess_registry(path: str) -> Any:
    """A ``prometheus_client`` registry serving the merge of every process's files."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    return registry


def multiprocess_reader() -> PeriodicExportingMetricReader:
    """The reader that writes this process's measurements into its files."""
    return PeriodicExportingMetricReader(
        MultiprocessMetricExporter(), export_interval_millis=WRITE_INTERVAL_S * 1000
    )


class MultiprocessMetricExporter(MetricExporter):
    """Writes each export into this process's ``prometheus_client`` multiprocess files.

    Names and labels are those ``opentelemetry-exporter-prometheus`` (0.66) serves in one
    process: the metric name sanitized, with the unit suffix (``_seconds``) and, for a
    counter, ``_total``; the attributes and the instrumentation scope (``otel_scope_name``,
    ``otel_scope_version``, ``otel_scope_schema_url``) as labels. Never raises: a failed
    write is one throttled warning and a failed export.
    """

    def __init__(self) -> None:
        super().__init__(
            preferred_temporality={
                Counter: _DELTA,
                UpDownCounter: _DELTA,
                Histogram: _DELTA,
                ObservableCounter: _CUMULATIVE,
                ObservableUpDownCounter: _CUMULATIVE,
                ObservableGauge: _CUMULATIVE,
            }
        )
        self._lock = threading.Lock()
        self._values: dict[tuple[Any, ...], Any] = {}
        self._names: dict[tuple[str, str, str], str] = {}
        self._value_class: Any = None

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        try:
            with self._lock:
                for resource_metrics in metrics_data.resource_metrics:
                    for scope_metrics in resource_metrics.scope_metrics:
                        scope = _scope_labels(scope_metrics.scope)
                        for metric in scope_metrics.metrics:
                            self._write(metric, scope)
            return MetricExportResult.SUCCESS
        except Exception:  # noqa: BLE001 - the application never sees it
            log_throttled(
                _logger, f"agentotel: writing the metrics into {PROMETHEUS_MULTIPROC_DIR} failed"
            )
            return MetricExportResult.FAILURE

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass

    def after_fork_in_child(self) -> None:
        """New lock and file values: the child writes its own files (by pid), and a lock
        the parent held at the fork is not held here."""
        self._lock = threading.Lock()
        self._values = {}
        self._value_class = None

    # -- writing -----------------------------------------------------------------------
    def _write(self, metric: Metric, scope: Mapping[str, str]) -> None:
        data = metric.data
        if isinstance(data, Sum) and data.is_monotonic:
            name = self._family(metric, "counter")
            for point in data.data_points:
                keys, values = _labels(scope, point.attributes)
                value = self._value("counter", "", name, f"{name}_total", keys, values)
                _add_or_set(value, point.value, data.aggregation_temporality)
        elif isinstance(data, Sum):
            name = self._family(metric, "gauge")
            for point in data.data_points:
                keys, values = _labels(scope, point.attributes)
                value = self._value("gauge", "livesum", name, name, keys, values)
                _add_or_set(value, point.value, data.aggregation_temporality)
        elif isinstance(data, Gauge):
            name = self._family(metric, "gauge")
            for point in data.data_points:
                keys, values = _labels(scope, point.attributes)
                self._value("gauge", "liveall", name, name, keys, values).set(point.value)
        elif isinstance(data, HistogramData):
            self._write_histogram(metric, data, scope)

    def _write_histogram(
        self, metric: Metric, data: HistogramData, scope: Mapping[str, str]
    ) -> None:
        name = self._family(metric, "histogram")
        delta = data.aggregation_temporality is _DELTA
        for point in data.data_points:
            keys, values = _labels(scope, point.attributes)
            bounds = [*(_go_float(b) for b in point.explicit_bounds), "+Inf"]
            for bound, count in zip(bounds, point.bucket_counts, strict=False):
                bucket = self._value(
                    "histogram", "", name, f"{name}_bucket", (*keys, "le"), (*values, bound)
                )
                if count or not delta:
                    _add_or_set(bucket, count, data.aggregation_temporality)
            total = self._value("histogram", "", name, f"{name}_sum", keys, values)
            _add_or_set(total, point.sum, data.aggregation_temporality)

    def _family(self, metric: Metric, kind: str) -> str:
        """The Prometheus family name ``opentelemetry-exporter-prometheus`` gives ``metric``."""
        key = (metric.name, metric.unit or "", kind)
        name = self._names.get(key)
        if name is None:
            from opentelemetry.exporter.prometheus._mapping import map_unit, sanitize_full_name
            from prometheus_client.core import (
                CounterMetricFamily,
                GaugeMetricFamily,
                HistogramMetricFamily,
            )

            family = {
                "counter": CounterMetricFamily,
                "gauge": GaugeMetricFamily,
                "histogram": HistogramMetricFamily,
            }[kind]
            unit = map_unit(metric.unit or "")
            name = self._names[key] = family(sanitize_full_name(metric.name), "", unit=unit).name
        return name

    def _value(
        self,
        typ: str,
        mode: str,
        family: str,
        sample: str,
        keys: tuple[str, ...],
        values: tuple[str, ...],
    ) -> Any:
        """The file value of one sample (made, with a 0 in the file, on first use)."""
        key = (typ, mode, sample, keys, values)
        value = self._values.get(key)
        if value is None:
            if self._value_class is None:
                from prometheus_client.values import MultiProcessValue

                self._value_class = MultiProcessValue()  # type: ignore[no-untyped-call]
            value = self._values[key] = self._value_class(
                typ, family, sample, keys, values, "", multiprocess_mode=mode
            )
        return value


def _add_or_set(value: Any, amount: float, temporality: AggregationTemporality) -> None:
    if temporality is _DELTA:
        if amount:
            value.inc(amount)
    else:
        value.set(amount)


def _scope_labels(scope: InstrumentationScope) -> dict[str, str]:
    labels = {
        "otel_scope_name": scope.name or "",
        "otel_scope_version": scope.version or "",
        "otel_scope_schema_url": scope.schema_url or "",
    }
    for key, value in (scope.attributes or {}).items():
        labels[f"otel_scope_{key}"] = _label_value(value)
    return labels


def _labels(
    scope: Mapping[str, str], attributes: Mapping[str, Any] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Label names and values, sorted by name, as the Prometheus exporter makes them."""
    from opentelemetry.exporter.prometheus._mapping import sanitize_attribute

    labels = {sanitize_attribute(key): value for key, value in scope.items()}
    for key, value in (attributes or {}).items():
        labels[sanitize_attribute(key)] = _label_value(value)
    names = tuple(sorted(labels))
    return names, tuple(labels[name] for name in names)


def _go_float(bound: float) -> str:
    """A bucket bound as ``prometheus_client`` writes ``le``."""
    from prometheus_client.utils import floatToGoString

    text: str = floatToGoString(bound)  # type: ignore[no-untyped-call]
    return text


def _label_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)

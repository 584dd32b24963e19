"""Build the tracer, meter and logger providers and their exporters from resolved settings.

Exporters: ``otlp`` (HTTP/protobuf or gRPC, per signal; spans and log records in requests
under the receivers' default 4 MiB, :mod:`agentotel._bounded`), ``console`` (the SDK's JSON),
``agentotel_console`` (trace trees, :mod:`agentotel.console`), ``prometheus`` (metrics,
a ``/metrics`` endpoint served by ``prometheus_client``), ``none``. OTLP exporters get
the endpoint, headers and timeout (seconds) from the settings explicitly; they read the
rest (certificates, compression, ``OTEL_EXPORTER_OTLP_INSECURE``) themselves. Network
I/O happens only on the SDK's background threads (batch span/log processors, periodic
metric reader), never on the application's thread.

When the application already installed SDK providers, they are reused: agentotel adds
its exporters to them only when ``init()`` was asked for exporters by argument.

The pipeline watches itself (:mod:`agentotel._health`): every OTLP exporter and batch
processor built here is handed to the :class:`~agentotel._health.Monitor`, which records
the ``otel.sdk.*`` metrics and keeps what ``Telemetry.health()`` reports. The meter
provider is therefore built first. The Prometheus exporter's port also serves ``/health``
and ``/ready``.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from opentelemetry import _logs as otel_logs
from opentelemetry import metrics as otel_metrics
from opentelemetry import trace as otel_trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    ConsoleLogRecordExporter,
    LogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.environment_variables import OTEL_EXPORTER_OTLP_ENDPOINT
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import Sampler

from agentotel import _prefork
from agentotel import semconv as sc
from agentotel._bounded import SizeBoundedLogRecordExporter, SizeBoundedSpanExporter
from agentotel._health import Monitor, MonitoredTracerProvider, duration_views
from agentotel._probes import serve_metrics_and_probes
from agentotel._ratelimit import log_throttled
from agentotel._selfmetrics import CountingBatchLogRecordProcessor, CountingBatchSpanProcessor
from agentotel._settings import _PER_SIGNAL, Settings, Signal
from agentotel.console import EvaluationConsoleProcessor, TreeConsoleSpanExporter

_logger = logging.getLogger("agentotel")
_E = TypeVar("_E")


@dataclass
class Providers:
    """The providers agentotel uses, and whether it created (and so owns) each."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    owned: dict[str, bool] = field(default_factory=dict)
    prometheus_server: Any = None
    monitor: Monitor = field(default_factory=lambda: Monitor(record_metrics=False))
    #: the ``prometheus`` exporter writes into ``PROMETHEUS_MULTIPROC_DIR`` (pre-fork mode)
    multiprocess: bool = False

    def _each(self) -> list[tuple[str, Any]]:
        return [
            ("traces", self.tracer_provider),
            ("metrics", self.meter_provider),
            ("logs", self.logger_provider),
        ]

    def force_flush(self, timeout_s: float) -> bool:
        """Flush all three providers in parallel; ``False`` if any did not finish in time."""
        millis = int(timeout_s * 1000)
        calls: list[Callable[[], Any]] = [
            functools.partial(p.force_flush, millis) for _, p in self._each()
        ]
        results = _in_parallel(calls, timeout_s)
        return all(r is True for r in results)

    def shutdown(self, timeout_s: float) -> None:
        """Shut down the providers agentotel owns, in parallel, within ``timeout_s`` seconds.

        An OTLP exporter that has never delivered anything and was only ever refused (no
        Collector listening) tries the last batches once, without retrying: exit is not
        held up for the export timeout by an endpoint that is not there."""
        self.monitor.stop_retrying_if_never_delivered()
        calls: list[Callable[[], Any]] = []
        for name, provider in self._each():
            if not self.owned.get(name):
                continue
            if isinstance(provider, MeterProvider):  # only metrics take a bound
                calls.append(functools.partial(provider.shutdown, timeout_millis=timeout_s * 1000))
            else:
                calls.append(provider.shutdown)
        if self.prometheus_server is not None:
            # alongside, not after: stopping its serve loop takes up to its poll interval
            server, _thread = self.prometheus_server
            calls.append(lambda: (server.shutdown(), server.server_close()))
            self.prometheus_server = None
        _in_parallel(calls, timeout_s)
        self.monitor.close()

    def after_fork_in_child(self) -> None:
        """In a worker forked after ``init()``: its own metrics and ``process.pid``
        (:func:`agentotel._prefork.after_fork_in_child`); the parent's ``/metrics`` server
        is not this process's (it has no thread here: the parent serves it), so this
        process's measurements are served only through ``PROMETHEUS_MULTIPROC_DIR``, and
        ``health()`` says so when they are not."""
        if not self.monitor.live:
            return
        self.monitor.after_fork_in_child()
        owned = [p for name, p in self._each() if self.owned.get(name)]
        if self.owned.get("metrics"):
            _prefork.after_fork_in_child(self.meter_provider, owned)
        _prefork.reconnect(self.monitor.exporters())
        if self.prometheus_server is not None:
            server, _thread = self.prometheus_server
            self.prometheus_server = None
            try:
                server.socket.close()  # the child's copy of the parent's listening socket
            except OSError:
                pass
            if not self.multiprocess:
                self.monitor.metrics_unserved(
                    f"this process (pid {os.getpid()}) was forked from the one serving "
                    f"/metrics on port {server.server_port}, which serves only its own "
                    f"measurements; set {_prefork.PROMETHEUS_MULTIPROC_DIR} to serve every "
                    "worker's"
                )


def _in_parallel(calls: Sequence[Callable[[], Any]], timeout_s: float) -> list[Any]:
    """Run calls on daemon threads; wait at most ``timeout_s`` in total; never raise."""
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - shutdown must never raise into the application
            log_throttled(_logger, f"agentotel: flush/shutdown failed ({type(exc).__name__})")
            results[index] = False

    threads = [
        threading.Thread(target=run, args=(i, c), name="agentotel-flush", daemon=True)
        for i, c in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout_s
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))
    return results


def build_resource(settings: Settings) -> Resource:
    """Resource from ``OTEL_RESOURCE_ATTRIBUTES``/``OTEL_SERVICE_NAME`` and arguments.

    Precedence: ``service_name``/``service_version``/``environment`` > ``resource_attributes``
    > the SDK's detectors. ``environment`` sets ``deployment.environment.name``; the
    process's ``process.pid`` is added (a forked worker gets its own, see
    :mod:`agentotel._prefork`), and the SDK adds ``service.instance.id``.
    """
    attributes: dict[str, Any] = dict(settings.resource_attributes or {})
    attributes.setdefault(sc.PROCESS_PID, os.getpid())
    for key, value in (
        (sc.SERVICE_NAME, settings.service_name),
        (sc.SERVICE_VERSION, settings.service_version),
        (sc.DEPLOYMENT_ENVIRONMENT_NAME, settings.environment),
    ):
        if value is not None:
            attributes[key] = value
    return Resource.create(attributes)


#: Where OTLP goes when no endpoint is configured (OTLP exporter specification).
DEFAULT_ENDPOINTS = {"http/protobuf": "http://localhost:4318", "grpc": "http://localhost:4317"}


def _otlp_kwargs(settings: Settings, signal: Signal) -> dict[str, Any]:
    """Endpoint, headers and timeout (seconds) passed explicitly, so that the Python
    exporters' own reading of the variables (a timeout in seconds) never applies."""
    otlp = settings.otlp(signal)
    endpoint = otlp.endpoint
    if endpoint is None:
        base = DEFAULT_ENDPOINTS[otlp.protocol]
        endpoint = base if otlp.protocol == "grpc" else f"{base}/v1/{signal}"
    kwargs: dict[str, Any] = {"endpoint": endpoint, "timeout": otlp.timeout_s}
    if otlp.headers is not None:
        kwargs["headers"] = dict(otlp.headers)
    return kwargs


def otlp_span_exporter(settings: Settings, monitor: Monitor | None = None) -> SpanExporter:
    if settings.traces.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[assignment]
            OTLPSpanExporter,
        )
    return _watched(OTLPSpanExporter(**_otlp_kwargs(settings, "traces")), settings, "traces",
                    monitor)


def otlp_metric_reader(settings: Settings, monitor: Monitor | None = None) -> MetricReader:
    if settings.metrics.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (  # type: ignore[assignment]
            OTLPMetricExporter,
        )
    exporter = _watched(
        OTLPMetricExporter(**_otlp_kwargs(settings, "metrics")), settings, "metrics", monitor
    )
    return PeriodicExportingMetricReader(
        exporter, export_interval_millis=settings.metric_export_interval_s * 1000
    )


def otlp_log_exporter(settings: Settings, monitor: Monitor | None = None) -> LogRecordExporter:
    if settings.logs.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    else:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import (  # type: ignore[assignment]
            OTLPLogExporter,
        )
    return _watched(OTLPLogExporter(**_otlp_kwargs(settings, "logs")), settings, "logs", monitor)


def _watched(exporter: _E, settings: Settings, signal: Signal, monitor: Monitor | None) -> _E:
    """``exporter``, with the monitor's export hook in it."""
    if monitor is not None:
        otlp = settings.otlp(signal)
        monitor.watch_exporter(
            signal,
            exporter,
            protocol=otlp.protocol,
            endpoint=str(_otlp_kwargs(settings, signal)["endpoint"]),
            endpoint_source=endpoint_source(settings, signal),
        )
    return exporter


def endpoint_source(settings: Settings, signal: Signal) -> str:
    """What set ``signal``'s OTLP endpoint: the variable, ``init(endpoint=...)``, or
    nothing (the default, which ``OTEL_EXPORTER_OTLP_ENDPOINT`` changes)."""
    endpoint = settings.otlp(signal).endpoint
    own = _PER_SIGNAL["ENDPOINT"][signal]
    general = os.environ.get(OTEL_EXPORTER_OTLP_ENDPOINT, "").strip().rstrip("/")
    if endpoint is None:
        return f"{OTEL_EXPORTER_OTLP_ENDPOINT} (unset: the default)"
    if os.environ.get(own, "").strip().rstrip("/") == endpoint:
        return own
    if general and endpoint in (general, f"{general}/v1/{signal}"):
        return OTEL_EXPORTER_OTLP_ENDPOINT
    return "init(endpoint=...)"


def batch_span_processor(
    settings: Settings, exporter: SpanExporter, meter_provider: MeterProvider | None = None
) -> BatchSpanProcessor:
    """A ``BatchSpanProcessor`` sized by the settings (never by the SDK's own reading of
    ``OTEL_BSP_*``, which raises on an inconsistent pair), counting what it queues (its
    drops counted exactly: :class:`~agentotel._selfmetrics.CountingBatchSpanProcessor`)."""
    return CountingBatchSpanProcessor(
        exporter,
        max_queue_size=settings.bsp_max_queue_size,
        schedule_delay_millis=settings.bsp_schedule_delay_s * 1000,
        max_export_batch_size=settings.bsp_max_export_batch_size,
        meter_provider=meter_provider,
    )


def batch_log_record_processor(
    settings: Settings, exporter: LogRecordExporter, meter_provider: MeterProvider | None = None
) -> BatchLogRecordProcessor:
    """A ``BatchLogRecordProcessor`` sized by the settings (``OTEL_BLRP_*``), counting what
    it queues (:class:`~agentotel._selfmetrics.CountingBatchLogRecordProcessor`)."""
    return CountingBatchLogRecordProcessor(
        exporter,
        max_queue_size=settings.blrp_max_queue_size,
        schedule_delay_millis=settings.blrp_schedule_delay_s * 1000,
        max_export_batch_size=settings.blrp_max_export_batch_size,
        meter_provider=meter_provider,
    )


def span_processors(
    settings: Settings,
    wrap: Callable[[SpanExporter], SpanExporter],
    trees: list[TreeConsoleSpanExporter] | None = None,
    monitor: Monitor | None = None,
    meter_provider: MeterProvider | None = None,
) -> list[SpanProcessor]:
    """One processor per trace exporter: batching for the network, simple for the console;
    the trace-tree exporters made are added to ``trees``; the OTLP exporter and its
    processor are watched by ``monitor``."""
    processors: list[SpanProcessor] = []
    for name in settings.traces_exporter:
        if name == "otlp":
            otlp = SizeBoundedSpanExporter(otlp_span_exporter(settings, monitor))
            batch = batch_span_processor(settings, wrap(otlp), meter_provider)
            if monitor is not None:
                monitor.watch_processor("traces", batch)
            processors.append(batch)
        elif name == "console":
            processors.append(
                SimpleSpanProcessor(wrap(ConsoleSpanExporter(**console_out(settings))))
            )
        elif name == "agentotel_console":
            tree = TreeConsoleSpanExporter(**console_out(settings))
            if trees is not None:
                trees.append(tree)
            processors.append(SimpleSpanProcessor(wrap(tree)))
    return processors


def metric_readers(
    settings: Settings, monitor: Monitor | None = None
) -> tuple[list[MetricReader], Any, bool]:
    """The metric readers, the Prometheus ``(server, thread)`` (or ``None``), and whether
    the Prometheus exporter is in pre-fork (multiprocess) mode; the server answers
    ``/health`` and ``/ready`` from ``monitor`` too.

    With ``PROMETHEUS_MULTIPROC_DIR`` set, this process writes its measurements into that
    directory and ``/metrics`` serves every process's (:mod:`agentotel._prefork`); a port
    already taken is then another worker of the same server serving them all."""
    readers: list[MetricReader] = []
    server = None
    multiproc_dir = _prefork.multiproc_dir() if "prometheus" in settings.metrics_exporter else None
    for name in settings.metrics_exporter:
        if name == "otlp":
            readers.append(otlp_metric_reader(settings, monitor))
        elif name == "console":
            readers.append(
                PeriodicExportingMetricReader(
                    ConsoleMetricExporter(**console_out(settings)),
                    export_interval_millis=settings.metric_export_interval_s * 1000,
                )
            )
        elif name == "prometheus":
            # first: MeterProvider.shutdown() stops readers one after another against one
            # deadline, and a push reader facing a dead endpoint may use all of it
            readers.insert(
                0,
                _prefork.multiprocess_reader() if multiproc_dir else _pull_prometheus_reader(),
            )
            monitor = monitor or Monitor(record_metrics=False)
            registry = _prefork.multiprocess_registry(multiproc_dir) if multiproc_dir else None
            address = f"{settings.prometheus_host}:{settings.prometheus_port}"
            try:
                server = serve_metrics_and_probes(
                    settings.prometheus_host, settings.prometheus_port, monitor.health, registry
                )
            except OSError as exc:
                if multiproc_dir:
                    _logger.info(
                        "agentotel: /metrics on %s is served by another process; this "
                        "process's measurements are written to %s, which it serves",
                        address,
                        multiproc_dir,
                    )
                else:
                    _logger.warning(
                        "agentotel: cannot serve Prometheus /metrics on %s: %s", address, exc
                    )
                    monitor.metrics_unserved(
                        f"this process's measurements are not served: /metrics cannot be "
                        f"served on {address} ({exc.strerror or exc}); on a pre-fork server "
                        f"set {_prefork.PROMETHEUS_MULTIPROC_DIR} to serve every worker's"
                    )
    return readers, server, multiproc_dir is not None


def _pull_prometheus_reader() -> MetricReader:
    """A ``PrometheusMetricReader`` that serves each sample once per scrape.

    Upstream (opentelemetry-exporter-prometheus 0.66b2) queues one copy of the metric data
    per ``collect()``: a ``force_flush()`` leaves a copy that the next scrape returns in
    addition to its own, and two concurrent scrapes interleave — both duplicate samples.
    A pull reader has nothing to flush, so ``force_flush`` is a no-op here, and scrapes
    are serialized.
    """
    from opentelemetry.exporter.prometheus import PrometheusMetricReader

    class _PullReader(PrometheusMetricReader):
        def __init__(self) -> None:
            super().__init__()
            lock = threading.Lock()
            collector = self._collector
            collect = collector.collect

            def collect_once() -> list[Any]:
                with lock:
                    return list(collect())

            collector.collect = collect_once  # type: ignore[method-assign]

        def force_flush(self, timeout_millis: float = 10_000) -> bool:
            return True

    return _PullReader()


def log_processors(
    settings: Settings,
    wrap: Callable[[LogRecordExporter], LogRecordExporter],
    monitor: Monitor | None = None,
    meter_provider: MeterProvider | None = None,
) -> list[Any]:
    processors: list[Any] = []
    for name in settings.logs_exporter:
        if name == "otlp":
            otlp = SizeBoundedLogRecordExporter(otlp_log_exporter(settings, monitor))
            batch = batch_log_record_processor(settings, wrap(otlp), meter_provider)
            if monitor is not None:
                monitor.watch_processor("logs", batch)
            processors.append(batch)
        elif name == "console":
            processors.append(
                SimpleLogRecordProcessor(
                    wrap(ConsoleLogRecordExporter(**console_out(settings)))
                )
            )
    return processors


def console_out(settings: Settings) -> dict[str, Any]:
    """The console exporters' ``out``: standard error with
    ``AGENTOTEL_CONSOLE_STREAM=stderr``, else their default (standard output)."""
    return {"out": sys.stderr} if settings.console_stream == "stderr" else {}


def _same(exporter: _E) -> _E:
    return exporter


def build(
    settings: Settings,
    *,
    explicit_exporters: frozenset[str],
    wrap_spans: Callable[[SpanExporter], SpanExporter] | None = None,
    wrap_logs: Callable[[LogRecordExporter], LogRecordExporter] | None = None,
    span_pipeline: Callable[[list[SpanProcessor]], SpanProcessor] | None = None,
    wrap_sampler: Callable[[Sampler], Sampler] | None = None,
) -> Providers:
    """Build (or reuse) the three providers and install new ones as the global providers.

    Args:
        settings: the resolved settings.
        explicit_exporters: the signals whose exporters were given as ``init()``
            arguments; only those are added to providers the application installed.
        wrap_spans / wrap_logs: applied to every exporter (redaction).
        span_pipeline: one processor that hands spans on to the export processors it is
            given (what agentotel adds to every GenAI span).
        wrap_sampler: applied to the sampler of a tracer provider agentotel creates (the
            one ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG`` chose), before any
            tracer exists; an application's own provider keeps its sampler.
    """
    resource = build_resource(settings)
    owned: dict[str, bool] = {}
    monitor = Monitor(record_metrics=settings.pipeline_metrics)

    # Metrics first: the other providers' processors and exporters record on it.
    server = None
    multiprocess = False
    current_mp = otel_metrics.get_meter_provider()
    if isinstance(current_mp, MeterProvider):
        meter_provider = current_mp
        owned["metrics"] = False
        monitor.attach(meter_provider)
        if "metrics" in explicit_exporters:
            _logger.warning(
                "agentotel: the application's MeterProvider is reused; the OpenTelemetry SDK "
                "cannot add metric readers to an existing MeterProvider, so metrics_exporter "
                "is ignored"
            )
    else:
        readers, server, multiprocess = metric_readers(settings, monitor)
        meter_provider = MeterProvider(
            metric_readers=readers,
            resource=resource,
            shutdown_on_exit=False,
            views=duration_views(),
        )
        monitor.attach(meter_provider)
        for reader in readers:
            monitor.enable_reader_metrics(reader)
        otel_metrics.set_meter_provider(meter_provider)
        owned["metrics"] = True

    # A provider the application installed is reused; agentotel's exporters go on a provider
    # it creates, and on a reused one only when init() was given them as arguments.
    current_tp = otel_trace.get_tracer_provider()
    if isinstance(current_tp, TracerProvider):
        tracer_provider = current_tp
    else:
        tracer_provider = MonitoredTracerProvider(
            resource=resource, shutdown_on_exit=False, meter_provider=meter_provider
        )
        tracer_provider.monitor = monitor
    owned["traces"] = tracer_provider is not current_tp
    if owned["traces"] and wrap_sampler is not None:
        tracer_provider.sampler = wrap_sampler(tracer_provider.sampler)
    trees: list[TreeConsoleSpanExporter] = []
    processors: list[SpanProcessor] = []
    if owned["traces"] or "traces" in explicit_exporters:
        processors = span_processors(
            settings, wrap_spans or _same, trees, monitor, meter_provider
        )
    if span_pipeline is not None and not owned["traces"]:
        _in_front(tracer_provider, span_pipeline, processors)
    else:
        if span_pipeline is not None:
            processors = [span_pipeline(processors)]
        for processor in processors:
            tracer_provider.add_span_processor(processor)
    if owned["traces"]:
        otel_trace.set_tracer_provider(tracer_provider)

    current_lp = otel_logs.get_logger_provider()
    if isinstance(current_lp, LoggerProvider):
        logger_provider = current_lp
    else:
        logger_provider = LoggerProvider(
            resource=resource, shutdown_on_exit=False, meter_provider=meter_provider
        )
        monitor.enable_logger_metrics(logger_provider)
    owned["logs"] = logger_provider is not current_lp
    if owned["logs"] or "logs" in explicit_exporters:
        for log_processor in log_processors(
            settings, wrap_logs or _same, monitor, meter_provider
        ):
            logger_provider.add_log_record_processor(log_processor)
    for tree in trees:  # evaluation results shown in the trace trees
        logger_provider.add_log_record_processor(EvaluationConsoleProcessor(tree))
    if owned["logs"]:
        otel_logs.set_logger_provider(logger_provider)

    providers = Providers(
        tracer_provider,
        meter_provider,
        logger_provider,
        owned,
        server,
        monitor,
        multiprocess,
    )
    _follow_forks(providers)
    return providers


def _in_front(
    provider: TracerProvider,
    span_pipeline: Callable[[list[SpanProcessor]], SpanProcessor],
    processors: list[SpanProcessor],
) -> None:
    """Put agentotel's span step in front of the span processors of a tracer provider it
    did not create (and of ``processors``, the exporters it was asked for): each span
    reaches the application's exporters once, with its cost, as from agentotel's own
    provider. The SDK offers no API to insert a processor first: where its processor list
    is not where opentelemetry-sdk 1.45 keeps it, the step is only added after them."""
    multi: Any = getattr(provider, "_active_span_processor", None)
    lock = getattr(multi, "_lock", None)
    if not isinstance(getattr(multi, "_span_processors", None), tuple) or lock is None:
        log_throttled(
            _logger,
            "agentotel: the application's TracerProvider keeps its span processors where "
            "opentelemetry-sdk 1.45 does not; agentotel's span step runs after them",
        )
        provider.add_span_processor(span_pipeline(processors))
        return
    with lock:
        multi._span_processors = (span_pipeline([*multi._span_processors, *processors]),)


def _follow_forks(providers: Providers) -> None:
    """Call ``providers.after_fork_in_child()`` in every child forked from now on (while
    ``providers`` exist: the hook holds them weakly)."""
    if not hasattr(os, "register_at_fork"):
        return
    method = weakref.WeakMethod(providers.after_fork_in_child)

    def in_child() -> None:
        bound = method()
        if bound is not None:
            bound()

    os.register_at_fork(after_in_child=in_child)

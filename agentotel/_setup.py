"""``init()``, ``shutdown()`` and the :class:`Telemetry` handle: settings -> providers ->
the runtime every operation uses, logging, redaction, the instrumentations (``threading``,
the HTTP clients, the GenAI libraries), the process metrics, and the pipeline's health
(``health()``, the ``/health`` and ``/ready`` probes).
"""

from __future__ import annotations

import atexit
import functools
import inspect
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from opentelemetry import metrics as otel_metrics
from opentelemetry import trace as otel_trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.trace import SpanProcessor
from typing_extensions import Unpack

from agentotel import _runtime, integrations
from agentotel import logging as _logging
from agentotel import semconv as sc
from agentotel._errors import warn_failure
from agentotel._health import Health, disabled_health
from agentotel._instruments import Instruments
from agentotel._probes import ASGIApp, WSGIApp, asgi_app, wsgi_app
from agentotel._providers import Providers, build
from agentotel._ratelimit import throttle_loggers
from agentotel._runtime import Runtime
from agentotel._settings import SIGNALS, InitArguments, Settings, resolve
from agentotel._version import __version__
from agentotel.cost import PriceTable, load_price_table
from agentotel.redaction import (
    DEFAULT_DETECTORS,
    RedactingLogRecordExporter,
    RedactingSpanExporter,
    Redactor,
)

_logger = logging.getLogger("agentotel")
_lock = threading.Lock()
_telemetry: Telemetry | None = None
_F = TypeVar("_F", bound=Callable[..., Any])


class Telemetry:
    """The handle :func:`init` returns: the settings, the providers, flush and shutdown."""

    def __init__(
        self,
        settings: Settings,
        providers: Providers | None,
        instrumented: integrations.Instrumentations | None = None,
        pipeline: integrations.GenAISpanProcessor | None = None,
        system_metrics: integrations.SystemMetrics | None = None,
    ) -> None:
        self.settings = settings
        self._providers = providers
        self._instrumented = instrumented
        self._pipeline = pipeline
        self._system_metrics = system_metrics
        self._closed = False
        #: who built the pipeline: ``init()`` or ``opentelemetry-instrument`` (the distro)
        self.set_up_by = "init()"

    @property
    def instrumented(self) -> list[str]:
        """The instrumentations enabled so far, by name (``openai``, ``httpx2``, ...); the
        others chosen are enabled when the application imports their library."""
        return self._instrumented.names if self._instrumented else []

    @property
    def system_metrics(self) -> list[str]:
        """The process (and host) metrics reported, by OpenTelemetry name; empty when the
        ``system_metrics`` setting is ``off`` or after shutdown."""
        return self._system_metrics.names if self._system_metrics else []

    @property
    def tracer_provider(self) -> otel_trace.TracerProvider:
        """The tracer provider in use (a no-op one when the SDK is disabled)."""
        return (
            self._providers.tracer_provider if self._providers else otel_trace.NoOpTracerProvider()
        )

    @property
    def meter_provider(self) -> otel_metrics.MeterProvider:
        """The meter provider in use (a no-op one when the SDK is disabled)."""
        return (
            self._providers.meter_provider if self._providers else otel_metrics.NoOpMeterProvider()
        )

    @property
    def logger_provider(self) -> LoggerProvider | None:
        """The SDK logger provider in use, or ``None`` when the SDK is disabled."""
        return self._providers.logger_provider if self._providers else None

    def add_span_processor(self, processor: SpanProcessor) -> None:
        """Hand every span to ``processor`` as agentotel exports it: one per model request,
        with its cost (processors added to the tracer provider directly see the spans of
        other instrumentations before agentotel adds their cost). Never raises.

        Like every span processor it sees the spans that are recording, which includes
        the inference spans of traces the sampler dropped, recorded only to count their
        cost (``span.context.trace_flags.sampled`` is false; the SDK's export processors
        skip them)."""
        try:
            if self._pipeline is not None:
                self._pipeline.add(processor)
            elif self._providers is not None:
                self._providers.tracer_provider.add_span_processor(processor)
        except Exception:  # noqa: BLE001
            warn_failure("add a span processor")

    @property
    def export_timeout_s(self) -> float:
        """The longest OTLP export timeout of the three signals, in seconds."""
        return max(self.settings.otlp(signal).timeout_s for signal in SIGNALS)

    def health(self) -> Health:
        """The telemetry pipeline's health now: an :class:`agentotel.Health`.

        Per OTLP signal (``traces``, ``metrics``, ``logs``; signals exported otherwise are
        not watched): the last successful export (Unix time, seconds), consecutive failed
        exports, the batch queue's size and capacity, items exported, failed and dropped,
        by ``error.type``. Overall ``status`` ``ok`` / ``degraded`` / ``down`` with the
        ``reason``, ``live`` (the providers are running) and ``ready`` (the last export of
        each OTLP signal succeeded). Computed from counters in memory: no I/O, never raises.
        With ``OTEL_SDK_DISABLED=true``: ``ok``, no signals.

        The counts are those of the ``otel.sdk.*`` metrics (OpenTelemetry semantic
        conventions, "OTel SDK metrics"), kept even with ``pipeline_metrics=False``.
        """
        if self._providers is None:
            return disabled_health()
        return self._providers.monitor.health()

    def wsgi_app(self) -> WSGIApp:
        """A WSGI application serving ``GET /health`` (liveness) and ``GET /ready``
        (readiness) relative to where it is mounted: JSON bodies (``health().to_dict()``),
        ``200`` or ``503``; ``404`` for other paths. Mount it in the application's server,
        e.g. ``DispatcherMiddleware(app, {"/telemetry": telemetry.wsgi_app()})``. With the
        ``prometheus`` metrics exporter the same probes are also served beside ``/metrics``.
        """
        return wsgi_app(self.health)

    def asgi_app(self) -> ASGIApp:
        """The ASGI 3 twin of :meth:`wsgi_app`, e.g. ``app.mount("/telemetry",
        telemetry.asgi_app())`` in Starlette or FastAPI."""
        return asgi_app(self.health)

    def force_flush(self, timeout_s: float = 10.0) -> bool:
        """Export everything buffered; wait at most ``timeout_s`` seconds.

        Returns ``False`` if some provider did not finish in time. Never raises.
        """
        if self._providers is None or self._closed:
            return True
        try:
            return self._providers.force_flush(timeout_s)
        except Exception:  # noqa: BLE001
            warn_failure("flush")
            return False

    def shutdown(self) -> None:
        """Flush and shut down the providers agentotel created; idempotent, never raises.

        The providers get the export timeout (``OTEL_EXPORTER_OTLP_TIMEOUT``) and are waited
        for that long at most: a dead endpoint cannot hang the caller, or interpreter exit,
        for longer than the timeout plus a moment.
        """
        global _telemetry
        with _lock:
            if self._closed:
                return
            self._closed = True
            if _telemetry is self:
                _telemetry = None
        try:
            _runtime.install(_disabled_runtime())
            if self._instrumented is not None:
                self._instrumented.close()
            if self._providers is not None:
                try:
                    self._providers.shutdown(self.export_timeout_s)
                finally:
                    # after the last export, which carries the final process metrics and
                    # whose failure lines still get trace ids
                    if self._system_metrics is not None:
                        self._system_metrics.close()
                    if self.settings.configure_logging:
                        _logging.unconfigure()
        except Exception:  # noqa: BLE001
            warn_failure("shut down")


class _Pipeline:
    """Makes the :class:`~agentotel.integrations.GenAISpanProcessor` ahead of the export
    processors when the providers are built, and keeps it (there is none when the
    application's own tracer provider is reused without exporters)."""

    def __init__(self, capture: str) -> None:
        self.capture = capture
        self.processor: integrations.GenAISpanProcessor | None = None

    def append_new(self, processors: list[SpanProcessor]) -> SpanProcessor:
        self.processor = integrations.GenAISpanProcessor(processors, self.capture)
        return self.processor


def _disabled_runtime() -> Runtime:
    previous = _runtime.RUNTIME
    return Runtime(
        otel_trace.NoOpTracer(),
        Instruments(otel_metrics.NoOpMeter(sc.INSTRUMENTATION_SCOPE)),
        previous.prices if previous is not None else PriceTable({}),
        disabled=True,
    )


def init(service_name: str | None = None, **arguments: Unpack[InitArguments]) -> Telemetry:
    """Set up OpenTelemetry for the process and return the :class:`Telemetry` handle.

    Every keyword is a setting of :class:`agentotel._settings.Settings`, the one table of
    settings (the configuration reference): the argument wins over its ``OTEL_*`` /
    ``AGENTOTEL_*`` variables, which win over the default; ``None`` means "not given".

    Providers the application already installed are reused (exporters are added to them
    only when given as arguments). A second call returns the same handle with a warning.
    With ``OTEL_SDK_DISABLED=true`` everything is a no-op. Providers are flushed and shut
    down at interpreter exit, bounded by the export timeout plus one second.

    Raises:
        ConfigError: an unknown or invalid argument (names it, the bad value and the
            accepted values). An invalid environment value only warns and is ignored
            (OpenTelemetry configuration specification). Nothing already recorded is lost.
    """
    global _telemetry
    given: dict[str, Any] = {"service_name": service_name, **arguments}
    given = {name: value for name, value in given.items() if value is not None}
    with _lock:
        if _telemetry is not None:
            resolve(given)  # an invalid argument raises, as on the first call
            _attach_again(_telemetry, given)
            return _telemetry
        settings = resolve(given)
        integrations.check_names(settings.instrumentations)
        if settings.sdk_disabled:
            _runtime.install(_disabled_runtime())
            _telemetry = Telemetry(settings, None)
            return _telemetry
        prices = settings.prices if settings.prices is not None else load_price_table()
        redactor = _redactor(settings)
        pipeline = _Pipeline(settings.capture_content)
        providers = build(
            settings,
            explicit_exporters=frozenset(s for s in SIGNALS if f"{s}_exporter" in given),
            wrap_spans=(lambda e: RedactingSpanExporter(e, redactor)) if redactor else None,
            wrap_logs=(lambda e: RedactingLogRecordExporter(e, redactor)) if redactor else None,
            span_pipeline=pipeline.append_new,
            wrap_sampler=integrations.record_dropped_inference,
        )
        scope = sc.INSTRUMENTATION_SCOPE
        _runtime.install(
            Runtime(
                providers.tracer_provider.get_tracer(scope, __version__),
                Instruments(
                    providers.meter_provider.get_meter(scope, __version__),
                    settings.metric_cardinality_limit,
                ),
                prices,
                capture=settings.capture_content,
                content_max_length=settings.content_max_length,
                event_logger=providers.logger_provider.get_logger(scope, __version__),
            )
        )
        throttle_loggers("opentelemetry")
        if settings.configure_logging:
            service = providers.tracer_provider.resource.attributes.get(sc.SERVICE_NAME)
            _logging.configure(
                logger_provider=providers.logger_provider,
                service_name=str(service or "unknown_service"),
                log_format=settings.log_format,  # type: ignore[arg-type]
                level=settings.log_level,
                redact=redactor.redact if redactor else None,
            )
        instrumented = integrations.Instrumentations(
            integrations.chosen(settings.instrumentations, settings.disabled_instrumentations),
            tracer_provider=providers.tracer_provider,
            meter_provider=providers.meter_provider,
            logger_provider=providers.logger_provider,
        )
        system_metrics = integrations.enable_system_metrics(
            providers.meter_provider, settings.system_metrics
        )
        _telemetry = Telemetry(
            settings, providers, instrumented, pipeline.processor, system_metrics
        )
        atexit.register(_telemetry.shutdown)
        _say_what_was_found(providers)
        return _telemetry


def _redactor(settings: Settings) -> Redactor | None:
    """The redactor ``settings`` ask for, or ``None`` when redaction is ``off``."""
    if settings.redact == "off":
        return None
    detectors = DEFAULT_DETECTORS if settings.redact == "default" else settings.redact
    return Redactor(
        detectors, extra_patterns=settings.redact_patterns, allow_keys=settings.redact_allow_keys
    )


def shutdown() -> None:
    """Flush and shut down what :func:`init` set up (bounded by the export timeout + 1 s).

    Never raises.
    """
    handle = _telemetry
    if handle is not None:
        handle.shutdown()


# --------------------------------------------------------------------------- process models

#: the arguments a second ``init()`` applies to the running pipeline (the resource's)
_RESOURCE_ARGUMENTS = ("service_name", "service_version", "environment", "resource_attributes")


def _attach_again(handle: Telemetry, given: dict[str, Any]) -> None:
    """``init()`` when agentotel's pipeline already runs (an earlier ``init()``, or
    ``opentelemetry-instrument`` with agentotel's distro): no second pipeline. The resource
    arguments are applied to the providers agentotel built (``service.name`` of a child
    process started under ``opentelemetry-instrument``, which inherits its parent's
    variables); the others cannot change a built pipeline and are named. One line."""
    applied = [name for name in _RESOURCE_ARGUMENTS if name in given]
    ignored = sorted(name for name in given if name not in _RESOURCE_ARGUMENTS)
    if applied and handle._providers is not None:
        from opentelemetry.sdk.resources import Resource

        from agentotel._providers import build_resource

        resource = Resource(
            {
                key: value
                for key, value in build_resource(resolve(given)).attributes.items()
                if key != sc.SERVICE_NAME or "service_name" in given
            }
        )
        for name, provider in handle._providers._each():
            update = getattr(provider, "_update_resource", None)
            if handle._providers.owned.get(name) and callable(update):
                update(resource)
    line = (
        f"agentotel: init() was called again: agentotel's pipeline is already running "
        f"(set up by {handle.set_up_by}); using it, no second pipeline"
    )
    if applied:
        line += "; applied " + ", ".join(applied)
    if ignored:
        line += (
            "; not applied (fixed once the pipeline is built; set them as OTEL_* / "
            "AGENTOTEL_* variables): " + ", ".join(ignored)
        )
    _logger.warning(line)


def _say_what_was_found(providers: Providers) -> None:
    """One line when ``init()`` attached to providers the application (or another
    OpenTelemetry setup) installed, instead of creating its own."""
    found = [name for name, owned in providers.owned.items() if not owned]
    if found:
        _logger.info(
            "agentotel: OpenTelemetry was already set up here; attached to its %s "
            "provider(s) (agentotel's span processing in front of its span processors; "
            "its exporters kept, agentotel's added only when given as init() arguments)",
            ", ".join(found),
        )


def flush(timeout_s: float = 10.0) -> bool:
    """Export what is buffered now: spans, metrics and log records, in parallel.

    Waits at most ``timeout_s`` seconds in all; returns ``False`` if something was not
    exported in time (``True`` before ``init()`` or after ``shutdown()``). Never raises.
    For the end of a serverless invocation, a job or a CLI command; see :func:`serverless`.
    """
    handle = _telemetry
    return True if handle is None else handle.force_flush(timeout_s)


def serverless(
    handler: _F | None = None, *, timeout_s: float | None = None
) -> Any:
    """Decorate a serverless function's handler: after each invocation, returned or
    raised, :func:`flush` traces, metrics and log records before the platform freezes
    the process (AWS Lambda, Google Cloud Functions, Azure Functions).

    ``@agentotel.serverless`` or ``@agentotel.serverless(timeout_s=2)``; sync or
    ``async def`` handlers. The flush is bounded by ``timeout_s`` seconds (default: the
    OTLP export timeout) and, when the handler's second argument is an AWS Lambda context,
    by the invocation's remaining time (``context.get_remaining_time_in_millis()``). The
    handler's result or exception is returned or raised unchanged. Call ``init()`` at
    module level, outside the handler: once per cold start.
    """

    def decorate(function: _F) -> _F:
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                import asyncio  # loaded already: the handler runs in its event loop

                try:
                    return await function(*args, **kwargs)
                finally:
                    await asyncio.get_running_loop().run_in_executor(
                        None, _flush_after_invocation, args, timeout_s
                    )

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            finally:
                _flush_after_invocation(args, timeout_s)

        return run  # type: ignore[return-value]

    return decorate if handler is None else decorate(handler)


def _flush_after_invocation(args: tuple[Any, ...], timeout_s: float | None) -> None:
    handle = _telemetry
    if handle is None:
        return
    bound = handle.export_timeout_s if timeout_s is None else timeout_s
    try:
        remaining = args[1].get_remaining_time_in_millis() / 1000 if len(args) > 1 else None
    except Exception:  # noqa: BLE001 - not a Lambda context
        remaining = None
    if isinstance(remaining, (int, float)):
        bound = max(min(bound, remaining), 0.0)
    start = time.monotonic()
    if not handle.force_flush(bound):
        _logger.warning(
            "agentotel: the telemetry of this invocation was not all exported within "
            "%.1f s (waited %.1f s)", bound, time.monotonic() - start,
        )

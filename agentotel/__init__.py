"""agentotel: OpenTelemetry-native instrumentation for agentic AI applications.

Call :func:`init` once at start-up; then wrap the application's work in the five
instruments — :func:`workflow`, :func:`agent`, :func:`llm`, :func:`tool`,
:func:`guardrail` — each a span plus the matching metrics, named after the OpenTelemetry
GenAI semantic conventions (names in :mod:`agentotel.semconv`). Each instrument is a
context manager and a decorator (sync, ``async def``, generators, async generators).
"""

from __future__ import annotations

import atexit
import logging as _stdlib_logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, overload

from opentelemetry import metrics as otel_metrics
from opentelemetry import trace as otel_trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from agentotel import _operations, semconv
from agentotel import logging as _logging
from agentotel._config import SEMCONV_STABILITY_OPT_IN, ConfigError, Settings, resolve
from agentotel._instruments import Instruments
from agentotel._operations import Agent, Guardrail, LLMCall, Operation, Runtime, Tool, Workflow
from agentotel._providers import Providers, build
from agentotel._ratelimit import throttle_loggers
from agentotel.cost import load_price_table
from agentotel.logging import get_logger
from agentotel.redaction import (
    DEFAULT_DETECTORS,
    RedactingLogRecordExporter,
    RedactingSpanExporter,
    Redactor,
)

__all__ = [
    "Agent",
    "ConfigError",
    "Guardrail",
    "LLMCall",
    "Operation",
    "Telemetry",
    "Tool",
    "Workflow",
    "agent",
    "get_logger",
    "guardrail",
    "init",
    "llm",
    "shutdown",
    "tool",
    "workflow",
]
__version__ = "0.1.0"

_logger = _stdlib_logging.getLogger("agentotel")
_F = TypeVar("_F", bound=Callable[..., Any])
_E = TypeVar("_E")
_lock = threading.Lock()
_telemetry: Telemetry | None = None


class Telemetry:
    """The handle :func:`init` returns: the providers, flush and shutdown."""

    def __init__(self, settings: Settings, providers: Providers | None) -> None:
        self.settings = settings
        self._providers = providers
        self._closed = False

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

    @property
    def export_timeout_s(self) -> float:
        """The longest OTLP export timeout of the three signals, in seconds."""
        return float(max(self.settings.signal("timeout", s) for s in ("traces", "metrics", "logs")))

    def force_flush(self, timeout_s: float = 10.0) -> bool:
        """Export everything buffered; wait at most ``timeout_s`` seconds.

        Returns ``False`` if some provider did not finish in time. Never raises.
        """
        if self._providers is None or self._closed:
            return True
        return self._providers.force_flush(timeout_s)

    def shutdown(self) -> None:
        """Flush and shut down the providers agentotel created; idempotent, never raises.

        Bounded by the export timeout (``OTEL_EXPORTER_OTLP_TIMEOUT``, seconds): a dead
        endpoint cannot hang the caller (or interpreter exit) for longer than that.
        """
        global _telemetry
        with _lock:
            if self._closed:
                return
            self._closed = True
            if _telemetry is self:
                _telemetry = None
        _operations.install(_disabled_runtime())
        if self._providers is not None:
            if self.settings.configure_logging:
                _logging.unconfigure()
            self._providers.shutdown(self.export_timeout_s)


def _disabled_runtime() -> Runtime:
    return Runtime(
        otel_trace.NoOpTracer(),
        Instruments(otel_metrics.NoOpMeter(semconv.INSTRUMENTATION_SCOPE)),
        _operations.RUNTIME.prices,  # the table already loaded; nothing to re-read
        disabled=True,
    )


def init(
    service_name: str | None = None,
    *,
    service_version: str | None = None,
    environment: str | None = None,
    resource_attributes: Mapping[str, str] | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
    headers: Mapping[str, str] | str | None = None,
    traces_exporter: str | None = None,
    metrics_exporter: str | None = None,
    logs_exporter: str | None = None,
    instrument_requests: bool | None = None,
    capture_content: str | bool | None = None,
    configure_logging: bool | None = None,
    redact: str | Sequence[str] | None = None,
    redact_patterns: Mapping[str, str] | None = None,
    redact_allow_keys: Sequence[str] | None = None,
) -> Telemetry:
    """Set up OpenTelemetry for the process and return the :class:`Telemetry` handle.

    Each argument falls back to its standard variable, then to a default:
    ``service_name`` <- ``OTEL_SERVICE_NAME``; ``resource_attributes`` <-
    ``OTEL_RESOURCE_ATTRIBUTES``; ``endpoint`` (base URL; default
    ``http://localhost:4318`` for HTTP, ``:4317`` for gRPC) <-
    ``OTEL_EXPORTER_OTLP[_{TRACES,METRICS,LOGS}]_ENDPOINT``; ``protocol``
    (``http/protobuf`` default, ``grpc``) <- ``OTEL_EXPORTER_OTLP[_SIGNAL]_PROTOCOL``;
    ``headers`` <- ``OTEL_EXPORTER_OTLP[_SIGNAL]_HEADERS``; ``*_exporter`` (comma lists of
    ``otlp``, ``console``, ``agentotel_console`` (traces), ``prometheus`` (metrics),
    ``none``; default ``otlp``) <- ``OTEL_{TRACES,METRICS,LOGS}_EXPORTER``. Also read:
    ``OTEL_EXPORTER_OTLP[_SIGNAL]_TIMEOUT`` (seconds), ``OTEL_TRACES_SAMPLER[_ARG]``,
    ``OTEL_METRIC_EXPORT_INTERVAL`` (ms), ``OTEL_EXPORTER_PROMETHEUS_HOST``/``_PORT``
    (default ``localhost:9464``), ``OTEL_SDK_DISABLED``, ``AGENTOTEL_PRICING_FILE``.
    ``environment`` sets the resource attribute ``deployment.environment.name``.

    Content and logs: ``capture_content`` (``NO_CONTENT`` default, ``SPAN_ONLY``,
    ``EVENT_ONLY``, ``SPAN_AND_EVENT``; see :mod:`agentotel.content`) <-
    ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``, bounded by
    ``AGENTOTEL_CONTENT_MAX_LENGTH`` characters. ``configure_logging`` (default ``True``)
    sets up structlog and the stdlib root logger (:mod:`agentotel.logging`;
    ``AGENTOTEL_LOG_FORMAT=json|console``, ``AGENTOTEL_LOG_LEVEL``). ``redact``
    (``default``, ``off`` or detector names) <- ``AGENTOTEL_REDACT``, with
    ``redact_patterns`` (name -> regex) and ``redact_allow_keys``: redaction runs in the
    export path of every span, span event and log record (:mod:`agentotel.redaction`).

    Providers the application already installed are reused (exporters are added to them
    only when given as arguments). A second call returns the same handle with a warning.
    With ``OTEL_SDK_DISABLED=true`` everything is a no-op. Providers are flushed and shut
    down at interpreter exit, bounded by the export timeout.

    Raises:
        ConfigError: an invalid argument or variable (names it, the bad value, and the
            accepted values). Nothing already recorded is lost.
    """
    global _telemetry
    arguments: dict[str, Any] = {
        "service_name": service_name,
        "service_version": service_version,
        "environment": environment,
        "resource_attributes": resource_attributes,
        "endpoint": endpoint,
        "protocol": protocol,
        "headers": headers,
        "traces_exporter": traces_exporter,
        "metrics_exporter": metrics_exporter,
        "logs_exporter": logs_exporter,
        "instrument_requests": instrument_requests,
        "capture_content": capture_content,
        "configure_logging": configure_logging,
        "redact": redact,
        "redact_patterns": redact_patterns,
        "redact_allow_keys": redact_allow_keys,
    }
    with _lock:
        if _telemetry is not None:
            _logger.warning("agentotel.init() was called again; returning the existing handle")
            return _telemetry
        settings = resolve(arguments)
        if settings.sdk_disabled:
            _operations.install(_disabled_runtime())
            _telemetry = Telemetry(settings, None)
            return _telemetry
        try:
            prices = load_price_table(settings.pricing_file)
        except ValueError as exc:
            raise ConfigError(
                "AGENTOTEL_PRICING_FILE", settings.pricing_file, f"a JSON pricing table ({exc})"
            ) from None
        explicit = frozenset(
            signal
            for signal, value in (
                ("traces", traces_exporter),
                ("metrics", metrics_exporter),
                ("logs", logs_exporter),
            )
            if value is not None
        )
        redactor = _redactor(settings)
        providers = build(
            settings,
            explicit_exporters=explicit,
            wrap_spans=(lambda e: RedactingSpanExporter(e, redactor)) if redactor else _same,
            wrap_logs=(lambda e: RedactingLogRecordExporter(e, redactor)) if redactor else _same,
        )
        scope = semconv.INSTRUMENTATION_SCOPE
        _operations.install(
            Runtime(
                providers.tracer_provider.get_tracer(scope, __version__),
                Instruments(providers.meter_provider.get_meter(scope, __version__)),
                prices,
                capture=settings.capture_content,
                content_max_length=settings.content_max_length,
                event_logger=providers.logger_provider.get_logger(scope, __version__),
            )
        )
        throttle_loggers("opentelemetry")
        if settings.configure_logging:
            service = providers.tracer_provider.resource.attributes.get(semconv.SERVICE_NAME)
            _logging.configure(
                logger_provider=providers.logger_provider,
                service_name=str(service or "unknown_service"),
                log_format=settings.log_format,
                level=settings.log_level,
                redact=redactor.redact if redactor else None,
            )
        if settings.instrument_requests:
            _instrument_requests(providers.tracer_provider, providers.meter_provider)
        _telemetry = Telemetry(settings, providers)
        atexit.register(_telemetry.shutdown)
        return _telemetry


def _same(exporter: _E) -> _E:
    return exporter


def _redactor(settings: Settings) -> Redactor | None:
    """The redactor ``settings`` ask for, or ``None`` when redaction is ``off``.

    Raises:
        ConfigError: a bad pattern in ``redact_patterns`` or key in ``redact_allow_keys``.
    """
    if settings.redact == "off":
        return None
    detectors = DEFAULT_DETECTORS if settings.redact == "default" else settings.redact
    try:
        return Redactor(
            detectors,
            extra_patterns=settings.redact_patterns,
            allow_keys=settings.redact_allow_keys or (),
        )
    except ValueError as exc:
        raise ConfigError("argument redact_patterns", settings.redact_patterns, str(exc)) from None


def _instrument_requests(tracer_provider: TracerProvider, meter_provider: MeterProvider) -> None:
    # The stable HTTP conventions (http.request.method, http.response.status_code, error.type)
    # unless the application chose otherwise; the instrumentation reads this when enabled.
    os.environ.setdefault(SEMCONV_STABILITY_OPT_IN, "http")
    try:
        from opentelemetry.instrumentation.requests import RequestsInstrumentor

        instrumentor = RequestsInstrumentor()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    except Exception:  # noqa: BLE001 - optional convenience, must not break start-up
        _logger.warning("agentotel: could not instrument requests", exc_info=True)


def shutdown() -> None:
    """Flush and shut down what :func:`init` set up (bounded by the export timeout)."""
    handle = _telemetry
    if handle is not None:
        handle.shutdown()


# --------------------------------------------------------------------------- instruments


@overload
def workflow(name: str, *, conversation_id: str | None = None) -> Workflow: ...
@overload
def workflow(name: _F) -> _F: ...
def workflow(name: Any, *, conversation_id: str | None = None) -> Any:
    """An ``invoke_workflow {name}`` span (INTERNAL) and ``gen_ai.invoke_workflow.duration`` (s).

    Context manager or decorator; bare ``@agentotel.workflow`` takes the function's name.
    See :class:`agentotel.Workflow` for the attributes.
    """
    if callable(name):
        return Workflow(name.__name__)(name)
    return Workflow(name, conversation_id)


@overload
def agent(
    name: str,
    *,
    id: str | None = None,  # noqa: A002
    description: str | None = None,
    version: str | None = None,
    conversation_id: str | None = None,
) -> Agent: ...
@overload
def agent(name: _F) -> _F: ...
def agent(
    name: Any,
    *,
    id: str | None = None,  # noqa: A002
    description: str | None = None,
    version: str | None = None,
    conversation_id: str | None = None,
) -> Any:
    """An ``invoke_agent {name}`` span (INTERNAL) and the agent metrics.

    Context manager or decorator; bare ``@agentotel.agent`` takes the function's name.
    See :class:`agentotel.Agent` for the attributes.
    """
    if callable(name):
        return Agent(name.__name__)(name)
    return Agent(name, id, description, version, conversation_id)


def llm(
    model: str,
    *,
    provider: str,
    operation: str = semconv.OP_CHAT,
    server_address: str | None = None,
    server_port: int | None = None,
    **request_params: Any,
) -> LLMCall:
    """A ``{operation} {model}`` span (CLIENT), operation duration, token usage and cost.

    ``request_params``: ``temperature``, ``top_p``, ``top_k``, ``max_tokens``,
    ``frequency_penalty``, ``presence_penalty``, ``stop_sequences``, ``seed``,
    ``choice_count``, ``stream``, ``encoding_formats``, ``output_type`` ->
    ``gen_ai.request.*``. Record the answer with :meth:`LLMCall.record_response`.

    Raises:
        ValueError: ``operation`` is not ``chat``, ``text_completion``, ``embeddings`` or
            ``generate_content``.
        TypeError: an unknown request parameter.
    """
    return LLMCall(model, provider, operation, server_address, server_port, request_params)


@overload
def tool(
    name: str,
    *,
    type: str | None = "function",  # noqa: A002
    description: str | None = None,
    call_id: str | None = None,
) -> Tool: ...
@overload
def tool(name: _F) -> _F: ...
def tool(
    name: Any,
    *,
    type: str | None = "function",  # noqa: A002
    description: str | None = None,
    call_id: str | None = None,
) -> Any:
    """An ``execute_tool {name}`` span (INTERNAL) and ``gen_ai.execute_tool.duration`` (s).

    Context manager or decorator; bare ``@agentotel.tool`` takes the function's name.
    See :class:`agentotel.Tool` for the attributes.
    """
    if callable(name):
        return Tool(name.__name__)(name)
    return Tool(name, type, description, call_id)


@overload
def guardrail(name: str, *, target: str = "input") -> Guardrail: ...
@overload
def guardrail(name: _F) -> _F: ...
def guardrail(name: Any, *, target: str = "input") -> Any:
    """An ``apply_guardrail {name}`` span (INTERNAL) and ``agentotel.guardrail.checks``.

    Record the outcome with :meth:`Guardrail.verdict`. See :class:`agentotel.Guardrail`.
    """
    if callable(name):
        return Guardrail(name.__name__)(name)
    return Guardrail(name, target)

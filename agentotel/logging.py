"""structlog configuration and the bridge from log records to the OpenTelemetry logs pipeline.

One processor chain serves both ``structlog`` loggers and the standard library's
``logging`` records (third-party libraries): it merges ``structlog.contextvars``, adds the
logger name, level, an ISO-8601 UTC timestamp, the active span's ``trace_id``/``span_id``
and ``service.name``, renders exceptions to text, and redacts. A
``structlog.stdlib.ProcessorFormatter`` on one root-logger handler then hands each record
to the OpenTelemetry ``Logger`` (body = the event message, every other key an OTLP
attribute, severity mapped, trace context from the current context) and renders it as a
JSON line or a console line.

Sources:
- OpenTelemetry logs data model (severity number/text, body, attributes, trace context):
  https://opentelemetry.io/docs/specs/otel/logs/data-model/
- Trace id / span id as lowercase hex (W3C Trace Context):
  https://www.w3.org/TR/trace-context/#trace-id
- Exception attributes on log records:
  https://opentelemetry.io/docs/specs/semconv/exceptions/exceptions-logs/

Nothing happens at import time; :func:`configure` installs, :func:`unconfigure` undoes.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TextIO

import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry._logs import LoggerProvider, LogRecord, SeverityNumber
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.semconv.attributes import exception_attributes
from opentelemetry.util.types import AnyValue
from structlog.typing import EventDict, Processor, WrappedLogger

from agentotel.semconv import SERVICE_NAME

__all__ = ["SPAN_ID_KEY", "TRACE_ID_KEY", "configure", "get_logger", "unconfigure"]

LogFormat = Literal["json", "console"]

TRACE_ID_KEY = "trace_id"
"""Event-dict key of the active span's trace id: 32 lowercase hex characters."""
SPAN_ID_KEY = "span_id"
"""Event-dict key of the active span's span id: 16 lowercase hex characters."""

# structlog's own keys
_EVENT = "event"
_LEVEL = "level"
_TIMESTAMP = "timestamp"
_LOGGER = "logger"
_EXCEPTION = "exception"
_RECORD = "_record"
_FROM_STRUCTLOG = "_from_structlog"
# private hand-over from the exception processor to the OTel bridge; never rendered
_EXCEPTION_TYPE = "_agentotel_exception_type"

# keys the chain itself sets; they are neither redacted nor sent as OTLP attributes
_STRUCTURAL_KEYS = frozenset(
    {_LEVEL, _TIMESTAMP, _LOGGER, TRACE_ID_KEY, SPAN_ID_KEY, SERVICE_NAME, _RECORD,
     _FROM_STRUCTLOG, _EXCEPTION_TYPE}
)
# keys that become OTLP record fields (or the resource / scope) instead of attributes
_NOT_ATTRIBUTES = _STRUCTURAL_KEYS | {_EVENT, _EXCEPTION}

# attributes every stdlib LogRecord has, plus those formatters add to it
_STANDARD_RECORD_KEYS = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None))
) | {"message", "asctime"}

_OTEL_LOGGER_PREFIX = "opentelemetry"
_DEFAULT_SCOPE = "agentotel"
_MAX_VALUE_DEPTH = 8
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_REDACTION_FAILED = "[REDACTED:redaction-failed]"

# Set while this module hands a record to the OpenTelemetry Logger: whatever that call
# logs on this thread is rendered locally but not bridged again.
_emitting: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "agentotel_log_bridge_emitting", default=False
)


# --------------------------------------------------------------------------- processors
def add_stdlib_extra(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Copy a stdlib record's ``extra={...}`` fields into the event dict.

    Unlike ``structlog.stdlib.ExtraAdder`` it also skips ``message``/``asctime``, which
    another handler's formatter may have set on the shared record.
    """
    record = event_dict.get(_RECORD)
    if isinstance(record, logging.LogRecord) and not event_dict.get(_FROM_STRUCTLOG):
        for key, value in vars(record).items():
            if key not in _STANDARD_RECORD_KEYS:
                event_dict[key] = value
    return event_dict


def add_trace_context(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Add ``trace_id`` (32 hex) and ``span_id`` (16 hex) of the current span, if valid."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict[TRACE_ID_KEY] = trace.format_trace_id(span_context.trace_id)
        event_dict[SPAN_ID_KEY] = trace.format_span_id(span_context.span_id)
    return event_dict


def _service_name_adder(service_name: str) -> Processor:
    def add_service_name(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict[SERVICE_NAME] = service_name
        return event_dict

    return add_service_name


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3:
        return exc_info[1] if isinstance(exc_info[1], BaseException) else None
    return sys.exc_info()[1] if exc_info else None


def _qualified_name(cls: type) -> str:
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def render_exception(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Replace ``exc_info`` by the formatted traceback under ``exception`` (a str).

    Runs before redaction so that exception messages and tracebacks are redacted too.
    """
    exception = _exception_of(event_dict.pop("exc_info", None))
    if exception is not None:
        event_dict[_EXCEPTION] = "".join(
            traceback.format_exception(type(exception), exception, exception.__traceback__)
        ).rstrip("\n")
        event_dict[_EXCEPTION_TYPE] = _qualified_name(type(exception))
    return event_dict


def _redactor(redact: Callable[[Any], Any]) -> Processor:
    """Apply *redact* to every key except the structural ones the chain sets itself.

    If *redact* raises or returns something other than a dict, the record keeps only its
    structural keys and an event saying that redaction failed (fail closed).
    """

    def redact_event(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        payload = {k: v for k, v in event_dict.items() if k not in _STRUCTURAL_KEYS}
        try:
            redacted = redact(payload)
        except Exception:  # telemetry must not break the application
            redacted = None
        if not isinstance(redacted, dict):
            redacted = {_EVENT: _REDACTION_FAILED}
        result = {  # the original key order, for readable lines
            key: value if key in _STRUCTURAL_KEYS else redacted[key]
            for key, value in event_dict.items()
            if key in _STRUCTURAL_KEYS or key in redacted
        }
        result.update((key, value) for key, value in redacted.items() if key not in result)
        return result

    return redact_event


# --------------------------------------------------------------------------- OTel bridge
def severity_number(levelno: int) -> SeverityNumber:
    """Map a stdlib level number to the OTel severity number.

    DEBUG 10 -> DEBUG (5), INFO 20 -> INFO (9), WARNING 30 -> WARN (13), ERROR 40 -> ERROR
    (17), CRITICAL 50 -> FATAL (21); levels in between map to the 2nd..4th step of their
    range, below 10 to UNSPECIFIED — the same mapping as the SDK's ``LoggingHandler``.
    """
    if levelno < logging.DEBUG:
        return SeverityNumber.UNSPECIFIED
    if levelno > logging.CRITICAL + 3:
        return SeverityNumber.FATAL4
    band, step = divmod(levelno, 10)
    return SeverityNumber(SeverityNumber.DEBUG.value + 4 * (band - 1) + min(step, 3))


def severity_text(levelname: str) -> str:
    """The OTel short name of a stdlib level name: ``WARNING`` -> ``WARN``, ``CRITICAL`` ->
    ``FATAL``, other names unchanged (upper case)."""
    upper = levelname.upper()
    return {"WARNING": "WARN", "CRITICAL": "FATAL"}.get(upper, upper)


def otlp_value(value: Any, depth: int = 0) -> AnyValue:
    """Convert *value* to an OTLP ``AnyValue``: str/bool/float/bytes and int64 as is,
    mappings to maps with str keys, lists/tuples/sets to arrays, anything else to ``str``."""
    if value is None or isinstance(value, (str, bool, float, bytes)):
        return value
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _INT64_MAX else str(value)
    if depth < _MAX_VALUE_DEPTH:
        if isinstance(value, Mapping):
            return {str(k): otlp_value(v, depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [otlp_value(v, depth + 1) for v in value]
    return str(value)


def _attributes(event_dict: EventDict) -> dict[str, AnyValue]:
    attributes = {
        key: otlp_value(value)
        for key, value in event_dict.items()
        if key not in _NOT_ATTRIBUTES and value is not None
    }
    if _EXCEPTION in event_dict:
        attributes[exception_attributes.EXCEPTION_STACKTRACE] = str(event_dict[_EXCEPTION])
    if _EXCEPTION_TYPE in event_dict:
        attributes[exception_attributes.EXCEPTION_TYPE] = str(event_dict[_EXCEPTION_TYPE])
    return attributes


def _is_bridged(record: logging.LogRecord) -> bool:
    """False for records that must stay local: OpenTelemetry's own loggers (exporter and
    processor failures), anything logged while this module emits, and anything logged
    while instrumentation is suppressed (the SDK sets that around every export)."""
    name = record.name
    if name == _OTEL_LOGGER_PREFIX or name.startswith(_OTEL_LOGGER_PREFIX + "."):
        return False
    return not _emitting.get() and is_instrumentation_enabled()


def _bridge(logger_provider: LoggerProvider) -> Processor:
    def emit_to_otel(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        record = event_dict.get(_RECORD)
        if isinstance(record, logging.LogRecord) and _is_bridged(record):
            token = _emitting.set(True)
            try:
                logger_provider.get_logger(record.name or _DEFAULT_SCOPE).emit(
                    LogRecord(
                        timestamp=int(record.created * 1e9),
                        context=otel_context.get_current(),
                        severity_number=severity_number(record.levelno),
                        severity_text=severity_text(record.levelname),
                        body=otlp_value(event_dict.get(_EVENT)),
                        attributes=_attributes(event_dict),
                    )
                )
            except Exception:  # telemetry must not break the application
                pass
            finally:
                _emitting.reset(token)
        return event_dict

    return emit_to_otel


def drop_private_keys(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Remove the keys that only hand data over between processors (not rendered)."""
    event_dict.pop(_EXCEPTION_TYPE, None)
    return event_dict


# --------------------------------------------------------------------------- configuration
def _pre_chain(service_name: str, redact: Callable[[Any], Any] | None) -> list[Processor]:
    """The processors shared by structlog and stdlib records, in order."""
    chain: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        add_stdlib_extra,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_context,
        _service_name_adder(service_name),
        structlog.processors.StackInfoRenderer(),
        render_exception,
    ]
    if redact is not None:
        chain.append(_redactor(redact))
    return chain


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _renderer(log_format: LogFormat, stream: TextIO) -> Processor:
    if log_format == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=_is_terminal(stream))


@dataclass
class _Installation:
    handler: logging.Handler
    previous_root_level: int
    previous_structlog_config: dict[str, Any] | None


_installation: _Installation | None = None
_lock = threading.Lock()


def configure(
    *,
    logger_provider: LoggerProvider | None,
    service_name: str,
    log_format: LogFormat | None = None,
    level: int = logging.INFO,
    redact: Callable[[Any], Any] | None = None,
    stream: TextIO | None = None,
) -> None:
    """Configure structlog and the root stdlib logger; bridge records to OpenTelemetry.

    Args:
        logger_provider: records are emitted to ``logger_provider.get_logger(<stdlib
            logger name>)``; ``None`` renders locally only.
        service_name: value of the ``service.name`` key on every record.
        log_format: ``"json"`` (one JSON object per line) or ``"console"`` (aligned,
            colored when *stream* is a terminal); ``None`` picks ``"console"`` when
            *stream* is a terminal, else ``"json"``.
        level: stdlib level number; the root logger and the handler are set to it.
        redact: maps a dict of the record's non-structural keys (``event``,
            ``exception``, user keys) to a redacted copy; applied before rendering and
            before the OpenTelemetry bridge.
        stream: where rendered lines go; default ``sys.stderr``.

    Calling it again replaces the previous configuration. Raises nothing for valid
    arguments; settings are validated by the caller (``agentotel.init``).
    """
    global _installation
    target = stream if stream is not None else sys.stderr
    chosen_format: LogFormat = log_format or ("console" if _is_terminal(target) else "json")
    pre_chain = _pre_chain(service_name, redact)
    final: list[Processor] = []
    if logger_provider is not None:
        final.append(_bridge(logger_provider))
    final += [
        drop_private_keys,
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        _renderer(chosen_format, target),
    ]
    handler = logging.StreamHandler(target)
    handler.setLevel(level)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=pre_chain, processors=final)
    )
    with _lock:
        _uninstall()
        root = logging.getLogger()
        previous = _Installation(
            handler=handler,
            previous_root_level=root.level,
            previous_structlog_config=(
                structlog.get_config() if structlog.is_configured() else None
            ),
        )
        structlog.configure(
            processors=[
                structlog.stdlib.filter_by_level,
                *pre_chain,
                structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
            ],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
            context_class=dict,
            # Not cached: loggers obtained before configure() must follow a later one.
            cache_logger_on_first_use=False,
        )
        root.addHandler(handler)
        root.setLevel(level)
        _installation = previous


def _uninstall() -> None:
    global _installation
    if _installation is None:
        return
    root = logging.getLogger()
    root.removeHandler(_installation.handler)
    root.setLevel(_installation.previous_root_level)
    if _installation.previous_structlog_config is None:
        structlog.reset_defaults()
    else:
        structlog.configure(**_installation.previous_structlog_config)
    _installation = None


def unconfigure() -> None:
    """Undo :func:`configure`: remove its root handler, restore the root logger's level and
    the structlog configuration that was in place before (builtin defaults if none).
    A no-op when not configured."""
    with _lock:
        _uninstall()


def get_logger(**bound: Any) -> structlog.stdlib.BoundLogger:
    """A structlog logger named after the calling module, with *bound* key/values.

    Records carry ``structlog.contextvars`` bindings and, inside a span, ``trace_id`` and
    ``span_id`` once :func:`configure` has run (``agentotel.init``).
    """
    return structlog.stdlib.get_logger(**bound)

"""structlog configuration and the bridge from log records to the OpenTelemetry logs pipeline.

One processor chain serves both ``structlog`` loggers and the standard library's
``logging`` records (third-party libraries): it merges ``structlog.contextvars``, adds the
logger name, level, an ISO-8601 UTC timestamp, the active span's ``trace_id``/``span_id``
and ``service.name``, renders exceptions to text, and redacts. The OpenTelemetry bridge at
its end hands each record to the OpenTelemetry ``Logger`` (body = the event message, every
other non-structural key an OTLP attribute, severity mapped, trace context from the
current context).

:func:`configure` works in one of two modes, chosen by whether the root logger already has
handlers when it runs:

- **Owner** (no root handlers: nobody configured logging). A
  ``structlog.stdlib.ProcessorFormatter`` on one root handler runs the chain, bridges and
  renders each record as a JSON line or a console line; the root level is set; structlog
  is configured to hand its events to that formatter.
- **Guest** (the application configured logging, e.g. ``logging.basicConfig()``). The
  application's handlers, their formatters and the root level are left alone. Added:
  a record factory wrapping :func:`logging.getLogRecordFactory` that sets ``trace_id`` and
  ``span_id`` on every ``LogRecord`` when it is created (so they are right even where the
  record is formatted on another thread, behind a ``QueueHandler``); one root handler that
  prints nothing and bridges each record to OpenTelemetry; and, only if the application
  has not configured structlog, a structlog configuration that hands events to the stdlib
  logger tree as a message ``"<event> key=value ..."`` (logfmt pairs), so the
  application's handlers print them once, in their own format.

:func:`unconfigure` undoes what :func:`configure` did in either mode, and nothing else.

Sources:
- OpenTelemetry logs data model (severity number/text, body, attributes, trace context):
  https://opentelemetry.io/docs/specs/otel/logs/data-model/
- Trace id / span id as lowercase hex (W3C Trace Context):
  https://www.w3.org/TR/trace-context/#trace-id
- Exception attributes on log records:
  https://opentelemetry.io/docs/specs/semconv/exceptions/exceptions-logs/
- Log record factories and message objects (``logging.setLogRecordFactory``,
  arbitrary objects as messages):
  https://docs.python.org/3/library/logging.html#logrecord-objects and
  https://docs.python.org/3/howto/logging-cookbook.html#implementing-structured-logging

Nothing happens at import time, and structlog is imported only when it is needed
(:func:`configure`, :func:`get_logger`): an application that never logs through agentotel
does not pay for it at ``import agentotel``. :func:`configure` installs,
:func:`unconfigure` undoes.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TextIO, cast

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry._logs import LoggerProvider, LogRecord, SeverityNumber
from opentelemetry.semconv.attributes import exception_attributes
from opentelemetry.util.types import AnyValue

from agentotel._errors import error_type_of
from agentotel.semconv import SERVICE_NAME

if TYPE_CHECKING:
    import structlog
    from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = ["SPAN_ID_KEY", "TRACE_ID_KEY", "configure", "get_logger", "unconfigure"]

LogFormat = Literal["json", "console"]

TRACE_ID_KEY = "trace_id"
"""Event-dict key of the active span's trace id: 32 lowercase hex characters. In guest mode
also the ``LogRecord`` attribute (``%(trace_id)s``), ``""`` on a record created outside a
span."""
SPAN_ID_KEY = "span_id"
"""Event-dict key of the active span's span id: 16 lowercase hex characters. In guest mode
also the ``LogRecord`` attribute (``%(span_id)s``), ``""`` on a record created outside a
span."""

# The record attributes' value outside a valid span: formats such as
# "%(message)s trace_id=%(trace_id)s" still work, and the line carries no id that a log
# backend could link to a trace (W3C Trace Context reserves all-zero ids as invalid).
_NO_ID = ""

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
# guest mode: the exception of a structlog event, handed to the stdlib record as exc_info
_STDLIB_EXC_INFO = "_agentotel_exc_info"

# keys the chain itself sets; they are neither redacted nor sent as OTLP attributes
_STRUCTURAL_KEYS = frozenset(
    {_LEVEL, _TIMESTAMP, _LOGGER, TRACE_ID_KEY, SPAN_ID_KEY, SERVICE_NAME, _RECORD,
     _FROM_STRUCTLOG, _EXCEPTION_TYPE, _STDLIB_EXC_INFO}
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


def render_exception(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Replace ``exc_info`` by the formatted traceback under ``exception`` (a str).

    Runs before redaction so that exception messages and tracebacks are redacted too.
    """
    exception = _exception_of(event_dict.pop("exc_info", None))
    if exception is not None:
        event_dict[_EXCEPTION] = "".join(
            traceback.format_exception(type(exception), exception, exception.__traceback__)
        ).rstrip("\n")
        event_dict[_EXCEPTION_TYPE] = error_type_of(exception)
    return event_dict


def keep_exc_info(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Keep the exception of ``exc_info`` as a tuple for the stdlib record (guest mode),
    next to the text :func:`render_exception` makes of it for the OpenTelemetry bridge."""
    exception = _exception_of(event_dict.get("exc_info"))
    if exception is not None:
        event_dict[_STDLIB_EXC_INFO] = (type(exception), exception, exception.__traceback__)
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


def _is_bridged(record: logging.LogRecord, instrumentation_enabled: Callable[[], bool]) -> bool:
    """False for records that must stay local: OpenTelemetry's own loggers (exporter and
    processor failures), anything logged while this module emits, and anything logged
    while instrumentation is suppressed (the SDK sets that around every export)."""
    name = record.name
    if name == _OTEL_LOGGER_PREFIX or name.startswith(_OTEL_LOGGER_PREFIX + "."):
        return False
    return not _emitting.get() and instrumentation_enabled()


def _bridge(logger_provider: LoggerProvider) -> Processor:
    from opentelemetry.instrumentation.utils import is_instrumentation_enabled

    def emit_to_otel(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        record = event_dict.get(_RECORD)
        if isinstance(record, logging.LogRecord) and _is_bridged(
            record, is_instrumentation_enabled
        ):
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


# --------------------------------------------------------------------------- guest mode
class StructuredMessage(str):
    """A structlog event as a stdlib log message (guest mode).

    The text is ``"<event> key=value ..."`` (the non-structural keys as logfmt pairs), which
    the application's formatters print through ``record.getMessage()``; ``event_dict`` is
    the processed event dict, from which the OpenTelemetry bridge takes the body and the
    attributes. Copied or pickled, it becomes the plain text.
    """

    event_dict: EventDict

    def __new__(cls, text: str, event_dict: EventDict | None = None) -> StructuredMessage:
        message = super().__new__(cls, text)
        message.event_dict = event_dict if event_dict is not None else {_EVENT: text}
        return message

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        return str, (str(self),)


_logfmt: structlog.processors.LogfmtRenderer | None = None


def _message_text(event_dict: EventDict) -> str:
    global _logfmt
    event = event_dict.get(_EVENT)
    text = "" if event is None else str(event)
    pairs = {key: value for key, value in event_dict.items() if key not in _NOT_ATTRIBUTES}
    if not pairs:
        return text
    if _logfmt is None:
        import structlog

        _logfmt = structlog.processors.LogfmtRenderer(bool_as_flag=False)
    try:
        rendered = _logfmt(None, "", pairs)
    except ValueError:  # a key that logfmt cannot carry (space, quote, '=')
        rendered = " ".join(f"{key}={value!r}" for key, value in pairs.items())
    return f"{text} {rendered}" if text else rendered


def hand_to_stdlib(
    _: WrappedLogger, __: str, event_dict: EventDict
) -> tuple[tuple[StructuredMessage], dict[str, Any]]:
    """Final structlog processor in guest mode: the arguments of the stdlib logging call.

    The message is a :class:`StructuredMessage`; the exception kept by
    :func:`keep_exc_info` goes to ``exc_info`` so that the application's formatter renders
    the traceback its own way.
    """
    exc_info = event_dict.pop(_STDLIB_EXC_INFO, None)
    kwargs = {"exc_info": exc_info} if exc_info is not None else {}
    return (StructuredMessage(_message_text(event_dict), event_dict),), kwargs


class TraceContextRecordFactory:
    """A ``LogRecord`` factory wrapping another one (guest mode).

    Every record it creates carries ``trace_id`` (32 lowercase hex) and ``span_id`` (16
    lowercase hex) of the span current where the record is created, ``""`` for both
    outside a valid span; values the wrapped factory already set are kept. Setting them at
    creation, not in a handler filter, keeps them right when the record is formatted on
    another thread (``QueueHandler``/``QueueListener``). As with any record attribute,
    ``extra={"trace_id": ...}`` is then refused by ``Logger.makeRecord`` (``KeyError``).
    """

    def __init__(self, wrapped: Callable[..., logging.LogRecord]) -> None:
        self.wrapped = wrapped
        self.active = True

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.wrapped(*args, **kwargs)
        if self.active:
            fields = record.__dict__
            if TRACE_ID_KEY not in fields or SPAN_ID_KEY not in fields:
                span_context = trace.get_current_span().get_span_context()
                if span_context.is_valid:
                    trace_id = trace.format_trace_id(span_context.trace_id)
                    span_id = trace.format_span_id(span_context.span_id)
                else:
                    trace_id = span_id = _NO_ID
                fields.setdefault(TRACE_ID_KEY, trace_id)
                fields.setdefault(SPAN_ID_KEY, span_id)
        return record


class BridgeHandler(logging.Handler):
    """Guest mode's root handler: prints nothing, emits each record to OpenTelemetry.

    A stdlib record goes through the shared chain (the same one the owner mode's formatter
    runs); an agentotel structlog event (:class:`StructuredMessage`) arrives processed
    already; an event of a structlog the application configured with
    ``ProcessorFormatter.wrap_for_formatter`` (its event dict as ``record.msg``) gets its
    exception rendered and redacted. Failures are swallowed: the application's handlers
    already printed the record.
    """

    def __init__(
        self, level: int, *, stdlib_chain: list[Processor], event_dict_chain: list[Processor],
        emit_to_otel: Processor,
    ) -> None:
        super().__init__(level)
        self._stdlib_chain = stdlib_chain
        self._event_dict_chain = event_dict_chain
        self._emit_to_otel = emit_to_otel

    def _event_dict(self, record: logging.LogRecord) -> tuple[EventDict, list[Processor]]:
        message = record.msg
        if isinstance(message, StructuredMessage):
            return {**message.event_dict, _RECORD: record, _FROM_STRUCTLOG: True}, []
        if isinstance(message, dict) and hasattr(record, "_logger") and hasattr(record, "_name"):
            return {**message, _RECORD: record, _FROM_STRUCTLOG: True}, self._event_dict_chain
        try:
            event = record.getMessage()
        except Exception:  # bad %-arguments: the application's handler reported it
            event = str(message)
        event_dict: EventDict = {_EVENT: event, _RECORD: record, _FROM_STRUCTLOG: False}
        if record.exc_info:
            event_dict["exc_info"] = record.exc_info
        if record.stack_info:
            event_dict["stack"] = record.stack_info
        return event_dict, self._stdlib_chain

    def emit(self, record: logging.LogRecord) -> None:
        try:
            event_dict, chain = self._event_dict(record)
            method = record.levelname.lower()
            for processor in chain:
                event_dict = cast("EventDict", processor(None, method, event_dict))
            self._emit_to_otel(None, method, event_dict)
        except Exception:  # telemetry must not break, nor print into, the application
            pass


# --------------------------------------------------------------------------- configuration
def _pre_chain(
    service_name: str, redact: Callable[[Any], Any] | None, *, keep_exception: bool = False
) -> list[Processor]:
    """The processors shared by structlog and stdlib records, in order.

    ``keep_exception`` (guest mode's structlog) also keeps the exception for the stdlib
    record (:func:`keep_exc_info`).
    """
    import structlog

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
    ]
    if keep_exception:
        chain.append(keep_exc_info)
    chain.append(render_exception)
    if redact is not None:
        chain.append(_redactor(redact))
    return chain


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _renderer(log_format: LogFormat, stream: TextIO) -> Processor:
    import structlog

    if log_format == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=_is_terminal(stream))


@dataclass
class _Installation:
    """What :func:`configure` changed, for :func:`_uninstall` to undo."""

    handler: logging.Handler | None
    guest: bool
    # owner mode
    previous_root_level: int = logging.NOTSET
    previous_structlog_config: dict[str, Any] | None = None
    # guest mode
    record_factory: TraceContextRecordFactory | None = None
    structlog_processors: list[Processor] | None = None  # None: structlog left alone
    logger_class: tuple[type[logging.Logger], type[logging.Logger]] | None = None  # old, new


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
    """Set up logging for agentotel: as the owner of the root logger, or as a guest.

    **Owner mode** — the root logger has no handlers (nobody configured logging): one
    root handler renders every record (structlog events and stdlib records) as a JSON or
    console line on *stream* and bridges it to OpenTelemetry; the root logger's level is
    set to *level*; structlog is configured to hand its events to that handler.

    **Guest mode** — the root logger already has handlers (``logging.basicConfig()``,
    ``dictConfig``, a framework): the application's handlers, their formatters and the root
    level stay as they are. Added: the :class:`TraceContextRecordFactory` around the current
    record factory (``%(trace_id)s``/``%(span_id)s`` in the application's formats, ``""``
    outside a span); one :class:`BridgeHandler` on the root (prints nothing) if
    *logger_provider* is given; and, only if ``structlog.is_configured()`` is false, a
    structlog configuration that sends :func:`get_logger` events through the stdlib logger
    tree as ``"<event> key=value ..."`` messages, so the application's handlers print each
    once in their own format. An application that configured structlog keeps its
    configuration. Records created before :func:`configure` or after :func:`unconfigure`
    have no ``trace_id``/``span_id``: a format that names them can give defaults
    (``logging.Formatter(fmt, defaults={"trace_id": "", "span_id": ""})``).

    Args:
        logger_provider: records are emitted to ``logger_provider.get_logger(<stdlib
            logger name>)``; ``None`` renders locally only.
        service_name: value of the ``service.name`` key on every record.
        log_format: owner mode: ``"json"`` (one JSON object per line) or ``"console"``
            (aligned, colored when *stream* is a terminal); ``None`` picks ``"console"``
            when *stream* is a terminal, else ``"json"``. Guest mode: unused (the
            application's formats apply).
        level: stdlib level number. Owner mode: the root logger and the handler are set to
            it. Guest mode: only the bridge handler is (the least severe level exported);
            the application's levels decide what is printed.
        redact: maps a dict of the record's non-structural keys (``event``,
            ``exception``, user keys) to a redacted copy; applied before rendering and
            before the OpenTelemetry bridge. In guest mode the application's own lines are
            printed by its handlers as they are; the export and the messages of
            :func:`get_logger` events are redacted.
        stream: owner mode: where rendered lines go; default ``sys.stderr``. Guest mode:
            unused.

    Calling it again replaces the previous configuration (the mode is chosen again, after
    the previous one is undone). Raises nothing for valid arguments; settings are
    validated by the caller (``agentotel.init``).
    """
    global _installation
    with _lock:
        _uninstall()
        if logging.getLogger().handlers:
            _installation = _install_guest(logger_provider, service_name, level, redact)
        else:
            _installation = _install_owner(
                logger_provider, service_name, log_format, level, redact, stream
            )


def _install_owner(
    logger_provider: LoggerProvider | None,
    service_name: str,
    log_format: LogFormat | None,
    level: int,
    redact: Callable[[Any], Any] | None,
    stream: TextIO | None,
) -> _Installation:
    import structlog

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
    root = logging.getLogger()
    installation = _Installation(
        handler=handler,
        guest=False,
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
    return installation


def _install_guest(
    logger_provider: LoggerProvider | None,
    service_name: str,
    level: int,
    redact: Callable[[Any], Any] | None,
) -> _Installation:
    import structlog

    installation = _Installation(handler=None, guest=True)
    factory = TraceContextRecordFactory(logging.getLogRecordFactory())
    logging.setLogRecordFactory(factory)
    installation.record_factory = factory
    if not structlog.is_configured():
        processors: list[Processor] = [
            structlog.stdlib.filter_by_level,
            *_pre_chain(service_name, redact, keep_exception=True),
            hand_to_stdlib,
        ]
        previous_class = logging.getLoggerClass()
        # LoggerFactory sets structlog's Logger subclass, whose findCaller skips structlog's
        # frames (right %(funcName)s/%(lineno)d); an application's own class is kept.
        logger_factory = structlog.stdlib.LoggerFactory()
        if previous_class is not logging.Logger:
            logging.setLoggerClass(previous_class)
        elif logging.getLoggerClass() is not previous_class:
            installation.logger_class = (previous_class, logging.getLoggerClass())
        structlog.configure(
            processors=processors,
            logger_factory=logger_factory,
            wrapper_class=structlog.stdlib.BoundLogger,
            context_class=dict,
            cache_logger_on_first_use=False,
        )
        installation.structlog_processors = processors
    if logger_provider is not None:
        installation.handler = BridgeHandler(
            level,
            stdlib_chain=_pre_chain(service_name, redact),
            event_dict_chain=[render_exception] + ([_redactor(redact)] if redact else []),
            emit_to_otel=_bridge(logger_provider),
        )
        logging.getLogger().addHandler(installation.handler)
    return installation


def _uninstall() -> None:
    import structlog

    global _installation
    installation = _installation
    if installation is None:
        return
    _installation = None
    root = logging.getLogger()
    if installation.handler is not None:
        root.removeHandler(installation.handler)
    if not installation.guest:
        root.setLevel(installation.previous_root_level)
        if installation.previous_structlog_config is None:
            structlog.reset_defaults()
        else:
            structlog.configure(**installation.previous_structlog_config)
        return
    factory = installation.record_factory
    if factory is not None:
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(factory.wrapped)
        else:  # wrapped again since: keep the chain, make this link a pass-through
            factory.active = False
    if (
        installation.structlog_processors is not None
        and structlog.is_configured()
        and structlog.get_config()["processors"] is installation.structlog_processors
    ):
        structlog.reset_defaults()  # structlog was not configured before
    if installation.logger_class is not None:
        previous_class, installed_class = installation.logger_class
        if logging.getLoggerClass() is installed_class:
            logging.setLoggerClass(previous_class)


def unconfigure() -> None:
    """Undo :func:`configure`; a no-op when not configured.

    Owner mode: remove its root handler, restore the root logger's level and the structlog
    configuration that was in place before (builtin defaults if none). Guest mode: remove
    the bridge handler; put back the record factory that was current before (if another
    factory wrapped agentotel's since, that one stays and agentotel's link stops adding the
    ids); reset structlog to its defaults and restore the logger class if :func:`configure`
    set them and nobody changed them since. The application's handlers, formatters and
    levels are not touched.
    """
    with _lock:
        _uninstall()


def get_logger(**bound: Any) -> structlog.stdlib.BoundLogger:
    """A structlog logger named after the calling module, with *bound* key/values.

    Records carry ``structlog.contextvars`` bindings and, inside a span, ``trace_id`` and
    ``span_id`` once :func:`configure` has run (``agentotel.init``). In guest mode they are
    stdlib records printed by the application's handlers, with the message
    ``"<event> key=value ..."``.
    """
    import structlog

    return structlog.stdlib.get_logger(**bound)

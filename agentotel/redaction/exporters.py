"""Exporters that redact every span and log record before the wrapped exporter sees it.

:class:`RedactingExporter` holds what both signals share: the wrapped exporter, the
redactor, the fallback on an internal error and its count, and the delegation of
``shutdown`` and ``force_flush``. :class:`RedactingSpanExporter` and
:class:`RedactingLogRecordExporter` only supply how one span or one log record is
redacted and what is exported when even the fallback fails.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Generic, Protocol, TypeVar

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import Attributes

from agentotel import _readable
from agentotel.redaction.detectors import marker
from agentotel.redaction.redactor import Redactor

_logger = logging.getLogger("agentotel.redaction")

#: Replacement for every string of a span or log record that could not be redacted.
ERROR_MARKER: Final = marker("error")



class Redacts(Protocol):
    """What redacts an item's values: the :class:`Redactor`, or the blanking fallback."""

    def redact(self, value: Any, key: str | None = None) -> Any:
        """``value`` redacted, the same object when nothing changed; ``key`` is the
        attribute key the value belongs to, if any (:meth:`Redactor.redact`)."""
        ...

    def redacted_attributes(self, attrs: Mapping[str, Any]) -> dict[str, Any] | None:
        """A new dict of ``attrs`` redacted, ``None`` when nothing changed."""
        ...


# --------------------------------------------------------------------------- generic wrapper


class _Exporter(Protocol):
    """What the SDK's ``SpanExporter`` and ``LogRecordExporter`` both provide."""

    def export(self, batch: Sequence[Any], /) -> Any: ...

    def shutdown(self) -> None: ...

    def force_flush(self, timeout_millis: int = 30000) -> bool: ...


#: The wrapped exporter: a ``SpanExporter`` or a ``LogRecordExporter``.
_ExporterT = TypeVar("_ExporterT", bound=_Exporter)
#: One exported item: a ``ReadableSpan`` or a ``ReadableLogRecord``.
_ItemT = TypeVar("_ItemT")
#: What the wrapped exporter's ``export`` returns: ``SpanExportResult`` or
#: ``LogRecordExportResult``.
_ResultT = TypeVar("_ResultT")


def _blank_strings(value: Any) -> Any:
    """Every string in ``value`` (recursively) replaced with :data:`ERROR_MARKER`."""
    if isinstance(value, str):
        return ERROR_MARKER
    if isinstance(value, Mapping):
        return {k: _blank_strings(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_blank_strings(v) for v in value)
    return value


class _Blank:
    """The fallback :class:`Redacts`: every string replaced by :data:`ERROR_MARKER`."""

    def redact(self, value: Any, key: str | None = None) -> Any:
        return _blank_strings(value)

    def redacted_attributes(self, attrs: Mapping[str, Any]) -> dict[str, Any] | None:
        return {key: _blank_strings(value) for key, value in attrs.items()}


_BLANK = _Blank()


class RedactingExporter(Generic[_ExporterT, _ItemT, _ResultT]):
    """Redacts every item of a batch, then hands the batch to the wrapped exporter.

    The part :class:`RedactingSpanExporter` and :class:`RedactingLogRecordExporter`
    share; a signal's class derives from this one and from its SDK exporter interface.

    Args:
        exporter: the wrapped exporter: it receives the redacted batch and the
            ``shutdown`` and ``force_flush`` calls.
        redactor: what redacts each value; ``None``: a :class:`Redactor` with the
            default detectors.
        redact_item: ``redact_item(item, redacts)``: ``item`` with each of its values
            redacted by ``redacts`` (:class:`Redacts`); ``item`` itself when nothing
            changed. It must never modify ``item``: other processors may hold it.
        strip_item: the last resort, used when ``redact_item`` fails while blanking too:
            a copy of ``item`` without any of the values redaction covers (for a span:
            no attributes, events, links or status).
        item_name: what one item is called in the log line (``"span"``).
        log_first_error: ``True``: the first redaction failure is logged once, at WARNING
            with its traceback, on the ``agentotel.redaction`` logger. ``False``: never
            logged; required for log records, since a log emitted from inside a log
            record exporter could come back to it (Python logging bridged to
            OpenTelemetry logs).

    ``export``, ``shutdown`` and ``force_flush`` follow the exporter interfaces of the
    OpenTelemetry Python SDK (``opentelemetry.sdk.trace.export.SpanExporter``,
    ``opentelemetry.sdk._logs.export.LogRecordExporter``): ``export`` takes a sequence
    of items and returns the wrapped exporter's result unchanged.

    Never raises from redaction: when ``redact_item`` raises with the redactor, the item
    is exported as ``redact_item`` makes it with every string replaced by
    :data:`ERROR_MARKER` (numbers, booleans and structure kept), and :attr:`error_count`
    goes up by one; when that raises too, as ``strip_item`` makes it. Errors of the
    wrapped exporter propagate as they would without the wrapper.
    """

    def __init__(
        self,
        exporter: _ExporterT,
        redactor: Redactor | None,
        *,
        redact_item: Callable[[_ItemT, Redacts], _ItemT],
        strip_item: Callable[[_ItemT], _ItemT],
        item_name: str,
        log_first_error: bool,
    ) -> None:
        self._exporter = exporter
        self._redactor = redactor if redactor is not None else Redactor()
        self._redact_item = redact_item
        self._strip_item = strip_item
        self._item_name = item_name
        self._log_first_error = log_first_error
        #: Items whose redaction failed and that were exported blanked.
        self.error_count = 0

    @property
    def exporter(self) -> _ExporterT:
        """The wrapped exporter."""
        return self._exporter

    def export(self, batch: Sequence[_ItemT]) -> _ResultT:
        """Redact ``batch`` and export it with the wrapped exporter; its result."""
        result: _ResultT = self._exporter.export([self._redacted(item) for item in batch])
        return result

    def _redacted(self, item: _ItemT) -> _ItemT:
        try:
            return self._redact_item(item, self._redactor)
        except Exception:  # noqa: BLE001 - must never raise; fall back to blanking
            self._record_error()
        try:
            return self._redact_item(item, _BLANK)
        except Exception:  # noqa: BLE001
            return self._strip_item(item)

    def _record_error(self) -> None:
        self.error_count += 1
        if self._log_first_error and self.error_count == 1:
            _logger.warning(
                "%s redaction failed; exporting the %s with its strings replaced",
                self._item_name,
                self._item_name,
                exc_info=True,
            )

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter; whether it finished within ``timeout_millis``."""
        return self._exporter.force_flush(timeout_millis)


# --------------------------------------------------------------------------- attributes


def _redacted_mapping(
    attrs: Attributes, redacts: Redacts, dropped: int | None = None
) -> Attributes:
    """``attrs`` redacted; the same object if unchanged. The dropped-attribute count
    (``dropped``, or that of ``attrs`` itself) is carried over."""
    if not attrs:
        return attrs
    # the SDK's BoundedAttributes: its plain dict, not its Mapping methods (a Python call
    # per item), for the iteration
    inner = getattr(attrs, "_dict", None)
    result = redacts.redacted_attributes(inner if inner.__class__ is dict else attrs)
    if result is None:
        return attrs
    return _readable.bounded_attributes(
        result, _readable.dropped(attrs) if dropped is None else dropped
    )


# --------------------------------------------------------------------------- spans


def _redacted_event(event: Event, redacts: Redacts) -> Event:
    attributes = _redacted_mapping(event.attributes, redacts)
    if attributes is event.attributes:
        return event
    return Event(event.name, attributes, event.timestamp)


def _redacted_link(link: Link, redacts: Redacts) -> Link:
    attributes = _redacted_mapping(link.attributes, redacts)
    if attributes is link.attributes:
        return link
    return Link(link.context, attributes)


def _redacted_span(span: ReadableSpan, redacts: Redacts) -> ReadableSpan:
    """A new span with redacted attributes, event/link attributes and status description;
    ``span`` itself when nothing changed. Dropped attribute/event/link counts are kept."""
    # the span's own attributes object (``span.attributes`` makes a new read-only view of
    # it on every access)
    original_attributes = getattr(span, "_attributes", None)
    if original_attributes is None:
        original_attributes = span.attributes
    attributes = _redacted_mapping(original_attributes, redacts, span.dropped_attributes)
    # most spans have no events and no links: no copies nor lists to make and compare
    original_events = _readable.own_events(span)
    original_links = _readable.own_links(span)
    events = [_redacted_event(e, redacts) for e in original_events] if original_events else []
    links = (
        [_redacted_link(link, redacts) for link in original_links] if original_links else []
    )
    status = span.status
    if status.description:
        description = redacts.redact(status.description)
        if description is not status.description:
            status = Status(status.status_code, description)
    if (
        attributes is original_attributes
        and status is span.status
        and (not events or all(n is o for n, o in zip(events, original_events, strict=True)))
        and (not links or all(n is o for n, o in zip(links, original_links, strict=True)))
    ):
        return span
    return _readable.replace(span, attributes=attributes, events=events, links=links, status=status)


def _stripped_span(span: ReadableSpan) -> ReadableSpan:
    """``span`` without attributes, events, links and status: its identity, name, kind,
    timing, resource and scope only."""
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        kind=span.kind,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class RedactingSpanExporter(
    RedactingExporter[SpanExporter, ReadableSpan, SpanExportResult], SpanExporter
):
    """A span exporter that redacts every span, then hands it to ``exporter``.

    Args:
        exporter: the wrapped span exporter.
        redactor: ``None``: a :class:`Redactor` with the default detectors.

    Redacted: span attributes, span event attributes, span link attributes and the status
    description. Not redacted: span and event names, resource attributes. The original
    spans are never modified (other processors may hold them); a changed span is a new
    :class:`~opentelemetry.sdk.trace.ReadableSpan` with the same context, parent, kind,
    timing, resource and scope, its attribute keys in their order, and the dropped
    attribute, event and link counts of the original.

    Redaction runs inside :meth:`export`, i.e. on the ``BatchSpanProcessor`` worker
    thread, never on the thread that ended the span (unless the application configured a
    ``SimpleSpanProcessor``).

    Never raises from redaction: if redacting a span fails (a bug, or an exotic attribute
    value), that span is exported with every string value of its attributes, event and
    link attributes and status description replaced by ``[REDACTED:error]`` -- nothing
    leaks and the span's structure, timing and numbers still arrive. The first failure is
    logged once on the ``agentotel.redaction`` logger; :attr:`error_count` counts them.
    Errors of the wrapped exporter propagate as they would without the wrapper.
    """

    def __init__(self, exporter: SpanExporter, redactor: Redactor | None = None) -> None:
        super().__init__(
            exporter,
            redactor,
            redact_item=_redacted_span,
            strip_item=_stripped_span,
            item_name="span",
            log_first_error=True,
        )


# --------------------------------------------------------------------------- log records


def _redacted_log(record: ReadableLogRecord, redacts: Redacts) -> ReadableLogRecord:
    """A new log record with redacted body and attributes; ``record`` if unchanged."""
    inner = record.log_record
    body = redacts.redact(inner.body)
    attributes = _redacted_mapping(inner.attributes, redacts)
    if body is inner.body and attributes is inner.attributes:
        return record
    new_inner = _copy_log_record(inner)
    new_inner.body = body
    new_inner.attributes = attributes
    return dataclasses.replace(record, log_record=new_inner)


def _copy_log_record(inner: Any) -> Any:
    new = object.__new__(type(inner))
    new.__dict__.update(inner.__dict__)
    return new


def _stripped_log(record: ReadableLogRecord) -> ReadableLogRecord:
    """``record`` with its body replaced by :data:`ERROR_MARKER` and no attributes."""
    new_inner = _copy_log_record(record.log_record)
    new_inner.body = ERROR_MARKER
    new_inner.attributes = None
    return dataclasses.replace(record, log_record=new_inner)


class RedactingLogRecordExporter(
    RedactingExporter[LogRecordExporter, ReadableLogRecord, LogRecordExportResult],
    LogRecordExporter,
):
    """A log record exporter that redacts every record, then hands it to ``exporter``.

    Args:
        exporter: the wrapped log record exporter.
        redactor: ``None``: a :class:`Redactor` with the default detectors.

    Redacted: the body (a string, or a structured value whose strings are redacted and
    whose secret-named keys are replaced) and the attributes. The original records are
    never modified. On an internal error the record is exported with every string of its
    body and attributes replaced by ``[REDACTED:error]`` and :attr:`error_count` goes up;
    unlike :class:`RedactingSpanExporter`, the failure is never logged (a log emitted
    here could come back to this exporter). See :class:`RedactingSpanExporter` for the
    rest of the contract.
    """

    def __init__(self, exporter: LogRecordExporter, redactor: Redactor | None = None) -> None:
        super().__init__(
            exporter,
            redactor,
            redact_item=_redacted_log,
            strip_item=_stripped_log,
            item_name="log record",
            log_first_error=False,
        )

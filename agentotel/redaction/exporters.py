"""Exporters that redact every span and log record before the wrapped exporter sees it."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import AnyValue, Attributes

from agentotel.redaction.detectors import marker
from agentotel.redaction.redactor import Redactor

_logger = logging.getLogger("agentotel.redaction")

#: Replacement for every string of a span or log record that could not be redacted.
ERROR_MARKER: Final = marker("error")


# --------------------------------------------------------------------------- span exporter


def _blank_strings(value: Any) -> Any:
    """Every string in ``value`` (recursively) replaced with :data:`ERROR_MARKER`."""
    if isinstance(value, str):
        return ERROR_MARKER
    if isinstance(value, Mapping):
        return {k: _blank_strings(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_blank_strings(v) for v in value)
    return value


def _redacted_mapping(
    attrs: Attributes, redact: Callable[[Any, str | None], Any], dropped: int | None = None
) -> Attributes:
    """``attrs`` redacted; the same object if unchanged. The dropped-attribute count
    (``dropped``, or that of ``attrs`` itself) is carried over."""
    if not attrs:
        return attrs
    result: dict[str, AnyValue] = {}
    changed = False
    for key, value in attrs.items():
        new = redact(value, key)
        changed = changed or new is not value
        result[key] = new
    if not changed:
        return attrs
    return _bounded_attributes(result, _dropped(attrs) if dropped is None else dropped)


def _dropped(attrs: Attributes) -> int:
    return attrs.dropped if isinstance(attrs, BoundedAttributes) else 0


def _bounded_attributes(attrs: Attributes, dropped: int) -> Attributes:
    """``attrs`` as an immutable :class:`BoundedAttributes` reporting ``dropped``."""
    bounded = BoundedAttributes(maxlen=None, attributes=attrs, immutable=True)
    bounded.dropped = dropped
    return bounded


def _bounded_list(items: Sequence[Any], dropped: int) -> Sequence[Any]:
    """``items`` as a :class:`BoundedList` reporting ``dropped`` (a tuple if none were)."""
    if not dropped:
        return tuple(items)
    bounded: BoundedList[Any] = BoundedList.from_seq(None, items)
    bounded.dropped = dropped
    return bounded


def _redacted_event(event: Event, redact: Callable[[Any, str | None], Any]) -> Event:
    attributes = _redacted_mapping(event.attributes, redact)
    if attributes is event.attributes:
        return event
    return Event(event.name, attributes, event.timestamp)


def _redacted_link(link: Link, redact: Callable[[Any, str | None], Any]) -> Link:
    attributes = _redacted_mapping(link.attributes, redact)
    if attributes is link.attributes:
        return link
    return Link(link.context, attributes)


def _redacted_span(span: ReadableSpan, redact: Callable[[Any, str | None], Any]) -> ReadableSpan:
    """A new span with redacted attributes, event/link attributes and status description;
    ``span`` itself when nothing changed. Dropped attribute/event/link counts are kept."""
    original_attributes = span.attributes  # a new read-only view on every access
    attributes = _redacted_mapping(original_attributes, redact, span.dropped_attributes)
    original_events, original_links = span.events, span.links
    events = [_redacted_event(event, redact) for event in original_events]
    links = [_redacted_link(link, redact) for link in original_links]
    status = span.status
    if status.description:
        description = redact(status.description, None)
        if description is not status.description:
            status = Status(status.status_code, description)
    if (
        attributes is original_attributes
        and status is span.status
        and all(new is old for new, old in zip(events, original_events, strict=True))
        and all(new is old for new, old in zip(links, original_links, strict=True))
    ):
        return span
    if attributes is original_attributes and span.dropped_attributes:
        attributes = _bounded_attributes(attributes, span.dropped_attributes)
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=_bounded_list(events, span.dropped_events),
        links=_bounded_list(links, span.dropped_links),
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _blank(value: Any, key: str | None) -> Any:
    return _blank_strings(value)


class RedactingSpanExporter(SpanExporter):
    """A span exporter that redacts every span, then hands it to ``exporter``.

    Redacted: span attributes, span event attributes, span link attributes and the status
    description. Not redacted: span and event names, resource attributes. The original
    spans are never modified (other processors may hold them); a changed span is a new
    :class:`~opentelemetry.sdk.trace.ReadableSpan`.

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
        self._exporter = exporter
        self._redactor = redactor if redactor is not None else Redactor()
        self.error_count = 0

    @property
    def exporter(self) -> SpanExporter:
        """The wrapped exporter."""
        return self._exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Redact ``spans`` and export them with the wrapped exporter."""
        return self._exporter.export([self._redact(span) for span in spans])

    def _redact(self, span: ReadableSpan) -> ReadableSpan:
        try:
            return _redacted_span(span, self._redactor.redact)
        except Exception:  # noqa: BLE001 - must never raise; fall back to blanking
            self._record_error()
        try:
            return _redacted_span(span, _blank)
        except Exception:  # noqa: BLE001
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

    def _record_error(self) -> None:
        self.error_count += 1
        if self.error_count == 1:
            _logger.warning(
                "span redaction failed; exporting the span with its strings replaced",
                exc_info=True,
            )

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        return self._exporter.force_flush(timeout_millis)


# --------------------------------------------------------------------------- log exporter


def _redacted_log(
    record: ReadableLogRecord, redact: Callable[[Any, str | None], Any]
) -> ReadableLogRecord:
    """A new log record with redacted body and attributes; ``record`` if unchanged."""
    inner = record.log_record
    body = redact(inner.body, None)
    attributes = _redacted_mapping(inner.attributes, redact)
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


class RedactingLogRecordExporter(LogRecordExporter):
    """A log record exporter that redacts every record, then hands it to ``exporter``.

    Redacted: the body (a string, or a structured value whose strings are redacted and
    whose secret-named keys are replaced) and the attributes. The original records are
    never modified. On an internal error the record is exported with every string of its
    body and attributes replaced by ``[REDACTED:error]``; see
    :class:`RedactingSpanExporter` for the rest of the contract.
    """

    def __init__(self, exporter: LogRecordExporter, redactor: Redactor | None = None) -> None:
        self._exporter = exporter
        self._redactor = redactor if redactor is not None else Redactor()
        self.error_count = 0

    @property
    def exporter(self) -> LogRecordExporter:
        """The wrapped exporter."""
        return self._exporter

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        """Redact ``batch`` and export it with the wrapped exporter."""
        return self._exporter.export([self._redact(record) for record in batch])

    def _redact(self, record: ReadableLogRecord) -> ReadableLogRecord:
        try:
            return _redacted_log(record, self._redactor.redact)
        except Exception:  # noqa: BLE001 - must never raise; fall back to blanking
            self.error_count += 1
            # Not logged: a log emitted here could re-enter this exporter.
        try:
            return _redacted_log(record, _blank)
        except Exception:  # noqa: BLE001
            new_inner = _copy_log_record(record.log_record)
            new_inner.body = ERROR_MARKER
            new_inner.attributes = None
            return dataclasses.replace(record, log_record=new_inner)

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._exporter.shutdown()  # type: ignore[no-untyped-call]

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        return self._exporter.force_flush(timeout_millis)

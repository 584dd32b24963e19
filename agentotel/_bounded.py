"""Exporters that keep every OTLP request under the receiver's size limit.

An OTLP/gRPC receiver refuses a request larger than its maximum message size — 4 MiB by
default in the OpenTelemetry Collector (``max_recv_msg_size_mib: 4``) and in gRPC itself
— and it refuses it whole: one span carrying a few megabytes of captured content takes
every other span of its batch down with it. :class:`SizeBoundedSpanExporter` and
:class:`SizeBoundedLogRecordExporter` sit directly in front of the OTLP exporter (after
redaction) and hand it the batch in pieces, each under ``max_bytes`` once encoded:

- the usual batch (its strings add up to less than half the limit) is passed on as it
  is: nothing is encoded twice;
- otherwise each item is measured as OTLP encodes it
  (``opentelemetry-exporter-otlp-proto-common``) and the batch is cut greedily, in order;
- a span that alone exceeds the limit has its longest string attributes cut (with
  :func:`agentotel.content.truncate`'s marker) until it fits, then its events dropped; a
  log record that alone exceeds it is sent alone (its failure no longer costs the others).

``export`` returns ``SUCCESS`` only when every piece was exported. Runs on the batch
processor's thread, never the application's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from agentotel import _readable
from agentotel.content import truncate

#: The default maximum message size of OTLP/gRPC receivers (the Collector's
#: ``max_recv_msg_size_mib``, gRPC's default), in bytes.
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
#: Room left for what one request adds around its items (resource, scope, framing).
_ENVELOPE_BYTES = 64 * 1024
#: Counted per item on top of its strings in the quick estimate (ids, times, names).
_ITEM_OVERHEAD = 256

_ItemT = TypeVar("_ItemT")
_ResultT = TypeVar("_ResultT")


class _SizeBounded(Generic[_ItemT, _ResultT]):
    """What both signals share: the split, the export of each piece, the delegation."""

    def __init__(
        self,
        exporter: Any,
        max_bytes: int,
        *,
        strings: Callable[[_ItemT], int],
        encoded: Callable[[_ItemT], int],
        fit: Callable[[_ItemT, int], _ItemT],
        success: _ResultT,
        failure: _ResultT,
    ) -> None:
        self._exporter = exporter
        self._budget = max(max_bytes - _ENVELOPE_BYTES, max_bytes // 2)
        self._strings = strings
        self._encoded = encoded
        self._fit = fit
        self._success = success
        self._failure = failure

    @property
    def exporter(self) -> Any:
        """The wrapped exporter."""
        return self._exporter

    def export(self, batch: Sequence[_ItemT]) -> _ResultT:
        result = self._success
        for piece in self.pieces(batch):
            if self._exporter.export(piece) != self._success:
                result = self._failure
        return result

    def pieces(self, batch: Sequence[_ItemT]) -> list[Sequence[_ItemT]]:
        """``batch`` cut into consecutive pieces, each under the budget once encoded."""
        quick = sum(self._strings(item) + _ITEM_OVERHEAD for item in batch)
        if quick * 2 < self._budget:
            return [batch] if batch else []
        pieces: list[Sequence[_ItemT]] = []
        current: list[_ItemT] = []
        size = 0
        for item in batch:
            item_size = self._encoded(item)
            if item_size > self._budget:
                item = self._fit(item, self._budget)
                item_size = self._encoded(item)
            if current and size + item_size > self._budget:
                pieces.append(current)
                current, size = [], 0
            current.append(item)
            size += item_size
        if current:
            pieces.append(current)
        return pieces

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self._exporter.force_flush(timeout_millis))


def _string_bytes(values: Any) -> int:
    if not values:
        return 0
    # the SDK's BoundedAttributes: its plain dict (its Mapping methods cost a Python call
    # per item, on every span of every batch)
    inner = getattr(values, "_dict", None)
    total = 0
    for value in (inner if inner.__class__ is dict else values).values():
        cls = value.__class__
        if cls is str:
            total += len(value)
        elif cls is tuple or cls is list:
            # a sequence attribute holds one type: its strings' lengths summed in C
            if value and value[0].__class__ is str:
                try:
                    total += sum(map(len, value))
                except TypeError:  # not all strings after all (a log record's any-value)
                    total += sum(len(v) for v in value if isinstance(v, str))
        elif cls not in _SCALARS and isinstance(value, str):
            total += len(value)
    return total


#: attribute value types without strings (no isinstance check for the commonest)
_SCALARS = frozenset({int, float, bool, type(None), bytes})


def _span_strings(span: ReadableSpan) -> int:
    # the span's own attributes (``span.attributes`` makes a new view on every access)
    attributes = getattr(span, "_attributes", None)
    total = _string_bytes(span.attributes if attributes is None else attributes)
    for event in _readable.own_events(span):
        total += _string_bytes(event.attributes)
    return total


def _span_encoded(span: ReadableSpan) -> int:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    return int(encode_spans([span]).ByteSize())


def _fit_span(span: ReadableSpan, budget: int) -> ReadableSpan:
    """``span`` with its longest string attributes cut (each to the same length, with
    the marker) until it encodes under ``budget``; its events dropped if still over."""
    attributes = dict(span.attributes or {})
    longest = max((len(v) for v in attributes.values() if isinstance(v, str)), default=0)
    low, high = 0, longest
    fitted = span
    while low < high:  # the longest string length at which the span fits
        middle = (low + high + 1) // 2
        candidate = _readable.replace(span, attributes=_cut(attributes, middle))
        if _span_encoded(candidate) <= budget:
            low, fitted = middle, candidate
        else:
            high = middle - 1
    if fitted is span:
        fitted = _readable.replace(span, attributes=_cut(attributes, low))
    if _span_encoded(fitted) > budget:
        fitted = _readable.replace(fitted, events=())
    return fitted


def _cut(attributes: dict[str, Any], length: int) -> dict[str, Any]:
    return {
        key: truncate(value, length) if isinstance(value, str) else value
        for key, value in attributes.items()
    }


class SizeBoundedSpanExporter(_SizeBounded[ReadableSpan, SpanExportResult], SpanExporter):
    """Exports each batch through ``exporter`` in pieces under ``max_bytes`` (bytes,
    encoded OTLP; default 4 MiB, less room for the request's envelope)."""

    def __init__(self, exporter: SpanExporter, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        super().__init__(
            exporter,
            max_bytes,
            strings=_span_strings,
            encoded=_span_encoded,
            fit=_fit_span,
            success=SpanExportResult.SUCCESS,
            failure=SpanExportResult.FAILURE,
        )


def _log_strings(record: ReadableLogRecord) -> int:
    body = record.log_record.body
    return _string_bytes(record.log_record.attributes) + (
        len(body) if isinstance(body, str) else len(str(body or ""))
    )


def _log_encoded(record: ReadableLogRecord) -> int:
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs

    return int(encode_logs([record]).ByteSize())


def _keep_log(record: ReadableLogRecord, _budget: int) -> ReadableLogRecord:
    return record  # sent alone: its failure no longer costs the other records


class SizeBoundedLogRecordExporter(
    _SizeBounded[ReadableLogRecord, LogRecordExportResult], LogRecordExporter
):
    """Exports each batch of log records through ``exporter`` in pieces under
    ``max_bytes`` (bytes, encoded OTLP; default 4 MiB)."""

    def __init__(self, exporter: LogRecordExporter, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        super().__init__(
            exporter,
            max_bytes,
            strings=_log_strings,
            encoded=_log_encoded,
            fit=_keep_log,
            success=LogRecordExportResult.SUCCESS,
            failure=LogRecordExportResult.FAILURE,
        )

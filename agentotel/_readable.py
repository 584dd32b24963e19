"""Changed copies of finished spans.

A finished span (:class:`~opentelemetry.sdk.trace.ReadableSpan`) is immutable and may be
held by other processors, so a step of the export path that changes one (redaction,
cost, re-parenting) builds a copy. :func:`replace` keeps everything it is not told to
change, including the counts of dropped attributes, events and links.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link, SpanContext, Status
from opentelemetry.util.types import Attributes

_KEEP: Any = object()


def dropped(attributes: Attributes) -> int:
    """How many attributes the SDK dropped from ``attributes`` (limits)."""
    return attributes.dropped if isinstance(attributes, BoundedAttributes) else 0


def bounded_attributes(attributes: Attributes, dropped: int) -> Attributes:
    """``attributes`` as an immutable :class:`BoundedAttributes` reporting ``dropped``."""
    bounded = BoundedAttributes(maxlen=None, attributes=attributes, immutable=True)
    bounded.dropped = dropped
    return bounded


def bounded_list(items: Sequence[Any], dropped: int) -> Sequence[Any]:
    """``items`` as a :class:`BoundedList` reporting ``dropped`` (a tuple if none were)."""
    if not dropped:
        return tuple(items)
    bounded: BoundedList[Any] = BoundedList.from_seq(None, items)
    bounded.dropped = dropped
    return bounded


def own_events(span: ReadableSpan) -> Sequence[Event]:
    """The events of a finished ``span`` without a copy: ``span.events`` makes a tuple on
    every access, and the SDK's :class:`BoundedList` copies itself under its lock on every
    iteration (its deque is read instead: a span that has ended gets no more events)."""
    events = getattr(span, "_events", None)
    if events is None:
        return span.events
    return getattr(events, "_dq", events)  # type: ignore[no-any-return]


def own_links(span: ReadableSpan) -> Sequence[Link]:
    """The links of a finished ``span`` without a copy (as :func:`own_events`)."""
    links = getattr(span, "_links", None)
    if links is None:
        return span.links
    return getattr(links, "_dq", links)  # type: ignore[no-any-return]


def replace(
    span: ReadableSpan,
    *,
    attributes: Attributes = _KEEP,
    events: Sequence[Event] = _KEEP,
    links: Sequence[Link] = _KEEP,
    status: Status = _KEEP,
    parent: SpanContext | None = _KEEP,
) -> ReadableSpan:
    """A copy of ``span`` with the given parts replaced; the dropped counts are kept."""
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent if parent is _KEEP else parent,
        resource=span.resource,
        attributes=bounded_attributes(
            span.attributes if attributes is _KEEP else attributes, span.dropped_attributes
        ),
        events=bounded_list(span.events if events is _KEEP else events, span.dropped_events),
        links=bounded_list(span.links if links is _KEEP else links, span.dropped_links),
        kind=span.kind,
        status=span.status if status is _KEEP else status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )

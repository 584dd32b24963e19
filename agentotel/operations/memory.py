"""The memory kind: ``{operation}``, a CLIENT span around one operation on an agent's memory
(conversation buffer, long-term store, vector memory), and the memory-size gauges.

Source: GenAI spans, "Memory" (semantic-conventions-genai, docs/gen-ai/gen-ai-spans.md,
added by open-telemetry/semantic-conventions-genai#140): operations
``create_memory_store``, ``delete_memory_store``, ``create_memory``, ``update_memory``,
``upsert_memory``, ``search_memory``, ``delete_memory``; span name
``{gen_ai.operation.name}``; kind CLIENT (the draft allows INTERNAL for memory systems in
the same process; agentotel always uses its recommended CLIENT); attributes
``gen_ai.memory.store.id``, ``gen_ai.memory.record.id``, ``gen_ai.memory.record.count``,
``gen_ai.provider.name``, ``server.*`` and the opt-in ``gen_ai.memory.query.text`` /
``gen_ai.memory.records``. The draft defines no metrics and no memory type: the memory
type, the outcome and the metrics are agentotel's own (``agentotel.memory.*``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from opentelemetry.trace import SpanKind

from agentotel import content
from agentotel import semconv as sc
from agentotel._errors import safe_str, warn_failure, warn_misuse
from agentotel._instruments import MEMORY_SIZES
from agentotel._runtime import Runtime
from agentotel.operations._operation import (
    Attributes,
    Operation,
    count,
    items,
    optional_text,
    port,
    put,
    text,
)

_OPERATIONS = frozenset(sc.MEMORY_OPERATIONS)
_OPERATIONS_ACCEPTED = (
    ", ".join(sc.MEMORY_OPERATIONS)
    + " (or "
    + ", ".join(f"{word} = {op}" for word, op in sc.MEMORY_OPERATION_ALIASES.items())
    + ")"
)
_RECORDS_ACCEPTED = "an iterable of memory records (mappings, or any value as the content)"


class Memory(Operation):
    """``{operation}`` (e.g. ``search_memory``) — CLIENT span and the memory metrics.

    Span attributes at start (visible to samplers): ``gen_ai.operation.name`` (required;
    one of the draft's seven memory operations), ``gen_ai.memory.store.id`` (the store),
    ``gen_ai.memory.record.id`` (when the operation is on one record),
    ``gen_ai.provider.name``, ``server.address`` / ``server.port`` and
    ``agentotel.memory.type`` (each when given). ``gen_ai.memory.record.count`` from
    :meth:`record_memories`; ``error.type`` on failure. Opt-in content:
    ``gen_ai.memory.query.text`` (:meth:`record_query`) and ``gen_ai.memory.records``
    (:meth:`record_memories`).

    Metrics: ``agentotel.memory.operation.duration`` (histogram, s) and
    ``agentotel.memory.operations`` (counter, {operation}), both with operation, memory
    type, ``agentotel.memory.outcome`` (``success`` / ``error``) and ``error.type``; the
    store and record ids stay on the span.
    """

    __slots__ = (
        "operation",
        "store",
        "memory_type",
        "record_id",
        "provider",
        "server_address",
        "server_port",
    )
    _span_kind = SpanKind.CLIENT
    _api = "agentotel.memory"

    def __init__(
        self,
        operation: str,
        store: str | None = None,
        memory_type: str | None = None,
        record_id: str | None = None,
        provider: str | None = None,
        server_address: str | None = None,
        server_port: int | None = None,
    ) -> None:
        super().__init__(
            (operation, store, memory_type, record_id, provider, server_address, server_port)
        )
        if not (  # the usual case checked inline: no call on the hot path
            operation.__class__ is str
            and operation in _OPERATIONS
            and (store is None or store.__class__ is str)
            and (memory_type is None or memory_type.__class__ is str)
            and (record_id is None or record_id.__class__ is str)
            and (provider is None or provider.__class__ is str)
            and (server_address is None or server_address.__class__ is str)
            and (server_port is None or server_port.__class__ is int and 0 <= server_port < 65536)
        ):
            operation = _operation(operation)
            store = optional_text(store, "agentotel.memory(store)")
            memory_type = optional_text(memory_type, "agentotel.memory(memory_type)")
            record_id = optional_text(record_id, "agentotel.memory(record_id)")
            provider = optional_text(provider, "agentotel.memory(provider)")
            server_address = optional_text(server_address, "agentotel.memory(server_address)")
            server_port = port(server_port, "agentotel.memory(server_port)")
        self.operation = operation
        self.store = store
        self.memory_type = memory_type
        self.record_id = record_id
        self.provider = provider
        self.server_address = server_address
        self.server_port = server_port

    def _span_name(self) -> str:
        return self.operation

    def _start_attributes(self) -> Attributes:
        return put(
            {sc.GEN_AI_OPERATION_NAME: self.operation},
            (
                (sc.GEN_AI_MEMORY_STORE_ID, self.store),
                (sc.GEN_AI_MEMORY_RECORD_ID, self.record_id),
                (sc.GEN_AI_PROVIDER_NAME, self.provider),
                (sc.SERVER_ADDRESS, self.server_address),
                (sc.SERVER_PORT, self.server_port),
                (sc.MEMORY_TYPE, self.memory_type),
            ),
        )

    def record_query(self, query: str) -> None:
        """Opt-in content: the search query (``gen_ai.memory.query.text``, a plain string
        bounded by the content length), on the span with ``SPAN_ONLY``/``SPAN_AND_EVENT``
        (the draft defines no memory event). A value that is not a ``str`` is recorded
        as its ``str`` with a warning."""
        runtime = self._runtime
        if runtime.capture not in content.ON_SPAN:
            return
        try:
            value = text(query, "agentotel.memory.record_query(query)")
            self.span.set_attribute(
                sc.GEN_AI_MEMORY_QUERY_TEXT, content.truncate(value, runtime.content_max_length)
            )
        except Exception:  # noqa: BLE001
            warn_failure("capture a memory query")

    def record_memories(
        self, records: Iterable[Any] | None = None, *, count: int | None = None
    ) -> None:
        """Record the memory records the operation found (``search_memory``) or wrote
        (create / update / upsert / delete).

        ``gen_ai.memory.record.count``: ``count``, else the number of ``records`` (a
        number, not content: always recorded). Opt-in content, on the span with
        ``SPAN_ONLY``/``SPAN_AND_EVENT``: ``gen_ai.memory.records``, JSON following the
        draft's memory-records schema (objects with ``content`` and optionally ``id``,
        ``score``, ``metadata``): a mapping is kept as given, any other value becomes
        ``{"content": value}``. A lone mapping or ``str`` counts as one record.
        """
        try:
            found = None
            if records is not None:
                found = items(
                    records, "agentotel.memory.record_memories(records)", _RECORDS_ACCEPTED
                )
            number = _count(count)
            if number is None and found is not None:
                number = len(found)
            if number is not None:
                self.span.set_attribute(sc.GEN_AI_MEMORY_RECORD_COUNT, number)
            if found is not None and self._runtime.capture in content.ON_SPAN:
                self._set_content(
                    sc.GEN_AI_MEMORY_RECORDS,
                    [item if isinstance(item, Mapping) else {"content": item} for item in found],
                )
        except Exception:  # noqa: BLE001
            warn_failure("record memory records")

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        attributes: Attributes = {sc.GEN_AI_OPERATION_NAME: self.operation}
        if self.memory_type is not None:
            attributes[sc.MEMORY_TYPE] = self.memory_type
        if self._error_type is None:
            attributes[sc.MEMORY_OUTCOME] = sc.MEMORY_OUTCOME_SUCCESS
        else:
            attributes[sc.MEMORY_OUTCOME] = sc.MEMORY_OUTCOME_ERROR
            attributes[sc.ERROR_TYPE] = self._error_type
        instruments = runtime.instruments
        ctx = self._context
        instruments.memory_operation_duration.record(duration_s, attributes, ctx)
        instruments.memory_operations.add(1, attributes, ctx)


def _operation(value: object) -> str:
    """A draft memory operation: as given, or the one an alias names; anything else is
    recorded as given (the conventions allow custom values) with a warning."""
    where = "agentotel.memory(operation)"
    if not isinstance(value, str):
        warn_misuse(where, value, _OPERATIONS_ACCEPTED, "using its str()")
        return safe_str(value)
    name = str.__str__(value)  # a plain str, whatever subclass came in
    if name in _OPERATIONS:
        return name
    alias = sc.MEMORY_OPERATION_ALIASES.get(name)
    if alias is not None:
        return alias
    warn_misuse(where, name, _OPERATIONS_ACCEPTED, "recorded as given")
    return name


def _count(value: object) -> int | None:
    return count(value, "agentotel.memory.record_memories(count)")


def memory(
    operation: str,
    *,
    store: str | None = None,
    memory_type: str | None = None,
    record_id: str | None = None,
    provider: str | None = None,
    server_address: str | None = None,
    server_port: int | None = None,
) -> Memory:
    """A ``{operation}`` span (CLIENT) and the memory metrics for one memory operation.

    ``operation``: ``create_memory_store``, ``delete_memory_store``, ``create_memory``,
    ``update_memory``, ``upsert_memory``, ``search_memory``, ``delete_memory`` (the GenAI
    memory draft), or one of the words ``store`` (= ``upsert_memory``: it does not say
    whether the record exists), ``retrieve`` and ``search`` (= ``search_memory``),
    ``update`` (= ``update_memory``), ``delete`` (= ``delete_memory``). Another name is
    recorded as given, with a warning. ``store``: the memory store's name or id
    (``gen_ai.memory.store.id``); ``memory_type``: e.g. ``short_term``, ``long_term``,
    ``vector``, ``episodic`` (``agentotel.memory.type``, also on the metrics);
    ``record_id``: the one record the operation is on.

    Record results with :meth:`Memory.record_memories`. Context manager or decorator
    (``@agentotel.memory("search_memory", store="kb")``). See :class:`Memory`. Never
    raises.
    """
    if callable(operation):  # a bare @agentotel.memory: there is no operation to name
        warn_misuse(
            "agentotel.memory(operation)",
            operation,
            _OPERATIONS_ACCEPTED,
            "the function is returned undecorated",
        )
        return cast(Memory, operation)
    return Memory(operation, store, memory_type, record_id, provider, server_address, server_port)


# --------------------------------------------------------------------------- memory size
class MemorySize:
    """One memory size the application reports (:func:`memory_size`).

    :meth:`unregister` stops the reports; a registration that was not valid does nothing.
    """

    __slots__ = ("_token",)

    def __init__(self, token: object | None) -> None:
        self._token = token

    @property
    def registered(self) -> bool:
        """``False`` once :meth:`unregister` ran, or when the registration was not valid."""
        return self._token is not None

    def unregister(self) -> None:
        """Stop reporting this size (idempotent)."""
        token, self._token = self._token, None
        if token is not None:
            try:
                MEMORY_SIZES.remove(token)
            except Exception:  # noqa: BLE001
                warn_failure("unregister a memory size")


def memory_size(
    store: str,
    callback: Callable[[], int | float],
    *,
    memory_type: str | None = None,
    unit: str = "record",
) -> MemorySize:
    """Report the size of a memory store on an observable gauge, read at each collection.

    ``callback()`` returns the current size: a number of records with ``unit="record"``
    (gauge ``agentotel.memory.record.count``, {record}) or bytes with ``unit="By"``
    (gauge ``agentotel.memory.size``, By). Attributes: ``gen_ai.memory.store.id`` =
    ``store`` and ``agentotel.memory.type`` = ``memory_type`` (when given). It runs on
    the metric reader's thread, so it must be safe to call from there. A callback that
    raises or returns something other than a number >= 0 is left out of that collection,
    and logged the first time. Registering the same store, type and unit again replaces
    the earlier callback. The gauges exist once per meter provider; a size registered
    before ``init()`` is reported on the providers ``init()`` installs.

    Returns a :class:`MemorySize` whose ``unregister()`` stops the reports. Never raises:
    an invalid argument is named in a warning and nothing is registered.
    """
    try:
        metric = sc.MEMORY_SIZE_UNITS.get(unit) if isinstance(unit, str) else None
        if metric is None:
            accepted = ", ".join(sc.MEMORY_SIZE_UNITS)
            warn_misuse("agentotel.memory_size(unit)", unit, accepted, "not registered")
            return MemorySize(None)
        if not callable(callback):
            warn_misuse(
                "agentotel.memory_size(callback)",
                callback,
                "a function returning the size",
                "not registered",
            )
            return MemorySize(None)
        name = text(store, "agentotel.memory_size(store)")
        attributes: Attributes = {sc.GEN_AI_MEMORY_STORE_ID: name}
        kind = optional_text(memory_type, "agentotel.memory_size(memory_type)")
        if kind is not None:
            attributes[sc.MEMORY_TYPE] = kind
        return MemorySize(MEMORY_SIZES.add(metric, attributes, callback))
    except Exception:  # noqa: BLE001
        warn_failure("register a memory size")
        return MemorySize(None)

"""The retrieval kind: ``retrieval {data source id}``, a CLIENT span around one lookup in a
vector database, search index or other data source (the R of RAG).

Source: GenAI spans, "Retrievals" (semantic-conventions-genai, docs/gen-ai/gen-ai-spans.md),
as implemented by ``opentelemetry-util-genai`` 1.3b0 (``_retrieval_invocation.py``,
``TelemetryHandler.retrieval``): the same span name, kind and attributes, and
``gen_ai.client.operation.duration`` as the only metric (the helper has no retrieval
metric of its own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from time import perf_counter as default_timer
from typing import Any, TypeVar, overload

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind

from agentotel import content
from agentotel import semconv as sc
from agentotel._errors import warn_failure
from agentotel._runtime import Runtime
from agentotel.operations import _retrieval_context
from agentotel.operations._operation import (
    _ACTIVE,
    Attributes,
    Operation,
    count,
    items,
    optional_text,
    port,
    put,
    text,
)

_F = TypeVar("_F", bound=Callable[..., Any])
_DOCUMENTS_ACCEPTED = "an iterable of documents (mappings, ids, (document, score) pairs, objects)"


class Retrieval(Operation):
    """``retrieval {data_source_id}`` (``retrieval`` without one) — CLIENT span and
    ``gen_ai.client.operation.duration``.

    Span attributes at start (visible to samplers): ``gen_ai.operation.name`` =
    ``retrieval`` (required), ``gen_ai.data_source.id``, ``gen_ai.provider.name``,
    ``gen_ai.request.model`` (the embedding model, when the lookup embeds the query),
    ``server.address`` / ``server.port``, ``gen_ai.retrieval.top_k`` (each when given).
    ``agentotel.retrieval.document.count`` from :meth:`record_documents`; ``error.type``
    on failure. Opt-in content: ``gen_ai.retrieval.query.text`` and
    ``gen_ai.retrieval.documents`` (see :meth:`record_query`, :meth:`record_documents`).

    Metric: ``gen_ai.client.operation.duration`` (histogram, s; operation, provider,
    request model, server address/port, ``error.type``; never the data source id).

    Takes part in ``opentelemetry-util-genai``'s retrieval nesting contract: a retriever
    instrumented with the helper (LangChain's, Bedrock's ``retrieve``) running inside it
    adds its facts to this span instead of making a second one; started inside another
    retrieval, it makes no span and hands its facts to the outer one.
    """

    __slots__ = (
        "data_source_id",
        "provider",
        "request_model",
        "server_address",
        "server_port",
        "top_k",
        "_query",
        "_documents",
        "_count",
        "_inner",
        "_outer",
    )
    _span_kind = SpanKind.CLIENT
    _api = "agentotel.retrieval"

    def __init__(
        self,
        data_source_id: str | None = None,
        provider: str | None = None,
        request_model: str | None = None,
        server_address: str | None = None,
        server_port: int | None = None,
        top_k: int | None = None,
    ) -> None:
        super().__init__(
            (data_source_id, provider, request_model, server_address, server_port, top_k)
        )
        if not (  # the usual case checked inline: no call on the hot path
            (data_source_id is None or data_source_id.__class__ is str)
            and (provider is None or provider.__class__ is str)
            and (request_model is None or request_model.__class__ is str)
            and (server_address is None or server_address.__class__ is str)
            and (server_port is None or server_port.__class__ is int and 0 <= server_port < 65536)
            and (top_k is None or top_k.__class__ is int and top_k >= 0)
        ):
            data_source_id = optional_text(data_source_id, "agentotel.retrieval(data_source_id)")
            provider = optional_text(provider, "agentotel.retrieval(provider)")
            request_model = optional_text(request_model, "agentotel.retrieval(request_model)")
            server_address = optional_text(server_address, "agentotel.retrieval(server_address)")
            server_port = port(server_port, "agentotel.retrieval(server_port)")
            top_k = count(top_k, "agentotel.retrieval(top_k)")
        self.data_source_id = data_source_id
        self.provider = provider
        self.request_model = request_model
        self.server_address = server_address
        self.server_port = server_port
        self.top_k = top_k
        self._query: str | None = None  # kept when content is captured
        self._documents: list[Any] | None = None  # the same
        self._count: int | None = None
        self._inner: Any = None  # RetrievalData inner instrumented retrievers fill in
        self._outer: Any = None  # RetrievalData of the retrieval this one runs inside

    # -- the nesting contract -----------------------------------------------------------
    def _begin(self, *, attach: bool) -> None:
        contract = _retrieval_context.loaded()
        if contract is not None:
            try:
                self._outer = contract.outer(otel_context.get_current())
                if self._outer is None:
                    self._inner = contract.new_data(self._runtime.capture != content.NO_CONTENT)
            except Exception:  # noqa: BLE001
                warn_failure("join the GenAI retrieval context")
        if self._outer is None:
            super()._begin(attach=attach)
            return
        # inside another retrieval: no span of its own (util-genai's nesting contract)
        self._state = _ACTIVE
        self._start = default_timer()

    def _enter_context(self, ctx: Context) -> Context:
        if self._inner is not None:
            return _retrieval_context.enter(ctx, self._inner)
        return ctx

    # -- span -----------------------------------------------------------------------------
    def _span_name(self) -> str:
        # util-genai: "retrieval {id}" when the id is non-empty, else "retrieval"
        if self.data_source_id:
            return f"{sc.OP_RETRIEVAL} {self.data_source_id}"
        return sc.OP_RETRIEVAL

    def _start_attributes(self) -> Attributes:
        return put(
            {sc.GEN_AI_OPERATION_NAME: sc.OP_RETRIEVAL},
            (
                (sc.GEN_AI_DATA_SOURCE_ID, self.data_source_id),
                (sc.GEN_AI_PROVIDER_NAME, self.provider),
                (sc.GEN_AI_REQUEST_MODEL, self.request_model),
                (sc.SERVER_ADDRESS, self.server_address),
                (sc.SERVER_PORT, self.server_port),
                (sc.GEN_AI_RETRIEVAL_TOP_K, self.top_k),
            ),
        )

    # -- what the application records ----------------------------------------------------
    def record_query(self, query: str) -> None:
        """Opt-in content: the query text (``gen_ai.retrieval.query.text``, a plain string
        bounded by the content length).

        Captured on the span with ``SPAN_ONLY``/``SPAN_AND_EVENT`` (the conventions define
        no retrieval event); ``NO_CONTENT``: nothing. A value that is not a ``str`` is
        recorded as its ``str`` with a warning.
        """
        runtime = self._runtime
        if runtime.capture == content.NO_CONTENT:
            return
        try:
            value = text(query, "agentotel.retrieval.record_query(query)")
            self._query = content.truncate(value, runtime.content_max_length)
            if runtime.capture in content.ON_SPAN:
                self.span.set_attribute(sc.GEN_AI_RETRIEVAL_QUERY_TEXT, self._query)
        except Exception:  # noqa: BLE001
            warn_failure("capture a retrieval query")

    def record_documents(self, documents: Iterable[Any]) -> None:
        """Record the documents the lookup returned.

        Always: their number (``agentotel.retrieval.document.count``; a number, not
        content). Opt-in content, on the span with ``SPAN_ONLY``/``SPAN_AND_EVENT``:
        ``gen_ai.retrieval.documents``, JSON following the conventions' retrieval-documents
        schema (objects with ``id`` and ``score``). Each document may be a mapping (kept as
        given, e.g. ``{"id": "doc-7", "score": 0.82}``), a ``str`` (its id), a
        ``(document, score)`` pair (as vector stores' ``..._with_score`` searches return)
        or an object with ``id`` / ``score`` attributes (``opentelemetry-util-genai``'s
        ``RetrievalDocument``, LangChain's ``Document``); the text of a document is never
        taken from an object. A lone mapping or ``str`` counts as one document.
        """
        try:
            found = items(
                documents, "agentotel.retrieval.record_documents(documents)", _DOCUMENTS_ACCEPTED
            )
            if found is None:
                return
            self._count = len(found)
            self.span.set_attribute(sc.RETRIEVAL_DOCUMENT_COUNT, self._count)
            runtime = self._runtime
            if runtime.capture == content.NO_CONTENT:
                return
            self._documents = content.to_plain(
                [_document(item) for item in found], runtime.content_max_length
            )
            if runtime.capture in content.ON_SPAN:
                self._set_content(sc.GEN_AI_RETRIEVAL_DOCUMENTS, self._documents)
        except Exception:  # noqa: BLE001
            warn_failure("record retrieval documents")

    # -- the end ---------------------------------------------------------------------------
    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        own = self._start_attributes()
        if self._outer is not None:  # inside another retrieval: publish, record nothing
            _retrieval_context.publish(self._outer, own, self._query, self._documents)
            return
        extra: Attributes = {}
        if self._inner is not None:
            learned = {
                key: value
                for key, value in _retrieval_context.attributes_of(self._inner).items()
                if key not in own
            }
            if learned:
                own.update(learned)
                self.span.set_attributes(learned)
            self._learn_content(self._inner, runtime)
            extra = _retrieval_context.metric_attributes_of(self._inner)
        attributes: Attributes = {sc.GEN_AI_OPERATION_NAME: sc.OP_RETRIEVAL}
        for key in (sc.GEN_AI_PROVIDER_NAME, sc.GEN_AI_REQUEST_MODEL, sc.SERVER_ADDRESS):
            if key in own:
                attributes[key] = own[key]
        if sc.SERVER_PORT in own:
            attributes[sc.SERVER_PORT] = own[sc.SERVER_PORT]
        for key, value in extra.items():
            attributes.setdefault(key, value)
        runtime.instruments.operation_duration.record(
            duration_s, self._with_error(attributes), self._context
        )

    def _learn_content(self, data: Any, runtime: Runtime) -> None:
        """The query and documents an inner retriever published (it does so only when
        both sides capture content), where this retrieval recorded none of its own."""
        query = getattr(data, _retrieval_context.QUERY_FIELD, None)
        documents = getattr(data, _retrieval_context.DOCUMENTS_FIELD, None)
        if self._count is None and documents is not None:
            try:
                self._count = len(documents)
                self.span.set_attribute(sc.RETRIEVAL_DOCUMENT_COUNT, self._count)
            except Exception:  # noqa: BLE001 - not a sequence: no count
                pass
        if runtime.capture not in content.ON_SPAN:
            return
        if self._query is None and isinstance(query, str):
            self.span.set_attribute(
                sc.GEN_AI_RETRIEVAL_QUERY_TEXT, content.truncate(query, runtime.content_max_length)
            )
        if self._documents is None and documents is not None:
            self._set_content(
                sc.GEN_AI_RETRIEVAL_DOCUMENTS, [_document(item) for item in documents]
            )


def _document(item: Any) -> Any:
    """One document in the retrieval-documents shape (``{"id", "score"}`` for objects)."""
    if isinstance(item, Mapping):
        return item
    if isinstance(item, str):
        return {"id": item}
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], (int, float)):
        found = _document(item[0])
        return {**found, "score": item[1]} if isinstance(found, Mapping) else found
    found = {}
    for field in ("id", "score"):
        try:
            value = getattr(item, field, None)
        except Exception:  # noqa: BLE001 - a hostile property
            value = None
        if value is not None:
            found[field] = value
    return found


@overload
def retrieval(
    data_source_id: str | None = None,
    *,
    provider: str | None = None,
    request_model: str | None = None,
    server_address: str | None = None,
    server_port: int | None = None,
    top_k: int | None = None,
) -> Retrieval: ...
@overload
def retrieval(data_source_id: _F) -> _F: ...
def retrieval(
    data_source_id: Any = None,
    *,
    provider: str | None = None,
    request_model: str | None = None,
    server_address: str | None = None,
    server_port: int | None = None,
    top_k: int | None = None,
) -> Any:
    """A ``retrieval {data_source_id}`` span (CLIENT) and ``gen_ai.client.operation.duration``.

    ``data_source_id``: the data source's identifier in the GenAI system (a knowledge
    base, index or collection id); ``provider``: e.g. ``openai``, ``aws.bedrock``, or the
    vector store; ``request_model``: the embedding model, when the lookup embeds the
    query; ``top_k``: how many documents were asked for. Record what came back with
    :meth:`Retrieval.record_documents` (and the query with :meth:`Retrieval.record_query`).

    Context manager or decorator; a bare ``@agentotel.retrieval`` makes spans named
    ``retrieval`` (a function's name is not a data source id). See :class:`Retrieval`.
    Never raises.
    """
    if callable(data_source_id):
        return Retrieval()(data_source_id)
    return Retrieval(data_source_id, provider, request_model, server_address, server_port, top_k)

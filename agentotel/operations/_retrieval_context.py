"""One span per retrieval: the nesting contract of ``opentelemetry-util-genai`` for retrievals.

The same rule as for inferences (:mod:`._genai_context`), under its own context key: a
retrieval started while the context holds an active retrieval's ``RetrievalData`` under
``CLIENT_RETRIEVAL_CONTEXT_KEY`` makes no span and no metrics; when it finishes it writes
what it knows (data source, provider, model, server, top-k, and — when both sides capture
content — the query and the documents) into that ``RetrievalData``, and the outer
retrieval reads it at its end, keeping its own values. ``agentotel.retrieval()`` takes
both roles: an instrumented retriever inside it (LangChain's, Bedrock's ``retrieve``)
adds its facts to agentotel's span; started inside another retrieval it publishes its
facts to the outer one.

Nothing here is loaded until some module has imported ``opentelemetry-util-genai``'s
handler: before that no instrumented retrieval can exist.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context

from agentotel import semconv as sc

_MODULE = "opentelemetry.util.genai.invocation"
_HANDLER = "opentelemetry.util.genai.handler"  # imported by every instrumentation using it

#: span attribute -> ``RetrievalData`` field, in both directions (content apart).
FIELDS: Mapping[str, str] = {
    sc.GEN_AI_DATA_SOURCE_ID: "data_source_id",
    sc.GEN_AI_PROVIDER_NAME: "provider_name",
    sc.GEN_AI_REQUEST_MODEL: "request_model",
    sc.SERVER_ADDRESS: "server_address",
    sc.SERVER_PORT: "server_port",
    sc.GEN_AI_RETRIEVAL_TOP_K: "retrieval_top_k",
}
QUERY_FIELD = "retrieval_query_text"
DOCUMENTS_FIELD = "retrieval_documents"
_NEEDED = frozenset(
    {*FIELDS.values(), QUERY_FIELD, DOCUMENTS_FIELD, "capture_content", "attributes"}
)


class _Contract:
    """The loaded contract: the context key and the data class."""

    __slots__ = ("key", "data_class")

    def __init__(self) -> None:
        module = sys.modules.get(_MODULE) or importlib.import_module(_MODULE)
        self.key: str = module.CLIENT_RETRIEVAL_CONTEXT_KEY
        self.data_class: Any = module.RetrievalData
        missing = _NEEDED - {f.name for f in dataclasses.fields(self.data_class)}
        if missing:  # another version's shape: no participation
            raise TypeError(f"RetrievalData lacks {sorted(missing)}")

    def new_data(self, capture_content: bool) -> Any:
        """A fresh ``RetrievalData``; with ``capture_content`` an inner retrieval may
        publish its query and documents into it."""
        data = self.data_class()
        data.capture_content = capture_content
        return data

    def outer(self, ctx: Context) -> Any | None:
        """The active retrieval's data in ``ctx``, if there is one."""
        value = otel_context.get_value(self.key, ctx)
        return value if isinstance(value, self.data_class) else None


_contract: _Contract | None = None


def loaded() -> _Contract | None:
    """The contract, once ``opentelemetry-util-genai``'s handler has been imported."""
    global _contract
    if _contract is None and _HANDLER in sys.modules:
        try:
            _contract = _Contract()
        except Exception:  # noqa: BLE001 - another version's shape: no participation
            return None
    return _contract


def enter(ctx: Context, data: Any) -> Context:
    """``ctx`` holding ``data`` as the active retrieval's (the contract is loaded)."""
    return otel_context.set_value(_contract.key, data, ctx)  # type: ignore[union-attr]


def attributes_of(data: Any) -> dict[str, Any]:
    """The span attributes an inner retrieval published into ``data`` (``None``s left
    out), with the extra attributes it set (``data.attributes``)."""
    found: dict[str, Any] = {}
    extra = getattr(data, "attributes", None)
    if isinstance(extra, Mapping):
        found.update(extra)
    for attribute, field in FIELDS.items():
        value = getattr(data, field, None)
        if value is None:
            continue
        if attribute in (sc.SERVER_PORT, sc.GEN_AI_RETRIEVAL_TOP_K) and (
            not isinstance(value, int) or isinstance(value, bool)
        ):
            continue  # ints, whoever wrote them
        found[attribute] = value
    return found


def metric_attributes_of(data: Any) -> dict[str, Any]:
    """The extra metric attributes an inner retrieval published (``data.metric_attributes``)."""
    extra = getattr(data, "metric_attributes", None)
    return dict(extra) if isinstance(extra, Mapping) else {}


def publish(
    data: Any, attributes: Mapping[str, Any], query: str | None, documents: list[Any] | None
) -> None:
    """Write ``attributes`` (and, when the outer captures content, ``query`` and
    ``documents``) into an outer retrieval's ``data``, as an inner retrieval does
    (overwriting; the outer keeps its own values when it reads them)."""
    for attribute, value in attributes.items():
        field = FIELDS.get(attribute)
        if field is not None and value is not None:
            setattr(data, field, value)
    if getattr(data, "capture_content", False):
        if query is not None:
            setattr(data, QUERY_FIELD, query)
        if documents is not None:
            setattr(data, DOCUMENTS_FIELD, documents)

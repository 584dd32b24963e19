"""One span per model request: the nesting contract of ``opentelemetry-util-genai``.

The official GenAI instrumentations (built on ``opentelemetry-util-genai`` 1.3b0) share
one rule: an inference started while the context holds an active inference's
``InferenceData`` under ``CLIENT_INFERENCE_CONTEXT_KEY`` makes no span and no metrics;
when it finishes it writes what it learned (response model and id, finish reasons,
usage, request parameters) into that ``InferenceData``, and the outer inference reads it
at its end. ``agentotel.llm()`` takes part in both roles:

- outer: it puts a fresh ``InferenceData`` in its span's context, so an instrumented SDK
  call inside it (OpenAI, Anthropic, LangChain, ...) adds its facts to agentotel's span
  instead of making a second one;
- inner: started inside another inference (an instrumented framework's, or another
  ``agentotel.llm()``), it makes no span and no metrics and publishes its facts to the
  outer one.

Embeddings have a contract of their own, the same rule under
``CLIENT_EMBEDDING_CONTEXT_KEY`` with an ``EmbeddingData``: ``agentotel.llm(...,
operation="embeddings")`` takes part in that one (an instrumented embeddings call inside
it adds its dimension count, usage and response model to agentotel's span), and an
embeddings call and an inference never suppress each other, as in util-genai.

``opentelemetry-util-genai`` is not a dependency of agentotel: it comes with the
instrumentations. Until some module has imported it, no inner inference can exist, and
the contract costs one dictionary lookup per LLM call.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context

from agentotel import semconv as sc

_MODULE = "opentelemetry.util.genai.invocation"
_HANDLER = "opentelemetry.util.genai.handler"  # imported by every instrumentation using it

#: span attribute -> ``InferenceData`` field, in both directions.
FIELDS: Mapping[str, str] = {
    sc.GEN_AI_PROVIDER_NAME: "provider_name",
    sc.GEN_AI_REQUEST_MODEL: "request_model",
    sc.GEN_AI_RESPONSE_MODEL: "response_model",
    sc.GEN_AI_RESPONSE_ID: "response_id",
    sc.GEN_AI_RESPONSE_FINISH_REASONS: "response_finish_reasons",
    sc.GEN_AI_USAGE_INPUT_TOKENS: "usage_input_tokens",
    sc.GEN_AI_USAGE_OUTPUT_TOKENS: "usage_output_tokens",
    sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: "usage_cache_read_input_tokens",
    sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: "usage_cache_write_input_tokens",
    sc.SERVER_ADDRESS: "server_address",
    sc.SERVER_PORT: "server_port",
    sc.GEN_AI_CONVERSATION_ID: "conversation_id",
    sc.GEN_AI_REQUEST_PARAMS["output_type"]: "output_type",
    # streaming (InferenceData) and embeddings (EmbeddingData)
    sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: "response_time_to_first_chunk",
    sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: "embeddings_dimension_count",
    sc.GEN_AI_REQUEST_ENCODING_FORMATS: "request_encoding_formats",
    **{
        attribute: f"request_{keyword}"
        for keyword, attribute in sc.GEN_AI_REQUEST_PARAMS.items()
        if keyword not in ("output_type", "encoding_formats")
    },
}


_CACHE_COUNTS = frozenset(
    {sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, sc.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS}
)
_COUNTS = _CACHE_COUNTS | {
    sc.GEN_AI_USAGE_INPUT_TOKENS,
    sc.GEN_AI_USAGE_OUTPUT_TOKENS,
    sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
}


def _checked(data_class: Any) -> Any:
    """``data_class``, if every field but the two dictionaries has a class default."""
    missing = [
        f.name
        for f in dataclasses.fields(data_class)
        if not hasattr(data_class, f.name) and f.name not in ("attributes", "metric_attributes")
    ]
    if missing:  # a version whose fields new_data() would leave unset
        raise TypeError(f"{data_class.__name__} fields without a class default: {missing}")
    return data_class


class _Contract:
    """The loaded contract: the context keys and the data classes (inference, embeddings)."""

    __slots__ = ("key", "data_class", "embedding_key", "embedding_class")

    def __init__(self) -> None:
        module = sys.modules.get(_MODULE) or __import__(_MODULE, fromlist=["InferenceData"])
        self.key: str = module.CLIENT_INFERENCE_CONTEXT_KEY
        self.data_class: Any = _checked(module.InferenceData)
        self.embedding_key: str = module.CLIENT_EMBEDDING_CONTEXT_KEY
        self.embedding_class: Any = _checked(module.EmbeddingData)

    def new_data(self, capture_content: bool, embeddings: bool = False) -> Any:
        """A fresh ``InferenceData``, built cheaply: its fields' defaults are class
        attributes (a dataclass keeps them there) except the two dictionaries, so only
        those and the two flags are set (constructing one through its 60-argument
        ``__init__`` costs 6 µs).

        With ``capture_content``, an inner call also hands its messages to its completion
        hook (``upload_completion``) with the current span — agentotel's — which is how
        agentotel's content hook puts them on the outer span.

        With ``embeddings``, an ``EmbeddingData`` (util-genai's suppressed embeddings
        calls capture no content).
        """
        data_class = self.embedding_class if embeddings else self.data_class
        data = data_class.__new__(data_class)
        data.attributes = {}
        data.metric_attributes = {}
        data.capture_content = data.upload_completion = capture_content and not embeddings
        return data

    def outer(self, ctx: Context, embeddings: bool = False) -> Any | None:
        """The active inference's (embeddings call's) data in ``ctx``, if there is one."""
        if embeddings:
            value = otel_context.get_value(self.embedding_key, ctx)
            return value if isinstance(value, self.embedding_class) else None
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
    """``ctx`` holding ``data`` as the active inference's, or embeddings call's (the
    contract is loaded)."""
    contract: _Contract = _contract  # type: ignore[assignment]
    key = contract.key if data.__class__ is contract.data_class else contract.embedding_key
    return otel_context.set_value(key, data, ctx)


def filled(data: Any) -> bool:
    """Whether an inner inference wrote into ``data`` (each names its provider)."""
    return data.provider_name is not None or bool(data.attributes)


def attributes_of(data: Any) -> dict[str, Any]:
    """The span attributes an inner inference published into ``data`` (``None``s left out),
    with the extra attributes it set (``data.attributes``)."""
    found: dict[str, Any] = {}
    extra = getattr(data, "attributes", None)
    if isinstance(extra, Mapping):
        found.update(extra)
    for attribute, field in FIELDS.items():
        value = getattr(data, field, None)
        if value is None:
            continue
        if attribute in _COUNTS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                continue  # token counts are ints, whoever wrote them
            if value == 0 and attribute in _CACHE_COUNTS:
                continue  # zero cache counts are left off, as util-genai does
        found[attribute] = list(value) if isinstance(value, (list, tuple)) else value
    return found


def publish(data: Any, attributes: Mapping[str, Any]) -> None:
    """Write ``attributes`` into an outer inference's ``data``, as an inner inference does
    (overwriting; the outer keeps its own values when it reads them). Fields the data
    class does not have (an inference's finish reasons in an ``EmbeddingData``) are left
    out."""
    for attribute, value in attributes.items():
        field = FIELDS.get(attribute)
        if field is not None and value is not None and hasattr(data, field):
            setattr(data, field, list(value) if isinstance(value, tuple) else value)

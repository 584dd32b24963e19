"""The tool kind: ``execute_tool {name}``, an INTERNAL span around one tool call.

Source: GenAI spans, "Execute tool span"
(https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/#execute-tool-span), as
implemented by ``opentelemetry-util-genai`` 1.3b0 (``_tool_invocation.py``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar, overload

from agentotel import semconv as sc
from agentotel._errors import warn_failure
from agentotel._runtime import Runtime
from agentotel.operations._operation import (
    Attributes,
    Operation,
    callable_name,
    optional_text,
    put,
    text,
)

_F = TypeVar("_F", bound=Callable[..., Any])


class Tool(Operation):
    """``execute_tool {name}`` — INTERNAL span and ``gen_ai.execute_tool.duration``.

    Span attributes:

    - ``gen_ai.operation.name`` = ``execute_tool`` (required);
    - ``gen_ai.tool.name`` (recommended; set at start);
    - ``gen_ai.tool.type`` (``function``, ``extension``, ``datastore``; recommended);
    - ``gen_ai.tool.call.id``, ``gen_ai.tool.description`` (when given);
    - ``error.type`` (on failure);
    - ``gen_ai.tool.call.arguments`` / ``gen_ai.tool.call.result`` (opt-in content, JSON
      on the span; the decorator form records the call's arguments and return value).

    Metric: ``gen_ai.execute_tool.duration`` (histogram, s; tool name, tool type,
    ``error.type``, also when a layer inside marked the span failed: an MCP ``tools/call``
    whose result is ``isError`` gives ``tool_error``).
    """

    __slots__ = ("name", "type", "description", "call_id")
    _api = "agentotel.tool"

    def __init__(
        self,
        name: str,
        type: str | None = "function",  # noqa: A002 - the spec's attribute is gen_ai.tool.type
        description: str | None = None,
        call_id: str | None = None,
    ) -> None:
        super().__init__((name, type, description, call_id))
        if not (  # the usual case checked inline: no call on the hot path
            name.__class__ is str
            and (type is None or type.__class__ is str)
            and (description is None or description.__class__ is str)
            and (call_id is None or call_id.__class__ is str)
        ):
            name = text(name, "agentotel.tool(name)")
            type = optional_text(type, "agentotel.tool(type)")  # noqa: A001
            description = optional_text(description, "agentotel.tool(description)")
            call_id = optional_text(call_id, "agentotel.tool(call_id)")
        self.name = name
        self.type = type
        self.description = description
        self.call_id = call_id

    def _span_name(self) -> str:
        return f"{sc.OP_EXECUTE_TOOL} {self.name}"

    def _start_attributes(self) -> Attributes:
        return put(
            {sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: self.name},
            (
                (sc.GEN_AI_TOOL_TYPE, self.type),
                (sc.GEN_AI_TOOL_CALL_ID, self.call_id),
                (sc.GEN_AI_TOOL_DESCRIPTION, self.description),
            ),
        )

    def record_arguments(self, arguments: Any) -> None:
        """Opt-in content: the tool's arguments (``gen_ai.tool.call.arguments``, JSON).

        Captured on the span with ``SPAN_ONLY``/``SPAN_AND_EVENT`` (the conventions define
        no tool event). Any value: what JSON cannot hold is written as its ``str``, bounded
        by the content length (:func:`agentotel.content.to_json`).
        """
        self._set_content(sc.GEN_AI_TOOL_CALL_ARGUMENTS, arguments)

    def record_result(self, result: Any) -> None:
        """Opt-in content: the tool's result (``gen_ai.tool.call.result``, JSON)."""
        self._set_content(sc.GEN_AI_TOOL_CALL_RESULT, result)

    def _on_call(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        try:
            arguments: Any = dict(inspect.signature(fn).bind_partial(*args, **kwargs).arguments)
        except Exception:  # noqa: BLE001 - no signature, or arguments that do not bind
            arguments = {"args": list(args), **kwargs}
        try:
            self.record_arguments(arguments)
        except Exception:  # noqa: BLE001
            warn_failure("capture tool arguments")

    def _on_return(self, value: Any) -> None:
        self.record_result(value)

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        if self._error_type is None:  # a layer inside marked the span failed (an MCP
            self._error_type = _marked_error(self.span)  # tools/call's isError result)
        attributes: Attributes = {sc.GEN_AI_TOOL_NAME: self.name}
        if self.type is not None:
            attributes[sc.GEN_AI_TOOL_TYPE] = self.type
        runtime.instruments.execute_tool_duration.record(
            duration_s, self._with_error(attributes), self._context
        )


def _marked_error(span: Any) -> str | None:
    """The ``error.type`` another layer set on the live span, if any."""
    attributes = getattr(span, "attributes", None)
    value = attributes.get(sc.ERROR_TYPE) if attributes else None
    return value if isinstance(value, str) else None


@overload
def tool(
    name: str,
    *,
    type: str | None = "function",  # noqa: A002
    description: str | None = None,
    call_id: str | None = None,
) -> Tool: ...
@overload
def tool(name: _F) -> _F: ...
def tool(
    name: Any,
    *,
    type: str | None = "function",  # noqa: A002
    description: str | None = None,
    call_id: str | None = None,
) -> Any:
    """An ``execute_tool {name}`` span (INTERNAL) and ``gen_ai.execute_tool.duration`` (s).

    Context manager or decorator; bare ``@agentotel.tool`` takes the function's name.
    See :class:`Tool` for the attributes. Never raises.
    """
    if callable(name):
        return Tool(callable_name(name))(name)
    return Tool(name, type, description, call_id)

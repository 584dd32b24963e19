"""The workflow kind: ``invoke_workflow {name}``, an INTERNAL span around a whole run.

Source: GenAI agent spans, "Invoke workflow"
(https://github.com/open-telemetry/semantic-conventions-genai), as implemented by
``opentelemetry-util-genai`` 1.3b0 (``_workflow_invocation.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from opentelemetry.context import Context

from agentotel import semconv as sc
from agentotel._runtime import Runtime
from agentotel.operations._operation import (
    Attributes,
    MessagesOperation,
    callable_name,
    inherited_conversation,
    optional_text,
    text,
    with_conversation,
)

_F = TypeVar("_F", bound=Callable[..., Any])


class Workflow(MessagesOperation):
    """``invoke_workflow {name}`` — INTERNAL span and ``gen_ai.invoke_workflow.duration``.

    Span attributes:

    - ``gen_ai.operation.name`` = ``invoke_workflow`` (required);
    - ``gen_ai.workflow.name`` (set at start);
    - ``gen_ai.conversation.id`` (conditionally required: when given or inherited);
    - ``error.type`` (conditionally required: on failure);
    - ``gen_ai.input.messages`` / ``gen_ai.output.messages`` (opt-in content).

    Metric: ``gen_ai.invoke_workflow.duration`` (histogram, s; workflow name,
    ``error.type``). A ``conversation_id`` given here is inherited by the agent and LLM
    spans inside.
    """

    __slots__ = ("name", "conversation_id")
    _api = "agentotel.workflow"

    def __init__(self, name: str, conversation_id: str | None = None) -> None:
        super().__init__((name, conversation_id))
        if not (  # the usual case checked inline: no call on the hot path
            name.__class__ is str
            and (conversation_id is None or conversation_id.__class__ is str)
        ):
            name = text(name, "agentotel.workflow(name)")
            conversation_id = optional_text(conversation_id, "agentotel.workflow(conversation_id)")
        self.name = name
        self.conversation_id = inherited_conversation(conversation_id)

    def _span_name(self) -> str:
        return f"{sc.OP_INVOKE_WORKFLOW} {self.name}"

    def _start_attributes(self) -> Attributes:
        attributes: Attributes = {
            sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_WORKFLOW,
            sc.GEN_AI_WORKFLOW_NAME: self.name,
        }
        if self.conversation_id is not None:
            attributes[sc.GEN_AI_CONVERSATION_ID] = self.conversation_id
        return attributes

    def _enter_context(self, ctx: Context) -> Context:
        if self.conversation_id is None:
            return ctx
        return with_conversation(ctx, self.conversation_id)

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        runtime.instruments.invoke_workflow_duration.record(
            duration_s, self._with_error({sc.GEN_AI_WORKFLOW_NAME: self.name}), self._context
        )


@overload
def workflow(name: str, *, conversation_id: str | None = None) -> Workflow: ...
@overload
def workflow(name: _F) -> _F: ...
def workflow(name: Any, *, conversation_id: str | None = None) -> Any:
    """An ``invoke_workflow {name}`` span (INTERNAL) and ``gen_ai.invoke_workflow.duration`` (s).

    Context manager or decorator; bare ``@agentotel.workflow`` takes the function's name.
    See :class:`Workflow` for the attributes. Never raises.
    """
    if callable(name):
        return Workflow(callable_name(name))(name)
    return Workflow(name, conversation_id)

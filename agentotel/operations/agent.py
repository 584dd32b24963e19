"""The agent kind: ``invoke_agent {name}``, an INTERNAL span for an in-process agent.

Source: GenAI agent spans, "Invoke agent internal span"
(https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-agent-spans/), as implemented
by ``opentelemetry-util-genai`` 1.3b0 (``_agent_invocation.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from agentotel import semconv as sc
from agentotel._errors import warn_failure
from agentotel._runtime import Runtime
from agentotel.operations._operation import (
    Attributes,
    MessagesOperation,
    callable_name,
    inherited_conversation,
    optional_text,
    put,
    text,
)
from agentotel.operations.handoff import handoff

_F = TypeVar("_F", bound=Callable[..., Any])


class Agent(MessagesOperation):
    """``invoke_agent {name}`` — INTERNAL span (in-process agent) and the agent metrics.

    Span attributes:

    - ``gen_ai.operation.name`` = ``invoke_agent`` (required);
    - ``gen_ai.agent.name`` (conditionally required; set at start, for samplers);
    - ``gen_ai.agent.id``, ``gen_ai.agent.description``, ``gen_ai.agent.version``
      (when given);
    - ``gen_ai.conversation.id`` (when given or inherited from a workflow);
    - ``error.type`` (on failure);
    - ``gen_ai.input.messages`` / ``gen_ai.output.messages`` (opt-in content).

    Metrics: ``gen_ai.invoke_agent.duration`` (histogram, s; agent name, ``error.type``)
    and ``agentotel.agent.active`` (up-down counter, {invocation}: +1 at start, -1 at end,
    both on the runtime read when the agent was created; agent name).

    ``handoff_from``: the agent that handed control to this one; a handoff
    (:class:`~agentotel.operations.handoff.Handoff`) is recorded under the current span
    just before this agent's span starts, and this span is linked to it.
    """

    __slots__ = ("name", "id", "description", "version", "conversation_id", "handoff_from")
    _api = "agentotel.agent"

    def __init__(
        self,
        name: str,
        id: str | None = None,  # noqa: A002 - the spec's attribute is gen_ai.agent.id
        description: str | None = None,
        version: str | None = None,
        conversation_id: str | None = None,
        handoff_from: str | None = None,
    ) -> None:
        super().__init__((name, id, description, version, conversation_id, handoff_from))
        if not (  # the usual case checked inline: no call on the hot path
            name.__class__ is str
            and (id is None or id.__class__ is str)
            and (description is None or description.__class__ is str)
            and (version is None or version.__class__ is str)
            and (conversation_id is None or conversation_id.__class__ is str)
            and (handoff_from is None or handoff_from.__class__ is str)
        ):
            name = text(name, "agentotel.agent(name)")
            id = optional_text(id, "agentotel.agent(id)")  # noqa: A001
            description = optional_text(description, "agentotel.agent(description)")
            version = optional_text(version, "agentotel.agent(version)")
            conversation_id = optional_text(conversation_id, "agentotel.agent(conversation_id)")
            handoff_from = optional_text(handoff_from, "agentotel.agent(handoff_from)")
        self.name = name
        self.id = id
        self.description = description
        self.version = version
        self.conversation_id = inherited_conversation(conversation_id)
        self.handoff_from = handoff_from

    def _span_name(self) -> str:
        return f"{sc.OP_INVOKE_AGENT} {self.name}"

    def _start_attributes(self) -> Attributes:
        return put(
            {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: self.name},
            (
                (sc.GEN_AI_AGENT_ID, self.id),
                (sc.GEN_AI_AGENT_DESCRIPTION, self.description),
                (sc.GEN_AI_AGENT_VERSION, self.version),
                (sc.GEN_AI_CONVERSATION_ID, self.conversation_id),
            ),
        )

    def _begin(self, *, attach: bool) -> None:
        if self.handoff_from is not None:
            handoff(self.handoff_from, self.name, to_id=self.id)
        super()._begin(attach=attach)
        try:
            self._runtime.instruments.agent_active.add(1, {sc.GEN_AI_AGENT_NAME: self.name})
        except Exception:  # noqa: BLE001
            warn_failure("record a metric")

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        instruments = runtime.instruments
        instruments.agent_active.add(-1, {sc.GEN_AI_AGENT_NAME: self.name})
        instruments.invoke_agent_duration.record(
            duration_s, self._with_error({sc.GEN_AI_AGENT_NAME: self.name}), self._context
        )


@overload
def agent(
    name: str,
    *,
    id: str | None = None,  # noqa: A002
    description: str | None = None,
    version: str | None = None,
    conversation_id: str | None = None,
    handoff_from: str | None = None,
) -> Agent: ...
@overload
def agent(name: _F) -> _F: ...
def agent(
    name: Any,
    *,
    id: str | None = None,  # noqa: A002
    description: str | None = None,
    version: str | None = None,
    conversation_id: str | None = None,
    handoff_from: str | None = None,
) -> Any:
    """An ``invoke_agent {name}`` span (INTERNAL) and the agent metrics.

    Context manager or decorator; bare ``@agentotel.agent`` takes the function's name.
    See :class:`Agent` for the attributes. Never raises.
    """
    if callable(name):
        return Agent(callable_name(name))(name)
    return Agent(name, id, description, version, conversation_id, handoff_from)

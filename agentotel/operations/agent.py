"""The agent kind: ``invoke_agent {name}``, an INTERNAL span for an in-process agent, a
CLIENT span for an agent in another process (``remote=True``).

Source: GenAI agent spans, "Invoke agent internal span" and "Invoke agent client span"
(https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-agent-spans/), as implemented
by ``opentelemetry-util-genai`` 1.3b0 (``_agent_invocation.py``: ``LocalAgentInvocation``,
``RemoteAgentInvocation``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from opentelemetry.trace import SpanKind

from agentotel import semconv as sc
from agentotel._errors import warn_failure, warn_misuse
from agentotel._runtime import Runtime
from agentotel.operations._operation import (
    Attributes,
    MessagesOperation,
    callable_name,
    inherited_conversation,
    optional_text,
    port,
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


class RemoteAgent(Agent):
    """``invoke_agent {name}`` — CLIENT span for an agent in another process, and
    ``gen_ai.client.operation.duration``.

    Span attributes (as ``opentelemetry-util-genai`` 1.3b0's ``invoke_remote_agent``):

    - those of :class:`Agent`;
    - ``gen_ai.provider.name`` (required; ``_OTHER`` with a warning when not given),
      ``server.address``, ``server.port`` (recommended), set at start for samplers.

    The span is the parent of the call that reaches the agent (A2A, HTTP), whose context
    carries it to the other process, where the agent's own ``invoke_agent`` span (INTERNAL)
    is its child. Metrics: ``gen_ai.client.operation.duration`` (histogram, s; operation,
    provider, ``server.address``, ``server.port``, ``error.type``) and
    ``agentotel.agent.active``; not ``gen_ai.invoke_agent.duration`` (the in-process
    agent's metric, which the remote process records).
    """

    __slots__ = ("provider", "server_address", "server_port")
    _span_kind = SpanKind.CLIENT

    def __init__(
        self,
        name: str,
        id: str | None = None,  # noqa: A002
        description: str | None = None,
        version: str | None = None,
        conversation_id: str | None = None,
        provider: str | None = None,
        server_address: str | None = None,
        server_port: int | None = None,
    ) -> None:
        super().__init__(name, id, description, version, conversation_id)
        self._spec = (name, id, description, version, conversation_id, provider,
                      server_address, server_port)
        if provider is None:
            warn_misuse(
                "agentotel.agent(remote=True, provider)", provider,
                "the remote agent's gen_ai.provider.name", f"using {sc.ERROR_TYPE_OTHER!r}",
            )
            provider = sc.ERROR_TYPE_OTHER
        self.provider = text(provider, "agentotel.agent(provider)")
        self.server_address = optional_text(server_address, "agentotel.agent(server_address)")
        self.server_port = port(server_port, "agentotel.agent(server_port)")

    def _start_attributes(self) -> Attributes:
        return put(
            super()._start_attributes(),
            (
                (sc.GEN_AI_PROVIDER_NAME, self.provider),
                (sc.SERVER_ADDRESS, self.server_address),
                (sc.SERVER_PORT, self.server_port),
            ),
        )

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        instruments = runtime.instruments
        instruments.agent_active.add(-1, {sc.GEN_AI_AGENT_NAME: self.name})
        attributes = put(
            {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_PROVIDER_NAME: self.provider},
            ((sc.SERVER_ADDRESS, self.server_address), (sc.SERVER_PORT, self.server_port)),
        )
        instruments.operation_duration.record(
            duration_s, self._with_error(attributes), self._context
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
    remote: bool = False,
    provider: str | None = None,
    server_address: str | None = None,
    server_port: int | None = None,
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
    remote: bool = False,
    provider: str | None = None,
    server_address: str | None = None,
    server_port: int | None = None,
) -> Any:
    """An ``invoke_agent {name}`` span and the agent metrics.

    In-process (default): an INTERNAL span (:class:`Agent`). ``remote=True``: the agent runs
    in another process, reached over A2A or HTTP: a CLIENT span with
    ``gen_ai.provider.name`` = ``provider``, ``server.address`` / ``server.port``
    (:class:`RemoteAgent`). Context manager or decorator; bare ``@agentotel.agent`` takes
    the function's name. Never raises.
    """
    if callable(name):
        return Agent(callable_name(name))(name)
    if remote is True:
        return RemoteAgent(
            name, id, description, version, conversation_id, provider, server_address,
            server_port,
        )
    return Agent(name, id, description, version, conversation_id, handoff_from)

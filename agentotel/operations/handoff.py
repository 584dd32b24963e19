"""The handoff kind: one agent passing control to another.

A span, not a span event: the OpenAI Agents SDK traces a handoff as a span of its own,
semantic-conventions-genai PR #98 models it as an ``execute_tool transfer_to_{target}``
span (the handoff is the tool the model called), a span is what trace views and tail
samplers see, and OpenTelemetry is moving events off spans (span events are being
deprecated in favour of log-based events). The target agent's ``invoke_agent`` span gets
a link to it (:class:`~agentotel.integrations.GenAISpanProcessor`), so a handoff reads
both ways: the source's span holds the handoff, the target's points back to it.
"""

from __future__ import annotations

from agentotel import semconv as sc
from agentotel._runtime import Runtime
from agentotel.operations._operation import Attributes, Operation, optional_text, put, text


class Handoff(Operation):
    """``execute_tool transfer_to_{target}`` — INTERNAL span and the handoff counter.

    Span attributes:

    - ``gen_ai.operation.name`` = ``execute_tool``, ``gen_ai.tool.name`` =
      ``transfer_to_{target}``, ``gen_ai.tool.type`` = ``function`` (as the model sees it);
    - ``gen_ai.agent.name`` = the source agent (the agent executing the tool);
    - ``agentotel.handoff.source.agent.name`` / ``.id``,
      ``agentotel.handoff.target.agent.name`` / ``.id`` (ids when given);
    - ``error.type`` (on failure).

    Metric: ``agentotel.agent.handoffs`` (counter, {handoff}; source and target agent
    names).
    """

    __slots__ = ("source", "target", "source_id", "target_id")
    _api = "agentotel.handoff"

    def __init__(
        self,
        source: str,
        target: str,
        source_id: str | None = None,
        target_id: str | None = None,
    ) -> None:
        super().__init__((source, target, source_id, target_id))
        self.source = text(source, "agentotel.handoff(from_agent)")
        self.target = text(target, "agentotel.handoff(to_agent)")
        self.source_id = optional_text(source_id, "agentotel.handoff(from_id)")
        self.target_id = optional_text(target_id, "agentotel.handoff(to_id)")

    def _span_name(self) -> str:
        return f"{sc.OP_EXECUTE_TOOL} {sc.HANDOFF_TOOL_PREFIX}{self.target}"

    def _start_attributes(self) -> Attributes:
        return put(
            {
                sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL,
                sc.GEN_AI_TOOL_NAME: sc.HANDOFF_TOOL_PREFIX + self.target,
                sc.GEN_AI_TOOL_TYPE: "function",
                sc.GEN_AI_AGENT_NAME: self.source,
                sc.HANDOFF_SOURCE_AGENT_NAME: self.source,
                sc.HANDOFF_TARGET_AGENT_NAME: self.target,
            },
            (
                (sc.HANDOFF_SOURCE_AGENT_ID, self.source_id),
                (sc.HANDOFF_TARGET_AGENT_ID, self.target_id),
            ),
        )

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        runtime.instruments.agent_handoffs.add(
            1,
            {sc.HANDOFF_SOURCE_AGENT_NAME: self.source, sc.HANDOFF_TARGET_AGENT_NAME: self.target},
            self._context,
        )


def handoff(
    from_agent: str,
    to_agent: str,
    *,
    from_id: str | None = None,
    to_id: str | None = None,
) -> None:
    """Record that agent ``from_agent`` handed control to agent ``to_agent``: an
    ``execute_tool transfer_to_{to_agent}`` span under the current span and one count on
    ``agentotel.agent.handoffs``; the next ``invoke_agent {to_agent}`` span in the trace
    is linked to it. See :class:`Handoff`; ``agentotel.agent(name, handoff_from=...)``
    records the same on the target's side. Never raises.
    """
    with Handoff(from_agent, to_agent, from_id, to_id):
        pass

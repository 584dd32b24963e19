"""LangGraph handoffs as agentotel handoffs.

In LangGraph an agent hands control to another by returning ``Command(goto="writer")``
from its node (or from a handoff tool, as ``langgraph-supervisor`` and
``langgraph-swarm`` build them, with ``graph=Command.PARENT``). The official LangChain
instrumentation turns the graph and its agents into ``invoke_workflow`` /
``invoke_agent`` spans and leaves the ``Command`` out. :class:`HandoffCallbackHandler`, a
LangChain callback handler added to every run through LangChain's own extension point
(``langchain_core.tracers.context.register_configure_hook``), records each ``goto`` as an
agentotel handoff (:mod:`agentotel.operations.handoff`) when the node or tool that
returned it ends: the source is the node (the ``langgraph_node`` of the run's metadata,
or the agent's ``lc_agent_name``), the target each node ``goto`` names (``Send`` targets
included). The target agent's ``invoke_agent`` span is linked to the handoff span.
"""

from __future__ import annotations

from collections import OrderedDict
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from agentotel.operations import handoff

_RUNS_REMEMBERED = 4096


class HandoffCallbackHandler:
    """Records the ``goto`` of a ``Command`` a LangGraph node or tool returns.

    Built on ``BaseCallbackHandler`` when instrumented (LangChain is imported then, not
    before). Keeps the source name of at most 4096 unfinished runs. Never raises.
    """

    def __init__(self) -> None:
        self.active = True
        self._sources: OrderedDict[UUID, str] = OrderedDict()

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._remember(run_id, kwargs.get("metadata"))

    def on_tool_start(
        self, serialized: Any, input_str: Any, *, run_id: UUID, **kwargs: Any
    ) -> None:
        self._remember(run_id, kwargs.get("metadata"))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._ended(run_id, outputs)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._ended(run_id, output)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._sources.pop(run_id, None)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._sources.pop(run_id, None)

    def _remember(self, run_id: UUID, metadata: Any) -> None:
        if not self.active or not isinstance(metadata, dict):
            return
        source = metadata.get("lc_agent_name") or metadata.get("langgraph_node")
        if isinstance(source, str) and source:
            self._sources[run_id] = source
            if len(self._sources) > _RUNS_REMEMBERED:
                self._sources.popitem(last=False)

    def _ended(self, run_id: UUID, output: Any) -> None:
        source = self._sources.pop(run_id, None)
        if source is None or not self.active:
            return
        from langgraph.types import Command

        if not isinstance(output, Command) or not output.goto:
            return
        for target in _targets(output.goto):
            if target != source:
                handoff(source, target)


def _targets(goto: Any) -> list[str]:
    """The node names of a ``Command.goto``: a name, a ``Send``, or a sequence of them."""
    items = goto if isinstance(goto, (list, tuple)) else [goto]
    names = []
    for item in items:
        name = item if isinstance(item, str) else getattr(item, "node", None)
        if isinstance(name, str) and name and not name.startswith("__"):  # not __end__
            names.append(name)
    return names


class LangGraphHandoffsInstrumentor:
    """Adds :class:`HandoffCallbackHandler` to every LangChain callback manager; the same
    interface as an OpenTelemetry ``BaseInstrumentor``. LangChain has no call to remove a
    configure hook: ``uninstrument`` makes the handler inert."""

    is_instrumented_by_opentelemetry = False
    _handler: Any = None

    def instrument(self, **_: Any) -> None:
        from langchain_core.callbacks import BaseCallbackHandler
        from langchain_core.tracers.context import register_configure_hook

        handler_class = type(
            "AgentotelHandoffHandler", (HandoffCallbackHandler, BaseCallbackHandler), {}
        )
        handler = handler_class()
        # a context variable whose default is the handler: every run, in every thread
        # and task, gets it (LangChain adds it once per callback manager)
        variable: ContextVar[Any] = ContextVar("agentotel_langgraph_handoffs", default=handler)
        register_configure_hook(variable, inheritable=True)
        type(self)._handler = handler
        type(self).is_instrumented_by_opentelemetry = True

    def uninstrument(self) -> None:
        handler = type(self)._handler
        if handler is not None:
            handler.active = False
        type(self).is_instrumented_by_opentelemetry = False

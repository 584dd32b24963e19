"""The GenAI operations: one module per kind, one lifecycle base, one decorator factory.

- :mod:`._operation` — :class:`Operation`, the span + metric lifecycle every kind shares;
- :mod:`.workflow`, :mod:`.agent`, :mod:`.llm`, :mod:`.tool`, :mod:`.guardrail`,
  :mod:`.retrieval`, :mod:`.memory`, :mod:`.handoff` — the kinds, each with its factory function
  (``agentotel.tool(...)`` is :func:`.tool.tool`);
- :mod:`.evaluation` — :func:`.evaluation.evaluation`, one evaluation result (an event
  and a metric point, no span);
- :mod:`._decorators` — the decorator factory for the four kinds of functions;
- :mod:`._genai_context`, :mod:`._retrieval_context` — ``opentelemetry-util-genai``'s
  nesting contracts for inferences and retrievals;
- :mod:`._runtime` — the tracer, instruments and switches ``init()`` installs.
"""

from agentotel.operations._operation import Operation
from agentotel.operations.agent import Agent, agent
from agentotel.operations.evaluation import evaluation
from agentotel.operations.guardrail import Guardrail, guardrail
from agentotel.operations.handoff import Handoff, handoff
from agentotel.operations.llm import LLMCall, llm
from agentotel.operations.memory import Memory, MemorySize, memory, memory_size
from agentotel.operations.retrieval import Retrieval, retrieval
from agentotel.operations.tool import Tool, tool
from agentotel.operations.workflow import Workflow, workflow

__all__ = [
    "Agent",
    "Guardrail",
    "Handoff",
    "LLMCall",
    "Memory",
    "MemorySize",
    "Operation",
    "Retrieval",
    "Tool",
    "Workflow",
    "agent",
    "evaluation",
    "guardrail",
    "handoff",
    "llm",
    "memory",
    "memory_size",
    "retrieval",
    "tool",
    "workflow",
]

"""agentotel: OpenTelemetry-native instrumentation for agentic AI applications.

Call :func:`init` once at start-up; then wrap the application's work in the
instruments — :func:`workflow`, :func:`agent`, :func:`llm`, :func:`tool`,
:func:`guardrail`, :func:`retrieval`, :func:`memory` — each a span plus the matching
metrics, named after the OpenTelemetry GenAI semantic conventions (names in
:mod:`agentotel.semconv`); :func:`memory_size` reports the size of a memory store.
Each instrument is a context manager and a decorator (sync, ``async def``, generators,
async generators). :func:`evaluation` records how good an operation's output was (an
event parented to its span, and a score histogram). ``Telemetry.health()`` reports on the
export pipeline itself (:class:`Health`); :func:`flush` exports what is buffered, and
:func:`serverless` does so after each invocation of a serverless handler. At run time
nothing here raises into the application; only :func:`init` may raise
:class:`ConfigError`, for an invalid argument.
"""

from agentotel._health import Health, SignalHealth
from agentotel._settings import ConfigError
from agentotel._setup import Telemetry, __version__, flush, init, serverless, shutdown
from agentotel.logging import get_logger
from agentotel.operations import (
    Agent,
    Guardrail,
    LLMCall,
    Memory,
    MemorySize,
    Operation,
    Retrieval,
    Tool,
    Workflow,
    agent,
    evaluation,
    guardrail,
    llm,
    memory,
    memory_size,
    retrieval,
    tool,
    workflow,
)

__all__ = [
    "Agent",
    "ConfigError",
    "Guardrail",
    "Health",
    "LLMCall",
    "Memory",
    "MemorySize",
    "Operation",
    "Retrieval",
    "SignalHealth",
    "Telemetry",
    "Tool",
    "Workflow",
    "__version__",
    "agent",
    "evaluation",
    "flush",
    "get_logger",
    "guardrail",
    "init",
    "llm",
    "memory",
    "memory_size",
    "retrieval",
    "serverless",
    "shutdown",
    "tool",
    "workflow",
]

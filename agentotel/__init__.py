"""agentotel: OpenTelemetry-native instrumentation for agentic AI applications.

Call :func:`init` once at start-up; then wrap the application's work in the
instruments — :func:`workflow`, :func:`agent`, :func:`llm`, :func:`tool`,
:func:`guardrail`, :func:`retrieval`, :func:`memory`, :func:`handoff` — each a span plus
the matching metrics, named after the OpenTelemetry GenAI semantic conventions (names in
:mod:`agentotel.semconv`); :func:`memory_size` reports the size of a memory store.
Each instrument is a context manager and a decorator (sync, ``async def``, generators,
async generators). :func:`evaluation` records how good an operation's output was (an
event parented to its span, and a score histogram). ``Telemetry.health()`` reports on the
export pipeline itself (:class:`Health`); :func:`flush` exports what is buffered, and
:func:`serverless` does so after each invocation of a serverless handler. At run time
nothing here raises into the application; only :func:`init` may raise
:class:`ConfigError`, for an invalid argument.

``import agentotel`` loads the instruments only: the pipeline (:func:`init` and what it
builds: settings, providers, exporters, redaction, logging, the instrumentations) is
loaded when first used, so that a library that decorates its functions with agentotel,
and an application before it calls :func:`init`, pay for the instruments alone.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from agentotel._version import __version__
from agentotel.operations import (
    Agent,
    Guardrail,
    Handoff,
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
    handoff,
    llm,
    memory,
    memory_size,
    retrieval,
    tool,
    workflow,
)

if TYPE_CHECKING:
    from agentotel._health import Health, SignalHealth
    from agentotel._settings import ConfigError
    from agentotel._setup import Telemetry, flush, init, serverless, shutdown
    from agentotel.logging import get_logger

#: the public names loaded on first use, and their modules
_LAZY = {
    "ConfigError": "agentotel._settings",
    "Health": "agentotel._health",
    "SignalHealth": "agentotel._health",
    "Telemetry": "agentotel._setup",
    "flush": "agentotel._setup",
    "get_logger": "agentotel.logging",
    "init": "agentotel._setup",
    "serverless": "agentotel._setup",
    "shutdown": "agentotel._setup",
}


def __getattr__(name: str) -> Any:
    """Load a public name of the pipeline on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agentotel' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Agent",
    "ConfigError",
    "Guardrail",
    "Handoff",
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
    "handoff",
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

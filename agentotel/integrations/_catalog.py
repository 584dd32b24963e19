"""The instrumentations ``init()`` knows: the official OpenTelemetry GenAI
instrumentations (each built on ``opentelemetry-util-genai``), the HTTP client
instrumentations their libraries need, and the ``threading`` instrumentation that carries
the OpenTelemetry context into threads and thread pools.

Each entry names the instrumentor (the same ``module:Class`` its distribution registers
under the ``opentelemetry_instrumentor`` entry point group), the entry point name (the
name ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` and ``init(instrumentations=...)`` use), the
module of the target library (importable or skipped) and the target's distribution (for
its version; a module of the standard library reports the Python version).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Instrumentation:
    """One instrumentation ``init()`` may enable."""

    name: str
    instrumentor: str
    library: str
    distribution: str
    extra: str
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def display(self) -> str:
        """How the start-up line names it: the target distribution."""
        return self.distribution


#: In enabling order: the context first (threads, thread pools), then the HTTP clients, so
#: that the GenAI spans' children exist.
CATALOG: tuple[Instrumentation, ...] = (
    Instrumentation(  # the context of the thread that starts a thread or submits to a pool
        "threading",
        "opentelemetry.instrumentation.threading:ThreadingInstrumentor",
        "threading",
        "threading",
        "(core)",
    ),
    Instrumentation(
        "requests",
        "opentelemetry.instrumentation.requests:RequestsInstrumentor",
        "requests",
        "requests",
        "(core)",
    ),
    Instrumentation(
        "httpx",
        "opentelemetry.instrumentation.httpx:HTTPXClientInstrumentor",
        "httpx",
        "httpx",
        "google-genai",
    ),
    Instrumentation(
        "httpx2",
        "opentelemetry.instrumentation.httpx:HTTPX2ClientInstrumentor",
        "httpx2",
        "httpx2",
        "openai, anthropic",
    ),
    Instrumentation(
        "openai",
        "opentelemetry.instrumentation.genai.openai:OpenAIInstrumentor",
        "openai",
        "openai",
        "openai",
    ),
    Instrumentation(
        "anthropic",
        "opentelemetry.instrumentation.genai.anthropic:AnthropicInstrumentor",
        "anthropic",
        "anthropic",
        "anthropic",
    ),
    Instrumentation(
        "google-genai",
        "opentelemetry.instrumentation.google_genai:GoogleGenAiSdkInstrumentor",
        "google.genai",
        "google-genai",
        "google-genai",
    ),
    Instrumentation(
        "bedrock",
        "opentelemetry.instrumentation.genai.bedrock:BedrockInstrumentor",
        "botocore",
        "botocore",
        "bedrock",
    ),
    Instrumentation(  # it patches langchain-core (and LangGraph); needs `langchain` installed
        "langchain",
        "opentelemetry.instrumentation.genai.langchain:LangChainInstrumentor",
        "langchain_core",
        "langchain",
        "langchain",
    ),
    Instrumentation(
        "openai_agents",
        "opentelemetry.instrumentation.genai.openai_agents:OpenAIAgentsInstrumentor",
        "agents",
        "openai-agents",
        "openai-agents",
        # telemetry goes where the application sends it: not also to OpenAI's platform
        (("disable_openai_trace_export", True),),
    ),
    Instrumentation(
        "openai_agents_guardrails",
        "agentotel.integrations._openai_agents:AgentsGuardrailsInstrumentor",
        "agents",
        "openai-agents",
        "(none: agentotel's own)",
    ),
    Instrumentation(  # agentotel's own: MCP spans, metrics and _meta propagation (and FastMCP)
        "mcp",
        "agentotel.integrations.mcp:MCPInstrumentor",
        "mcp",
        "mcp",
        "mcp",
    ),
    Instrumentation(  # agentotel's own: A2A spans and header propagation (a2a-sdk 1.x)
        "a2a",
        "agentotel.integrations.a2a:A2AInstrumentor",
        "a2a",
        "a2a-sdk",
        "a2a",
    ),
    Instrumentation(
        "pydantic_ai",
        "agentotel.integrations._pydantic_ai:PydanticAIInstrumentor",
        "pydantic_ai",
        "pydantic-ai-slim",
        "(none: pydantic-ai instruments itself)",
    ),
)

NAMES: tuple[str, ...] = tuple(entry.name for entry in CATALOG)

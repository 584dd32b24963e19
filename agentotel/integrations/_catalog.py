"""The instrumentations ``init()`` may enable: those installed, found the OpenTelemetry way.

Every installed distribution that registers an instrumentor under the
``opentelemetry_instrumentor`` entry point group (as ``opentelemetry-instrument`` finds
them) is an :class:`Instrumentation`, under the entry point's name: the name
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` and ``init(instrumentations=...)`` use
(``openai``, ``llama_index``, ``qwen-agent``, ``google-genai``, ...). Its target library
is the requirement its distribution declares under the ``instruments`` extra (the one
``opentelemetry-instrument`` checks), and the module ``init()`` waits for is that
distribution's top-level package (``google.genai`` for ``google-genai``, ``agents`` for
``openai-agents``). Nothing is imported to find them; the metadata is read once, at the
first :func:`catalog` call (in ``init()``).

:data:`RULES` holds only what the metadata cannot say:

- which of two installed instrumentations of the same library wins: the official one (a
  distribution whose repository is under ``github.com/open-telemetry``) over a peer's
  (OpenLLMetry's ``opentelemetry-instrumentation-openai`` registers ``openai`` too);
- which HTTP client instrumentation a library's requests go through (enabled with it
  when ``init(instrumentations=[...])`` names the library; the extras install it);
- the module to wait for when it is not the target's own package (the LangChain
  instrumentation patches ``langchain_core``; Bedrock's, ``botocore``);
- a version range agentotel's tests cover beyond the one the instrumentation declares
  (``google-genai`` 3.x for ``opentelemetry-instrumentation-google-genai`` 1.3b0);
- the instrumentor's extra arguments, the ``agentotel[...]`` extra that installs it.

:data:`BUILTIN` adds agentotel's own instrumentors (same interface as a
``BaseInstrumentor``) for libraries whose telemetry needs agentotel, not a package.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

#: The entry point group OpenTelemetry instrumentations register under.
ENTRY_POINT_GROUP = "opentelemetry_instrumentor"
#: The repositories whose instrumentations are OpenTelemetry's own.
_OFFICIAL_REPOSITORY = re.compile(r"github\.com/open-telemetry/", re.IGNORECASE)


@dataclass(frozen=True)
class Instrumentation:
    """One instrumentation ``init()`` may enable.

    Attributes:
        name: the entry point name (``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` uses it).
        instrumentor: ``module:Class`` of the instrumentor.
        library: the module whose import enables it (importable, or it is skipped).
        distribution: the target library's distribution (for its version; a module of
            the standard library reports the Python version).
        package: the distribution the instrumentor comes from (``agentotel`` for its own).
        options: extra keyword arguments of ``instrument()``.
        versions: a requirement (``google-genai>=3,<4``) on the target beyond the range
            the instrumentation declares, which agentotel's tests cover: within it the
            instrumentation's own version check is skipped.
    """

    name: str
    instrumentor: str
    library: str
    distribution: str
    package: str = "agentotel"
    options: tuple[tuple[str, Any], ...] = ()
    versions: str | None = None

    @property
    def display(self) -> str:
        """How the start-up line names it: the target distribution."""
        return self.distribution


@dataclass(frozen=True)
class Rule:
    """What agentotel knows of one instrumentation (by entry point name) that its
    metadata does not say."""

    extra: str | None = None  # agentotel[extra] installs it (None: a core dependency)
    http: tuple[str, ...] = ()  # the HTTP client instrumentations of its requests
    library: str | None = None  # the module to wait for, when not the target's package
    options: tuple[tuple[str, Any], ...] = ()
    versions: str | None = None  # see Instrumentation.versions
    in_all: bool = True  # in agentotel[all] (installs cleanly beside the others)


_HTTPX = ("httpx",)  # the SDKs that stay on httpx
_HTTPX2 = ("httpx2",)  # openai 3.x and anthropic 2.x send over httpx2
_EITHER = ("httpx", "httpx2")  # google-genai 3.x: httpx2 when installed, else httpx

#: By entry point name. The official GenAI instrumentations (``opentelemetry-
#: instrumentation-genai-*`` 1.3b0 and ``opentelemetry-instrumentation-google-genai``)
#: and the core ones.
RULES: dict[str, Rule] = {
    "threading": Rule(),
    "requests": Rule(),
    "httpx": Rule(extra="google-genai"),
    "httpx2": Rule(extra="openai"),
    "openai": Rule(extra="openai", http=_HTTPX2),
    "anthropic": Rule(extra="anthropic", http=_HTTPX2),
    "google-genai": Rule(extra="google-genai", http=_EITHER, versions="google-genai>=3,<4"),
    "bedrock": Rule(extra="bedrock", library="botocore"),
    # it patches langchain-core, which LangGraph applications import without `langchain`
    "langchain": Rule(extra="langchain", http=_HTTPX2, library="langchain_core"),
    "openai_agents": Rule(
        extra="openai-agents",
        http=_HTTPX2,
        # telemetry goes where the application sends it: not also to OpenAI's platform
        options=(("disable_openai_trace_export", True),),
    ),
    "agno": Rule(extra="agno", http=_HTTPX2),
    "dspy": Rule(extra="dspy", http=_HTTPX2),
    "llama_index": Rule(extra="llama-index", http=_HTTPX2),
    "portkey": Rule(extra="portkey", http=_HTTPX),
    "qwen-agent": Rule(extra="qwen-agent", http=_HTTPX2),
    # qwenpaw resolves openai back to 2.x, brings transformers, onnxruntime, playwright:
    # not in [all]
    "qwenpaw": Rule(extra="qwenpaw", http=_HTTPX2, in_all=False),
    "smolagents": Rule(extra="smolagents", http=_HTTPX2),
}

_HTTP_CLIENTS = frozenset({"requests", *(name for rule in RULES.values() for name in rule.http)})

#: Entry points ``init()`` leaves alone: the process metrics have their own setting
#: (``system_metrics``), and the logging instrumentation would replace the application's
#: log record factory (agentotel's logging puts the trace ids on its own records).
SKIPPED = frozenset({"system_metrics", "logging"})

#: agentotel's own instrumentors, after the discovered ones.
BUILTIN: tuple[Instrumentation, ...] = (
    Instrumentation(
        "openai_agents_guardrails",
        "agentotel.integrations._openai_agents:AgentsGuardrailsInstrumentor",
        "agents",
        "openai-agents",
    ),
    Instrumentation(
        "openai_agents_handoffs",
        "agentotel.integrations._openai_agents:AgentsHandoffsInstrumentor",
        "agents",
        "openai-agents",
    ),
    Instrumentation(
        "langgraph_handoffs",
        "agentotel.integrations._langgraph:LangGraphHandoffsInstrumentor",
        "langgraph.graph",  # langgraph is a namespace package: no import hook fires for it
        "langgraph",
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
    ),
)


@functools.cache
def catalog() -> tuple[Instrumentation, ...]:
    """The installed instrumentations (one per target library, the official one first)
    and :data:`BUILTIN`, the context and HTTP clients first: the order they are enabled
    in when their libraries are already imported. Read once per process."""
    found = _discover(metadata.entry_points(group=ENTRY_POINT_GROUP))
    return (*sorted(found, key=_order), *BUILTIN)


def known_names() -> frozenset[str]:
    """The names ``init(instrumentations=...)`` accepts: every installed instrumentation,
    agentotel's own, and the ones :data:`RULES` knows even when not installed."""
    return frozenset(RULES) | {entry.name for entry in catalog()}


def _order(entry: Instrumentation) -> tuple[int, str]:
    rank = 0 if entry.name == "threading" else 1 if entry.name in _HTTP_CLIENTS else 2
    return rank, entry.name


def _discover(entry_points: Iterable[metadata.EntryPoint]) -> list[Instrumentation]:
    by_target: dict[str, tuple[bool, Instrumentation]] = {}
    for entry_point in entry_points:
        if entry_point.name in SKIPPED:
            continue
        try:
            found = _instrumentation(entry_point)
        except Exception:  # noqa: BLE001 - a broken distribution is skipped, not fatal
            continue
        if found is None:
            continue
        official, entry = found
        key = _canonical(entry.distribution)
        if key not in by_target or (official and not by_target[key][0]):
            by_target[key] = (official, entry)
    return [entry for _, entry in by_target.values()]


def _instrumentation(entry_point: metadata.EntryPoint) -> tuple[bool, Instrumentation] | None:
    """``(official, entry)`` for one entry point, or ``None`` when its target is not
    installed (or cannot be told)."""
    name = entry_point.name
    rule = RULES.get(name, Rule())
    fields = entry_point.dist.metadata if entry_point.dist is not None else None
    target = _target(name, fields)
    if target is None:
        return None
    library = rule.library or _top_module(target)
    if library is None:
        return None
    package = str(fields["Name"]) if fields is not None else "(unknown)"
    entry = Instrumentation(
        name, entry_point.value, library, target, package, rule.options, rule.versions
    )
    urls = fields.get_all("Project-URL") or [] if fields is not None else []
    return any(_OFFICIAL_REPOSITORY.search(url) for url in urls), entry


def _target(name: str, fields: Any) -> str | None:
    """The distribution the instrumentation instruments: of the requirements under its
    ``instruments`` (or ``instruments-any``) extra, the one named like the entry point,
    else the first installed; a standard library module named like the entry point
    (``threading``)."""
    requirements = _instruments(fields)
    if not requirements:
        return name if name in sys.stdlib_module_names else None
    for requirement in requirements:
        if _canonical(requirement) == _canonical(name) and _installed(requirement):
            return requirement
    return next((r for r in requirements if _installed(r)), None)


_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)[^;]*;(.*)$")
_EXTRA = re.compile(r"""extra\s*==\s*["'](instruments(?:-any)?)["']""")


def _instruments(fields: Any) -> list[str]:
    """The distribution names an instrumentation's ``instruments`` / ``instruments-any``
    extra requires (``fields``: its core metadata)."""
    names: list[str] = []
    for line in (fields.get_all("Requires-Dist") or []) if fields is not None else []:
        match = _REQUIREMENT.match(line)
        if match and _EXTRA.search(match.group(2)):
            names.append(match.group(1))
    return names


def _installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _top_module(distribution: str) -> str | None:
    """The import name of a distribution's top-level package: the shallowest package in
    its ``RECORD`` (``google/genai/__init__.py`` -> ``google.genai``: a namespace package
    is never the answer, unlike ``top_level.txt``'s ``google``); the standard library's
    modules are their own."""
    if distribution in sys.stdlib_module_names:
        return distribution
    found = metadata.distribution(distribution)
    # the quick answer: top_level.txt names one regular package (RECORD, read below, is
    # thousands of lines for the big libraries)
    top = (found.read_text("top_level.txt") or "").split()
    if len(top) == 1 and _regular_package(top[0]):
        return top[0]
    record = found.read_text("RECORD") or ""
    best: list[str] | None = None
    for line in record.splitlines():
        path = line.partition(",")[0]
        if not path.endswith("/__init__.py") or path.startswith(".."):
            continue
        parts = path.split("/")[:-1]
        if best is None or (len(parts), parts) < (len(best), best):
            best = parts
    return ".".join(best) if best else None


def _regular_package(name: str) -> bool:
    """A top-level package with an ``__init__`` (not a namespace package), found without
    importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return False
    return (
        spec is not None and spec.origin is not None
        and spec.submodule_search_locations is not None
    )


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()

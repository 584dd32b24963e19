"""Every official GenAI instrumentation, found and enabled the OpenTelemetry way.

``init()`` finds the instrumentations by their ``opentelemetry_instrumentor`` entry
points (:func:`agentotel.integrations.catalog`), under the names those entry points use.
Beyond the six libraries of ``test_integrations.py``, each official instrumentation's
library runs here for real against the local model server (``llm_server.py``) with every
installed instrumentation enabled, as ``init()`` enables them: google-genai (3.x, beyond
the range the instrumentation declares), Agno, DSPy, LlamaIndex, Portkey, Qwen-Agent,
smolagents. Checked for each: the span tree, exactly one inference span per model
request whatever the layers (the framework's and the SDK's), the usage the server
reported and the cost on it, one duration and token point per request, and the content
capture modes. QwenPaw (its extra exists; it installs transformers, onnxruntime and a
browser driver) is not in the test environment. A subprocess checks that ``init()``
alone enables each when the application imports its library, and that
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` takes exactly the entry point names.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import integration_app as app
import pytest
import tomllib
from llm_server import MODEL_SNAPSHOTS, LLMServer, RecordedRequest, serve
from otlp_receiver import OtlpReceiver
from test_integrations import (
    CANARY,
    CANARY_PROMPT,
    CONTENT_VARIABLE,
    COST,
    DURATION,
    RATES,
    SCOPE_HTTP,
    TOKENS,
    Telemetry,
    _app_environment,
    _every_value,
    _token,
    instrumented,
    messages_on_every_inference_span,
)

from agentotel import content
from agentotel import semconv as sc
from agentotel._settings import ConfigError
from agentotel.integrations import _catalog, catalog, check_names, chosen

ROOT = Path(__file__).resolve().parent.parent
#: USD per million tokens (agentotel/data/pricing.json): input, cache read, output
GEMINI_RATES = (0.30, 0.03, 2.50)

SCOPE = "opentelemetry.instrumentation.genai."
SCOPE_OPENAI = SCOPE + "openai"
SCOPE_GEMINI = "opentelemetry.instrumentation.google_genai"

CHAT_LINES = ["chat gpt-4o-mini [CLIENT]", "  POST [CLIENT] /v1/chat/completions"]


def _indent(lines: list[str]) -> list[str]:
    return ["  " + line for line in lines]


#: library -> (entry point name, driver, expected span tree, scope of the inference spans)
LIBRARIES: dict[str, tuple[str, Callable[[str, str], Any], list[str], str]] = {
    "google-genai": (
        "google-genai",
        app.run_gemini,
        [
            f"generate_content {app.GEMINI_MODEL} [CLIENT]",
            f"  POST [CLIENT] /v1/models/{app.GEMINI_MODEL}:generateContent",
            f"generate_content {app.GEMINI_MODEL} [CLIENT]",
            f"  POST [CLIENT] /v1/models/{app.GEMINI_MODEL}:streamGenerateContent?alt=sse",
        ],
        SCOPE_GEMINI,
    ),
    "agno": (
        "agno",
        app.run_agno,
        [
            "invoke_agent weather [INTERNAL]",
            *_indent(CHAT_LINES),
            "  execute_tool get_weather [INTERNAL]",
            *_indent(CHAT_LINES),
        ],
        SCOPE_OPENAI,
    ),
    "dspy": ("dspy", app.run_dspy, ["chat gpt-4o-mini [CLIENT]"], SCOPE + "dspy"),
    "llama_index": (
        "llama_index",
        app.run_llama_index,
        ["invoke_agent weather [INTERNAL]", *_indent(CHAT_LINES)],
        SCOPE_OPENAI,
    ),
    "portkey": ("portkey", app.run_portkey, CHAT_LINES, SCOPE + "portkey"),
    "qwen_agent": (
        "qwen-agent",
        app.run_qwen_agent,
        [
            "invoke_agent weather [INTERNAL]",
            "  invoke_agent Memory [INTERNAL]",
            *_indent(CHAT_LINES),
            "  execute_tool get_weather [INTERNAL]",
            *_indent(CHAT_LINES),
        ],
        SCOPE_OPENAI,
    ),
    "smolagents": (
        "smolagents",
        app.run_smolagents,
        ["invoke_agent weather [INTERNAL]", *_indent(CHAT_LINES)],
        SCOPE_OPENAI,
    ),
}

#: the module each library's test needs (skipped when it is not installed)
MODULES = {
    "google-genai": "google.genai",
    "agno": "agno",
    "dspy": "dspy",
    "llama_index": "llama_index.core",
    "portkey": "portkey_ai",
    "qwen_agent": "qwen_agent",
    "smolagents": "smolagents",
}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def library_params() -> list[Any]:
    return [
        pytest.param(
            name,
            marks=pytest.mark.skipif(not _installed(MODULES[name]), reason="not installed"),
        )
        for name in LIBRARIES
    ]


@pytest.fixture(autouse=True)
def _no_price_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "true")  # DSPy: no fetch at start


def cost_of(request: RecordedRequest) -> float:
    """USD of one answered request from the packaged rates (input includes cached)."""
    usage = request.usage
    assert usage is not None and request.answer is not None
    model = request.answer.model
    per_input, per_cached, per_output = (
        GEMINI_RATES if model.startswith("gemini") else RATES[request.body["model"]]
    )
    uncached = usage.prompt_tokens - usage.cached_tokens
    return (
        uncached * per_input + usage.cached_tokens * per_cached + usage.output_tokens * per_output
    ) / 1e6


def model_requests(server: LLMServer) -> list[RecordedRequest]:
    return [r for r in server.requests if r.answer is not None]


def check_one_span_per_request(telemetry: Telemetry, requests: list[RecordedRequest]) -> None:
    """The inference spans and the server's answered requests, one to one in order: the
    usage and model the server reported, the cost of that usage; one duration point and
    one input and one output token point per request; the cost counter sums the spans'."""
    spans = telemetry.inference()
    assert len(spans) == len(requests), telemetry.tree()
    for span, request in zip(spans, requests, strict=True):
        attributes, usage, answer = span.attributes, request.usage, request.answer
        assert usage is not None and answer is not None
        assert attributes[sc.GEN_AI_RESPONSE_MODEL] == MODEL_SNAPSHOTS.get(
            answer.model, answer.model
        )
        assert attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == usage.prompt_tokens
        assert attributes[sc.GEN_AI_USAGE_OUTPUT_TOKENS] == usage.output_tokens
        assert attributes.get(sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, 0) == usage.cached_tokens
        assert attributes[sc.LLM_COST_USD] == pytest.approx(cost_of(request), rel=1e-9)
        http = [c for c in telemetry.children(span) if c.name == "POST"]
        assert all(c.scope == SCOPE_HTTP for c in http)
    assert telemetry.count(DURATION) == len(requests), telemetry.points
    assert telemetry.count(TOKENS, **_token("input")) == len(requests)
    assert telemetry.total(TOKENS, **_token("input")) == sum(
        r.usage.prompt_tokens for r in requests if r.usage
    )
    assert telemetry.count(TOKENS, **_token("output")) == len(requests)
    assert telemetry.total(COST) == pytest.approx(sum(cost_of(r) for r in requests), rel=1e-9)


# --------------------------------------------------------------------------- in process


@pytest.mark.parametrize("library", library_params())
def test_every_library_is_one_span_per_model_request_with_its_cost(
    llm_server: LLMServer, library: str
) -> None:
    name, run, tree, scope = LIBRARIES[library]
    with instrumented() as stack:  # everything installed, as init() enables it
        run(llm_server.base_url, app.PROMPT)
        assert name in stack.instrumentations.names
        telemetry = stack.telemetry()
    assert telemetry.tree() == tree
    check_one_span_per_request(telemetry, model_requests(llm_server))
    assert {s.scope for s in telemetry.inference()} == {scope}


@pytest.mark.parametrize("library", library_params())
def test_span_only_puts_every_librarys_messages_on_its_spans(
    llm_server: LLMServer, library: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CONTENT_VARIABLE, raising=False)
    _, run, _, _ = LIBRARIES[library]
    with instrumented(capture=content.SPAN_ONLY) as stack:
        run(llm_server.base_url, CANARY_PROMPT)
        telemetry = stack.telemetry()
    messages_on_every_inference_span(telemetry)


@pytest.mark.parametrize("library", library_params())
def test_no_content_puts_no_content_of_any_library_anywhere(
    llm_server: LLMServer, library: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONTENT_VARIABLE, "SPAN_ONLY")  # agentotel's mode wins
    _, run, _, _ = LIBRARIES[library]
    with instrumented(capture=content.NO_CONTENT) as stack:
        run(llm_server.base_url, CANARY_PROMPT)
        telemetry = stack.telemetry()
    assert telemetry.inference(), telemetry.tree()
    for span in telemetry.spans:
        assert not set(sc.CONTENT_ATTRIBUTES) & set(span.attributes), (span.name, span.attributes)
    assert CANARY not in _every_value(telemetry)


# --------------------------------------------------------------------------- discovery


def test_every_installed_official_genai_instrumentation_is_found_by_its_entry_point_name() -> (
    None
):
    installed = {
        ep.name: ep.value for ep in metadata.entry_points(group="opentelemetry_instrumentor")
    }
    found = {entry.name: entry.instrumentor for entry in catalog()}
    for name in ("google-genai", "agno", "dspy", "llama_index", "portkey", "qwen-agent",
                 "smolagents", "openai", "anthropic", "langchain", "openai_agents"):
        if name in installed:
            assert found[name] == installed[name]
    assert "system_metrics" not in found  # enabled by its own setting


def test_the_module_waited_for_is_the_target_distributions_package() -> None:
    libraries = {entry.name: entry.library for entry in catalog()}
    expected = {
        "google-genai": "google.genai",  # not the namespace package google
        "llama_index": "llama_index.core",
        "openai_agents": "agents",
        "qwen-agent": "qwen_agent",
        "portkey": "portkey_ai",
        "langchain": "langchain_core",  # the rule: it patches langchain-core
        "threading": "threading",
    }
    assert {name: libraries.get(name) for name in expected} == expected


#: two sets of instrumentations (a second ``init()`` in the process has its own hooks)
#: waiting for httpx and httpx2; the httpx instrumentation's module imports both
#: libraries, so enabling it for one fires the hooks of the other while it is half-imported
TWO_HOOK_SETS = """
import logging, sys
from opentelemetry.sdk.trace import TracerProvider
from agentotel.integrations import Instrumentations, catalog

logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="%(message)s")
entries = [entry for entry in catalog() if entry.name in ("httpx", "httpx2")]
sets = [Instrumentations(entries, tracer_provider=TracerProvider(), meter_provider=None,
                         logger_provider=None) for _ in range(2)]
import httpx2
print("enabled:", sorted(sets[0].names))
"""


def test_a_library_imported_while_an_instrumentation_is_half_imported_waits_for_it() -> None:
    if not {"httpx", "httpx2"} <= {entry.name for entry in catalog()}:
        pytest.skip("the httpx instrumentation with httpx2 support is not installed")

    result = subprocess.run(
        [sys.executable, "-c", TWO_HOOK_SETS], capture_output=True, text=True, timeout=60,
        cwd=ROOT,
    )

    assert result.returncode == 0, result.stderr
    assert "failed to instrument" not in result.stdout + result.stderr
    assert "enabled: ['httpx', 'httpx2']" in result.stdout


def _fake_distribution(root: Path, name: str, repository: str, entry: str) -> None:
    """A distribution registering ``openai`` under the instrumentor group."""
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
        f"Project-URL: Repository, {repository}\n"
        "Requires-Dist: openai>=1; extra == 'instruments'\n"
    )
    (info / "entry_points.txt").write_text(f"[opentelemetry_instrumentor]\nopenai = {entry}\n")


def test_the_official_instrumentation_wins_over_a_peers_for_the_same_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenLLMetry's package registers ``openai`` too: the official one is enabled."""
    _fake_distribution(
        tmp_path, "peer-instrumentation-openai", "https://github.com/traceloop/openllmetry",
        "peer.openai:OpenAIInstrumentor",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    everything = metadata.entry_points(group=_catalog.ENTRY_POINT_GROUP)
    both = [ep for ep in everything if ep.name == "openai"]
    assert len(both) == 2
    (winner,) = _catalog._discover(both)
    assert winner.instrumentor == "opentelemetry.instrumentation.genai.openai:OpenAIInstrumentor"
    assert winner.package == "opentelemetry-instrumentation-genai-openai"
    peer_only = [ep for ep in both if ep.value.startswith("peer.")]
    (alone,) = _catalog._discover(peer_only)  # with no official one, the peer's is used
    assert (alone.instrumentor, alone.library) == ("peer.openai:OpenAIInstrumentor", "openai")


def test_an_installed_instrumentation_is_accepted_by_its_entry_point_name() -> None:
    check_names(["llama_index", "qwen-agent", "google-genai"])
    assert [e.name for e in chosen(["llama_index"], frozenset())] == ["httpx2", "llama_index"]


def test_naming_its_instrumentation_enables_the_http_client_its_requests_use_unless_disabled() -> (
    None
):
    assert [e.name for e in chosen(["google-genai"], frozenset())] == [
        "httpx", "httpx2", "google-genai"
    ]
    assert [e.name for e in chosen(["google-genai"], frozenset({"httpx"}))] == [
        "httpx2", "google-genai"
    ]


def test_an_unknown_instrumentation_name_is_a_config_error_listing_the_accepted_ones() -> None:
    with pytest.raises(ConfigError) as raised:
        check_names(["llamaindex"])
    message = str(raised.value)
    assert "'llamaindex'" in message and "llama_index" in message and "qwen-agent" in message


def test_a_known_instrumentation_not_installed_warns_with_its_extra(
    caplog: pytest.LogCaptureFixture,
) -> None:
    if "qwenpaw" in {entry.name for entry in catalog()}:
        pytest.skip("qwenpaw is installed")
    check_names(["qwenpaw"])
    assert "pip install 'agentotel[qwenpaw]'" in caplog.text


def test_every_rule_has_its_extra_and_all_has_every_extra_that_installs_cleanly() -> None:
    """pyproject.toml: each instrumentation's extra installs its distribution (and its
    HTTP client instrumentation); ``[all]`` names every extra whose rule says it installs
    cleanly beside the others, and not the others."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]
    in_all = extras["all"][0].partition("[")[2].rstrip("]").split(",")
    packages = {entry.name: entry.package for entry in catalog()}
    for name, rule in _catalog.RULES.items():
        if rule.extra is None:
            continue
        requirements = " ".join(extras[rule.extra])
        if name in packages and packages[name] != "agentotel":
            assert packages[name] in requirements, (name, rule.extra)
        if rule.http:
            assert "opentelemetry-instrumentation-httpx" in requirements, rule.extra
        assert (rule.extra in in_all) is rule.in_all, rule.extra


# --------------------------------------------------------------------------- init() alone


@pytest.fixture(scope="module")
def libraries_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``integration_app.py libraries`` (init() first, then every library imported, one
    Gemini call), and the same with three instrumentations disabled by entry point name;
    both at once."""
    directory = tmp_path_factory.mktemp("libraries")
    runs: dict[str, Any] = {}
    disabled = {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "google-genai,llama_index,qwen-agent"}
    with serve() as server, OtlpReceiver() as receiver, OtlpReceiver() as receiver_off:
        processes = {}
        for name, target, extra in (
            ("all", receiver, {}),
            ("disabled", receiver_off, disabled),
        ):
            out = (directory / f"{name}.out").open("wb")
            processes[name] = (
                subprocess.Popen(
                    [sys.executable, str(Path(app.__file__)), "libraries"],
                    cwd=ROOT,
                    env={**_app_environment(target, server, extra),
                         "LITELLM_LOCAL_MODEL_COST_MAP": "true"},
                    stdout=out,
                    stderr=subprocess.PIPE,
                ),
                target,
                out,
            )
        for name, (process, target, out) in processes.items():
            _, err = process.communicate(timeout=240)
            out.close()
            assert process.returncode == 0, err.decode()[-4000:]
            output = json.loads((directory / f"{name}.out").read_text().strip().splitlines()[-1])
            runs[name] = {"output": output, "spans": target.spans(), "stderr": err.decode()}
        yield runs


@pytest.mark.skipif(
    not all(_installed(m) for m in MODULES.values()), reason="a library is not installed"
)
def test_init_enables_each_instrumentation_when_the_application_imports_its_library(
    libraries_run: dict[str, Any],
) -> None:
    output = libraries_run["all"]["output"]
    imports = {module: set(names) for module, names in output["imports"]}
    expected = {
        "google.genai": "google-genai",
        "agno.agent": "agno",
        "dspy": "dspy",
        "llama_index.core": "llama_index",
        "portkey_ai": "portkey",
        "qwen_agent.agents": "qwen-agent",
        "smolagents": "smolagents",
    }
    for module, name in expected.items():
        assert name in imports[module], (module, imports[module])
    # google-genai 3.x: enabled beyond the instrumentation's declared range, and said so
    assert "not instrumenting" not in libraries_run["all"]["stderr"]
    spans = [s for s in libraries_run["all"]["spans"] if s.scope_name == SCOPE_GEMINI]
    assert [s.name for s in spans] == [f"generate_content {app.GEMINI_MODEL}"] * 2


@pytest.mark.skipif(
    not all(_installed(m) for m in MODULES.values()), reason="a library is not installed"
)
def test_disabled_instrumentations_take_exactly_the_entry_point_names(
    libraries_run: dict[str, Any],
) -> None:
    last = set(libraries_run["disabled"]["output"]["imports"][-1][1])
    assert not {"google-genai", "llama_index", "qwen-agent"} & last, last
    assert {"agno", "dspy", "portkey", "smolagents"} <= last
    assert not [s for s in libraries_run["disabled"]["spans"] if s.scope_name == SCOPE_GEMINI]

"""The tutorial (``docs/tutorial/first-trace.md``) works as written: every command in it runs.

The page is read as data: the ``python`` block titled ``first_trace.py`` is written to a
temporary directory, and every line of every ``sh`` block is a command this test knows
how to run — a command it does not know fails the test, so a new step cannot go
unchecked. The only thing the test adds is where the OpenAI SDK sends its requests
(``OPENAI_BASE_URL``: the local model server, ``llm_server.py``) and, in place of the
Collector on ``localhost:4318``, the OTLP receiver of the test suite.

- ``pip install 'agentotel[openai]'``: every requirement of the ``openai`` extra that
  the installed ``agentotel`` declares is installed at a version it accepts (the test
  environment is built with the extras; the test does not download anything).
- ``export OPENAI_API_KEY=...``: the key of the local server is set instead.
- ``OTEL_...=... python first_trace.py``: run with exactly those variables; the printed
  tree is the page's tree (durations aside).
- ``make up`` / ``make down``: the Makefile runs Docker Compose on the shipped stack
  (``make -n``: no container engine on this machine) and the stack publishes the ports
  the page opens.
- ``OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 python first_trace.py``: the trace
  and the metrics the page names arrive over OTLP.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import llm_server
import pytest
import yaml
from llm_server import LLMServer
from otlp_receiver import REPO_ROOT, OtlpReceiver, demo_env
from packaging.requirements import Requirement

from agentotel import semconv as sc

TUTORIAL = REPO_ROOT / "docs" / "tutorial" / "first-trace.md"
PROGRAM = "first_trace.py"
COLLECTOR = "http://localhost:4318"
TIMEOUT_S = 120

FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[tuple[str, str]]:
    """(title, text) of each fenced block of ``language`` in the tutorial."""
    found = []
    for match in FENCE.finditer(TUTORIAL.read_text(encoding="utf-8")):
        info = match.group("info").split()
        if info and info[0] == language:
            title = re.search(r'title="([^"]*)"', match.group("info"))
            found.append((title.group(1) if title else "", match.group("body")))
    return found


def commands() -> list[str]:
    """Every command of the tutorial's ``sh`` blocks, in order."""
    return [line.strip() for _, body in blocks("sh") for line in body.splitlines()
            if line.strip()]


def command(pattern: str) -> list[str]:
    """The tutorial's commands matching ``pattern`` (a regular expression, whole line)."""
    return [c for c in commands() if re.fullmatch(pattern, c)]


# The commands this test runs, each as the pattern of its line.
INSTALL = r"pip install 'agentotel\[openai\]'"
API_KEY = r"export OPENAI_API_KEY=\S+"
RUN = r"(?:[A-Z_]+=\S+ )*python first_trace\.py"
MAKE = r"make (?:up|down)"


def normalized(tree: str) -> list[str]:
    """The lines of a printed tree with durations replaced by ``<duration>``."""
    return [re.sub(r"\b\d+(?:\.\d+)?(?:ms|s)\b", "<duration>", line.rstrip())
            for line in tree.strip().splitlines()]


@pytest.fixture(scope="module")
def server() -> Iterator[LLMServer]:
    with llm_server.serve() as running:
        yield running


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory holding the tutorial's program, as the page writes it."""
    (program,) = [body for title, body in blocks("python") if title == PROGRAM]
    (tmp_path / PROGRAM).write_text(program, encoding="utf-8")
    return tmp_path


def run(line: str, workdir: Path, server: LLMServer) -> subprocess.CompletedProcess[str]:
    """Run one ``VAR=value ... python first_trace.py`` line of the tutorial."""
    words = shlex.split(line)
    variables = dict(word.split("=", 1) for word in words if re.match(r"[A-Z_]+=", word))
    assert words[len(variables):] == ["python", PROGRAM]
    env = demo_env(OPENAI_BASE_URL=server.openai_base_url, OPENAI_API_KEY=llm_server.API_KEY,
                   **variables)
    return subprocess.run([sys.executable, PROGRAM], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S, check=False)


# --------------------------------------------------------------------------- the page


def test_every_command_of_the_tutorial_is_one_this_test_runs() -> None:
    known = (INSTALL, API_KEY, RUN, MAKE)
    assert [c for c in commands() if not any(re.fullmatch(p, c) for p in known)] == []
    assert len(command(INSTALL)) == 1 and len(command(RUN)) == 2
    assert command(MAKE) == ["make up", "make down"]


# --------------------------------------------------------------------------- the steps


def test_the_install_command_brings_what_the_openai_extra_requires() -> None:
    requirements = [Requirement(r) for r in metadata.requires("agentotel") or []]
    extra = [r for r in requirements if r.marker and r.marker.evaluate({"extra": "openai"})]
    assert {r.name for r in extra} == {
        "opentelemetry-instrumentation-genai-openai", "opentelemetry-instrumentation-httpx"
    }
    for requirement in extra:
        installed = metadata.version(requirement.name)
        assert requirement.specifier.contains(installed, prereleases=True), (requirement, installed)


def test_the_console_run_prints_the_tree_the_page_shows(workdir: Path, server: LLMServer) -> None:
    (line,) = [c for c in command(RUN) if "agentotel_console" in c]
    result = run(line, workdir, server)
    assert result.returncode == 0, result.stderr[-3000:]
    (shown,) = [body for title, body in blocks("text") if title == "the trace tree"]
    printed = normalized(result.stdout)
    assert printed[: len(normalized(shown))] == normalized(shown)
    assert printed[-1] == "You said: Say hello in five words."  # then the model's reply


def test_make_up_and_down_run_the_shipped_stack_with_the_ports_the_page_opens() -> None:
    for target, action in (("up", "up -d"), ("down", "down")):
        dry = subprocess.run(["make", "--no-print-directory", "-n", target], cwd=REPO_ROOT,
                             env=demo_env(MAKEFLAGS=None, MAKELEVEL=None, MFLAGS=None),
                             capture_output=True, text=True, check=True)
        compose = "docker compose -f collector-config/docker-compose.yml"
        assert dry.stdout.strip() == f"{compose} {action}"
    stack = yaml.safe_load((REPO_ROOT / "collector-config" / "docker-compose.yml").read_text())
    published = {str(port).rsplit(":", 2)[-2] if str(port).count(":") else str(port)
                 for service in stack["services"].values() for port in service.get("ports", [])}
    page = TUTORIAL.read_text(encoding="utf-8")
    opened = set(re.findall(r"http://localhost:(\d+)", page))
    assert opened == {"16686", "3000", "4318"}
    assert opened <= published


def test_the_otlp_run_sends_the_trace_and_metrics_the_page_names(
    workdir: Path, server: LLMServer
) -> None:
    (line,) = [c for c in command(RUN) if COLLECTOR in c]
    with OtlpReceiver() as receiver:
        result = run(line.replace(COLLECTOR, receiver.http_endpoint), workdir, server)
        assert result.returncode == 0, result.stderr[-3000:]
        spans = receiver.wait_for(lambda: receiver.spans() if len(receiver.spans()) >= 2 else None)
        points = receiver.wait_for(lambda: receiver.metric_points() or None)
    (chat,) = [s for s in spans if s.name == "chat gpt-4o-mini"]
    assert chat.resource[sc.SERVICE_NAME] == "my-first-agent"
    assert [s.name for s in spans if s.parent_span_id == chat.span_id] == ["POST"]
    page = TUTORIAL.read_text(encoding="utf-8")
    for key in re.findall(r"`((?:gen_ai|agentotel)\.[a-z_.]+)`", page.split("## 4.")[1]):
        if key in chat.attributes:
            continue
        assert key in {p.name for p in points}, f"the page names {key}, which did not arrive"
    assert chat.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 13
    assert chat.attributes[sc.LLM_COST_USD] > 0

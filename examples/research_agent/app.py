"""Command line of the research-agent example.

    python -m examples.research_agent [--questions PATH] [--limit N] [--quiet]

Asks the LangGraph research agent (:mod:`.agent`) each question of the input file
(default: the bundled ``data/questions.jsonl``), prints one result line per question,
then a summary counted from the run's spans, and exits 0 once the run is complete (2
when the input cannot be read).

The application calls ``agentotel.init()`` and nothing else of agentotel but one
``agentotel.guardrail``: the official OpenTelemetry instrumentations that ``init()``
enables make the rest of the telemetry - LangChain's ``invoke_agent``, ``chat`` and
``execute_tool`` spans with the GenAI metrics, the OpenAI SDK's facts, and the HTTP
client spans below each model request.

Telemetry defaults are the support-assistant demo's
(:func:`examples.support_assistant.app.exporter_settings`): trace trees on the terminal
and metrics on Prometheus ``/metrics`` when no OTLP endpoint is set, OTLP as well when
one is. The model API is the bundled fake server (:mod:`.fake_model`) unless both
``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` are set; ``OPENAI_MODEL`` picks the model
(default ``gpt-4o-mini``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider

import agentotel
from agentotel import semconv
from examples.support_assistant.app import exporter_settings, metrics_url
from examples.support_assistant.summary import RunStatistics

from .agent import AGENT_NAME, GUARDRAIL_NAME, build_agent, chat_model
from .fake_model import research_server

SERVICE_NAME = "research-agent"
ENVIRONMENT = "demo"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_QUESTIONS = Path(__file__).parent / "data" / "questions.jsonl"
#: the bearer token sent to the local fake server (it only checks that one is present).
FAKE_API_KEY = "sk-local-fake-server"


@dataclass(frozen=True)
class Question:
    id: str
    text: str


@dataclass(frozen=True)
class Outcome:
    """What the agent did with one question."""

    status: str  # "answered", "denied" or "error"
    detail: str  # the answer, the refusal or the error
    model_requests: int = 0
    tool_calls: int = 0


def load_questions(path: Path = DEFAULT_QUESTIONS, limit: int | None = None) -> list[Question]:
    """The questions of a JSON-lines file of ``{"id", "question"}`` (``#`` lines and
    blank lines skipped).

    Raises:
        OSError: the file cannot be read.
        ValueError: a line is not such an object (its number is named).
    """
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            item = json.loads(line)
            questions.append(Question(str(item["id"]), str(item["question"])))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path.name}:{number}: not a question ({error})") from None
    return questions[:limit] if limit is not None else questions


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m examples.research_agent",
        description="Ask the LangGraph research agent a list of questions and show the "
        "telemetry that agentotel.init() alone gives.",
    )
    parser.add_argument(
        "--questions", type=Path, default=DEFAULT_QUESTIONS, metavar="PATH",
        help="JSON-lines file of questions (default: the bundled data/questions.jsonl)",
    )
    parser.add_argument(
        "--limit", type=int, default=None, metavar="N", help="ask only the first N questions"
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the trace trees")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- model API


@dataclass(frozen=True)
class Backend:
    base_url: str
    api_key: str
    model: str
    description: str


@contextlib.contextmanager
def model_backend(env: Mapping[str, str]) -> Iterator[Backend]:
    """The real provider when ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` are both set,
    else the bundled fake server (started here, stopped on exit)."""
    model = env.get("OPENAI_MODEL") or DEFAULT_MODEL
    base_url, api_key = env.get("OPENAI_BASE_URL"), env.get("OPENAI_API_KEY")
    if base_url and api_key:
        yield Backend(base_url, api_key, model, f"OpenAI-compatible API at {base_url}")
        return
    with research_server() as server:
        yield Backend(server.base_url, FAKE_API_KEY, model,
                      f"local fake OpenAI API at {server.base_url}")


# --------------------------------------------------------------------------- run


def ask(agent: Any, question: Question) -> Outcome:
    """Run the graph on one question (its id is the LangGraph thread id, which the
    instrumentation records as ``gen_ai.conversation.id``); a failure is an outcome."""
    try:
        state = agent.invoke(
            {"messages": [HumanMessage(question.text)]},
            {"configurable": {"thread_id": question.id}},
        )
    except Exception as error:  # noqa: BLE001 - one failed question must not stop the run
        detail = traceback.format_exception_only(type(error), error)[-1].strip()
        return Outcome("error", detail)
    messages = state["messages"]
    replies = [m for m in messages if isinstance(m, AIMessage) and m.name != GUARDRAIL_NAME]
    tool_calls = sum(isinstance(m, ToolMessage) for m in messages)
    last = messages[-1]
    status = "denied" if isinstance(last, AIMessage) and last.name == GUARDRAIL_NAME else (
        "answered"
    )
    return Outcome(status, last.text, len(replies), tool_calls)


def result_line(question: Question, outcome: Outcome, duration_s: float) -> str:
    """``q02  answered  0.41s  3 model requests, 2 tool calls  According to ...``."""
    status = {"answered": "answered", "denied": "DENIED", "error": "ERROR"}[outcome.status]
    steps = f"{_count(outcome.model_requests, 'model request')}, " + _count(
        outcome.tool_calls, "tool call"
    )
    return f"{question.id}  {status:<8} {duration_s:5.2f}s  {steps}\n      {outcome.detail}"


class Statistics(RunStatistics):
    """The support demo's span tally, which also counts the priced model requests (the
    cost line says so when none carried a cost)."""

    def __init__(self) -> None:
        super().__init__()
        self.priced = 0

    def on_end(self, span: ReadableSpan) -> None:
        if semconv.LLM_COST_USD in (span.attributes or {}):
            with self._lock:
                self.priced += 1
        super().on_end(span)

    def lines(self) -> list[str]:
        lines = super().lines()
        if not self.priced:
            lines = [
                "  cost        none on the spans (no priced model request)"
                if line.startswith("  cost ") else line
                for line in lines
            ]
        return lines


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _say(text: str = "") -> None:
    print(text, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the example; the process exit status."""
    args = parse_args(argv)
    try:
        questions = load_questions(args.questions, args.limit)
    except (OSError, ValueError) as error:
        print(f"cannot read the questions: {error}", file=sys.stderr)
        return 2
    env = os.environ
    # The application's choices: stable HTTP names on the HTTP client spans, and no
    # INFO line per HTTP request from httpx2's own logger.
    env.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    exporters = exporter_settings(env, quiet=args.quiet)
    telemetry = agentotel.init(
        SERVICE_NAME,
        environment=ENVIRONMENT,
        traces_exporter=exporters.traces,
        metrics_exporter=exporters.metrics,
        logs_exporter=exporters.logs,
    )
    statistics = Statistics()
    if isinstance(telemetry.tracer_provider, TracerProvider):  # not with OTEL_SDK_DISABLED
        telemetry.add_span_processor(statistics)
    url = metrics_url(env, exporters.metrics)

    _say(f"Research agent ({AGENT_NAME}, LangGraph): {len(questions)} questions")
    _say(f"Exporters: {exporters.describe()}" + (f"; metrics at {url}" if url else ""))
    _say(f"Instrumented: {', '.join(telemetry.instrumented) or 'nothing'}")
    outcomes = []
    with model_backend(env) as backend:
        _say(f"Model API: {backend.description}, model {backend.model}\n")
        agent = build_agent(chat_model(backend.model, backend.base_url, backend.api_key))
        for question in questions:
            started = time.monotonic()
            outcome = ask(agent, question)
            outcomes.append(outcome)
            _say(result_line(question, outcome, time.monotonic() - started))

    answered = sum(outcome.status == "answered" for outcome in outcomes)
    denied = sum(outcome.status == "denied" for outcome in outcomes)
    _say("\n== Run ==")
    _say(f"  {len(outcomes)} questions: {answered} answered, {denied} denied, "
         f"{len(outcomes) - answered - denied} failed")
    _say("== Telemetry (counted from this run's spans) ==")
    for line in statistics.lines():
        _say(line)
    telemetry.force_flush()
    _say("Run complete.")
    agentotel.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The research agent: a LangGraph ReAct graph over ``ChatOpenAI`` and two tools.

::

    START -> check_question --allowed--> model <--> tools     (search_notes, calculator)
                  |                        |
                  +------denied--> END <---+  (no tool call: the answer)

``check_question`` is an input guardrail (LangGraph has none of its own), recorded with
``agentotel.guardrail``; it is the only agentotel call in the agent. Everything else in
the telemetry - the ``invoke_agent``, ``chat`` and ``execute_tool`` spans, the token
metrics, the HTTP client spans - comes from the official OpenTelemetry instrumentations
that ``agentotel.init()`` enabled.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from langchain.tools import tool  # LangChain 1.x's home of the decorator
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode, tools_condition

import agentotel

from .tools import Notes, calculate

AGENT_NAME = "research-agent"
GUARDRAIL_NAME = "question-check"
MAX_QUESTION_CHARS = 500
SYSTEM_PROMPT = (
    "You are a research assistant with a small library of notes on the planets and the "
    "Moon. Look facts up with search_notes and do every piece of arithmetic with "
    "calculator, one tool call at a time. Answer in one or two sentences, naming the "
    "notes you used. If the notes do not say, answer that you could not find it."
)
REFUSAL = "I can only answer questions about the notes; this request was not accepted."

_INJECTION = re.compile(
    r"(?i)\b(ignore|disregard|forget)\b.{0,40}\b(instructions|rules|prompt)\b"
    r"|\b(system prompt|developer message)\b"
)

_NOTES: Notes | None = None


def _notes() -> Notes:
    global _NOTES
    if _NOTES is None:
        _NOTES = Notes()
    return _NOTES


@tool
def search_notes(query: str, top_k: int = 3) -> str:
    """Search the notes on the planets and the Moon. Returns the best notes (title,
    relevance score, the facts matching the query, and a summary) as JSON."""
    return json.dumps(_notes().search(query, top_k))


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression exactly: + - * / // % **, parentheses, abs,
    round, min, max, sqrt. Returns {"expression", "result"} as JSON."""
    return json.dumps(calculate(expression))


TOOLS = [search_notes, calculator]


# --------------------------------------------------------------------------- guardrail


@dataclass(frozen=True)
class Screening:
    """The input check's outcome."""

    allowed: bool
    reason: str | None = None
    category: str | None = None


def screen(question: str) -> Screening:
    """Deny prompt-injection attempts, empty questions and questions over 500 characters."""
    if not question.strip():
        return Screening(False, "empty question", "invalid")
    if len(question) > MAX_QUESTION_CHARS:
        return Screening(False, f"longer than {MAX_QUESTION_CHARS} characters", "invalid")
    if _INJECTION.search(question):
        return Screening(False, "instruction override attempt", "prompt_injection")
    return Screening(True)


# --------------------------------------------------------------------------- the graph


class ResearchState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def check_question(state: ResearchState) -> dict[str, Any]:
    """The input guardrail: on ``deny`` the graph answers with a refusal and stops."""
    question = _last_question(state["messages"])
    with agentotel.guardrail(GUARDRAIL_NAME, target="input") as check:
        result = screen(question)
        if result.allowed:
            check.verdict("allow")
            return {}
        categories = [result.category] if result.category else None
        check.verdict("deny", reason=result.reason, categories=categories)
    return {"messages": [AIMessage(REFUSAL, name=GUARDRAIL_NAME)]}


def _last_question(messages: list[AnyMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


def _after_check(state: ResearchState) -> str:
    last = state["messages"][-1]
    return END if isinstance(last, AIMessage) and last.name == GUARDRAIL_NAME else "model"


def build_agent(model: ChatOpenAI) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled graph, named ``research-agent`` (the ``invoke_agent`` span's name)."""
    bound = model.bind_tools(TOOLS)

    def call_model(state: ResearchState, config: RunnableConfig) -> dict[str, Any]:
        reply = bound.invoke([SystemMessage(SYSTEM_PROMPT), *state["messages"]], config)
        return {"messages": [reply]}

    graph = StateGraph(ResearchState)
    graph.add_node("check_question", check_question)
    graph.add_node("model", call_model)
    graph.add_node("tools", ToolNode(TOOLS))
    graph.add_edge(START, "check_question")
    graph.add_conditional_edges("check_question", _after_check, ["model", END])
    graph.add_conditional_edges("model", tools_condition, ["tools", END])
    graph.add_edge("tools", "model")
    return graph.compile(name=AGENT_NAME)


def chat_model(model: str, base_url: str, api_key: str) -> ChatOpenAI:
    """``ChatOpenAI`` for an OpenAI-compatible API (deterministic: temperature 0)."""
    return ChatOpenAI(model=model, base_url=base_url, api_key=api_key, temperature=0)

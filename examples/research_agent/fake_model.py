"""The stand-in model behind the research agent's default, offline run.

It is the support-assistant example's fake OpenAI-compatible server
(:mod:`examples.support_assistant.fake_openai`: the same HTTP layer, response shape and
token usage with simulated prompt caching) with another :meth:`~ResearchModel.reply`: a
small rule-based "model" that works the research agent's tools the way a real one
would, one tool call per turn, deterministically:

1. the question (the last message is the user's): ``calculator`` when the question is
   plain arithmetic ("What is 17.5% of 1280?"), else ``search_notes`` with the question;
2. after ``search_notes``: when the question compares two things the notes name ("How
   many days longer is a year on Mars than a year on Earth?"), ``calculator`` with the
   difference (or, for "how many times", the ratio) of the first number of each one's
   best fact; otherwise the answer: the best fact of the note the question names;
3. after ``calculator``: the answer, with the facts used and the result.

The answer without a calculation quotes the note named first in the question.

Its faults are a rate limit rather than the support stand-in's hash-chosen ``429`` and
``500`` answers: every 8th HTTP request is answered ``429 Too Many Requests`` (with
``retry-after-ms: 200``, which the OpenAI SDK honours), so the same requests of a run
are retried whatever the exact request bodies, and every question gets an answer.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from examples.support_assistant.fake_openai import (
    FakeChatModel,
    FakeOpenAIServer,
    FakeResponse,
    _error,
    _hash_id,
    _text_of,
    find_expression,
)

from .tools import first_number

RATE_LIMIT_EVERY = 8
SEARCH = "search_notes"
CALCULATOR = "calculator"
NOT_FOUND = "I could not find this in the notes."

#: words asking for a difference "a - b" / "b - a" between the first and second thing named
_MORE = re.compile(r"\b(longer|more|larger|bigger|farther|further|higher|hotter|heavier)\b")
_LESS = re.compile(r"\b(shorter|less|fewer|smaller|closer|nearer|lower|colder|lighter)\b")
_TIMES = re.compile(r"\bhow many times\b")


class ResearchModel(FakeChatModel):
    """The rule-based stand-in model (see the module docstring). ``rate_limit_every``:
    every so many requests one is answered ``429`` (0: never)."""

    def __init__(self, rate_limit_every: int = RATE_LIMIT_EVERY) -> None:
        super().__init__(rate_limit_percent=0, server_error_percent=0)
        self.rate_limit_every = rate_limit_every
        self._received = 0
        self._count_lock = threading.Lock()

    def respond(self, body: dict[str, Any]) -> FakeResponse:
        with self._count_lock:
            self._received += 1
            limited = self.rate_limit_every and self._received % self.rate_limit_every == 0
        if limited:
            response = _error(
                429,
                f"Rate limit reached for {body.get('model')} on requests per min (RPM): "
                "Limit 8, Used 8, Requested 1. Please try again in 200ms.",
                "requests",
                code="rate_limit_exceeded",
            )
            response.headers = {"Retry-After": "1", "retry-after-ms": "200"}
            return response
        return super().respond(body)

    def reply(self, body: dict[str, Any], digest: str) -> tuple[dict[str, Any], str]:
        messages: list[dict[str, Any]] = body["messages"]
        offered = {t["function"]["name"] for t in body.get("tools") or [] if "function" in t}
        question = _text_of(next((m for m in reversed(messages) if m.get("role") == "user"), {}))
        results = _tool_results(messages)
        last = messages[-1] if messages else {}
        if last.get("role") == "user":
            expression = find_expression(question)
            if expression and CALCULATOR in offered:
                return _call(digest, CALCULATOR, {"expression": expression})
            if SEARCH in offered:
                return _call(digest, SEARCH, {"query": question})
            return _say(NOT_FOUND)
        facts = _named_facts(question, results.get(SEARCH))
        if CALCULATOR not in results and len(facts) >= 2 and CALCULATOR in offered:
            expression = _comparison(question, facts[0][1], facts[1][1])
            if expression:
                return _call(digest, CALCULATOR, {"expression": expression})
        calculation = results.get(CALCULATOR)
        return _say(_answer(facts if calculation is not None else facts[:1], calculation))


# --------------------------------------------------------------------------- reading


def _tool_results(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Tool name -> its latest result (parsed JSON, or the text when not JSON)."""
    names: dict[str, str] = {}
    results: dict[str, Any] = {}
    for message in messages:
        for call in message.get("tool_calls") or []:
            names[call.get("id", "")] = call.get("function", {}).get("name", "")
        if message.get("role") == "tool":
            text = _text_of(message)
            try:
                value: Any = json.loads(text)
            except json.JSONDecodeError:
                value = text
            results[names.get(message.get("tool_call_id", ""), "")] = value
    return results


def _named_facts(question: str, search: Any) -> list[tuple[str, str]]:
    """(note title, best fact) of the notes found whose title the question names, in the
    order the question names them."""
    if not isinstance(search, dict):
        return []
    found = []
    for result in search.get("results", []):
        title, facts = result.get("title", ""), result.get("facts") or []
        match = re.search(rf"\b{re.escape(title)}\b", question, re.IGNORECASE)
        if match and facts:
            found.append((match.start(), title, facts[0]))
    return [(title, fact) for _, title, fact in sorted(found)]


def _comparison(question: str, first: str, second: str) -> str | None:
    """The arithmetic that answers a comparison of two facts, or None."""
    a, b = first_number(first), first_number(second)
    if a is None or b is None:
        return None
    lowered = question.lower()
    if _TIMES.search(lowered):
        return f"{a} / {b}"
    if _MORE.search(lowered):
        return f"{a} - {b}"
    if _LESS.search(lowered):
        return f"{b} - {a}"
    return None


# --------------------------------------------------------------------------- writing


def _answer(facts: list[tuple[str, str]], calculation: Any) -> str:
    parts = [f"{title}: {fact}." for title, fact in facts]
    if isinstance(calculation, dict) and "result" in calculation:
        result = calculation["result"]
        shown = f"{result:,.2f}".rstrip("0").rstrip(".") if isinstance(result, float) else result
        parts.append(f"{calculation['expression']} = {shown}.")
    elif isinstance(calculation, str):
        parts.append(f"The calculator said: {calculation}")
    if not parts:
        return NOT_FOUND
    return "According to the notes, " + " ".join(parts) if facts else " ".join(parts)


def _call(digest: str, name: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], str]:
    call = {
        "id": "call_" + _hash_id(digest, 24),
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }
    return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"


def _say(text: str) -> tuple[dict[str, Any], str]:
    return {"role": "assistant", "content": text, "refusal": None}, "stop"


def research_server(**options: Any) -> FakeOpenAIServer:
    """The fake OpenAI-compatible server answering with :class:`ResearchModel`
    (``options`` go to :class:`FakeOpenAIServer`)."""
    options.setdefault("model", ResearchModel())
    return FakeOpenAIServer(**options)

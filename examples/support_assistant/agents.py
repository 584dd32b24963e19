"""The three agents of the support workflow: planner, researcher and writer.

Each ``run`` is one ``agentotel.agent(...)`` invocation (an ``invoke_agent {name}`` span
and the agent metrics). Inside it every model call is a ``chat {model}`` span made by
:class:`~.llm_client.ChatClient`, and every tool the researcher runs is an
``execute_tool {name}`` span carrying the model's tool-call id. The writer streams its
reply, so its ``chat`` span carries the time to the first chunk.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import agentotel

from .llm_client import ChatClient, ToolCall
from .memory import MemoryRecord
from .remote import MCP_TOOLS, Remote, tool_result
from .tools import TOOL_SPECS

AGENT_VERSION = "1.2.0"

_POLICY = """\
You are part of the customer-support assistant of Acme Drive, a cloud file storage \
service for teams (plans: Free, Team, Business). Rules for every step:
- Use only facts from the Acme Drive help centre and from tool results; never invent \
prices, limits or policies.
- Placeholders such as [EMAIL], [PHONE] or [CARD ****1234] replace personal data that \
was masked before it reached you. Keep them masked and never ask for the original.
- Never ask for or repeat passwords, API keys or full card numbers.
- Be brief, friendly and concrete."""

PLANNER_INSTRUCTIONS = _POLICY + """

Your step: read the customer's request and write a step-by-step plan of at most three \
numbered lines for the research step (which tools to use and what to look up). Do not \
answer the customer."""

RESEARCHER_INSTRUCTIONS = _POLICY + """

Your step: follow the plan. Use the tools for every calculation, unit conversion and \
help-centre lookup; do not compute in your head. When you have what you need, reply \
with "Findings:" followed by one line per fact, each starting with "- "."""

WRITER_INSTRUCTIONS = _POLICY + """

Your step: write the reply to the customer from the research notes, in at most four \
sentences. If the notes do not answer the question, say so and offer to escalate."""


@dataclass(frozen=True)
class Models:
    """Which model each agent uses. ``OPENAI_MODEL``, when set, replaces all three
    (useful with providers that do not serve the OpenAI model names)."""

    planner: str = "gpt-4o-mini"
    researcher: str = "gpt-4o-mini"
    writer: str = "gpt-4o"

    @classmethod
    def from_env(cls) -> Models:
        model = os.environ.get("OPENAI_MODEL")
        return cls(model, model, model) if model else cls()


@dataclass(frozen=True)
class Research:
    """The researcher's findings and the tool results (JSON text) they rest on."""

    notes: str
    sources: list[str]


@dataclass(frozen=True)
class Draft:
    """The writer's reply, the model's response id, and the writer's invocation (whose
    span an evaluation of the reply is parented to)."""

    text: str
    response_id: str
    agent: agentotel.Agent


class Planner:
    """Turns a request into a short research plan (one model call)."""

    def __init__(self, client: ChatClient, model: str) -> None:
        self.client = client
        self.model = model

    def run(self, request: str, conversation_id: str) -> str:
        """The plan as text. Raises what :meth:`ChatClient.complete` raises."""
        with agentotel.agent(
            "planner",
            description="Breaks a support request into research steps",
            version=AGENT_VERSION,
            conversation_id=conversation_id,
        ):
            result = self.client.complete(
                self.model,
                [
                    {"role": "system", "content": PLANNER_INSTRUCTIONS},
                    {"role": "user", "content": request},
                ],
                temperature=0.0,
                max_tokens=200,
            )
            return result.content


class RemotePlanner:
    """The planner in its own process, reached over A2A (:meth:`.remote.Remote.plan`)."""

    def __init__(self, remote: Remote) -> None:
        self.remote = remote

    def run(self, request: str, conversation_id: str) -> str:
        """The plan as text. Raises ``requests.HTTPError`` when the remote planner's model
        call failed."""
        return self.remote.plan(request, conversation_id)


class Researcher:
    """Answers the plan with tools: model call -> tool calls -> model call, up to
    :attr:`max_rounds` rounds of tool calls. The tools of :data:`~.remote.MCP_TOOLS` run
    in the MCP tool server when ``remote`` is given."""

    max_rounds = 3

    def __init__(self, client: ChatClient, model: str, remote: Remote | None = None) -> None:
        self.client = client
        self.model = model
        self.remote = remote
        self.tool_schemas = [spec.openai_schema() for spec in TOOL_SPECS.values()]

    def run(self, request: str, plan: str, conversation_id: str) -> Research:
        """The research notes and their sources. Raises what :meth:`ChatClient.complete`
        raises; tool failures do not raise, the model is told about them instead."""
        with agentotel.agent(
            "researcher",
            description="Looks facts up with calculator, unit-conversion and search tools",
            version=AGENT_VERSION,
            conversation_id=conversation_id,
        ):
            messages: list[dict[str, Any]] = [
                {"role": "system", "content": RESEARCHER_INSTRUCTIONS},
                {"role": "user", "content": f"Customer request:\n{request}\n\nPlan:\n{plan}"},
            ]
            sources: list[str] = []
            for _ in range(self.max_rounds):
                result = self.client.complete(
                    self.model, messages, tools=self.tool_schemas, temperature=0.0, max_tokens=400
                )
                if not result.tool_calls:
                    return Research(result.content, sources)
                messages.append(result.message)
                for call in result.tool_calls:
                    output = run_tool_call(call, self.remote)
                    sources.append(output)
                    messages.append({"role": "tool", "tool_call_id": call.id, "content": output})
            # Out of rounds: ask for the findings without offering tools again.
            final = self.client.complete(self.model, messages, temperature=0.0, max_tokens=400)
            return Research(final.content, sources)


def run_tool_call(call: ToolCall, remote: Remote | None = None) -> str:
    """Run one tool call as an ``execute_tool`` span; the result as JSON text.

    A failing tool (unknown name, bad arguments, :class:`ValueError` from the tool) marks
    its span as failed and returns ``{"error": "..."}`` for the model to read. A tool the
    MCP server serves is called there: the MCP layer adds its attributes to this span
    (one tool span, not two) and marks it failed for an ``isError`` result.
    """
    if remote is not None and call.name in MCP_TOOLS:
        spec = TOOL_SPECS[call.name]
        with agentotel.tool(call.name, type="function", description=spec.description,
                            call_id=call.id):
            try:
                arguments = call.parsed_arguments()
            except ValueError as error:
                return json.dumps({"error": str(error)})
            return tool_result(*remote.call_tool(call.name, arguments))
    spec = TOOL_SPECS.get(call.name)
    try:
        with agentotel.tool(
            call.name,
            type="function",
            description=spec.description if spec else None,
            call_id=call.id,
        ):
            if spec is None:
                raise LookupError(f"unknown tool {call.name!r}")
            result = spec.function(**call.parsed_arguments())
    except (LookupError, TypeError, ValueError) as error:
        return json.dumps({"error": str(error)})
    return json.dumps(result)


class Writer:
    """Writes the customer-facing reply from the plan and the research notes it reads
    from the conversation's memory; the reply is streamed."""

    def __init__(self, client: ChatClient, model: str) -> None:
        self.client = client
        self.model = model

    def run(
        self, request: str, remembered: Sequence[MemoryRecord], conversation_id: str
    ) -> Draft:
        """The reply. ``remembered``: the conversation's ``plan`` and ``findings`` records.
        Raises what :meth:`ChatClient.complete` raises."""
        plan = "\n".join(record.content for record in remembered if record.kind == "plan")
        notes = "\n".join(record.content for record in remembered if record.kind == "findings")
        with agentotel.agent(
            "writer",
            description="Writes the reply to the customer",
            version=AGENT_VERSION,
            conversation_id=conversation_id,
        ) as invocation:
            prompt = (
                f"Customer request:\n{request}\n\nPlan:\n{plan}\n\n"
                f"Research notes:\n{notes}\n\nWrite the reply."
            )
            result = self.client.complete(
                self.model,
                [
                    {"role": "system", "content": WRITER_INSTRUCTIONS},
                    {"role": "user", "content": prompt},
                ],
                temperature=0.3,
                max_tokens=400,
                stream=True,
            )
            return Draft(result.content, result.id, invocation)

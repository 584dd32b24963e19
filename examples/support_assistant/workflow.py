"""The ``support-triage`` workflow: guardrails around planner -> researcher -> writer.

One request is one ``invoke_workflow support-triage`` span (the root of its trace), with
the input guardrails, the three agents, the conversation's memory operations and the
output guardrails as its children::

    invoke_workflow support-triage
      apply_guardrail secret-scanner / prompt-injection / pii-filter   (target input)
      invoke_agent planner      -> chat gpt-4o-mini -> POST
      create_memory                                                    (the plan)
      invoke_agent researcher   -> chat ..., execute_tool ... (-> retrieval), chat ...
      create_memory                                                    (the findings)
      search_memory                                                    (for the writer)
      invoke_agent writer       -> chat gpt-4o (streamed) -> POST
      apply_guardrail secret-scanner / pii-filter                      (target output)

The writer's reply is then scored for groundedness against what the researcher
retrieved (a ``gen_ai.evaluation.result`` event on the writer's span). A denied request
stops after the input guardrails. Exceptions (an HTTP 500 from the
model API, say) propagate: the workflow span records them, the caller decides.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from opentelemetry import baggage
from opentelemetry import context as otel_context

import agentotel

from . import guardrails
from .agents import Models, Planner, RemotePlanner, Researcher, Writer
from .evaluation import Groundedness, evaluate_reply
from .llm_client import ChatClient
from .memory import ConversationMemory
from .remote import Remote

#: the baggage entry the MCP server reads the conversation id from (the GenAI attribute name)
GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id"

WORKFLOW_NAME = "support-triage"
DEFAULT_REQUESTS = Path(__file__).parent / "data" / "requests.jsonl"

# Records logged inside the workflow carry its trace and span ids (agentotel's log
# bridge adds them), so a log line in Loki leads to the trace in Jaeger.
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SupportRequest:
    """One customer message: ``id`` such as ``req-001``, ``channel`` (email, chat, web)."""

    id: str
    channel: str
    text: str


@dataclass(frozen=True)
class Outcome:
    """What happened to one request.

    ``status`` is ``answered``, ``denied`` or ``error``; ``detail`` is the reply, the
    denial reason or the error; ``notes`` lists guardrail interventions that did not
    stop the request (masking, warnings); ``groundedness`` is the reply's evaluation.
    """

    request_id: str
    status: str
    detail: str
    input_verdict: str = "allow"
    output_verdict: str = "allow"
    notes: str = ""
    groundedness: Groundedness | None = None


def load_requests(path: Path = DEFAULT_REQUESTS, limit: int | None = None) -> list[SupportRequest]:
    """Read a JSON-lines file of ``{"id", "channel", "text"}`` objects (blank lines and
    lines starting with ``#`` are skipped); at most ``limit`` requests.

    Raises:
        OSError: the file cannot be read.
        ValueError: a line is not valid JSON or lacks ``id`` or ``text``.
    """
    requests: list[SupportRequest] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            item = json.loads(line)
            requests.append(SupportRequest(item["id"], item.get("channel", "web"), item["text"]))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a request ({error})") from error
    return requests[:limit] if limit is not None else requests


class SupportAssistant:
    """Runs the workflow for one request at a time against one Chat Completions API."""

    def __init__(
        self, client: ChatClient, models: Models | None = None, remote: Remote | None = None
    ) -> None:
        models = models or Models.from_env()
        self.planner: Planner | RemotePlanner = (
            Planner(client, models.planner) if remote is None else RemotePlanner(remote)
        )
        self.researcher = Researcher(client, models.researcher, remote)
        self.writer = Writer(client, models.writer)
        self.memory = ConversationMemory()
        self.remote = remote

    def handle(self, request: SupportRequest) -> Outcome:
        """Screen, plan, research, write and screen again.

        Raises:
            requests.RequestException: the model API failed (after one retry on 429).
        """
        conversation_id = f"conv_{uuid.uuid4().hex[:16]}"
        context = {"support.request.id": request.id, "support.request.channel": request.channel}
        # The conversation id in the baggage: the tool server's spans carry it too.
        token = otel_context.attach(baggage.set_baggage(GEN_AI_CONVERSATION_ID, conversation_id))
        try:
            return self._handle(request, conversation_id, context)
        finally:
            otel_context.detach(token)

    def _handle(self, request: SupportRequest, conversation_id: str, context: dict[str, str]
                ) -> Outcome:
        with agentotel.workflow(WORKFLOW_NAME, conversation_id=conversation_id) as run:
            # Content is captured only when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT
            # asks for it, and is redacted on export like every other attribute.
            run.record_input([request.text])
            try:
                outcome = self._run(request, conversation_id, context)
                run.record_output([outcome.detail])
                return outcome
            except Exception as error:
                log.warning("request %s failed: %s", request.id, error, extra=context)
                raise
            finally:
                if self.remote is not None:
                    self.remote.settle()  # the other processes' spans, before the tree prints

    def _run(self, request: SupportRequest, conversation_id: str, context: dict[str, str]
             ) -> Outcome:
        screened = guardrails.screen_input(request.text)
        if screened.verdict == "deny":
            log.info("request %s denied: %s", request.id, screened.notes(), extra=context)
            return Outcome(request.id, "denied", screened.notes(), input_verdict="deny")
        if screened.verdict != "allow":
            log.info("request %s screened: %s", request.id, screened.notes(), extra=context)
        text = screened.text
        plan = self.planner.run(text, conversation_id)
        self.memory.add(conversation_id, "plan", plan)
        research = self.researcher.run(text, plan, conversation_id)
        self.memory.add(conversation_id, "findings", research.notes)
        draft = self.writer.run(text, self.memory.recall(conversation_id), conversation_id)
        grounded = evaluate_reply(
            draft.text, research.sources, response_id=draft.response_id, evaluated=draft.agent
        )
        checked = guardrails.screen_output(draft.text)
        if checked.verdict != "allow":
            log.info("reply to %s screened: %s", request.id, checked.notes(), extra=context)
        interventions = "; ".join(n for n in (screened.notes(), checked.notes()) if n)
        return Outcome(
            request.id,
            "answered",
            checked.text,
            input_verdict=screened.verdict,
            output_verdict=checked.verdict,
            notes=interventions,
            groundedness=grounded,
        )

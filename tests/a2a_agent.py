"""An A2A agent for the tests, in its own process, instrumented by ``agentotel.init()``
alone (telemetry over OTLP to the test's receiver, from the ``OTEL_*`` environment).

    python tests/a2a_agent.py PORT

Answers every message with a completed task whose artifact is JSON: the text it got and
the baggage its executor sees; inside, an ``invoke_agent echo`` span (the in-process
agent). A message whose text is ``fail`` ends the task ``TASK_STATE_FAILED``.
"""

from __future__ import annotations

import json
import os
import sys

import agentotel

agentotel.init(service_name=os.environ.get("OTEL_SERVICE_NAME", "a2a-echo-agent"))

import uvicorn  # noqa: E402
from a2a.helpers.proto_helpers import (  # noqa: E402
    new_task_from_user_message,
    new_text_artifact,
)
from a2a.server.agent_execution import AgentExecutor, RequestContext  # noqa: E402
from a2a.server.events import EventQueue  # noqa: E402
from a2a.server.request_handlers import DefaultRequestHandler  # noqa: E402
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes  # noqa: E402
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater  # noqa: E402
from a2a.types.a2a_pb2 import (  # noqa: E402
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
)
from opentelemetry import baggage  # noqa: E402
from starlette.applications import Starlette  # noqa: E402


class Echo(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task = context.current_task
        if task is None:
            task = new_task_from_user_message(context.message)
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        with agentotel.agent("echo"):
            text = context.get_user_input()
            seen = {"text": text, "baggage": dict(baggage.get_all())}
        if text == "fail":
            await updater.failed()
            return
        await updater.add_artifact(list(new_text_artifact("answer", json.dumps(seen)).parts))
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


def card(port: int) -> AgentCard:
    return AgentCard(
        name="echo-agent",
        description="Says back what it gets",
        version="1.2.0",
        supported_interfaces=[AgentInterface(
            url=f"http://127.0.0.1:{port}/", protocol_binding="JSONRPC", protocol_version="1.0",
        )],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="echo", name="echo", description="echo", tags=["echo"])],
    )


def app(port: int) -> Starlette:
    agent_card = card(port)
    handler = DefaultRequestHandler(Echo(), InMemoryTaskStore(), agent_card)
    return Starlette(
        routes=[*create_agent_card_routes(agent_card), *create_jsonrpc_routes(handler, "/")]
    )


if __name__ == "__main__":
    port = int(sys.argv[1])
    uvicorn.run(app(port), host="127.0.0.1", port=port, log_level="warning")

"""The planner as a remote agent: an A2A server over HTTP (its own process,
``support-planner``).

    python -m examples.support_assistant.planner_agent PORT

Each A2A ``SendMessage`` runs :class:`~.agents.Planner` (an ``invoke_agent planner`` span
and its ``chat`` call to the model API named by ``OPENAI_BASE_URL``) and answers with a
completed task whose artifact is the plan, or a failed task whose status message is the
model API's error. ``agentotel.init()`` is the only telemetry code: the A2A SERVER span
continues the caller's trace from the request headers. Telemetry leaves over OTLP (the
environment the demo sets).
"""

from __future__ import annotations

import os
import sys

import agentotel

agentotel.init()

import requests  # noqa: E402
import uvicorn  # noqa: E402
from a2a.helpers.proto_helpers import (  # noqa: E402
    new_task_from_user_message,
    new_text_artifact,
    new_text_message,
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
from starlette.applications import Starlette  # noqa: E402

from .agents import AGENT_VERSION, Models, Planner  # noqa: E402
from .llm_client import ChatClient  # noqa: E402
from .remote import PLANNER_AGENT  # noqa: E402


class PlannerExecutor(AgentExecutor):
    def __init__(self, planner: Planner) -> None:
        self.planner = planner

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task = context.current_task or new_task_from_user_message(context.message)
        if context.current_task is None:
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        try:
            plan = self.planner.run(context.get_user_input(), task.context_id)
        except requests.RequestException as error:
            await updater.failed(new_text_message(str(error)))
            return
        await updater.add_artifact(list(new_text_artifact("plan", plan).parts))
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


def app(port: int) -> Starlette:
    card = AgentCard(
        name=PLANNER_AGENT,
        description="Breaks a support request into research steps",
        version=AGENT_VERSION,
        supported_interfaces=[AgentInterface(
            url=f"http://127.0.0.1:{port}/", protocol_binding="JSONRPC", protocol_version="1.0",
        )],
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(id="plan", name="plan", description="Plans the research steps",
                           tags=["support"])],
    )
    client = ChatClient(os.environ["OPENAI_BASE_URL"], os.environ["OPENAI_API_KEY"])
    executor = PlannerExecutor(Planner(client, Models.from_env().planner))
    handler = DefaultRequestHandler(executor, InMemoryTaskStore(), card)
    return Starlette(routes=[*create_agent_card_routes(card), *create_jsonrpc_routes(handler, "/")])


if __name__ == "__main__":
    port = int(sys.argv[1])
    uvicorn.run(app(port), host="127.0.0.1", port=port, log_level="warning")
    agentotel.shutdown()

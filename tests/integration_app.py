"""An application that uses no telemetry code but ``agentotel.init()``, for the
integration tests (``test_integrations.py``), which run it as a subprocess.

    python tests/integration_app.py [--init JSON] [--import-first] SCENARIO...

Each scenario drives one library at the model API server (``tests/llm_server.py``) whose
base URL is in ``LLM_SERVER_URL``: ``openai`` (chat sync, async and streamed with usage,
responses, embeddings), ``anthropic`` (create, stream), ``langgraph`` (a LangChain 1.x
``create_agent`` graph over ``ChatOpenAI`` with one tool), ``openai_agents`` (an Agents
SDK agent with one tool over the Responses API), ``pydantic_ai`` (an agent with one tool
over an OpenAI chat model), ``secret`` (an OpenAI and an Anthropic call whose prompts
carry an API key and an e-mail address), ``failure`` (an OpenAI and an Anthropic request
answered with HTTP 500).

``init()`` gets ``--init``'s keywords and is called before the scenarios' modules are
imported (:data:`IMPORTS`), or after them with ``--import-first``; the exporters come from
the ``OTEL_*`` variables. At the end the application calls ``agentotel.shutdown()`` and
prints one JSON line: ``{"imports": [[module, instrumented], ...], "calls": [...]}``, what
``Telemetry.instrumented`` listed after each import and what each model call answered
(label, response id, usage, text).

The scenario functions also serve the in-process tests; the texts below are the prompts,
for which the tests compute the usage the server reports (``llm_server.expected_usage``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
from collections.abc import Callable
from typing import Any

API_KEY = "sk-test-llm-server"
OPENAI_MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"
ANTHROPIC_MODEL = "claude-haiku-4-5"

SYSTEM = "You are a terse assistant."
PROMPT = "What is the weather in Paris?"
ASYNC_PROMPT = "Say hello from the event loop"
#: 32 words: the server reports cached (cache-read) tokens for it
LONG_PROMPT = " ".join(["Please summarise this long and winding customer request."] * 4)
RESPONSES_PROMPT = "Summarise the Responses API in one line"
EMBEDDING_INPUTS = ["the first text to embed", "and the second"]
ANTHROPIC_PROMPT = "Tell me about the Haiku model"
ANTHROPIC_STREAM_PROMPT = "Stream me a short answer please"
TOOL_RESULT = "Sunny in Paris"  # what every agent's get_weather tool returns for Paris
#: secrets in prompts: redaction must replace them before export
SECRET_KEY = "sk-proj-Q3vX9kT2mLp8Rz4Wn6Yb1Hc5Jd7Fg0Aa"
SECRET_EMAIL = "jane.doe@example.com"
SECRET_PROMPT = f"My key is {SECRET_KEY} and my e-mail is {SECRET_EMAIL}, please remember"
FAIL_500_PROMPT = "Please FAIL_500 now"

#: the modules each scenario imports, in order: a LangGraph application over ChatOpenAI
#: imports langchain_openai and langgraph first; create_agent comes from langchain
IMPORTS = {
    "openai": ("openai",),
    "anthropic": ("anthropic",),
    "langgraph": ("langchain_openai", "langgraph.prebuilt", "langchain.agents"),
    "openai_agents": ("agents",),
    "pydantic_ai": ("pydantic_ai", "pydantic_ai.models.openai"),
    "secret": ("openai", "anthropic"),
    "failure": ("openai", "anthropic"),
    # the libraries of the other official GenAI instrumentations (those installed)
    "libraries": (
        "google.genai", "agno.agent", "dspy", "llama_index.core", "portkey_ai",
        "qwen_agent.agents", "smolagents",
    ),
}
GEMINI_MODEL = "gemini-2.5-flash"

Call = dict[str, Any]


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


def _chat_usage(usage: Any) -> dict[str, int]:
    details = getattr(usage, "prompt_tokens_details", None)
    return {
        "input": usage.prompt_tokens,
        "output": usage.completion_tokens,
        "cached": getattr(details, "cached_tokens", 0) or 0,
    }


def run_openai(server: str) -> list[Call]:
    import openai

    client = openai.OpenAI(base_url=server + "/v1", api_key=API_KEY, max_retries=0)
    calls: list[Call] = []
    completion = client.chat.completions.create(
        model=OPENAI_MODEL,
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}],
        temperature=0.2,
    )
    calls.append(
        {
            "label": "chat",
            "id": completion.id,
            "usage": _chat_usage(completion.usage),
            "text": completion.choices[0].message.content,
        }
    )

    async def chat_async() -> Call:
        async with openai.AsyncOpenAI(
            base_url=server + "/v1", api_key=API_KEY, max_retries=0
        ) as aclient:
            answer = await aclient.chat.completions.create(
                model=OPENAI_MODEL, messages=[{"role": "user", "content": ASYNC_PROMPT}]
            )
        return {
            "label": "chat_async",
            "id": answer.id,
            "usage": _chat_usage(answer.usage),
            "text": answer.choices[0].message.content,
        }

    calls.append(asyncio.run(chat_async()))
    stream = client.chat.completions.create(
        model=OPENAI_MODEL,
        messages=[{"role": "user", "content": LONG_PROMPT}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    calls.append(
        {
            "label": "chat_stream",
            "id": chunks[0].id,
            "usage": _chat_usage(chunks[-1].usage),
            "text": "".join(c.choices[0].delta.content or "" for c in chunks if c.choices),
        }
    )
    response = client.responses.create(
        model=OPENAI_MODEL, instructions=SYSTEM, input=RESPONSES_PROMPT
    )
    assert response.usage is not None
    calls.append(
        {
            "label": "responses",
            "id": response.id,
            "usage": {
                "input": response.usage.input_tokens,
                "output": response.usage.output_tokens,
                "cached": response.usage.input_tokens_details.cached_tokens,
            },
            "text": response.output_text,
        }
    )
    embedded = client.embeddings.create(model=EMBEDDING_MODEL, input=EMBEDDING_INPUTS)
    calls.append(
        {
            "label": "embeddings",
            "id": None,
            "usage": {"input": embedded.usage.prompt_tokens, "output": 0, "cached": 0},
            "text": None,
        }
    )
    return calls


def _message_call(label: str, message: Any) -> Call:
    usage = message.usage
    return {
        "label": label,
        "id": message.id,
        "usage": {
            "input": usage.input_tokens,
            "output": usage.output_tokens,
            "cached": usage.cache_read_input_tokens or 0,
        },
        "text": message.content[0].text,
    }


def run_anthropic(server: str) -> list[Call]:
    import anthropic

    client = anthropic.Anthropic(base_url=server, api_key=API_KEY, max_retries=0)
    message = client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=64,
        system=SYSTEM,
        messages=[{"role": "user", "content": ANTHROPIC_PROMPT}],
    )
    with client.messages.stream(
        model=ANTHROPIC_MODEL,
        max_tokens=64,
        messages=[{"role": "user", "content": ANTHROPIC_STREAM_PROMPT}],
    ) as stream:
        streamed = stream.get_final_message()
    return [_message_call("create", message), _message_call("stream", streamed)]


def run_langgraph(server: str, prompt: str = PROMPT) -> list[Call]:
    from langchain.agents import create_agent
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(
        model=OPENAI_MODEL,
        base_url=server + "/v1",
        api_key=API_KEY,  # type: ignore[arg-type]
        max_retries=0,
        temperature=0.3,
    )
    agent = create_agent(model, [tool(get_weather)], system_prompt=SYSTEM, name="weather")
    state = agent.invoke({"messages": [("user", prompt)]})
    return [
        {
            "label": f"turn{index}",
            "id": message.response_metadata["id"],
            "usage": {
                "input": message.usage_metadata["input_tokens"],
                "output": message.usage_metadata["output_tokens"],
                "cached": 0,
            },
            "text": message.content or None,
        }
        for index, message in enumerate(m for m in state["messages"] if m.type == "ai")
    ]


def run_openai_agents(server: str, prompt: str = PROMPT, *, sdk_tracing: bool = True) -> list[Call]:
    """``sdk_tracing=False``: the Agents SDK's own tracing off for the run (without the
    instrumentation it would upload its traces to OpenAI)."""
    import openai
    from agents import Agent, OpenAIResponsesModel, RunConfig, Runner, function_tool

    client = openai.AsyncOpenAI(base_url=server + "/v1", api_key=API_KEY, max_retries=0)
    agent = Agent(
        name="weather",
        instructions=SYSTEM,
        tools=[function_tool(get_weather)],
        model=OpenAIResponsesModel(model=OPENAI_MODEL, openai_client=client),
    )
    result = Runner.run_sync(
        agent, prompt, run_config=RunConfig(tracing_disabled=not sdk_tracing)
    )
    return [
        {
            "label": f"turn{index}",
            "id": response.response_id,
            "usage": {
                "input": response.usage.input_tokens,
                "output": response.usage.output_tokens,
                "cached": response.usage.input_tokens_details.cached_tokens,
            },
            "text": str(result.final_output) if index else None,
        }
        for index, response in enumerate(result.raw_responses)
    ]


def run_pydantic_ai(server: str, prompt: str = PROMPT) -> list[Call]:
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelResponse
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    provider = OpenAIProvider(base_url=server + "/v1", api_key=API_KEY)
    agent = Agent(OpenAIChatModel(OPENAI_MODEL, provider=provider), instructions=SYSTEM)
    agent.tool_plain(get_weather)
    result = agent.run_sync(prompt)
    responses = [m for m in result.all_messages() if isinstance(m, ModelResponse)]
    return [
        {
            "label": f"turn{index}",
            "id": response.provider_response_id,
            "usage": {
                "input": response.usage.input_tokens,
                "output": response.usage.output_tokens,
                "cached": response.usage.cache_read_tokens,
            },
            "text": str(result.output) if index else None,
        }
        for index, response in enumerate(responses)
    ]


def run_secret(server: str) -> list[Call]:
    import anthropic
    import openai

    client = openai.OpenAI(base_url=server + "/v1", api_key=API_KEY, max_retries=0)
    completion = client.chat.completions.create(
        model=OPENAI_MODEL, messages=[{"role": "user", "content": SECRET_PROMPT}]
    )
    message = anthropic.Anthropic(
        base_url=server, api_key=API_KEY, max_retries=0
    ).messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=64,
        messages=[{"role": "user", "content": SECRET_PROMPT}],
    )
    return [
        {
            "label": "openai",
            "id": completion.id,
            "usage": _chat_usage(completion.usage),
            "text": completion.choices[0].message.content,
        },
        _message_call("anthropic", message),
    ]


def run_failure(server: str) -> list[Call]:
    """One OpenAI and one Anthropic request answered with HTTP 500 (no retry)."""
    import anthropic
    import openai

    def failed(label: str, error: Exception) -> Call:
        return {"label": label, "id": None, "usage": None, "text": type(error).__name__}

    calls: list[Call] = []
    client = openai.OpenAI(base_url=server + "/v1", api_key=API_KEY, max_retries=0)
    try:
        client.chat.completions.create(
            model=OPENAI_MODEL, messages=[{"role": "user", "content": FAIL_500_PROMPT}]
        )
    except openai.InternalServerError as error:
        calls.append(failed("openai", error))
    try:
        anthropic.Anthropic(base_url=server, api_key=API_KEY, max_retries=0).messages.create(
            model=ANTHROPIC_MODEL,
            max_tokens=64,
            messages=[{"role": "user", "content": FAIL_500_PROMPT}],
        )
    except anthropic.InternalServerError as error:
        calls.append(failed("anthropic", error))
    return calls


# ---------------------------------------------------------------- the other GenAI libraries
# Each drives one library at the server with ``prompt`` and returns what the application
# saw; the tests compare the spans with the requests the server recorded.


def run_gemini(server: str, prompt: str = PROMPT) -> list[Call]:
    """google-genai: ``generate_content`` with a system instruction, then the same
    prompt streamed."""
    from google import genai
    from google.genai import types

    client = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=server))
    config = types.GenerateContentConfig(system_instruction=SYSTEM, temperature=0.2)
    response = client.models.generate_content(model=GEMINI_MODEL, contents=prompt, config=config)
    chunks = list(client.models.generate_content_stream(model=GEMINI_MODEL, contents=prompt))
    return [
        {"label": "generate_content", "id": response.response_id, "text": response.text},
        {"label": "stream", "id": chunks[-1].response_id, "text": "".join(
            c.text or "" for c in chunks
        )},
    ]


def run_agno(server: str, prompt: str = PROMPT) -> list[Call]:
    """An Agno agent with one tool over ``OpenAIChat``: two model requests."""
    from agno.agent import Agent
    from agno.models.openai import OpenAIChat

    model = OpenAIChat(
        id=OPENAI_MODEL, base_url=server + "/v1", api_key=API_KEY, max_retries=0
    )
    agent = Agent(
        name="weather", model=model, tools=[get_weather], instructions=SYSTEM, telemetry=False
    )
    return [{"label": "agno", "id": None, "text": agent.run(prompt).content}]


def run_dspy(server: str, prompt: str = PROMPT) -> list[Call]:
    """A DSPy language model called once (through LiteLLM)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "true")  # no fetch at start
    import dspy

    lm = dspy.LM(
        f"openai/{OPENAI_MODEL}", api_base=server + "/v1", api_key=API_KEY, cache=False,
        num_retries=0,
    )
    return [{"label": "dspy", "id": None, "text": lm(prompt)[0]}]


def run_llama_index(server: str, prompt: str = PROMPT) -> list[Call]:
    """A LlamaIndex ReAct agent with one tool, over a chat model that calls the OpenAI
    SDK (``llama-index-llms-openai`` pins openai < 3): one model request (the server's
    plain answer is the agent's final answer)."""
    import openai
    from llama_index.core.agent.workflow import ReActAgent
    from llama_index.core.llms import (
        ChatMessage,
        ChatResponse,
        CompletionResponse,
        CustomLLM,
        LLMMetadata,
    )
    from llama_index.core.tools import FunctionTool

    class ServerLLM(CustomLLM):  # type: ignore[misc]
        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(model_name=OPENAI_MODEL, is_chat_model=True)

        def chat(self, messages: Any, **_: Any) -> ChatResponse:
            client = openai.OpenAI(base_url=server + "/v1", api_key=API_KEY, max_retries=0)
            answer = client.chat.completions.create(
                model=OPENAI_MODEL,
                messages=[{"role": m.role.value, "content": m.content} for m in messages],
            )
            text = answer.choices[0].message.content
            return ChatResponse(message=ChatMessage(role="assistant", content=text))

        def stream_chat(self, messages: Any, **_: Any) -> Any:
            response = self.chat(messages)
            yield ChatResponse(message=response.message, delta=response.message.content)

        def complete(self, prompt: str, formatted: bool = False, **_: Any) -> Any:
            return CompletionResponse(text=self.chat([ChatMessage(content=prompt)]).message.content)

        def stream_complete(self, prompt: str, formatted: bool = False, **_: Any) -> Any:
            yield self.complete(prompt)

    agent = ReActAgent(
        name="weather", tools=[FunctionTool.from_defaults(get_weather)], llm=ServerLLM()
    )

    async def run() -> Any:
        return await agent.run(prompt, max_iterations=3)  # the handler needs a running loop

    return [{"label": "llama_index", "id": None, "text": str(asyncio.run(run()))}]


def run_portkey(server: str, prompt: str = PROMPT) -> list[Call]:
    """The Portkey gateway's client, pointed at the server: one chat completion."""
    from portkey_ai import Portkey

    client = Portkey(
        base_url=server + "/v1", api_key=API_KEY, Authorization=f"Bearer {API_KEY}",
        max_retries=0,
    )
    completion = client.chat.completions.create(
        model=OPENAI_MODEL, messages=[{"role": "user", "content": prompt}]
    )
    text = completion.choices[0].message.content
    return [{"label": "portkey", "id": completion.id, "text": text}]


def run_qwen_agent(server: str, prompt: str = PROMPT) -> list[Call]:
    """A Qwen-Agent assistant with one tool over the OpenAI-compatible API: two model
    requests."""
    from qwen_agent.agents import Assistant
    from qwen_agent.tools.base import TOOL_REGISTRY, BaseTool, register_tool

    if "get_weather" not in TOOL_REGISTRY:

        @register_tool("get_weather")
        class GetWeather(BaseTool):  # type: ignore[misc]
            description = "The weather in a city."
            parameters = {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            }

            def call(self, params: str, **_: Any) -> str:
                return get_weather(json.loads(params)["city"])

    llm = {
        "model": OPENAI_MODEL, "model_server": server + "/v1", "api_key": API_KEY,
        # tools as the API's tools; the streamed answer with its usage
        "generate_cfg": {
            "max_retries": 0, "use_raw_api": True, "stream_options": {"include_usage": True}
        },
    }
    bot = Assistant(llm=llm, function_list=["get_weather"], name="weather", system_message=SYSTEM)
    *_, last = bot.run([{"role": "user", "content": prompt}])
    return [{"label": "qwen_agent", "id": None, "text": last[-1]["content"]}]


def run_smolagents(server: str, prompt: str = PROMPT) -> list[Call]:
    """A smolagents tool-calling agent asked for its final answer: one model request."""
    from smolagents import OpenAIServerModel, ToolCallingAgent, tool

    @tool
    def get_weather(city: str) -> str:
        """The weather in a city.

        Args:
            city: the city
        """
        return f"Sunny in {city}"

    model = OpenAIServerModel(model_id=OPENAI_MODEL, api_base=server + "/v1", api_key=API_KEY)
    agent = ToolCallingAgent(
        tools=[get_weather], model=model, max_steps=1, name="weather", verbosity_level=-1
    )
    # the server calls the tool the message names: final_answer ends the run
    return [{"label": "smolagents", "id": None, "text": str(agent.run(prompt + " final_answer"))}]


def run_libraries(server: str) -> list[Call]:
    """google-genai 3.x, the one library of :data:`IMPORTS` ``libraries`` whose
    instrumentation needs agentotel's version rule."""
    return run_gemini(server)


SCENARIOS: dict[str, Callable[[str], list[Call]]] = {
    "openai": run_openai,
    "anthropic": run_anthropic,
    "langgraph": run_langgraph,
    "openai_agents": run_openai_agents,
    "pydantic_ai": run_pydantic_ai,
    "secret": run_secret,
    "failure": run_failure,
    "libraries": run_libraries,
}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--init", default="{}", help="init() keywords, as JSON")
    parser.add_argument("--import-first", action="store_true", help="import before init()")
    parser.add_argument("scenarios", nargs="+", choices=sorted(SCENARIOS))
    options = parser.parse_args(argv)
    modules = [module for scenario in options.scenarios for module in IMPORTS[scenario]]
    if options.import_first:
        for module in modules:
            importlib.import_module(module)

    import agentotel

    telemetry = agentotel.init("integration-app", **json.loads(options.init))
    imports = []
    for module in modules:
        importlib.import_module(module)
        imports.append([module, list(telemetry.instrumented)])
    server = os.environ["LLM_SERVER_URL"]
    calls = [call for scenario in options.scenarios for call in SCENARIOS[scenario](server)]
    agentotel.shutdown()
    print(json.dumps({"imports": imports, "calls": calls}))


if __name__ == "__main__":
    main(sys.argv[1:])

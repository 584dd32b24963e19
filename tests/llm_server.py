"""A local model API server for tests that speaks the providers' real wire formats.

The integration tests drive the real SDKs (openai, anthropic, langchain-openai, langgraph,
openai-agents, pydantic-ai) at this server over loopback HTTP. It answers:

- ``POST /v1/chat/completions``: OpenAI Chat Completions, JSON or, with ``stream: true``,
  SSE (``data: {chat.completion.chunk}`` lines, then ``data: [DONE]``);
- ``POST /v1/responses``: OpenAI Responses, JSON or SSE (``event: response.created`` ...
  ``event: response.completed``);
- ``POST /v1/embeddings``: OpenAI Embeddings, ``float`` or ``base64`` vectors;
- ``POST /v1/messages``: Anthropic Messages, JSON or SSE (``event: message_start`` ...
  ``event: message_stop``);
- ``GET /v1/models`` and ``/v1/models/ID``: OpenAI's or Anthropic's model list (Anthropic's
  when the request has an ``anthropic-version`` header);
- ``POST /v1/models/MODEL:generateContent`` (and under ``/v1beta``): the Gemini API
  (``google-genai``), JSON, or SSE for ``:streamGenerateContent?alt=sse`` (one
  ``GenerateContentResponse`` per event, the usage on the last); the key in
  ``x-goog-api-key``.

Point the SDKs at :attr:`LLMServer.openai_base_url` (``http://127.0.0.1:PORT/v1``) and
:attr:`LLMServer.anthropic_base_url` (``http://127.0.0.1:PORT``), with any non-empty key
(:data:`API_KEY`). Every request is recorded (:class:`RecordedRequest`: method, path,
headers, JSON body, the status answered) in :attr:`LLMServer.requests`.

How the stand-in model answers (everything derived from the request, so deterministic):

- **Tool calls.** A request that offers function tools, whose last message is the user's
  (not a tool result) and whose ``tool_choice`` is not "none", gets one tool call and
  nothing else (``finish_reason: "tool_calls"``, ``stop_reason: "tool_use"``). The tool is
  the one ``tool_choice`` names, else the first tool whose name appears in the last user
  message, else the first tool. Its arguments: a JSON object written in the user
  message (``... {"city": "Paris"}``) if there is one, else values filled in from the
  tool's JSON schema by :func:`tool_arguments` (strings get the last word of the user
  message, so "What is the weather in Paris?" gives ``{"city": "Paris"}``).
- **After tool results** (the last message is a tool result): the reply is
  ``"The tool returned: <the results' text>"`` (:func:`tool_reply_text`).
- **Otherwise** the reply is ``"You said: <the last user message>"`` (:func:`reply_text`),
  whitespace collapsed. A ``max_tokens`` / ``max_completion_tokens`` /
  ``max_output_tokens`` limit shorter than the reply truncates it (``"length"``,
  ``"max_tokens"``, Responses ``status: "incomplete"``).

Token usage (:func:`expected_usage`; words are ``len(text.split())``):

- prompt tokens = :data:`INPUT_OVERHEAD_TOKENS` + the words of every message's text:
  system prompt / ``instructions``, message contents, tool-call arguments (as
  ``json.dumps`` writes them, whatever the client sent) and tool results (tool
  definitions do not count; :func:`prompt_texts` lists the texts);
- cached (cache-read) tokens = :data:`CACHED_TOKENS` when the prompt has at least
  :data:`CACHE_MIN_WORDS` words, else 0;
- Anthropic cache-write tokens = :data:`CACHE_WRITE_TOKENS` when the request carries any
  ``cache_control``, else 0 (always 0 for OpenAI);
- reasoning tokens = :data:`REASONING_TOKENS` for OpenAI reasoning models (model name
  starting with one of :data:`REASONING_MODEL_PREFIXES`), else 0;
- output tokens = words of the reply text (of ``name + " " + arguments`` for a tool
  call) + reasoning tokens.

OpenAI reports ``prompt_tokens`` / ``input_tokens`` *including* the cached tokens
(``prompt_tokens_details.cached_tokens``); Anthropic's ``input_tokens`` *exclude* them
(``input_tokens`` + ``cache_read_input_tokens`` + ``cache_creation_input_tokens`` is the
prompt): :attr:`TokenUsage.anthropic_input_tokens`.

Embeddings: :func:`embedding_vector` (unit length, float32 values,
:data:`EMBEDDING_DIMENSIONS` unless ``dimensions`` is given); usage = words of the inputs.

Failure injection, by a marker in the last user message (the embeddings input for
``/v1/embeddings``), in the provider's error shape:

- :data:`FAIL_500_MARKER`: HTTP 500, on every attempt (so SDK retries fail the same way);
- :data:`FAIL_429_MARKER`: HTTP 429 with ``retry-after: 0``, on every attempt;
- :data:`FLAKY_429_MARKER`: HTTP 429 the first time this server sees that exact request
  body, then answered normally (an SDK retry succeeds).

With ``retry-after: 0`` alone both SDKs fall back to their exponential back-off (0.5 s
and up), so 429 answers also carry ``retry-after-ms: 1``, which both honour.

The OpenAI side reuses the support-assistant example's stand-in
(:mod:`examples.support_assistant.fake_openai`) for what fits: the error body shape, the
dated model snapshots, the system fingerprint and the stable id generator.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from examples.support_assistant.fake_openai import (
    SNAPSHOTS,
    SYSTEM_FINGERPRINT,
    FakeResponse,
    _error,
    _hash_id,
)

API_KEY = "sk-test-llm-server"  # any non-empty key is accepted
OPENAI_MODEL = "gpt-4o-mini"  # answered as "gpt-4o-mini-2024-07-18"
REASONING_MODEL = "o4-mini"  # reports REASONING_TOKENS
EMBEDDING_MODEL = "text-embedding-3-small"
ANTHROPIC_MODEL = "claude-haiku-4-5"  # answered as "claude-haiku-4-5-20251001"

# --------------------------------------------------------------------------- markers
FAIL_500_MARKER = "FAIL_500"
FAIL_429_MARKER = "FAIL_429"
FLAKY_429_MARKER = "FLAKY_429"

# --------------------------------------------------------------------------- token formula
INPUT_OVERHEAD_TOKENS = 8
CACHE_MIN_WORDS = 32
CACHED_TOKENS = 32
CACHE_WRITE_TOKENS = 4
REASONING_TOKENS = 16
REASONING_MODEL_PREFIXES = ("o1", "o3", "o4", "gpt-5")
EMBEDDING_DIMENSIONS = 1536

REPLY_PREFIX = "You said:"
TOOL_REPLY_PREFIX = "The tool returned:"

#: Anthropic model alias -> the dated model id the API answers with (OpenAI's: SNAPSHOTS).
ANTHROPIC_SNAPSHOTS = {"claude-haiku-4-5": "claude-haiku-4-5-20251001"}
#: The models the ``/v1/models`` listings show.
ANTHROPIC_MODELS = {
    "claude-haiku-4-5-20251001": "Claude Haiku 4.5",
    "claude-sonnet-4-6": "Claude Sonnet 4.6",
    "claude-opus-4-6": "Claude Opus 4.6",
}
OPENAI_MODELS = [*SNAPSHOTS, *SNAPSHOTS.values(), "o4-mini", "text-embedding-3-small"]
MODEL_SNAPSHOTS: dict[str, str] = {**SNAPSHOTS, **ANTHROPIC_SNAPSHOTS}

#: The ``api`` names used by :func:`prompt_texts` and :class:`RecordedRequest`.
CHAT = "chat"
RESPONSES = "responses"
EMBEDDINGS = "embeddings"
MESSAGES = "messages"
MODELS = "models"
GEMINI = "gemini"

_ROUTES = {
    ("POST", "/v1/chat/completions"): CHAT,
    ("POST", "/v1/responses"): RESPONSES,
    ("POST", "/v1/embeddings"): EMBEDDINGS,
    ("POST", "/v1/messages"): MESSAGES,
}
#: The Gemini API's generate routes: ``/v1[beta]/models/MODEL:generateContent`` and
#: ``:streamGenerateContent``.
_GEMINI_ROUTE = re.compile(r"/v1(?:beta)?/models/([^/:]+):(generateContent|streamGenerateContent)")


# --------------------------------------------------------------------------- usage


@dataclass(frozen=True)
class TokenUsage:
    """Token counts of one answer. ``prompt_tokens`` includes the cached and cache-write
    tokens (OpenAI's ``prompt_tokens``/``input_tokens``); ``output_tokens`` includes the
    reasoning tokens (OpenAI's ``completion_tokens``/``output_tokens``)."""

    prompt_tokens: int
    output_tokens: int
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.output_tokens

    @property
    def anthropic_input_tokens(self) -> int:
        """Anthropic's ``input_tokens``: the prompt without cache reads and writes."""
        return self.prompt_tokens - self.cached_tokens - self.cache_write_tokens


def count_words(text: str) -> int:
    return len(text.split())


def expected_usage(
    prompt: str | Sequence[str],
    reply: str,
    *,
    reasoning: bool = False,
    cache_write: bool = False,
) -> TokenUsage:
    """The usage the server reports for a prompt (the texts :func:`prompt_texts` lists,
    or one string) and a reply text (``name + " " + arguments`` for a tool call).

    ``reasoning``: the model is a reasoning model (:func:`is_reasoning_model`);
    ``cache_write``: an Anthropic request carrying ``cache_control``.
    """
    texts = [prompt] if isinstance(prompt, str) else list(prompt)
    words = sum(count_words(text) for text in texts)
    reasoning_tokens = REASONING_TOKENS if reasoning else 0
    return TokenUsage(
        prompt_tokens=INPUT_OVERHEAD_TOKENS + words,
        output_tokens=count_words(reply) + reasoning_tokens,
        cached_tokens=CACHED_TOKENS if words >= CACHE_MIN_WORDS else 0,
        cache_write_tokens=CACHE_WRITE_TOKENS if cache_write else 0,
        reasoning_tokens=reasoning_tokens,
    )


def is_reasoning_model(model: str) -> bool:
    return model.startswith(REASONING_MODEL_PREFIXES)


def reply_text(user_text: str) -> str:
    """The reply to a user message when no tool is called."""
    return " ".join([REPLY_PREFIX, *user_text.split()])


def tool_reply_text(results: str | Sequence[str]) -> str:
    """The reply after tool results (their texts, in order)."""
    texts = [results] if isinstance(results, str) else list(results)
    return " ".join([TOOL_REPLY_PREFIX, *" ".join(texts).split()])


def embedding_vector(text: str, dimensions: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """The embedding of ``text``: unit length, every value exactly a float32."""
    raw = bytearray()
    counter = 0
    while len(raw) < 2 * dimensions:
        raw += hashlib.sha256(f"{counter}:{text}".encode()).digest()
        counter += 1
    values = [(int.from_bytes(raw[2 * i : 2 * i + 2], "big") - 32767.5) for i in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values))
    packed = struct.pack(f"<{dimensions}f", *(v / norm for v in values))
    return list(struct.unpack(f"<{dimensions}f", packed))


# --------------------------------------------------------------------------- reading requests


def _content_texts(content: Any) -> list[str]:
    """The texts in a message content: a string, None, or a list of parts / blocks
    (``text``, ``input_text``, ``output_text``; Anthropic ``tool_use`` input as JSON and
    ``tool_result`` content)."""
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        return []
    texts: list[str] = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict):
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif part.get("type") == "tool_use":
                texts.append(json.dumps(part.get("input") or {}))
            elif part.get("type") == "tool_result":
                texts.extend(_content_texts(part.get("content")))
    return texts


def _user_texts(content: Any) -> list[str]:
    """The user's own words in a message content (not tool results)."""
    if isinstance(content, list):
        content = [
            p for p in content if not (isinstance(p, dict) and p.get("type") == "tool_result")
        ]
    return _content_texts(content)


def _responses_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    items = body.get("input")
    if isinstance(items, str):
        return [{"type": "message", "role": "user", "content": items}]
    return [item for item in items or [] if isinstance(item, dict)]


def _item_type(item: dict[str, Any]) -> str:
    return str(item.get("type") or "message")


def canonical_arguments(arguments: Any) -> str:
    """Tool-call arguments as ``json.dumps`` writes them: clients re-serialise the
    arguments they got (pydantic-ai sends ``{"city":"Paris"}`` back), and the word count
    must not depend on that."""
    try:
        return json.dumps(json.loads(arguments))
    except (TypeError, ValueError):
        return str(arguments or "")


def prompt_texts(api: str, body: dict[str, Any]) -> list[str]:
    """The texts of a request that count as prompt tokens, in order: system prompt /
    ``instructions``, message contents, tool-call arguments, tool results."""
    texts: list[str] = []
    if api == CHAT:
        for message in body.get("messages") or []:
            texts += _content_texts(message.get("content"))
            for call in message.get("tool_calls") or []:
                texts.append(canonical_arguments((call.get("function") or {}).get("arguments")))
    elif api == RESPONSES:
        if isinstance(body.get("instructions"), str):
            texts.append(body["instructions"])
        for item in _responses_items(body):
            kind = _item_type(item)
            if kind == "message":
                texts += _content_texts(item.get("content"))
            elif kind == "function_call":
                texts.append(canonical_arguments(item.get("arguments")))
            elif kind == "function_call_output":
                texts += _content_texts(item.get("output"))
    elif api == MESSAGES:
        texts += _content_texts(body.get("system"))
        for message in body.get("messages") or []:
            texts += _content_texts(message.get("content"))
    elif api == EMBEDDINGS:
        texts += [text for text in _embedding_inputs(body) if isinstance(text, str)]
    elif api == GEMINI:
        texts += _gemini_texts((body.get("systemInstruction") or {}).get("parts"))
        for content in body.get("contents") or []:
            texts += _gemini_texts(content.get("parts"))
    return texts


def _gemini_texts(parts: Any) -> list[str]:
    """The texts of Gemini ``parts``: ``text``, function-call ``args`` and function
    responses as JSON (``json.dumps``)."""
    texts: list[str] = []
    for part in parts if isinstance(parts, list) else []:
        if isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(part.get("functionCall"), dict):
            texts.append(json.dumps(part["functionCall"].get("args") or {}))
        elif isinstance(part.get("functionResponse"), dict):
            texts.append(json.dumps(part["functionResponse"].get("response") or {}))
    return texts


def _embedding_inputs(body: dict[str, Any]) -> list[str | list[int]]:
    value = body.get("input")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return [value]  # one pre-tokenized input
    return list(value) if isinstance(value, list) else []


@dataclass
class _Conversation:
    """What the stand-in model needs from a request, whatever the API."""

    model: str
    user_text: str  # the last user message's own words
    last_is_user: bool  # the last message is the user's (not a tool result)
    tool_results: list[str]  # the results after the last model turn, when last
    tools: list[tuple[str, dict[str, Any]]]  # (name, JSON schema) of the function tools
    forced_tool: str | None  # the tool tool_choice names
    tools_disabled: bool  # tool_choice "none"
    max_tokens: int | None


def _chat_conversation(body: dict[str, Any]) -> _Conversation:
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    last = messages[-1] if messages else {}
    user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    results: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        results[:0] = _content_texts(message.get("content"))
    tools = [
        (t["function"]["name"], t["function"].get("parameters") or {})
        for t in body.get("tools") or []
        if t.get("type") == "function" and isinstance(t.get("function"), dict)
    ]
    choice = body.get("tool_choice")
    forced = (
        choice["function"].get("name")
        if isinstance(choice, dict) and "function" in choice
        else None
    )
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    return _Conversation(
        model=str(body.get("model")),
        user_text=" ".join(_content_texts(user.get("content"))),
        last_is_user=last.get("role") == "user",
        tool_results=results,
        tools=tools,
        forced_tool=forced,
        tools_disabled=choice == "none",
        max_tokens=limit if isinstance(limit, int) else None,
    )


def _responses_conversation(body: dict[str, Any]) -> _Conversation:
    items = _responses_items(body)
    last = items[-1] if items else {}
    users = [i for i in items if _item_type(i) == "message" and i.get("role") == "user"]
    user = users[-1] if users else {}
    results: list[str] = []
    for item in reversed(items):
        if _item_type(item) != "function_call_output":
            break
        results[:0] = _content_texts(item.get("output"))
    tools = [
        (t["name"], t.get("parameters") or {})
        for t in body.get("tools") or []
        if t.get("type") == "function" and isinstance(t.get("name"), str)
    ]
    choice = body.get("tool_choice")
    forced = (
        choice.get("name")
        if isinstance(choice, dict) and choice.get("type") == "function"
        else None
    )
    limit = body.get("max_output_tokens")
    return _Conversation(
        model=str(body.get("model")),
        user_text=" ".join(_content_texts(user.get("content"))),
        last_is_user=_item_type(last) == "message" and last.get("role") == "user",
        tool_results=results,
        tools=tools,
        forced_tool=forced,
        tools_disabled=choice == "none",
        max_tokens=limit if isinstance(limit, int) else None,
    )


def _messages_conversation(body: dict[str, Any]) -> _Conversation:
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    last = messages[-1] if messages else {}
    users = [m for m in messages if m.get("role") == "user" and _user_texts(m.get("content"))]
    last_content = last.get("content")
    results = [
        " ".join(_content_texts(block.get("content")))
        for block in (last_content if isinstance(last_content, list) else [])
        if isinstance(block, dict) and block.get("type") == "tool_result"
    ]
    tools = [
        (t["name"], t.get("input_schema") or {})
        for t in body.get("tools") or []
        if t.get("type") in (None, "custom") and isinstance(t.get("name"), str)
    ]
    choice = body.get("tool_choice") or {}
    limit = body.get("max_tokens")
    return _Conversation(
        model=str(body.get("model")),
        user_text=" ".join(_user_texts(users[-1].get("content"))) if users else "",
        last_is_user=last.get("role") == "user" and not results,
        tool_results=results if last.get("role") == "user" else [],
        tools=tools,
        forced_tool=choice.get("name") if choice.get("type") == "tool" else None,
        tools_disabled=choice.get("type") == "none",
        max_tokens=limit if isinstance(limit, int) else None,
    )


def _lower_types(schema: Any) -> Any:
    """A Gemini ``Schema`` (``"type": "STRING"``) as JSON Schema spells its types."""
    if isinstance(schema, dict):
        return {
            k: v.lower() if k == "type" and isinstance(v, str) else _lower_types(v)
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_lower_types(v) for v in schema]
    return schema


def _schema_of(declaration: dict[str, Any]) -> Any:
    """A function declaration's parameters (google-genai 3.x sends a JSON schema under
    ``parameters_json_schema``)."""
    for key in ("parametersJsonSchema", "parameters_json_schema", "parameters"):
        if isinstance(declaration.get(key), dict):
            return declaration[key]
    return {}


def _gemini_conversation(body: dict[str, Any]) -> _Conversation:
    contents = [c for c in body.get("contents") or [] if isinstance(c, dict)]
    last = contents[-1] if contents else {}
    last_parts = last.get("parts") or []
    results = [
        json.dumps(p["functionResponse"].get("response") or {})
        for p in last_parts
        if isinstance(p.get("functionResponse"), dict)
    ]
    users = [
        c for c in contents
        if c.get("role", "user") == "user" and any("text" in p for p in c.get("parts") or [])
    ]
    user_parts = [p for p in (users[-1].get("parts") or []) if "text" in p] if users else []
    tools = [
        (d["name"], _lower_types(_schema_of(d)))
        for tool in body.get("tools") or []
        for d in tool.get("functionDeclarations") or []
    ]
    mode = ((body.get("toolConfig") or {}).get("functionCallingConfig") or {}).get("mode")
    limit = (body.get("generationConfig") or {}).get("maxOutputTokens")
    return _Conversation(
        model=body["model"],
        user_text=" ".join(_gemini_texts(user_parts)),
        last_is_user=last.get("role", "user") == "user" and not results,
        tool_results=results,
        tools=tools,
        forced_tool=None,
        tools_disabled=mode == "NONE",
        max_tokens=limit if isinstance(limit, int) else None,
    )


# --------------------------------------------------------------------------- the model


_EMBEDDED_JSON = re.compile(r"\{.*\}", re.DOTALL)
_PUNCTUATION = ".,;:!?'\"()[]{}"


def tool_arguments(schema: dict[str, Any], user_text: str) -> dict[str, Any]:
    """The arguments the stand-in model passes to a tool: the JSON object written in the
    user message if there is one, else every property of ``schema`` filled in: strings
    with the message's last word (punctuation stripped), integers and numbers with its
    word count, booleans true, enums their first value, arrays one item, objects their
    own properties (``$ref``, ``anyOf`` and ``oneOf`` followed to the first non-null
    choice)."""
    match = _EMBEDDED_JSON.search(user_text)
    if match:
        try:
            embedded = json.loads(match.group())
        except json.JSONDecodeError:
            embedded = None
        if isinstance(embedded, dict):
            return embedded
    value = _sample(schema, schema, user_text, depth=0)
    return value if isinstance(value, dict) else {}


def _sample(schema: Any, root: dict[str, Any], text: str, depth: int) -> Any:
    if not isinstance(schema, dict) or depth > 8:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for key in ref[2:].split("/"):
            target = target.get(key, {}) if isinstance(target, dict) else {}
        return _sample(target, root, text, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        choices = [
            c for c in schema.get(key) or [] if isinstance(c, dict) and c.get("type") != "null"
        ]
        if choices:
            return _sample(choices[0], root, text, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    words = text.split()
    if kind == "string":
        return words[-1].strip(_PUNCTUATION) if words else ""
    if kind == "integer":
        return len(words)
    if kind == "number":
        return float(len(words))
    if kind == "boolean":
        return True
    if kind == "array":
        item = _sample(schema.get("items"), root, text, depth + 1)
        return [] if item is None else [item]
    if kind == "object" or "properties" in schema:
        return {
            name: _sample(prop, root, text, depth + 1)
            for name, prop in (schema.get("properties") or {}).items()
        }
    return None


@dataclass
class _Answer:
    """One model turn, before it is put into an API's format."""

    model: str  # the model the server says it used
    text: str | None  # the reply, or None for a tool call
    tool_name: str | None
    tool_arguments: str | None  # JSON
    truncated: bool  # cut short by the request's token limit
    usage: TokenUsage
    digest: str  # sha256 of the request body and path, the seed of the ids


def _answer(api: str, body: dict[str, Any], digest: str) -> _Answer:
    conversation = {
        CHAT: _chat_conversation,
        RESPONSES: _responses_conversation,
        MESSAGES: _messages_conversation,
        GEMINI: _gemini_conversation,
    }[api](body)
    model = conversation.model
    reasoning = api not in (MESSAGES, GEMINI) and is_reasoning_model(model)
    cache_write = api == MESSAGES and '"cache_control"' in json.dumps(body)
    prompt = prompt_texts(api, body)
    snapshot = MODEL_SNAPSHOTS.get(model, model)
    names = [name for name, _ in conversation.tools]
    if conversation.tools and conversation.last_is_user and not conversation.tools_disabled:
        name = conversation.forced_tool if conversation.forced_tool in names else None
        name = name or next((n for n in names if n in conversation.user_text), names[0])
        schema = dict(conversation.tools)[name]
        arguments = json.dumps(tool_arguments(schema, conversation.user_text))
        usage = expected_usage(
            prompt, f"{name} {arguments}", reasoning=reasoning, cache_write=cache_write
        )
        return _Answer(snapshot, None, name, arguments, False, usage, digest)
    if conversation.tool_results and not conversation.last_is_user:
        text = tool_reply_text(conversation.tool_results)
    else:
        text = reply_text(conversation.user_text)
    truncated = False
    if conversation.max_tokens is not None:
        budget = max(conversation.max_tokens - (REASONING_TOKENS if reasoning else 0), 0)
        if count_words(text) > budget:
            text, truncated = " ".join(text.split()[:budget]), True
    usage = expected_usage(prompt, text, reasoning=reasoning, cache_write=cache_write)
    return _Answer(snapshot, text, None, None, truncated, usage, digest)


def _pieces(text: str, *, size: int | None = None) -> list[str]:
    """``text`` cut into stream deltas: word by word, or ``size`` characters at a time."""
    if size:
        return [text[i : i + size] for i in range(0, len(text), size)]
    return re.findall(r"\S+\s*", text)


# --------------------------------------------------------------------------- OpenAI formats


def _chat_usage(usage: TokenUsage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _chat_ids(answer: _Answer) -> tuple[str, str]:
    return "chatcmpl-" + _hash_id(answer.digest, 29), "call_" + _hash_id(answer.digest + ":0", 24)


def _chat_finish_reason(answer: _Answer) -> str:
    if answer.tool_name:
        return "tool_calls"
    return "length" if answer.truncated else "stop"


def chat_completion(body: dict[str, Any], answer: _Answer) -> dict[str, Any]:
    completion_id, call_id = _chat_ids(answer)
    message: dict[str, Any] = {"role": "assistant", "content": answer.text, "refusal": None}
    if answer.tool_name:
        message["tool_calls"] = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": answer.tool_name, "arguments": answer.tool_arguments},
            }
        ]
    message["annotations"] = []
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": answer.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _chat_finish_reason(answer),
            }
        ],
        "usage": _chat_usage(answer.usage),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def chat_completion_chunks(body: dict[str, Any], answer: _Answer) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed answer: the role, the deltas,
    the finish reason, and with ``stream_options.include_usage`` a last chunk with empty
    ``choices`` and the usage (every other chunk then has ``"usage": null``)."""
    completion_id, call_id = _chat_ids(answer)
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": answer.model,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if include_usage:
            data["usage"] = None
        return data

    chunks: list[dict[str, Any]] = []
    if answer.tool_name:
        arguments = answer.tool_arguments or ""
        call = {
            "index": 0,
            "id": call_id,
            "type": "function",
            "function": {"name": answer.tool_name, "arguments": ""},
        }
        chunks.append(
            chunk({"role": "assistant", "content": None, "tool_calls": [call], "refusal": None})
        )
        for piece in _pieces(arguments, size=8):
            chunks.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
    else:
        chunks.append(chunk({"role": "assistant", "content": "", "refusal": None}))
        chunks += [chunk({"content": piece}) for piece in _pieces(answer.text or "")]
    chunks.append(chunk({}, _chat_finish_reason(answer)))
    if include_usage:
        last = chunk({})
        last["choices"] = []
        last["usage"] = _chat_usage(answer.usage)
        chunks.append(last)
    return chunks


def _responses_usage(usage: TokenUsage) -> dict[str, Any]:
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens, "cache_write_tokens": 0},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def _responses_items_out(answer: _Answer) -> list[dict[str, Any]]:
    """The completed output items: a reasoning item for reasoning models, then the
    message or the function call."""
    hex_id = hashlib.sha256(answer.digest.encode()).hexdigest()
    items: list[dict[str, Any]] = []
    if answer.usage.reasoning_tokens:
        items.append({"id": "rs_" + hex_id[:50], "type": "reasoning", "summary": []})
    if answer.tool_name:
        items.append(
            {
                "id": "fc_" + hex_id[2:52],
                "type": "function_call",
                "status": "completed",
                "arguments": answer.tool_arguments,
                "call_id": "call_" + _hash_id(answer.digest + ":0", 24),
                "name": answer.tool_name,
            }
        )
    else:
        items.append(
            {
                "id": "msg_" + hex_id[4:54],
                "type": "message",
                "status": "incomplete" if answer.truncated else "completed",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": answer.text, "annotations": [], "logprobs": []}
                ],
            }
        )
    return items


def response_object(body: dict[str, Any], answer: _Answer, *, final: bool = True) -> dict[str, Any]:
    """A ``response`` object: completed (or incomplete when truncated), or with
    ``final=False`` the in-progress one of ``response.created``."""
    created = time.time()
    status = ("incomplete" if answer.truncated else "completed") if final else "in_progress"
    return {
        "id": "resp_" + answer.digest[:50],
        "object": "response",
        "created_at": int(created),
        "status": status,
        "background": False,
        "completed_at": int(created) if final and not answer.truncated else None,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"}
        if final and answer.truncated
        else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": answer.model,
        "output": _responses_items_out(answer) if final else [],
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": _responses_usage(answer.usage) if final else None,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


def response_events(body: dict[str, Any], answer: _Answer) -> list[dict[str, Any]]:
    """The Responses stream events, in the order the API sends them."""
    events: list[dict[str, Any]] = []

    def emit(kind: str, **fields: Any) -> None:
        events.append({"type": kind, "sequence_number": len(events), **fields})

    emit("response.created", response=response_object(body, answer, final=False))
    emit("response.in_progress", response=response_object(body, answer, final=False))
    for index, item in enumerate(_responses_items_out(answer)):
        if item["type"] == "reasoning":
            emit("response.output_item.added", output_index=index, item=item)
            emit("response.output_item.done", output_index=index, item=item)
        elif item["type"] == "function_call":
            added = {**item, "status": "in_progress", "arguments": ""}
            emit("response.output_item.added", output_index=index, item=added)
            for piece in _pieces(item["arguments"], size=8):
                emit(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=index,
                    delta=piece,
                )
            emit(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index,
                name=item["name"],
                arguments=item["arguments"],
            )
            emit("response.output_item.done", output_index=index, item=item)
        else:
            text = item["content"][0]["text"]
            added = {**item, "status": "in_progress", "content": []}
            emit("response.output_item.added", output_index=index, item=added)
            empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            where = {"item_id": item["id"], "output_index": index, "content_index": 0}
            emit("response.content_part.added", **where, part=empty)
            for piece in _pieces(text):
                emit("response.output_text.delta", **where, delta=piece, logprobs=[])
            emit("response.output_text.done", **where, text=text, logprobs=[])
            emit("response.content_part.done", **where, part=item["content"][0])
            emit("response.output_item.done", output_index=index, item=item)
    final = response_object(body, answer)
    emit("response.incomplete" if answer.truncated else "response.completed", response=final)
    return events


def embeddings_response(body: dict[str, Any]) -> dict[str, Any]:
    dimensions = body.get("dimensions") or EMBEDDING_DIMENSIONS
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    tokens = 0
    for index, value in enumerate(_embedding_inputs(body)):
        text = value if isinstance(value, str) else " ".join(map(str, value))
        tokens += count_words(value) if isinstance(value, str) else len(value)
        vector = embedding_vector(text, dimensions)
        encoded: Any = vector
        if as_base64:
            encoded = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    return {
        "object": "list",
        "data": data,
        "model": body.get("model"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def openai_models() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"id": model, "object": "model", "created": 1_721_172_741, "owned_by": "system"}
            for model in OPENAI_MODELS
        ],
    }


# --------------------------------------------------------------------------- Anthropic formats


def _anthropic_usage(usage: TokenUsage, output_tokens: int | None = None) -> dict[str, Any]:
    return {
        "input_tokens": usage.anthropic_input_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cached_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": usage.cache_write_tokens,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": usage.output_tokens if output_tokens is None else output_tokens,
        "service_tier": "standard",
    }


def _anthropic_blocks(answer: _Answer) -> list[dict[str, Any]]:
    if answer.tool_name:
        return [
            {
                "type": "tool_use",
                "id": "toolu_01" + _hash_id(answer.digest + ":0", 22),
                "name": answer.tool_name,
                "input": json.loads(answer.tool_arguments or "{}"),
            }
        ]
    return [{"type": "text", "text": answer.text}]


def _stop_reason(answer: _Answer) -> str:
    if answer.tool_name:
        return "tool_use"
    return "max_tokens" if answer.truncated else "end_turn"


def anthropic_message(
    body: dict[str, Any], answer: _Answer, *, final: bool = True
) -> dict[str, Any]:
    """A ``message`` object; with ``final=False`` the one ``message_start`` carries."""
    return {
        "id": "msg_01" + _hash_id(answer.digest, 22),
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": _anthropic_blocks(answer) if final else [],
        "stop_reason": _stop_reason(answer) if final else None,
        "stop_sequence": None,
        "usage": _anthropic_usage(answer.usage, None if final else 1),
    }


def anthropic_events(body: dict[str, Any], answer: _Answer) -> list[dict[str, Any]]:
    """The Messages stream events, in the order the API sends them (a ``ping`` after
    the first content block starts, as the API does)."""
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": anthropic_message(body, answer, final=False)}
    ]
    for index, block in enumerate(_anthropic_blocks(answer)):
        if block["type"] == "tool_use":
            start = {**block, "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": piece}
                for piece in ["", *_pieces(answer.tool_arguments or "{}", size=8)]
            ]
        else:
            start = {**block, "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in _pieces(block["text"])]
        events.append({"type": "content_block_start", "index": index, "content_block": start})
        if index == 0:
            events.append({"type": "ping"})
        events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": index})
    usage = _anthropic_usage(answer.usage)
    del usage["cache_creation"], usage["service_tier"]
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_reason(answer), "stop_sequence": None},
            "usage": usage,
        }
    )
    events.append({"type": "message_stop"})
    return events


def anthropic_models() -> dict[str, Any]:
    data = [
        {
            "type": "model",
            "id": model,
            "display_name": name,
            "created_at": "2025-10-01T00:00:00Z",
            "lifecycle": "active",
        }
        for model, name in ANTHROPIC_MODELS.items()
    ]
    return {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}


def _anthropic_error(status: int, kind: str, message: str, digest: str) -> FakeResponse:
    """An error in Anthropic's shape: ``{"type": "error", "error": {"type", "message"},
    "request_id"}``."""
    body = {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": "req_011C" + _hash_id(digest, 20),
    }
    return FakeResponse(status, body)


# --------------------------------------------------------------------------- Gemini formats


def _gemini_usage(usage: TokenUsage) -> dict[str, Any]:
    """``usageMetadata``: ``promptTokenCount`` includes the cached tokens
    (``cachedContentTokenCount``), as OpenAI's does."""
    metadata = {
        "promptTokenCount": usage.prompt_tokens,
        "candidatesTokenCount": usage.output_tokens,
        "totalTokenCount": usage.total_tokens,
    }
    if usage.cached_tokens:
        metadata["cachedContentTokenCount"] = usage.cached_tokens
    return metadata


def gemini_response(
    answer: _Answer, *, text: str | None = None, last: bool = True
) -> dict[str, Any]:
    """A ``GenerateContentResponse``; ``text`` (a stream piece) replaces the answer's
    text, and ``last=False`` leaves out the finish reason and the usage."""
    if answer.tool_name:
        part: dict[str, Any] = {
            "functionCall": {
                "name": answer.tool_name,
                "args": json.loads(answer.tool_arguments or "{}"),
            }
        }
    else:
        part = {"text": answer.text if text is None else text}
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [part]}, "index": 0}
    if last:
        candidate["finishReason"] = "MAX_TOKENS" if answer.truncated else "STOP"
    response: dict[str, Any] = {
        "candidates": [candidate],
        "modelVersion": answer.model,
        "responseId": _hash_id(answer.digest, 22),
    }
    if last:
        response["usageMetadata"] = _gemini_usage(answer.usage)
    return response


def gemini_stream(answer: _Answer) -> list[dict[str, Any]]:
    """The streamed ``GenerateContentResponse`` objects: one per word, the last with
    the finish reason and the usage."""
    if answer.tool_name:
        return [gemini_response(answer)]
    pieces = _pieces(answer.text or "") or [""]
    return [
        gemini_response(answer, text=piece, last=index == len(pieces) - 1)
        for index, piece in enumerate(pieces)
    ]


def _gemini_error(status: int, message: str) -> FakeResponse:
    names = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 404: "NOT_FOUND",
             429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}
    return FakeResponse(
        status, {"error": {"code": status, "message": message, "status": names[status]}}
    )


# --------------------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received, and the status it answered with."""

    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]  # names lower-cased
    body: Any  # the parsed JSON body, None when there was none (or it was not JSON)
    api: str | None  # CHAT, RESPONSES, EMBEDDINGS, MESSAGES, GEMINI, MODELS, or None
    status: int
    stream: bool
    answer: _Answer | None = None  # the model's turn, for a generate request answered 200

    @property
    def usage(self) -> TokenUsage | None:
        """The usage the server reported for this request (generate requests)."""
        return self.answer.usage if self.answer is not None else None


@dataclass
class _Stream:
    """A streamed answer: SSE events ``(event name or None, data)``, then ``[DONE]``
    when ``done_marker``."""

    events: list[tuple[str | None, dict[str, Any]]]
    done_marker: bool = False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_GET(self) -> None:  # noqa: N802 (name fixed by BaseHTTPRequestHandler)
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence the per-request log lines of ``http.server``."""

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        api = _ROUTES.get((method, path))
        gemini = _GEMINI_ROUTE.fullmatch(path) if method == "POST" else None
        if gemini is not None and isinstance(body, dict):
            api = GEMINI
            body = {**body, "model": gemini.group(1)}  # the model is in the path
            body["stream"] = gemini.group(2) == "streamGenerateContent"
        if method == "GET" and (path == "/v1/models" or path.startswith("/v1/models/")):
            api = MODELS
        anthropic = api == MESSAGES or (api in (MODELS, None) and "anthropic-version" in headers)
        reply = self.server.owner.respond(method, path, api, headers, raw, body, anthropic)
        status = reply.status if isinstance(reply, FakeResponse) else 200
        self.server.owner.record(
            RecordedRequest(
                method,
                path,
                url.query,
                headers,
                body,
                api,
                status,
                isinstance(reply, _Stream),
                getattr(self.server.owner.answered, "answer", None),
            )
        )
        if self.server.owner.delay_s:
            time.sleep(self.server.owner.delay_s)
        request_id = "req_" + _hash_id(hashlib.sha256(raw).hexdigest() + path, 24)
        extra = {"request-id" if anthropic else "x-request-id": request_id}
        if not anthropic:
            extra |= {"openai-version": "2020-10-01", "openai-processing-ms": "1"}
        try:
            if isinstance(reply, _Stream):
                self._send_stream(reply, extra)
            else:
                self._send_json(reply, extra)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_json(self, reply: FakeResponse, extra: dict[str, str]) -> None:
        payload = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in {**extra, **reply.headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _send_stream(self, reply: _Stream, extra: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for header, value in extra.items():
            self.send_header(header, value)
        self.end_headers()
        delay = self.server.owner.chunk_delay_s
        for name, data in reply.events:
            prefix = f"event: {name}\n" if name else ""
            self._write_chunk(f"{prefix}data: {json.dumps(data)}\n\n".encode())
            if delay:
                time.sleep(delay)
        if reply.done_marker:
            self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], owner: LLMServer) -> None:
        super().__init__(address, _Handler)
        self.owner = owner

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client closing its keep-alive connection is no error worth printing."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LLMServer:
    """The model API server on ``host`` (a free port unless ``port`` is given), serving
    from a daemon thread once started (or entered as a context manager).

    ``delay_s`` delays every answer; ``chunk_delay_s`` spaces the events of a stream
    (to make time-to-first-token and stream durations measurable).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        delay_s: float = 0.0,
        chunk_delay_s: float = 0.0,
    ) -> None:
        self.delay_s = delay_s
        self.chunk_delay_s = chunk_delay_s
        self._host = host
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._seen_flaky: set[str] = set()
        self.answered = threading.local()  # .answer: the last one of this thread
        self._http = _HTTPServer((host, port), self)
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.02},  # stop() waits up to one poll interval
            name="llm-server",
            daemon=True,
        )

    # ---- addresses
    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """For ``OpenAI(base_url=...)``, ``ChatOpenAI(base_url=...)``, ``OPENAI_BASE_URL``."""
        return self.base_url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        """For ``Anthropic(base_url=...)`` (the SDK adds ``/v1/messages``)."""
        return self.base_url

    # ---- what was received
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """The requests to ``path`` (e.g. ``"/v1/chat/completions"``)."""
        return [r for r in self.requests if r.path == path]

    @property
    def last_request(self) -> RecordedRequest:
        requests = self.requests
        assert requests, "the server has received no request"
        return requests[-1]

    def clear(self) -> None:
        """Forget the recorded requests and which flaky requests were seen."""
        with self._lock:
            self._requests.clear()
            self._seen_flaky.clear()

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    # ---- lifecycle
    def start(self) -> LLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def __enter__(self) -> LLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---- answering
    def respond(
        self,
        method: str,
        path: str,
        api: str | None,
        headers: dict[str, str],
        raw: bytes,
        body: Any,
        anthropic: bool,
    ) -> FakeResponse | _Stream:
        """The answer to one request (also usable without HTTP)."""
        self.answered.answer = None
        digest = hashlib.sha256(raw + path.encode()).hexdigest()
        if api is None:
            message = f"Unknown request URL: {method} {path}."
            if anthropic:
                return _anthropic_error(404, "not_found_error", message, digest)
            return _error(404, message, "invalid_request_error", code="unknown_url")
        if api == GEMINI:
            return self._gemini(headers, body, digest)
        denied = _check_auth(headers, anthropic, digest)
        if denied is not None:
            return denied
        if api == MODELS:
            return self._models(path, anthropic, digest)
        invalid = _check_body(api, body, digest)
        if invalid is not None:
            return invalid
        fault = self._fault(api, body, digest)
        if fault is not None:
            return fault
        if api == EMBEDDINGS:
            return FakeResponse(200, embeddings_response(body))
        answer = self.answered.answer = _answer(api, body, digest)
        stream = body.get("stream") is True
        if api == CHAT:
            if stream:
                chunks = chat_completion_chunks(body, answer)
                return _Stream([(None, c) for c in chunks], done_marker=True)
            return FakeResponse(200, chat_completion(body, answer))
        if api == RESPONSES:
            if stream:
                return _Stream([(e["type"], e) for e in response_events(body, answer)])
            return FakeResponse(200, response_object(body, answer))
        if stream:
            return _Stream([(e["type"], e) for e in anthropic_events(body, answer)])
        return FakeResponse(200, anthropic_message(body, answer))

    def _gemini(self, headers: dict[str, str], body: dict[str, Any], digest: str) -> Any:
        if not headers.get("x-goog-api-key"):
            return _gemini_error(401, "API key not valid. Please pass a valid API key.")
        if not body.get("contents"):
            return _gemini_error(400, "GenerateContentRequest.contents: contents is not specified")
        if FAIL_500_MARKER in _gemini_conversation(body).user_text:
            return _gemini_error(500, "An internal error has occurred.")
        answer = self.answered.answer = _answer(GEMINI, body, digest)
        if body["stream"]:
            return _Stream([(None, chunk) for chunk in gemini_stream(answer)])
        return FakeResponse(200, gemini_response(answer))

    def _models(self, path: str, anthropic: bool, digest: str) -> FakeResponse:
        listing = anthropic_models() if anthropic else openai_models()
        if path == "/v1/models":
            return FakeResponse(200, listing)
        wanted = path.removeprefix("/v1/models/")
        for model in listing["data"]:
            if model["id"] == wanted:
                return FakeResponse(200, model)
        message = f"The model '{wanted}' does not exist"
        if anthropic:
            return _anthropic_error(404, "not_found_error", message, digest)
        return _error(404, message, "invalid_request_error", code="model_not_found")

    def _fault(self, api: str, body: dict[str, Any], digest: str) -> FakeResponse | None:
        """The injected failure the request's last user message asks for, if any."""
        if api == EMBEDDINGS:
            text = " ".join(prompt_texts(api, body))
        else:
            conversation = {
                CHAT: _chat_conversation,
                RESPONSES: _responses_conversation,
                MESSAGES: _messages_conversation,
            }[api](body)
            text = conversation.user_text
        anthropic = api == MESSAGES
        if FAIL_500_MARKER in text:
            if anthropic:
                return _anthropic_error(500, "api_error", "Internal server error", digest)
            return _error(
                500,
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
            )
        rate_limited = FAIL_429_MARKER in text
        if FLAKY_429_MARKER in text:
            with self._lock:
                rate_limited = digest not in self._seen_flaky
                self._seen_flaky.add(digest)
        if not rate_limited:
            return None
        if anthropic:
            response = _anthropic_error(
                429,
                "rate_limit_error",
                "This request would exceed the rate limit for your organization of 50 "
                "requests per minute. Please try again later.",
                digest,
            )
        else:
            model = body.get("model")
            response = _error(
                429,
                f"Rate limit reached for {model} on requests per min (RPM): "
                "Limit 500, Used 500, Requested 1. Please try again in 1ms.",
                "requests",
                code="rate_limit_exceeded",
            )
        response.headers = {"retry-after": "0", "retry-after-ms": "1"}
        return response


def _check_auth(headers: dict[str, str], anthropic: bool, digest: str) -> FakeResponse | None:
    bearer = headers.get("authorization", "").removeprefix("Bearer ").strip()
    if anthropic:
        if not (headers.get("x-api-key") or bearer):
            return _anthropic_error(401, "authentication_error", "invalid x-api-key", digest)
        if "anthropic-version" not in headers:
            message = "anthropic-version: header is required"
            return _anthropic_error(400, "invalid_request_error", message, digest)
        return None
    if not headers.get("authorization", "").startswith("Bearer ") or not bearer:
        return _error(
            401,
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error",
        )
    return None


def _check_body(api: str, body: Any, digest: str) -> FakeResponse | None:
    """400 for a body the real API would reject for a missing field."""
    required = {
        CHAT: ("model", "messages"),
        RESPONSES: ("model",),
        EMBEDDINGS: ("model", "input"),
        MESSAGES: ("model", "messages", "max_tokens"),
    }[api]
    missing = [name for name in required if not isinstance(body, dict) or name not in body]
    if not missing:
        return None
    if api == MESSAGES:
        message = f"{missing[0]}: Field required"
        return _anthropic_error(400, "invalid_request_error", message, digest)
    return _error(
        400,
        f"Missing required parameter: '{missing[0]}'.",
        "invalid_request_error",
        code="missing_required_parameter",
    )


# --------------------------------------------------------------------------- entry points


@contextmanager
def serve(**options: Any) -> Iterator[LLMServer]:
    """The server, running for the duration of the ``with`` block (for scripts);
    ``options`` go to :class:`LLMServer`."""
    with LLMServer(**options) as server:
        yield server


@pytest.fixture
def llm_server() -> Iterator[LLMServer]:
    """A fresh :class:`LLMServer` on a free loopback port, for one test."""
    with serve() as server:
        yield server

"""A small OpenAI-compatible Chat Completions client on top of ``requests``.

Every HTTP attempt runs inside ``agentotel.llm(...)``, so it becomes a ``chat {model}``
CLIENT span with token usage, cost and duration metrics; the ``requests``
instrumentation that ``agentotel.init()`` switches on adds the HTTP client span below
it. A rate-limited attempt (HTTP 429) is retried once after the delay the server asks
for, so the trace shows the failed attempt next to the one that recovered; other HTTP
errors propagate as :class:`requests.HTTPError`.

A streamed request (``stream=True``) reads the answer as server-sent events through
``call.stream(...)``: the span then carries the time to the first chunk, and the
metrics the time to first chunk and the time between chunks. The usage arrives in the
last chunk (``stream_options.include_usage``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

import agentotel

MAX_RETRY_DELAY_S = 10.0


@dataclass(frozen=True)
class ToolCall:
    """A function call the model asked for; ``arguments`` is the raw JSON text."""

    id: str
    name: str
    arguments: str

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict.

        Raises:
            ValueError: the arguments are not a JSON object.
        """
        value = json.loads(self.arguments or "{}")
        if not isinstance(value, dict):
            raise ValueError("tool arguments must be a JSON object")
        return value


@dataclass(frozen=True)
class ChatResult:
    """The parts of a Chat Completions response the agents use.

    ``message`` is the assistant message (role, content, tool calls) ready to append to
    the conversation. Token counts are in tokens, None when the response has no
    ``usage``; ``input_tokens`` includes the cached ones.
    """

    id: str
    model: str
    content: str
    tool_calls: list[ToolCall]
    finish_reason: str
    input_tokens: int | None
    output_tokens: int | None
    cached_input_tokens: int | None
    message: dict[str, Any]


class ChatClient:
    """Calls ``POST {base_url}/chat/completions`` with a bearer token.

    ``base_url`` is what ``OPENAI_BASE_URL`` holds, e.g. ``https://api.openai.com/v1``.
    ``provider`` is the ``gen_ai.provider.name`` reported on spans and metrics.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        provider: str = "openai",
        timeout_s: float = 60.0,
        max_retries: int = 1,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        parts = urlsplit(self.url)
        self.server_address = parts.hostname or "localhost"
        self.server_port = parts.port or (443 if parts.scheme == "https" else 80)
        self.provider = provider
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {api_key}"

    def complete(
        self,
        model: str,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        temperature: float = 0.2,
        max_tokens: int = 512,
        stream: bool = False,
    ) -> ChatResult:
        """Send one chat completion request (retrying once on HTTP 429). With ``stream``
        the answer is streamed and assembled from its chunks.

        Raises:
            requests.HTTPError: the API answered with an error status (after retries).
            requests.RequestException: the API could not be reached.
            ValueError: the response is not a Chat Completions response.
        """
        payload: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        if tools:
            payload["tools"] = tools
        if stream:
            payload["stream"] = True
            payload["stream_options"] = {"include_usage": True}
        attempt = 0
        while True:
            try:
                return self._attempt(payload)
            except requests.HTTPError as error:
                response = error.response
                if response is None or response.status_code != 429 or attempt >= self.max_retries:
                    raise
                attempt += 1
                time.sleep(retry_delay_s(response))

    def _attempt(self, payload: dict[str, Any]) -> ChatResult:
        """One HTTP request inside one ``chat {model}`` span."""
        with agentotel.llm(
            payload["model"],
            provider=self.provider,
            server_address=self.server_address,
            server_port=self.server_port,
            temperature=payload["temperature"],
            max_tokens=payload["max_tokens"],
            stream=bool(payload.get("stream")),
        ) as call:
            messages = payload["messages"]
            system = [m["content"] for m in messages if m.get("role") == "system"]
            call.record_input(  # a no-op unless content capture is switched on
                [m for m in messages if m.get("role") != "system"],
                system_instructions=system or None,
            )
            streamed = bool(payload.get("stream"))
            response = self._session.post(
                self.url, json=payload, timeout=self.timeout_s, stream=streamed
            )
            response.raise_for_status()
            if streamed:
                # every chunk read through call.stream() is timed as it arrives
                result = assemble_chunks(call.stream(server_sent_events(response)))
            else:
                result = parse_chat_completion(response.json())
            call.record_response(
                response_model=result.model,
                response_id=result.id,
                finish_reasons=[result.finish_reason],
                input_tokens=result.input_tokens,
                output_tokens=result.output_tokens,
                cache_read_input_tokens=result.cached_input_tokens,
            )
            call.record_output([{"message": result.message, "finish_reason": result.finish_reason}])
            return result

    def close(self) -> None:
        self._session.close()


def parse_chat_completion(body: dict[str, Any]) -> ChatResult:
    """Pick the first choice and the usage out of a Chat Completions response body.

    Raises:
        ValueError: ``choices`` is missing or empty.
    """
    choices = body.get("choices") or []
    if not choices:
        raise ValueError("response has no choices")
    message = choices[0].get("message") or {}
    usage = body.get("usage") or {}
    tool_calls = [
        ToolCall(
            id=call.get("id", ""),
            name=call.get("function", {}).get("name", ""),
            arguments=call.get("function", {}).get("arguments", ""),
        )
        for call in message.get("tool_calls") or []
    ]
    assistant_message: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
    if message.get("tool_calls"):
        assistant_message["tool_calls"] = message["tool_calls"]
    cache_details = usage.get("prompt_tokens_details") or {}
    return ChatResult(
        id=body.get("id", ""),
        model=body.get("model", ""),
        content=message.get("content") or "",
        tool_calls=tool_calls,
        finish_reason=choices[0].get("finish_reason") or "",
        input_tokens=usage.get("prompt_tokens"),
        output_tokens=usage.get("completion_tokens"),
        cached_input_tokens=cache_details.get("cached_tokens"),
        message=assistant_message,
    )


def server_sent_events(response: requests.Response) -> Iterator[dict[str, Any]]:
    """The JSON objects of a ``text/event-stream`` response's ``data:`` lines, up to
    ``data: [DONE]``; the response is closed when the iteration ends.

    The body is read to its end (nothing follows ``[DONE]``), so that the connection goes
    back to the session's pool instead of being dropped.

    Raises:
        ValueError: a ``data:`` line is not JSON.
    """
    try:
        done = False
        for line in response.iter_lines(decode_unicode=True):
            if done or not line or not line.startswith("data:"):
                continue  # after [DONE]; keep-alive comments, blank separators, other fields
            data = line[5:].strip()
            if data == "[DONE]":
                done = True
                continue
            yield json.loads(data)
    finally:
        response.close()


def assemble_chunks(chunks: Iterable[dict[str, Any]]) -> ChatResult:
    """A streamed answer (``chat.completion.chunk`` objects) put together: the content
    deltas joined, the tool calls merged by index, the finish reason and the usage of the
    chunks that carry them.

    Raises:
        ValueError: the stream ended without a chunk.
    """
    seen = False
    first: dict[str, Any] = {}
    parts: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    finish_reason = ""
    usage: dict[str, Any] = {}
    for chunk in chunks:
        seen = True
        first = first or chunk
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                parts.append(delta["content"])
            for call in delta.get("tool_calls") or []:
                merged = calls.setdefault(call.get("index", 0), {"function": {}})
                merged.update({k: v for k, v in call.items() if k not in ("index", "function")})
                function = call.get("function") or {}
                merged["function"]["name"] = function.get("name", merged["function"].get("name"))
                merged["function"]["arguments"] = (
                    merged["function"].get("arguments", "") + function.get("arguments", "")
                )
            finish_reason = choice.get("finish_reason") or finish_reason
    if not seen:
        raise ValueError("the stream ended without a chunk")
    message: dict[str, Any] = {"role": "assistant", "content": "".join(parts) or None}
    if calls:
        message["tool_calls"] = [calls[index] for index in sorted(calls)]
    return parse_chat_completion({
        "id": first.get("id", ""),
        "model": first.get("model", ""),
        "choices": [{"message": message, "finish_reason": finish_reason}],
        "usage": usage,
    })


def retry_delay_s(response: requests.Response) -> float:
    """Seconds to wait before retrying: ``retry-after-ms`` if given, else ``Retry-After``
    (seconds), else 1; never more than :data:`MAX_RETRY_DELAY_S`."""
    for header, scale in (("retry-after-ms", 0.001), ("Retry-After", 1.0)):
        value = response.headers.get(header)
        if value is not None:
            try:
                return min(max(float(value) * scale, 0.0), MAX_RETRY_DELAY_S)
            except ValueError:
                continue
    return 1.0

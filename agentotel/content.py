"""Opt-in content capture: messages in the GenAI conventions' message format, bounded.

Content (prompts, completions, system instructions, tool arguments and results) is
captured only when ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (or
``init(capture_content=...)``) asks for it:

- ``NO_CONTENT`` (default): nothing is captured; every ``record_*`` call is a no-op.
- ``SPAN_ONLY``: JSON strings on the span (``gen_ai.input.messages``,
  ``gen_ai.output.messages``, ``gen_ai.system_instructions``,
  ``gen_ai.tool.call.arguments``, ``gen_ai.tool.call.result``).
- ``EVENT_ONLY``: the structured ``gen_ai.client.inference.operation.details`` event
  (a log record) for LLM calls; the conventions define no event for tools, workflows or
  agents, so their content is not captured in this mode.
- ``SPAN_AND_EVENT``: both.

Message format (GenAI input/output messages JSON schema): a message is
``{"role": ..., "parts": [...]}`` with parts typed ``text`` (``content``),
``tool_call`` (``id``, ``name``, ``arguments``) or ``tool_call_response`` (``id``,
``response``); output messages add ``finish_reason``. OpenAI-style chat messages
(``{"role", "content", "tool_calls", "tool_call_id"}``) are converted; messages that
already have ``parts`` are kept. Each captured value is bounded by
``AGENTOTEL_CONTENT_MAX_LENGTH`` characters (default 16 KiB) with a visible marker.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

NO_CONTENT = "NO_CONTENT"
SPAN_ONLY = "SPAN_ONLY"
EVENT_ONLY = "EVENT_ONLY"
SPAN_AND_EVENT = "SPAN_AND_EVENT"
ON_SPAN = frozenset({SPAN_ONLY, SPAN_AND_EVENT})
ON_EVENT = frozenset({EVENT_ONLY, SPAN_AND_EVENT})


def truncate(text: str, max_length: int) -> str:
    """``text`` cut to ``max_length`` characters, ending in a visible truncation marker."""
    if len(text) <= max_length:
        return text
    marker = f"...[truncated {len(text) - max_length} chars]"
    keep = max(max_length - len(marker), 0)
    return text[:keep] + f"...[truncated {len(text) - keep} chars]"


def to_json(value: Any, max_length: int) -> str:
    """JSON text of ``value`` (non-JSON objects via ``str``), bounded to ``max_length``."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return truncate(text, max_length)


def _parse_arguments(arguments: Any) -> Any:
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments


def _parts(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    if isinstance(message.get("parts"), list):
        return [dict(p) for p in message["parts"]]
    parts: list[dict[str, Any]] = []
    content = message.get("content")
    if message.get("role") == "tool":
        parts.append(
            {"type": "tool_call_response", "id": message.get("tool_call_id"), "response": content}
        )
        return parts
    if isinstance(content, str) and content:
        parts.append({"type": "text", "content": content})
    elif isinstance(content, list):  # OpenAI content parts
        for item in content:
            if isinstance(item, Mapping) and item.get("type") == "text":
                parts.append({"type": "text", "content": item.get("text", "")})
            else:
                parts.append({"type": "text", "content": str(item)})
    for call in message.get("tool_calls") or ():
        function = call.get("function", call)
        parts.append(
            {
                "type": "tool_call",
                "id": call.get("id"),
                "name": function.get("name"),
                "arguments": _parse_arguments(function.get("arguments")),
            }
        )
    return parts


def input_messages(messages: Iterable[Mapping[str, Any] | str]) -> list[dict[str, Any]]:
    """Messages in the conventions' input format; a bare string is one user message."""
    result: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, str):
            result.append({"role": "user", "parts": [{"type": "text", "content": message}]})
        else:
            result.append({"role": message.get("role", "user"), "parts": _parts(message)})
    return result


def output_messages(
    messages: Iterable[Mapping[str, Any] | str], finish_reason: str | None = None
) -> list[dict[str, Any]]:
    """Messages in the output format: ``{role, parts, finish_reason}``.

    Accepts OpenAI ``choices`` entries (``{"message": ..., "finish_reason": ...}``),
    plain assistant messages, or strings.
    """
    result: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, str):
            entry: dict[str, Any] = {
                "role": "assistant",
                "parts": [{"type": "text", "content": message}],
            }
            reason = finish_reason
        else:
            inner = message.get("message", message)
            entry = {"role": inner.get("role", "assistant"), "parts": _parts(inner)}
            reason = message.get("finish_reason", finish_reason)
        entry["finish_reason"] = reason or "stop"
        result.append(entry)
    return result


def system_instructions(instructions: str | Sequence[Any]) -> list[dict[str, Any]]:
    """System instructions as a list of parts (a string becomes one ``text`` part)."""
    if isinstance(instructions, str):
        return [{"type": "text", "content": instructions}]
    return [{"type": "text", "content": p} if isinstance(p, str) else dict(p) for p in instructions]


def bound_parts(messages: list[dict[str, Any]], max_length: int) -> list[dict[str, Any]]:
    """Structured messages (for events) with every text content bounded to ``max_length``."""
    for message in messages:
        for part in message.get("parts", [message]):
            content = part.get("content")
            if isinstance(content, str):
                part["content"] = truncate(content, max_length)
    return messages

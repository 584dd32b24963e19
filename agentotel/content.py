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
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agentotel._errors import safe_str

NO_CONTENT = "NO_CONTENT"
SPAN_ONLY = "SPAN_ONLY"
EVENT_ONLY = "EVENT_ONLY"
SPAN_AND_EVENT = "SPAN_AND_EVENT"
#: The capture modes, as ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` spells them.
CAPTURE_MODES = (NO_CONTENT, SPAN_ONLY, EVENT_ONLY, SPAN_AND_EVENT)
ON_SPAN = frozenset({SPAN_ONLY, SPAN_AND_EVENT})
ON_EVENT = frozenset({EVENT_ONLY, SPAN_AND_EVENT})
#: Characters kept per captured value unless ``AGENTOTEL_CONTENT_MAX_LENGTH`` says otherwise.
DEFAULT_MAX_LENGTH = 16 * 1024

_MAX_DEPTH = 32
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def truncate(text: str, max_length: int) -> str:
    """``text`` cut to at most ``max_length`` characters, the truncation marker included.

    The marker says how many characters were cut: ``...[truncated 460 chars]``. When
    ``max_length`` is too small to hold it, the text ends in a single ``…`` instead.
    """
    if len(text) <= max_length:
        return text
    keep = max_length
    while True:  # the marker's length depends on the count it reports; at most 3 rounds
        marker = f"...[truncated {len(text) - keep} chars]"
        fitted = max_length - len(marker)
        if fitted >= keep:
            break
        keep = fitted
    if keep < 0:
        return text[: max_length - 1] + "…" if max_length > 0 else ""
    return text[:keep] + marker


def to_plain(value: Any, max_length: int) -> Any:
    """``value`` as plain JSON data (dict with str keys, list, str, int, float, bool, None).

    Every string is bounded to ``max_length`` characters, a container keeps at most
    ``max_length`` items, non-string keys become their ``str``, non-finite floats and
    other objects become their ``str`` (``<unprintable T>`` if that raises), a cycle
    becomes ``"<cycle>"`` and nesting deeper than 32 ``"<too deep>"``. Never raises.
    """
    return _plain(value, max_length, 0, set())


def _plain(value: Any, max_length: int, depth: int, seen: set[int]) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value) if _INT64_MIN <= value <= _INT64_MAX else safe_str(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else safe_str(value)
    if isinstance(value, str):
        return truncate(str(value), max_length)
    if not isinstance(value, (Mapping, list, tuple, set, frozenset)):
        return truncate(safe_str(value), max_length)
    if depth >= _MAX_DEPTH:
        return "<too deep>"
    if id(value) in seen:
        return "<cycle>"
    seen.add(id(value))
    try:
        if isinstance(value, Mapping):
            result: dict[str, Any] = {}
            for key, item in value.items():
                if len(result) >= max_length:
                    break
                text = key if isinstance(key, str) else safe_str(key)
                result[text] = _plain(item, max_length, depth + 1, seen)
            return result
        items: list[Any] = []
        for item in value:
            if len(items) >= max_length:
                break
            items.append(_plain(item, max_length, depth + 1, seen))
        return items
    except Exception:  # noqa: BLE001 - a hostile container (raising items(), __iter__)
        return truncate(safe_str(value), max_length)
    finally:
        seen.discard(id(value))


def to_json(value: Any, max_length: int) -> str:
    """JSON text of ``value`` (via :func:`to_plain`), at most ``max_length`` characters.

    A string is taken as already being the text. Never raises.
    """
    if isinstance(value, str):
        return truncate(value, max_length)
    text = json.dumps(to_plain(value, max_length), ensure_ascii=False)
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
    """Messages in the conventions' input format; a bare string (or any other object that
    is not a mapping, as its ``str``) is one user message.

    Raises:
        TypeError / AttributeError: ``messages`` is not iterable, or a mapping's fields
            are not of the message shape (callers catch and warn).
    """
    result: list[dict[str, Any]] = []
    for message in messages:
        if not isinstance(message, Mapping):
            text = message if isinstance(message, str) else safe_str(message)
            result.append({"role": "user", "parts": [{"type": "text", "content": text}]})
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
        if not isinstance(message, Mapping):
            text = message if isinstance(message, str) else safe_str(message)
            entry: dict[str, Any] = {
                "role": "assistant",
                "parts": [{"type": "text", "content": text}],
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

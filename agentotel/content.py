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
``AGENTOTEL_CONTENT_MAX_LENGTH`` characters (default 16 KiB) and stays valid JSON: the
strings of the message parts are cut, each on its own and each with a visible marker
(``...[truncated 460 chars]``), never the serialized array.

Binary content is never captured inline: a base64 image, audio clip or file (an OpenAI
``image_url`` data URL, ``input_audio`` or ``file`` part, an Anthropic ``base64`` source,
a Gemini ``inline_data``, a ``opentelemetry-util-genai`` ``Blob``, any ``bytes``) becomes
the reference ``{"type": "blob", "modality", "mime_type", "size", "sha256"}`` (size of
the decoded bytes; SHA-256 of them, hex): the part is identified without being carried.
An image given by URL is the conventions' ``{"type": "uri", "modality", "uri"}`` part.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
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


# --------------------------------------------------------------------------- binary parts

_DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+)?(?:;[^,;]*)*?;base64,", re.ASCII)
_BINARY = (bytes, bytearray, memoryview)


def blob_reference(
    data: bytes | bytearray | memoryview | str, mime_type: str | None = None,
    modality: str | None = None,
) -> dict[str, Any]:
    """The reference that stands for binary content on a span: ``{"type": "blob",
    "modality", "mime_type", "size", "sha256"}`` (``size`` in bytes, ``sha256`` hex, both
    of the decoded content; ``modality`` and ``mime_type`` left out when unknown).
    ``data`` is the bytes, or their base64 text (a string that is not base64 is taken
    as UTF-8 bytes). Never raises."""
    if isinstance(data, str):
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raw = data.encode("utf-8", "replace")
    elif isinstance(data, _BINARY):
        raw = bytes(data)
    else:  # not binary content: its text stands for it
        raw = safe_str(data).encode("utf-8", "replace")
    reference: dict[str, Any] = {"type": "blob"}
    mime_type = mime_type if isinstance(mime_type, str) else None
    modality = modality if isinstance(modality, str) else None
    if modality is None and mime_type:
        modality = _modality(mime_type)
    if modality:
        reference["modality"] = modality
    if mime_type:
        reference["mime_type"] = mime_type
    reference["size"] = len(raw)
    reference["sha256"] = hashlib.sha256(raw).hexdigest()
    return reference


def _modality(mime_type: str) -> str | None:
    kind = mime_type.partition("/")[0]
    return kind if kind in ("image", "audio", "video") else None


def _data_url(url: Any, modality: str | None) -> dict[str, Any] | None:
    """A ``data:<mime>;base64,...`` URL as a blob reference, another URL as a ``uri``
    part, anything else ``None``."""
    if not isinstance(url, str):
        return None
    match = _DATA_URL.match(url)
    if match is not None:
        return blob_reference(url[match.end():], match.group(1), modality)
    return {"type": "uri", **({"modality": modality} if modality else {}), "uri": url}


def _binary_part(part: Mapping[str, Any]) -> dict[str, Any] | None:
    """The reference for a message part that carries binary content, else ``None``."""
    kind = part.get("type")
    if kind == "blob" and "content" in part:  # util-genai's Blob, or the conventions'
        content = part.get("content")
        if isinstance(content, (str, *_BINARY)):
            return blob_reference(content, part.get("mime_type"), part.get("modality"))
    if kind == "image_url":  # OpenAI chat
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        return _data_url(url, "image")
    if kind == "input_image":  # OpenAI responses
        return _data_url(part.get("image_url"), "image")
    if kind == "input_audio":  # OpenAI chat
        audio = part.get("input_audio")
        if isinstance(audio, Mapping) and isinstance(audio.get("data"), str):
            audio_format = audio.get("format")
            mime = f"audio/{audio_format}" if audio_format else None
            return blob_reference(audio["data"], mime, "audio")
    if kind in ("file", "input_file"):  # OpenAI: file_data is a data URL or base64
        file = part.get("file", part)
        data = file.get("file_data") if isinstance(file, Mapping) else None
        if isinstance(data, str):
            return _data_url(data, None) if data.startswith("data:") else blob_reference(data)
    source = part.get("source")  # Anthropic image / document
    if kind in ("image", "document") and isinstance(source, Mapping):
        if source.get("type") == "base64" and isinstance(source.get("data"), str):
            return blob_reference(source["data"], source.get("media_type"))
    inline = part.get("inline_data", part.get("inlineData"))  # Gemini
    if isinstance(inline, Mapping) and isinstance(inline.get("data"), (str, *_BINARY)):
        mime = inline.get("mime_type", inline.get("mimeType"))
        return blob_reference(inline["data"], mime if isinstance(mime, str) else None)
    return None


# --------------------------------------------------------------------------- plain JSON


def to_plain(value: Any, max_length: int) -> Any:
    """``value`` as plain JSON data (dict with str keys, list, str, int, float, bool, None).

    Every string is bounded to ``max_length`` characters, a container keeps at most
    ``max_length`` items, non-string keys become their ``str``, non-finite floats and
    other objects become their ``str`` (``<unprintable T>`` if that raises), a cycle
    becomes ``"<cycle>"`` and nesting deeper than 32 ``"<too deep>"``. Binary content
    (bytes, and the message parts that carry it) becomes its :func:`blob_reference`.
    Never raises.
    """
    return _plain(value, max_length, 0, set(), max_length)


def _plain(value: Any, max_length: int, depth: int, seen: set[int], text_length: int) -> Any:
    """:func:`to_plain`, strings cut to ``text_length`` (containers to ``max_length``)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value) if _INT64_MIN <= value <= _INT64_MAX else safe_str(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else safe_str(value)
    if isinstance(value, str):
        return truncate(str(value), text_length)
    if isinstance(value, _BINARY):
        return blob_reference(value)
    if not isinstance(value, (Mapping, list, tuple, set, frozenset)):
        return truncate(safe_str(value), text_length)
    if depth >= _MAX_DEPTH:
        return "<too deep>"
    if id(value) in seen:
        return "<cycle>"
    seen.add(id(value))
    try:
        if isinstance(value, Mapping):
            binary = _binary_part(value)
            if binary is not None:
                return binary
            result: dict[str, Any] = {}
            for key, item in value.items():
                if len(result) >= max_length:
                    break
                text = key if isinstance(key, str) else safe_str(key)
                result[text] = _plain(item, max_length, depth + 1, seen, text_length)
            return result
        items: list[Any] = []
        for item in value:
            if len(items) >= max_length:
                break
            items.append(_plain(item, max_length, depth + 1, seen, text_length))
        return items
    except Exception:  # noqa: BLE001 - a hostile container (raising items(), __iter__)
        return truncate(safe_str(value), max_length)
    finally:
        seen.discard(id(value))


def to_json(value: Any, max_length: int) -> str:
    """JSON text of ``value`` (via :func:`to_plain`), at most ``max_length`` characters,
    always valid JSON.

    When the text is too long, every string in it is cut to the same largest length that
    fits (each with its own marker, so short parts stay whole and long ones shrink
    alike); if even empty strings do not fit, the trailing items of the outermost list
    are dropped, and a last ``{"truncated_items": N}`` item says how many; as a last
    resort the text is a JSON string. A string is taken as already being the text (cut
    with the marker). Never raises.
    """
    if isinstance(value, str):
        return truncate(value, max_length)
    # strings whole here (they are cut below, with the count of what each lost)
    plain = _plain(value, max_length, 0, set(), _WHOLE)
    text = _dumps(plain)
    if len(text) <= max_length:
        return text
    low, high = 0, _longest(plain)
    while low < high:  # the longest string length at which the text fits
        middle = (low + high + 1) // 2
        if len(_dumps(_cut(plain, middle))) <= max_length:
            low = middle
        else:
            high = middle - 1
    fitted = _dumps(_cut(plain, low))
    if len(fitted) <= max_length:
        return fitted
    if isinstance(plain, list):
        items = _cut(plain, 0)
        for kept in range(len(items) - 1, -1, -1):
            fitted = _dumps([*items[:kept], {"truncated_items": len(items) - kept}])
            if len(fitted) <= max_length:
                return fitted
    return _dumps(truncate(text, max(max_length - 2, 0)))[:max_length]


_WHOLE = 2**62


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _longest(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max((_longest(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((_longest(v) for v in value), default=0)
    return 0


def _cut(value: Any, length: int) -> Any:
    """Plain JSON data with every string cut to ``length`` characters (marker included;
    the message schema's ``type`` and ``role`` values are kept)."""
    if isinstance(value, str):
        return truncate(value, length)
    if isinstance(value, dict):
        return {
            k: v if k in _KEPT_KEYS and isinstance(v, str) else _cut(v, length)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_cut(v, length) for v in value]
    return value


#: keys whose short values say what a part is: never cut
_KEPT_KEYS = frozenset({"type", "role", "modality", "mime_type", "finish_reason", "sha256"})


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
            elif isinstance(item, Mapping):  # an image, audio, file: by reference
                parts.append(_binary_part(item) or dict(item))
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

"""agentotel's content capture mode for the official GenAI instrumentations.

The instrumentations decide what content to capture from
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` alone, read when they are enabled
(``opentelemetry-util-genai``'s ``get_content_capturing_mode``), and agentotel does not
write environment variables. Their public extension point is the completion hook
(``opentelemetry.util.genai.completion_hook.CompletionHook``): given one, an
instrumentation extracts the messages of every call and hands them to it with the
call's span, still recording. :class:`ContentHook` writes them on the span in the
conventions' JSON message format, bounded like agentotel's own content, when agentotel's
mode puts content on spans (``SPAN_ONLY``, ``SPAN_AND_EVENT``) — whatever the
environment says. ``init()`` passes it only then: with ``NO_CONTENT`` the instrumentations
extract nothing. (The structured event of the ``EVENT`` modes comes from the
instrumentations only when the variable asks for it.)

On the span, binary parts (images, audio, files) are references
(:func:`agentotel.content.blob_reference`) and each part is cut on its own. The hook the
application configured the OpenTelemetry way (``OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK``,
e.g. ``upload`` with ``OTEL_INSTRUMENTATION_GENAI_UPLOAD_BASE_PATH``: util-genai's
``UploadCompletionHook`` writes the whole messages, binary content included, to that
fsspec location and puts ``gen_ai.input.messages_ref`` / ``gen_ai.output.messages_ref``
on the span) is called after agentotel's, so it keeps working.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from agentotel import _runtime, content
from agentotel import semconv as sc


class ContentHook:
    """A ``CompletionHook``: the call's messages on its span as agentotel captures them,
    then the hook the environment configures (``load_completion_hook()``), if any."""

    def __init__(self) -> None:
        from opentelemetry.util.genai.completion_hook import (
            _NoOpCompletionHook,
            load_completion_hook,
        )

        configured = load_completion_hook()
        self._then: Any = None if isinstance(configured, _NoOpCompletionHook) else configured

    def on_completion(
        self,
        *,
        inputs: Sequence[Any],
        outputs: Sequence[Any],
        system_instruction: Sequence[Any],
        tool_definitions: Sequence[Any] | None = None,
        span: Any = None,
        log_record: Any = None,
    ) -> None:
        runtime = _runtime.current()
        if span is not None and span.is_recording() and runtime.capture in content.ON_SPAN:
            limit = runtime.content_max_length
            for key, values in (
                (sc.GEN_AI_INPUT_MESSAGES, inputs),
                (sc.GEN_AI_OUTPUT_MESSAGES, outputs),
                (sc.GEN_AI_SYSTEM_INSTRUCTIONS, system_instruction),
            ):
                if values:
                    span.set_attribute(key, content.to_json([_plain(v) for v in values], limit))
        if self._then is not None:  # util-genai's safe wrapper: it never raises
            self._then.on_completion(
                inputs=inputs,
                outputs=outputs,
                system_instruction=system_instruction,
                tool_definitions=tool_definitions,
                span=span,
                log_record=log_record,
            )


def _plain(value: Any) -> Any:
    """A util-genai message or part dataclass as a dict (anything else as it is); a
    ``Blob`` part keeps its bytes, which :func:`agentotel.content.to_json` replaces with
    their reference."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: v for k, v in dataclasses.asdict(value).items() if v is not None}
    return value

"""Big and multimodal content: valid-JSON truncation, binary parts by reference (or
uploaded), and OTLP requests under the receiver's size limit.

The export tests run the real OTLP/gRPC span exporter against the test receiver
(``otlp_receiver.py``), whose gRPC server refuses requests over 4 MiB as the Collector's
OTLP receiver does by default (``max_recv_msg_size_mib: 4``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import integration_app as app
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llm_server import LLMServer
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from otlp_receiver import OtlpReceiver
from test_integrations import instrumented

import agentotel
from agentotel import _runtime, content
from agentotel import semconv as sc
from agentotel._bounded import SizeBoundedSpanExporter
from agentotel._instruments import Instruments
from agentotel._providers import span_processors
from agentotel._runtime import Runtime
from agentotel._settings import resolve
from agentotel.cost import load_price_table

MIB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64  # 16 KiB and 8 bytes of "image"
PNG_B64 = base64.b64encode(PNG).decode()
PNG_REFERENCE = {
    "type": "blob",
    "modality": "image",
    "mime_type": "image/png",
    "size": len(PNG),
    "sha256": hashlib.sha256(PNG).hexdigest(),
}


# --------------------------------------------------------------------------- truncation


def test_a_long_message_part_is_cut_on_its_own_and_the_array_stays_valid_json() -> None:
    messages = content.input_messages(
        [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "word " * 2000}]
    )
    text = content.to_json(messages, 500)
    assert len(text) <= 500
    system, user = json.loads(text)
    assert system == {"role": "system", "parts": [{"type": "text", "content": "Be terse."}]}
    cut = user["parts"][0]["content"]
    assert cut.startswith("word word") and cut.endswith(" chars]")
    kept = len(cut) - len(cut[cut.rindex("...[truncated"):])
    assert cut.endswith(f"...[truncated {10000 - kept} chars]")  # counts the original


def test_every_long_part_shrinks_alike_and_short_parts_stay_whole() -> None:
    messages = [
        {"role": "user", "parts": [{"type": "text", "content": "a" * 3000}]},
        {"role": "assistant", "parts": [{"type": "text", "content": "ok"}]},
        {"role": "user", "parts": [{"type": "text", "content": "b" * 3000}]},
    ]
    first, short, third = json.loads(content.to_json(messages, 1000))
    assert short["parts"][0]["content"] == "ok"
    assert len(first["parts"][0]["content"]) == len(third["parts"][0]["content"]) > 300


def test_too_many_parts_for_the_limit_end_with_a_count_of_the_dropped_items() -> None:
    messages = [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}] * 100
    items = json.loads(content.to_json(messages, 300))
    assert items[-1] == {"truncated_items": 100 - (len(items) - 1)}


texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=400)
parts = st.lists(st.builds(lambda t: {"type": "text", "content": t}, texts), max_size=4)
message_lists = st.lists(
    st.builds(lambda r, p: {"role": r, "parts": p}, st.sampled_from(["user", "assistant"]), parts),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(messages=message_lists, limit=st.integers(min_value=64, max_value=2000))
def test_captured_messages_are_always_valid_json_within_the_limit(
    messages: list[dict[str, Any]], limit: int
) -> None:
    text = content.to_json(messages, limit)
    assert len(text) <= limit
    json.loads(text)


# --------------------------------------------------------------------------- binary parts

payloads = st.binary(min_size=48, max_size=2000)
odd_values = st.one_of(st.none(), st.integers(), st.text(max_size=8), st.lists(st.integers()))


@settings(max_examples=200, deadline=None)
@given(data=payloads, mime=odd_values, modality=odd_values, limit=st.integers(64, 4000))
def test_binary_content_never_reaches_the_captured_text_whatever_its_fields(
    data: bytes, mime: Any, modality: Any, limit: int
) -> None:
    encoded = base64.b64encode(data).decode()
    parts = [
        {"type": "blob", "content": data, "mime_type": mime, "modality": modality},
        {"type": "blob", "content": encoded, "mime_type": mime},
        {"type": "image", "source": {"type": "base64", "data": encoded, "media_type": mime}},
        {"inline_data": {"data": encoded, "mime_type": mime}},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{encoded}"}},
    ]
    text = content.to_json([{"role": "user", "parts": parts}], limit)
    assert encoded[:64] not in text
    json.loads(text)



@pytest.mark.parametrize(
    "part",
    [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
        {"type": "input_image", "image_url": f"data:image/png;base64,{PNG_B64}"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": PNG_B64}},
        {"inline_data": {"mime_type": "image/png", "data": PNG_B64}},
        {"type": "blob", "modality": "image", "mime_type": "image/png", "content": PNG},
    ],
    ids=["openai_chat", "openai_responses", "anthropic", "gemini", "util_genai_blob"],
)
def test_an_inline_image_is_captured_as_a_reference_never_its_bytes(part: dict[str, Any]) -> None:
    captured = content.to_json(
        content.input_messages([{"role": "user", "content": [part]}]), 16 * 1024
    )
    assert PNG_B64[:64] not in captured
    assert json.loads(captured) == [{"role": "user", "parts": [PNG_REFERENCE]}]


def test_audio_is_a_reference_with_its_mime_type() -> None:
    wav = b"RIFF" + b"\0" * 4000
    part = {"type": "input_audio",
            "input_audio": {"data": base64.b64encode(wav).decode(), "format": "wav"}}
    (message,) = json.loads(content.to_json(content.input_messages(
        [{"role": "user", "content": [part]}]), 4096))
    assert message["parts"] == [{
        "type": "blob", "modality": "audio", "mime_type": "audio/wav", "size": len(wav),
        "sha256": hashlib.sha256(wav).hexdigest(),
    }]


def test_an_image_by_url_is_a_uri_part() -> None:
    part = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    (message,) = json.loads(content.to_json(content.input_messages(
        [{"role": "user", "content": [part]}]), 4096))
    assert message["parts"] == [
        {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"}
    ]


def _image_message() -> list[dict[str, Any]]:
    return [{
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
        ],
    }]


def _chat_with_image(server: LLMServer) -> None:
    openai.OpenAI(base_url=server.openai_base_url, api_key=app.API_KEY, max_retries=0)\
        .chat.completions.create(model=app.OPENAI_MODEL, messages=_image_message())  # type: ignore[arg-type]


def test_an_instrumented_sdk_calls_image_is_a_reference_on_its_span(
    llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK", raising=False)
    with instrumented(["openai"], capture=content.SPAN_ONLY) as stack:
        _chat_with_image(llm_server)
        (span,) = stack.telemetry().inference()
    inputs = span.attributes[sc.GEN_AI_INPUT_MESSAGES]
    assert PNG_B64[:64] not in inputs
    (message,) = json.loads(inputs)
    text, image = message["parts"]
    assert text == {"type": "text", "content": "What is in this picture?"}
    assert (image["type"], image["size"], image["sha256"]) == (
        "blob", len(PNG), PNG_REFERENCE["sha256"]
    )


def test_agentotels_own_llm_span_records_an_image_as_a_reference(recorded: Any) -> None:
    _runtime.install(
        Runtime(
            recorded.tracer_provider.get_tracer(sc.INSTRUMENTATION_SCOPE),
            Instruments(recorded.meter_provider.get_meter(sc.INSTRUMENTATION_SCOPE)),
            load_price_table(),
            capture=content.SPAN_ONLY,
        )
    )
    with agentotel.llm(app.OPENAI_MODEL, provider="openai") as call:
        call.record_input(_image_message())
    (span,) = recorded.spans()
    (message,) = json.loads(span.attributes[sc.GEN_AI_INPUT_MESSAGES])
    assert message["parts"][1] == PNG_REFERENCE


def test_with_the_upload_hook_configured_the_content_is_uploaded_and_referenced_by_uri(
    llm_server: LLMServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK=upload``: util-genai's upload hook
    writes the messages, image included, under the fsspec base path; the span carries
    their URI (``gen_ai.input.messages_ref``) and the image's reference."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK", "upload")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_UPLOAD_BASE_PATH", tmp_path.as_uri())
    with instrumented(["openai"], capture=content.SPAN_ONLY) as stack:
        _chat_with_image(llm_server)
        (span,) = stack.telemetry().inference()
    uri = span.attributes[sc.GEN_AI_INPUT_MESSAGES_REF]
    assert uri.startswith(tmp_path.as_uri()) and uri.endswith("_inputs.json")
    path = Path(uri.removeprefix("file://"))
    deadline = time.monotonic() + 10
    uploaded = None
    while uploaded is None and time.monotonic() < deadline:  # uploaded off the thread
        try:  # the file appears before it is written whole
            uploaded = json.loads(path.read_text())
        except (OSError, ValueError):
            time.sleep(0.02)
    assert uploaded is not None, f"{path} was not uploaded whole within 10 s"
    (image,) = [p for p in uploaded[0]["parts"] if p["type"] == "blob"]
    assert base64.b64decode(image["content"]) == PNG
    (message,) = json.loads(span.attributes[sc.GEN_AI_INPUT_MESSAGES])
    assert message["parts"][1]["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert PNG_B64[:64] not in span.attributes[sc.GEN_AI_INPUT_MESSAGES]


# --------------------------------------------------------------------------- export size


def _big_spans(count: int, size: int, name: str = "chat") -> list[ReadableSpan]:
    provider = TracerProvider()
    tracer = provider.get_tracer("big")
    spans = []
    for index in range(count):
        span = tracer.start_span(f"{name} {index}")
        span.set_attribute(sc.GEN_AI_INPUT_MESSAGES, f"{index:04d}" + "x" * size)
        span.end()
        spans.append(span)
    return spans  # type: ignore[return-value]


def _grpc_exporter(receiver: OtlpReceiver) -> OTLPSpanExporter:
    return OTLPSpanExporter(endpoint=receiver.grpc_endpoint, insecure=True, timeout=10)


def test_the_receiver_refuses_a_request_over_4_mib_whole() -> None:
    """Without agentotel's bounds: ten 600 KB spans are one 6 MB request, refused."""
    with OtlpReceiver() as receiver:
        result = _grpc_exporter(receiver).export(_big_spans(10, 600_000))
        assert result is SpanExportResult.FAILURE
        assert receiver.spans() == []


def test_a_batch_over_4_mib_arrives_whole_in_pieces_under_the_limit() -> None:
    with OtlpReceiver() as receiver:
        exporter = SizeBoundedSpanExporter(_grpc_exporter(receiver))
        assert exporter.export(_big_spans(10, 600_000)) is SpanExportResult.SUCCESS
        received = receiver.spans()
    assert sorted(s.name for s in received) == [f"chat {i}" for i in range(10)]
    for span in received:
        assert len(span.attributes[sc.GEN_AI_INPUT_MESSAGES]) == 600_004  # nothing cut


def test_strings_in_sequence_attributes_and_events_count_toward_the_limit() -> None:
    """Ten spans of 600 KB each, the strings in a sequence attribute and an event."""
    provider = TracerProvider()
    tracer = provider.get_tracer("big")
    batch = []
    for index in range(10):
        span = tracer.start_span(f"chat {index}")
        span.set_attribute("app.documents", ("d" * 200_000, "e" * 100_000))
        span.add_event("retrieved", {"app.text": "t" * 300_000})
        span.end()
        batch.append(span)
    with OtlpReceiver() as receiver:
        exporter = SizeBoundedSpanExporter(_grpc_exporter(receiver))
        assert exporter.export(batch) is SpanExportResult.SUCCESS  # type: ignore[arg-type]
        received = receiver.spans()
    assert sorted(s.name for s in received) == [f"chat {i}" for i in range(10)]


def test_one_span_over_4_mib_arrives_with_its_content_cut_and_marked() -> None:
    with OtlpReceiver() as receiver:
        exporter = SizeBoundedSpanExporter(_grpc_exporter(receiver))
        batch = _big_spans(1, 5 * MIB, "huge") + _big_spans(2, 100, "small")
        assert exporter.export(batch) is SpanExportResult.SUCCESS
        received = {s.name: s.attributes[sc.GEN_AI_INPUT_MESSAGES] for s in receiver.spans()}
    assert sorted(received) == ["huge 0", "small 0", "small 1"]
    text = received["huge 0"]
    assert 3 * MIB < len(text) < 4 * MIB
    kept = text.rpartition("...[truncated")[0]
    assert kept == "0000" + "x" * (len(kept) - 4)
    assert text == kept + f"...[truncated {5 * MIB + 4 - len(kept)} chars]"
    assert received["small 1"] == "0001" + "x" * 100


def test_inits_otlp_grpc_pipeline_delivers_spans_over_4_mib_in_one_batch() -> None:
    """The exporters init() builds: batch processor -> size bounds -> OTLP/gRPC."""
    with OtlpReceiver() as receiver:
        settings_ = resolve(
            {"endpoint": receiver.grpc_endpoint, "protocol": "grpc", "traces_exporter": "otlp"},
            environ={"OTEL_EXPORTER_OTLP_INSECURE": "true", "OTEL_BSP_SCHEDULE_DELAY": "60000"},
        )
        provider = TracerProvider()
        for processor in span_processors(settings_, lambda exporter: exporter):
            provider.add_span_processor(processor)
        tracer = provider.get_tracer("big")
        for index in range(8):
            with tracer.start_as_current_span(f"chat {index}") as span:
                span.set_attribute(sc.GEN_AI_INPUT_MESSAGES, "y" * 700_000)
        assert provider.force_flush(30_000)  # one batch of 8 spans, 5.6 MB
        names = sorted(s.name for s in receiver.spans())
        provider.shutdown()
    assert names == [f"chat {i}" for i in range(8)]

"""The demo in Jaeger/Loki terms: with content capture on, prompts arrive redacted; off, none.

The demo runs with its real OTLP HTTP exporters into the decoding receiver. Its bundled
requests carry an e-mail address, AWS keys, a card number, an OpenAI key and a phone
number; the raw values must never reach the wire, whatever the capture mode.
"""

from __future__ import annotations

import json
import subprocess

from otlp_receiver import (
    HTTP,
    REPO_ROOT,
    OtlpReceiver,
    demo_command,
    demo_env,
    free_port,
)

from agentotel import semconv

LIMIT = "14"  # requests 1-14 include every leak below
LEAKS = (
    "maria.garcia@example.com",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "4111 1111 1111 1111",
    "sk-proj-Xa81kQpL0zVt7RmN2wYc4HbJ9sDf3GeU",
    "415-555-0132",
)
#: messages, system instructions, tool arguments and results, retrieval and memory content
CONTENT_KEYS = set(semconv.CONTENT_ATTRIBUTES)


def _run_demo(receiver: OtlpReceiver, capture: str | None) -> None:
    env = demo_env(
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint(HTTP),
        OTEL_EXPORTER_OTLP_PROTOCOL=HTTP,
        OTEL_EXPORTER_PROMETHEUS_PORT=str(free_port()),
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=capture,
    )
    result = subprocess.run(
        demo_command("--quiet", "--limit", LIMIT),
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def _wire_text(receiver: OtlpReceiver) -> str:
    """Everything the receiver decoded, as text."""
    parts = [
        json.dumps([s.attributes, [e.attributes for e in s.events]], default=str)
        for s in receiver.spans()
    ]
    parts += [json.dumps([r.body, r.attributes], default=str) for r in receiver.log_records()]
    return "\n".join(parts)


def test_capture_on_prompts_arrive_redacted(otlp_receiver):
    _run_demo(otlp_receiver, "SPAN_AND_EVENT")
    spans = otlp_receiver.spans()
    workflows = [s for s in spans if s.name == "invoke_workflow support-triage"]
    assert len(workflows) == int(LIMIT)
    prompts = [json.loads(s.attributes["gen_ai.input.messages"]) for s in workflows]
    texts = [m["parts"][0]["content"] for messages in prompts for m in messages]
    assert any("[REDACTED:email]" in t for t in texts)
    assert any("[REDACTED:aws_access_key]" in t for t in texts)
    assert any("[REDACTED:credit_card]" in t for t in texts)
    assert any("gen_ai.input.messages" in s.attributes for s in spans if s.name.startswith("chat "))
    events = [
        r
        for r in otlp_receiver.log_records()
        if r.event_name == "gen_ai.client.inference.operation.details"
    ]
    assert events
    wire = _wire_text(otlp_receiver)
    for leak in LEAKS:
        assert leak not in wire, leak


def test_capture_off_no_prompt_reaches_the_wire(otlp_receiver):
    _run_demo(otlp_receiver, None)
    spans = otlp_receiver.spans()
    assert len([s for s in spans if s.name == "invoke_workflow support-triage"]) == int(LIMIT)
    assert not any(CONTENT_KEYS & set(s.attributes) for s in spans)
    # the evaluation results stay: their name, score, label and explanation are no content
    events = [r for r in otlp_receiver.log_records() if r.event_name]
    assert {r.event_name for r in events} == {"gen_ai.evaluation.result"}
    assert {key for r in events for key in r.attributes} <= {
        "gen_ai.evaluation.name", "gen_ai.evaluation.score.value",
        "gen_ai.evaluation.score.label", "gen_ai.evaluation.explanation", "gen_ai.response.id",
    }
    wire = _wire_text(otlp_receiver)
    for leak in LEAKS:
        assert leak not in wire, leak

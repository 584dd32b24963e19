"""Spans per second through the redacting export path, against the same path without it.

Run from the repository root::

    python benchmarks/redaction.py [--rounds 15] [--traces 128]

What is measured, side by side in one process:

- ``plain``: a span exporter that does what the OTLP exporters do before the network --
  ``encode_spans(batch).SerializeToString()`` (opentelemetry-exporter-otlp-proto-common)
  -- and discards the bytes;
- ``redacting``: :class:`agentotel.redaction.RedactingSpanExporter` (default detectors)
  wrapped around that same exporter, i.e. redaction plus encoding, which is what the
  ``BatchSpanProcessor`` worker runs for every batch after ``agentotel.init()``.

The spans are real SDK spans of an agent run, one trace per request: an
``invoke_agent`` span, two ``chat`` LLM spans with the usual ~15 attributes (model names,
response id, finish reasons, token counts, server address and port, request parameters,
conversation id, cost, and ``gen_ai.input.messages``/``gen_ai.output.messages`` JSON of a
few hundred characters), and an ``execute_tool`` span with arguments and result. About one
request in five carries personal data (an e-mail address, a phone number, a card number)
that redaction must replace. Every round uses freshly generated spans (new ids, so that
the short-string memo of the redactor does not see repeats it would not see in
production).

Repetitions are interleaved: each round exports one fresh batch with each variant, the
order alternating between rounds, with the garbage collector paused inside the timed
blocks. The figures are medians over rounds; the ratio is the median of the per-round
ratios. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from time import perf_counter

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Tracer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentotel import semconv  # noqa: E402
from agentotel.redaction import RedactingSpanExporter, Redactor  # noqa: E402

_QUESTIONS = (
    "Hi, my parcel was supposed to arrive yesterday but the tracking page has not changed "
    "since Monday. Can you check what happened and tell me when it will come?",
    "I was charged twice for order ORD-2024-{n:06d} on 2024-05-17. Please refund one of "
    "the two payments of 129.99 EUR and confirm by e-mail.",
    "Which of your plans includes priority support and how many seats does the team plan "
    "have? We are 14 people and need an invoice in our company name.",
    "The app crashes with error E{n:04d} when I open settings on version 3.11.2. I already "
    "reinstalled it twice. What else can I try?",
)
_PERSONAL = (
    " You can reach me at jane.doe{n}@example.com.",
    " Call me back on +44 20 7946 {n:04d}.",
    " Use my card 4111 1111 1111 1111 for the difference.",
)
_ANSWER = (
    "Thanks for reaching out. I checked order ORD-2024-{n:06d}: the carrier scanned it at "
    "the regional hub on 2024-05-16 and it is out for delivery today. If it has not "
    "arrived by 18:00, reply here and I will open a claim with the carrier for you."
)
_SYSTEM = (
    "You are a helpful support assistant for an online shop. Answer briefly and politely, "
    "cite the order status, and never promise refunds without a ticket."
)


class EncodingExporter(SpanExporter):
    """Encodes each batch to OTLP protobuf bytes, as the OTLP exporters do, and drops it."""

    def __init__(self) -> None:
        self.bytes_encoded = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.bytes_encoded += len(encode_spans(spans).SerializeToString())
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def _messages(role: str, text: str) -> str:
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}])


def _request(rng: random.Random) -> tuple[str, str]:
    n = rng.randrange(1_000_000)
    question = rng.choice(_QUESTIONS).format(n=n)
    if rng.random() < 0.2:
        question += rng.choice(_PERSONAL).format(n=n % 10_000)
    return question, _ANSWER.format(n=n)


def make_spans(traces: int, seed: int) -> list[ReadableSpan]:
    """Finished SDK spans: ``traces`` agent runs of four spans each."""
    rng = random.Random(seed)
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("benchmark")
    for _ in range(traces):
        conversation = str(uuid.UUID(int=rng.getrandbits(128)))
        question, answer = _request(rng)
        with tracer.start_as_current_span("invoke_agent support", kind=SpanKind.INTERNAL) as agent:
            agent.set_attributes(
                {
                    semconv.GEN_AI_OPERATION_NAME: "invoke_agent",
                    semconv.GEN_AI_AGENT_NAME: "support",
                    semconv.GEN_AI_CONVERSATION_ID: conversation,
                }
            )
            for step in range(2):
                _llm_span(tracer, rng, conversation, question, answer, step)
            with tracer.start_as_current_span("execute_tool lookup_order") as tool:
                tool.set_attributes(
                    {
                        semconv.GEN_AI_OPERATION_NAME: "execute_tool",
                        semconv.GEN_AI_TOOL_NAME: "lookup_order",
                        semconv.GEN_AI_TOOL_TYPE: "function",
                        semconv.GEN_AI_TOOL_CALL_ID: f"call_{rng.getrandbits(64):016x}",
                        semconv.GEN_AI_TOOL_CALL_ARGUMENTS: json.dumps({"query": question[:120]}),
                        semconv.GEN_AI_TOOL_CALL_RESULT: json.dumps({"status": answer[:200]}),
                    }
                )
    provider.shutdown()
    return list(memory.get_finished_spans())


def _llm_span(
    tracer: Tracer, rng: random.Random, conversation: str, question: str, answer: str, step: int
) -> None:
    with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as span:
        span.set_attributes(
            {
                semconv.GEN_AI_OPERATION_NAME: "chat",
                semconv.GEN_AI_PROVIDER_NAME: "openai",
                semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
                semconv.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
                semconv.GEN_AI_RESPONSE_ID: f"chatcmpl-{rng.getrandbits(96):024x}",
                semconv.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",),
                semconv.GEN_AI_USAGE_INPUT_TOKENS: rng.randrange(100, 900),
                semconv.GEN_AI_USAGE_OUTPUT_TOKENS: rng.randrange(20, 300),
                semconv.SERVER_ADDRESS: "api.openai.com",
                semconv.SERVER_PORT: 443,
                semconv.GEN_AI_REQUEST_PARAMS["temperature"]: 0.2,
                semconv.GEN_AI_REQUEST_PARAMS["max_tokens"]: 512,
                semconv.GEN_AI_CONVERSATION_ID: conversation,
                semconv.LLM_COST_USD: 0.00021 * (step + 1),
                semconv.GEN_AI_SYSTEM_INSTRUCTIONS: _SYSTEM,
                semconv.GEN_AI_INPUT_MESSAGES: _messages("user", question),
                semconv.GEN_AI_OUTPUT_MESSAGES: _messages("assistant", answer),
            }
        )


def _timed(exporter: SpanExporter, spans: list[ReadableSpan]) -> float:
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = perf_counter()
        exporter.export(spans)
        return perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def run(rounds: int, traces: int) -> None:
    plain = EncodingExporter()
    redacting = RedactingSpanExporter(EncodingExporter(), Redactor())
    variants = {"plain": plain, "redacting": redacting}
    rates: dict[str, list[float]] = {name: [] for name in variants}
    ratios: list[float] = []
    span_count = 0
    for index in range(rounds + 1):  # round 0 warms up and is not counted
        spans = make_spans(traces, seed=index)
        span_count = len(spans)
        order = list(variants) if index % 2 else list(reversed(variants))
        seconds = {name: _timed(variants[name], spans) for name in order}
        if index == 0:
            continue
        for name in variants:
            rates[name].append(len(spans) / seconds[name])
        ratios.append(seconds["plain"] / seconds["redacting"])

    plain_rate = statistics.median(rates["plain"])
    redacting_rate = statistics.median(rates["redacting"])
    print(f"python {platform.python_version()} on {platform.machine()}, {rounds} rounds")
    print(f"batch: {span_count} spans ({traces} traces of agent + 2 LLM + tool spans)")
    print(f"plain export (OTLP encode)          {plain_rate:10.0f} spans/s")
    print(f"redacting export (redact + encode)  {redacting_rate:10.0f} spans/s")
    print(f"ratio redacting / plain (median)    {statistics.median(ratios):10.2f}")
    extra_us = (1 / redacting_rate - 1 / plain_rate) * 1e6
    print(f"redaction cost per span (median)    {extra_us:10.1f} us")
    print(f"redaction errors                    {redacting.error_count:10d}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    parser.add_argument("--traces", type=int, default=128, help="traces per batch (default 128)")
    args = parser.parse_args(argv)
    run(args.rounds, args.traces)


if __name__ == "__main__":
    main()

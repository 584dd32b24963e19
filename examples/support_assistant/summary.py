"""The telemetry summary printed at the end of the demo.

:class:`RunStatistics` is an OpenTelemetry span processor: added to the tracer provider,
it sees every span agentotel ends and adds up what the metrics also record (operations
per kind, failures by ``error.type``, tokens, cost in USD, guardrail verdicts, streamed
calls and their time to first chunk, retrieved documents). Counting
spans instead of reading the Prometheus registry back keeps the summary independent of
the metrics exporters, and never races with a scrape of ``/metrics``. With a sampler
that drops traces the summary covers the sampled ones only; the metrics cover all.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from agentotel import semconv

#: ``gen_ai.operation.name`` -> the kind shown in the summary, in display order.
KINDS = {
    semconv.OP_INVOKE_WORKFLOW: "workflows",
    semconv.OP_INVOKE_AGENT: "agents",
    **{operation: "LLM calls" for operation in sorted(semconv.LLM_OPERATIONS)},
    semconv.OP_EXECUTE_TOOL: "tool calls",
    semconv.OP_RETRIEVAL: "retrievals",
    **{operation: "memory operations" for operation in semconv.MEMORY_OPERATIONS},
    semconv.OP_APPLY_GUARDRAIL: "guardrail checks",
}


class RunStatistics(SpanProcessor):
    """Tallies the agentotel spans that end while it is registered (thread-safe).

    Spans without ``gen_ai.operation.name`` (the HTTP client spans) are not counted.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.operations: Counter[str] = Counter()
        self.failures: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.tokens: Counter[str] = Counter()
        self.cost_usd = 0.0
        self.verdicts: Counter[str] = Counter()
        self.first_chunk_s: list[float] = []
        self.documents = 0

    def on_end(self, span: ReadableSpan) -> None:
        attributes = span.attributes or {}
        kind = KINDS.get(str(attributes.get(semconv.GEN_AI_OPERATION_NAME)))
        if kind is None:
            return
        with self._lock:
            self.operations[kind] += 1
            error_type = attributes.get(semconv.ERROR_TYPE)
            if error_type is not None:
                self.failures[kind][str(error_type)] += 1
            for token_type, key in (
                ("input", semconv.GEN_AI_USAGE_INPUT_TOKENS),
                ("output", semconv.GEN_AI_USAGE_OUTPUT_TOKENS),
                ("cached input", semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS),
            ):
                value = attributes.get(key)
                if isinstance(value, int):
                    self.tokens[token_type] += value
            cost = attributes.get(semconv.LLM_COST_USD)
            if isinstance(cost, float):
                self.cost_usd += cost
            verdict = attributes.get(semconv.GUARDRAIL_VERDICT)
            if verdict is not None:
                self.verdicts[str(verdict)] += 1
            first_chunk = attributes.get(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK)
            if isinstance(first_chunk, float):
                self.first_chunk_s.append(first_chunk)
            documents = attributes.get(semconv.RETRIEVAL_DOCUMENT_COUNT)
            if isinstance(documents, int):
                self.documents += documents

    def lines(self) -> list[str]:
        """The summary as aligned text lines."""
        with self._lock:
            kinds = dict.fromkeys(KINDS.values())
            counts = ", ".join(f"{kind} {self.operations[kind]}" for kind in kinds)
            lines = [f"  operations  {counts}"]
            failed = [kind for kind in kinds if self.failures[kind]]
            if not failed:
                lines.append("  failed      none")
            for index, kind in enumerate(failed):
                label = "failed" if index == 0 else ""
                by_type = self.failures[kind]
                types = ", ".join(f"{name} {count}" for name, count in sorted(by_type.items()))
                total = f"{kind} {sum(by_type.values())}"
                lines.append(f"  {label:<10}  {total:<14} {types}")
            verdicts = ", ".join(f"{name} {count}" for name, count in sorted(self.verdicts.items()))
            streamed = sorted(self.first_chunk_s)
            lines += [
                f"  tokens      input {self.tokens['input']:,} "
                f"(cached {self.tokens['cached input']:,}), output {self.tokens['output']:,}",
                f"  cost        ${self.cost_usd:.4f} USD",
                f"  guardrails  {verdicts or 'no checks'}",
                f"  streamed    {len(streamed)} LLM calls"
                + (f", time to first chunk median {streamed[len(streamed) // 2]:.3f} s"
                   if streamed else ""),
                f"  retrieved   {self.documents} documents in {self.operations['retrievals']}"
                " retrievals",
            ]
        return lines

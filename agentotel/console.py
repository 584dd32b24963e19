"""A human-readable console span exporter: each finished trace as an indented tree.

Selected with ``OTEL_TRACES_EXPORTER=agentotel_console`` (``console`` keeps the SDK's
JSON exporter). Spans are held per trace until the trace's local root span ends, then
the tree is printed: operation and name, duration, time to first chunk (streamed calls),
tokens, embedding dimensions, cost, retrieved documents, memory operations (store, type,
records found or written), handoffs (``→ writer``), guardrail verdicts and errors.
Evaluation results (``gen_ai.evaluation.result`` events, handed over by
:class:`EvaluationConsoleProcessor`) are shown below the span they evaluate, or on a line
of their own when its trace was printed already. A development tool: it writes to a
stream, never to the network.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import StatusCode

from agentotel import semconv as sc

_MAX_BUFFERED_SPANS = 10_000
_MAX_HELD_EVALUATIONS = 1_000
_PRINTED_TRACES_REMEMBERED = 1_000


def _duration(span: ReadableSpan) -> str:
    if span.start_time is None or span.end_time is None:
        return "?"
    seconds = (span.end_time - span.start_time) / 1e9
    return f"{seconds * 1000:.1f}ms" if seconds < 1 else f"{seconds:.2f}s"


def _memory_title(attrs: Mapping[str, Any]) -> str:
    """`` {store} ({memory type})`` after a memory span's name (it is the operation alone)."""
    store = attrs.get(sc.GEN_AI_MEMORY_STORE_ID)
    kind = attrs.get(sc.MEMORY_TYPE)
    return (f" {store}" if store is not None else "") + (f" ({kind})" if kind is not None else "")


def _ttfc(seconds: float) -> str:
    """A time to first chunk: ``120ms``, ``4.5ms``, ``1.25s``."""
    if seconds >= 1:
        return f"{seconds:.2f}s"
    ms = seconds * 1000
    return f"{ms:.0f}ms" if ms >= 10 else f"{ms:.1f}ms"


def describe(span: ReadableSpan) -> str:
    """One line for one span: name, duration and the GenAI facts worth reading."""
    attrs = span.attributes or {}
    failed = span.status.status_code is StatusCode.ERROR
    parts = [("✗ " if failed else "") + span.name + _memory_title(attrs), _duration(span)]
    ttfc = attrs.get(sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK)
    if isinstance(ttfc, (int, float)) and not isinstance(ttfc, bool):
        parts.append(f"ttfc={_ttfc(ttfc)}")
    if sc.GEN_AI_RESPONSE_MODEL in attrs and attrs[sc.GEN_AI_RESPONSE_MODEL] != attrs.get(
        sc.GEN_AI_REQUEST_MODEL
    ):
        parts.append(f"model={attrs[sc.GEN_AI_RESPONSE_MODEL]!s}")
    if sc.GEN_AI_USAGE_INPUT_TOKENS in attrs or sc.GEN_AI_USAGE_OUTPUT_TOKENS in attrs:
        tokens = (
            f"tokens in={attrs.get(sc.GEN_AI_USAGE_INPUT_TOKENS, '?')}"
            f" out={attrs.get(sc.GEN_AI_USAGE_OUTPUT_TOKENS, '?')}"
        )
        cached = attrs.get(sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS)
        if cached:
            tokens += f" cached={cached}"
        parts.append(tokens)
    dimensions = attrs.get(sc.GEN_AI_EMBEDDINGS_DIMENSION_COUNT)
    if dimensions is not None:
        parts.append(f"dims={dimensions}")
    cost = attrs.get(sc.LLM_COST_USD)
    if isinstance(cost, float):
        parts.append(f"${cost:.6f}")
    documents = attrs.get(sc.RETRIEVAL_DOCUMENT_COUNT)
    if documents is not None:
        parts.append(f"documents={documents}")
    records = attrs.get(sc.GEN_AI_MEMORY_RECORD_COUNT)
    if records is not None:
        found = attrs.get(sc.GEN_AI_OPERATION_NAME) == sc.OP_SEARCH_MEMORY
        parts.append(f"{'hits' if found else 'records'}={records}")
    target = attrs.get(sc.HANDOFF_TARGET_AGENT_NAME)
    if target is not None:
        parts.append(f"→ {target}")
    verdict = attrs.get(sc.GUARDRAIL_VERDICT)
    if verdict is not None:
        reason = attrs.get(sc.GUARDRAIL_REASON)
        parts.append(f"verdict={verdict}" + (f" ({reason})" if reason else ""))
    status_code = attrs.get(sc.HTTP_RESPONSE_STATUS_CODE)
    if status_code is not None:
        parts.append(f"http {status_code}")
    if failed:
        parts.append(f"error={attrs.get(sc.ERROR_TYPE, span.status.description or 'ERROR')}")
    return "  ".join(parts)


def describe_evaluation(attributes: Mapping[str, Any]) -> str:
    """``evaluation groundedness  score=0.82  label=pass`` for one evaluation result."""
    parts = [f"evaluation {attributes.get(sc.GEN_AI_EVALUATION_NAME, '?')!s}"]
    score = attributes.get(sc.GEN_AI_EVALUATION_SCORE_VALUE)
    if isinstance(score, (int, float)) and not isinstance(score, bool):
        parts.append(f"score={score:.4g}")
    label = attributes.get(sc.GEN_AI_EVALUATION_SCORE_LABEL)
    if label is not None:
        parts.append(f"label={label!s}")
    error_type = attributes.get(sc.ERROR_TYPE)
    if error_type is not None:
        parts.append(f"error={error_type!s}")
    return "  ".join(parts)


class TreeConsoleSpanExporter(SpanExporter):
    """Prints each trace as a tree when its local root span ends.

    Args:
        out: the stream to write to (default ``sys.stdout``).
    """

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out
        self._lock = threading.Lock()
        self._pending: dict[int, list[ReadableSpan]] = {}
        self._count = 0
        # span id -> evaluation lines, held until the span's trace is printed
        self._evaluations: OrderedDict[int, list[str]] = OrderedDict()
        self._printed: OrderedDict[int, None] = OrderedDict()  # recently printed trace ids

    def add_evaluation(self, trace_id: int, span_id: int, attributes: Mapping[str, Any]) -> None:
        """Show an evaluation result of span ``span_id``: in its trace's tree, or on a line
        of its own when that tree was printed already (or there is no span)."""
        line = describe_evaluation(attributes)
        with self._lock:
            held = span_id != 0 and trace_id not in self._printed
            if held:
                self._evaluations.setdefault(span_id, []).append(line)
                while len(self._evaluations) > _MAX_HELD_EVALUATIONS:
                    self._evaluations.popitem(last=False)
        if not held:
            self._write(f"{line}  (trace {trace_id:032x}, span {span_id:016x})\n\n")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        finished: list[list[ReadableSpan]] = []
        with self._lock:
            for span in spans:
                trace_id = span.context.trace_id if span.context else 0
                self._pending.setdefault(trace_id, []).append(span)
                self._count += 1
                if span.parent is None or span.parent.is_remote:
                    finished.append(self._pending.pop(trace_id))
            while self._count > _MAX_BUFFERED_SPANS and self._pending:
                self._pending.pop(next(iter(self._pending)))
                self._count = sum(len(v) for v in self._pending.values())
            self._count -= sum(len(t) for t in finished)
        for trace_spans in finished:
            self._write(render_tree(trace_spans, self._take_evaluations(trace_spans)))
        return SpanExportResult.SUCCESS

    def _take_evaluations(self, spans: Sequence[ReadableSpan]) -> dict[int, list[str]]:
        """The held evaluations of ``spans``; their trace counts as printed from now on."""
        taken: dict[int, list[str]] = {}
        with self._lock:
            for span in spans:
                if span.context is not None:
                    lines = self._evaluations.pop(span.context.span_id, None)
                    if lines:
                        taken[span.context.span_id] = lines
            if spans and spans[0].context is not None:
                self._printed[spans[0].context.trace_id] = None
                while len(self._printed) > _PRINTED_TRACES_REMEMBERED:
                    self._printed.popitem(last=False)
        return taken

    def _write(self, text: str) -> None:
        out = self._out or sys.stdout
        out.write(text)
        out.flush()

    def shutdown(self) -> None:
        with self._lock:
            leftovers = list(self._pending.values())
            self._pending.clear()
            self._count = 0
        for trace_spans in leftovers:
            self._write(render_tree(trace_spans, self._take_evaluations(trace_spans)))
        with self._lock:
            unprinted = [line for lines in self._evaluations.values() for line in lines]
            self._evaluations.clear()
        if unprinted:
            self._write("\n".join(unprinted) + "\n\n")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def render_tree(
    spans: Sequence[ReadableSpan], evaluations: Mapping[int, list[str]] | None = None
) -> str:
    """Render spans of one trace as an indented tree (children ordered by start time),
    each span's ``evaluations`` (span id -> lines) below its children; a span of another
    process than the root's (another ``service.name``) ends with ``[its service]``."""
    by_id = {s.context.span_id: s for s in spans if s.context}
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent else None
        if parent not in by_id:
            parent = None
        children.setdefault(parent, []).append(span)
    for group in children.values():
        group.sort(key=lambda s: s.start_time or 0)
    lines: list[str] = []

    home: str | None = None  # the root's service: spans of other processes are marked

    def walk(span: ReadableSpan, prefix: str, connector: str, child_prefix: str) -> None:
        service = _service(span)
        mark = f"  [{service}]" if service is not None and service != home else ""
        lines.append(prefix + connector + describe(span) + mark)
        span_id = span.context.span_id if span.context else None
        kids: list[ReadableSpan | str] = [*children.get(span_id, [])]
        if evaluations and span_id is not None:
            kids += evaluations.get(span_id, [])
        for index, kid in enumerate(kids):
            last = index == len(kids) - 1
            if isinstance(kid, str):
                lines.append(prefix + child_prefix + ("└─ " if last else "├─ ") + kid)
            else:
                walk(kid, prefix + child_prefix, "└─ " if last else "├─ ",
                     "   " if last else "│  ")

    for root in children.get(None, []):
        home = _service(root)
        walk(root, "", "", "")
    return "\n".join(lines) + "\n\n"


def _service(span: ReadableSpan) -> str | None:
    """The span's ``service.name`` (its process's resource)."""
    resource = getattr(span, "resource", None)
    value = resource.attributes.get(sc.SERVICE_NAME) if resource is not None else None
    return value if isinstance(value, str) else None


class EvaluationConsoleProcessor(LogRecordProcessor):
    """Hands ``gen_ai.evaluation.result`` events to a :class:`TreeConsoleSpanExporter`
    (added to the logger provider when trace trees are printed). Never raises."""

    def __init__(self, tree: TreeConsoleSpanExporter) -> None:
        self._tree = tree

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        try:
            record = log_record.log_record
            if record.event_name == sc.EVENT_EVALUATION_RESULT:
                self._tree.add_evaluation(
                    record.trace_id or 0, record.span_id or 0, record.attributes or {}
                )
        except Exception:  # noqa: BLE001 - a console line must not break the application
            pass

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

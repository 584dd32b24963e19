"""Redaction: named detectors, secret-named keys, and the redacting exporters.

The corpus under ``tests/redaction_corpus/`` drives most of it:

- ``leaks.tsv``: ``<detector><TAB><text>``; every value that detector must catch is
  written between ``⟦`` and ``⟧``, so the expected output is the text with each bracketed
  value replaced by ``[REDACTED:<detector>]``. ``⏎`` stands for a newline, and
  ``${NAME}`` for a token prefix (``gh`` + ``p_`` ...) assembled here, so that the
  repository holds no string in the exact shape of a live credential. Every value is fake.
- ``near_misses.tsv``: ``<category><TAB><text>`` that must come out unchanged.

The corpus runs three ways: through :class:`Redactor` directly, and through spans, span
events and log records exported by the real OTLP exporters into the decoding receiver of
``otlp_receiver.py``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, Status, StatusCode
from otlp_receiver import LOGS, TRACES, OtlpReceiver

from agentotel.redaction import (
    DEFAULT_DETECTORS,
    DETECTORS,
    ERROR_MARKER,
    SECRET_FIELD_MARKER,
    RedactingLogRecordExporter,
    RedactingSpanExporter,
    Redactor,
    iban_valid,
    luhn_valid,
    marker,
)

CORPUS = Path(__file__).resolve().parent / "redaction_corpus"

# Token prefixes, assembled from pieces (see the module docstring).
_PREFIXES = {
    "SK": "sk" + "-",
    "SKPROJ": "sk" + "-proj-",
    "SKSVC": "sk" + "-svcacct-",
    "SKANT": "sk" + "-ant-",
    "AKIA": "AK" + "IA",
    "ASIA": "AS" + "IA",
    "GHP": "gh" + "p_",
    "GHO": "gh" + "o_",
    "GHU": "gh" + "u_",
    "GHS": "gh" + "s_",
    "GHR": "gh" + "r_",
    "GHPAT": "github" + "_pat_",
    "GLPAT": "gl" + "pat-",
    "GLDT": "gl" + "dt-",
    "GLRT": "gl" + "rt-",
    "GR13": "GR" + "1348941",
    "XOXB": "xo" + "xb-",
    "XOXP": "xo" + "xp-",
    "XAPP": "xa" + "pp-",
    "SLACKHOOK": "https://hooks." + "slack.com/services/",
    "AIZA": "AI" + "za",
    **{
        f"{edge}{short}": f"-----{edge.replace('BEGIN', 'BEGIN ').replace('END', 'END ')}"
        f"{kind}PRIVATE KEY{block}-----"
        for edge in ("BEGIN", "END")
        for short, kind, block in (
            ("PK", "", ""),
            ("RSA", "RSA ", ""),
            ("EC", "EC ", ""),
            ("OPENSSH", "OPENSSH ", ""),
            ("PGP", "PGP ", " BLOCK"),
        )
    },
}


@dataclass(frozen=True)
class Leak:
    """One labelled corpus line: the input and the exact expected output."""

    detector: str
    text: str
    expected: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.detector}: {self.text[:60]!r}"


def _expand(text: str) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: _PREFIXES[m.group(1)], text).replace("⏎", "\n")


def _rows(name: str) -> Iterator[tuple[str, str]]:
    for line in (CORPUS / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            label, text = line.split("\t", 1)
            yield label, _expand(text)


def _leaks() -> list[Leak]:
    leaks = []
    for detector, text in _rows("leaks.tsv"):
        values = tuple(re.findall("⟦(.*?)⟧", text, flags=re.DOTALL))
        expected = re.sub("⟦.*?⟧", marker(detector), text, flags=re.DOTALL)
        leaks.append(Leak(detector, text.replace("⟦", "").replace("⟧", ""), expected, values))
    return leaks


LEAKS = _leaks()
NEAR_MISSES = [text for _, text in _rows("near_misses.tsv")]
ALL = Redactor(DETECTORS)
DEFAULT = Redactor()


# --------------------------------------------------------------------------- the corpus
def test_corpus_has_150_labelled_leaks_covering_every_detector() -> None:
    assert len(LEAKS) >= 150
    assert {leak.detector for leak in LEAKS} == set(DETECTORS)
    assert all(leak.values for leak in LEAKS)


def test_corpus_has_near_misses_of_every_category() -> None:
    categories = {label for label, _ in _rows("near_misses.tsv")}
    assert categories == {"order_number", "timestamp", "version", "uuid", "hash", "prose"}
    assert len(NEAR_MISSES) >= 90


@pytest.mark.parametrize("leak", LEAKS, ids=str)
def test_leak_is_replaced_by_its_detector_marker(leak: Leak) -> None:
    assert ALL.redact_text(leak.text) == leak.expected


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_miss_is_left_unchanged(text: str) -> None:
    assert ALL.redact_text(text) == text


def test_default_detectors_are_all_but_ip_addresses() -> None:
    assert DEFAULT_DETECTORS == frozenset(DETECTORS) - {"ipv4", "ipv6"}
    assert set(DEFAULT.detectors) == DEFAULT_DETECTORS


def test_ip_addresses_are_kept_by_default() -> None:
    ip_lines = [leak.text for leak in LEAKS if leak.detector in ("ipv4", "ipv6")]
    assert [DEFAULT.redact_text(text) for text in ip_lines] == ip_lines


def test_default_detectors_catch_every_other_leak() -> None:
    leaks = [leak for leak in LEAKS if leak.detector in DEFAULT_DETECTORS]
    assert [DEFAULT.redact_text(leak.text) for leak in leaks] == [leak.expected for leak in leaks]


# --------------------------------------------------------------------------- validators
def test_luhn_accepts_a_test_card_number_and_rejects_a_changed_digit() -> None:
    assert luhn_valid("4111111111111111") is True
    assert luhn_valid("4111111111111112") is False


def test_iban_check_accepts_the_registry_example_and_rejects_a_changed_digit() -> None:
    assert iban_valid("GB82 WEST 1234 5698 7654 32") is True
    assert iban_valid("GB82 WEST 1234 5698 7654 33") is False
    assert iban_valid("GB82 WEST 1234 5698 7654 3") is False  # wrong length for GB


def test_card_number_failing_luhn_is_not_redacted() -> None:
    assert DEFAULT.redact_text("card 4111 1111 1111 1112") == "card 4111 1111 1111 1112"


# --------------------------------------------------------------------------- configuration
def test_unknown_detector_is_rejected_naming_it_and_the_accepted_ones() -> None:
    with pytest.raises(ValueError) as error:
        Redactor(["email", "passport"])
    assert "'passport'" in str(error.value)
    assert ", ".join(DETECTORS) in str(error.value)


def test_invalid_extra_pattern_is_rejected_naming_it() -> None:
    with pytest.raises(ValueError, match=r"order_id='ORD-\(' is not a valid regular expression"):
        Redactor(extra_patterns={"order_id": "ORD-("})


def test_extra_pattern_matching_the_empty_string_is_rejected() -> None:
    with pytest.raises(ValueError, match="matches the empty string"):
        Redactor(extra_patterns={"anything": "x*"})


def test_extra_pattern_may_not_reuse_a_builtin_name() -> None:
    with pytest.raises(ValueError, match="'email' is a built-in detector"):
        Redactor(extra_patterns={"email": "x+"})


def test_extra_pattern_match_is_replaced_with_its_name() -> None:
    redactor = Redactor(extra_patterns={"employee_id": r"EMP-\d{6}"})
    assert (
        redactor.redact_text("badge EMP-004211 at gate") == "badge [REDACTED:employee_id] at gate"
    )


def test_extra_patterns_alone_run_without_builtin_detectors() -> None:
    redactor = Redactor((), extra_patterns={"employee_id": r"EMP-\d{6}"})
    assert redactor.redact_text("EMP-004211 jane@example.com") == (
        "[REDACTED:employee_id] jane@example.com"
    )


def test_detector_subset_runs_only_the_named_detectors() -> None:
    redactor = Redactor(["email"])
    assert redactor.redact_text("jane@example.com SSN 536-22-1947") == (
        "[REDACTED:email] SSN 536-22-1947"
    )


def test_text_without_findings_is_returned_as_the_same_object() -> None:
    text = "The quick brown fox jumps over the lazy dog, 2024-05-17."
    assert DEFAULT.redact_text(text) is text


def test_repeated_short_value_gives_the_same_answer_as_the_first_time() -> None:
    first = DEFAULT.redact_text("pwd=hunter2")
    assert first == "pwd=[REDACTED:secret_assignment]"
    assert DEFAULT.redact_text("pwd=hunter2") == first


# --------------------------------------------------------------------------- attributes
def test_secret_named_keys_have_their_whole_value_replaced() -> None:
    attributes = {
        "db.password": "correct horse",
        "http.request.header.authorization": ("Basic YWxhZGRpbjpvcGVu",),
        "http.request.header.x-api-key": ["k1", "k2"],
        "app.token": 12345,
        "user.api_key": "plain words",
    }
    assert DEFAULT.redact_attributes(attributes) == {
        "db.password": SECRET_FIELD_MARKER,
        "http.request.header.authorization": (SECRET_FIELD_MARKER,),
        "http.request.header.x-api-key": [SECRET_FIELD_MARKER, SECRET_FIELD_MARKER],
        "app.token": SECRET_FIELD_MARKER,
        "user.api_key": SECRET_FIELD_MARKER,
    }


def test_token_counts_and_other_keys_that_merely_mention_tokens_are_kept() -> None:
    attributes = {
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.request.max_tokens": 512,
        "gen_ai.token.type": "input",
        "app.password_reset_required": True,
    }
    assert DEFAULT.redact_attributes(attributes) == attributes


def test_attribute_values_are_redacted_and_numbers_and_booleans_kept() -> None:
    attributes = {
        "gen_ai.input.messages": '[{"role":"user","content":"mail jane.doe@example.com"}]',
        "app.recipients": ("jane.doe@example.com", "support"),
        "server.port": 443,
        "gen_ai.request.temperature": 0.2,
        "app.cached": False,
    }
    assert DEFAULT.redact_attributes(attributes) == {
        "gen_ai.input.messages": '[{"role":"user","content":"mail [REDACTED:email]"}]',
        "app.recipients": ("[REDACTED:email]", "support"),
        "server.port": 443,
        "gen_ai.request.temperature": 0.2,
        "app.cached": False,
    }


def test_allow_listed_keys_are_never_redacted() -> None:
    redactor = Redactor(allow_keys=["app.support_email", "app.token"])
    attributes = {"app.support_email": "help@example.com", "app.token": "t-1", "x": "a@b.example"}
    assert redactor.redact_attributes(attributes) == {
        "app.support_email": "help@example.com",
        "app.token": "t-1",
        "x": "[REDACTED:email]",
    }


def test_nested_structures_are_redacted_with_their_keys() -> None:
    event = {
        "event": "login for jane@example.com",
        "request": {"headers": {"Authorization": "Bearer abc.def.ghi-123"}, "retries": 2},
        "tags": ["ok", "call +44 20 7946 0958"],
    }
    assert DEFAULT.redact(event) == {
        "event": "login for [REDACTED:email]",
        "request": {"headers": {"Authorization": SECRET_FIELD_MARKER}, "retries": 2},
        "tags": ["ok", "call [REDACTED:phone]"],
    }


def test_unchanged_structure_is_returned_as_the_same_object() -> None:
    event = {"event": "started", "attempt": 1, "tags": ("a", "b")}
    assert DEFAULT.redact(event) is event


# --------------------------------------------------------------------------- span exporter
def _tracer_provider(*exporters: Any, batch: bool = False, **kwargs: Any) -> TracerProvider:
    provider = TracerProvider(**kwargs)
    for exporter in exporters:
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        provider.add_span_processor(processor)
    return provider


def _emit_leaky_span(provider: TracerProvider) -> None:
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("linked") as linked:
        pass
    link = Link(linked.get_span_context(), {"peer.email": "bob@example.com"})
    with tracer.start_as_current_span("leaky", links=[link]) as span:
        span.set_attribute("app.note", "mail jane@example.com")
        span.set_attribute("app.count", 3)
        span.add_event("tool.call", {"tool.args": '{"card": "4111 1111 1111 1111"}'})
        span.set_status(Status(StatusCode.ERROR, "login failed for jane@example.com"))


def test_span_attributes_events_links_and_status_are_redacted() -> None:
    memory = InMemorySpanExporter()
    provider = _tracer_provider(RedactingSpanExporter(memory))
    _emit_leaky_span(provider)
    provider.shutdown()

    span = next(s for s in memory.get_finished_spans() if s.name == "leaky")
    assert dict(span.attributes or {}) == {"app.note": "mail [REDACTED:email]", "app.count": 3}
    assert [(e.name, dict(e.attributes or {})) for e in span.events] == [
        ("tool.call", {"tool.args": '{"card": "[REDACTED:credit_card]"}'})
    ]
    assert [dict(link.attributes or {}) for link in span.links] == [
        {"peer.email": "[REDACTED:email]"}
    ]
    assert span.status.description == "login failed for [REDACTED:email]"


def test_original_span_seen_by_other_processors_is_not_modified() -> None:
    redacted, original = InMemorySpanExporter(), InMemorySpanExporter()
    provider = _tracer_provider(RedactingSpanExporter(redacted), original)
    _emit_leaky_span(provider)
    provider.shutdown()

    span = next(s for s in original.get_finished_spans() if s.name == "leaky")
    assert dict(span.attributes or {}) == {"app.note": "mail jane@example.com", "app.count": 3}
    assert span.status.description == "login failed for jane@example.com"


def test_span_without_findings_is_exported_as_the_same_object() -> None:
    redacted, original = InMemorySpanExporter(), InMemorySpanExporter()
    provider = _tracer_provider(RedactingSpanExporter(redacted), original)
    with provider.get_tracer("test").start_as_current_span("clean") as span:
        span.set_attribute("gen_ai.request.model", "gpt-4o-mini")
    provider.shutdown()

    assert redacted.get_finished_spans()[0] is original.get_finished_spans()[0]


def test_dropped_attribute_and_event_counts_survive_redaction() -> None:
    memory = InMemorySpanExporter()
    limits = SpanLimits(max_span_attributes=2, max_events=1)
    provider = _tracer_provider(RedactingSpanExporter(memory), span_limits=limits)
    with provider.get_tracer("test").start_as_current_span("limited") as span:
        for index in range(3):
            span.set_attribute(f"app.mail{index}", f"user{index}@example.com")
            span.add_event(f"e{index}", {"mail": f"user{index}@example.com"})
    provider.shutdown()

    exported = memory.get_finished_spans()[0]
    assert dict(exported.attributes or {}) == {
        "app.mail1": "[REDACTED:email]",
        "app.mail2": "[REDACTED:email]",
    }
    assert (exported.dropped_attributes, exported.dropped_events) == (1, 2)
    assert dict(exported.events[0].attributes or {}) == {"mail": "[REDACTED:email]"}


def _eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class _ThreadRecordingRedactor(Redactor):
    """A redactor that notes which threads it ran on."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[str] = set()

    def redact(self, value: Any, key: str | None = None) -> Any:
        self.threads.add(threading.current_thread().name)
        return super().redact(value, key)


def test_redaction_runs_on_the_batch_worker_thread_not_the_callers() -> None:
    memory = InMemorySpanExporter()
    redactor = _ThreadRecordingRedactor()
    provider = TracerProvider()
    exporter = RedactingSpanExporter(memory, redactor)
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=20))
    with provider.get_tracer("test").start_as_current_span("work") as span:
        span.set_attribute("app.note", "mail jane@example.com")
    assert _eventually(lambda: bool(memory.get_finished_spans()))
    provider.shutdown()
    assert redactor.threads and threading.current_thread().name not in redactor.threads
    assert dict(memory.get_finished_spans()[0].attributes or {}) == {
        "app.note": "mail [REDACTED:email]"
    }


class _BrokenRedactor(Redactor):
    """A redactor with a bug: it raises on every value."""

    def redact(self, value: Any, key: str | None = None) -> Any:
        raise RuntimeError("bug")


def test_span_that_cannot_be_redacted_is_exported_with_every_string_replaced() -> None:
    memory = InMemorySpanExporter()
    exporter = RedactingSpanExporter(memory, _BrokenRedactor())
    provider = _tracer_provider(exporter)
    _emit_leaky_span(provider)
    provider.shutdown()

    span = next(s for s in memory.get_finished_spans() if s.name == "leaky")
    assert dict(span.attributes or {}) == {"app.note": ERROR_MARKER, "app.count": 3}
    assert [dict(e.attributes or {}) for e in span.events] == [{"tool.args": ERROR_MARKER}]
    assert span.status.description == ERROR_MARKER
    assert exporter.error_count == 1  # "linked" has nothing to redact


def _logged_on_this_thread(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The records captured from the calling thread, where a ``SimpleSpanProcessor`` or
    ``SimpleLogRecordProcessor`` exports (other tests' worker threads may still log)."""
    return [r for r in caplog.records if r.thread == threading.get_ident()]


def test_span_redaction_failure_is_logged_once_on_the_redaction_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    memory = InMemorySpanExporter()
    exporter = RedactingSpanExporter(memory, _BrokenRedactor())
    provider = _tracer_provider(exporter)
    _emit_leaky_span(provider)
    _emit_leaky_span(provider)
    provider.shutdown()

    leaky = [s for s in memory.get_finished_spans() if s.name == "leaky"]
    assert [dict(span.attributes or {}) for span in leaky] == [
        {"app.note": ERROR_MARKER, "app.count": 3}
    ] * 2
    assert exporter.error_count == 2
    logged = _logged_on_this_thread(caplog)
    assert [(r.name, r.levelno, r.getMessage()) for r in logged] == [
        (
            "agentotel.redaction",
            logging.WARNING,
            "span redaction failed; exporting the span with its strings replaced",
        )
    ]
    exc_info = logged[0].exc_info
    assert exc_info is not None and isinstance(exc_info[1], RuntimeError)


def test_shutdown_and_force_flush_reach_the_wrapped_exporter() -> None:
    memory = InMemorySpanExporter()
    exporter = RedactingSpanExporter(memory)
    assert exporter.force_flush(1000) is True
    exporter.shutdown()
    assert memory.export([]) == SpanExportResult.FAILURE  # what a shut-down exporter answers


# --------------------------------------------------------------------------- log exporter
def _logger_provider(exporter: Any, *more: Any) -> LoggerProvider:
    provider = LoggerProvider()
    for each in (exporter, *more):
        provider.add_log_record_processor(SimpleLogRecordProcessor(each))
    return provider


def test_log_body_and_attributes_are_redacted() -> None:
    memory = InMemoryLogRecordExporter()
    provider = _logger_provider(RedactingLogRecordExporter(memory))
    provider.get_logger("test").emit(
        body="refund to DE89 3704 0044 0532 0130 00",
        attributes={"user.email": "jane@example.com", "password": "x", "attempt": 2},
    )
    provider.shutdown()

    record = memory.get_finished_logs()[0].log_record
    assert record.body == "refund to [REDACTED:iban]"
    assert dict(record.attributes or {}) == {
        "user.email": "[REDACTED:email]",
        "password": SECRET_FIELD_MARKER,
        "attempt": 2,
    }


def test_structured_log_body_is_redacted_with_its_keys() -> None:
    memory = InMemoryLogRecordExporter()
    provider = _logger_provider(RedactingLogRecordExporter(memory))
    provider.get_logger("test").emit(
        body={"message": "call 415-555-0199", "api_key": "abc", "n": 1},
        event_name="gen_ai.client.inference.operation.details",
    )
    provider.shutdown()

    record = memory.get_finished_logs()[0].log_record
    assert record.body == {
        "message": "call [REDACTED:phone]",
        "api_key": SECRET_FIELD_MARKER,
        "n": 1,
    }
    assert record.event_name == "gen_ai.client.inference.operation.details"


def test_original_log_record_is_not_modified() -> None:
    redacted, original = InMemoryLogRecordExporter(), InMemoryLogRecordExporter()
    provider = _logger_provider(RedactingLogRecordExporter(redacted), original)
    provider.get_logger("test").emit(body="mail jane@example.com", attributes={"k": "a@b.example"})
    provider.shutdown()

    record = original.get_finished_logs()[0].log_record
    assert (record.body, dict(record.attributes or {})) == (
        "mail jane@example.com",
        {"k": "a@b.example"},
    )


def test_log_record_that_cannot_be_redacted_is_exported_with_every_string_replaced() -> None:
    memory = InMemoryLogRecordExporter()
    exporter = RedactingLogRecordExporter(memory, _BrokenRedactor())
    provider = _logger_provider(exporter)
    provider.get_logger("test").emit(
        body={"message": "mail jane@example.com", "n": 1}, attributes={"k": "v", "n": 2}
    )
    provider.shutdown()

    record = memory.get_finished_logs()[0].log_record
    assert record.body == {"message": ERROR_MARKER, "n": 1}
    assert dict(record.attributes or {}) == {"k": ERROR_MARKER, "n": 2}
    assert exporter.error_count == 1


def test_log_redaction_failure_is_counted_but_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    memory = InMemoryLogRecordExporter()
    exporter = RedactingLogRecordExporter(memory, _BrokenRedactor())
    provider = _logger_provider(exporter)
    for _ in range(2):
        provider.get_logger("test").emit(body="mail jane@example.com", attributes={"k": "v"})
    provider.shutdown()

    records = [data.log_record for data in memory.get_finished_logs()]
    assert [(r.body, dict(r.attributes or {})) for r in records] == [
        (ERROR_MARKER, {"k": ERROR_MARKER})
    ] * 2
    assert exporter.error_count == 2
    assert _logged_on_this_thread(caplog) == []


class _UnreadableBody(Mapping[str, Any]):
    """A structured log body whose items cannot be read."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("unreadable")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("unreadable")

    def __len__(self) -> int:
        return 1


def test_log_record_whose_body_cannot_even_be_blanked_arrives_with_the_error_marker() -> None:
    memory = InMemoryLogRecordExporter()
    exporter = RedactingLogRecordExporter(memory)
    provider = _logger_provider(exporter)
    provider.get_logger("test").emit(
        body=_UnreadableBody(),
        attributes={"user.email": "jane@example.com"},
        event_name="app.unreadable",
    )
    provider.shutdown()

    record = memory.get_finished_logs()[0].log_record
    assert (record.body, record.attributes, record.event_name) == (
        ERROR_MARKER,
        None,
        "app.unreadable",
    )
    assert exporter.error_count == 1


def test_log_redaction_runs_on_the_batch_worker_thread() -> None:
    memory = InMemoryLogRecordExporter()
    redactor = _ThreadRecordingRedactor()
    provider = LoggerProvider()
    provider.add_log_record_processor(
        BatchLogRecordProcessor(
            RedactingLogRecordExporter(memory, redactor), schedule_delay_millis=20
        )
    )
    provider.get_logger("test").emit(body="mail jane@example.com")
    assert _eventually(lambda: bool(memory.get_finished_logs()))
    provider.shutdown()
    assert redactor.threads and threading.current_thread().name not in redactor.threads
    assert memory.get_finished_logs()[0].log_record.body == "mail [REDACTED:email]"


# --------------------------------------------------------------------------- over the wire
def _export_corpus_as_spans(receiver: OtlpReceiver, texts: list[str], grpc: bool = False) -> None:
    exporter = (
        GrpcSpanExporter(endpoint=receiver.grpc_endpoint, insecure=True, timeout=10)
        if grpc
        else OTLPSpanExporter(endpoint=f"{receiver.http_endpoint}/v1/traces", timeout=10)
    )
    provider = _tracer_provider(RedactingSpanExporter(exporter, ALL), batch=True)
    tracer = provider.get_tracer("corpus")
    for index, text in enumerate(texts):
        with tracer.start_as_current_span(f"line {index}") as span:
            span.set_attribute("app.text", text)
            span.add_event("app.event", {"app.text": text})
    provider.shutdown()


def _export_corpus_as_logs(receiver: OtlpReceiver, texts: list[str]) -> None:
    exporter = OTLPLogExporter(endpoint=f"{receiver.http_endpoint}/v1/logs", timeout=10)
    provider = LoggerProvider()
    provider.add_log_record_processor(
        BatchLogRecordProcessor(RedactingLogRecordExporter(exporter, ALL))
    )
    logger = provider.get_logger("corpus")
    for index, text in enumerate(texts):
        logger.emit(
            body=text,
            severity_number=SeverityNumber.INFO,
            attributes={"app.text": text, "app.line": index},
        )
    provider.shutdown()


def _received_span_texts(receiver: OtlpReceiver, count: int) -> list[tuple[str, str]]:
    assert receiver.wait_for(lambda: len(receiver.spans()) == count)
    by_line = {int(span.name.split()[1]): span for span in receiver.spans()}
    return [
        (by_line[i].attributes["app.text"], by_line[i].events[0].attributes["app.text"])
        for i in range(count)
    ]


def _received_log_texts(receiver: OtlpReceiver, count: int) -> list[tuple[str, str]]:
    assert receiver.wait_for(lambda: len(receiver.log_records()) == count)
    by_line = {record.attributes["app.line"]: record for record in receiver.log_records()}
    return [(by_line[i].body, by_line[i].attributes["app.text"]) for i in range(count)]


def test_corpus_leaks_are_redacted_in_spans_and_span_events_over_otlp(
    otlp_receiver: OtlpReceiver,  # noqa: F811
) -> None:
    _export_corpus_as_spans(otlp_receiver, [leak.text for leak in LEAKS])

    expected = [(leak.expected, leak.expected) for leak in LEAKS]
    assert _received_span_texts(otlp_receiver, len(LEAKS)) == expected


def test_corpus_leaks_are_redacted_in_log_bodies_and_attributes_over_otlp(
    otlp_receiver: OtlpReceiver,  # noqa: F811
) -> None:
    _export_corpus_as_logs(otlp_receiver, [leak.text for leak in LEAKS])

    expected = [(leak.expected, leak.expected) for leak in LEAKS]
    assert _received_log_texts(otlp_receiver, len(LEAKS)) == expected


def test_corpus_near_misses_arrive_unchanged_in_spans_over_otlp_grpc(
    otlp_receiver: OtlpReceiver,  # noqa: F811
) -> None:
    _export_corpus_as_spans(otlp_receiver, NEAR_MISSES, grpc=True)

    expected = [(text, text) for text in NEAR_MISSES]
    assert _received_span_texts(otlp_receiver, len(NEAR_MISSES)) == expected


def test_corpus_near_misses_arrive_unchanged_in_log_records_over_otlp(
    otlp_receiver: OtlpReceiver,  # noqa: F811
) -> None:
    _export_corpus_as_logs(otlp_receiver, NEAR_MISSES)

    expected = [(text, text) for text in NEAR_MISSES]
    assert _received_log_texts(otlp_receiver, len(NEAR_MISSES)) == expected


def test_no_leaked_value_reaches_the_receiver_in_any_field(
    otlp_receiver: OtlpReceiver,  # noqa: F811
) -> None:
    texts = [leak.text for leak in LEAKS]
    _export_corpus_as_spans(otlp_receiver, texts)
    _export_corpus_as_logs(otlp_receiver, texts)
    assert otlp_receiver.wait_for(
        lambda: (
            len(otlp_receiver.spans()) == len(texts)
            and len(otlp_receiver.log_records()) == len(texts)
        )
    )

    wire = b"".join(
        request.SerializeToString()
        for request in otlp_receiver.requests(TRACES) + otlp_receiver.requests(LOGS)
    )
    leaked = [value for leak in LEAKS for value in leak.values if value.encode() in wire]
    assert leaked == []


def test_a_string_without_findings_comes_back_as_itself_also_from_the_memo():
    redactor = Redactor()
    first = "".join(["order ORD-17 ", "shipped today"])
    second = "".join(["order ORD-17 ", "shipped", " today"])  # equal, another object
    assert first == second and first is not second

    assert redactor.redact_text(first) is first
    # a span whose values were all seen before is not copied: nothing changed
    assert redactor.redact_text(second) is second
    values = ["x", second]
    assert redactor.redact(values) is values


def test_a_clean_sequence_seen_again_is_settled_without_a_copy() -> None:
    redactor = Redactor()
    attributes = {"gen_ai.response.finish_reasons": ("stop", "length"), "server.port": 443}

    assert redactor.redacted_attributes(attributes) is None
    # an equal tuple, another object: remembered by value, still nothing to copy
    assert redactor.redacted_attributes(
        {"gen_ai.response.finish_reasons": tuple(["stop", "length"]), "server.port": 443}
    ) is None


def test_a_remembered_sequence_under_a_secret_key_is_still_replaced() -> None:
    redactor = Redactor()
    assert redactor.redacted_attributes({"app.labels": ("a", "b")}) is None

    assert redactor.redacted_attributes({"app.api_key": ("a", "b")}) == {
        "app.api_key": (SECRET_FIELD_MARKER, SECRET_FIELD_MARKER)
    }


def test_sequences_with_findings_or_nested_values_are_redacted_every_time() -> None:
    redactor = Redactor()
    leaky = {"app.recipients": ("support", "jane.doe@example.com")}
    nested = {"app.parts": ({"mail": "jane.doe@example.com"}, ["x"])}

    for _ in range(2):
        assert redactor.redacted_attributes(leaky) == {
            "app.recipients": ("support", "[REDACTED:email]")
        }
        assert redactor.redacted_attributes(nested) == {
            "app.parts": ({"mail": "[REDACTED:email]"}, ["x"])
        }


def test_a_copy_keeps_the_values_before_the_first_finding_and_redacts_those_after() -> None:
    redactor = Redactor()
    attributes = {
        "gen_ai.request.model": "gpt-4o-mini",
        "app.note": "mail jane.doe@example.com",
        "app.other": "call +44 20 7946 0958 or mail joe@example.org",
        "server.port": 443,
    }

    redacted = redactor.redacted_attributes(attributes)

    assert redacted == redactor.redact_attributes(attributes)
    assert redacted is not None and list(redacted) == list(attributes)
    assert redacted["app.note"] == "mail [REDACTED:email]"
    assert "joe@example.org" not in redacted["app.other"]

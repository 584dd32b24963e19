"""Logs: structlog configuration, trace correlation, stdlib routing and the OTel log bridge.

Real parts throughout: structlog, the stdlib ``logging`` module, an SDK ``TracerProvider``
(never installed globally), an SDK ``LoggerProvider`` with an in-memory exporter, and a
pseudo-terminal for the terminal-detection tests.

Owner mode (no root handlers) is tested with pytest's capture handlers set aside while
``configure()`` runs; guest mode with an application handler and formatter on the root.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import logging
import logging.handlers
import os
import pickle
import queue
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import (
    OTLPLogExporter as GrpcOTLPLogExporter,
)
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import (
    LoggerProvider,
    LogRecordProcessor,
    ReadableLogRecord,
    ReadWriteLogRecord,
)
from opentelemetry.sdk._logs._internal import std_to_otel
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from otlp_receiver import (
    GRPC,
    HTTP,
    PROTOCOLS,
    OtlpReceiver,
)

import agentotel.logging as agentotel_logging

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICE = "checkout"
ANSI_ESCAPE = "\x1b["


# --------------------------------------------------------------------------- fixtures
@contextmanager
def bare_root() -> Iterator[None]:
    """The root logger as in a process that configured no logging.

    pytest's capture handlers (on the root during every test phase) are set aside for the
    duration and put back after; handlers agentotel installed stay.
    """
    root = logging.getLogger()
    set_aside = [h for h in root.handlers if type(h).__module__.startswith("_pytest")]
    for handler in set_aside:
        root.removeHandler(handler)
    try:
        yield
    finally:
        for handler in set_aside:
            root.addHandler(handler)


def configure_as_owner(**kwargs: Any) -> None:
    """``configure()`` in owner mode: called while the root logger has no handlers."""
    with bare_root():
        agentotel_logging.configure(**kwargs)


@pytest.fixture
def tracer() -> trace.Tracer:
    return TracerProvider().get_tracer("tests.logging")


@pytest.fixture
def log_exporter() -> InMemoryLogRecordExporter:
    return InMemoryLogRecordExporter()


@pytest.fixture
def logger_provider(log_exporter: InMemoryLogRecordExporter) -> Iterator[LoggerProvider]:
    provider = LoggerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    yield provider
    provider.shutdown()


@pytest.fixture
def stream() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def configured(
    logger_provider: LoggerProvider, stream: io.StringIO
) -> Iterator[None]:
    configure_as_owner(
        logger_provider=logger_provider, service_name=SERVICE, log_format="json",
        level=logging.DEBUG, stream=stream,
    )
    yield
    agentotel_logging.unconfigure()


@pytest.fixture(autouse=True)
def _clean_contextvars() -> Iterator[None]:
    structlog.contextvars.clear_contextvars()
    yield
    structlog.contextvars.clear_contextvars()
    agentotel_logging.unconfigure()


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def only_line(stream: io.StringIO) -> dict[str, Any]:
    lines = json_lines(stream)
    assert len(lines) == 1, lines
    return lines[0]


def exported(exporter: InMemoryLogRecordExporter) -> list[ReadableLogRecord]:
    return list(exporter.get_finished_logs())


def only_exported(exporter: InMemoryLogRecordExporter) -> ReadableLogRecord:
    records = exported(exporter)
    assert len(records) == 1, [r.log_record.body for r in records]
    return records[0]


def ids_of(span: trace.Span) -> tuple[str, str]:
    ctx = span.get_span_context()
    return trace.format_trace_id(ctx.trace_id), trace.format_span_id(ctx.span_id)


# --------------------------------------------------------------------------- trace correlation
@pytest.mark.usefixtures("configured")
def test_record_inside_span_carries_the_active_span_ids_as_hex(
    tracer: trace.Tracer, stream: io.StringIO
) -> None:
    with tracer.start_as_current_span("outer"), tracer.start_as_current_span("inner") as inner:
        agentotel_logging.get_logger().info("step done")
    trace_id, span_id = ids_of(inner)

    line = only_line(stream)

    assert (line["trace_id"], line["span_id"]) == (trace_id, span_id)
    assert len(line["trace_id"]) == 32 and len(line["span_id"]) == 16


@pytest.mark.usefixtures("configured")
def test_record_inside_span_activated_with_use_span_carries_its_ids(
    tracer: trace.Tracer, stream: io.StringIO
) -> None:
    span = tracer.start_span("background")
    with trace.use_span(span, end_on_exit=True):
        agentotel_logging.get_logger().info("resumed")

    assert (only_line(stream)["trace_id"], only_line(stream)["span_id"]) == ids_of(span)


@pytest.mark.usefixtures("configured")
def test_record_outside_any_span_has_no_trace_or_span_id(stream: io.StringIO) -> None:
    agentotel_logging.get_logger().info("idle")

    line = only_line(stream)

    assert "trace_id" not in line and "span_id" not in line


# --------------------------------------------------------------------------- renderers
@pytest.mark.usefixtures("configured")
def test_json_line_has_event_level_logger_timestamp_service_name_and_bound_values(
    stream: io.StringIO,
) -> None:
    agentotel_logging.get_logger(tenant="acme").warning("quota low", remaining=3)

    line = only_line(stream)

    assert set(line) == {
        "event", "level", "logger", "timestamp", "service.name", "tenant", "remaining",
    }
    assert (line["event"], line["level"], line["logger"]) == ("quota low", "warning", __name__)
    assert (line["service.name"], line["tenant"], line["remaining"]) == (SERVICE, "acme", 3)
    assert line["timestamp"].endswith("Z")


def test_console_line_contains_event_service_name_and_ids_without_colors_off_terminal(
    tracer: trace.Tracer, stream: io.StringIO
) -> None:
    configure_as_owner(
        logger_provider=None, service_name=SERVICE, log_format="console", stream=stream
    )
    with tracer.start_as_current_span("work") as span:
        agentotel_logging.get_logger().info("fetched page", url="https://example.com/")
    trace_id, span_id = ids_of(span)

    text = stream.getvalue()

    assert len(text.splitlines()) == 1
    assert "fetched page" in text
    assert f"trace_id={trace_id}" in text and f"span_id={span_id}" in text
    assert f"service.name={SERVICE}" in text and "url=https://example.com/" in text
    assert ANSI_ESCAPE not in text


def test_default_format_is_json_when_the_stream_is_not_a_terminal(
    stream: io.StringIO,
) -> None:
    configure_as_owner(logger_provider=None, service_name=SERVICE, stream=stream)

    agentotel_logging.get_logger().info("started")

    assert only_line(stream)["event"] == "started"


def _read_pty(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the terminal side is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def test_default_format_is_colored_console_when_the_stream_is_a_terminal() -> None:
    controller, terminal_fd = os.openpty()
    terminal = open(terminal_fd, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
    try:
        configure_as_owner(logger_provider=None, service_name=SERVICE, stream=terminal)
        agentotel_logging.get_logger().info("started")
        agentotel_logging.unconfigure()
    finally:
        terminal.close()
    text = _read_pty(controller)
    os.close(controller)

    assert "started" in text and ANSI_ESCAPE in text
    assert not text.lstrip().startswith("{")


# --------------------------------------------------------------------------- stdlib routing
@pytest.mark.usefixtures("configured")
def test_stdlib_record_goes_through_the_same_processors_and_renderer(
    tracer: trace.Tracer, stream: io.StringIO
) -> None:
    with tracer.start_as_current_span("io") as span:
        logging.getLogger("somelib.pool").warning(
            "disk %s at %d%%", "sda", 97, extra={"device": "sda"}
        )
    trace_id, span_id = ids_of(span)

    line = only_line(stream)

    assert line == {
        "event": "disk sda at 97%", "level": "warning", "logger": "somelib.pool",
        "device": "sda", "trace_id": trace_id, "span_id": span_id,
        "service.name": SERVICE, "timestamp": line["timestamp"],
    }


@pytest.mark.usefixtures("configured")
def test_stdlib_record_carries_structlog_contextvars(stream: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-7")

    logging.getLogger("somelib").info("cache miss")

    assert only_line(stream)["request_id"] == "req-7"


# --------------------------------------------------------------------------- context binding
@pytest.mark.usefixtures("configured")
def test_contextvars_binding_survives_await_inside_tasks_and_spans(
    tracer: trace.Tracer, stream: io.StringIO
) -> None:
    span_ids: dict[str, tuple[str, str]] = {}

    async def handle(request_id: str) -> None:
        structlog.contextvars.bind_contextvars(request_id=request_id)
        await asyncio.sleep(0)
        with tracer.start_as_current_span(f"handle {request_id}") as span:
            await asyncio.sleep(0)
            span_ids[request_id] = ids_of(span)
            agentotel_logging.get_logger().info("handled")

    async def main() -> None:
        await asyncio.gather(handle("r-1"), handle("r-2"))

    asyncio.run(main())

    handled = [line for line in json_lines(stream) if line["event"] == "handled"]
    found = {line["request_id"]: (line["trace_id"], line["span_id"]) for line in handled}
    assert found == span_ids
    assert len(found) == 2


@pytest.mark.usefixtures("configured")
def test_logger_obtained_before_configure_follows_the_configuration(
    stream: io.StringIO, logger_provider: LoggerProvider
) -> None:
    agentotel_logging.unconfigure()
    early = agentotel_logging.get_logger(component="early")
    configure_as_owner(
        logger_provider=logger_provider, service_name=SERVICE, log_format="json", stream=stream
    )

    early.info("after init")

    assert only_line(stream)["component"] == "early"


def test_records_below_the_configured_level_are_dropped_locally_and_in_otel(
    logger_provider: LoggerProvider, log_exporter: InMemoryLogRecordExporter,
    stream: io.StringIO,
) -> None:
    configure_as_owner(
        logger_provider=logger_provider, service_name=SERVICE, log_format="json",
        level=logging.WARNING, stream=stream,
    )
    log = agentotel_logging.get_logger()

    log.info("chatty")
    logging.getLogger("somelib").info("chatty too")
    log.warning("kept")

    assert [line["event"] for line in json_lines(stream)] == ["kept"]
    assert [r.log_record.body for r in exported(log_exporter)] == ["kept"]


# --------------------------------------------------------------------------- OTel bridge
@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(
    ("method", "number", "text"),
    [
        ("debug", SeverityNumber.DEBUG, "DEBUG"),
        ("info", SeverityNumber.INFO, "INFO"),
        ("warning", SeverityNumber.WARN, "WARN"),
        ("error", SeverityNumber.ERROR, "ERROR"),
        ("critical", SeverityNumber.FATAL, "FATAL"),
    ],
)
def test_bridged_record_has_severity_mapped_from_the_level(
    log_exporter: InMemoryLogRecordExporter, method: str, number: SeverityNumber, text: str
) -> None:
    getattr(agentotel_logging.get_logger(), method)("level check")

    record = only_exported(log_exporter).log_record

    assert (record.severity_number, record.severity_text) == (number, text)


@pytest.mark.usefixtures("configured")
def test_bridged_record_keeps_key_values_as_attributes_and_the_event_as_body(
    log_exporter: InMemoryLogRecordExporter,
) -> None:
    agentotel_logging.get_logger(tenant="acme").info(
        "order placed", order_id=42, total_usd=19.5, express=False,
        items=["book", "pen"], shipping={"country": "NL", "days": 2},
    )

    record = only_exported(log_exporter).log_record

    assert record.body == "order placed"
    assert dict(record.attributes or {}) == {
        "tenant": "acme", "order_id": 42, "total_usd": 19.5, "express": False,
        "items": ("book", "pen"), "shipping": {"country": "NL", "days": 2},
    }


@pytest.mark.usefixtures("configured")
def test_bridged_record_carries_the_trace_context_of_the_active_span(
    tracer: trace.Tracer, log_exporter: InMemoryLogRecordExporter
) -> None:
    with tracer.start_as_current_span("step") as span:
        agentotel_logging.get_logger().info("inside")
    ctx = span.get_span_context()

    record = only_exported(log_exporter).log_record

    assert (record.trace_id, record.span_id) == (ctx.trace_id, ctx.span_id)
    assert record.trace_flags == ctx.trace_flags


@pytest.mark.usefixtures("configured")
def test_bridged_record_uses_the_stdlib_logger_name_as_instrumentation_scope(
    log_exporter: InMemoryLogRecordExporter,
) -> None:
    logging.getLogger("somelib.pool").error("pool exhausted", extra={"size": 10})

    exported_record = only_exported(log_exporter)

    assert exported_record.instrumentation_scope is not None
    assert exported_record.instrumentation_scope.name == "somelib.pool"
    assert exported_record.log_record.body == "pool exhausted"
    assert dict(exported_record.log_record.attributes or {}) == {"size": 10}
    assert exported_record.log_record.severity_text == "ERROR"


class PaymentDeclinedError(Exception):
    pass


@pytest.mark.usefixtures("configured")
def test_logged_exception_is_bridged_as_exception_type_and_stacktrace(
    log_exporter: InMemoryLogRecordExporter, stream: io.StringIO
) -> None:
    try:
        raise PaymentDeclinedError("card expired")
    except PaymentDeclinedError:
        agentotel_logging.get_logger().exception("charge failed")

    attributes = dict(only_exported(log_exporter).log_record.attributes or {})

    assert set(attributes) == {"exception.type", "exception.stacktrace"}
    assert attributes["exception.type"] == f"{__name__}.PaymentDeclinedError"
    assert str(attributes["exception.stacktrace"]).endswith(
        f"{__name__}.PaymentDeclinedError: card expired"
    )
    assert only_line(stream)["exception"] == attributes["exception.stacktrace"]


def test_json_line_of_a_logged_exception_has_the_traceback_under_exception(
    stream: io.StringIO,
) -> None:
    configure_as_owner(
        logger_provider=None, service_name=SERVICE, log_format="json", stream=stream
    )
    try:
        raise PaymentDeclinedError("card expired")
    except PaymentDeclinedError:
        agentotel_logging.get_logger().exception("charge failed")

    line = only_line(stream)

    assert set(line) == {"event", "level", "logger", "timestamp", "service.name", "exception"}
    assert line["level"] == "error"
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert line["exception"].endswith(f"{__name__}.PaymentDeclinedError: card expired")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "text"),
        (True, True),
        (7, 7),
        (2**70, str(2**70)),
        (1.5, 1.5),
        (b"\x00\x01", b"\x00\x01"),
        (None, None),
        (("a", 1), ["a", 1]),
        ({"k": {1: Path("x")}}, {"k": {"1": "x"}}),
        (Path("/srv/data"), "/srv/data"),
    ],
)
def test_values_are_converted_to_otlp_any_values(value: Any, expected: Any) -> None:
    assert agentotel_logging.otlp_value(value) == expected


def test_severity_number_mapping_matches_the_sdk_logging_handler() -> None:
    levels = range(0, 61)

    assert [agentotel_logging.severity_number(n) for n in levels] == [
        std_to_otel(n) for n in levels
    ]


# --------------------------------------------------------------------------- redaction hook
def _redact_password(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("hunter2", "[REDACTED:password]")
    if isinstance(value, dict):
        return {k: _redact_password(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_password(v) for v in value]
    return value


def test_redact_applies_to_rendered_line_and_bridged_record(
    logger_provider: LoggerProvider, log_exporter: InMemoryLogRecordExporter,
    stream: io.StringIO,
) -> None:
    configure_as_owner(
        logger_provider=logger_provider, service_name=SERVICE, log_format="json",
        redact=_redact_password, stream=stream,
    )

    agentotel_logging.get_logger().info("login with hunter2", form={"pw": "hunter2"})
    logging.getLogger("somelib").info("retry with %s", "hunter2")

    lines = json_lines(stream)
    records = [r.log_record for r in exported(log_exporter)]
    assert [line["event"] for line in lines] == [
        "login with [REDACTED:password]", "retry with [REDACTED:password]",
    ]
    assert lines[0]["form"] == {"pw": "[REDACTED:password]"}
    assert [r.body for r in records] == [line["event"] for line in lines]
    assert dict(records[0].attributes or {}) == {"form": {"pw": "[REDACTED:password]"}}
    assert "hunter2" not in stream.getvalue()


def test_redact_applies_to_exception_tracebacks(
    stream: io.StringIO,
) -> None:
    configure_as_owner(
        logger_provider=None, service_name=SERVICE, log_format="json",
        redact=_redact_password, stream=stream,
    )
    try:
        raise ValueError("bad password hunter2")
    except ValueError:
        logging.getLogger("somelib").exception("auth error")

    assert only_line(stream)["exception"].endswith("ValueError: bad password [REDACTED:password]")


def test_redact_never_sees_ids_timestamp_level_logger_or_service_name(
    tracer: trace.Tracer, stream: io.StringIO
) -> None:
    seen: list[set[str]] = []

    def redact_everything(value: Any) -> Any:
        seen.append(set(value))
        return {k: "[REDACTED:all]" for k in value}

    configure_as_owner(
        logger_provider=None, service_name=SERVICE, log_format="json",
        redact=redact_everything, stream=stream,
    )
    with tracer.start_as_current_span("s") as span:
        agentotel_logging.get_logger().info("secret", note="x")
    trace_id, span_id = ids_of(span)

    line = only_line(stream)
    assert seen == [{"event", "note"}]
    assert (line["event"], line["note"]) == ("[REDACTED:all]", "[REDACTED:all]")
    assert (line["trace_id"], line["span_id"], line["service.name"]) == (
        trace_id, span_id, SERVICE,
    )


def test_failing_redaction_drops_the_payload_instead_of_leaking_it(
    logger_provider: LoggerProvider, log_exporter: InMemoryLogRecordExporter,
    stream: io.StringIO,
) -> None:
    def broken(value: Any) -> Any:
        raise RuntimeError("detector crashed")

    configure_as_owner(
        logger_provider=logger_provider, service_name=SERVICE, log_format="json",
        redact=broken, stream=stream,
    )

    agentotel_logging.get_logger().info("token sk-live-123", api_key="sk-live-123")

    line = only_line(stream)
    assert line["event"] == "[REDACTED:redaction-failed]" and "api_key" not in line
    record = only_exported(log_exporter).log_record
    assert record.body == "[REDACTED:redaction-failed]" and not record.attributes


# --------------------------------------------------------------------------- no recursion
class ComplainingExporter(LogRecordExporter):
    """Stores what it exports and, like a failing network exporter, logs about it:
    once on an ``opentelemetry.*`` logger and once on a third-party transport logger."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        self.bodies.extend(r.log_record.body for r in batch)
        logging.getLogger("opentelemetry.exporter.complaining").error(
            "export failed for %d records", len(batch)
        )
        logging.getLogger("transportlib").warning("connection reset by peer")
        return LogRecordExportResult.FAILURE

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


@pytest.mark.timeout(60)  # a feedback loop would make force_flush spin forever
@pytest.mark.parametrize("processor_class", [SimpleLogRecordProcessor, BatchLogRecordProcessor])
def test_exporter_failure_logs_are_rendered_but_never_exported(
    processor_class: type[SimpleLogRecordProcessor] | type[BatchLogRecordProcessor],
    stream: io.StringIO,
) -> None:
    exporter = ComplainingExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(processor_class(exporter))
    configure_as_owner(
        logger_provider=provider, service_name=SERVICE, log_format="json", stream=stream
    )
    try:
        agentotel_logging.get_logger().info("user action")
        provider.force_flush()
        provider.force_flush()  # would export any exporter log fed back by the first flush
    finally:
        agentotel_logging.unconfigure()
        provider.shutdown()

    assert exporter.bodies == ["user action"]
    # a synchronous export runs before the record that triggered it is written
    assert sorted(line["event"] for line in json_lines(stream)) == [
        "connection reset by peer", "export failed for 1 records", "user action",
    ]


class ChattyProcessor(LogRecordProcessor):
    """A third-party processor that logs on every record without suppressing
    instrumentation (the SDK's own processors do suppress it around exports)."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        self.bodies.append(log_record.log_record.body)
        logging.getLogger("auditlib").warning("processor saw a record")

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


@pytest.mark.timeout(60)
def test_records_logged_while_emitting_are_rendered_but_not_emitted_again(
    stream: io.StringIO,
) -> None:
    processor = ChattyProcessor()
    provider = LoggerProvider()
    provider.add_log_record_processor(processor)
    configure_as_owner(
        logger_provider=provider, service_name=SERVICE, log_format="json", stream=stream
    )

    agentotel_logging.get_logger().info("user action")

    assert processor.bodies == ["user action"]
    assert sorted(line["event"] for line in json_lines(stream)) == [
        "processor saw a record", "user action",
    ]


@pytest.mark.usefixtures("configured")
def test_opentelemetry_sdk_records_are_rendered_but_not_exported(
    log_exporter: InMemoryLogRecordExporter, stream: io.StringIO
) -> None:
    logging.getLogger("opentelemetry.sdk._shared_internal").warning("Queue full, dropping logs.")

    assert only_line(stream)["event"] == "Queue full, dropping logs."
    assert exported(log_exporter) == []


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CountingOTLPLogExporter(OTLPLogExporter):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.records_attempted = 0

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        self.records_attempted += len(batch)
        return super().export(batch)


def test_otlp_exporter_failing_against_a_closed_port_does_not_feed_back(
    stream: io.StringIO,
) -> None:
    exporter = CountingOTLPLogExporter(
        endpoint=f"http://127.0.0.1:{_closed_port()}/v1/logs", timeout=0.5
    )
    provider = LoggerProvider()
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
    configure_as_owner(
        logger_provider=provider, service_name=SERVICE, log_format="json", stream=stream
    )
    try:
        agentotel_logging.get_logger().info("user action")
        provider.force_flush()
        provider.force_flush()
    finally:
        agentotel_logging.unconfigure()
        provider.shutdown()

    lines = json_lines(stream)
    assert exporter.records_attempted == 1
    assert lines[0]["event"] == "user action"
    assert any(line["logger"].startswith("opentelemetry.exporter") for line in lines[1:])


# --------------------------------------------------------------------------- over the wire
def _otlp_log_exporter(receiver: OtlpReceiver, protocol: str) -> LogRecordExporter:
    if protocol == GRPC:
        return GrpcOTLPLogExporter(endpoint=receiver.grpc_endpoint, insecure=True, timeout=5)
    assert protocol == HTTP
    return OTLPLogExporter(endpoint=f"{receiver.http_endpoint}/v1/logs", timeout=5)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_log_records_arrive_over_otlp_with_severity_attributes_and_trace_context(
    otlp_receiver: OtlpReceiver, protocol: str, tracer: trace.Tracer,  # noqa: F811
    stream: io.StringIO,
) -> None:
    provider = LoggerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_log_record_processor(
        BatchLogRecordProcessor(_otlp_log_exporter(otlp_receiver, protocol))
    )
    configure_as_owner(
        logger_provider=provider, service_name=SERVICE, log_format="json", stream=stream
    )
    try:
        with tracer.start_as_current_span("checkout") as span:
            agentotel_logging.get_logger(tenant="acme").warning(
                "card retry", attempt=2, amount_usd=12.5, tags=["eu", "vip"]
            )
            logging.getLogger("payments.gateway").error("gateway timeout", extra={"psp": "x"})
        agentotel_logging.get_logger().info("after the span")
        assert provider.force_flush()
    finally:
        agentotel_logging.unconfigure()
        provider.shutdown()
    trace_id, span_id = ids_of(span)

    assert otlp_receiver.wait_for(lambda: len(otlp_receiver.log_records()) >= 3)
    by_body = {r.body: r for r in otlp_receiver.log_records()}
    assert sorted(by_body) == ["after the span", "card retry", "gateway timeout"]
    retry, timeout, after = (
        by_body["card retry"], by_body["gateway timeout"], by_body["after the span"],
    )
    assert (retry.severity_number, retry.severity_text) == (13, "WARN")
    assert retry.attributes == {
        "tenant": "acme", "attempt": 2, "amount_usd": 12.5, "tags": ("eu", "vip"),
    }
    assert (retry.trace_id, retry.span_id) == (trace_id, span_id)
    assert (retry.scope_name, retry.resource["service.name"]) == (__name__, SERVICE)
    assert (timeout.severity_number, timeout.severity_text) == (17, "ERROR")
    assert timeout.attributes == {"psp": "x"}
    assert (timeout.trace_id, timeout.span_id, timeout.scope_name) == (
        trace_id, span_id, "payments.gateway",
    )
    assert (after.severity_number, after.trace_id, after.span_id) == (9, "", "")
    assert {r.transport for r in otlp_receiver.log_records()} == {protocol}


# --------------------------------------------------------------------------- install / undo
def _logging_state() -> tuple[list[logging.Handler], int, bool, dict[str, Any]]:
    root = logging.getLogger()
    return list(root.handlers), root.level, structlog.is_configured(), structlog.get_config()


def test_unconfigure_restores_root_logger_and_structlog_configuration(
    logger_provider: LoggerProvider, stream: io.StringIO
) -> None:
    before = _logging_state()

    configure_as_owner(
        logger_provider=logger_provider, service_name=SERVICE, level=logging.DEBUG,
        stream=stream,
    )
    during = _logging_state()
    agentotel_logging.unconfigure()

    assert during != before
    assert _logging_state() == before


def test_unconfigure_restores_a_structlog_configuration_made_by_the_application(
    stream: io.StringIO,
) -> None:
    own_processors = [structlog.processors.KeyValueRenderer()]
    structlog.configure(processors=own_processors)
    try:
        configure_as_owner(logger_provider=None, service_name=SERVICE, stream=stream)
        agentotel_logging.unconfigure()

        assert structlog.is_configured()
        assert structlog.get_config()["processors"] is own_processors
    finally:
        structlog.reset_defaults()


def test_configuring_twice_installs_a_single_handler(
    logger_provider: LoggerProvider, log_exporter: InMemoryLogRecordExporter,
    stream: io.StringIO,
) -> None:
    handlers_before = len(logging.getLogger().handlers)
    for _ in range(2):
        configure_as_owner(
            logger_provider=logger_provider, service_name=SERVICE, log_format="json",
            stream=stream,
        )

    logging.getLogger("somelib").warning("once")

    assert len(logging.getLogger().handlers) == handlers_before + 1
    assert [line["event"] for line in json_lines(stream)] == ["once"]
    assert [r.log_record.body for r in exported(log_exporter)] == ["once"]


def test_importing_the_module_changes_no_logging_configuration() -> None:
    probe = (
        "import logging, structlog\n"
        "before = (list(logging.getLogger().handlers), logging.getLogger().level,"
        " structlog.is_configured())\n"
        "import agentotel.logging\n"
        "after = (list(logging.getLogger().handlers), logging.getLogger().level,"
        " structlog.is_configured())\n"
        "print(before == after, agentotel.logging.logging is logging)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=60, check=True,
    )

    assert result.stdout.split() == ["True", "True"]


def test_owner_mode_leaves_the_record_factory_alone(stream: io.StringIO) -> None:
    factory = logging.getLogRecordFactory()

    configure_as_owner(logger_provider=None, service_name=SERVICE, stream=stream)

    assert logging.getLogRecordFactory() is factory


# --------------------------------------------------------------------------- guest mode
APP_FORMAT = "%(levelname)s %(name)s %(message)s trace_id=%(trace_id)s span_id=%(span_id)s"


class AppLogging:
    """The application's own logging: a root handler with its formatter, root at INFO."""

    def __init__(self, fmt: str = APP_FORMAT) -> None:
        self.stream = io.StringIO()
        self.formatter = logging.Formatter(fmt)
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(self.formatter)

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()


@pytest.fixture
def app_logging() -> Iterator[AppLogging]:
    root = logging.getLogger()
    app = AppLogging()
    previous_level = root.level
    root.addHandler(app.handler)
    root.setLevel(logging.INFO)
    yield app
    agentotel_logging.unconfigure()
    root.removeHandler(app.handler)
    root.setLevel(previous_level)


def configure_as_guest(logger_provider: LoggerProvider | None, **kwargs: Any) -> None:
    """``configure()`` with the application's handler already on the root logger."""
    assert any(isinstance(h, logging.StreamHandler) for h in logging.getLogger().handlers)
    agentotel_logging.configure(logger_provider=logger_provider, service_name=SERVICE, **kwargs)


@pytest.fixture
def guest(app_logging: AppLogging, logger_provider: LoggerProvider) -> AppLogging:
    configure_as_guest(logger_provider)
    return app_logging


def test_guest_mode_keeps_the_application_handler_formatter_and_root_level(
    app_logging: AppLogging, logger_provider: LoggerProvider
) -> None:
    root = logging.getLogger()
    handlers_before = list(root.handlers)

    configure_as_guest(logger_provider, level=logging.DEBUG, log_format="json")

    added = [h for h in root.handlers if h not in handlers_before]
    assert [h for h in root.handlers if h in handlers_before] == handlers_before
    assert len(added) == 1 and not isinstance(added[0], logging.StreamHandler)
    assert app_logging.handler.formatter is app_logging.formatter
    assert (root.level, app_logging.handler.level) == (logging.INFO, logging.NOTSET)


def test_guest_record_created_inside_a_span_carries_its_ids_as_hex(
    guest: AppLogging, tracer: trace.Tracer, caplog: pytest.LogCaptureFixture
) -> None:
    with tracer.start_as_current_span("outer"), tracer.start_as_current_span("inner") as span:
        logging.getLogger("app").info("step done")
    trace_id, span_id = ids_of(span)

    fields = vars(caplog.records[-1])

    assert (fields["trace_id"], fields["span_id"]) == (trace_id, span_id)
    assert len(fields["trace_id"]) == 32 and len(fields["span_id"]) == 16
    assert guest.lines() == [f"INFO app step done trace_id={trace_id} span_id={span_id}"]


def test_guest_format_naming_the_ids_renders_them_empty_outside_a_span(
    guest: AppLogging,
) -> None:
    logging.getLogger("app").info("idle")
    record = logging.getLogger("app").makeRecord("app", logging.INFO, "app.py", 1, "x", (), None)

    assert guest.lines() == ["INFO app idle trace_id= span_id="]
    assert guest.formatter.format(record) == "INFO app x trace_id= span_id="


def test_guest_record_formatted_on_a_queue_listener_thread_has_the_ids_of_its_span(
    logger_provider: LoggerProvider, tracer: trace.Tracer
) -> None:
    root = logging.getLogger()
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    queue_handler = logging.handlers.QueueHandler(records)
    app = AppLogging()
    listener = logging.handlers.QueueListener(records, app.handler)
    previous_level = root.level
    root.addHandler(queue_handler)
    root.setLevel(logging.INFO)
    listener.start()
    try:
        configure_as_guest(logger_provider)
        with tracer.start_as_current_span("work") as span:
            logging.getLogger("app").info("queued")
    finally:
        listener.stop()  # drains the queue on the listener's thread
        agentotel_logging.unconfigure()
        root.removeHandler(queue_handler)
        root.setLevel(previous_level)
    trace_id, span_id = ids_of(span)

    assert app.lines() == [f"INFO app queued trace_id={trace_id} span_id={span_id}"]


def test_guest_stdlib_line_is_printed_once_and_exported_once(
    guest: AppLogging, log_exporter: InMemoryLogRecordExporter
) -> None:
    logging.getLogger("app.pool").warning("pool low: %d left", 3)

    assert guest.lines() == ["WARNING app.pool pool low: 3 left trace_id= span_id="]
    assert [r.log_record.body for r in exported(log_exporter)] == ["pool low: 3 left"]


def test_guest_agentotel_logger_event_is_printed_once_in_the_application_format(
    guest: AppLogging,
) -> None:
    agentotel_logging.get_logger(tenant="acme").info("order placed", order_id=42, note="a b")

    assert guest.lines() == [
        f'INFO {__name__} order placed tenant=acme order_id=42 note="a b" trace_id= span_id=',
    ]


def test_guest_agentotel_logger_event_is_exported_with_event_body_and_key_values(
    guest: AppLogging, log_exporter: InMemoryLogRecordExporter
) -> None:
    agentotel_logging.get_logger(tenant="acme").info("order placed", order_id=42)

    exported_record = only_exported(log_exporter)

    assert exported_record.log_record.body == "order placed"
    assert dict(exported_record.log_record.attributes or {}) == {
        "tenant": "acme", "order_id": 42,
    }
    assert exported_record.instrumentation_scope is not None
    assert exported_record.instrumentation_scope.name == __name__


def test_guest_export_has_the_ids_as_trace_context_not_as_attributes(
    guest: AppLogging, tracer: trace.Tracer, log_exporter: InMemoryLogRecordExporter
) -> None:
    with tracer.start_as_current_span("step") as span:
        logging.getLogger("app").info("inside", extra={"device": "sda"})
        agentotel_logging.get_logger().info("structured", device="sdb")
    ctx = span.get_span_context()

    records = [r.log_record for r in exported(log_exporter)]

    assert [(r.trace_id, r.span_id) for r in records] == [(ctx.trace_id, ctx.span_id)] * 2
    assert [dict(r.attributes or {}) for r in records] == [{"device": "sda"}, {"device": "sdb"}]


def test_guest_agentotel_logger_exception_is_printed_by_the_application_and_exported(
    guest: AppLogging, log_exporter: InMemoryLogRecordExporter
) -> None:
    try:
        raise PaymentDeclinedError("card expired")
    except PaymentDeclinedError:
        agentotel_logging.get_logger().exception("charge failed")

    text = guest.stream.getvalue()
    attributes = dict(only_exported(log_exporter).log_record.attributes or {})
    assert text.startswith(f"ERROR {__name__} charge failed trace_id= span_id=\nTraceback")
    assert text.count("PaymentDeclinedError: card expired") == 1
    assert attributes["exception.type"] == f"{__name__}.PaymentDeclinedError"
    assert str(attributes["exception.stacktrace"]).endswith("PaymentDeclinedError: card expired")


def test_guest_redaction_applies_to_the_export_not_to_the_application_line(
    app_logging: AppLogging, logger_provider: LoggerProvider,
    log_exporter: InMemoryLogRecordExporter,
) -> None:
    configure_as_guest(logger_provider, redact=_redact_password)

    logging.getLogger("app").info("retry with %s", "hunter2")

    assert app_logging.lines() == ["INFO app retry with hunter2 trace_id= span_id="]
    assert only_exported(log_exporter).log_record.body == "retry with [REDACTED:password]"


def test_guest_redaction_applies_to_agentotel_logger_messages(
    app_logging: AppLogging, logger_provider: LoggerProvider,
) -> None:
    configure_as_guest(logger_provider, redact=_redact_password)

    agentotel_logging.get_logger().info("login with hunter2", form={"pw": "hunter2"})

    assert "hunter2" not in app_logging.stream.getvalue()
    assert app_logging.lines()[0].startswith(f"INFO {__name__} login with [REDACTED:password]")


def test_guest_level_sets_the_least_severe_exported_level_only(
    app_logging: AppLogging, logger_provider: LoggerProvider,
    log_exporter: InMemoryLogRecordExporter,
) -> None:
    configure_as_guest(logger_provider, level=logging.WARNING)

    logging.getLogger("app").info("chatty")
    logging.getLogger("app").warning("kept")

    assert [line.split()[2] for line in app_logging.lines()] == ["chatty", "kept"]
    assert [r.log_record.body for r in exported(log_exporter)] == ["kept"]


def test_guest_opentelemetry_sdk_records_are_printed_but_not_exported(
    guest: AppLogging, log_exporter: InMemoryLogRecordExporter
) -> None:
    logging.getLogger("opentelemetry.sdk._shared_internal").warning("Queue full")

    assert guest.lines() == ["WARNING opentelemetry.sdk._shared_internal Queue full "
                             "trace_id= span_id="]
    assert exported(log_exporter) == []


def test_guest_without_a_logger_provider_adds_no_handler(app_logging: AppLogging) -> None:
    handlers_before = list(logging.getLogger().handlers)

    configure_as_guest(None)
    logging.getLogger("app").info("local only")

    assert logging.getLogger().handlers == handlers_before
    assert app_logging.lines() == ["INFO app local only trace_id= span_id="]


def _guest_state() -> tuple[Any, ...]:
    root = logging.getLogger()
    return (
        list(root.handlers), root.level, logging.getLogRecordFactory(),
        logging.getLoggerClass(), structlog.is_configured(), structlog.get_config(),
    )


def test_guest_unconfigure_restores_the_record_factory_and_removes_only_what_it_added(
    app_logging: AppLogging, logger_provider: LoggerProvider
) -> None:
    before = _guest_state()

    configure_as_guest(logger_provider)
    during = _guest_state()
    agentotel_logging.unconfigure()

    assert during[2] is not before[2] and during[4] and not before[4]
    assert _guest_state() == before
    assert app_logging.handler in logging.getLogger().handlers


def test_guest_unconfigure_puts_back_the_stock_logger_class(
    app_logging: AppLogging, logger_provider: LoggerProvider
) -> None:
    previous = logging.getLoggerClass()
    logging.setLoggerClass(logging.Logger)
    try:
        configure_as_guest(logger_provider)
        during = logging.getLoggerClass()
        agentotel_logging.unconfigure()
        after = logging.getLoggerClass()
    finally:
        logging.setLoggerClass(previous)

    assert during is not logging.Logger and issubclass(during, logging.Logger)
    assert after is logging.Logger


def test_guest_keeps_a_logger_class_chosen_by_the_application(
    app_logging: AppLogging, logger_provider: LoggerProvider
) -> None:
    class ApplicationLogger(logging.Logger):
        pass

    previous = logging.getLoggerClass()
    logging.setLoggerClass(ApplicationLogger)
    try:
        configure_as_guest(logger_provider)
        during = logging.getLoggerClass()
    finally:
        agentotel_logging.unconfigure()
        logging.setLoggerClass(previous)

    assert during is ApplicationLogger


def test_guest_unconfigure_keeps_a_record_factory_installed_after_it(
    guest: AppLogging,
) -> None:
    agentotel_factory = logging.getLogRecordFactory()

    def application_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = agentotel_factory(*args, **kwargs)
        record.__dict__["tenant"] = "acme"
        return record

    logging.setLogRecordFactory(application_factory)
    try:
        agentotel_logging.unconfigure()
        record = logging.getLogger("app").makeRecord("app", logging.INFO, "a.py", 1, "m", (), None)
        current = logging.getLogRecordFactory()
    finally:
        logging.setLogRecordFactory(logging.LogRecord)

    assert current is application_factory
    assert vars(record)["tenant"] == "acme" and "trace_id" not in vars(record)


def test_guest_configuring_twice_wraps_the_factory_and_adds_the_bridge_once(
    app_logging: AppLogging, logger_provider: LoggerProvider,
    log_exporter: InMemoryLogRecordExporter,
) -> None:
    factory = logging.getLogRecordFactory()
    handlers_before = len(logging.getLogger().handlers)

    configure_as_guest(logger_provider)
    configure_as_guest(logger_provider)
    logging.getLogger("app").info("once")

    assert getattr(logging.getLogRecordFactory(), "wrapped", None) is factory
    assert len(logging.getLogger().handlers) == handlers_before + 1
    assert app_logging.lines() == ["INFO app once trace_id= span_id="]
    assert [r.log_record.body for r in exported(log_exporter)] == ["once"]


def test_guest_leaves_a_structlog_configured_by_the_application_alone(
    app_logging: AppLogging, logger_provider: LoggerProvider
) -> None:
    own_processors = [structlog.processors.KeyValueRenderer()]
    structlog.configure(processors=own_processors)
    try:
        configure_as_guest(logger_provider)
        during = structlog.get_config()["processors"]
        agentotel_logging.unconfigure()

        assert during is own_processors
        assert structlog.get_config()["processors"] is own_processors
    finally:
        structlog.reset_defaults()


def test_guest_exports_events_of_the_applications_structlog_processor_formatter(
    logger_provider: LoggerProvider, log_exporter: InMemoryLogRecordExporter
) -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processor=structlog.processors.KeyValueRenderer(key_order=["event"])
    ))
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    structlog.configure(
        processors=[structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    try:
        configure_as_guest(logger_provider)
        structlog.get_logger("app").info("order placed", order_id=42)
    finally:
        agentotel_logging.unconfigure()
        structlog.reset_defaults()
        root.removeHandler(handler)
        root.setLevel(previous_level)

    record = only_exported(log_exporter).log_record
    assert stream.getvalue().splitlines() == ["event='order placed' order_id=42"]
    assert (record.body, dict(record.attributes or {})) == ("order placed", {"order_id": 42})


def test_structured_message_is_copied_and_pickled_as_its_text() -> None:
    message = agentotel_logging.StructuredMessage("done n=1", {"event": "done", "n": 1})

    restored = pickle.loads(pickle.dumps(message))

    assert (restored, type(restored)) == ("done n=1", str)
    assert copy.deepcopy(message) == "done n=1"

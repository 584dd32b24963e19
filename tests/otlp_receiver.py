"""An in-process OTLP receiver for tests: HTTP/protobuf and gRPC on free loopback ports.

The receiver plays the part of an OpenTelemetry Collector's ``otlp`` receiver:

- HTTP: ``POST /v1/traces``, ``/v1/metrics``, ``/v1/logs`` with
  ``Content-Type: application/x-protobuf`` (``Content-Encoding: gzip`` or ``deflate``
  accepted), answered with the matching ``Export*ServiceResponse`` (OTLP/HTTP spec,
  https://opentelemetry.io/docs/specs/otlp/#otlphttp).
- gRPC: the ``TraceService``, ``MetricsService`` and ``LogsService`` ``Export`` methods
  (https://opentelemetry.io/docs/specs/otlp/#otlpgrpc).

Every decoded ``Export*ServiceRequest`` is stored with the transport it came over.
Accessor methods flatten them into plain records (:class:`SpanRecord`, :class:`MetricPoint`,
:class:`LogRecord`) so that tests compare python values, not protobuf messages.

For failure tests a receiver can be bound to given ports (to come back where it was after
:meth:`OtlpReceiver.stop`, which also cuts the exporters' open keep-alive connections),
answer with an error status (:attr:`OtlpReceiver.fail_with`: an HTTP status, or its gRPC
counterpart) and hold requests unanswered (:meth:`OtlpReceiver.hold`).

The ``otlp_receiver`` fixture is registered for every test module by ``conftest.py``
(``pytest_plugins``).
"""

from __future__ import annotations

import contextlib
import gzip
import os
import socket
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1 import trace_pb2

HTTP = "http/protobuf"
GRPC = "grpc"
PROTOCOLS = (HTTP, GRPC)

TRACES = "traces"
METRICS = "metrics"
LOGS = "logs"

_T = TypeVar("_T")


# --------------------------------------------------------------------------- value decoding
def any_value(value: AnyValue) -> Any:
    """Turn an OTLP ``AnyValue`` into the python value it carries.

    Arrays become tuples (hashable, like SDK attribute sequences), key-value lists become
    dicts, an empty ``AnyValue`` becomes ``None``.
    """
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return tuple(any_value(item) for item in value.array_value.values)
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, kind)


def attributes(key_values: Sequence[KeyValue]) -> dict[str, Any]:
    """Turn a repeated OTLP ``KeyValue`` field into a dict."""
    return {kv.key: any_value(kv.value) for kv in key_values}


def _span_kind(kind: int) -> str:
    # SPAN_KIND_CLIENT -> "CLIENT"
    return trace_pb2.Span.SpanKind.Name(kind).removeprefix("SPAN_KIND_")  # type: ignore[arg-type]


def _status_code(code: int) -> str:
    # STATUS_CODE_ERROR -> "ERROR"
    return trace_pb2.Status.StatusCode.Name(code).removeprefix("STATUS_CODE_")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- flat records
@dataclass(frozen=True)
class SpanEvent:
    """One span event: its name and attributes."""

    name: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class SpanRecord:
    """One decoded span, flattened with its resource and instrumentation scope.

    ``kind`` is ``INTERNAL``/``SERVER``/``CLIENT``/``PRODUCER``/``CONSUMER``;
    ``status_code`` is ``UNSET``/``OK``/``ERROR``; ids are lowercase hex,
    ``parent_span_id`` is ``""`` for a root span.
    """

    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    status_code: str
    status_message: str
    events: tuple[SpanEvent, ...]
    start_time_unix_nano: int
    end_time_unix_nano: int
    resource: dict[str, Any]
    scope_name: str
    transport: str

    @property
    def is_root(self) -> bool:
        return not self.parent_span_id


@dataclass(frozen=True)
class MetricPoint:
    """One data point of one metric, flattened with its metric's metadata.

    ``data_type`` is the OTLP oneof name: ``sum``, ``gauge``, ``histogram``,
    ``exponential_histogram`` or ``summary``. ``value`` is set for sums and gauges;
    ``count``, ``sum`` and ``explicit_bounds``/``bucket_counts`` for histograms.
    ``is_monotonic`` is only meaningful for sums.
    """

    name: str
    unit: str
    description: str
    data_type: str
    attributes: dict[str, Any]
    value: float | None
    count: int | None
    sum: float | None
    explicit_bounds: tuple[float, ...]
    bucket_counts: tuple[int, ...]
    is_monotonic: bool | None
    resource: dict[str, Any]
    scope_name: str
    transport: str


@dataclass(frozen=True)
class LogRecord:
    """One decoded log record with its resource; ids are lowercase hex (``""`` if unset)."""

    body: Any
    severity_text: str
    severity_number: int
    attributes: dict[str, Any]
    trace_id: str
    span_id: str
    event_name: str
    resource: dict[str, Any]
    scope_name: str
    transport: str


@dataclass(frozen=True)
class _Received:
    signal: str
    transport: str
    request: Message


# --------------------------------------------------------------------------- flattening
def _spans_of(received: _Received) -> Iterator[SpanRecord]:
    request: trace_service_pb2.ExportTraceServiceRequest = received.request  # type: ignore[assignment]
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield SpanRecord(
                    name=span.name,
                    kind=_span_kind(span.kind),
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex(),
                    attributes=attributes(span.attributes),
                    status_code=_status_code(span.status.code),
                    status_message=span.status.message,
                    events=tuple(
                        SpanEvent(event.name, attributes(event.attributes))
                        for event in span.events
                    ),
                    start_time_unix_nano=span.start_time_unix_nano,
                    end_time_unix_nano=span.end_time_unix_nano,
                    resource=resource,
                    scope_name=scope_spans.scope.name,
                    transport=received.transport,
                )


def _number(point: Any) -> float | None:
    kind = point.WhichOneof("value")
    return None if kind is None else float(getattr(point, kind))


def _metric_points(metric: Any, resource: dict[str, Any], scope: str, transport: str
                   ) -> Iterator[MetricPoint]:
    data_type = metric.WhichOneof("data")
    if data_type is None:
        return
    data = getattr(metric, data_type)
    is_monotonic = data.is_monotonic if data_type == "sum" else None
    for point in data.data_points:
        histogram = data_type in ("histogram", "exponential_histogram", "summary")
        yield MetricPoint(
            name=metric.name,
            unit=metric.unit,
            description=metric.description,
            data_type=data_type,
            attributes=attributes(point.attributes),
            value=None if histogram else _number(point),
            count=int(point.count) if histogram else None,
            sum=float(point.sum) if histogram else None,
            explicit_bounds=tuple(point.explicit_bounds) if data_type == "histogram" else (),
            bucket_counts=tuple(point.bucket_counts) if data_type == "histogram" else (),
            is_monotonic=is_monotonic,
            resource=resource,
            scope_name=scope,
            transport=transport,
        )


def _points_of(received: _Received) -> Iterator[MetricPoint]:
    request: metrics_service_pb2.ExportMetricsServiceRequest = received.request  # type: ignore[assignment]
    for resource_metrics in request.resource_metrics:
        resource = attributes(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                yield from _metric_points(
                    metric, resource, scope_metrics.scope.name, received.transport
                )


def _logs_of(received: _Received) -> Iterator[LogRecord]:
    request: logs_service_pb2.ExportLogsServiceRequest = received.request  # type: ignore[assignment]
    for resource_logs in request.resource_logs:
        resource = attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                yield LogRecord(
                    body=any_value(record.body),
                    severity_text=record.severity_text,
                    severity_number=int(record.severity_number),
                    attributes=attributes(record.attributes),
                    trace_id=record.trace_id.hex(),
                    span_id=record.span_id.hex(),
                    event_name=record.event_name,
                    resource=resource,
                    scope_name=scope_logs.scope.name,
                    transport=received.transport,
                )


# --------------------------------------------------------------------------- servers
_REQUEST_TYPES: Mapping[str, type[Message]] = {
    TRACES: trace_service_pb2.ExportTraceServiceRequest,
    METRICS: metrics_service_pb2.ExportMetricsServiceRequest,
    LOGS: logs_service_pb2.ExportLogsServiceRequest,
}
_RESPONSE_TYPES: Mapping[str, type[Message]] = {
    TRACES: trace_service_pb2.ExportTraceServiceResponse,
    METRICS: metrics_service_pb2.ExportMetricsServiceResponse,
    LOGS: logs_service_pb2.ExportLogsServiceResponse,
}
_HTTP_PATHS: Mapping[str, str] = {f"/v1/{signal}": signal for signal in _REQUEST_TYPES}


def _decompress(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding in ("", "identity"):
        return body
    raise ValueError(f"unsupported Content-Encoding {encoding!r}")


#: the gRPC status a receiver answers with for :attr:`OtlpReceiver.fail_with` (HTTP status)
_GRPC_STATUS = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    500: grpc.StatusCode.INTERNAL,
    503: grpc.StatusCode.UNAVAILABLE,
}


def _http_handler(receiver: OtlpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            receiver._connections.add(self.connection)

        def finish(self) -> None:
            receiver._connections.discard(self.connection)
            super().finish()

        def do_POST(self) -> None:  # noqa: N802 (BaseHTTPRequestHandler API)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            signal = _HTTP_PATHS.get(self.path.split("?", 1)[0])
            if signal is None:
                self._reply(404, b"", "text/plain")
                return
            receiver.wait_while_held()
            if receiver.fail_with is not None:
                self._reply(receiver.fail_with, b"refused by the test", "text/plain")
                return
            try:
                payload = _decompress(body, self.headers.get("Content-Encoding", ""))
                request = _REQUEST_TYPES[signal].FromString(payload)
            except (ValueError, OSError, DecodeError) as error:
                receiver.errors.append(f"{self.path}: {error!r}")
                self._reply(400, str(error).encode(), "text/plain")
                return
            receiver.store(signal, HTTP, request)
            self._reply(200, _RESPONSE_TYPES[signal]().SerializeToString(),
                        "application/x-protobuf")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # keep the test output clean

    return Handler


class _TraceServicer(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, receiver: OtlpReceiver) -> None:
        self._receiver = receiver

    def Export(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC API)
        self._receiver.refuse_grpc(context)
        self._receiver.store(TRACES, GRPC, request)
        return trace_service_pb2.ExportTraceServiceResponse()


class _MetricsServicer(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, receiver: OtlpReceiver) -> None:
        self._receiver = receiver

    def Export(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC API)
        self._receiver.refuse_grpc(context)
        self._receiver.store(METRICS, GRPC, request)
        return metrics_service_pb2.ExportMetricsServiceResponse()


class _LogsServicer(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, receiver: OtlpReceiver) -> None:
        self._receiver = receiver

    def Export(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC API)
        self._receiver.refuse_grpc(context)
        self._receiver.store(LOGS, GRPC, request)
        return logs_service_pb2.ExportLogsServiceResponse()


class OtlpReceiver:
    """OTLP/HTTP and OTLP/gRPC servers on free ``127.0.0.1`` ports, storing what arrives.

    Use as a context manager (or call :meth:`start` and :meth:`stop`). All accessors are
    thread-safe and return snapshots. The gRPC server refuses a request larger than
    ``grpc_max_receive_bytes`` (``RESOURCE_EXHAUSTED``), as the Collector's OTLP receiver
    does: 4 MiB by default (its ``max_recv_msg_size_mib``).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        http_port: int = 0,
        grpc_port: int = 0,
        *,
        grpc_max_receive_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        self.host = host
        self.errors: list[str] = []
        #: answer every export with this HTTP status (gRPC: its counterpart), if set
        self.fail_with: int | None = None
        self._received: list[_Received] = []
        self._changed = threading.Condition()
        self._connections: set[socket.socket] = set()
        self._released = threading.Event()
        self._released.set()
        self._held = 0
        self._stopped = False
        self._http = ThreadingHTTPServer((host, http_port), _http_handler(self))
        self._http.daemon_threads = True
        self._http_thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05},
            name="otlp-receiver-http", daemon=True,
        )
        self._grpc = grpc.server(
            futures.ThreadPoolExecutor(max_workers=4),
            options=[("grpc.max_receive_message_length", grpc_max_receive_bytes)],
        )
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceServicer(self), self._grpc)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(
            _MetricsServicer(self), self._grpc
        )
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_LogsServicer(self), self._grpc)
        self.grpc_port = self._grpc.add_insecure_port(f"{host}:{grpc_port}")
        self.http_port = int(self._http.server_address[1])

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> OtlpReceiver:
        self._http_thread.start()
        self._grpc.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection (an exporter's keep-alive one too);
        idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._released.set()
        self._http.shutdown()
        self._http.server_close()
        for connection in list(self._connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._grpc.stop(grace=None)

    # ----------------------------------------------------------------- failures
    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Inside the block, export requests wait unanswered (and count in :attr:`held`)."""
        self._released.clear()
        try:
            yield
        finally:
            self._released.set()

    @property
    def held(self) -> int:
        """Export requests waiting inside :meth:`hold` right now."""
        with self._changed:
            return self._held

    def wait_while_held(self) -> None:
        with self._changed:
            self._held += 1
            self._changed.notify_all()
        self._released.wait(60)
        with self._changed:
            self._held -= 1

    def refuse_grpc(self, context: Any) -> None:
        """For the gRPC servicers: hold, then abort with :attr:`fail_with`'s status."""
        self.wait_while_held()
        if self.fail_with is not None:
            context.abort(_GRPC_STATUS.get(self.fail_with, grpc.StatusCode.INTERNAL),
                          "refused by the test")

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- endpoints
    @property
    def http_endpoint(self) -> str:
        """Base URL for ``OTEL_EXPORTER_OTLP_ENDPOINT`` with ``http/protobuf``."""
        return f"http://{self.host}:{self.http_port}"

    @property
    def grpc_endpoint(self) -> str:
        """URL for ``OTEL_EXPORTER_OTLP_ENDPOINT`` with ``grpc`` (``http`` = insecure)."""
        return f"http://{self.host}:{self.grpc_port}"

    def endpoint(self, protocol: str) -> str:
        """The endpoint to use with ``OTEL_EXPORTER_OTLP_PROTOCOL=protocol``."""
        return {HTTP: self.http_endpoint, GRPC: self.grpc_endpoint}[protocol]

    # ----------------------------------------------------------------- storage
    def store(self, signal: str, transport: str, request: Message) -> None:
        """Keep one decoded export request (called by the servers)."""
        with self._changed:
            self._received.append(_Received(signal, transport, request))
            self._changed.notify_all()

    def clear(self) -> None:
        with self._changed:
            self._received.clear()
            self.errors.clear()

    def requests(self, signal: str) -> list[Message]:
        """The decoded ``Export*ServiceRequest`` messages of one signal, in arrival order."""
        return [item.request for item in self._snapshot() if item.signal == signal]

    def transports(self, signal: str) -> set[str]:
        """The transports (``http/protobuf``, ``grpc``) that requests of ``signal`` came over."""
        return {item.transport for item in self._snapshot() if item.signal == signal}

    def _snapshot(self) -> list[_Received]:
        with self._changed:
            return list(self._received)

    # ----------------------------------------------------------------- flat views
    def spans(self) -> list[SpanRecord]:
        return [span for item in self._snapshot() if item.signal == TRACES
                for span in _spans_of(item)]

    def metric_points(self, name: str | None = None) -> list[MetricPoint]:
        """All metric data points received, optionally only those of metric ``name``."""
        return [point for item in self._snapshot() if item.signal == METRICS
                for point in _points_of(item) if name is None or point.name == name]

    def metric_names(self) -> set[str]:
        return {point.name for point in self.metric_points()}

    def metric_units(self) -> dict[str, str]:
        """Metric name -> unit, over every metric that has at least one data point."""
        return {point.name: point.unit for point in self.metric_points()}

    def log_records(self) -> list[LogRecord]:
        return [record for item in self._snapshot() if item.signal == LOGS
                for record in _logs_of(item)]

    def resources(self) -> list[dict[str, Any]]:
        """The resource attributes of every resource block received, any signal."""
        found: list[dict[str, Any]] = []
        for item in self._snapshot():
            blocks = {
                TRACES: "resource_spans", METRICS: "resource_metrics", LOGS: "resource_logs",
            }[item.signal]
            found.extend(attributes(block.resource.attributes)
                         for block in getattr(item.request, blocks))
        return found

    # ----------------------------------------------------------------- waiting
    def wait_for(self, predicate: Callable[[], _T], timeout: float = 10.0) -> _T:
        """Re-evaluate ``predicate`` whenever a request arrives, until it is truthy.

        Returns the predicate's last value (falsy if ``timeout`` seconds passed first),
        so a test writes ``assert receiver.wait_for(lambda: ...)``.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = predicate()
                remaining = deadline - time.monotonic()
                if result or remaining <= 0:
                    return result
                self._changed.wait(min(remaining, 0.25))


# --------------------------------------------------------------------------- span tree and ports
def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that the OS reports free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def children_of(spans: Sequence[SpanRecord], parent: SpanRecord) -> list[SpanRecord]:
    """The direct children of ``parent`` among ``spans``."""
    return [span for span in spans
            if span.trace_id == parent.trace_id and span.parent_span_id == parent.span_id]


def parent_of(spans: Sequence[SpanRecord], child: SpanRecord) -> SpanRecord | None:
    """The parent of ``child`` among ``spans`` (``None`` for a root or a missing parent)."""
    for span in spans:
        if span.trace_id == child.trace_id and span.span_id == child.parent_span_id:
            return span
    return None


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """A started :class:`OtlpReceiver`, stopped after the test."""
    with OtlpReceiver() as receiver:
        yield receiver


# --------------------------------------------------------------------------- running the demo
#: the repository root (``tests/`` is one level below it).
REPO_ROOT = Path(__file__).resolve().parent.parent

#: the example application the over-the-wire tests run.
DEMO_MODULE = "examples.support_assistant"

#: variables of the outer environment that would steer the demo away from its defaults.
_STEERING_VARIABLES = ("OPENAI_BASE_URL", "OPENAI_API_KEY")


def demo_command(*args: str) -> list[str]:
    """``python -m examples.support_assistant ARGS`` with this interpreter."""
    return [sys.executable, "-m", DEMO_MODULE, *args]


def demo_env(**overrides: str | None) -> dict[str, str]:
    """The environment for a demo subprocess.

    Starts from this process's environment without any ``OTEL_*`` variable and without
    the real-provider switches (so the demo talks to its bundled fake LLM server), sets
    ``PYTHONUNBUFFERED=1`` (lines reach the pipe when printed), then applies
    ``overrides``; an override of ``None`` removes the variable.
    """
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("OTEL_") and key not in _STEERING_VARIABLES}
    env["PYTHONUNBUFFERED"] = "1"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env

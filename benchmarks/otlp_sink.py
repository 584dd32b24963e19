"""A counting OTLP/HTTP receiver, run in its own process by the benchmarks.

    python benchmarks/otlp_sink.py PORT

``POST /v1/traces`` (``application/x-protobuf``, gzip accepted) is decoded as an
``ExportTraceServiceRequest`` and its spans are counted, then answered with an empty
``ExportTraceServiceResponse`` (OTLP/HTTP specification); ``/v1/metrics`` and
``/v1/logs`` are decoded and answered the same way (their data points and log records
counted), so that a process exporting all three signals, as ``agentotel.init()`` does by
default, sees every export succeed. ``GET /count`` returns ``{"spans": N, "requests": M,
"data_points": P, "log_records": L}`` (``requests`` counts trace requests) and
``POST /reset`` sets them to 0. It prints ``ready`` once it listens. A separate process, so
that decoding does not compete with the sender for its interpreter lock; the benchmarks
start and stop it with :class:`Sink`.
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

_lock = threading.Lock()
_counts = {"spans": 0, "requests": 0, "data_points": 0, "log_records": 0}


def _spans(body: bytes) -> int:
    request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
    return sum(
        len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans
    )


def _data_points(body: bytes) -> int:
    request = metrics_service_pb2.ExportMetricsServiceRequest.FromString(body)
    return sum(
        len(getattr(metric, metric.WhichOneof("data")).data_points)
        for resource in request.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.WhichOneof("data")
    )


def _log_records(body: bytes) -> int:
    request = logs_service_pb2.ExportLogsServiceRequest.FromString(body)
    return sum(
        len(scope.log_records)
        for resource in request.resource_logs
        for scope in resource.scope_logs
    )


#: path -> (what is counted, how it is counted from the body, the empty response)
_SIGNALS = {
    "/v1/traces": (
        "spans", _spans, trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
    ),
    "/v1/metrics": (
        "data_points",
        _data_points,
        metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString(),
    ),
    "/v1/logs": (
        "log_records",
        _log_records,
        logs_service_pb2.ExportLogsServiceResponse().SerializeToString(),
    ),
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (name fixed by BaseHTTPRequestHandler)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/reset":
            with _lock:
                _counts.update(dict.fromkeys(_counts, 0))
            self._reply(200, b"{}", "application/json")
            return
        signal = _SIGNALS.get(self.path)
        if signal is None:
            self._reply(404, b"", "text/plain")
            return
        key, count, response = signal
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        items = count(body)
        with _lock:
            _counts[key] += items
            if key == "spans":
                _counts["requests"] += 1
        self._reply(200, response, "application/x-protobuf")

    def do_GET(self) -> None:  # noqa: N802
        with _lock:
            payload = json.dumps(_counts).encode()
        self._reply(200, payload, "application/json")

    def _reply(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silence the per-request lines."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A sender that exits in the middle of an export is expected: no traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def main() -> None:
    server = _Server(("127.0.0.1", int(sys.argv[1])), _Handler)
    print("ready", flush=True)
    server.serve_forever()


class Sink:
    """The sink in a process of its own: ``with Sink() as sink:`` starts it on a free
    loopback port and stops it on exit; ``sink.endpoint`` is its ``http://host:port``."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Sink:
        self._process = subprocess.Popen(
            [sys.executable, __file__, str(self.port)], stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        self._process.stdout.readline()  # "ready"
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait()

    def count(self) -> dict[str, int]:
        """What the sink received since the last :meth:`reset`."""
        return self._request("GET", "/count")

    def reset(self) -> None:
        self._request("POST", "/reset")

    def _request(self, method: str, path: str) -> dict[str, int]:
        request = urllib.request.Request(f"{self.endpoint}{path}", data=None, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            counts: dict[str, int] = json.loads(response.read())
            return counts


if __name__ == "__main__":
    main()

"""A counting OTLP/HTTP trace receiver, run in its own process by the throughput benchmark.

    python benchmarks/otlp_sink.py PORT

``POST /v1/traces`` (``application/x-protobuf``, gzip accepted) is decoded as an
``ExportTraceServiceRequest`` and its spans are counted, then answered with an empty
``ExportTraceServiceResponse`` (OTLP/HTTP specification). ``GET /count`` returns
``{"spans": N, "requests": M}`` and ``POST /reset`` sets both to 0. It prints ``ready``
once it listens. A separate process, so that decoding does not compete with the sender
for its interpreter lock.
"""

from __future__ import annotations

import gzip
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

_lock = threading.Lock()
_counts = {"spans": 0, "requests": 0}
_EMPTY_RESPONSE = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (name fixed by BaseHTTPRequestHandler)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/reset":
            with _lock:
                _counts.update(spans=0, requests=0)
            self._reply(200, b"{}", "application/json")
            return
        if self.path != "/v1/traces":
            self._reply(404, b"", "text/plain")
            return
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
        spans = sum(
            len(scope.spans)
            for resource in request.resource_spans
            for scope in resource.scope_spans
        )
        with _lock:
            _counts["spans"] += spans
            _counts["requests"] += 1
        self._reply(200, _EMPTY_RESPONSE, "application/x-protobuf")

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


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), _Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

"""``health()``, ``/health`` and ``/ready``: the collector goes away and comes back.

End to end: an application runs ``agentotel.init()`` in a subprocess, exporting every
signal over OTLP to the test receiver, with the Prometheus exporter on (``/metrics``,
``/health``, ``/ready`` on its port) and ``telemetry.wsgi_app()`` mounted in a small WSGI
server of its own; a background thread of the application records a tool call and a log
line every 50 ms and counts anything raised into it. The test stops the receiver - the
endpoint is gone, open connections cut - and both ``/ready`` answer 503 while ``/health``
stays 200; it starts a receiver on the same ports again and ``/ready`` answers 200. The
application kept working throughout and nothing was raised into it.

In process: the WSGI and ASGI handlers over a real span pipeline, the JSON they answer,
their status codes, and what they refuse.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest
import requests
from otlp_receiver import HTTP, PROTOCOLS, REPO_ROOT, OtlpReceiver, demo_env, free_port
from test_pipeline_metrics import Pipeline, build

from agentotel._health import Health
from agentotel._probes import asgi_app, wsgi_app

DEADLINE_S = 30.0

APP = """
import sys, threading, time
from wsgiref.simple_server import WSGIRequestHandler, make_server

import agentotel

telemetry = agentotel.init("health-check", metrics_exporter="otlp,prometheus")
log = agentotel.get_logger()

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

probes = make_server("127.0.0.1", int(sys.argv[1]), telemetry.wsgi_app(), handler_class=Quiet)
threading.Thread(target=probes.serve_forever, daemon=True).start()

stop = threading.Event()
raised = []
ticks = 0

def work():
    global ticks
    while not stop.is_set():
        try:
            with agentotel.tool("tick"):
                log.info("tick", n=ticks)
            ticks += 1
        except BaseException as exc:  # anything telemetry raised into the application
            raised.append(repr(exc))
        time.sleep(0.05)

worker = threading.Thread(target=work, daemon=True)
worker.start()
print("@@ started", flush=True)
for line in sys.stdin:
    if line.strip() == "ticks":
        print(f"@@ ticks {ticks}", flush=True)
stop.set()
worker.join()
print(f"@@ done {ticks} {raised!r}", flush=True)
"""


@dataclass
class App:
    process: subprocess.Popen[str]
    prometheus_port: int
    wsgi_port: int
    lines: list[str]

    def urls(self, path: str) -> list[str]:
        return [f"http://127.0.0.1:{port}{path}" for port in (self.prometheus_port,
                                                              self.wsgi_port)]

    def said(self, prefix: str) -> str | None:
        found = [line for line in self.lines if line.startswith(prefix)]
        return found[-1] if found else None

    def ticks(self) -> int:
        before = len(self.lines)
        assert self.process.stdin is not None
        self.process.stdin.write("ticks\n")
        self.process.stdin.flush()
        line = poll("the tick count", lambda: next(
            (x for x in self.lines[before:] if x.startswith("@@ ticks")), None))
        return int(line.split()[-1])


def _read(stream: IO[str], into: list[str]) -> None:
    for line in stream:
        into.append(line.rstrip("\n"))


def poll(what: str, attempt: Callable[[], Any], timeout_s: float = DEADLINE_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            result = attempt()
        except requests.RequestException:
            result = None
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def answers(app: App, path: str) -> list[tuple[int, dict[str, Any]]]:
    """(status, JSON body) of ``path`` on the Prometheus port and on the mounted app."""
    found = []
    for url in app.urls(path):
        response = requests.get(url, timeout=5)
        assert response.headers["Content-Type"] == "application/json"
        found.append((response.status_code, response.json()))
    return found


@pytest.fixture(params=PROTOCOLS)
def outage(request: pytest.FixtureRequest) -> Iterator[tuple[App, str, OtlpReceiver]]:
    """(the running application, protocol, its receiver) - the receiver may be replaced."""
    protocol: str = request.param
    http_port, grpc_port = free_port(), free_port()
    receiver = OtlpReceiver(http_port=http_port, grpc_port=grpc_port).start()
    prometheus_port, wsgi_port = free_port(), free_port()
    env = demo_env(
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint(protocol),
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
        OTEL_EXPORTER_OTLP_TIMEOUT="1000",
        OTEL_BSP_SCHEDULE_DELAY="100",
        OTEL_BLRP_SCHEDULE_DELAY="100",
        OTEL_METRIC_EXPORT_INTERVAL="300",
        OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
        OTEL_EXPORTER_PROMETHEUS_PORT=str(prometheus_port),
    )
    process = subprocess.Popen(
        [sys.executable, "-c", APP, str(wsgi_port)], cwd=REPO_ROOT, env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    lines: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=_read, args=(process.stdout, lines), daemon=True)
    reader.start()
    app = App(process, prometheus_port, wsgi_port, lines)
    try:
        poll("the application to start", lambda: app.said("@@ started"))
        yield app, protocol, receiver
    finally:
        if process.poll() is None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        reader.join(timeout=10)
        receiver.stop()


def all_signals(body: dict[str, Any], key: str) -> set[Any]:
    return {signal[key] for signal in body["signals"].values()}


def test_ready_goes_503_while_the_endpoint_is_down_and_200_when_it_is_back(
    outage: tuple[App, str, OtlpReceiver],
) -> None:
    app, protocol, receiver = outage
    http_port, grpc_port = receiver.http_port, receiver.grpc_port

    # 1. exporting: ready on both servers
    poll("ready 200 while the receiver runs", lambda: all(
        status == 200 and set(body["signals"]) == {"traces", "metrics", "logs"}
        and all_signals(body, "last_success") != {None}
        for status, body in answers(app, "/ready")))

    # 2. the endpoint goes away: every signal's next export fails
    receiver.stop()
    ticks_when_down = app.ticks()
    down = poll("ready 503 with every signal down", lambda: [
        (status, body) for status, body in answers(app, "/ready")
        if status == 503 and body["status"] == "down"
        and all_signals(body, "status") == {"down"}
    ] if all(s == 503 for s, _ in answers(app, "/ready")) else None)
    status, body = down[0]
    assert (body["live"], body["ready"]) == (True, False)
    assert all(signal["consecutive_failures"] >= 1 for signal in body["signals"].values())
    expected_error = "ConnectionError" if protocol == HTTP else "UNAVAILABLE"
    assert all_signals(body, "last_error") == {expected_error}
    assert all_signals(body, "endpoint_host") == {"127.0.0.1"}
    assert "traces: the last" in body["reason"] and "failed" in body["reason"]
    text = json.dumps(body)
    assert "://" not in text and f":{http_port}" not in text and f":{grpc_port}" not in text
    assert [status for status, _ in answers(app, "/health")] == [200, 200]
    poll("the application to keep working while the endpoint is down",
         lambda: app.ticks() > ticks_when_down + 5)

    # 3. the endpoint comes back on the same ports
    back = OtlpReceiver(http_port=http_port, grpc_port=grpc_port).start()
    try:
        ready = poll("ready 200 after the endpoint is back", lambda: [
            body for status, body in answers(app, "/ready")
            if status == 200 and all_signals(body, "consecutive_failures") == {0}
        ] if all(s == 200 for s, _ in answers(app, "/ready")) else None)
        assert ready[0]["ready"] is True
        assert ready[0]["status"] in ("ok", "degraded")  # degraded: losses within 60 s
        assert back.wait_for(lambda: back.spans() and back.log_records())
    finally:
        assert app.process.stdin is not None
        app.process.stdin.close()
        app.process.wait(timeout=20)
        back.stop()
    done = poll("the application's last line", lambda: app.said("@@ done"))
    ticks, raised = done.split(maxsplit=3)[2:]
    assert raised == "[]"
    assert int(ticks) > 0


def test_metrics_are_still_served_beside_the_probes(
    outage: tuple[App, str, OtlpReceiver],
) -> None:
    app, _, _ = outage
    text = poll("metrics", lambda: (r := requests.get(
        f"http://127.0.0.1:{app.prometheus_port}/metrics", timeout=5)).ok
        and "otel_sdk_span_started_total" in r.text and r.text)
    assert "gen_ai_execute_tool_duration_seconds_count" in text
    assert requests.get(f"http://127.0.0.1:{app.wsgi_port}/metrics", timeout=5).status_code == 404


# --------------------------------------------------------------------------- the handlers


@pytest.fixture
def refused(otlp_receiver: OtlpReceiver) -> Iterator[Pipeline]:
    """A span pipeline whose collector answers 503 to everything."""
    otlp_receiver.fail_with = 503
    pipeline = build(otlp_receiver.http_endpoint)
    yield pipeline
    pipeline.tracer_provider.shutdown()
    pipeline.meter_provider.shutdown()
    pipeline.monitor.close()


@pytest.fixture
def wsgi_server() -> Iterator[Callable[[Callable[[], Health]], str]]:
    servers = []

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    def serve(health: Callable[[], Health]) -> str:
        server = make_server("127.0.0.1", 0, wsgi_app(health), handler_class=Quiet)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_wsgi_probes_answer_from_the_pipeline_state(
    otlp_receiver: OtlpReceiver, refused: Pipeline,
    wsgi_server: Callable[[Callable[[], Health]], str],
) -> None:
    base = wsgi_server(refused.monitor.health)
    assert requests.get(f"{base}/ready", timeout=5).status_code == 200  # nothing exported yet
    refused.spans(2)
    refused.flush()
    ready = requests.get(f"{base}/ready", timeout=5)
    health = requests.get(f"{base}/health/", timeout=5)
    assert (ready.status_code, health.status_code) == (503, 200)
    assert ready.headers["Cache-Control"] == "no-store"
    body = ready.json()
    assert (body["status"], body["ready"], body["live"]) == ("down", False, True)
    assert body["signals"]["traces"]["errors"] == {"503": 2}
    assert body["reason"].startswith("traces: the last 1 export(s) failed (503), never succeeded")


def test_wsgi_probes_refuse_other_paths_and_methods(
    refused: Pipeline, wsgi_server: Callable[[Callable[[], Health]], str],
) -> None:
    base = wsgi_server(refused.monitor.health)
    assert requests.get(f"{base}/metrics", timeout=5).status_code == 404
    assert requests.post(f"{base}/ready", timeout=5).status_code == 405
    head = requests.head(f"{base}/ready", timeout=5)
    assert (head.status_code, head.content) == (200, b"")


def test_health_answers_503_once_telemetry_is_shut_down(
    refused: Pipeline, wsgi_server: Callable[[Callable[[], Health]], str],
) -> None:
    base = wsgi_server(refused.monitor.health)
    refused.monitor.close()
    response = requests.get(f"{base}/health", timeout=5)
    assert response.status_code == 503
    assert (response.json()["status"], response.json()["reason"]) == (
        "down", "telemetry is shut down"
    )


def test_asgi_probes_answer_the_same_as_the_wsgi_ones(refused: Pipeline) -> None:
    refused.spans(1)
    refused.flush()

    async def get(*paths: str) -> list[tuple[int, Any]]:
        transport = httpx.ASGITransport(app=asgi_app(refused.monitor.health))
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            found = []
            for path in paths:
                response = await client.get(path)
                found.append((response.status_code, response.json()))
            return found

    (ready, body), (health, _), (missing, _) = asyncio.run(get("/ready", "/health", "/x"))
    assert (ready, health, missing) == (503, 200, 404)
    assert body == refused.monitor.health().to_dict() | {"signals": body["signals"]}
    assert body["signals"]["traces"]["last_error"] == "503"


def test_asgi_app_strips_the_mount_prefix_and_acknowledges_lifespan(
    refused: Pipeline,
) -> None:
    app = asgi_app(refused.monitor.health)
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        lifespan = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

        async def receive() -> dict[str, Any]:
            return next(lifespan)

        await app({"type": "lifespan"}, receive, send)
        scope = {"type": "http", "method": "GET", "path": "/telemetry/health",
                 "root_path": "/telemetry"}
        await app(scope, receive, send)

    asyncio.run(run())
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete", "lifespan.shutdown.complete",
        "http.response.start", "http.response.body",
    ]
    assert sent[2]["status"] == 200


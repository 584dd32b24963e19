"""Pre-fork servers and a task queue, run for real: gunicorn (sync and
``uvicorn.workers.UvicornWorker`` workers, with and without ``--preload``), ``uvicorn
--workers 2`` and a Celery prefork worker on Redis (Debian's ``redis-server``, started here
on a free loopback port). Every span of every worker reaches the OTLP receiver, with the
worker's own ``service.instance.id`` and ``process.pid``; ``/metrics`` on the one port
counts every worker's measurements (``PROMETHEUS_MULTIPROC_DIR``), and the OTLP metrics
too; what the master recorded before the fork is counted once; a worker whose
measurements are on no ``/metrics`` is never ``ok`` in ``health()``.

The servers start at once and are shared by the tests (``servers``); each gets N requests
(tasks), as many as it takes for two workers to answer, and the tests compare with N.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import prefork_app
import pytest
import requests
from live_servers import binary, poll
from otlp_receiver import OtlpReceiver, free_port
from prometheus_client.parser import text_string_to_metric_families

from agentotel import semconv as sc

TESTS = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
DURATION_COUNT = f"{sc.PROM_EXECUTE_TOOL_DURATION}_count"
MIN_REQUESTS = 10
MAX_REQUESTS = 200
DEADLINE_S = 60.0


@dataclass
class Server:
    """One server under test and what it was sent."""

    name: str
    argv: list[str]
    receiver: OtlpReceiver
    workdir: Path
    http_port: int | None
    metrics_port: int
    multiprocess: bool
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    sent: int = 0
    pids: set[int] = field(default_factory=set)
    health: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def log(self) -> str:
        return (self.workdir / "server.log").read_text(errors="replace")[-3000:]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}{path}"

    def tool_spans(self) -> list[Any]:
        return [s for s in self.receiver.spans() if s.name == f"execute_tool {prefork_app.TOOL}"]

    def metrics_page(self) -> dict[str, float]:
        """``{sample name + tool name: value}`` of ``/metrics``, summed over label sets."""
        text = requests.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        found: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                tool = sample.labels.get("gen_ai_tool_name")
                if tool is not None:
                    key = f"{sample.name}/{tool}"
                    found[key] = found.get(key, 0.0) + sample.value
        return found


def _environment(server: Server, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")]),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        OTEL_EXPORTER_OTLP_ENDPOINT=server.receiver.http_endpoint,
        OTEL_METRICS_EXPORTER="prometheus,otlp",
        OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
        OTEL_EXPORTER_PROMETHEUS_PORT=str(server.metrics_port),
        OTEL_BSP_SCHEDULE_DELAY="50",
        OTEL_METRIC_EXPORT_INTERVAL="300",
        AGENTOTEL_SYSTEM_METRICS="off",
        PREFORK_REDIS_URL=redis_url,
        PREFORK_APP_SERVER="1",
        PYTHONUNBUFFERED="1",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if server.multiprocess:
        directory = server.workdir / "metrics"
        directory.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    env.update(server.env)
    return env


def _gunicorn(worker: str, app: str, preload: bool) -> Callable[[int], list[str]]:
    def argv(port: int) -> list[str]:
        return [
            str(BIN / "gunicorn"), "-w", "2", "-k", worker, "-b", f"127.0.0.1:{port}",
            "--graceful-timeout", "2", *(["--preload"] if preload else []), app,
        ]

    return argv


#: name -> (command for an HTTP port (None: Celery), PROMETHEUS_MULTIPROC_DIR set, env)
SERVERS: dict[str, tuple[Callable[[int], list[str]] | None, bool, dict[str, str]]] = {
    "gunicorn sync --preload": (_gunicorn("sync", "prefork_app:wsgi", True), True, {}),
    "gunicorn sync": (_gunicorn("sync", "prefork_app:wsgi", False), True, {}),
    "gunicorn uvicorn worker --preload": (
        _gunicorn("uvicorn.workers.UvicornWorker", "prefork_app:asgi", True), True, {}),
    "gunicorn uvicorn worker": (
        _gunicorn("uvicorn.workers.UvicornWorker", "prefork_app:asgi", False), True, {}),
    "uvicorn --workers 2": (
        lambda port: [str(BIN / "uvicorn"), "--workers", "2", "--host", "127.0.0.1",
                      "--port", str(port), "prefork_app:asgi"], True, {}),
    "celery prefork": (None, True, {"PREFORK_INIT": "worker_process_init"}),
    "gunicorn sync --preload, no PROMETHEUS_MULTIPROC_DIR": (
        _gunicorn("sync", "prefork_app:wsgi", True), False, {}),
    "gunicorn sync, no PROMETHEUS_MULTIPROC_DIR": (
        _gunicorn("sync", "prefork_app:wsgi", False), False, {}),
}
SERVED = [name for name, (_, multiprocess, _) in SERVERS.items() if multiprocess]
HTTP_SERVED = [name for name in SERVED if SERVERS[name][0] is not None]
PRELOADED = [name for name in SERVED if "--preload" in name]
CELERY = [
    str(BIN / "celery"), "-A", "prefork_app:celery", "worker", "--pool=prefork",
    "--concurrency=2", "--without-gossip", "--without-mingle", "--without-heartbeat",
    "--loglevel=INFO",
]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    argv = [binary("redis-server", package="redis-server"), "--port", str(port),
            "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)]
    with (workdir / "redis.log").open("w") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        def answers() -> bool:
            import redis

            return bool(redis.Redis(port=port, socket_timeout=1).ping())

        poll("redis-server", _ignoring(answers), DEADLINE_S)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=20)


def _ignoring(attempt: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        try:
            return attempt()
        except Exception:  # noqa: BLE001 - not up yet
            return None

    return run


@pytest.fixture(scope="module")
def servers(
    redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Server]]:
    with ExitStack() as stack:
        started: dict[str, Server] = {}
        for name, (command, multiprocess, extra) in SERVERS.items():
            workdir = tmp_path_factory.mktemp("server")
            http_port = None if command is None else free_port()
            server = Server(
                name, [], stack.enter_context(OtlpReceiver()), workdir, http_port,
                free_port(), multiprocess, extra,
            )
            server.argv = CELERY if command is None else command(http_port or 0)
            log = stack.enter_context((workdir / "server.log").open("w"))
            server.process = subprocess.Popen(
                server.argv, cwd=TESTS, env=_environment(server, redis_url),
                stdout=log, stderr=subprocess.STDOUT,
            )
            stack.callback(_stop, server)
            started[name] = server
        for server in started.values():
            _drive(server, redis_url)
        yield started


def _stop(server: Server) -> None:
    process = server.process
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def _drive(server: Server, redis_url: str) -> None:
    """Send requests (tasks) until two workers answered and at least MIN_REQUESTS went."""
    if server.http_port is None:
        _drive_celery(server, redis_url)
        return
    poll(f"{server.name} to answer\n{server.log}",
         _ignoring(lambda: requests.get(server.url("/health"), timeout=5).ok), DEADLINE_S)
    session = requests.Session()
    session.headers["Connection"] = "close"  # each request may reach another worker
    while server.sent < MAX_REQUESTS and (server.sent < MIN_REQUESTS or len(server.pids) < 2):
        server.pids.add(int(session.get(server.url("/work"), timeout=10).text))
        server.sent += 1
    deadline = time.monotonic() + DEADLINE_S
    while len(server.health) < len(server.pids) and time.monotonic() < deadline:
        body = json.loads(session.get(server.url("/health"), timeout=10).text)
        server.health[body["pid"]] = body


def _drive_celery(server: Server, redis_url: str) -> None:
    from celery import Celery

    poll(f"{server.name} to be ready\n{server.log}", lambda: " ready." in server.log, DEADLINE_S)
    client = Celery("prefork_client", broker=redis_url)
    for _ in range(MIN_REQUESTS):
        client.send_task("prefork_app.work")
    server.sent = MIN_REQUESTS


# --------------------------------------------------------------------------- spans


def _all_spans(server: Server) -> list[Any]:
    def arrived() -> list[Any] | None:
        found = server.tool_spans()
        return found if len(found) >= server.sent else None

    return server.receiver.wait_for(arrived, timeout=DEADLINE_S) or server.tool_spans()


@pytest.mark.parametrize("name", list(SERVERS))
def test_every_request_is_one_span_at_the_receiver(
    servers: dict[str, Server], name: str
) -> None:
    server = servers[name]

    spans = _all_spans(server)

    assert len(spans) == server.sent, server.log


@pytest.mark.parametrize("name", HTTP_SERVED)
def test_each_worker_reports_its_own_pid_and_instance_id(
    servers: dict[str, Server], name: str
) -> None:
    server = servers[name]
    spans = _all_spans(server)

    instance_by_pid = {(s.resource[sc.PROCESS_PID], s.resource[sc.SERVICE_INSTANCE_ID])
                       for s in spans}

    assert {pid for pid, _ in instance_by_pid} == server.pids
    assert len({instance for _, instance in instance_by_pid}) == len(server.pids)


# --------------------------------------------------------------------------- metrics


@pytest.mark.parametrize("name", SERVED)
def test_metrics_endpoint_counts_every_workers_requests(
    servers: dict[str, Server], name: str
) -> None:
    server = servers[name]
    key = f"{DURATION_COUNT}/{prefork_app.TOOL}"

    def complete() -> dict[str, float] | None:
        page = server.metrics_page()
        return page if page.get(key) == server.sent else None

    page = poll(f"/metrics of {name} to count {server.sent}", _ignoring(complete), DEADLINE_S)

    assert page[key] == server.sent


@pytest.mark.parametrize("name", SERVED)
def test_otlp_metrics_count_every_workers_requests_once(
    servers: dict[str, Server], name: str
) -> None:
    server = servers[name]

    def per_instance() -> dict[tuple[Any, Any], int]:
        """The latest (cumulative) count of each process, by (pid, instance id)."""
        latest: dict[tuple[Any, Any], int] = {}
        for point in server.receiver.metric_points(sc.METRIC_EXECUTE_TOOL_DURATION):
            if point.attributes.get(sc.GEN_AI_TOOL_NAME) == prefork_app.TOOL:
                key = (point.resource.get(sc.PROCESS_PID), point.resource[sc.SERVICE_INSTANCE_ID])
                latest[key] = max(latest.get(key, 0), point.count or 0)
        return latest

    server.receiver.wait_for(lambda: sum(per_instance().values()) == server.sent, DEADLINE_S)

    assert sum(per_instance().values()) == server.sent, (per_instance(), server.log)


@pytest.mark.parametrize("name", PRELOADED)
def test_what_the_master_recorded_before_the_fork_is_counted_once(
    servers: dict[str, Server], name: str
) -> None:
    server = servers[name]
    key = f"{DURATION_COUNT}/{prefork_app.BEFORE_FORK_TOOL}"
    poll(f"/metrics of {name}", _ignoring(lambda: key in server.metrics_page()), DEADLINE_S)
    time.sleep(2.5)  # two more writes by every worker: a copy would show by now

    assert server.metrics_page()[key] == 1
    assert {p.resource[sc.PROCESS_PID]
            for p in server.receiver.metric_points(sc.METRIC_EXECUTE_TOOL_DURATION)
            if p.attributes.get(sc.GEN_AI_TOOL_NAME) == prefork_app.BEFORE_FORK_TOOL
            } == {server.process.pid if server.process else None}


# --------------------------------------------------------------------------- health


def test_a_forked_worker_whose_metrics_are_not_served_is_not_ok(
    servers: dict[str, Server],
) -> None:
    server = servers["gunicorn sync --preload, no PROMETHEUS_MULTIPROC_DIR"]

    statuses = {pid: body["status"] for pid, body in server.health.items()}

    assert len(statuses) == 2 and set(statuses.values()) == {"degraded"}
    assert all("PROMETHEUS_MULTIPROC_DIR" in body["reason"] for body in server.health.values())


def test_the_worker_that_cannot_bind_the_metrics_port_is_not_ok(
    servers: dict[str, Server],
) -> None:
    server = servers["gunicorn sync, no PROMETHEUS_MULTIPROC_DIR"]

    statuses = sorted(body["status"] for body in server.health.values())

    assert statuses == ["degraded", "ok"]


@pytest.mark.parametrize("name", HTTP_SERVED)
def test_workers_whose_metrics_are_served_are_ok(servers: dict[str, Server], name: str) -> None:
    statuses = {body["status"] for body in servers[name].health.values()}

    assert statuses == {"ok"}, servers[name].health

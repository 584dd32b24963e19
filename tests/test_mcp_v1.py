"""MCP with the ``mcp`` 1.x SDK (no tracing of its own): the same spans as on 2.x.

The 1.x SDK cannot share an environment with 2.x: the fixture installs it (``pip install
--target .venv-mcp1 --no-deps 'mcp>=1.2,<2' httpx-sse``: its other dependencies are the
test environment's) once, and the test is skipped when that install is impossible (no
package index). Client (``tests/mcp1_client.py``) and server (``tests/mcp_server.py``,
1.x's ``FastMCP``) each run in their own process with ``agentotel.init()`` alone and
export over OTLP to the test's receiver.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from otlp_receiver import REPO_ROOT, free_port

MCP1 = REPO_ROOT / ".venv-mcp1"
CLIENT = REPO_ROOT / "tests" / "mcp1_client.py"
SERVER = REPO_ROOT / "tests" / "mcp_server.py"

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def mcp1_path() -> Path:
    """A directory holding the ``mcp`` 1.x package, ahead of 2.x on ``PYTHONPATH``."""
    stamp = MCP1 / ".installed"
    if not stamp.exists():
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade",
             "--target", str(MCP1), "mcp>=1.2,<2", "httpx-sse>=0.4"],
            capture_output=True, text=True, timeout=300,
        )
        if result.returncode != 0:
            pytest.skip(f"mcp 1.x could not be installed: {result.stderr[-500:]}")
        stamp.touch()
    return MCP1


def env(receiver: Any, mcp1: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return {
        **clean,
        "PYTHONPATH": os.pathsep.join([str(mcp1), str(REPO_ROOT)]),
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.http_endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_BSP_SCHEDULE_DELAY": "20",
    }


def run_client(receiver: Any, mcp1: Path, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(CLIENT), *args], env=env(receiver, mcp1), cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=90,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def spans_of(receiver: Any, trace_id: str, count: int) -> list[Any]:
    return receiver.wait_for(
        lambda: found if len(found := [s for s in receiver.spans() if s.trace_id == trace_id])
        >= count else None,
        timeout=15,
    )


def check_one_trace(receiver: Any, outcome: dict[str, Any], transport: str) -> list[Any]:
    assert outcome["seen"] == {"label": "v1", "baggage": {"tenant": "acme"}}
    assert outcome["refused"] is True
    # workflow, whoami and refuse on both sides, the tool span inside whoami
    spans = spans_of(receiver, outcome["trace_id"], 6)
    by_id = {s.span_id: s for s in spans}
    client = next(s for s in spans if (s.name, s.kind) == ("tools/call whoami", "CLIENT"))
    server = next(s for s in spans if (s.name, s.kind) == ("tools/call whoami", "SERVER"))
    assert (client.resource["service.name"], server.resource["service.name"]) == (
        "mcp1-client", "mcp-tool-server",
    )
    assert server.parent_span_id == client.span_id
    assert by_id[client.parent_span_id].name == "invoke_workflow mcp1"
    for span in (client, server):
        assert {k: span.attributes.get(k) for k in (
            "mcp.method.name", "gen_ai.operation.name", "gen_ai.tool.name",
            "jsonrpc.request.id", "mcp.protocol.version",
        )} == {
            "mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "whoami", "jsonrpc.request.id": "1",
            "mcp.protocol.version": client.attributes["mcp.protocol.version"],
        }
    assert client.attributes["network.transport"] == transport
    assert next(s for s in spans if s.name == "execute_tool lookup_user").parent_span_id == (
        server.span_id
    )
    refused = [s for s in spans if s.name == "tools/call refuse"]
    assert sorted((s.kind, s.attributes["error.type"], s.status_code) for s in refused) == [
        ("CLIENT", "tool_error", "ERROR"), ("SERVER", "tool_error", "ERROR"),
    ]
    return spans


def test_mcp1_over_stdio_is_one_trace_with_one_span_per_side(otlp_receiver, mcp1_path):
    outcome = run_client(otlp_receiver, mcp1_path, "stdio")
    check_one_trace(otlp_receiver, outcome, "pipe")
    points = otlp_receiver.wait_for(
        lambda: otlp_receiver.metric_points("mcp.client.session.duration")
    )
    assert points[0].attributes["network.transport"] == "pipe"


def test_mcp1_over_streamable_http_is_one_trace_with_the_session_on_both_sides(
    otlp_receiver, mcp1_path
):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(SERVER), "http", str(port)], env=env(otlp_receiver, mcp1_path),
        cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert server.poll() is None and time.monotonic() < deadline, "no server"
            time.sleep(0.05)
        outcome = run_client(otlp_receiver, mcp1_path, "http", f"http://127.0.0.1:{port}/mcp")
        spans = check_one_trace(otlp_receiver, outcome, "tcp")
    finally:
        server.terminate()
        server.wait(10)
    client = next(s for s in spans if (s.name, s.kind) == ("tools/call whoami", "CLIENT"))
    server_span = next(s for s in spans if (s.name, s.kind) == ("tools/call whoami", "SERVER"))
    assert client.attributes["server.port"] == port
    assert client.attributes["mcp.session.id"] == server_span.attributes["mcp.session.id"]

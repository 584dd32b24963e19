"""Serverless handlers, ``flush()`` and child processes.

A Lambda-shaped handler (``handler(event, context)``, the context answering
``get_remaining_time_in_millis()``) decorated with ``@agentotel.serverless`` runs in a
process whose batch delays and metric interval are an hour: only the flush at the end of
the invocation can export. The process then ends with ``os._exit`` (no exit handlers, as
when the platform freezes or stops it), so what reaches the receiver was flushed by the
invocation: the span, the metric and the log record.

A child process started from an application run under ``opentelemetry-instrument``
inherits its variables (``OTEL_SERVICE_NAME`` included) and is auto-instrumented itself;
its own ``init(service_name=...)`` gives it its own ``service.name``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from otlp_receiver import REPO_ROOT, OtlpReceiver

from agentotel import semconv as sc

HOUR_MS = "3600000"

HANDLER = textwrap.dedent(
    """
    import asyncio, os, sys
    import agentotel

    agentotel.init("lambda-fn")  # module level: once per cold start
    log = agentotel.get_logger()

    class Context:  # the shape of AWS Lambda's context object
        def get_remaining_time_in_millis(self):
            return 5000

    @agentotel.serverless
    def handler(event, context):
        with agentotel.tool("lambda_tool"):
            log.info("handled", order=event["order"])
        if event.get("fail"):
            raise ValueError("bad order")
        return {"status": 200}

    @agentotel.serverless(timeout_s=5)
    async def async_handler(event, context):
        with agentotel.tool("async_lambda_tool"):
            pass
        return "async ok"

    mode = sys.argv[1]
    if mode == "sync":
        print(handler({"order": 7}, Context()), flush=True)
    elif mode == "raises":
        try:
            handler({"order": 8, "fail": True}, Context())
        except ValueError as exc:
            print("raised:", exc, flush=True)
    else:
        print(asyncio.run(async_handler({}, Context())), flush=True)
    os._exit(0)  # the platform freezes the process: no exit handlers run
    """
)


def _environment(receiver: OtlpReceiver, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    env.update(
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.http_endpoint,
        OTEL_BSP_SCHEDULE_DELAY=HOUR_MS,
        OTEL_BLRP_SCHEDULE_DELAY=HOUR_MS,
        OTEL_METRIC_EXPORT_INTERVAL=HOUR_MS,
        AGENTOTEL_SYSTEM_METRICS="off",
    )
    env.update(extra)
    return env


def _invoke(receiver: OtlpReceiver, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HANDLER, mode], cwd=REPO_ROOT, env=_environment(receiver),
        capture_output=True, text=True, timeout=120,
    )


def test_the_invocation_flushes_its_span_metric_and_log_record(otlp_receiver: OtlpReceiver) -> None:
    result = _invoke(otlp_receiver, "sync")

    assert result.stdout.strip() == "{'status': 200}", result.stderr
    assert [s.name for s in otlp_receiver.spans()] == ["execute_tool lambda_tool"]
    [point] = otlp_receiver.metric_points(sc.METRIC_EXECUTE_TOOL_DURATION)
    assert point.count == 1
    assert [r.body for r in otlp_receiver.log_records() if r.body == "handled"] == ["handled"]


def test_a_raising_handler_raises_unchanged_and_still_flushes(
    otlp_receiver: OtlpReceiver,
) -> None:
    result = _invoke(otlp_receiver, "raises")

    assert result.stdout.strip() == "raised: bad order", result.stderr
    assert [s.name for s in otlp_receiver.spans()] == ["execute_tool lambda_tool"]


def test_an_async_handler_flushes_too(otlp_receiver: OtlpReceiver) -> None:
    result = _invoke(otlp_receiver, "async")

    assert result.stdout.strip() == "async ok", result.stderr
    assert [s.name for s in otlp_receiver.spans()] == ["execute_tool async_lambda_tool"]


def test_flush_before_init_returns_true() -> None:
    import agentotel

    assert agentotel.flush(timeout_s=0.1) is True


# --------------------------------------------------------------------------- child processes

PARENT = textwrap.dedent(
    """
    import subprocess, sys
    import agentotel
    with agentotel.tool("parent_tool"):
        subprocess.run([sys.executable, "-c", sys.argv[1]], check=True)
    """
)
CHILD = textwrap.dedent(
    """
    import agentotel
    agentotel.init(service_name="weather-tool-server")
    with agentotel.tool("child_tool"):
        pass
    """
)


@pytest.mark.parametrize("launcher", [[], ["opentelemetry-instrument"]])
def test_a_child_process_reports_under_its_own_service_name(
    otlp_receiver: OtlpReceiver, launcher: list[str]
) -> None:
    argv = [str(Path(sys.executable).parent / name) for name in launcher]
    env = _environment(otlp_receiver, OTEL_SERVICE_NAME="agent-app",
                       OTEL_BSP_SCHEDULE_DELAY="50", OTEL_METRIC_EXPORT_INTERVAL="500")
    if not launcher:  # the parent calls init() itself
        parent = PARENT.replace("import agentotel\n", "import agentotel\nagentotel.init()\n", 1)
    else:
        parent = PARENT
    result = subprocess.run(
        [*argv, sys.executable, "-c", parent, CHILD], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr

    services = {s.name: s.resource[sc.SERVICE_NAME] for s in otlp_receiver.spans()}

    assert services == {
        "execute_tool parent_tool": "agent-app",
        "execute_tool child_tool": "weather-tool-server",
    }


def test_a_stdio_child_keeps_console_exporters_off_its_stdout() -> None:
    child = textwrap.dedent(
        """
        import sys, agentotel
        agentotel.init(service_name="stdio-server", metrics_exporter="none", logs_exporter="none")
        with agentotel.tool("answer"):
            sys.stdout.write('{"jsonrpc": "2.0", "id": 1, "result": {}}\\n')
        agentotel.shutdown()
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    env.update(OTEL_TRACES_EXPORTER="console", AGENTOTEL_CONSOLE_STREAM="stderr")

    result = subprocess.run([sys.executable, "-c", child], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)

    assert result.stdout == '{"jsonrpc": "2.0", "id": 1, "result": {}}\n'
    assert '"name": "execute_tool answer"' in result.stderr

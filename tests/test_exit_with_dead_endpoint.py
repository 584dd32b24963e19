"""Failure: with the OTLP endpoint on a closed port the demo still completes and exits fast.

``init()`` flushes and shuts down at interpreter exit, bounded by the export timeout; a
dead endpoint must not hang exit for longer than that, and export failures are logged
once per minute at most, not per batch.

``OTEL_EXPORTER_OTLP_TIMEOUT`` is in milliseconds, as the specification says; agentotel
passes the exporters an explicit timeout in seconds, so the Python exporters' own reading
of the variable as seconds (opentelemetry-exporter-otlp 1.45) never applies: read that
way, 2000 would hold exit for half an hour. Batches are made
small and frequent (short schedule delays, short metric interval) and the demo handles
its whole bundled request file (several seconds), so that a run fails many batches per
signal: per-batch logging would show up as many lines.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import pytest
from otlp_receiver import PROTOCOLS, REPO_ROOT, demo_command, demo_env, free_port

EXPORT_TIMEOUT_S = 2.0
EXIT_GRACE_S = 1.0
RUN_TIMEOUT_S = 180

#: the line the demo prints when its run is complete, before interpreter exit.
FINAL_LINE = re.compile(r"run complete", re.IGNORECASE)

#: a log line about a failed export ("Failed to export spans batch ...", "Transient
#: error ... exporting metrics ...", or agentotel's own wording).
_EXPORT_FAILURE = re.compile(
    r"(?=.*\bexport)(?=.*(fail|error|transient|unavailable|refused|retry|unreachable))",
    re.IGNORECASE,
)
_SIGNALS = {
    "traces": re.compile(r"\b(spans?|traces?)\b", re.IGNORECASE),
    "metrics": re.compile(r"\bmetrics?\b", re.IGNORECASE),
    "logs": re.compile(r"\b(logs?|log records?)\b", re.IGNORECASE),
}
MAX_FAILURE_LINES_PER_SIGNAL = 2


@dataclass(frozen=True)
class TimedRun:
    returncode: int
    stdout: list[tuple[float, str]]
    stderr: list[tuple[float, str]]
    exited_at: float

    def stderr_text(self) -> str:
        return "".join(line for _, line in self.stderr)

    def stdout_text(self) -> str:
        return "".join(line for _, line in self.stdout)


def _collect(stream: IO[str], into: list[tuple[float, str]]) -> None:
    for line in stream:
        into.append((time.monotonic(), line))


def _run_timed(protocol: str) -> TimedRun:
    """Run the demo against a closed port, time-stamping each output line on arrival."""
    env = demo_env(
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
        OTEL_EXPORTER_OTLP_TIMEOUT=str(int(EXPORT_TIMEOUT_S * 1000)),  # milliseconds
        OTEL_EXPORTER_PROMETHEUS_PORT=str(free_port()),
        OTEL_METRIC_EXPORT_INTERVAL="300",
        OTEL_BSP_SCHEDULE_DELAY="100",
        OTEL_BLRP_SCHEDULE_DELAY="100",
    )
    process = subprocess.Popen(
        demo_command("--quiet"), cwd=REPO_ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
    )
    stdout: list[tuple[float, str]] = []
    stderr: list[tuple[float, str]] = []
    readers = [threading.Thread(target=_collect, args=(process.stdout, stdout), daemon=True),
               threading.Thread(target=_collect, args=(process.stderr, stderr), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        returncode = process.wait(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        raise
    exited_at = time.monotonic()
    for reader in readers:
        reader.join(timeout=10)
    return TimedRun(returncode, stdout, stderr, exited_at)


@pytest.fixture(scope="module", params=PROTOCOLS)
def dead_endpoint_run(request: pytest.FixtureRequest) -> Iterator[TimedRun]:
    yield _run_timed(request.param)


#: the exporter's notice that shutdown cut a retry short: said once at exit, not per batch
_SHUTDOWN_NOTICE = re.compile(r"Shutdown in progress, aborting retry")


def _failure_lines(run: TimedRun) -> list[str]:
    return [
        line
        for _, line in run.stderr
        if _EXPORT_FAILURE.search(line) and not _SHUTDOWN_NOTICE.search(line)
    ]


def test_demo_completes_with_exit_code_0(dead_endpoint_run: TimedRun) -> None:
    assert dead_endpoint_run.returncode == 0, dead_endpoint_run.stderr_text()[-4000:]
    assert any(FINAL_LINE.search(line) for _, line in dead_endpoint_run.stdout), (
        dead_endpoint_run.stdout_text()[-2000:])


def test_exit_takes_at_most_the_export_timeout_plus_one_second(
    dead_endpoint_run: TimedRun,
) -> None:
    marks = [at for at, line in dead_endpoint_run.stdout if FINAL_LINE.search(line)]
    assert marks, dead_endpoint_run.stdout_text()[-2000:]

    exit_duration = dead_endpoint_run.exited_at - marks[-1]

    assert exit_duration <= EXPORT_TIMEOUT_S + EXIT_GRACE_S, (
        f"exit took {exit_duration:.2f} s after the final line\n"
        + dead_endpoint_run.stderr_text()[-4000:])


def test_export_failures_are_reported(dead_endpoint_run: TimedRun) -> None:
    assert _failure_lines(dead_endpoint_run), dead_endpoint_run.stderr_text()[-4000:]


def test_export_failures_are_not_logged_per_batch(dead_endpoint_run: TimedRun) -> None:
    lines = _failure_lines(dead_endpoint_run)
    per_signal = {signal: [line for line in lines if pattern.search(line)]
                  for signal, pattern in _SIGNALS.items()}

    too_many = {signal: found for signal, found in per_signal.items()
                if len(found) > MAX_FAILURE_LINES_PER_SIGNAL}
    assert too_many == {}
    assert len(lines) <= MAX_FAILURE_LINES_PER_SIGNAL * len(_SIGNALS), lines


def test_exit_with_dead_endpoint_prints_no_traceback(dead_endpoint_run: TimedRun) -> None:
    assert "Traceback (most recent call last)" not in dead_endpoint_run.stderr_text(), (
        dead_endpoint_run.stderr_text()[-4000:])

"""The first run, with no Collector listening: one clear line, and exit right after the work.

A new user's application calls ``init()`` and does its work with nothing on the OTLP
endpoint. The first failed export says, in one line, which endpoint, which variable sets
it, ``make up`` and ``OTEL_TRACES_EXPORTER=console``; nothing else about failed exports is
logged; and the process exits without waiting for the exporters' retries.

Timing is compared side by side, never with an absolute bound: the same application with
every exporter ``none`` is the baseline, and the export timeout is set to 20 s, so an exit
that waited on a retry (the exporters back off 1, 2, 4 ... s up to the timeout; exit used
to take most of the timeout) would exceed the baseline by seconds. The bound allowed is a
tenth of that timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass

import pytest
from otlp_receiver import REPO_ROOT, free_port

EXPORT_TIMEOUT_S = 20.0
ALLOWED_EXTRA_S = EXPORT_TIMEOUT_S / 10

APP = textwrap.dedent(
    """
    import agentotel
    agentotel.init("first-run")
    for step in range(3):
        with agentotel.tool("lookup"):
            agentotel.get_logger().info("looked up", step=step)
    print("work done", flush=True)
    """
)


@dataclass(frozen=True)
class Run:
    returncode: int
    exit_after_work_s: float
    stderr: str


def _run(**env: str) -> Run:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    environment.update(env, OTEL_EXPORTER_OTLP_TIMEOUT=str(int(EXPORT_TIMEOUT_S * 1000)))
    process = subprocess.Popen(
        [sys.executable, "-c", APP], cwd=REPO_ROOT, env=environment, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    line = process.stdout.readline()
    done = time.monotonic()
    stderr = process.stderr.read()
    process.wait(timeout=120)
    assert line.strip() == "work done", stderr
    return Run(process.returncode, time.monotonic() - done, stderr)


@pytest.fixture(scope="module", params=["http/protobuf", "grpc"])
def runs(request: pytest.FixtureRequest) -> tuple[Run, Run]:
    """(no Collector at the endpoint, every exporter none), run one after the other."""
    dead = _run(
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}",
        OTEL_EXPORTER_OTLP_PROTOCOL=request.param,
    )
    baseline = _run(
        OTEL_TRACES_EXPORTER="none", OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none"
    )
    return dead, baseline


def _failure_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines()
            if "export" in line.lower() and ("fail" in line.lower() or "cannot" in line)]


def test_no_collector_prints_one_line_about_it(runs: tuple[Run, Run]) -> None:
    dead, _ = runs

    assert len(_failure_lines(dead.stderr)) == 1, dead.stderr


def test_the_line_says_where_what_sets_it_and_what_to_do(runs: tuple[Run, Run]) -> None:
    [line] = _failure_lines(runs[0].stderr)

    assert "http://127.0.0.1:" in line
    assert "set by OTEL_EXPORTER_OTLP_ENDPOINT" in line
    assert "`make up`" in line
    assert "OTEL_TRACES_EXPORTER=console" in line


def test_exit_does_not_wait_for_retries_when_no_export_ever_got_through(
    runs: tuple[Run, Run],
) -> None:
    dead, baseline = runs

    assert dead.returncode == 0, dead.stderr
    assert dead.exit_after_work_s <= baseline.exit_after_work_s + ALLOWED_EXTRA_S, (
        f"exit took {dead.exit_after_work_s:.2f} s after the work, "
        f"{baseline.exit_after_work_s:.2f} s without exporters"
    )


def test_no_traceback_without_a_collector(runs: tuple[Run, Run]) -> None:
    assert "Traceback" not in runs[0].stderr

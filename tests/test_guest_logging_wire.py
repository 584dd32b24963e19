"""End to end: an application that configured logging itself, then ``agentotel.init()``.

The application, a subprocess, calls ``logging.basicConfig()`` with its own format (one
that names ``%(trace_id)s`` and ``%(span_id)s``) before ``agentotel.init()``, which exports
OTLP/HTTP to the in-process receiver of ``otlp_receiver.py``. Inside an
``agentotel.tool(...)`` span it logs once through the stdlib and once through
``agentotel.get_logger()``, then once outside the span. The tests read the process's
stderr (each line printed once, by the application's handler, with the ids) and the
decoded OTLP logs and spans (each record exported once, with the span's trace context).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from otlp_receiver import REPO_ROOT, LogRecord, OtlpReceiver, SpanRecord

APPLICATION = textwrap.dedent(
    """
    import logging
    import sys

    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="APP %(levelname)s %(name)s %(funcName)s: %(message)s"
        " trace_id=%(trace_id)s span_id=%(span_id)s",
    )

    import agentotel

    agentotel.init("guest-app", metrics_exporter="none")
    log = logging.getLogger("guest.app")


    def lookup_order(order_id):
        with agentotel.tool("lookup_order"):
            log.info("looking up order %s", order_id)
            agentotel.get_logger().info("order found", order_id=order_id)


    lookup_order("A-17")
    log.info("all done")
    agentotel.shutdown()
    """
)
TOOL_SPAN = "execute_tool lookup_order"


#: agentotel's one INFO line at init(), through the application's own format
STARTUP_LINE = "APP INFO agentotel "


@dataclass
class GuestRun:
    result: subprocess.CompletedProcess[str]
    receiver: OtlpReceiver

    def app_lines(self) -> list[str]:
        """The application's own lines (agentotel's start-up line left out)."""
        return [
            line
            for line in self.result.stderr.splitlines()
            if line.startswith("APP ") and not line.startswith(STARTUP_LINE)
        ]

    def startup_lines(self) -> list[str]:
        return [line for line in self.result.stderr.splitlines() if line.startswith(STARTUP_LINE)]

    def tool_span(self) -> SpanRecord:
        spans = [s for s in self.receiver.spans() if s.name == TOOL_SPAN]
        assert len(spans) == 1, [s.name for s in self.receiver.spans()]
        return spans[0]

    def log_record(self, body: str) -> LogRecord:
        records = [r for r in self.receiver.log_records() if r.body == body]
        assert len(records) == 1, [r.body for r in self.receiver.log_records()]
        return records[0]


@pytest.fixture(scope="module")
def guest_run() -> Iterator[GuestRun]:
    with OtlpReceiver() as receiver:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
        env.update(
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.http_endpoint,
            OTEL_BSP_SCHEDULE_DELAY="50",
            OTEL_BLRP_SCHEDULE_DELAY="50",
            PYTHONUNBUFFERED="1",
        )
        result = subprocess.run(
            [sys.executable, "-c", APPLICATION], cwd=REPO_ROOT, env=env,
            capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 0, result.stderr[-4000:]
        receiver.wait_for(
            lambda: len(receiver.log_records()) >= 3
            and any(s.name == TOOL_SPAN for s in receiver.spans())
        )
        yield GuestRun(result, receiver)


def test_each_line_is_printed_once_by_the_application_with_the_span_ids(
    guest_run: GuestRun,
) -> None:
    span = guest_run.tool_span()
    ids = f"trace_id={span.trace_id} span_id={span.span_id}"

    assert guest_run.app_lines() == [
        f"APP INFO guest.app lookup_order: looking up order A-17 {ids}",
        f"APP INFO __main__ lookup_order: order found order_id=A-17 {ids}",
        "APP INFO guest.app <module>: all done trace_id= span_id=",
    ]


def test_nothing_but_the_application_lines_reaches_stderr(guest_run: GuestRun) -> None:
    assert guest_run.result.stderr.splitlines() == [
        *guest_run.startup_lines(),
        *guest_run.app_lines(),
    ]


def test_agentotel_start_up_line_is_printed_once_in_the_application_format(
    guest_run: GuestRun,
) -> None:
    (line,) = guest_run.startup_lines()
    assert "agentotel: instrumented " in line


def test_each_record_is_exported_once_with_the_trace_context_of_the_tool_span(
    guest_run: GuestRun,
) -> None:
    span = guest_run.tool_span()

    looking_up = guest_run.log_record("looking up order A-17")
    found = guest_run.log_record("order found")

    assert (looking_up.trace_id, looking_up.span_id) == (span.trace_id, span.span_id)
    assert (found.trace_id, found.span_id) == (span.trace_id, span.span_id)
    assert (looking_up.scope_name, found.scope_name) == ("guest.app", "__main__")
    assert (looking_up.severity_text, found.severity_text) == ("INFO", "INFO")


def test_exported_records_carry_key_values_but_not_the_ids_as_attributes(
    guest_run: GuestRun,
) -> None:
    assert guest_run.log_record("looking up order A-17").attributes == {}
    assert guest_run.log_record("order found").attributes == {"order_id": "A-17"}


def test_record_outside_the_span_is_exported_without_trace_context(
    guest_run: GuestRun,
) -> None:
    after = guest_run.log_record("all done")

    assert (after.trace_id, after.span_id) == ("", "")
    assert after.resource["service.name"] == "guest-app"

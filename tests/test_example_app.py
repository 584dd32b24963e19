"""The support-assistant demo as a user runs it: ``python -m examples.support_assistant``.

The whole bundled run happens once, in a subprocess, with no collector configured (the
default ``make demo`` situation): trace trees and the metrics summary on the terminal,
``/metrics`` on a free port, the bundled fake model API. The exporter defaults are also
checked directly on :func:`exporter_settings`.
"""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from otlp_receiver import HTTP, REPO_ROOT, OtlpReceiver, demo_command, demo_env, free_port

from examples.support_assistant.app import Exporters, exporter_settings
from examples.support_assistant.workflow import load_requests

RUN_TIMEOUT_S = 120
BUNDLED = load_requests()
#: requests that the input guardrails deny: pasted secrets and injection attempts.
DENIED = {"req-003", "req-006", "req-011", "req-015", "req-019", "req-022", "req-027",
          "req-035", "req-036"}
RESULT_LINE = re.compile(r"^(req-\d{3})  (answered|DENIED|ERROR)\s+\d+\.\d\ds  (.*)$",
                         re.MULTILINE)
RUN_LINE = re.compile(r"(\d+) requests: (\d+) answered, (\d+) denied, (\d+) failed")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        demo_command(*args), cwd=REPO_ROOT,
        env=demo_env(OTEL_EXPORTER_PROMETHEUS_PORT=str(free_port()), OPENAI_MODEL=None),
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
    )


@pytest.fixture(scope="module")
def full_run() -> subprocess.CompletedProcess[str]:
    """The demo on the bundled requests, as ``make demo`` runs it."""
    return _run()


def _results(run: subprocess.CompletedProcess[str]) -> dict[str, tuple[str, str]]:
    """Request id -> (status, detail) from the result lines."""
    return {m[1]: (m[2], m[3]) for m in RESULT_LINE.finditer(run.stdout)}


# --------------------------------------------------------------------------- exporter defaults


def test_without_otlp_traces_go_to_the_terminal_and_metrics_to_prometheus() -> None:
    assert exporter_settings({}) == Exporters("agentotel_console", "prometheus", "none")


def test_an_otlp_endpoint_adds_otlp_to_every_signal() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert exporter_settings(env) == Exporters("otlp,agentotel_console", "otlp,prometheus", "otlp")


def test_a_signal_endpoint_adds_otlp_to_that_signal_only() -> None:
    env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}
    assert exporter_settings(env) == Exporters("otlp,agentotel_console", "prometheus", "none")


def test_explicit_exporter_variables_win() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
           "OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "none"}
    assert exporter_settings(env) == Exporters("console", "none", "otlp")


def test_quiet_leaves_the_trace_trees_out() -> None:
    assert exporter_settings({}, quiet=True).traces == "none"
    assert exporter_settings({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"},
                             quiet=True).traces == "otlp"


# --------------------------------------------------------------------------- bundled input


def test_bundled_input_has_at_least_30_requests_with_unique_ids() -> None:
    assert len(BUNDLED) >= 30
    assert len({request.id for request in BUNDLED}) == len(BUNDLED)


def test_requests_file_skips_comments_and_names_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_text('# a comment\n{"id": "r1", "text": "Hi"}\n\n{"text": "no id"}\n',
                    encoding="utf-8")
    with pytest.raises(ValueError, match=r"requests.jsonl:4: not a request"):
        load_requests(path)


# --------------------------------------------------------------------------- the full run


def test_demo_exits_0_although_requests_fail(full_run: subprocess.CompletedProcess[str]) -> None:
    assert full_run.returncode == 0, full_run.stderr[-4000:]


def test_one_result_line_per_request(full_run: subprocess.CompletedProcess[str]) -> None:
    assert list(_results(full_run)) == [request.id for request in BUNDLED]


def test_secrets_and_injection_attempts_are_denied(
    full_run: subprocess.CompletedProcess[str],
) -> None:
    denied = {rid for rid, (status, _) in _results(full_run).items() if status == "DENIED"}
    assert denied == DENIED


def test_failed_model_calls_show_as_errored_requests(
    full_run: subprocess.CompletedProcess[str],
) -> None:
    errors = [detail for status, detail in _results(full_run).values() if status == "ERROR"]

    assert errors
    assert all(detail.startswith("requests.exceptions.HTTPError: 500 Server Error")
               for detail in errors), errors


def test_run_summary_adds_up(full_run: subprocess.CompletedProcess[str]) -> None:
    statuses = [status for status, _ in _results(full_run).values()]
    match = RUN_LINE.search(full_run.stdout)

    assert match is not None, full_run.stdout[-2000:]
    assert tuple(int(n) for n in match.groups()) == (
        len(BUNDLED), statuses.count("answered"), statuses.count("DENIED"),
        statuses.count("ERROR"),
    )


def test_a_trace_tree_is_printed_per_request(full_run: subprocess.CompletedProcess[str]) -> None:
    roots = re.findall(r"^(?:✗ )?invoke_workflow support-triage ", full_run.stdout, re.MULTILINE)
    assert len(roots) == len(BUNDLED)
    assert re.search(r"^[│ ]*[├└]─ (?:✗ )?chat gpt-4o-mini ", full_run.stdout, re.MULTILINE)


def test_trees_show_streaming_retrieval_memory_and_evaluations(
    full_run: subprocess.CompletedProcess[str],
) -> None:
    answered = [rid for rid, (status, _) in _results(full_run).items() if status == "answered"]
    out = full_run.stdout

    def count(pattern: str) -> int:
        return len(re.findall(pattern, out, re.MULTILINE))

    # one streamed writer call, one evaluation and one memory search per answered request
    assert count(r"─ chat gpt-4o  \S+  ttfc=\d") == len(answered)
    assert count(r"─ evaluation groundedness  score=[\d.]+  label=(?:pass|fail)$") == len(
        answered)
    assert count(r"─ search_memory support-conversations \(short_term\)  \S+  hits=2$") == len(
        answered)
    # each help-centre search is a retrieval below its tool call
    searches = count(r"─ (?:✗ )?execute_tool search_docs  ")
    assert searches > 0
    assert count(r"[├└]─ execute_tool search_docs  .*\n[│ ]*└─ retrieval acme-help-centre  "
                 r"\S+  documents=\d") == searches
    # the calculator and the unit conversion are served by the MCP tool server: each call
    # is the tool span here with the server's SERVER span below it, in that process
    mcp_calls = count(r"─ (?:✗ )?execute_tool (?:calculate|convert_units)  ")
    assert mcp_calls > 0
    assert count(r"─ (?:✗ )?execute_tool (calculate|convert_units)  .*\n[│ ]*[├└]─ (?:✗ )?"
                 r"tools/call \1  \S+.*  \[support-tools\]$") == mcp_calls
    # the store keeps 10 conversations: older ones are deleted as new ones arrive
    assert count(r"─ delete_memory support-conversations \(short_term\)  \S+  records=\d") > 0


def test_run_summary_reports_groundedness_and_streaming(
    full_run: subprocess.CompletedProcess[str],
) -> None:
    answered = sum(status == "answered" for status, _ in _results(full_run).values())
    match = re.search(r"groundedness: mean (\d\.\d\d) over (\d+) replies; (\d+) pass, (\d+) fail",
                      full_run.stdout)

    assert match is not None, full_run.stdout[-2000:]
    assert 0 < float(match[1]) <= 1
    assert int(match[2]) == int(match[3]) + int(match[4]) == answered
    assert f"streamed    {answered} LLM calls, time to first chunk median " in full_run.stdout


def test_metrics_summary_counts_every_workflow_and_denial(
    full_run: subprocess.CompletedProcess[str],
) -> None:
    assert f"workflows {len(BUNDLED)}," in full_run.stdout
    assert re.search(rf"guardrails .*\bdeny {len(DENIED)}\b", full_run.stdout)


def test_personal_data_from_the_requests_never_reaches_the_output(
    full_run: subprocess.CompletedProcess[str],
) -> None:
    leaked = [value for value in ("maria.garcia@example.com", "4111 1111 1111 1111",
                                  "415-555-0132", "123-45-6789", "AKIAIOSFODNN7EXAMPLE")
              if value in full_run.stdout or value in full_run.stderr]
    assert leaked == []


def test_run_complete_is_the_last_line(full_run: subprocess.CompletedProcess[str]) -> None:
    assert full_run.stdout.splitlines()[-1] == "Run complete."


# --------------------------------------------------------------------------- options


@pytest.fixture(scope="module")
def quiet_limited_run(tmp_path_factory: pytest.TempPathFactory
                      ) -> subprocess.CompletedProcess[str]:
    path = tmp_path_factory.mktemp("requests") / "three.jsonl"
    path.write_text("\n".join(
        f'{{"id": "t-{n}", "channel": "chat", "text": "Convert {n} km to miles"}}'
        for n in (1, 2, 3)) + "\n", encoding="utf-8")
    return _run("--requests", str(path), "--limit", "2", "--quiet")


def test_limit_and_requests_file_choose_the_input(
    quiet_limited_run: subprocess.CompletedProcess[str],
) -> None:
    assert quiet_limited_run.returncode == 0, quiet_limited_run.stderr[-4000:]
    assert re.findall(r"^t-\d", quiet_limited_run.stdout, re.MULTILINE) == ["t-1", "t-2"]


def test_quiet_prints_no_trace_trees(quiet_limited_run: subprocess.CompletedProcess[str]) -> None:
    assert "invoke_workflow" not in quiet_limited_run.stdout


# --------------------------------------------------------------------------- across processes

CROSS_PROCESS_LIMIT = 4  # req-001 .. req-004: three answered (req-004 with a unit
                         # conversion on the MCP tool server), one denied


@pytest.fixture(scope="module")
def spans_over_otlp() -> list:
    """The spans of a short demo run, exported over OTLP (the tool server's and the
    planner's come through the demo process, each with its own resource)."""
    with OtlpReceiver() as receiver:
        result = subprocess.run(
            demo_command("--quiet", "--limit", str(CROSS_PROCESS_LIMIT)), cwd=REPO_ROOT,
            env=demo_env(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint(HTTP),
                         OTEL_EXPORTER_OTLP_PROTOCOL=HTTP,
                         OTEL_EXPORTER_PROMETHEUS_PORT=str(free_port()), OPENAI_MODEL=None),
            capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        )
        assert result.returncode == 0, result.stderr[-4000:]
        return receiver.spans()


def test_each_request_is_one_trace_across_the_processes_it_reaches(spans_over_otlp: list
                                                                  ) -> None:
    services: dict[str, set[str]] = defaultdict(set)
    for span in spans_over_otlp:
        services[span.trace_id].add(span.resource["service.name"])
    workflows = {s.trace_id: s for s in spans_over_otlp
                 if s.name == "invoke_workflow support-triage"}
    assert len(workflows) == CROSS_PROCESS_LIMIT  # one trace per request
    mcp_tool_calls = {s.trace_id for s in spans_over_otlp
                      if s.name.startswith("execute_tool") and "mcp.method.name" in s.attributes}
    assert mcp_tool_calls  # req-004 converts units on the tool server
    for trace_id in workflows:
        expected = {"support-assistant"}
        if any(s.trace_id == trace_id and (s.name, s.kind) == ("invoke_agent planner", "CLIENT")
               for s in spans_over_otlp):
            expected |= {"support-planner"}  # called for every request the guardrails let in
        if trace_id in mcp_tool_calls:
            expected |= {"support-tools"}
        assert services[trace_id] == expected
    # every span of the other processes belongs to a request's trace or to the start-up's
    startup = {s.trace_id for s in spans_over_otlp if s.name.startswith("start support-tools")}
    remote = {s.trace_id for s in spans_over_otlp
              if s.resource["service.name"] in ("support-tools", "support-planner")}
    assert remote <= set(workflows) | startup
    assert len([t for t in workflows if "support-planner" in services[t]]) == 3  # 1 denied


def test_the_remote_spans_hang_under_their_callers(spans_over_otlp: list) -> None:
    by_id = {s.span_id: s for s in spans_over_otlp}
    for span in spans_over_otlp:
        if span.resource["service.name"] == "support-tools" and span.kind == "SERVER":
            caller = by_id[span.parent_span_id]
            assert caller.resource["service.name"] == "support-assistant"
            assert caller.name in (span.name.replace("tools/call", "execute_tool"),
                                   span.name, "initialize", "notifications/initialized")
        if span.resource["service.name"] == "support-planner" and span.kind == "SERVER":
            caller = by_id[span.parent_span_id]
            assert (caller.name, caller.kind) == ("POST", "CLIENT")
            assert by_id[caller.parent_span_id].name == "SendMessage"
            assert by_id[by_id[caller.parent_span_id].parent_span_id].name == (
                "invoke_agent planner")

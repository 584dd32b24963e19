"""Prometheus: the running demo's ``/metrics`` endpoint serves the GenAI metric families.

The demo runs with ``--linger`` so that its endpoint stays up after the run; the test
scrapes ``http://127.0.0.1:<OTEL_EXPORTER_PROMETHEUS_PORT>/metrics`` until every
workflow of the run is counted, parses the text with ``prometheus_client``'s parser and
checks family names, types and labels (OTel -> Prometheus translation: dots become
underscores, the unit is appended, ``{...}`` units are dropped, counters get ``_total``).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from otlp_receiver import REPO_ROOT, demo_command, demo_env, free_port
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

LIMIT = 6
LINGER_S = 60
RUN_TIMEOUT_S = 150
WORKFLOW_COUNT = "gen_ai_invoke_workflow_duration_seconds_count"

#: the parser's family name -> family type; a counter's family name drops `_total`.
EXPECTED_FAMILIES = {
    "gen_ai_client_operation_duration_seconds": "histogram",
    "gen_ai_client_token_usage": "histogram",
    "gen_ai_invoke_agent_duration_seconds": "histogram",
    "gen_ai_execute_tool_duration_seconds": "histogram",
    "gen_ai_invoke_workflow_duration_seconds": "histogram",
    "agentotel_guardrail_checks": "counter",
    "agentotel_llm_cost_USD": "counter",
    "agentotel_agent_active": "gauge",
    # the writer streams its reply
    "gen_ai_client_operation_time_to_first_chunk_seconds": "histogram",
    "gen_ai_client_operation_time_per_output_chunk_seconds": "histogram",
    # the conversation memory and the groundedness evaluation
    "agentotel_memory_operation_duration_seconds": "histogram",
    "agentotel_memory_operations": "counter",
    "agentotel_memory_record_count": "gauge",
    "agentotel_evaluation_score": "histogram",
}
ID_LABELS = {
    "gen_ai_conversation_id", "gen_ai_response_id", "gen_ai_tool_call_id", "gen_ai_agent_id",
}


def _scrape(url: str) -> dict[str, Metric]:
    text = requests.get(url, timeout=5).text
    return {family.name: family for family in text_string_to_metric_families(text)}


def _workflows_counted(families: dict[str, Metric]) -> float:
    family = families.get("gen_ai_invoke_workflow_duration_seconds")
    if family is None:
        return 0.0
    return sum(s.value for s in family.samples if s.name == WORKFLOW_COUNT)


def _scrape_when_run_is_done(process: subprocess.Popen[bytes], url: str, log: Path
                             ) -> dict[str, Metric]:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    families: dict[str, Metric] = {}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"demo exited with {process.returncode} before lingering:\n"
                        f"{log.read_text(errors='replace')[-4000:]}")
        try:
            families = _scrape(url)
        except requests.ConnectionError:
            families = {}
        if _workflows_counted(families) >= LIMIT:
            return families
        time.sleep(0.25)
    pytest.fail(f"{WORKFLOW_COUNT} did not reach {LIMIT} in {RUN_TIMEOUT_S} s "
                f"(last: {_workflows_counted(families)}):\n"
                f"{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="module")
def families(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Metric]]:
    """The metric families scraped from a demo run of ``LIMIT`` requests, by family name."""
    port = free_port()
    log = tmp_path_factory.mktemp("prometheus-demo") / "demo.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            demo_command("--quiet", "--limit", str(LIMIT), "--linger", str(LINGER_S)),
            cwd=REPO_ROOT,
            env=demo_env(OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
                         OTEL_EXPORTER_PROMETHEUS_PORT=str(port)),
            stdout=output, stderr=subprocess.STDOUT,
        )
        try:
            yield _scrape_when_run_is_done(process, f"http://127.0.0.1:{port}/metrics", log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _label_names(family: Metric) -> set[str]:
    return {label for sample in family.samples for label in sample.labels}


def _label_values(family: Metric, label: str) -> set[str]:
    return {sample.labels[label] for sample in family.samples if label in sample.labels}


def test_every_agentotel_family_is_served_with_its_type(families: dict[str, Metric]) -> None:
    served = {name: families[name].type for name in EXPECTED_FAMILIES if name in families}
    assert served == EXPECTED_FAMILIES


def test_counters_are_exposed_with_total_suffix(families: dict[str, Metric]) -> None:
    sample_names = {
        name: {sample.name for sample in families[name].samples}
        for name in ("agentotel_guardrail_checks", "agentotel_llm_cost_USD")
    }
    assert sample_names == {
        "agentotel_guardrail_checks": {"agentotel_guardrail_checks_total"},
        "agentotel_llm_cost_USD": {"agentotel_llm_cost_USD_total"},
    }


def test_one_workflow_duration_is_counted_per_request(families: dict[str, Metric]) -> None:
    assert _workflows_counted(families) == LIMIT
    assert _label_values(families["gen_ai_invoke_workflow_duration_seconds"],
                         "gen_ai_workflow_name") == {"support-triage"}


def test_operation_duration_is_labelled_by_operation_provider_and_model(
    families: dict[str, Metric],
) -> None:
    family = families["gen_ai_client_operation_duration_seconds"]
    assert {"gen_ai_operation_name", "gen_ai_provider_name",
            "gen_ai_request_model"} <= _label_names(family)
    # the help-centre search is a retrieval: the same metric, without provider or model;
    # so is the call to the remote planner (invoke_agent, as util-genai records it)
    assert _label_values(family, "gen_ai_operation_name") == {"chat", "retrieval", "invoke_agent"}


def test_streamed_calls_are_timed_per_chunk_for_the_writers_model(
    families: dict[str, Metric],
) -> None:
    for name in ("gen_ai_client_operation_time_to_first_chunk_seconds",
                 "gen_ai_client_operation_time_per_output_chunk_seconds"):
        assert _label_values(families[name], "gen_ai_request_model") == {"gpt-4o"}, name


def test_memory_operations_are_labelled_by_operation_type_and_outcome(
    families: dict[str, Metric],
) -> None:
    family = families["agentotel_memory_operations"]
    assert _label_values(family, "gen_ai_operation_name") == {"create_memory", "search_memory"}
    assert _label_values(family, "agentotel_memory_type") == {"short_term"}
    assert _label_values(family, "agentotel_memory_outcome") == {"success"}
    (size,) = families["agentotel_memory_record_count"].samples
    assert size.labels["gen_ai_memory_store_id"] == "support-conversations"
    assert size.value > 0


def test_evaluation_scores_are_labelled_by_evaluation_and_label(
    families: dict[str, Metric],
) -> None:
    family = families["agentotel_evaluation_score"]
    assert _label_values(family, "gen_ai_evaluation_name") == {"groundedness"}
    assert _label_values(family, "gen_ai_evaluation_score_label") <= {"pass", "fail"}


def test_token_usage_is_labelled_input_and_output(families: dict[str, Metric]) -> None:
    family = families["gen_ai_client_token_usage"]
    assert {"gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model",
            "gen_ai_token_type"} <= _label_names(family)
    assert _label_values(family, "gen_ai_token_type") == {"input", "output"}


def test_agent_duration_is_labelled_by_agent_name(families: dict[str, Metric]) -> None:
    # the planner runs in its own process (a remote agent here): its metric is recorded there
    assert _label_values(families["gen_ai_invoke_agent_duration_seconds"],
                         "gen_ai_agent_name") == {"researcher", "writer"}


def test_tool_duration_is_labelled_by_tool_name(families: dict[str, Metric]) -> None:
    assert _label_values(families["gen_ai_execute_tool_duration_seconds"],
                         "gen_ai_tool_name") == {"search_docs", "convert_units"}


def test_guardrail_checks_are_labelled_by_name_target_and_verdict(
    families: dict[str, Metric],
) -> None:
    family = families["agentotel_guardrail_checks"]
    assert {"agentotel_guardrail_name", "agentotel_guardrail_target",
            "agentotel_guardrail_verdict"} <= _label_names(family)
    assert {"allow", "deny"} <= _label_values(family, "agentotel_guardrail_verdict")
    assert _label_values(family, "agentotel_guardrail_target") <= {
        "input", "output", "tool_call", "tool_result",
    }


def test_llm_cost_is_labelled_by_provider_and_model(families: dict[str, Metric]) -> None:
    family = families["agentotel_llm_cost_USD"]
    assert _label_values(family, "gen_ai_provider_name") == {"openai"}
    assert _label_values(family, "gen_ai_request_model") == {"gpt-4o-mini", "gpt-4o"}
    assert all(sample.value > 0 for sample in family.samples)


def test_no_agent_invocation_is_left_active_after_the_run(families: dict[str, Metric]) -> None:
    family = families["agentotel_agent_active"]
    assert {s.labels["gen_ai_agent_name"]: s.value for s in family.samples} == {
        "planner": 0.0, "researcher": 0.0, "writer": 0.0,
    }


def test_failed_operations_are_labelled_with_error_type(families: dict[str, Metric]) -> None:
    # In the first LIMIT bundled requests one chat call gets HTTP 500 (its agent and
    # workflow fail with it) and one unit conversion fails on the MCP tool server (an
    # isError result: tool_error). Series without a failure carry error_type="" (the
    # exporter fills a family's missing labels).
    failures = {
        name: _label_values(families[name], "error_type") - {""}
        for name in ("gen_ai_client_operation_duration_seconds",
                     "gen_ai_invoke_agent_duration_seconds",
                     "gen_ai_execute_tool_duration_seconds",
                     "gen_ai_invoke_workflow_duration_seconds")
    }
    assert failures == {
        "gen_ai_client_operation_duration_seconds": {"requests.exceptions.HTTPError"},
        "gen_ai_invoke_agent_duration_seconds": {"requests.exceptions.HTTPError"},
        "gen_ai_execute_tool_duration_seconds": {"tool_error"},
        "gen_ai_invoke_workflow_duration_seconds": {"requests.exceptions.HTTPError"},
    }


def test_no_family_carries_an_id_label(families: dict[str, Metric]) -> None:
    leaked = {(name, label) for name, family in families.items()
              for label in _label_names(family) & ID_LABELS}
    assert leaked == set()


def test_target_info_names_the_service_and_the_environment(families: dict[str, Metric]) -> None:
    (sample,) = families["target_info"].samples
    assert (sample.labels.get("service_name"),
            sample.labels.get("deployment_environment_name")) == ("support-assistant", "demo")

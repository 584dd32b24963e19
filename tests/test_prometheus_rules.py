"""promtool on the shipped Prometheus configuration, rules and rule unit tests.

``promtool check config`` and ``promtool check rules`` validate syntax and PromQL;
``promtool test rules`` runs ``alerts.test.yml``, where every alert has a case where it
fires and one where it must not. The checks are also run on broken copies to show that
they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS_DIR = ROOT / "collector-config" / "prometheus"
ISSUE_ALERTS = {
    "AgentErrorRateHigh", "ToolErrorRateHigh", "MCPToolErrorRateHigh", "LLMErrorRateHigh",
    "AgentSlow",
    "LLMLatencyHigh", "LLMCostBudget", "GuardrailViolationSpike", "TelemetryPipelineDown",
    "CollectorExportFailing", "EvaluationScoreRegression", "ProcessMemoryGrowing",
    "TelemetryDropped", "TelemetryExportFailing", "TelemetryQueueNearlyFull",
}


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is not installed; .ci/run installs Debian's prometheus package")
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return path


def run(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def copy_prometheus_dir(tmp_path: Path) -> Path:
    target = tmp_path / "prometheus"
    shutil.copytree(PROMETHEUS_DIR, target)
    return target


def test_prometheus_config_passes_promtool_check_config(promtool: str) -> None:
    result = run(promtool, "check", "config", "prometheus.yml", cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout


def test_rules_pass_promtool_check_rules(promtool: str) -> None:
    result = run(promtool, "check", "rules", "alerts.yml", cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_alert_unit_tests_pass_promtool_test_rules(promtool: str) -> None:
    result = run(promtool, "test", "rules", "alerts.test.yml", cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_alerts_are_the_ones_the_product_promises() -> None:
    assert {r["alert"] for r in rules() if "alert" in r} == ISSUE_ALERTS


def test_every_alert_has_a_firing_and_a_not_firing_unit_test() -> None:
    doc = yaml.safe_load((PROMETHEUS_DIR / "alerts.test.yml").read_text())
    cases = [case for test in doc["tests"] for case in test.get("alert_rule_test", [])]
    fires = {c["alertname"] for c in cases if c["exp_alerts"]}
    stays_quiet = {c["alertname"] for c in cases if not c["exp_alerts"]}
    assert fires == ISSUE_ALERTS
    assert stays_quiet == ISSUE_ALERTS


def test_every_alert_and_recording_rule_has_a_unit_test_or_is_used_by_one() -> None:
    doc = yaml.safe_load((PROMETHEUS_DIR / "alerts.test.yml").read_text())
    tested = " ".join(
        case.get("expr", "") + " " + case.get("alertname", "")
        for test in doc["tests"]
        for case in test.get("alert_rule_test", []) + test.get("promql_expr_test", [])
    )
    alert_exprs = " ".join(r["expr"] for r in rules() if "alert" in r)
    untested = [
        r["record"] for r in rules()
        if "record" in r and r["record"] not in tested and r["record"] not in alert_exprs
    ]
    assert untested == []


def test_alert_thresholds_come_from_the_threshold_recording_rules() -> None:
    thresholds = {
        r["record"]: r["expr"]
        for r in rules() if r.get("record", "").startswith("agentotel:threshold:")
    }
    assert all(re.fullmatch(r"vector\([0-9.]+\)", expr) for expr in thresholds.values())
    compared = {}
    for rule in rules():
        if "alert" not in rule or rule["alert"] == "TelemetryPipelineDown":
            continue
        match = re.search(r"> on\(\) group_left\(\) (agentotel:threshold:\w+)\s*$", rule["expr"])
        compared[rule["alert"]] = match.group(1) if match else None
    assert None not in compared.values(), compared
    assert set(compared.values()) == set(thresholds)


def test_alerts_route_by_severity() -> None:
    severities = {r["labels"]["severity"] for r in rules() if "alert" in r}
    assert severities == {"critical", "warning"}
    am = yaml.safe_load(
        (ROOT / "collector-config" / "alertmanager" / "alertmanager.yml").read_text()
    )
    routed = {m for route in am["route"]["routes"] for m in route["matchers"]}
    assert routed == {'severity="critical"', 'severity="warning"'}
    receivers = {r["name"] for r in am["receivers"]}
    assert {route["receiver"] for route in am["route"]["routes"]} <= receivers


# ------------------------------------------------------------ broken copies must fail


def test_check_rules_fails_on_an_expression_that_does_not_parse(
    promtool: str, tmp_path: Path
) -> None:
    work = copy_prometheus_dir(tmp_path)
    text = (work / "alerts.yml").read_text()
    broken = text.replace(
        "expr: sum by (job) (increase(agentotel_llm_cost_USD_total[1h]))",
        "expr: sum by (job) (increase(agentotel_llm_cost_USD_total[1h])",
    )
    assert broken != text
    (work / "alerts.yml").write_text(broken)
    result = run(promtool, "check", "rules", "alerts.yml", cwd=work)
    assert result.returncode == 1
    assert "agentotel:llm_cost_usd:increase1h" in result.stdout + result.stderr


def test_check_config_fails_when_the_rule_file_is_missing(
    promtool: str, tmp_path: Path
) -> None:
    work = copy_prometheus_dir(tmp_path)
    (work / "alerts.yml").unlink()
    result = run(promtool, "check", "config", "prometheus.yml", cwd=work)
    assert result.returncode == 1
    assert "alerts.yml" in result.stdout + result.stderr


def test_unit_tests_fail_when_a_threshold_changes(promtool: str, tmp_path: Path) -> None:
    work = copy_prometheus_dir(tmp_path)
    text = (work / "alerts.yml").read_text()
    broken = text.replace(
        "- record: agentotel:threshold:tool_error_ratio\n        expr: vector(0.10)",
        "- record: agentotel:threshold:tool_error_ratio\n        expr: vector(0.50)",
    )
    assert broken != text
    (work / "alerts.yml").write_text(broken)
    result = run(promtool, "test", "rules", "alerts.test.yml", cwd=work)
    assert result.returncode == 1
    assert "alertname: ToolErrorRateHigh" in result.stdout + result.stderr


def test_unit_tests_fail_when_the_llm_rules_count_retrievals(
    promtool: str, tmp_path: Path
) -> None:
    work = copy_prometheus_dir(tmp_path)
    text = (work / "alerts.yml").read_text()
    matcher = 'gen_ai_operation_name!~"retrieval|invoke_agent"'
    broken = text.replace("{" + matcher + "}", "").replace(matcher + ", ", "")
    assert matcher in text
    assert matcher not in broken
    (work / "alerts.yml").write_text(broken)
    result = run(promtool, "test", "rules", "alerts.test.yml", cwd=work)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "alertname: LLMErrorRateHigh" in output
    assert "alertname: LLMLatencyHigh" in output

"""amtool on the shipped Alertmanager configuration, and what its routing tree promises.

``amtool check-config`` (Debian's ``prometheus-alertmanager``) loads
``collector-config/alertmanager/alertmanager.yml`` as Alertmanager does: every receiver a
route names exists, every integration has what it needs to send (the Slack webhook URL,
the PagerDuty key, the mail relay and sender). The receivers are placeholders a user fills
in; the routing tree sends each severity of ``prometheus/alerts.yml`` to its own receiver.
Broken copies are shown to fail. ``test_alertmanager_live.py`` runs the same routing tree
in a real Alertmanager.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from live_servers import binary

ROOT = Path(__file__).resolve().parent.parent
ALERTMANAGER = ROOT / "collector-config" / "alertmanager" / "alertmanager.yml"
RULES = ROOT / "collector-config" / "prometheus" / "alerts.yml"


@pytest.fixture(scope="module")
def amtool() -> str:
    return binary("amtool", package="prometheus-alertmanager")


def check_config(amtool: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [amtool, "check-config", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )


def shipped() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(ALERTMANAGER.read_text())
    return config


def receiver(name: str) -> dict[str, Any]:
    [found] = [r for r in shipped()["receivers"] if r["name"] == name]
    return found


def broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = ALERTMANAGER.read_text()
    assert old in text
    path = tmp_path / "alertmanager.yml"
    path.write_text(text.replace(old, new))
    return path


def test_the_shipped_config_passes_amtool_check_config(amtool: str) -> None:
    result = check_config(amtool, ALERTMANAGER)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert " - 3 receivers" in result.stdout
    assert " - 1 inhibit rules" in result.stdout


def test_the_receivers_are_pagerduty_slack_and_email_placeholders() -> None:
    assert {r["name"]: sorted(set(r) - {"name"}) for r in shipped()["receivers"]} == {
        "pagerduty": ["pagerduty_configs"],
        "slack": ["slack_configs"],
        "email": ["email_configs"],
    }
    [pagerduty] = receiver("pagerduty")["pagerduty_configs"]
    assert pagerduty["routing_key"] == "REPLACE_WITH_YOUR_INTEGRATION_KEY"
    [slack] = receiver("slack")["slack_configs"]
    assert "api_url" not in slack  # the global slack_api_url, a placeholder
    assert shipped()["global"]["slack_api_url"].startswith(
        "https://hooks.slack.com/services/T00000000/"
    )
    [email] = receiver("email")["email_configs"]
    assert email["to"].endswith("@example.com")
    assert shipped()["global"]["smtp_smarthost"] == "smtp.example.com:587"
    every = [c for r in shipped()["receivers"] for key in r if key != "name" for c in r[key]]
    assert all(c["send_resolved"] is True for c in every)


def test_each_severity_of_the_rules_routes_to_its_receiver() -> None:
    route = shipped()["route"]
    routes = {tuple(r["matchers"]): r["receiver"] for r in route["routes"]}
    assert routes == {
        ('severity="critical"',): "pagerduty",
        ('severity="warning"',): "slack",
    }
    assert route["receiver"] == "email"  # an alert without a severity
    rules = yaml.safe_load(RULES.read_text())
    severities = {r["labels"]["severity"] for g in rules["groups"] for r in g["rules"]
                  if "alert" in r}
    assert {f'severity="{s}"' for s in severities} == {m for ms in routes for m in ms}


def test_alerts_are_grouped_by_alertname_and_job() -> None:
    route = shipped()["route"]
    assert route["group_by"] == ["alertname", "job"]
    assert all("group_by" not in child for child in route["routes"])  # inherited


def test_the_slack_templates_render(amtool: str, tmp_path: Path) -> None:
    [slack] = receiver("slack")["slack_configs"]
    empty = tmp_path / "none.tmpl"
    empty.write_text("")
    for field in ("title", "text"):
        result = subprocess.run(
            [amtool, "template", "render", f"--template.glob={empty}",
             f"--template.text={slack[field]}"],
            capture_output=True, text=True, timeout=60, check=False,
        )
        assert result.returncode == 0, f"{field}: {result.stdout}{result.stderr}"


# ------------------------------------------------------------ broken copies must fail


def test_check_config_fails_for_a_route_to_an_undefined_receiver(
    amtool: str, tmp_path: Path
) -> None:
    path = broken_copy(tmp_path, "    - receiver: slack\n", "    - receiver: chat\n")
    result = check_config(amtool, path)
    assert result.returncode == 1
    assert 'undefined receiver "chat"' in result.stdout + result.stderr


def test_check_config_fails_without_the_slack_webhook_url(amtool: str, tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "  slack_api_url: ", "  # slack_api_url: ")
    result = check_config(amtool, path)
    assert result.returncode == 1
    assert "no global Slack API URL set" in result.stdout + result.stderr


def test_check_config_fails_for_a_misspelled_field(amtool: str, tmp_path: Path) -> None:
    path = broken_copy(tmp_path, "  group_by: [alertname, job]", "  group_by_: [alertname, job]")
    result = check_config(amtool, path)
    assert result.returncode == 1
    assert "group_by_" in result.stdout + result.stderr

"""Alerts that arrive: agentotel traffic, the project's alert rules on a real Prometheus, the
project's routing tree on a real Alertmanager, and a webhook receiver in the test.

Two applications (``tests/alerting_app.py``) record agentotel operations every 0.25 s and
serve ``/metrics``: ``over-thresholds``, whose traffic crosses the thresholds (two agents
and a tool failing, a slow agent, an LLM spend passing the 10 USD hourly budget within
seconds, two guardrails flagging more than 10 checks a minute) beside an agent, a tool and
a guardrail that stay under them; and ``under-thresholds``, where everything stays under.
Once both have recorded a first round, Debian's ``prometheus`` starts: it scrapes them
every 500 ms under their service names (as the Collector's ``prometheus`` exporter labels
``job``) and a stand-in for the Collector's own metrics endpoint (job ``otel-collector``),
evaluates the rules every second and sends to Debian's ``prometheus-alertmanager``. The
stand-in answers first; once every expected alert has arrived it stops answering, the
outage ``TelemetryPipelineDown`` is about.

What is changed for the test, and nothing else:

- the rules (``collector-config/prometheus/alerts.yml``): every ``for:`` (1m to 15m in
  the shipped file) becomes ``5s``, and the recording rule
  ``agentotel:threshold:agent_p95_seconds`` is ``vector(0.3)`` instead of 30, so that
  ``AgentSlow`` fires for an agent taking 0.5 s instead of 30 s. Every expression, label,
  annotation and other threshold is the shipped one;
- Alertmanager (``collector-config/alertmanager/alertmanager.yml``): ``group_wait`` 1s
  instead of 30s and ``group_interval`` 2s instead of 5m, and each receiver (PagerDuty,
  Slack, email placeholders) is a webhook to ``/<receiver name>`` on the test's receiver.
  The routing tree - receivers by ``severity``, ``group_by``, matchers, repeat intervals
  - and the inhibit rule are the shipped ones.

What arrives is checked exactly: the alerts that fire (full label sets), the receiver each
one reaches (critical -> ``pagerduty``, warning -> ``slack``, nothing -> ``email``), one
notification group per alert name and job carrying every agent, tool or guardrail over
its threshold, no alert at all for the traffic under the thresholds (whose signals are
shown to be evaluated, and under), and, during the Collector outage, the page for it and
every warning held back by the inhibit rule.

No time is asserted: every wait polls until a deadline. The alerts are waited for until
they arrive; states that may legitimately differ (a group arriving whole, the warnings
held back) are waited for at most ``SETTLE_S`` and then checked by their own test, so that
a routing, grouping or inhibition other than the shipped one fails with its own message.
"""

from __future__ import annotations

import contextlib
import copy
import json
import select
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from live_servers import (
    Prometheus,
    alertmanager_server,
    binary,
    poll,
    prometheus_server,
)
from otlp_receiver import REPO_ROOT, demo_env, free_port

CONFIG = REPO_ROOT / "collector-config"
RULES = CONFIG / "prometheus" / "alerts.yml"
ALERTMANAGER = CONFIG / "alertmanager" / "alertmanager.yml"
APP = REPO_ROOT / "tests" / "alerting_app.py"

OVER = "over-thresholds"
UNDER = "under-thresholds"
COLLECTOR_JOB = "otel-collector"

# What the test changes in the shipped files (see the module docstring).
TEST_FOR = "5s"
TEST_THRESHOLDS = {"agentotel:threshold:agent_p95_seconds": "vector(0.3)"}
TEST_TIMERS = {"group_wait": "1s", "group_interval": "2s"}

SCRAPE_INTERVAL = "500ms"
APP_READY_TIMEOUT_S = 60.0
APP_STOP_TIMEOUT_S = 15.0
SETTLE_S = 30.0

# The alerts the over-thresholds traffic must fire while the Collector answers: full label
# sets (ALERTS in Prometheus and the alerts in each notification carry exactly these).
WARNINGS = [
    {"alertname": "AgentErrorRateHigh", "gen_ai_agent_name": "triage"},
    {"alertname": "AgentErrorRateHigh", "gen_ai_agent_name": "billing"},
    {"alertname": "ToolErrorRateHigh", "gen_ai_tool_name": "web_search"},
    {"alertname": "AgentSlow", "gen_ai_agent_name": "researcher"},
    {"alertname": "GuardrailViolationSpike", "agentotel_guardrail_name": "pii-filter"},
    {"alertname": "GuardrailViolationSpike", "agentotel_guardrail_name": "jailbreak"},
]
EXPECTED_WARNINGS = [{**labels, "job": OVER, "severity": "warning"} for labels in WARNINGS]
EXPECTED_CRITICAL = [{"alertname": "LLMCostBudget", "job": OVER, "severity": "critical"}]

# Each signal an alert compares with its threshold; the under-thresholds traffic must
# give every one of them a value, and stay at or below the threshold.
SIGNALS_AND_THRESHOLDS = [
    ("agentotel:agent_error:ratio_rate5m", "agentotel:threshold:agent_error_ratio"),
    ("agentotel:tool_error:ratio_rate5m", "agentotel:threshold:tool_error_ratio"),
    ("agentotel:agent_duration_seconds:p95_5m", "agentotel:threshold:agent_p95_seconds"),
    ("agentotel:llm_cost_usd:increase1h", "agentotel:threshold:llm_cost_usd_per_hour"),
    (
        "agentotel:guardrail_violations:increase1m",
        "agentotel:threshold:guardrail_violations_per_minute",
    ),
]

Labels = dict[str, str]


# --------------------------------------------------------------------------- derived configs


def derived_rules(shipped: dict[str, Any]) -> dict[str, Any]:
    """The shipped rules with every ``for:`` cut to :data:`TEST_FOR` and the thresholds in
    :data:`TEST_THRESHOLDS` replaced; everything else as shipped."""
    rules = copy.deepcopy(shipped)
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = TEST_FOR
            if rule.get("record") in TEST_THRESHOLDS:
                rule["expr"] = TEST_THRESHOLDS[rule["record"]]
    return rules


def derived_alertmanager_config(shipped: dict[str, Any], webhook_url: str) -> dict[str, Any]:
    """The shipped configuration with the timers of :data:`TEST_TIMERS` wherever a route
    sets them, and every receiver a webhook to ``{webhook_url}/{receiver name}``."""
    config = copy.deepcopy(shipped)

    def shorten(route: dict[str, Any]) -> None:
        for timer, value in TEST_TIMERS.items():
            if timer in route:
                route[timer] = value
        for child in route.get("routes", []):
            shorten(child)

    shorten(config["route"])
    config["receivers"] = [
        {
            "name": receiver["name"],
            "webhook_configs": [
                {"url": f"{webhook_url}/{receiver['name']}", "send_resolved": True}
            ],
        }
        for receiver in shipped["receivers"]
    ]
    return config


def prometheus_config(
    rules: Path, alertmanager: str, apps: dict[str, str], collector: str
) -> dict[str, Any]:
    return {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "scrape_timeout": SCRAPE_INTERVAL,
            "evaluation_interval": "1s",
        },
        "rule_files": [str(rules)],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [
            # Named after the service, as the Collector's exporter labels job; honor_labels
            # as for the Collector's target.
            *(
                {"job_name": job, "honor_labels": True, "static_configs": [{"targets": [t]}]}
                for job, t in apps.items()
            ),
            {"job_name": COLLECTOR_JOB, "static_configs": [{"targets": [collector]}]},
        ],
    }


# --------------------------------------------------------------------------- test servers


@dataclass(frozen=True)
class Notification:
    """One webhook request from Alertmanager (its JSON body, version 4)."""

    path: str
    body: dict[str, Any]

    @property
    def receiver(self) -> str:
        return str(self.body["receiver"])

    @property
    def group_labels(self) -> Labels:
        return dict(self.body["groupLabels"])

    @property
    def group_key(self) -> str:
        return str(self.body["groupKey"])

    def firing(self) -> list[Labels]:
        return [dict(a["labels"]) for a in self.body["alerts"] if a["status"] == "firing"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class WebhookReceiver:
    """Records every notification POSTed to it; answers 200."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Notification] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with receiver._lock:
                    receiver._received.append(Notification(self.path, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def received(self) -> list[Notification]:
        with self._lock:
            return list(self._received)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class CollectorStandIn:
    """Answers ``GET /metrics`` like a Collector's own metrics endpoint, until stopped."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = b"otelcol_process_uptime_seconds_total 1\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._stopped = False

    def stop(self) -> None:
        """Close the port: every scrape from now on fails (``up`` is 0)."""
        if not self._stopped:
            self._stopped = True
            self._server.shutdown()
            self._server.server_close()


class App:
    """``tests/alerting_app.py PROFILE`` serving /metrics on a free port."""

    def __init__(self, profile: str, workdir: Path) -> None:
        self.port = free_port()
        self.log = workdir / f"app-{profile}.log"
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(APP), profile],
            cwd=REPO_ROOT,
            env=demo_env(
                OTEL_EXPORTER_PROMETHEUS_HOST="127.0.0.1",
                OTEL_EXPORTER_PROMETHEUS_PORT=str(self.port),
            ),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
        )

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def wait_serving(self) -> None:
        """Until the app has recorded its first round (the first scrape comes after it, so
        start-up costs never count in a rate)."""
        assert self.process.stdout is not None
        readable, _, _ = select.select([self.process.stdout], [], [], APP_READY_TIMEOUT_S)
        line = self.process.stdout.readline() if readable else b""
        if line.strip() != b"serving":
            raise AssertionError(
                f"{APP.name} did not start within {APP_READY_TIMEOUT_S:.0f}s (exit code "
                f"{self.process.poll()}, printed {line!r}):\n{self.output()}"
            )

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(
                f"{APP.name} exited with {self.process.returncode}:\n{self.output()}"
            )

    def stop(self) -> None:
        """Close stdin (the app exits on its own), then terminate, then kill."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=APP_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(timeout=APP_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=APP_STOP_TIMEOUT_S)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log_file.close()


class Alertmanager:
    """A thin client for Alertmanager's v2 HTTP API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = requests.get(
            f"{self.base_url}/api/v2/alerts", timeout=10
        ).json()
        return alerts


# --------------------------------------------------------------------------- the run



def arrived(received: list[Notification], alerts: list[Labels]) -> bool:
    """Every one of ``alerts`` has arrived, firing, in some notification."""
    firing = [alert for n in received for alert in n.firing()]
    return all(alert in firing for alert in alerts)


def arrived_together(received: list[Notification], alerts: list[Labels]) -> bool:
    """Each group of ``alerts`` (same alertname and job: the shipped ``group_by``) has
    arrived whole in one notification."""
    groups: dict[tuple[str, str], list[Labels]] = {}
    for alert in alerts:
        groups.setdefault((alert["alertname"], alert["job"]), []).append(alert)
    return all(
        any(all(alert in n.firing() for alert in group) for n in received)
        for group in groups.values()
    )


def settle(what: str, condition: Callable[[], bool]) -> None:
    """Wait up to :data:`SETTLE_S` for a state the tests then check themselves, so that a
    wrong routing, grouping or inhibition fails with the test's message, not a timeout."""
    with contextlib.suppress(AssertionError):
        poll(what, condition, SETTLE_S)


@dataclass
class AlertRun:
    """What the run observed, for the tests to read."""

    collector: str  # the stand-in's address: the instance label of TelemetryPipelineDown
    before_outage: list[Notification]  # everything received while the Collector answered
    received: list[Notification]  # everything received by the end of the run
    fired: list[Labels]  # every alert that was firing in Prometheus at any time (ALERTS)
    alertmanager_alerts: list[dict[str, Any]]  # Alertmanager's alerts during the outage
    under_signals: dict[str, list[tuple[float, float]]]  # (value, threshold) per series

    @property
    def pipeline_down(self) -> Labels:
        return pipeline_down_alert(self.collector)


def pipeline_down_alert(collector: str) -> Labels:
    """The alert for the Collector target at ``collector`` (``host:port``) being down."""
    return {
        "alertname": "TelemetryPipelineDown",
        "job": COLLECTOR_JOB,
        "instance": collector,
        "severity": "critical",
    }


def fired_alerts(prometheus: Prometheus) -> list[Labels]:
    """Every alert series that was firing at some point in the last 15 minutes."""
    samples = prometheus.vector('max_over_time(ALERTS{alertstate="firing"}[15m])')
    fired = []
    for labels, _ in samples:
        labels.pop("alertstate", None)
        labels.pop("__name__", None)
        fired.append(labels)
    return fired


def under_signals(prometheus: Prometheus) -> dict[str, list[tuple[float, float]]]:
    """Each signal of the under-thresholds job: (value, threshold) per series."""
    found = {}
    for signal, threshold in SIGNALS_AND_THRESHOLDS:
        limit = prometheus.vector(threshold)[0][1]
        values = prometheus.vector(f'{signal}{{job="{UNDER}"}}')
        found[signal] = [(value, limit) for _, value in values]
    return found


@pytest.fixture(scope="module")
def run() -> Iterator[AlertRun]:
    binary("prometheus", package="prometheus")
    binary("alertmanager", "prometheus-alertmanager", package="prometheus-alertmanager")
    with tempfile.TemporaryDirectory(prefix="agentotel-alerts-") as tmp:
        workdir = Path(tmp)
        webhook = WebhookReceiver()
        collector = CollectorStandIn()
        apps: list[App] = []
        try:
            rules_path = workdir / "alerts.yml"
            rules_path.write_text(yaml.safe_dump(derived_rules(yaml.safe_load(RULES.read_text()))))
            am_config = derived_alertmanager_config(
                yaml.safe_load(ALERTMANAGER.read_text()), webhook.url
            )
            am_port, prom_port = free_port(), free_port()
            with alertmanager_server(am_config, workdir, am_port) as am_server:
                apps = [App("over", workdir), App("under", workdir)]
                for app in apps:
                    app.wait_serving()
                config = prometheus_config(
                    rules_path,
                    f"127.0.0.1:{am_port}",
                    {OVER: apps[0].target, UNDER: apps[1].target},
                    collector.address,
                )
                with prometheus_server(config, workdir, prom_port) as prom_server:
                    try:
                        yield observe(
                            Prometheus(f"http://127.0.0.1:{prom_port}"),
                            Alertmanager(f"http://127.0.0.1:{am_port}"),
                            webhook,
                            collector,
                            apps,
                        )
                    except AssertionError as error:
                        logs = "".join(
                            f"\n--- {name} (end)\n{text}"
                            for name, text in [
                                ("prometheus log", prom_server.output()),
                                ("alertmanager log", am_server.output()),
                                *((app.log.name, app.output()) for app in apps),
                            ]
                        )
                        received = "\n".join(json.dumps(n.body) for n in webhook.received())
                        raise AssertionError(
                            f"{error}\n--- received\n{received}{logs}"
                        ) from error
        finally:
            for app in apps:
                app.stop()
            collector.stop()
            webhook.close()


def observe(
    prometheus: Prometheus,
    alertmanager: Alertmanager,
    webhook: WebhookReceiver,
    collector: CollectorStandIn,
    apps: list[App],
) -> AlertRun:
    """Wait for the alerts over the thresholds, then stop the Collector stand-in and wait
    for its page and the inhibition of every warning."""

    def received() -> list[Notification]:
        for app in apps:
            app.check_alive()
        return webhook.received()

    # 1. The Collector answers: the alerts over the thresholds arrive. Alerts of one group
    # can cross their thresholds an evaluation apart: the group's next notification, one
    # group_interval later, carries them all.
    expected = EXPECTED_WARNINGS + EXPECTED_CRITICAL
    poll("every alert over the thresholds to arrive", lambda: arrived(received(), expected))
    settle("each group to arrive whole", lambda: arrived_together(received(), expected))
    before_outage = webhook.received()

    # 2. The Collector stops answering: its page arrives, and the warnings are held back.
    collector.stop()
    pipeline_down = pipeline_down_alert(collector.address)
    poll("the TelemetryPipelineDown alert to arrive", lambda: arrived(received(), [pipeline_down]))

    def every_warning_held_back() -> bool:
        warnings = [a for a in alertmanager.alerts() if a["labels"]["severity"] == "warning"]
        return bool(warnings) and all(a["status"]["state"] == "suppressed" for a in warnings)

    settle("Alertmanager to hold back the warnings", every_warning_held_back)
    during_outage = alertmanager.alerts()
    return AlertRun(
        collector=collector.address,
        before_outage=before_outage,
        received=webhook.received(),
        fired=fired_alerts(prometheus),
        alertmanager_alerts=during_outage,
        under_signals=under_signals(prometheus),
    )


# --------------------------------------------------------------------------- tests: the run


def sort_key(labels: Labels) -> list[tuple[str, str]]:
    return sorted(labels.items())


def test_exactly_the_alerts_over_the_thresholds_fire(run: AlertRun) -> None:
    expected = EXPECTED_WARNINGS + EXPECTED_CRITICAL + [run.pipeline_down]
    assert sorted(run.fired, key=sort_key) == sorted(expected, key=sort_key)


def test_warnings_arrive_at_the_slack_receiver_only(run: AlertRun) -> None:
    arrived = [(n.path, a) for n in run.received for a in n.firing() if a["severity"] == "warning"]
    assert {path for path, _ in arrived} == {"/slack"}
    assert all(n.receiver == "slack" for n in run.received if n.path == "/slack")
    assert sorted({json.dumps(a, sort_keys=True) for _, a in arrived}) == sorted(
        json.dumps(a, sort_keys=True) for a in EXPECTED_WARNINGS
    )


def test_critical_alerts_arrive_at_the_pagerduty_receiver_only(run: AlertRun) -> None:
    arrived = [
        (n.path, a) for n in run.received for a in n.firing() if a["severity"] == "critical"
    ]
    assert {path for path, _ in arrived} == {"/pagerduty"}
    assert all(n.receiver == "pagerduty" for n in run.received if n.path == "/pagerduty")
    assert sorted({json.dumps(a, sort_keys=True) for _, a in arrived}) == sorted(
        json.dumps(a, sort_keys=True) for a in [*EXPECTED_CRITICAL, run.pipeline_down]
    )


def test_nothing_reaches_the_default_email_receiver(run: AlertRun) -> None:
    # Every alert of the project has a severity, so the root route's receiver gets none.
    assert [n.body for n in run.received if n.receiver == "email" or n.path == "/email"] == []


def test_each_notification_is_one_group_of_one_alertname_and_job(run: AlertRun) -> None:
    for n in run.received:
        labels = n.group_labels
        assert set(labels) == {"alertname", "job"}, n.body
        assert {(a["alertname"], a["job"]) for a in n.firing()} <= {
            (labels["alertname"], labels["job"])
        }
        severity = "critical" if n.receiver == "pagerduty" else "warning"
        # the group key names the route (its matchers) and the grouping labels
        assert n.group_key == (
            f'{{}}/{{severity="{severity}"}}:'
            f'{{alertname="{labels["alertname"]}", job="{labels["job"]}"}}'
        )


def test_alerts_of_the_same_name_and_job_arrive_together(run: AlertRun) -> None:
    def together(name: str, label: str) -> set[str]:
        """The largest set of ``label`` values that arrived in one notification."""
        sets = [
            {a[label] for a in n.firing()}
            for n in run.before_outage
            if n.group_labels == {"alertname": name, "job": OVER}
        ]
        return max(sets, key=len, default=set())

    assert together("AgentErrorRateHigh", "gen_ai_agent_name") == {"triage", "billing"}
    assert together("GuardrailViolationSpike", "agentotel_guardrail_name") == {
        "pii-filter", "jailbreak",
    }


def test_traffic_under_the_thresholds_raises_no_alert(run: AlertRun) -> None:
    assert [a for a in run.fired if a.get("job") == UNDER] == []
    assert [a for n in run.received for a in n.firing() if a["job"] == UNDER] == []
    # ... and the over-thresholds job's agents, tool and guardrail that stay under
    quiet = {"faq", "calculator", "toxicity"}
    assert [a for a in run.fired if quiet & set(a.values())] == []


def test_the_under_thresholds_signals_are_evaluated_and_under(run: AlertRun) -> None:
    assert run.under_signals, "no signal read"
    empty = [signal for signal, values in run.under_signals.items() if not values]
    over = {
        signal: values
        for signal, values in run.under_signals.items()
        if any(value > limit for value, limit in values)
    }
    assert (empty, over) == ([], {})


def test_the_collector_outage_pages_and_holds_back_every_warning(run: AlertRun) -> None:
    by_name = {a["labels"]["alertname"]: a for a in run.alertmanager_alerts}
    down = by_name["TelemetryPipelineDown"]
    assert down["status"]["state"] == "active"
    assert by_name["LLMCostBudget"]["status"]["state"] == "active"
    warnings = [a for a in run.alertmanager_alerts if a["labels"]["severity"] == "warning"]
    assert sorted((a["labels"] for a in warnings), key=sort_key) == sorted(
        EXPECTED_WARNINGS, key=sort_key
    )
    assert {
        (a["status"]["state"], tuple(a["status"]["inhibitedBy"])) for a in warnings
    } == {("suppressed", (down["fingerprint"],))}
    assert [a["receivers"] for a in warnings] == [[{"name": "slack"}]] * len(warnings)


# --------------------------------------------------------------------------- tests: derivation


def test_the_test_rules_change_only_the_for_durations_and_the_agent_p95_threshold() -> None:
    shipped = yaml.safe_load(RULES.read_text())
    derived = derived_rules(shipped)
    changes = []
    for group_s, group_d in zip(shipped["groups"], derived["groups"], strict=True):
        for rule_s, rule_d in zip(group_s["rules"], group_d["rules"], strict=True):
            for key in sorted(set(rule_s) | set(rule_d)):
                if rule_s.get(key) != rule_d.get(key):
                    changes.append((rule_s.get("alert", rule_s.get("record")), key, rule_d[key]))
    with_for = [r["alert"] for g in shipped["groups"] for r in g["rules"] if "for" in r]
    assert sorted(changes) == sorted(
        [(name, "for", TEST_FOR) for name in with_for]
        + [("agentotel:threshold:agent_p95_seconds", "expr", "vector(0.3)")]
    )


def test_the_test_alertmanager_config_keeps_the_shipped_routing_and_inhibition() -> None:
    shipped = yaml.safe_load(ALERTMANAGER.read_text())
    derived = derived_alertmanager_config(shipped, "http://127.0.0.1:1")

    def without_timers(route: dict[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in route.items() if k not in TEST_TIMERS and k != "routes"}
        return {**kept, "routes": [without_timers(r) for r in route.get("routes", [])]}

    assert without_timers(derived["route"]) == without_timers(shipped["route"])
    assert derived["inhibit_rules"] == shipped["inhibit_rules"]
    assert derived["global"] == shipped["global"]
    assert [r["name"] for r in derived["receivers"]] == [r["name"] for r in shipped["receivers"]]
    assert [r["webhook_configs"][0]["url"] for r in derived["receivers"]] == [
        f"http://127.0.0.1:1/{r['name']}" for r in shipped["receivers"]
    ]
    assert derived["route"]["group_wait"] == "1s"
    assert derived["route"]["group_interval"] == "2s"


def test_the_test_alertmanager_config_passes_amtool_check_config(tmp_path: Path) -> None:
    amtool = binary("amtool", package="prometheus-alertmanager")
    path = tmp_path / "alertmanager.yml"
    shipped = yaml.safe_load(ALERTMANAGER.read_text())
    path.write_text(yaml.safe_dump(derived_alertmanager_config(shipped, "http://127.0.0.1:1")))
    result = subprocess.run(
        [amtool, "check-config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr

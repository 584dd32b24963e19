"""The ``agentotel`` command: ``agentotel doctor`` and ``agentotel run`` / ``agentotel-instrument``.

``doctor`` runs as a user runs it, a separate process, against the OTLP receiver (an
endpoint that answers) and a closed port (one that does not). ``run`` is exercised end to
end by ``test_zero_code.py``; here, the handing off.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from otlp_receiver import OtlpReceiver, free_port

from agentotel import cli

BIN = Path(sys.executable).parent


def _doctor(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    environment.update(env)
    return subprocess.run([str(BIN / "agentotel"), "doctor"], env=environment,
                          capture_output=True, text=True, timeout=60)


def test_doctor_says_each_endpoint_answers_and_exits_0(otlp_receiver: OtlpReceiver) -> None:
    result = _doctor(OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.http_endpoint)

    assert result.returncode == 0, result.stdout + result.stderr
    for signal in ("traces", "metrics", "logs"):
        assert (f"  {signal}: {otlp_receiver.http_endpoint}/v1/{signal} (set by "
                "OTEL_EXPORTER_OTLP_ENDPOINT): answers (OTLP/HTTP 200)") in result.stdout


def test_doctor_names_an_endpoint_that_does_not_answer_and_exits_1() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"

    result = _doctor(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_METRICS_EXPORTER="none",
                     OTEL_LOGS_EXPORTER="none")

    assert result.returncode == 1
    assert f"  traces: {endpoint}/v1/traces (set by OTEL_EXPORTER_OTLP_ENDPOINT): does not answer" \
        in result.stdout
    assert "`make up`" in result.stdout


def test_doctor_prints_the_resolved_configuration_and_versions() -> None:
    result = _doctor(OTEL_SERVICE_NAME="support-bot", OTEL_TRACES_EXPORTER="console",
                     OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none")

    assert "  service_name = support-bot" in result.stdout
    assert "  traces_exporter = console" in result.stdout
    assert "  opentelemetry-sdk 1.45." in result.stdout
    assert "none: no signal is exported over OTLP" in result.stdout


def test_doctor_lists_the_instrumentations_and_who_enables_them() -> None:
    result = _doctor(OTEL_TRACES_EXPORTER="none", OTEL_METRICS_EXPORTER="none",
                     OTEL_LOGS_EXPORTER="none", OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="requests")

    lines = result.stdout.splitlines()
    assert any(line.startswith("  openai: opentelemetry-instrumentation-genai-openai ")
               and line.endswith("enabled by init() when its library is imported")
               for line in lines), result.stdout
    assert any(line.startswith("  requests: ")
               and line.endswith("disabled (OTEL_PYTHON_DISABLED_INSTRUMENTATIONS)")
               for line in lines), result.stdout


def test_doctor_reports_the_prometheus_port_and_its_mode() -> None:
    port = free_port()

    result = _doctor(OTEL_TRACES_EXPORTER="none", OTEL_LOGS_EXPORTER="none",
                     OTEL_METRICS_EXPORTER="prometheus", OTEL_EXPORTER_PROMETHEUS_PORT=str(port))

    assert (f"  http://localhost:{port}/metrics: port free; this process's measurements only "
            "(PROMETHEUS_MULTIPROC_DIR unset)") in result.stdout


def test_run_chooses_agentotels_distro_and_configurator_unless_set() -> None:
    env = cli.run_environment({"OTEL_PYTHON_CONFIGURATOR": "mine"})

    assert env["OTEL_PYTHON_DISTRO"] == "agentotel"
    assert env["OTEL_PYTHON_CONFIGURATOR"] == "mine"


def test_run_without_a_command_says_what_to_give() -> None:
    result = subprocess.run([str(BIN / "agentotel-instrument")], capture_output=True, text=True,
                            timeout=60)

    assert result.returncode == 2
    assert "agentotel run python app.py" in result.stderr

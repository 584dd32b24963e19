"""The ``agentotel`` command: ``agentotel run COMMAND...`` (also ``agentotel-instrument
COMMAND...``) and ``agentotel doctor``.

``run`` starts ``COMMAND`` under ``opentelemetry-instrument`` with agentotel's distro and
configurator chosen (``OTEL_PYTHON_DISTRO`` / ``OTEL_PYTHON_CONFIGURATOR=agentotel``,
unless already set), so an application that never imports agentotel exports through
agentotel's pipeline. A command ``python`` / ``python3`` is this interpreter (the one
agentotel is installed in), not whichever is first on ``PATH``.

``doctor`` is the first thing to run when nothing shows up: the resolved configuration
(the settings table, from the ``OTEL_*`` / ``AGENTOTEL_*`` variables), the instrumentations
installed, enabled, disabled or shadowed, whether each OTLP endpoint answers, the
Prometheus port, the distros and configurators installed, versions. It exits 1 when an
OTLP endpoint does not answer, else 0.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any, TextIO
from urllib.parse import urlsplit

from opentelemetry.instrumentation.environment_variables import (
    OTEL_PYTHON_CONFIGURATOR,
    OTEL_PYTHON_DISTRO,
)

from agentotel import distro as _distro
from agentotel._providers import _otlp_kwargs, endpoint_source
from agentotel._settings import SIGNALS, Settings, resolve

#: the distributions whose versions doctor prints
VERSIONS = (
    "agentotel",
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry-exporter-otlp-proto-grpc",
    "opentelemetry-exporter-prometheus",
    "opentelemetry-instrumentation",
    "prometheus-client",
)
CONNECT_TIMEOUT_S = 2.0


# --------------------------------------------------------------------------- run


def run_environment(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` with agentotel's distro and configurator chosen (unless set)."""
    env = dict(environ)
    env.setdefault(OTEL_PYTHON_DISTRO, _distro.NAME)
    env.setdefault(OTEL_PYTHON_CONFIGURATOR, _distro.NAME)
    return env


def run_command(command: Sequence[str]) -> int:
    """Replace this process with ``opentelemetry-instrument COMMAND`` (returns only on an
    error: 2, with a message)."""
    if not command:
        print("agentotel run: give the command to run, e.g. agentotel run python app.py",
              file=sys.stderr)
        return 2
    argv = list(command)
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    os.environ.update(run_environment(dict(os.environ)))  # for the command it execs
    from opentelemetry.instrumentation.auto_instrumentation import run

    sys.argv = ["opentelemetry-instrument", *argv]
    run()  # execs the command
    return 0


def instrument() -> None:
    """``agentotel-instrument COMMAND...``: the same as ``agentotel run COMMAND...``."""
    sys.exit(run_command(sys.argv[1:]))


# --------------------------------------------------------------------------- doctor


def _answers(endpoint: str, protocol: str) -> str:
    """``answers`` / why not, for one OTLP endpoint (a TCP connection, then for HTTP an
    empty export: a Collector answers it with 200)."""
    parts = urlsplit(endpoint)
    host = parts.hostname or "localhost"
    port = parts.port or (443 if parts.scheme == "https" else 4317 if protocol == "grpc" else 80)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        return f"does not answer ({exc.strerror or exc})"
    if protocol == "grpc":
        return "answers (TCP)"
    import requests

    try:
        response = requests.post(
            endpoint, data=b"", timeout=CONNECT_TIMEOUT_S,
            headers={"Content-Type": "application/x-protobuf"},
        )
    except requests.RequestException as exc:
        return f"does not answer ({type(exc).__name__})"
    if response.status_code == 200:
        return "answers (OTLP/HTTP 200)"
    return f"answers with HTTP {response.status_code}: is it an OTLP receiver?"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _value(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "none"
    if value is None:
        return "(default)"
    if hasattr(value, "items") and not isinstance(value, str):
        return ",".join(f"{k}=***" if "header" in str(k).lower() else f"{k}={v}"
                        for k, v in value.items())
    return str(value)


def doctor(out: TextIO = sys.stdout, environ: dict[str, str] | None = None) -> int:
    """Print the report (see the module docstring); 1 when an OTLP endpoint does not
    answer."""
    settings = resolve({}, environ)
    problems = 0

    def say(text: str = "") -> None:
        print(text, file=out)

    say("agentotel doctor")
    say()
    say("versions")
    say(f"  Python {platform.python_version()} ({sys.executable})")
    for name in VERSIONS:
        say(f"  {name} {_version(name)}")

    say()
    say("configuration (argument > OTEL_* / AGENTOTEL_* variable > default)")
    for name in ("sdk_disabled", "service_name", "traces_exporter", "metrics_exporter",
                 "logs_exporter", "prometheus_host", "prometheus_port", "redact",
                 "capture_content", "system_metrics", "pipeline_metrics"):
        say(f"  {name} = {_value(getattr(settings, name))}")
    for signal in SIGNALS:
        otlp = settings.otlp(signal)
        headers = "set" if otlp.headers else "none"
        say(f"  {signal}: protocol {otlp.protocol}, timeout {otlp.timeout_s:g} s, "
            f"headers {headers}")

    say()
    say("OTLP endpoints")
    exporting = [s for s in SIGNALS if "otlp" in getattr(settings, f"{s}_exporter")]
    if not exporting:
        say("  none: no signal is exported over OTLP")
    for signal in exporting:
        endpoint = str(_otlp_kwargs(settings, signal)["endpoint"])
        verdict = _answers(endpoint, settings.otlp(signal).protocol)
        problems += not verdict.startswith("answers")
        say(f"  {signal}: {endpoint} (set by {endpoint_source(settings, signal)}): {verdict}")
    if problems:
        say("  -> start the local stack with `make up`, point OTEL_EXPORTER_OTLP_ENDPOINT at "
            "your Collector, or set OTEL_TRACES_EXPORTER=console to see traces here")

    say()
    say("Prometheus /metrics")
    say(_prometheus(settings))

    say()
    say("instrumentations (opentelemetry_instrumentor entry points)")
    for line in _instrumentations(settings):
        say(f"  {line}")

    say()
    say("auto-instrumentation (opentelemetry-instrument)")
    for group, variable in (("opentelemetry_distro", OTEL_PYTHON_DISTRO),
                            ("opentelemetry_configurator", OTEL_PYTHON_CONFIGURATOR)):
        names = [f"{ep.name} ({_distro.distribution(ep)})"
                 for ep in metadata.entry_points(group=group)]
        chosen = (environ or os.environ).get(variable)
        say(f"  {group}: {', '.join(names) or 'none'}; {variable}="
            f"{chosen or '(unset: the first found)'}")
    say(f"  `agentotel run python app.py` uses agentotel's ({_distro.NAME})")
    return 1 if problems else 0


def _prometheus(settings: Settings) -> str:
    if "prometheus" not in settings.metrics_exporter:
        return "  not used (OTEL_METRICS_EXPORTER has no prometheus)"
    from agentotel._prefork import PROMETHEUS_MULTIPROC_DIR, multiproc_dir

    address = f"{settings.prometheus_host}:{settings.prometheus_port}"
    try:
        with socket.create_connection(
            (settings.prometheus_host, settings.prometheus_port), timeout=CONNECT_TIMEOUT_S
        ):
            state = "in use now (another process serves it)"
    except OSError:
        state = "free"
    directory = multiproc_dir()
    mode = (
        f"pre-fork mode: every process's measurements, from {directory}"
        if directory
        else f"this process's measurements only ({PROMETHEUS_MULTIPROC_DIR} unset)"
    )
    return f"  http://{address}/metrics: port {state}; {mode}"


def _instrumentations(settings: Settings) -> list[str]:
    choice = _distro.installed_instrumentors()
    disabled = set(settings.disabled_instrumentations)
    lines = []
    for name, entry_point in sorted(choice.kept.items()):
        if "*" in disabled or name in disabled:
            state = "disabled (OTEL_PYTHON_DISABLED_INSTRUMENTATIONS)"
        elif _distro.enabled_by_init(name):
            state = "enabled by init() when its library is imported"
        else:
            state = "enabled under opentelemetry-instrument"
        lines.append(f"{name}: {_distro.distribution(entry_point)} "
                     f"{_version(_distro.distribution(entry_point))}; {state}")
    for loser, winner in choice.shadowed:
        lines.append(f"{loser.name}: {_distro.distribution(loser)} shadowed by "
                     f"{_distro.distribution(winner)} (one per name, the official one kept)")
    return lines or ["none installed"]


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    """The ``agentotel`` command."""
    parser = argparse.ArgumentParser(
        prog="agentotel", description="OpenTelemetry for agentic AI applications."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run a command under opentelemetry-instrument with agentotel's pipeline"
    )
    run.add_argument("argv", nargs=argparse.REMAINDER, help="the command, e.g. python app.py")
    commands.add_parser("doctor", help="print the configuration and check the endpoints")
    arguments = parser.parse_args(argv)
    if arguments.command == "run":
        sys.exit(run_command(arguments.argv))
    sys.exit(doctor())

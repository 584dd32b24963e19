"""Real servers for the live tests: Debian's ``prometheus`` and ``prometheus-alertmanager``.

- :func:`binary` finds a server's executable; without it the test is skipped, or fails
  in CI, where ``.ci/run`` installs the packages;
- :class:`Server` runs one on a loopback port, waits until it answers its readiness URL
  and stops it (terminate, then kill), keeping its output for failure messages;
  :func:`prometheus_server` and :func:`alertmanager_server` start them with a given
  configuration;
- :func:`poll` waits for a condition until a deadline, never for a fixed time;
- :class:`Prometheus` is a thin client of Prometheus's HTTP API.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import pytest
import requests
import yaml

T = TypeVar("T")

DEADLINE_S = 120.0
STOP_TIMEOUT_S = 20.0


def binary(*names: str, package: str) -> str:
    """The path of the first of ``names`` on ``PATH``; skip (fail in CI) without any."""
    for name in names:
        path = shutil.which(name)
        if path is not None:
            return path
    wanted = " or ".join(names)
    if os.environ.get("CI"):
        pytest.fail(f"{wanted} is not installed; .ci/run installs Debian's {package} package")
    pytest.skip(f"{wanted} is not installed (apt-get install {package})")


def poll(what: str, attempt: Callable[[], T], timeout_s: float = DEADLINE_S) -> T:
    """The first result of ``attempt`` that is truthy and raised no request/parse error."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            result = attempt()
            if result:
                return result
        except (requests.RequestException, ValueError, KeyError, IndexError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def epoch(rfc3339: str) -> float:
    """Seconds since the epoch of a timestamp as Prometheus and Alertmanager write them
    (``2026-01-01T10:00:00.123456789Z``: nanoseconds, which ``datetime`` cannot read)."""
    stamp = re.sub(r"(\.\d{6})\d*", r"\1", rfc3339.replace("Z", "+00:00"))
    return datetime.fromisoformat(stamp).timestamp()


class Server:
    """A server process on loopback; a context manager that stops it on exit."""

    def __init__(self, name: str, argv: Sequence[str], log: Path, ready_url: str) -> None:
        self.name = name
        self.log = log
        self._log_file = log.open("w")
        self.process = subprocess.Popen(
            list(argv), stdout=self._log_file, stderr=subprocess.STDOUT
        )
        self.ready_url = ready_url

    def output(self, last: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-last:]

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(
                f"{self.name} exited with {self.process.returncode}:\n{self.output()}"
            )

    def wait_ready(self) -> None:
        def ready() -> bool:
            self.check_alive()
            return requests.get(self.ready_url, timeout=2).status_code == 200

        poll(f"{self.name} to be ready", ready)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_S)
        self._log_file.close()

    def __enter__(self) -> Server:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def prometheus_server(config: dict[str, Any], workdir: Path, port: int) -> Server:
    """Debian's ``prometheus`` with ``config``, its data and log in ``workdir``."""
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    return Server(
        "prometheus",
        [
            binary("prometheus", package="prometheus"),
            f"--config.file={config_path}",
            f"--storage.tsdb.path={workdir / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1h",
        ],
        workdir / "prometheus.log",
        f"http://127.0.0.1:{port}/-/ready",
    )


class Prometheus:
    """A thin client for Prometheus's HTTP API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def query(self, expr: str) -> dict[str, Any]:
        response = self.session.get(
            f"{self.base_url}/api/v1/query", params={"query": expr}, timeout=10
        )
        body: dict[str, Any] = response.json()
        return body

    def vector(self, expr: str) -> list[tuple[dict[str, str], float]]:
        """The samples of an instant query: (labels, value) pairs."""
        body = self.query(expr)
        if body.get("status") != "success":
            raise AssertionError(f"{expr}: {body.get('errorType')}: {body.get('error')}")
        return [(item["metric"], float(item["value"][1])) for item in body["data"]["result"]]

    def label_values(self, label: str, match: str) -> list[str]:
        response = self.session.get(
            f"{self.base_url}/api/v1/label/{urllib.parse.quote(label)}/values",
            params={"match[]": match},
            timeout=10,
        )
        body = response.json()
        if body.get("status") != "success":
            raise AssertionError(f"label values {label} {match}: {body}")
        values: list[str] = body["data"]
        return values

    def rule_groups(self) -> list[dict[str, Any]]:
        body = self.session.get(f"{self.base_url}/api/v1/rules", timeout=10).json()
        groups: list[dict[str, Any]] = body["data"]["groups"]
        return groups

    def rules(self) -> list[dict[str, Any]]:
        return [rule for group in self.rule_groups() for rule in group["rules"]]


def alertmanager_server(config: dict[str, Any], workdir: Path, port: int) -> Server:
    """Debian's ``prometheus-alertmanager`` (``alertmanager`` upstream) with ``config``,
    alone (no cluster peers, so it notifies without waiting for a gossip to settle)."""
    config_path = workdir / "alertmanager.yml"
    config_path.write_text(yaml.safe_dump(config))
    return Server(
        "alertmanager",
        [
            binary("alertmanager", "prometheus-alertmanager", package="prometheus-alertmanager"),
            f"--config.file={config_path}",
            f"--storage.path={workdir / 'alertmanager-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        workdir / "alertmanager.log",
        f"http://127.0.0.1:{port}/-/ready",
    )

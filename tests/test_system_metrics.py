"""Process metrics: init() reports the process's CPU, resident memory, threads and GC through
``opentelemetry-instrumentation-system-metrics``; the host's CPU and memory by setting.

``init()`` sets process-global providers, so every application runs in its own
interpreter. Values are read from a real ``/metrics`` scrape (agentotel's Prometheus
exporter, parsed with ``prometheus_client``), a real OTLP export to the test receiver, or
the SDK's in-memory reader on a provider the application installed itself. The
application does something measurable between two scrapes (touches 128 MiB, starts five
threads, runs three full collections, spends CPU) and the metrics must move accordingly.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from typing import Any

import psutil
import pytest
from otlp_receiver import REPO_ROOT, OtlpReceiver, free_port
from prometheus_client.parser import text_string_to_metric_families

from agentotel import semconv
from agentotel._settings import ConfigError, resolve

SCOPE = "opentelemetry.instrumentation.system_metrics"
MIB = 1024 * 1024
PROCESS_NAMES = {
    semconv.PROM_PROCESS_CPU_TIME,
    semconv.PROM_PROCESS_MEMORY_USAGE,
    semconv.PROM_PROCESS_THREAD_COUNT,
    semconv.PROM_CPYTHON_GC_COLLECTIONS,
    semconv.PROM_CPYTHON_GC_COLLECTED_OBJECTS,
    semconv.PROM_CPYTHON_GC_UNCOLLECTABLE_OBJECTS,
}
HOST_NAMES = {semconv.PROM_SYSTEM_CPU_TIME, semconv.PROM_SYSTEM_MEMORY_USAGE}
PROCESS_OTEL_NAMES = [
    semconv.METRIC_CPYTHON_GC_COLLECTED_OBJECTS,
    semconv.METRIC_CPYTHON_GC_COLLECTIONS,
    semconv.METRIC_CPYTHON_GC_UNCOLLECTABLE_OBJECTS,
    semconv.METRIC_PROCESS_CPU_TIME,
    semconv.METRIC_PROCESS_MEMORY_USAGE,
    semconv.METRIC_PROCESS_THREAD_COUNT,
]


def run(script: str, env: dict[str, str] | None = None) -> Any:
    """Run ``script`` in a fresh interpreter without OTEL_* / AGENTOTEL_* variables; the
    JSON it prints last."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    clean.update(env or {})
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=REPO_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------- over a /metrics scrape

SCRAPED_APP = """
import gc, json, os, threading
import requests
import agentotel

telemetry = agentotel.init(
    "process-metrics", traces_exporter="none", logs_exporter="none",
    metrics_exporter="prometheus",
)
url = "http://127.0.0.1:" + os.environ["OTEL_EXPORTER_PROMETHEUS_PORT"] + "/metrics"
before = requests.get(url, timeout=10).text
ballast = bytearray(128 * 1024 * 1024)
for page in range(0, len(ballast), 4096):  # touched, so resident
    ballast[page] = 1
stop = threading.Event()
workers = [threading.Thread(target=stop.wait) for _ in range(5)]
for worker in workers:
    worker.start()
for _ in range(3):
    gc.collect()
sum(i * i for i in range(3_000_000))
after = requests.get(url, timeout=10).text
stop.set()
print(json.dumps({"reported": telemetry.system_metrics, "before": before, "after": after}))
"""


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def instrumentor_samples(text: str) -> Samples:
    """(sample name, labels without the scope labels) -> value, for the instrumentor's
    samples only (``prometheus_client``'s own ``process_*`` collectors are left out)."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("otel_scope_name") != SCOPE:
                continue
            labels = {k: v for k, v in sample.labels.items() if not k.startswith("otel_scope")}
            found[(sample.name, frozenset(labels.items()))] = sample.value
    return found


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(labels)[label] for sample, labels in samples if sample == name}


def scraped_run(level: str | None) -> dict[str, Any]:
    env = {"OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1",
           "OTEL_EXPORTER_PROMETHEUS_PORT": str(free_port())}
    if level is not None:
        env["AGENTOTEL_SYSTEM_METRICS"] = level
    output: dict[str, Any] = run(SCRAPED_APP, env)
    output["before"] = instrumentor_samples(output["before"])
    output["after"] = instrumentor_samples(output["after"])
    return output


@pytest.fixture(scope="module")
def default_run() -> dict[str, Any]:
    return scraped_run(None)


@pytest.fixture(scope="module")
def host_run() -> dict[str, Any]:
    return scraped_run("host")


def test_by_default_init_reports_the_process_metrics_and_no_host_metrics(
    default_run: dict[str, Any],
) -> None:
    assert names(default_run["after"]) == PROCESS_NAMES
    assert default_run["reported"] == PROCESS_OTEL_NAMES


def test_resident_memory_grows_by_what_the_process_touched(default_run: dict[str, Any]) -> None:
    before = value(default_run["before"], semconv.PROM_PROCESS_MEMORY_USAGE)
    after = value(default_run["after"], semconv.PROM_PROCESS_MEMORY_USAGE)
    assert after - before >= 120 * MIB


def test_thread_count_counts_the_threads_the_process_started(
    default_run: dict[str, Any],
) -> None:
    before = value(default_run["before"], semconv.PROM_PROCESS_THREAD_COUNT)
    after = value(default_run["after"], semconv.PROM_PROCESS_THREAD_COUNT)
    assert after - before >= 5


def test_full_collections_are_counted_per_generation(default_run: dict[str, Any]) -> None:
    collections = semconv.PROM_CPYTHON_GC_COLLECTIONS
    gen2 = {"cpython_gc_generation": "2", "generation": "2"}
    assert value(default_run["after"], collections, **gen2) - value(
        default_run["before"], collections, **gen2
    ) >= 3
    for name in (collections, semconv.PROM_CPYTHON_GC_COLLECTED_OBJECTS,
                 semconv.PROM_CPYTHON_GC_UNCOLLECTABLE_OBJECTS):
        assert label_values(default_run["after"], name, "cpython_gc_generation") == {"0", "1", "2"}


def test_cpu_time_is_reported_as_user_and_system_and_rises_with_work(
    default_run: dict[str, Any],
) -> None:
    cpu = semconv.PROM_PROCESS_CPU_TIME
    assert label_values(default_run["after"], cpu, "type") == {"user", "system"}
    assert value(default_run["after"], cpu, type="user") > value(
        default_run["before"], cpu, type="user"
    )


def test_no_deprecated_process_runtime_metric_is_reported(default_run: dict[str, Any]) -> None:
    assert [n for n in names(default_run["after"]) if n.startswith("process_runtime")] == []


def test_host_level_adds_the_hosts_cpu_and_memory(host_run: dict[str, Any]) -> None:
    assert names(host_run["after"]) == PROCESS_NAMES | HOST_NAMES
    assert host_run["reported"] == sorted(
        PROCESS_OTEL_NAMES + [semconv.METRIC_SYSTEM_CPU_TIME, semconv.METRIC_SYSTEM_MEMORY_USAGE]
    )
    cpu = semconv.PROM_SYSTEM_CPU_TIME
    assert label_values(host_run["after"], cpu, "state") == set(semconv.SYSTEM_CPU_TIME_STATES)
    assert len(label_values(host_run["after"], cpu, "cpu")) == len(psutil.cpu_times(percpu=True))


def test_host_memory_is_reported_per_state_and_used_is_below_the_total(
    host_run: dict[str, Any],
) -> None:
    memory = semconv.PROM_SYSTEM_MEMORY_USAGE
    assert label_values(host_run["after"], memory, "state") == set(semconv.SYSTEM_MEMORY_STATES)
    assert 0 < value(host_run["after"], memory, state="used") < psutil.virtual_memory().total


def test_off_reports_no_process_metric() -> None:
    output = scraped_run("off")
    assert (output["reported"], names(output["after"])) == ([], set())


# ------------------------------------------------------------------- over OTLP


def test_process_metrics_leave_over_otlp_with_their_units(otlp_receiver: OtlpReceiver) -> None:
    run(
        f"""
        import agentotel
        telemetry = agentotel.init("process-metrics", traces_exporter="none",
                                   logs_exporter="none", endpoint={otlp_receiver.http_endpoint!r})
        telemetry.shutdown()
        print("{{}}")
        """
    )
    points = [p for p in otlp_receiver.metric_points() if p.scope_name == SCOPE]
    shapes = {(p.name, p.unit, p.data_type, p.is_monotonic) for p in points}
    assert shapes == {
        (semconv.METRIC_PROCESS_CPU_TIME, "s", "sum", True),
        (semconv.METRIC_PROCESS_MEMORY_USAGE, "By", "sum", False),
        (semconv.METRIC_PROCESS_THREAD_COUNT, "", "sum", False),
        (semconv.METRIC_CPYTHON_GC_COLLECTIONS, "{collection}", "sum", True),
        (semconv.METRIC_CPYTHON_GC_COLLECTED_OBJECTS, "{object}", "sum", True),
        (semconv.METRIC_CPYTHON_GC_UNCOLLECTABLE_OBJECTS, "{object}", "sum", True),
    }
    generations = {
        p.attributes[semconv.CPYTHON_GC_GENERATION]
        for p in points if p.name == semconv.METRIC_CPYTHON_GC_COLLECTIONS
    }
    assert generations == {0, 1, 2}
    assert {p.resource.get(semconv.SERVICE_NAME) for p in points} == {"process-metrics"}


# ------------------------------------------------- the application's own meter provider

APP_PROVIDER = """
import json, os
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

reader = InMemoryMetricReader()
provider = MeterProvider(metric_readers=[reader])
metrics.set_meter_provider(provider)

SCOPE = "opentelemetry.instrumentation.system_metrics"

def points(name=None):
    data = reader.get_metrics_data()
    return {
        metric.name: [p.value for p in metric.data.data_points]
        for rm in (data.resource_metrics if data else [])
        for sm in rm.scope_metrics if sm.scope.name == SCOPE
        for metric in sm.metrics if metric.data.data_points and name in (None, metric.name)
    }

import agentotel
options = dict(traces_exporter="none", logs_exporter="none")
"""


def test_shutdown_stops_the_process_metrics_on_a_provider_the_application_keeps() -> None:
    output = run(
        APP_PROVIDER
        + """
telemetry = agentotel.init("svc", **options)
while_running = sorted(points())
telemetry.shutdown()
after_shutdown = sorted(points())
again = agentotel.init("svc", **options)
print(json.dumps({"running": while_running, "shut down": after_shutdown,
                  "init again": sorted(points()), "reported": again.system_metrics}))
"""
    )
    assert output == {
        "running": PROCESS_OTEL_NAMES,
        "shut down": [],
        "init again": PROCESS_OTEL_NAMES,
        "reported": PROCESS_OTEL_NAMES,
    }


def test_init_leaves_a_system_metrics_instrumentation_of_the_application_alone() -> None:
    output = run(
        APP_PROVIDER
        + """
from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor
own = {"system.network.io": ["transmit", "receive"], "process.memory.usage": None}
SystemMetricsInstrumentor(config=own).instrument(meter_provider=provider)
telemetry = agentotel.init("svc", **options)
print(json.dumps({"reported": telemetry.system_metrics, "names": sorted(points())}))
"""
    )
    assert output == {
        "reported": [],
        "names": [semconv.METRIC_PROCESS_MEMORY_USAGE, "system.network.io"],
    }


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_process_forked_after_init_reports_its_own_memory() -> None:
    output = run(
        APP_PROVIDER
        + """
agentotel.init("svc", **options)
parent = points("process.memory.usage")["process.memory.usage"][0]
read_end, write_end = os.pipe()
pid = os.fork()
if pid == 0:
    ballast = bytearray(256 * 1024 * 1024)
    for page in range(0, len(ballast), 4096):
        ballast[page] = 1
    child = points("process.memory.usage")["process.memory.usage"][0]
    os.write(write_end, json.dumps(child).encode())
    os._exit(0)
os.close(write_end)
child = json.loads(os.read(read_end, 100))
os.waitpid(pid, 0)
print(json.dumps({"parent": parent, "child": child}))
"""
    )
    assert output["child"] - output["parent"] >= 200 * MIB


# ------------------------------------------------------------------- no work at import, off


def test_importing_agentotel_or_turning_the_metrics_off_imports_no_instrumentor() -> None:
    output = run(
        """
        import json, sys
        import agentotel
        imported = "opentelemetry.instrumentation.system_metrics" in sys.modules
        telemetry = agentotel.init("svc", traces_exporter="none", metrics_exporter="none",
                                   logs_exporter="none", system_metrics=False)
        print(json.dumps([imported,
                          "opentelemetry.instrumentation.system_metrics" in sys.modules,
                          telemetry.system_metrics]))
        """
    )
    assert output == [False, False, []]


# ------------------------------------------------------------------- the setting


@pytest.mark.parametrize(
    ("given", "level"),
    [(None, "process"), ("host", "host"), (" HOST ", "host"), ("off", "off"),
     (False, "off"), (True, "process"), ("false", "off")],
)
def test_system_metrics_setting_accepts_levels_and_booleans(given: object, level: str) -> None:
    arguments = {} if given is None else {"system_metrics": given}
    assert resolve(arguments, {}).system_metrics == level


def test_system_metrics_variable_is_read_when_no_argument_is_given() -> None:
    assert resolve({}, {"AGENTOTEL_SYSTEM_METRICS": "host"}).system_metrics == "host"
    assert resolve({"system_metrics": "off"},
                   {"AGENTOTEL_SYSTEM_METRICS": "host"}).system_metrics == "off"


def test_a_bad_system_metrics_argument_raises_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"argument system_metrics='all' is not valid; "
                       r"accepted: process, host, off \(or true/false\)"):
        resolve({"system_metrics": "all"}, {})


def test_a_bad_system_metrics_variable_warns_and_keeps_the_default(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        settings = resolve({}, {"AGENTOTEL_SYSTEM_METRICS": "everything"})
    assert settings.system_metrics == "process"
    assert messages(caplog.records) == [
        "agentotel: AGENTOTEL_SYSTEM_METRICS='everything' is not valid; accepted: process, "
        "host, off (or true/false); ignoring it (using 'process')"
    ]


def messages(records: Iterable[logging.LogRecord]) -> list[str]:
    return [record.getMessage() for record in records]

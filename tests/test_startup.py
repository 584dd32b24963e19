"""Start-up stays cheap: what ``import agentotel`` loads, and what it and ``init()`` cost.

A serverless cold start pays ``import agentotel`` and ``init()`` on every new instance, and
a library that only decorates its functions with agentotel pays the import alone. The
costs are compared, never asserted as absolute times (the machines are noisy): CPU
seconds of whole interpreter processes, the lowest of several runs taken in turn with
the yardstick, which is what an application hand-writing the same pipeline imports -
``opentelemetry.sdk.trace`` and the three OTLP/HTTP exporters.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest

#: what an application that writes its OpenTelemetry set-up by hand imports
YARDSTICK = (
    "import opentelemetry.sdk.trace, opentelemetry.exporter.otlp.proto.http.trace_exporter, "
    "opentelemetry.exporter.otlp.proto.http.metric_exporter, "
    "opentelemetry.exporter.otlp.proto.http._log_exporter"
)
#: ``init()`` with every default, in a process that ends right after it (no export)
IMPORT_AND_INIT = "import os, agentotel; agentotel.init(); os._exit(0)"

#: loaded by ``init()`` or on first use, never by ``import agentotel``
NOT_AT_IMPORT = (
    "agentotel._setup", "agentotel._settings", "agentotel._providers", "agentotel.integrations",
    "agentotel.redaction", "agentotel.logging", "structlog", "rich", "wrapt", "asyncio",
    "requests", "urllib3", "http.server", "wsgiref", "psutil", "genai_prices",
    "opentelemetry.sdk.trace", "opentelemetry.sdk.metrics", "opentelemetry.instrumentation",
)


def cpu_seconds(code: str, **env: str) -> float:
    """User + system CPU seconds of one ``python -c code`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, timeout=120,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/"),
             "OTEL_SERVICE_NAME": "startup-test", **env},
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def lowest_ratio(code: str, yardstick: str, runs: int = 5) -> float:
    """The lowest CPU time of ``code`` over the lowest of ``yardstick``, run in turn."""
    ours, theirs = [], []
    for _ in range(runs):
        ours.append(cpu_seconds(code))
        theirs.append(cpu_seconds(yardstick))
    return min(ours) / min(theirs)


def test_import_agentotel_loads_the_instruments_and_not_the_pipeline() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", "import sys, agentotel; print('\\n'.join(sys.modules))"],
        check=True, capture_output=True, text=True, timeout=60,
    )
    loaded = set(completed.stdout.split())
    assert "agentotel.operations" in loaded
    assert sorted(name for name in NOT_AT_IMPORT if name in loaded) == []


def test_the_pipeline_names_load_on_first_use() -> None:
    completed = subprocess.run(
        [sys.executable, "-c",
         "import sys, agentotel; from agentotel import ConfigError, Health, init; "
         "print(init.__module__, ConfigError.__module__, Health.__module__, "
         "'agentotel._setup' in sys.modules, agentotel.__version__)"],
        check=True, capture_output=True, text=True, timeout=60,
    )
    assert completed.stdout.split() == [
        "agentotel._setup", "agentotel._settings", "agentotel._health", "True", "0.1.0",
    ]


def test_an_unknown_name_is_an_attribute_error() -> None:
    import agentotel

    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        agentotel.nonexistent  # noqa: B018


def test_import_agentotel_costs_at_most_1_3_times_the_sdk_and_exporters_it_sets_up() -> None:
    assert lowest_ratio("import agentotel", YARDSTICK) <= 1.3


def test_import_and_init_cost_at_most_4_times_the_sdk_and_exporters_alone() -> None:
    # init() with every default builds three providers and exporters, redaction, logging,
    # the instrumentations and the process metrics; about 3 times the yardstick today
    assert lowest_ratio(IMPORT_AND_INIT, YARDSTICK, runs=3) <= 4.0

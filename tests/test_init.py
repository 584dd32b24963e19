"""agentotel.init(): providers, reuse, idempotence, disabled mode, exit, errors.

init() sets process-global providers, so each test runs its script in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(
    script: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_invalid_variable_warns_and_the_application_starts():
    result = run(
        """
        import agentotel
        telemetry = agentotel.init("svc", metrics_exporter="none", logs_exporter="none")
        with agentotel.tool("after_typo"):
            pass
        print("started with", telemetry.settings.traces_exporter)
        """,
        {"OTEL_TRACES_EXPORTER": "jaeger", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"},
    )
    assert result.returncode == 0, result.stderr
    assert "started with ('otlp',)" in result.stdout
    assert result.stderr.count("OTEL_TRACES_EXPORTER='jaeger' is not valid") == 1
    assert (
        "OTEL_TRACES_EXPORTER='jaeger' is not valid; accepted: a comma list of otlp, console, "
        "agentotel_console, none; ignoring it (using ('otlp',))" in result.stderr
    )


def test_invalid_argument_raises_config_error_naming_the_argument():
    result = run(
        """
        import agentotel
        try:
            agentotel.init("svc", traces_exporter="jaeger")
        except agentotel.ConfigError as exc:
            print("ERROR:", exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert (
        "ERROR: argument traces_exporter='jaeger' is not valid; accepted: a comma list of "
        "otlp, console, agentotel_console, none" in result.stdout
    )


def test_resource_carries_service_and_environment():
    result = run(
        """
        import json, agentotel
        t = agentotel.init("support-assistant", service_version="1.2.3", environment="staging",
                           traces_exporter="none", metrics_exporter="none", logs_exporter="none")
        print(json.dumps(dict(t.tracer_provider.resource.attributes)))
        """,
        {"OTEL_RESOURCE_ATTRIBUTES": "team=agents,service.name=overridden"},
    )
    assert result.returncode == 0, result.stderr
    attributes = json.loads(result.stdout)
    assert attributes["service.name"] == "support-assistant"
    assert attributes["service.version"] == "1.2.3"
    assert attributes["deployment.environment.name"] == "staging"
    assert attributes["team"] == "agents"


def test_second_init_returns_same_handle_with_warning_and_no_duplicate_exporters():
    result = run(
        """
        import agentotel
        options = dict(traces_exporter="agentotel_console", metrics_exporter="none",
                       logs_exporter="none")
        a = agentotel.init("svc", **options)
        b = agentotel.init("svc", **options)
        print("same:", a is b)
        with agentotel.tool("once"):
            pass
        """
    )
    assert result.returncode == 0, result.stderr
    assert "same: True" in result.stdout
    assert result.stdout.count("execute_tool once") == 1
    assert "init() was called again" in result.stderr


def test_sdk_disabled_makes_everything_a_noop():
    result = run(
        """
        import agentotel
        t = agentotel.init("svc", traces_exporter="agentotel_console")
        @agentotel.tool
        def double(x):
            return 2 * x
        with agentotel.llm("gpt-4o", provider="openai") as call:
            call.record_response(input_tokens=1, output_tokens=1)
        with agentotel.guardrail("g") as g:
            g.verdict("deny")
        print("result:", double(21))
        t.shutdown()
        """,
        {"OTEL_SDK_DISABLED": "true"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "result: 42"


def test_existing_sdk_providers_are_reused_without_adding_exporters():
    result = run(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)

        import agentotel
        t = agentotel.init("svc", metrics_exporter="none", logs_exporter="none")
        print("reused:", t.tracer_provider is provider)
        with agentotel.tool("search"):
            pass
        print("names:", [s.name for s in exporter.get_finished_spans()])
        """,
        {"OTEL_TRACES_EXPORTER": "agentotel_console"},
    )
    assert result.returncode == 0, result.stderr
    assert "reused: True" in result.stdout
    assert "names: ['execute_tool search']" in result.stdout
    assert "execute_tool search  " not in result.stdout  # no console tree added


def test_existing_provider_gets_exporters_when_asked_by_argument():
    result = run(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        trace.set_tracer_provider(TracerProvider())
        import agentotel
        agentotel.init("svc", traces_exporter="agentotel_console", metrics_exporter="none",
                       logs_exporter="none")
        with agentotel.tool("search"):
            pass
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("execute_tool search  ")


def test_metrics_are_flushed_at_interpreter_exit():
    result = run(
        """
        import agentotel
        agentotel.init("svc", traces_exporter="none", metrics_exporter="console",
                       logs_exporter="none")
        with agentotel.tool("exit_probe"):
            pass
        """,
        {"OTEL_METRIC_EXPORT_INTERVAL": "600000"},
    )
    assert result.returncode == 0, result.stderr
    assert '"gen_ai.execute_tool.duration"' in result.stdout
    assert '"gen_ai.tool.name": "exit_probe"' in result.stdout


def test_pricing_file_extends_the_packaged_table(tmp_path):
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"models": {"in-house-7b": {"input": 1.0, "output": 2.0}}}))
    result = run(
        """
        import agentotel
        from agentotel import _runtime
        agentotel.init("svc", traces_exporter="none", metrics_exporter="none", logs_exporter="none")
        print(_runtime.current().prices.cost("in-house-7b", 1_000_000, 1_000_000))
        print(_runtime.current().prices.cost("gpt-4o", 1_000_000, 0))
        """,
        {"AGENTOTEL_PRICING_FILE": str(prices)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3.0", "2.5"]


def test_unreadable_pricing_file_variable_warns_and_keeps_the_packaged_prices(tmp_path):
    result = run(
        """
        import agentotel
        from agentotel import _runtime
        agentotel.init("svc", traces_exporter="none", metrics_exporter="none", logs_exporter="none")
        print(_runtime.current().prices.cost("gpt-4o", 1_000_000, 0))
        """,
        {"AGENTOTEL_PRICING_FILE": str(tmp_path / "missing.json")},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2.5"]
    assert "AGENTOTEL_PRICING_FILE=" in result.stderr
    assert "missing.json" in result.stderr


def test_unreadable_pricing_file_argument_is_a_config_error(tmp_path):
    result = run(
        f"""
        import agentotel
        try:
            agentotel.init("svc", pricing_file={str(tmp_path / "missing.json")!r})
        except agentotel.ConfigError as exc:
            print("ERROR:", exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "ERROR: argument pricing_file=" in result.stdout
    assert "missing.json" in result.stdout


def test_importing_agentotel_reads_no_file_and_creates_no_instrument():
    result = run(
        """
        import sys
        opened = []
        sys.addaudithook(
            lambda event, args: opened.append(str(args[0]))
            if event == "open" and not str(args[0]).endswith((".py", ".pyc")) else None
        )
        import agentotel
        from agentotel import _runtime
        print("runtime:", _runtime.RUNTIME)
        print("opened:", [path for path in opened if "agentotel" in path])
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["runtime: None", "opened: []"]


def test_first_operation_before_init_uses_the_global_providers():
    result = run(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
        import agentotel
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        trace.set_tracer_provider(provider)
        with agentotel.tool("before_init"):
            pass
        """
    )
    assert result.returncode == 0, result.stderr
    assert '"name": "execute_tool before_init"' in result.stdout


def test_a_span_queue_below_the_default_batch_size_only_warns():
    result = run(
        """
        import agentotel
        t = agentotel.init("svc", metrics_exporter="none", logs_exporter="none")
        with agentotel.tool("after"):
            pass
        print("batch", t.settings.bsp_max_export_batch_size,
              "queue", t.health().signals["traces"].queue_capacity)
        """,
        {"OTEL_BSP_MAX_QUEUE_SIZE": "64", "OTEL_METRIC_EXPORT_INTERVAL": "0",
         "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_EXPORTER_OTLP_TIMEOUT": "500"},
    )
    assert result.returncode == 0, result.stderr
    assert "batch 64 queue 64" in result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.count("using batches of 64") == 1

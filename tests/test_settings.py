"""Settings: one typed table, argument > environment > default; bad arguments raise,
bad environment values warn once and are ignored (OpenTelemetry configuration spec)."""

from __future__ import annotations

import logging
import re
import typing
from dataclasses import FrozenInstanceError, fields

import docs_pages
import pytest

from agentotel._settings import (
    ConfigError,
    InitArguments,
    OtlpSettings,
    Settings,
    argument_names,
    configuration_table,
    resolve,
)

NO_ARGS: dict[str, object] = {}


def test_defaults_without_arguments_or_environment():
    settings = resolve(NO_ARGS, {})
    assert settings.traces_exporter == ("otlp",)
    assert settings.metrics_exporter == ("otlp",)
    assert settings.logs_exporter == ("otlp",)
    assert settings.traces.protocol == "http/protobuf"
    assert settings.logs.timeout_s == 10.0
    assert settings.metrics.endpoint is None
    assert (settings.prometheus_host, settings.prometheus_port) == ("localhost", 9464)
    assert settings.sdk_disabled is False
    assert settings.capture_content == "NO_CONTENT"
    assert settings.prices is None


def test_settings_are_frozen():
    settings = resolve(NO_ARGS, {})
    with pytest.raises(FrozenInstanceError):
        settings.service_name = "changed"  # type: ignore[misc]


def test_argument_wins_over_environment():
    env = {"OTEL_SERVICE_NAME": "from-env", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
    settings = resolve({"service_name": "from-arg", "protocol": "http/protobuf"}, env)
    assert settings.service_name == "from-arg"
    assert settings.metrics.protocol == "http/protobuf"


def test_environment_used_when_argument_absent():
    settings = resolve({}, {"OTEL_SERVICE_NAME": "from-env"})
    assert settings.service_name == "from-env"


def test_per_signal_variable_wins_over_general_one():
    env = {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/protobuf",
    }
    settings = resolve(NO_ARGS, env)
    assert settings.traces.protocol == "grpc"
    assert settings.logs.protocol == "http/protobuf"


def test_base_endpoint_gets_the_signal_path_and_a_signal_endpoint_is_used_as_is():
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://logs:4318/custom/logs",
    }
    settings = resolve(NO_ARGS, env)
    assert settings.traces.endpoint == "http://collector:4318/v1/traces"
    assert settings.metrics.endpoint == "http://collector:4318/v1/metrics"
    assert settings.logs.endpoint == "http://logs:4318/custom/logs"


def test_endpoint_argument_wins_over_a_per_signal_variable():
    env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://env:4318/v1/traces"}
    settings = resolve({"endpoint": "http://arg:4318"}, env)
    assert settings.traces.endpoint == "http://arg:4318/v1/traces"


def test_exporter_comma_lists_and_none():
    settings = resolve(
        {"traces_exporter": "otlp, agentotel_console"},
        {"OTEL_METRICS_EXPORTER": "prometheus,otlp", "OTEL_LOGS_EXPORTER": "none"},
    )
    assert settings.traces_exporter == ("otlp", "agentotel_console")
    assert settings.metrics_exporter == ("prometheus", "otlp")
    assert settings.logs_exporter == ()


def test_headers_parsed_from_w3c_list():
    settings = resolve(NO_ARGS, {"OTEL_EXPORTER_OTLP_HEADERS": "api-key=abc%3D1,x-team=agents"})
    assert dict(settings.traces.headers or {}) == {"api-key": "abc=1", "x-team": "agents"}


def test_timeout_variables_are_milliseconds():
    env = {"OTEL_EXPORTER_OTLP_TIMEOUT": "2000", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "500"}
    settings = resolve(NO_ARGS, env)
    assert (settings.traces.timeout_s, settings.metrics.timeout_s) == (2.0, 2.0)
    assert settings.logs.timeout_s == 0.5


def test_small_timeout_is_read_as_milliseconds_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        settings = resolve(NO_ARGS, {"OTEL_EXPORTER_OTLP_TIMEOUT": "10"})
    assert settings.traces.timeout_s == 0.01
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "OTEL_EXPORTER_OTLP_TIMEOUT='10' is read as milliseconds (0.01 s)" in warnings[0]


def test_capture_content_legacy_spellings():
    variable = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
    assert resolve(NO_ARGS, {variable: "true"}).capture_content == "SPAN_ONLY"
    assert resolve(NO_ARGS, {variable: "span_and_event"}).capture_content == "SPAN_AND_EVENT"


def test_log_level_name_becomes_number():
    assert resolve(NO_ARGS, {"AGENTOTEL_LOG_LEVEL": "warning"}).log_level == logging.WARNING


@pytest.mark.parametrize(
    ("variable", "value", "accepted", "used"),
    [
        ("OTEL_TRACES_EXPORTER", "jaeger", "otlp, console, agentotel_console, none", ("otlp",)),
        ("OTEL_METRICS_EXPORTER", "otlp,statsd", "otlp, prometheus, console, none", ("otlp",)),
        ("OTEL_LOGS_EXPORTER", "prometheus", "otlp, console, none", ("otlp",)),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "http/protobuf, grpc", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "udp", "http/protobuf, grpc", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318", "a URL such as", None),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://collector/v1/traces", "a URL such as", None),
        ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://collector:port/v1/metrics", "a URL", None),
        ("OTEL_EXPORTER_OTLP_HEADERS", "api-key", "a comma list of key=value pairs", None),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "=value", "a comma list of key=value pairs", None),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "ten", "a number of milliseconds > 0", 10.0),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "-1", "a number of milliseconds > 0", 10.0),
        ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "0", "a number of milliseconds > 0", 10.0),
        ("OTEL_EXPORTER_PROMETHEUS_PORT", "http", "an integer >= 0 and <= 65535", 9464),
        ("OTEL_EXPORTER_PROMETHEUS_PORT", "70000", "an integer >= 0 and <= 65535", 9464),
        ("OTEL_SDK_DISABLED", "yes", "true, false", False),
        ("OTEL_RESOURCE_ATTRIBUTES", "team", "a comma list of key=value pairs", None),
        (
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
            "ALL",
            "NO_CONTENT, SPAN_ONLY",
            "NO_CONTENT",
        ),
        ("AGENTOTEL_LOG_FORMAT", "xml", "json, console", None),
        ("AGENTOTEL_LOG_LEVEL", "loud", "DEBUG, INFO, WARNING, ERROR, CRITICAL", logging.INFO),
        ("AGENTOTEL_CONTENT_MAX_LENGTH", "big", "an integer >= 16", 16384),
        ("AGENTOTEL_REDACT", "emails", "default, off, or a comma list of", "default"),
        ("AGENTOTEL_PRICING_FILE", "/nonexistent/prices.json", "a JSON pricing table", None),
    ],
)
def test_invalid_variable_warns_once_with_the_three_facts_and_uses_the_default(
    caplog, variable, value, accepted, used
):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        settings = resolve(NO_ARGS, {variable: value})
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"agentotel: {variable}={value!r} is not valid; accepted: ")
    assert accepted in warnings[0]
    assert warnings[0].endswith(f"; ignoring it (using {used!r})")
    resolved = {
        "OTEL_TRACES_EXPORTER": settings.traces_exporter,
        "OTEL_METRICS_EXPORTER": settings.metrics_exporter,
        "OTEL_LOGS_EXPORTER": settings.logs_exporter,
        "OTEL_EXPORTER_OTLP_PROTOCOL": settings.metrics.protocol,
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": settings.traces.protocol,
        "OTEL_EXPORTER_OTLP_ENDPOINT": settings.logs.endpoint,
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": settings.traces.endpoint,
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": settings.metrics.endpoint,
        "OTEL_EXPORTER_OTLP_HEADERS": settings.logs.headers,
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS": settings.traces.headers,
        "OTEL_EXPORTER_OTLP_TIMEOUT": settings.metrics.timeout_s,
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": settings.traces.timeout_s,
        "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": settings.logs.timeout_s,
        "OTEL_EXPORTER_PROMETHEUS_PORT": settings.prometheus_port,
        "OTEL_SDK_DISABLED": settings.sdk_disabled,
        "OTEL_RESOURCE_ATTRIBUTES": settings.resource_attributes,
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": settings.capture_content,
        "AGENTOTEL_LOG_FORMAT": settings.log_format,
        "AGENTOTEL_LOG_LEVEL": settings.log_level,
        "AGENTOTEL_CONTENT_MAX_LENGTH": settings.content_max_length,
        "AGENTOTEL_REDACT": settings.redact,
        "AGENTOTEL_PRICING_FILE": settings.prices,
    }
    assert resolved[variable] == used


def test_invalid_per_signal_variable_falls_back_to_the_general_one(caplog):
    env = {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "udp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        settings = resolve(NO_ARGS, env)
    assert settings.traces.protocol == "grpc"
    (message,) = [r.getMessage() for r in caplog.records]
    assert message.startswith("agentotel: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL='udp' is not valid")
    assert message.endswith("; ignoring it (using 'grpc')")


def test_unknown_agentotel_variable_warns_and_lists_the_known_ones(caplog):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        resolve(NO_ARGS, {"AGENTOTEL_REDCAT": "off"})
    (message,) = [r.getMessage() for r in caplog.records]
    assert message.startswith("agentotel: unknown variable AGENTOTEL_REDCAT ignored; known: ")
    assert "AGENTOTEL_REDACT" in message


@pytest.mark.parametrize(
    ("argument", "value", "accepted"),
    [
        ("traces_exporter", "zipkin", "otlp, console, agentotel_console, none"),
        ("protocol", "http", "http/protobuf, grpc"),
        ("endpoint", "collector:4317", "a URL such as http://localhost:4318"),
        ("headers", "token", "a comma list of key=value pairs"),
        ("service_name", "  ", "a non-empty string"),
        ("capture_content", 3, "NO_CONTENT, SPAN_ONLY, EVENT_ONLY, SPAN_AND_EVENT"),
        ("redact", ["emails"], "default, off, or a comma list of"),
        ("redact_patterns", {"ticket": "("}, "is not a valid regular expression"),
        ("pricing_file", "/nonexistent/prices.json", "a JSON pricing table"),
        ("log_level", "loud", "DEBUG, INFO"),
    ],
)
def test_invalid_argument_raises_naming_the_argument(argument, value, accepted):
    with pytest.raises(ConfigError) as raised:
        resolve({argument: value}, {})
    assert str(raised.value).startswith(f"argument {argument}={value!r} is not valid; accepted: ")
    assert accepted in str(raised.value)
    assert (raised.value.source, raised.value.value) == (f"argument {argument}", value)


def test_unknown_keyword_is_a_config_error_listing_the_keywords():
    with pytest.raises(ConfigError, match="argument servce_name='x' is not valid; accepted: the"):
        resolve({"servce_name": "x"}, {})


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_init_keywords_are_the_table_arguments():
    assert set(typing.get_type_hints(InitArguments)) | {"service_name"} == argument_names()


def test_the_configuration_reference_shows_the_settings_table():
    assert configuration_table() in docs_pages.rendered("reference/configuration.md")


def test_configuration_table_has_one_line_per_setting():
    lines = configuration_table().splitlines()[2:]
    settings = [f for cls in (Settings, OtlpSettings) for f in fields(cls) if f.metadata]
    assert len(lines) == len(settings)
    pattern = re.compile(r"`OTEL_EXPORTER_OTLP_\{TRACES,METRICS,LOGS\}_TIMEOUT`")
    assert any(pattern.search(line) for line in lines)


# --------------------------------------------------------------------------- batch processors


def test_batch_processors_and_metric_interval_defaults_are_the_sdks():
    settings = resolve(NO_ARGS, {})
    assert (settings.bsp_max_queue_size, settings.bsp_max_export_batch_size,
            settings.bsp_schedule_delay_s) == (2048, 512, 5.0)
    assert (settings.blrp_max_queue_size, settings.blrp_max_export_batch_size,
            settings.blrp_schedule_delay_s) == (2048, 512, 1.0)
    assert settings.metric_export_interval_s == 60.0
    assert settings.pipeline_metrics is True


@pytest.mark.parametrize("prefix", ["BSP", "BLRP"])
def test_a_queue_below_the_batch_size_warns_and_lowers_the_batch_to_it(caplog, prefix):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        settings = resolve(NO_ARGS, {f"OTEL_{prefix}_MAX_QUEUE_SIZE": "64"})
    processor = prefix.lower()
    assert getattr(settings, f"{processor}_max_queue_size") == 64
    assert getattr(settings, f"{processor}_max_export_batch_size") == 64
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].endswith(
        f"export batch size (OTEL_{prefix}_MAX_EXPORT_BATCH_SIZE, 512) is larger than its queue "
        f"(OTEL_{prefix}_MAX_QUEUE_SIZE, 64); using batches of 64"
    )


def test_a_consistent_queue_and_batch_pair_is_kept_without_a_warning(caplog):
    env = {"OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "100"}
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        settings = resolve(NO_ARGS, env)
    assert (settings.bsp_max_queue_size, settings.bsp_max_export_batch_size) == (100, 100)
    assert caplog.records == []


@pytest.mark.parametrize(
    ("variable", "value", "field", "used"),
    [
        ("OTEL_BSP_SCHEDULE_DELAY", "0", "bsp_schedule_delay_s", 5.0),
        ("OTEL_BLRP_MAX_QUEUE_SIZE", "-1", "blrp_max_queue_size", 2048),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "many", "bsp_max_export_batch_size", 512),
        ("OTEL_METRIC_EXPORT_INTERVAL", "0", "metric_export_interval_s", 60.0),
        ("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "yes", "pipeline_metrics", True),
    ],
)
def test_a_value_the_sdk_would_raise_on_warns_and_uses_the_default(
    caplog, variable, value, field, used
):
    with caplog.at_level(logging.WARNING, logger="agentotel"):
        settings = resolve(NO_ARGS, {variable: value})
    assert getattr(settings, field) == used
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith(f"agentotel: {variable}={value!r}")


def test_pipeline_metrics_follow_the_sdks_variable_and_the_argument_wins():
    env = {"OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED": "false"}
    assert resolve(NO_ARGS, env).pipeline_metrics is False
    assert resolve({"pipeline_metrics": True}, env).pipeline_metrics is True

"""Settings resolution: argument > environment > default, and a clear error for bad input."""

from __future__ import annotations

import logging

import pytest

from agentotel._config import ConfigError, resolve

NO_ARGS: dict[str, object] = {}


def test_defaults_without_arguments_or_environment():
    settings = resolve(NO_ARGS, {})
    assert settings.traces_exporter == ("otlp",)
    assert settings.metrics_exporter == ("otlp",)
    assert settings.logs_exporter == ("otlp",)
    assert settings.signal("protocol", "traces") == "http/protobuf"
    assert settings.signal("timeout", "logs") == 10.0
    assert (settings.prometheus_host, settings.prometheus_port) == ("localhost", 9464)
    assert settings.sdk_disabled is False
    assert settings.capture_content == "NO_CONTENT"


def test_argument_wins_over_environment():
    env = {"OTEL_SERVICE_NAME": "from-env", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
    settings = resolve({"service_name": "from-arg", "protocol": "http/protobuf"}, env)
    assert settings.service_name == "from-arg"
    assert settings.signal("protocol", "metrics") == "http/protobuf"


def test_environment_used_when_argument_absent():
    settings = resolve({"service_name": None}, {"OTEL_SERVICE_NAME": "from-env"})
    assert settings.service_name == "from-env"


def test_per_signal_variable_wins_over_general_one():
    env = {"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/protobuf"}
    settings = resolve(NO_ARGS, env)
    assert settings.signal("protocol", "traces") == "grpc"
    assert settings.signal("protocol", "logs") == "http/protobuf"


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
    assert settings.signal("headers", "traces") == {"api-key": "abc=1", "x-team": "agents"}


def test_capture_content_legacy_spellings():
    assert resolve(NO_ARGS, {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}).capture_content == "SPAN_ONLY"
    assert resolve(NO_ARGS, {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_and_event"}).capture_content == "SPAN_AND_EVENT"


def test_log_level_name_becomes_number():
    assert resolve(NO_ARGS, {"AGENTOTEL_LOG_LEVEL": "warning"}).log_level == logging.WARNING


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("OTEL_TRACES_EXPORTER", "jaeger", "otlp, console, agentotel_console, none"),
        ("OTEL_METRICS_EXPORTER", "otlp,statsd", "otlp, prometheus, console, none"),
        ("OTEL_LOGS_EXPORTER", "prometheus", "otlp, console, none"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "http/protobuf, grpc"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "udp", "http/protobuf, grpc"),
        ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "thrift", "http/protobuf, grpc"),
        ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "xml", "http/protobuf, grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318", "a URL such as http://localhost:4318"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://collector/v1/traces", "a URL such as"),
        ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://collector:port/v1/metrics", "a URL such as"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "collector", "a URL such as"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "api-key", "a comma list of key=value pairs"),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "=value", "a comma list of key=value pairs"),
        ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "a=1,b", "a comma list of key=value pairs"),
        ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "novalue", "a comma list of key=value pairs"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "ten", "a number >= 0.001"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "-1", "a number >= 0.001"),
        ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "1s", "a number >= 0.001"),
        ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "0", "a number >= 0.001"),
        ("OTEL_TRACES_SAMPLER", "sometimes", "always_on, always_off, traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "half", "a number >= 0 and <= 1"),
        ("OTEL_TRACES_SAMPLER_ARG", "1.5", "a number >= 0 and <= 1"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "often", "a number >= 1"),
        ("OTEL_EXPORTER_PROMETHEUS_PORT", "http", "an integer >= 0 and <= 65535"),
        ("OTEL_EXPORTER_PROMETHEUS_PORT", "70000", "an integer >= 0 and <= 65535"),
        ("OTEL_SDK_DISABLED", "yes", "true, false"),
        ("OTEL_RESOURCE_ATTRIBUTES", "team", "a comma list of key=value pairs"),
        ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "ALL", "NO_CONTENT, SPAN_ONLY"),
        ("AGENTOTEL_LOG_FORMAT", "xml", "json, console"),
        ("AGENTOTEL_LOG_LEVEL", "loud", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("AGENTOTEL_CONTENT_MAX_LENGTH", "big", "an integer >= 16"),
    ],
)
def test_invalid_variable_names_variable_value_and_accepted(variable, value, accepted):
    with pytest.raises(ConfigError) as raised:
        resolve(NO_ARGS, {variable: value})
    message = str(raised.value)
    assert message.startswith(f"{variable}={value!r} is not valid; accepted: ")
    assert accepted in message
    assert (raised.value.source, raised.value.value) == (variable, value)


@pytest.mark.parametrize(
    ("argument", "value", "accepted"),
    [
        ("traces_exporter", "zipkin", "otlp, console, agentotel_console, none"),
        ("protocol", "http", "http/protobuf, grpc"),
        ("endpoint", "collector:4317", "a URL such as http://localhost:4318"),
        ("headers", "token", "a comma list of key=value pairs"),
        ("service_name", "  ", "a non-empty string"),
    ],
)
def test_invalid_argument_names_the_argument(argument, value, accepted):
    with pytest.raises(ConfigError) as raised:
        resolve({argument: value}, {})
    assert str(raised.value).startswith(f"argument {argument}={value!r} is not valid; accepted: ")
    assert accepted in str(raised.value)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword arguments: servce_name"):
        resolve({"servce_name": "x"}, {})


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)

"""Resolve agentotel's settings: keyword argument > environment variable > default.

Every setting is declared once in ``_SETTINGS``: the ``init()`` keyword, the environment
variables consulted in order, how a raw value is parsed, and the default. Lookup order
is uniform (Logfire's ``config_params`` is the model). Every invalid value raises
:class:`ConfigError` naming the variable or argument, the bad value and what is accepted.

Variables that the OpenTelemetry SDK and exporters read themselves (endpoints, headers,
timeouts, the sampler, the metric export interval, the resource) are validated here so
that bad input fails at ``init()``, and are otherwise left to the SDK's own handling.
Variable names follow the OpenTelemetry SDK environment variable specification:
https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

SIGNALS = ("traces", "metrics", "logs")
PROTOCOLS = ("http/protobuf", "grpc")
EXPORTERS: Mapping[str, tuple[str, ...]] = {
    "traces": ("otlp", "console", "agentotel_console", "none"),
    "metrics": ("otlp", "prometheus", "console", "none"),
    "logs": ("otlp", "console", "none"),
}
SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)
CAPTURE_MODES = ("NO_CONTENT", "SPAN_ONLY", "EVENT_ONLY", "SPAN_AND_EVENT")
_CAPTURE_LEGACY = {"TRUE": "SPAN_ONLY", "FALSE": "NO_CONTENT"}
LOG_FORMATS = ("json", "console")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

#: read by OpenTelemetry instrumentations; agentotel defaults it to ``http`` (stable HTTP names).
SEMCONV_STABILITY_OPT_IN = "OTEL_SEMCONV_STABILITY_OPT_IN"
DEFAULT_ENDPOINT = {"http/protobuf": "http://localhost:4318", "grpc": "http://localhost:4317"}
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_CONTENT_MAX_LENGTH = 16 * 1024


class ConfigError(ValueError):
    """An invalid setting given to :func:`agentotel.init` (argument or environment).

    The message names the source (``argument traces_exporter`` or the variable name),
    the bad value and the accepted values.
    """

    def __init__(self, source: str, value: object, accepted: str) -> None:
        self.source = source
        self.value = value
        self.accepted = accepted
        super().__init__(f"{source}={value!r} is not valid; accepted: {accepted}")


# --------------------------------------------------------------------------- parsers
# Each parser takes (source, raw value) and returns the parsed value or raises.

Parser = Callable[[str, Any], Any]


def _text(source: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(source, raw, "a non-empty string")
    return raw.strip()


def _bool(source: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in ("true", "false"):
        return value == "true"
    raise ConfigError(source, raw, "true, false")


def _choice(choices: Iterable[str], *, upper: bool = False) -> Parser:
    options = tuple(choices)

    def parse(source: str, raw: Any) -> str:
        value = str(raw).strip()
        value = value.upper() if upper else value.lower()
        if value not in options:
            raise ConfigError(source, raw, ", ".join(options))
        return value

    return parse


def _exporters(signal: str) -> Parser:
    options = EXPORTERS[signal]

    def parse(source: str, raw: Any) -> tuple[str, ...]:
        items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
        names = tuple(dict.fromkeys(str(i).strip().lower() for i in items if str(i).strip()))
        bad = [n for n in names if n not in options]
        if bad or not names:
            raise ConfigError(source, raw, "a comma list of " + ", ".join(options))
        return () if names == ("none",) else tuple(n for n in names if n != "none")

    return parse


def _number(*, minimum: float, maximum: float | None = None, integer: bool = False) -> Parser:
    kind = "an integer" if integer else "a number"
    accepted = f"{kind} >= {minimum:g}" + (f" and <= {maximum:g}" if maximum is not None else "")

    def parse(source: str, raw: Any) -> float | int:
        try:
            value: float | int = int(str(raw).strip()) if integer else float(str(raw).strip())
        except ValueError:
            raise ConfigError(source, raw, accepted) from None
        if value != value or value < minimum or (maximum is not None and value > maximum):
            raise ConfigError(source, raw, accepted)
        return value

    return parse


def _key_values(source: str, raw: Any) -> dict[str, str]:
    """Parse a W3C-baggage-style ``k=v,k2=v2`` list (OTEL_RESOURCE_ATTRIBUTES, headers)."""
    if isinstance(raw, Mapping):
        items = {str(k).strip(): str(v) for k, v in raw.items()}
        if any(not k for k in items):
            raise ConfigError(source, raw, "a mapping with non-empty string keys")
        return items
    result: dict[str, str] = {}
    for part in str(raw).split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(source, raw, "a comma list of key=value pairs (URL-encoded values)")
        result[unquote(key.strip())] = unquote(value.strip())
    return result


def _endpoint(source: str, raw: Any) -> str:
    value = str(raw).strip()
    parsed = urlparse(value)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        try:
            parsed.port  # noqa: B018 - raises ValueError on a non-numeric port
        except ValueError:
            raise ConfigError(source, raw, "a URL such as http://localhost:4318") from None
        return value.rstrip("/")
    raise ConfigError(source, raw, "a URL such as http://localhost:4318 (scheme http or https)")


def _capture_mode(source: str, raw: Any) -> str:
    if isinstance(raw, bool):
        return "SPAN_ONLY" if raw else "NO_CONTENT"
    value = str(raw).strip().upper()
    value = _CAPTURE_LEGACY.get(value, value)
    if value not in CAPTURE_MODES:
        raise ConfigError(source, raw, ", ".join(CAPTURE_MODES) + " (or true/false)")
    return value


def _log_level(source: str, raw: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    value = str(raw).strip().upper()
    if value not in LOG_LEVELS:
        raise ConfigError(source, raw, ", ".join(LOG_LEVELS))
    return int(logging.getLevelName(value))


def _redact(source: str, raw: Any) -> tuple[str, ...] | str:
    """``default`` | ``off`` | a comma list of detector names (:mod:`agentotel.redaction`)."""
    from agentotel.redaction import DETECTORS

    items = raw if isinstance(raw, (list, tuple, set, frozenset)) else str(raw).split(",")
    names = tuple(str(i).strip().lower() for i in items if str(i).strip())
    if names in (("default",), ("off",)):
        return names[0]
    if not names or any(name not in DETECTORS for name in names):
        raise ConfigError(
            source, raw, "default, off, or a comma list of " + ", ".join(sorted(DETECTORS))
        )
    return names


def _passthrough(source: str, raw: Any) -> Any:
    return raw


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class _Setting:
    name: str
    env: tuple[str, ...]
    parse: Parser
    default: Any = None
    arg: str | None = None  # init() keyword; defaults to ``name``


def _per_signal(
    name: str, arg: str | None, suffix: str, parse: Parser, default: Any
) -> list[_Setting]:
    return [
        _Setting(
            f"{signal}_{name}",
            (f"OTEL_EXPORTER_OTLP_{signal.upper()}_{suffix}", f"OTEL_EXPORTER_OTLP_{suffix}"),
            parse,
            default,
            arg=arg,
        )
        for signal in SIGNALS
    ]


_SETTINGS: tuple[_Setting, ...] = (
    _Setting("sdk_disabled", ("OTEL_SDK_DISABLED",), _bool, False, arg=""),
    _Setting("service_name", ("OTEL_SERVICE_NAME",), _text),
    _Setting("service_version", (), _text),
    _Setting("environment", (), _text),
    _Setting("resource_attributes", ("OTEL_RESOURCE_ATTRIBUTES",), _key_values, {}),
    _Setting("endpoint", (), _endpoint),
    *_per_signal("protocol", "protocol", "PROTOCOL", _choice(PROTOCOLS), "http/protobuf"),
    *_per_signal("endpoint_env", "", "ENDPOINT", _endpoint, None),
    *_per_signal("headers", "headers", "HEADERS", _key_values, None),
    *_per_signal("timeout", "", "TIMEOUT", _number(minimum=0.001), DEFAULT_TIMEOUT_S),
    _Setting("traces_exporter", ("OTEL_TRACES_EXPORTER",), _exporters("traces"), ("otlp",)),
    _Setting("metrics_exporter", ("OTEL_METRICS_EXPORTER",), _exporters("metrics"), ("otlp",)),
    _Setting("logs_exporter", ("OTEL_LOGS_EXPORTER",), _exporters("logs"), ("otlp",)),
    _Setting("sampler", ("OTEL_TRACES_SAMPLER",), _choice(SAMPLERS), "parentbased_always_on", ""),
    _Setting("sampler_arg", ("OTEL_TRACES_SAMPLER_ARG",), _number(minimum=0, maximum=1), None, ""),
    _Setting(
        "metric_export_interval_ms",
        ("OTEL_METRIC_EXPORT_INTERVAL",),
        _number(minimum=1),
        60000.0,
        "",
    ),
    _Setting("prometheus_host", ("OTEL_EXPORTER_PROMETHEUS_HOST",), _text, "localhost", ""),
    _Setting(
        "prometheus_port",
        ("OTEL_EXPORTER_PROMETHEUS_PORT",),
        _number(minimum=0, maximum=65535, integer=True),
        9464,
        "",
    ),
    _Setting("instrument_requests", (), _bool, True),
    _Setting(
        "capture_content",
        ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",),
        _capture_mode,
        "NO_CONTENT",
    ),
    _Setting(
        "content_max_length",
        ("AGENTOTEL_CONTENT_MAX_LENGTH",),
        _number(minimum=16, integer=True),
        DEFAULT_CONTENT_MAX_LENGTH,
        "",
    ),
    _Setting("configure_logging", (), _bool, True),
    _Setting("log_format", ("AGENTOTEL_LOG_FORMAT",), _choice(LOG_FORMATS), None),
    _Setting("log_level", ("AGENTOTEL_LOG_LEVEL",), _log_level, logging.INFO),
    _Setting("redact", ("AGENTOTEL_REDACT",), _redact, "default"),
    _Setting("redact_patterns", (), _passthrough, None),
    _Setting("redact_allow_keys", (), _passthrough, ()),
    _Setting("pricing_file", ("AGENTOTEL_PRICING_FILE",), _text, None, ""),
)


@dataclass(frozen=True)
class Settings:
    """The resolved configuration; ``values`` maps each setting name to its value."""

    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def signal(self, name: str, signal: str) -> Any:
        """A per-signal value, e.g. ``signal("protocol", "traces")``."""
        return self.values[f"{signal}_{name}"]


def resolve(arguments: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve every setting from ``init()`` keywords, then ``environ``, then defaults.

    Args:
        arguments: ``init()`` keyword arguments; ``None`` means "not given".
        environ: the environment (default ``os.environ``).

    Raises:
        ConfigError: for the first invalid value, naming its source.
        TypeError: for an unknown keyword argument.
    """
    env = os.environ if environ is None else environ
    unknown = set(arguments) - keyword_names()
    if unknown:
        raise TypeError(f"init() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for setting in _SETTINGS:
        arg = setting.name if setting.arg is None else setting.arg
        raw = arguments.get(arg) if arg else None
        if raw is not None:
            values[setting.name] = setting.parse(f"argument {arg}", raw)
            continue
        for var in setting.env:
            raw_env = env.get(var)
            if raw_env is not None and raw_env.strip():
                values[setting.name] = setting.parse(var, raw_env)
                break
        else:
            values[setting.name] = setting.default
    return Settings(values)


def keyword_names() -> frozenset[str]:
    """The ``init()`` keywords the settings table accepts."""
    return frozenset(s.name if s.arg is None else s.arg for s in _SETTINGS if s.arg != "")

"""agentotel's settings: one declarative table, resolved argument > environment > default.

Every setting is one field of :class:`Settings` (or, per OTLP signal, of
:class:`OtlpSettings`), declared once with :func:`setting`: its sources in order (the
``init()`` keyword and the ``OTEL_*`` / ``AGENTOTEL_*`` variables, names imported from
``opentelemetry.sdk.environment_variables`` where they exist), its parser, its default
and a one-line doc. The lookup order is uniform (Logfire's ``config_params`` is the
model). The documentation's configuration table (``docs/reference/configuration.md``) is
the output of :func:`configuration_table`, written when the site is built.

Errors follow the OpenTelemetry specification
(https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/):

- an invalid ``init()`` argument raises :class:`ConfigError` naming the argument, the bad
  value and the accepted values (fail fast is allowed for explicit configuration);
- an invalid environment value logs one warning with the same three facts and is
  ignored (the next source, else the default, applies); an unknown ``AGENTOTEL_*``
  variable is warned about too. The application always starts.

The batch processors' queue and batch sizes and delays (``OTEL_BSP_*``, ``OTEL_BLRP_*``)
and the metric export interval are in the table so that an inconsistent or invalid value
warns instead of making the SDK raise ``ValueError`` inside ``init()``: a batch size larger
than its queue is lowered to the queue size. Variables the SDK reads and checks itself
without raising (``OTEL_TRACES_SAMPLER[_ARG]``, export timeouts of the processors and the
metric reader, certificates, compression, ``OTEL_EXPORTER_OTLP_INSECURE``) are not in this
table.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal, TypedDict
from urllib.parse import unquote, urlparse

from opentelemetry.environment_variables import (
    OTEL_LOGS_EXPORTER,
    OTEL_METRICS_EXPORTER,
    OTEL_TRACES_EXPORTER,
)
from opentelemetry.instrumentation.environment_variables import (
    OTEL_PYTHON_DISABLED_INSTRUMENTATIONS,
)
from opentelemetry.sdk.environment_variables import (
    OTEL_BLRP_MAX_EXPORT_BATCH_SIZE,
    OTEL_BLRP_MAX_QUEUE_SIZE,
    OTEL_BLRP_SCHEDULE_DELAY,
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    OTEL_BSP_MAX_QUEUE_SIZE,
    OTEL_BSP_SCHEDULE_DELAY,
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_HEADERS,
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
    OTEL_EXPORTER_OTLP_LOGS_HEADERS,
    OTEL_EXPORTER_OTLP_LOGS_PROTOCOL,
    OTEL_EXPORTER_OTLP_LOGS_TIMEOUT,
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
    OTEL_EXPORTER_OTLP_METRICS_HEADERS,
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL,
    OTEL_EXPORTER_OTLP_METRICS_TIMEOUT,
    OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_OTLP_TIMEOUT,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
    OTEL_EXPORTER_PROMETHEUS_HOST,
    OTEL_EXPORTER_PROMETHEUS_PORT,
    OTEL_METRIC_EXPORT_INTERVAL,
    OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED,
    OTEL_RESOURCE_ATTRIBUTES,
    OTEL_SDK_DISABLED,
    OTEL_SERVICE_NAME,
)

from agentotel import content
from agentotel import semconv as sc
from agentotel.cost import PriceTable, load_price_table
from agentotel.redaction import DETECTORS, Redactor

_logger = logging.getLogger("agentotel")

Signal = Literal["traces", "metrics", "logs"]
SIGNALS: tuple[Signal, ...] = ("traces", "metrics", "logs")
PROTOCOLS = ("http/protobuf", "grpc")
EXPORTERS: Mapping[Signal, tuple[str, ...]] = {
    "traces": ("otlp", "console", "agentotel_console", "none"),
    "metrics": ("otlp", "prometheus", "console", "none"),
    "logs": ("otlp", "console", "none"),
}
LOG_FORMATS = ("json", "console")
#: ``process``: the process's CPU, memory, threads and GC; ``host`` adds the host's CPU and
#: memory (``system.*``); ``off``: neither.
SYSTEM_METRICS_LEVELS = ("process", "host", "off")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Not defined by the SDK: the GenAI instrumentations' variable (opentelemetry-util-genai).
OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT = (
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
)
AGENTOTEL_CONTENT_MAX_LENGTH = "AGENTOTEL_CONTENT_MAX_LENGTH"
AGENTOTEL_LOG_FORMAT = "AGENTOTEL_LOG_FORMAT"
AGENTOTEL_LOG_LEVEL = "AGENTOTEL_LOG_LEVEL"
AGENTOTEL_REDACT = "AGENTOTEL_REDACT"
AGENTOTEL_PRICING_FILE = "AGENTOTEL_PRICING_FILE"
AGENTOTEL_SYSTEM_METRICS = "AGENTOTEL_SYSTEM_METRICS"
AGENTOTEL_METRIC_CARDINALITY_LIMIT = "AGENTOTEL_METRIC_CARDINALITY_LIMIT"
AGENTOTEL_CONSOLE_STREAM = "AGENTOTEL_CONSOLE_STREAM"
CONSOLE_STREAMS = ("stdout", "stderr")

_PER_SIGNAL: Mapping[str, Mapping[Signal, str]] = {
    "PROTOCOL": {
        "traces": OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
        "metrics": OTEL_EXPORTER_OTLP_METRICS_PROTOCOL,
        "logs": OTEL_EXPORTER_OTLP_LOGS_PROTOCOL,
    },
    "ENDPOINT": {
        "traces": OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
        "metrics": OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
        "logs": OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
    },
    "HEADERS": {
        "traces": OTEL_EXPORTER_OTLP_TRACES_HEADERS,
        "metrics": OTEL_EXPORTER_OTLP_METRICS_HEADERS,
        "logs": OTEL_EXPORTER_OTLP_LOGS_HEADERS,
    },
    "TIMEOUT": {
        "traces": OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
        "metrics": OTEL_EXPORTER_OTLP_METRICS_TIMEOUT,
        "logs": OTEL_EXPORTER_OTLP_LOGS_TIMEOUT,
    },
}


class ConfigError(ValueError):
    """An invalid ``init()`` argument (environment values only warn).

    The message names the source (``argument traces_exporter`` or a variable), the bad
    value and the accepted values; the three are also the attributes ``source``,
    ``value`` and ``accepted``.
    """

    def __init__(self, source: str, value: object, accepted: str) -> None:
        self.source = source
        self.value = value
        self.accepted = accepted
        super().__init__(f"{source}={value!r} is not valid; accepted: {accepted}")


# --------------------------------------------------------------------------- parsers
# Each parser takes (source, raw value) and returns the parsed value or raises ConfigError.

Parser = Callable[[str, Any], Any]


def _text(source: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(source, raw, "a non-empty string")
    return raw.strip()


def _bool(source: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower() if isinstance(raw, str) else None
    if value in ("true", "false"):
        return value == "true"
    raise ConfigError(source, raw, "true, false")


def _choice(options: Sequence[str]) -> Parser:
    def parse(source: str, raw: Any) -> str:
        value = raw.strip().lower() if isinstance(raw, str) else ""
        if value not in options:
            raise ConfigError(source, raw, ", ".join(options))
        return value

    return parse


def _names(raw: Any) -> tuple[str, ...] | None:
    """A comma list (or a sequence of str) as lower-case names; ``None`` if neither."""
    if isinstance(raw, str):
        items: Iterable[Any] = raw.split(",")
    elif isinstance(raw, (list, tuple, set, frozenset)):
        items = raw
    else:
        return None
    if not all(isinstance(item, str) for item in items):
        return None
    return tuple(dict.fromkeys(item.strip().lower() for item in items if item.strip()))


def _exporters(signal: Signal) -> Parser:
    options = EXPORTERS[signal]

    def parse(source: str, raw: Any) -> tuple[str, ...]:
        names = _names(raw)
        if not names or any(name not in options for name in names):
            raise ConfigError(source, raw, "a comma list of " + ", ".join(options))
        return tuple(name for name in names if name != "none")

    return parse


def _integer(minimum: int, maximum: int | None = None) -> Parser:
    accepted = f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")

    def parse(source: str, raw: Any) -> int:
        try:
            if isinstance(raw, bool) or not isinstance(raw, (int, str)):
                raise ValueError
            value = int(raw.strip()) if isinstance(raw, str) else raw
        except ValueError:
            raise ConfigError(source, raw, accepted) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise ConfigError(source, raw, accepted)
        return value

    return parse


def _milliseconds(source: str, raw: Any) -> float:
    """Milliseconds (a timeout, delay or interval), as the specification and every other
    language SDK read them; the result is in seconds."""
    accepted = "a number of milliseconds > 0"
    try:
        millis = float(str(raw).strip())
    except ValueError:
        raise ConfigError(source, raw, accepted) from None
    if not millis > 0 or millis == float("inf"):
        raise ConfigError(source, raw, accepted)
    return millis / 1000


def _warn_small_timeouts(environ: Mapping[str, str]) -> None:
    """Python's OTLP exporters used to read these variables as seconds: a value of 60 or
    less is most likely meant so, and gets one warning that it was read as milliseconds."""
    for name in (OTEL_EXPORTER_OTLP_TIMEOUT, *_PER_SIGNAL["TIMEOUT"].values()):
        raw = environ.get(name)
        try:
            millis = float(raw) if raw is not None else 0.0
        except ValueError:
            continue
        if 0 < millis <= 60:
            _logger.warning(
                "agentotel: %s=%r is read as milliseconds (%g s), as the OpenTelemetry "
                "specification says; for %s seconds write %d",
                name,
                raw,
                millis / 1000,
                raw.strip() if raw else raw,
                int(millis * 1000),
            )


def _instrumentation_names(source: str, raw: Any) -> tuple[str, ...]:
    """A comma list (or sequence) of instrumentation entry point names; ``none`` is ()."""
    names = _names(raw)
    if names is None:
        raise ConfigError(source, raw, "a comma list of instrumentation names")
    return () if names == ("none",) else names


def _key_values(source: str, raw: Any) -> Mapping[str, str]:
    """A mapping, or a W3C-baggage-style ``k=v,k2=v2`` list with URL-encoded values
    (``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_EXPORTER_OTLP_HEADERS``)."""
    if isinstance(raw, Mapping):
        if not all(isinstance(k, str) and k.strip() and isinstance(v, str) for k, v in raw.items()):
            raise ConfigError(source, raw, "a mapping of non-empty str keys to str values")
        return MappingProxyType({k.strip(): v for k, v in raw.items()})
    if not isinstance(raw, str):
        raise ConfigError(source, raw, "a mapping or a comma list of key=value pairs")
    result: dict[str, str] = {}
    for part in raw.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(source, raw, "a comma list of key=value pairs (URL-encoded values)")
        result[unquote(key.strip())] = unquote(value.strip())
    return MappingProxyType(result)


def _endpoint(source: str, raw: Any) -> str:
    accepted = "a URL such as http://localhost:4318 (scheme http or https)"
    if not isinstance(raw, str):
        raise ConfigError(source, raw, accepted)
    value = raw.strip()
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(source, raw, accepted)
    try:
        parsed.port  # noqa: B018 - raises ValueError on a non-numeric port
    except ValueError:
        raise ConfigError(source, raw, accepted) from None
    return value.rstrip("/")


def _capture_mode(source: str, raw: Any) -> str:
    if isinstance(raw, bool):
        return content.SPAN_ONLY if raw else content.NO_CONTENT
    value = raw.strip().upper() if isinstance(raw, str) else None
    value = {"TRUE": content.SPAN_ONLY, "FALSE": content.NO_CONTENT}.get(value or "", value)
    if value not in content.CAPTURE_MODES:
        raise ConfigError(source, raw, ", ".join(content.CAPTURE_MODES) + " (or true/false)")
    return value


def _system_metrics(source: str, raw: Any) -> str:
    """``process`` | ``host`` | ``off``; ``true`` / ``false`` (or a bool) mean process / off."""
    if isinstance(raw, bool):
        return "process" if raw else "off"
    value = raw.strip().lower() if isinstance(raw, str) else ""
    value = {"true": "process", "false": "off"}.get(value, value)
    if value not in SYSTEM_METRICS_LEVELS:
        raise ConfigError(source, raw, ", ".join(SYSTEM_METRICS_LEVELS) + " (or true/false)")
    return value


def _log_level(source: str, raw: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    value = raw.strip().upper() if isinstance(raw, str) else None
    if value not in LOG_LEVELS:
        raise ConfigError(source, raw, ", ".join(LOG_LEVELS) + " (or a level number)")
    return int(logging.getLevelName(value))


def _redact(source: str, raw: Any) -> str | tuple[str, ...]:
    """``default`` | ``off`` | a comma list of detector names (:mod:`agentotel.redaction`)."""
    names = _names(raw)
    if names in (("default",), ("off",)):
        return names[0]
    if not names or any(name not in DETECTORS for name in names):
        raise ConfigError(
            source, raw, "default, off, or a comma list of " + ", ".join(DETECTORS)
        )
    return names


def _redact_patterns(source: str, raw: Any) -> Mapping[str, str]:
    if not isinstance(raw, Mapping):
        raise ConfigError(source, raw, "a mapping of detector name to regular expression")
    try:
        Redactor((), extra_patterns=raw)
    except ValueError as exc:
        raise ConfigError(source, raw, str(exc)) from None
    return MappingProxyType(dict(raw))


def _allow_keys(source: str, raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str) or not isinstance(raw, (list, tuple, set, frozenset)):
        raise ConfigError(source, raw, "a sequence of attribute keys (str)")
    if not all(isinstance(key, str) for key in raw):
        raise ConfigError(source, raw, "a sequence of attribute keys (str)")
    return tuple(raw)


def _pricing_file(source: str, raw: Any) -> PriceTable:
    if not isinstance(raw, (str, os.PathLike)) or not str(raw).strip():
        raise ConfigError(source, raw, "the path of a JSON pricing table")
    try:
        return load_price_table(os.fspath(raw))
    except ValueError as exc:
        raise ConfigError(source, raw, f"a JSON pricing table ({exc})") from None


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Source:
    """Where a value may come from: an ``init()`` keyword or an environment variable.

    ``then`` is applied to the parsed value (a base URL becomes the signal's URL).
    """

    name: str
    argument: bool
    then: Callable[[Any], Any] | None = None

    @property
    def label(self) -> str:
        """How messages name it: ``argument endpoint`` or ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
        return f"argument {self.name}" if self.argument else self.name


def arg(name: str, then: Callable[[Any], Any] | None = None) -> Source:
    """An ``init()`` keyword source."""
    return Source(name, True, then)


def env(name: str, then: Callable[[Any], Any] | None = None) -> Source:
    """An environment variable source."""
    return Source(name, False, then)


Sources = Callable[[Signal], tuple[Source, ...]]


@dataclass(frozen=True)
class Row:
    """One setting's declaration (the metadata of a :class:`Settings` field)."""

    sources: tuple[Source, ...] | Sources
    parse: Parser
    doc: str
    shown_default: str | None = None

    def for_signal(self, signal: Signal) -> tuple[Source, ...]:
        """The sources, with per-signal ones resolved for ``signal``."""
        return self.sources if isinstance(self.sources, tuple) else self.sources(signal)


_ROW = "agentotel.setting"


def setting(
    default: Any,
    *sources: Source | Sources,
    parse: Parser,
    doc: str,
    shown_default: str | None = None,
) -> Any:
    """Declare one setting: a dataclass field whose metadata is its :class:`Row`.

    ``sources`` are tried in order; one callable source gives a per-signal setting's
    sources for each signal. ``shown_default`` is how the documentation shows the default when
    the value itself would not say it.
    """
    resolved: tuple[Source, ...] | Sources
    if len(sources) == 1 and callable(sources[0]) and not isinstance(sources[0], Source):
        resolved = sources[0]
    else:
        resolved = tuple(s for s in sources if isinstance(s, Source))
    return field(default=default, metadata={_ROW: Row(resolved, parse, doc, shown_default)})


def _per_signal(suffix: str, argument: str | None = None, base: bool = False) -> Sources:
    """Sources ``init(argument)``, ``OTEL_EXPORTER_OTLP_<SIGNAL>_<suffix>``, then
    ``OTEL_EXPORTER_OTLP_<suffix>``.

    ``base``: the argument and the general variable hold a base URL, to which the
    signal's path (``/v1/traces``) is added; the per-signal variable is used as is
    (OTLP exporter specification, "Endpoint URLs for OTLP/HTTP").
    """
    general = {
        "PROTOCOL": OTEL_EXPORTER_OTLP_PROTOCOL,
        "ENDPOINT": OTEL_EXPORTER_OTLP_ENDPOINT,
        "HEADERS": OTEL_EXPORTER_OTLP_HEADERS,
        "TIMEOUT": OTEL_EXPORTER_OTLP_TIMEOUT,
    }[suffix]

    def sources(signal: Signal) -> tuple[Source, ...]:
        then = (lambda url: f"{url}/v1/{signal}") if base else None
        own = env(_PER_SIGNAL[suffix][signal])
        shared = env(general, then)
        return (arg(argument, then), own, shared) if argument else (own, shared)

    return sources


@dataclass(frozen=True)
class OtlpSettings:
    """One signal's OTLP exporter settings (OTLP exporter configuration specification)."""

    protocol: str = setting(
        "http/protobuf",
        _per_signal("PROTOCOL", "protocol"),
        parse=_choice(PROTOCOLS),
        doc="OTLP transport: `http/protobuf` or `grpc`",
    )
    endpoint: str | None = setting(
        None,
        _per_signal("ENDPOINT", "endpoint", base=True),
        parse=_endpoint,
        doc="collector URL; the argument and the general variable are a base URL "
        "(`/v1/<signal>` is added), a per-signal variable is used as is",
        shown_default="`http://localhost:4318` (gRPC `:4317`)",
    )
    headers: Mapping[str, str] | None = setting(
        None,
        _per_signal("HEADERS", "headers"),
        parse=_key_values,
        doc="`k=v` pairs (URL-encoded) sent with every export",
    )
    timeout_s: float = setting(
        10.0,
        _per_signal("TIMEOUT"),
        parse=_milliseconds,
        doc="export timeout in **milliseconds** (as the specification says); also bounds "
        "the exit (timeout + 1 s)",
        shown_default="`10000`",
    )


@dataclass(frozen=True)
class Settings:
    """The resolved configuration: one typed field per setting, frozen.

    Build it with :func:`resolve`; the per-signal OTLP settings are :meth:`otlp`.
    """

    sdk_disabled: bool = setting(
        False, env(OTEL_SDK_DISABLED), parse=_bool, doc="`true`: every instrument is a no-op"
    )
    service_name: str | None = setting(
        None,
        arg("service_name"),
        env(OTEL_SERVICE_NAME),
        parse=_text,
        doc="resource `service.name`",
        shown_default="`unknown_service`",
    )
    service_version: str | None = setting(
        None, arg("service_version"), parse=_text, doc="resource `service.version`"
    )
    environment: str | None = setting(
        None, arg("environment"), parse=_text, doc="resource `deployment.environment.name`"
    )
    resource_attributes: Mapping[str, str] | None = setting(
        None,
        arg("resource_attributes"),
        env(OTEL_RESOURCE_ATTRIBUTES),
        parse=_key_values,
        doc="more resource attributes, `k=v,k2=v2`",
    )
    traces_exporter: tuple[str, ...] = setting(
        ("otlp",),
        arg("traces_exporter"),
        env(OTEL_TRACES_EXPORTER),
        parse=_exporters("traces"),
        doc="comma list of `otlp`, `console` (SDK JSON), `agentotel_console` (trees), `none`",
    )
    metrics_exporter: tuple[str, ...] = setting(
        ("otlp",),
        arg("metrics_exporter"),
        env(OTEL_METRICS_EXPORTER),
        parse=_exporters("metrics"),
        doc="comma list of `otlp`, `prometheus`, `console`, `none`",
    )
    logs_exporter: tuple[str, ...] = setting(
        ("otlp",),
        arg("logs_exporter"),
        env(OTEL_LOGS_EXPORTER),
        parse=_exporters("logs"),
        doc="comma list of `otlp`, `console`, `none`",
    )
    prometheus_host: str = setting(
        "localhost",
        env(OTEL_EXPORTER_PROMETHEUS_HOST),
        parse=_text,
        doc="where the `prometheus` exporter serves `/metrics`",
    )
    prometheus_port: int = setting(
        9464,
        env(OTEL_EXPORTER_PROMETHEUS_PORT),
        parse=_integer(0, 65535),
        doc="port of the `prometheus` exporter's `/metrics` (and `/health`, `/ready`)",
    )
    pipeline_metrics: bool = setting(
        True,
        arg("pipeline_metrics"),
        env(OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED),
        parse=_bool,
        doc="the export pipeline's own `otel.sdk.*` metrics (queues, drops, exports, "
        "failures); see [Read the pipeline's health](../how-to/pipeline-health.md)",
    )
    bsp_max_queue_size: int = setting(
        2048,
        env(OTEL_BSP_MAX_QUEUE_SIZE),
        parse=_integer(1),
        doc="spans the batch span processor holds; more are dropped and counted",
    )
    bsp_max_export_batch_size: int = setting(
        512,
        env(OTEL_BSP_MAX_EXPORT_BATCH_SIZE),
        parse=_integer(1),
        doc="spans per export; above the queue size it warns and is lowered to it",
    )
    bsp_schedule_delay_s: float = setting(
        5.0,
        env(OTEL_BSP_SCHEDULE_DELAY),
        parse=_milliseconds,
        doc="milliseconds between two span exports",
        shown_default="`5000`",
    )
    blrp_max_queue_size: int = setting(
        2048,
        env(OTEL_BLRP_MAX_QUEUE_SIZE),
        parse=_integer(1),
        doc="log records the batch log record processor holds; more are dropped and counted",
    )
    blrp_max_export_batch_size: int = setting(
        512,
        env(OTEL_BLRP_MAX_EXPORT_BATCH_SIZE),
        parse=_integer(1),
        doc="log records per export; above the queue size it warns and is lowered to it",
    )
    blrp_schedule_delay_s: float = setting(
        1.0,
        env(OTEL_BLRP_SCHEDULE_DELAY),
        parse=_milliseconds,
        doc="milliseconds between two log record exports",
        shown_default="`1000`",
    )
    metric_export_interval_s: float = setting(
        60.0,
        env(OTEL_METRIC_EXPORT_INTERVAL),
        parse=_milliseconds,
        doc="milliseconds between two metric exports (`otlp`, `console`)",
        shown_default="`60000`",
    )
    instrumentations: tuple[str, ...] | None = setting(
        None,
        arg("instrumentations"),
        parse=_instrumentation_names,
        doc="instrumentations to enable, by name (`none` for none); see "
        "[SDKs and frameworks](../how-to/sdks-and-frameworks.md)",
        shown_default="every one installed",
    )
    disabled_instrumentations: tuple[str, ...] = setting(
        (),
        env(OTEL_PYTHON_DISABLED_INSTRUMENTATIONS),
        parse=_instrumentation_names,
        doc="instrumentations not to enable (`*`: none), when `instrumentations` is not given",
    )
    system_metrics: str = setting(
        "process",
        arg("system_metrics"),
        env(AGENTOTEL_SYSTEM_METRICS),
        parse=_system_metrics,
        doc="`process`: CPU, resident memory, threads and GC of the process; `host`: also "
        "the host's CPU and memory (`system.*`); `off`; see "
        "[Watch the process's resources](../how-to/process-metrics.md)",
    )
    metric_cardinality_limit: int = setting(
        sc.CARDINALITY_LIMIT,
        arg("metric_cardinality_limit"),
        env(AGENTOTEL_METRIC_CARDINALITY_LIMIT),
        parse=_integer(2),
        doc="attribute sets per agentotel metric; later ones are recorded as "
        "`otel.metric.overflow=true` (see "
        "[Metric cardinality](../how-to/wrap-your-agent-loop.md#metric-cardinality))",
    )
    capture_content: str = setting(
        content.NO_CONTENT,
        arg("capture_content"),
        env(OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT),
        parse=_capture_mode,
        doc="prompts and replies: `NO_CONTENT`, `SPAN_ONLY`, `EVENT_ONLY`, `SPAN_AND_EVENT`",
    )
    content_max_length: int = setting(
        content.DEFAULT_MAX_LENGTH,
        arg("content_max_length"),
        env(AGENTOTEL_CONTENT_MAX_LENGTH),
        parse=_integer(16),
        doc="characters kept per captured content value",
    )
    configure_logging: bool = setting(
        True,
        arg("configure_logging"),
        parse=_bool,
        doc="structlog + stdlib logging with trace ids, bridged to OTLP (polite to an "
        "application's own logging)",
    )
    log_format: str | None = setting(
        None,
        arg("log_format"),
        env(AGENTOTEL_LOG_FORMAT),
        parse=_choice(LOG_FORMATS),
        doc="`json` or `console` lines",
        shown_default="`console` on a terminal, else `json`",
    )
    log_level: int = setting(
        logging.INFO,
        arg("log_level"),
        env(AGENTOTEL_LOG_LEVEL),
        parse=_log_level,
        doc="level of the logging agentotel sets up",
        shown_default="`INFO`",
    )
    redact: str | tuple[str, ...] = setting(
        "default",
        arg("redact"),
        env(AGENTOTEL_REDACT),
        parse=_redact,
        doc="redaction before export: `default`, `off`, or a comma list of detectors",
    )
    redact_patterns: Mapping[str, str] | None = setting(
        None,
        arg("redact_patterns"),
        parse=_redact_patterns,
        doc="more detectors: name -> regular expression",
    )
    redact_allow_keys: tuple[str, ...] = setting(
        (),
        arg("redact_allow_keys"),
        parse=_allow_keys,
        doc="attribute keys never redacted",
    )
    prices: PriceTable | None = setting(
        None,
        arg("pricing_file"),
        env(AGENTOTEL_PRICING_FILE),
        parse=_pricing_file,
        doc="JSON pricing table extending the packaged one",
        shown_default="the packaged table",
    )
    console_stream: str = setting(
        "stdout",
        env(AGENTOTEL_CONSOLE_STREAM),
        parse=_choice(CONSOLE_STREAMS),
        doc="where the `console` and `agentotel_console` exporters write: `stdout` or "
        "`stderr` (for a child whose stdout is a protocol, e.g. a stdio MCP server)",
    )
    traces: OtlpSettings = field(default_factory=OtlpSettings)
    metrics: OtlpSettings = field(default_factory=OtlpSettings)
    logs: OtlpSettings = field(default_factory=OtlpSettings)

    def otlp(self, signal: Signal) -> OtlpSettings:
        """The OTLP exporter settings of ``signal``."""
        result: OtlpSettings = getattr(self, signal)
        return result


class InitArguments(TypedDict, total=False):
    """The keyword arguments of ``agentotel.init()`` after ``service_name``.

    Each is a source of the :class:`Settings` row of the same argument name (a test keeps
    the two equal); ``None`` means "not given".
    """

    service_version: str | None
    environment: str | None
    resource_attributes: Mapping[str, str] | str | None
    endpoint: str | None
    protocol: str | None
    headers: Mapping[str, str] | str | None
    traces_exporter: str | Sequence[str] | None
    metrics_exporter: str | Sequence[str] | None
    logs_exporter: str | Sequence[str] | None
    pipeline_metrics: bool | None
    instrumentations: str | Sequence[str] | None
    system_metrics: str | bool | None
    metric_cardinality_limit: int | None
    capture_content: str | bool | None
    content_max_length: int | None
    configure_logging: bool | None
    log_format: str | None
    log_level: str | int | None
    redact: str | Sequence[str] | None
    redact_patterns: Mapping[str, str] | None
    redact_allow_keys: Sequence[str] | None
    pricing_file: str | os.PathLike[str] | None


# --------------------------------------------------------------------------- resolution


def _rows(cls: type) -> list[tuple[str, Row, Any]]:
    return [
        (f.name, f.metadata[_ROW], f.default)
        for f in fields(cls)
        if _ROW in f.metadata and f.default is not MISSING
    ]


def argument_names() -> frozenset[str]:
    """Every ``init()`` keyword the table accepts (``service_name`` included)."""
    names = {
        source.name
        for cls in (Settings, OtlpSettings)
        for _, row, _ in _rows(cls)
        for signal in SIGNALS
        for source in row.for_signal(signal)
        if source.argument
    }
    return frozenset(names)


def variable_names() -> frozenset[str]:
    """Every environment variable the table reads."""
    return frozenset(
        source.name
        for cls in (Settings, OtlpSettings)
        for _, row, _ in _rows(cls)
        for signal in SIGNALS
        for source in row.for_signal(signal)
        if not source.argument
    )


class _Resolver:
    def __init__(self, arguments: Mapping[str, Any], environ: Mapping[str, str]) -> None:
        self.arguments = arguments
        self.environ = environ
        self.warned: set[tuple[str, str]] = set()

    def value(self, row: Row, sources: tuple[Source, ...], default: Any) -> Any:
        rejected: list[ConfigError] = []
        result = default
        for source in sources:
            raw = (self.arguments if source.argument else self.environ).get(source.name)
            if raw is None or (not source.argument and not str(raw).strip()):
                continue
            try:
                parsed = row.parse(source.label, raw)
            except ConfigError as exc:
                if source.argument:
                    raise
                if (source.name, raw) not in self.warned:
                    self.warned.add((source.name, raw))
                    rejected.append(exc)
                continue
            result = source.then(parsed) if source.then else parsed
            break
        for error in rejected:
            _logger.warning("agentotel: %s; ignoring it (using %r)", error, result)
        return result

    def build(self, cls: type, signal: Signal) -> dict[str, Any]:
        return {
            name: self.value(row, row.for_signal(signal), default)
            for name, row, default in _rows(cls)
        }


def resolve(arguments: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve every setting from ``init()`` keywords, then ``environ``, then defaults.

    Args:
        arguments: ``init()`` keyword arguments; ``None`` means "not given".
        environ: the environment (default ``os.environ``); never written to.

    Raises:
        ConfigError: an unknown or invalid argument (the first one found).
    """
    environment = os.environ if environ is None else environ
    accepted = argument_names()
    for name, value in arguments.items():
        if name not in accepted:
            raise ConfigError(
                f"argument {name}", value, "the keywords " + ", ".join(sorted(accepted))
            )
    resolver = _Resolver(arguments, environment)
    values = resolver.build(Settings, "traces")
    _consistent_batches(values)
    for signal in SIGNALS:
        values[signal] = OtlpSettings(**resolver.build(OtlpSettings, signal))
    _warn_small_timeouts(environment)
    known = variable_names()
    for name in sorted(environment):
        if name.startswith("AGENTOTEL_") and name not in known:
            _logger.warning(
                "agentotel: unknown variable %s ignored; known: %s",
                name,
                ", ".join(sorted(v for v in known if v.startswith("AGENTOTEL_"))),
            )
    return Settings(**values)


_BATCHING = (
    ("bsp", "batch span processor", OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_MAX_QUEUE_SIZE),
    ("blrp", "batch log record processor", OTEL_BLRP_MAX_EXPORT_BATCH_SIZE,
     OTEL_BLRP_MAX_QUEUE_SIZE),
)


def _consistent_batches(values: dict[str, Any]) -> None:
    """Lower each batch processor's export batch size to its queue size, with a warning.

    The SDK raises ``ValueError`` for a batch larger than the queue (``OTEL_BSP_MAX_QUEUE_SIZE
    =64`` alone is below the default batch of 512); a queue of that size can never hold
    such a batch, so the queue size is the consistent batch.
    """
    for prefix, what, batch_variable, queue_variable in _BATCHING:
        queue, batch = values[f"{prefix}_max_queue_size"], values[f"{prefix}_max_export_batch_size"]
        if batch > queue:
            _logger.warning(
                "agentotel: the %s's export batch size (%s, %d) is larger than its queue "
                "(%s, %d); using batches of %d",
                what, batch_variable, batch, queue_variable, queue, queue,
            )
            values[f"{prefix}_max_export_batch_size"] = queue


# --------------------------------------------------------------------------- documentation


def _shown(row: Row, default: Any) -> str:
    if row.shown_default is not None:
        return row.shown_default
    if default is None or default == () or default == {}:
        return ""
    if isinstance(default, tuple):
        default = ",".join(default)
    return f"`{str(default).lower() if isinstance(default, bool) else default}`"


def configuration_table() -> str:
    """The configuration table (Markdown) of the documentation, one line per setting, in
    table order; its links are relative to ``docs/reference/``."""
    lines = [
        "| variable | `init()` argument | default | meaning |",
        "|---|---|---|---|",
    ]
    rows = _rows(Settings)
    after = [name for name, _, _ in rows].index("resource_attributes") + 1
    rows[after:after] = _rows(OtlpSettings)  # the OTLP settings follow the resource ones
    for _, row, default in rows:
        sources = row.for_signal("traces")
        per_signal = not isinstance(row.sources, tuple)
        variables = ", ".join(
            "`" + (s.name.replace("_TRACES_", "_{TRACES,METRICS,LOGS}_") if per_signal else s.name)
            + "`"
            for s in sources
            if not s.argument
        )
        arguments = ", ".join(f"`{s.name}`" for s in sources if s.argument)
        lines.append(f"| {variables} | {arguments} | {_shown(row, default)} | {row.doc} |")
    return "\n".join(lines) + "\n"

"""The reference of every span, metric, event and attribute name, from the code itself.

Two sources, read when the site is built:

- :mod:`agentotel.semconv`, parsed as source: every constant, where its value comes from
  (a module of ``opentelemetry-semantic-conventions``, stable or in development, or
  spelled in ``semconv.py``: a GenAI draft name or agentotel's own), and the comments of
  its section of the file, which cite the convention it follows;
- a specimen run: each instrument called once on in-memory SDK providers, every argument
  given and content capture on, once succeeding and once failing. Its spans, metric
  points and events are what the reference lists: the span names and kinds, the
  attribute keys each span, metric and event carries. The placeholders in braces name
  the attribute that holds the value (``execute_tool {gen_ai.tool.name}``).

Metric instruments, units, descriptions and bucket boundaries are taken from the calls
that create them: agentotel's :class:`~agentotel._instruments.Instruments`, and for the
metrics other parts record (the SDK's pipeline metrics, the process metrics) the
``create_*`` function of ``opentelemetry-semantic-conventions`` for the name.
"""

from __future__ import annotations

import ast
import importlib
import io
import tokenize
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SEMCONV = ROOT / "agentotel" / "semconv.py"

STABLE = "OpenTelemetry semantic conventions, stable"
DEVELOPMENT = "OpenTelemetry semantic conventions, development"
DRAFT = "GenAI conventions draft, not yet in `opentelemetry-semantic-conventions`"
OWN = "agentotel's own: no convention defines it yet"
FAILURE = "{error.type}"


# --------------------------------------------------------------------------- semconv.py


@dataclass
class Constant:
    """One constant of ``semconv.py``."""

    name: str
    value: Any
    section: str
    convention: str
    #: the ``opentelemetry.semconv`` module the value is imported from, if any
    module: str | None = None
    #: for a dict: each value's convention
    value_conventions: dict[str, str] = field(default_factory=dict)


@dataclass
class Section:
    """One ``# ---- title`` section of ``semconv.py`` and the comments in it."""

    title: str
    comments: list[str] = field(default_factory=list)


def _comments(source: str) -> dict[int, str]:
    """Line number -> the text of a comment that is the whole line."""
    found: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and not token.line[: token.start[1]].strip():
            found[token.start[0]] = token.string.lstrip("#:").strip()
    return found


def _convention(value: str, module: str | None) -> str:
    if module is not None:
        return DEVELOPMENT if "._incubating." in module else STABLE
    return OWN if value.startswith("agentotel.") else DRAFT


@cache
def semconv() -> tuple[dict[str, Constant], list[Section]]:
    """Every constant of ``semconv.py`` by name, and its sections in file order."""
    import agentotel.semconv as module

    source = SEMCONV.read_text(encoding="utf-8")
    tree = ast.parse(source)
    imports = {
        alias.asname or alias.name: f"{node.module}.{alias.name}"
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }
    comments = _comments(source)
    assigned = {
        node.lineno: node for node in tree.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value
    }
    constants: dict[str, Constant] = {}
    sections = [Section("")]
    for line in sorted({*comments, *assigned}):
        node = assigned.get(line)
        if node is None:
            if comments[line].startswith("----"):
                sections.append(Section(comments[line].strip("- ")))
            else:
                sections[-1].comments.append(comments[line])
            continue
        name = node.target.id  # type: ignore[union-attr]
        value = getattr(module, name)
        origin = _origin(node.value, imports, constants)  # type: ignore[arg-type]
        constant = Constant(name, value, sections[-1].title,
                            _convention(value if isinstance(value, str) else "", origin), origin)
        if isinstance(node.value, ast.Dict) and isinstance(value, dict):
            constant.value_conventions = {
                str(v): _convention(str(v), _origin(item, imports, constants))
                for v, item in zip(value.values(), node.value.values, strict=True)
            }
        constants[name] = constant
    return constants, [section for section in sections if section.title]


def _origin(
    expr: ast.expr, imports: Mapping[str, str], known: Mapping[str, Constant]
) -> str | None:
    """The ``opentelemetry.semconv`` module an assigned value comes from, if any."""
    node = expr
    while isinstance(node, (ast.Attribute, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    if isinstance(node, ast.Name):
        if node.id in imports and imports[node.id].startswith("opentelemetry.semconv"):
            return imports[node.id]
        if node.id in known:
            return known[node.id].module
    return None


def attribute_constants() -> dict[str, tuple[Constant, str]]:
    """Attribute key -> the constant that holds it (dict values included) and the
    convention it follows."""
    constants, _ = semconv()
    metrics = {c.value for c in constants.values() if c.name.startswith("METRIC_")}
    skip = ("METRIC_", "PROM_", "EVENT_", "UNIT_", "BUCKETS_")
    found: dict[str, tuple[Constant, str]] = {}
    for constant in constants.values():
        if constant.name.startswith(skip):
            continue
        values = constant.value.values() if isinstance(constant.value, dict) else [constant.value]
        for value in values:
            if isinstance(value, str) and "." in value and value not in metrics:
                convention = constant.value_conventions.get(value, constant.convention)
                found.setdefault(value, (constant, convention))
    return found


# --------------------------------------------------------------------------- the specimen run


@dataclass
class Telemetry:
    """What the specimen run recorded."""

    #: span name -> (kind, instrument call, attribute keys in order, keys only on failure)
    spans: dict[str, tuple[str, str, list[str], set[str]]]
    #: metric name -> attribute keys (in order) and those only on failure
    metric_attributes: dict[str, tuple[list[str], set[str]]]
    #: event name -> attribute keys
    events: dict[str, list[str]]


@contextmanager
def _providers() -> Iterator[tuple[Any, Any, Any]]:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agentotel import _runtime, content
    from agentotel import semconv as sc
    from agentotel._instruments import Instruments
    from agentotel._runtime import Runtime
    from agentotel.cost import ModelPrice, PriceTable

    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
    reader = InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    meter_provider = MeterProvider(metric_readers=[reader])
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    price = ModelPrice(input=1.0, output=2.0, cache_read=0.5, cache_write=1.25)
    previous = _runtime.RUNTIME
    _runtime.install(Runtime(
        tracer_provider.get_tracer(sc.INSTRUMENTATION_SCOPE),
        Instruments(meter_provider.get_meter(sc.INSTRUMENTATION_SCOPE)),
        PriceTable({_placeholder(sc.GEN_AI_RESPONSE_MODEL): price}),
        capture=content.SPAN_AND_EVENT,
        event_logger=logger_provider.get_logger(sc.INSTRUMENTATION_SCOPE),
    ))
    try:
        yield spans, reader, logs
    finally:
        _runtime.install(previous)
        for provider in (tracer_provider, meter_provider, logger_provider):
            provider.shutdown()


def _placeholder(key: str) -> str:
    return "{" + key + "}"


def _specimen(fail: bool) -> None:
    """Every instrument once, every argument given; ``fail``: each operation fails."""
    import agentotel
    from agentotel import semconv as sc

    p = _placeholder

    def done(operation: Any) -> None:
        if fail:
            operation.fail(FAILURE)

    where = {"server_address": p(sc.SERVER_ADDRESS), "server_port": 443}
    params = {"temperature": 0.2, "top_p": 0.9, "top_k": 40, "max_tokens": 512,
              "frequency_penalty": 0.0, "presence_penalty": 0.0, "stop_sequences": ["\n\n"],
              "seed": 7, "choice_count": 1, "output_type": "text"}
    with agentotel.workflow(p(sc.GEN_AI_WORKFLOW_NAME),
                            conversation_id=p(sc.GEN_AI_CONVERSATION_ID)) as workflow:
        with agentotel.guardrail(p(sc.GUARDRAIL_NAME), target="input") as check:
            check.verdict("modify", reason=p(sc.GUARDRAIL_REASON), categories=["pii"])
            done(check)
        with agentotel.agent(p(sc.GEN_AI_AGENT_NAME), id=p(sc.GEN_AI_AGENT_ID),
                             description=p(sc.GEN_AI_AGENT_DESCRIPTION),
                             version=p(sc.GEN_AI_AGENT_VERSION)) as agent:
            with agentotel.llm(p(sc.GEN_AI_REQUEST_MODEL), provider=p(sc.GEN_AI_PROVIDER_NAME),
                               **where, **params) as call:
                call.record_input(["What is my order's status?"], system_instructions="Be brief.")
                for _ in call.stream(["Shipped", " today."]):
                    pass
                call.record_response(
                    response_model=p(sc.GEN_AI_RESPONSE_MODEL),
                    response_id=p(sc.GEN_AI_RESPONSE_ID),
                    finish_reasons=["stop"], input_tokens=1200, output_tokens=40,
                    cache_read_input_tokens=1024, cache_write_input_tokens=64,
                )
                done(call)
            agentotel.evaluation(p(sc.GEN_AI_EVALUATION_NAME), score=0.9, label="pass",
                                 explanation="Grounded in the order record.",
                                 response_id=p(sc.GEN_AI_RESPONSE_ID), span_context=call,
                                 error_type=FAILURE if fail else None)
            with agentotel.llm(p(sc.GEN_AI_REQUEST_MODEL), provider=p(sc.GEN_AI_PROVIDER_NAME),
                               operation=sc.OP_EMBEDDINGS, encoding_formats=["float"],
                               **where) as embeddings:
                embeddings.record_response(response_model=p(sc.GEN_AI_RESPONSE_MODEL),
                                           input_tokens=12, dimension_count=1536)
                done(embeddings)
            with agentotel.tool(p(sc.GEN_AI_TOOL_NAME), type="function",
                                description=p(sc.GEN_AI_TOOL_DESCRIPTION),
                                call_id=p(sc.GEN_AI_TOOL_CALL_ID)) as tool:
                tool.record_arguments({"order_id": "A-1001"})
                tool.record_result({"status": "shipped"})
                done(tool)
            with agentotel.retrieval(p(sc.GEN_AI_DATA_SOURCE_ID),
                                     provider=p(sc.GEN_AI_PROVIDER_NAME),
                                     request_model=p(sc.GEN_AI_REQUEST_MODEL), top_k=5,
                                     **where) as lookup:
                lookup.record_query("order status")
                lookup.record_documents([{"id": "doc-1", "score": 0.9}])
                done(lookup)
            with agentotel.memory(sc.OP_SEARCH_MEMORY, store=p(sc.GEN_AI_MEMORY_STORE_ID),
                                  memory_type="short_term", record_id=p(sc.GEN_AI_MEMORY_RECORD_ID),
                                  provider=p(sc.GEN_AI_PROVIDER_NAME), **where) as memory:
                memory.record_query("order status")
                memory.record_memories([{"content": "The customer asked about A-1001."}])
                done(memory)
            done(agent)
        done(workflow)


#: each instrument's signature, by the ``gen_ai.operation.name`` of its span (for the table)
CALLS = {
    "invoke_workflow": "`workflow(name, conversation_id=)`",
    "invoke_agent": "`agent(name, id=, description=, version=, conversation_id=)`",
    "chat": "`llm(model, provider=, operation=\"chat\", server_address=, server_port=, "
            "**request_params)`",
    "embeddings": "`llm(model, provider=, operation=\"embeddings\", server_address=, "
                  "server_port=, encoding_formats=)`",
    "execute_tool": "`tool(name, type=\"function\", description=, call_id=)`",
    "apply_guardrail": "`guardrail(name, target=\"input\")`",
    "retrieval": "`retrieval(data_source_id=None, provider=, request_model=, server_address=, "
                 "server_port=, top_k=)`",
    "search_memory": "`memory(operation, store=, memory_type=, record_id=, provider=, "
                     "server_address=, server_port=)`",
}


def _record(fail: bool) -> tuple[list[Any], list[tuple[str, list[str]]], list[Any]]:
    import agentotel
    from agentotel import semconv as sc

    with _providers() as (spans, reader, logs):
        _specimen(fail)
        store = _placeholder(sc.GEN_AI_MEMORY_STORE_ID)
        sizes = [agentotel.memory_size(store, lambda: 3, memory_type="short_term"),
                 agentotel.memory_size(store, lambda: 2048, memory_type="short_term", unit="By")]
        try:
            data = reader.get_metrics_data()
        finally:
            for size in sizes:
                size.unregister()
        points = [
            (metric.name, list(point.attributes or {}))
            for rm in data.resource_metrics for sm in rm.scope_metrics
            for metric in sm.metrics for point in metric.data.data_points
        ]
        return list(spans.get_finished_spans()), points, list(logs.get_finished_logs())


def _merge(keys: list[str], more: Iterable[str]) -> None:
    for key in more:
        if key not in keys:
            keys.append(key)


@cache
def specimen() -> Telemetry:
    """What every instrument records, succeeding and failing."""
    from agentotel import semconv as sc

    spans: dict[str, tuple[str, str, list[str], set[str]]] = {}
    metrics: dict[str, tuple[list[str], set[str]]] = {}
    events: dict[str, list[str]] = {}
    seen_ok: dict[str, set[str]] = {}
    seen_ok_metrics: dict[str, set[str]] = {}
    for fail in (False, True):
        finished, points, logs = _record(fail)
        for span in finished:
            attributes = span.attributes or {}
            operation = str(attributes.get(sc.GEN_AI_OPERATION_NAME, span.name))
            entry = spans.setdefault(
                span.name, (span.kind.name, CALLS.get(operation, ""), [], set())
            )
            keys = list(span.attributes or {})
            _merge(entry[2], keys)
            if not fail:
                seen_ok.setdefault(span.name, set()).update(keys)
            else:
                entry[3].update(set(keys) - seen_ok.get(span.name, set()))
        for name, keys in points:
            metric = metrics.setdefault(name, ([], set()))
            _merge(metric[0], keys)
            if not fail:
                seen_ok_metrics.setdefault(name, set()).update(keys)
            else:
                metric[1].update(set(keys) - seen_ok_metrics.get(name, set()))
        for record in logs:
            log = getattr(record, "log_record", record)
            if log.event_name:
                _merge(events.setdefault(log.event_name, []), list(log.attributes or {}))
    return Telemetry(spans, metrics, events)


# --------------------------------------------------------------------------- instruments


@dataclass
class Instrument:
    """What a ``create_*`` call on a meter says about one metric."""

    name: str
    kind: str
    unit: str
    description: str
    buckets: tuple[float, ...] | None = None


class RecordingMeter:
    """A meter that only notes the instruments created on it."""

    KINDS = {
        "create_counter": "counter",
        "create_up_down_counter": "up-down counter",
        "create_histogram": "histogram",
        "create_gauge": "gauge",
        "create_observable_counter": "observable counter",
        "create_observable_up_down_counter": "observable up-down counter",
        "create_observable_gauge": "observable gauge",
    }

    def __init__(self) -> None:
        self.created: dict[str, Instrument] = {}

    def __getattr__(self, method: str) -> Any:
        kind = self.KINDS.get(method)
        if kind is None:
            raise AttributeError(method)

        def create(name: str, *args: Any, **kwargs: Any) -> Any:
            self.created[name] = Instrument(
                name, kind, kwargs.get("unit", "") or "", kwargs.get("description", "") or "",
                kwargs.get("explicit_bucket_boundaries_advisory"),
            )
            return _Discard()

        return create


class _Discard:
    def __getattr__(self, _: str) -> Any:
        return lambda *args, **kwargs: None


@cache
def instruments() -> dict[str, Instrument]:
    """Every ``METRIC_*`` of ``semconv.py`` -> its instrument; agentotel's from
    :class:`~agentotel._instruments.Instruments`, the others from the semantic
    conventions package's ``create_*`` function for the name."""
    from agentotel._instruments import Instruments

    meter = RecordingMeter()
    Instruments(meter)  # type: ignore[arg-type]
    found = dict(meter.created)
    constants, _ = semconv()
    for constant in constants.values():
        if not constant.name.startswith("METRIC_") or constant.value in found:
            continue
        if constant.module is None:
            continue
        module = importlib.import_module(constant.module)
        create = getattr(module, "create_" + constant.value.replace(".", "_"), None)
        if create is not None:
            other = RecordingMeter()
            try:
                create(other)
            except TypeError:  # an observable instrument: it takes callbacks too
                create(other, ())
            found.update(other.created)
    return found


def prometheus_name(metric: str) -> str | None:
    """The ``PROM_*`` constant that goes with the ``METRIC_*`` constant of ``metric``."""
    constants, _ = semconv()
    for constant in constants.values():
        if constant.name.startswith("METRIC_") and constant.value == metric:
            prom = constants.get("PROM_" + constant.name.removeprefix("METRIC_"))
            return None if prom is None else str(prom.value)
    return None


# --------------------------------------------------------------------------- Markdown


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _code(values: Iterable[str]) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _keys(keys: list[str], on_failure: set[str]) -> str:
    from agentotel import semconv as sc

    shown = []
    for key in keys:
        text = f"`{key}`"
        if key in on_failure:
            text += " (on failure)"
        elif key in sc.CONTENT_ATTRIBUTES:
            text += " (opt-in content)"
        shown.append(text)
    return ", ".join(shown)


def spans_table() -> str:
    """One row per span of the specimen run, in the order of :data:`CALLS`."""
    telemetry = specimen()
    order = list(CALLS.values())
    rows = sorted(telemetry.spans.items(),
                  key=lambda item: order.index(item[1][1]) if item[1][1] in order else len(order))
    lines = ["| span name, and the instrument | span kind | attributes |", "|---|---|---|"]
    for name, (kind, call, keys, on_failure) in rows:
        lines.append(f"| `{name}`<br>{call} | {kind} | {_keys(keys, on_failure)} |")
    return "\n".join(lines) + "\n"


def events_table() -> str:
    constants, _ = semconv()
    telemetry = specimen()
    lines = ["| event | constant | convention | attributes |", "|---|---|---|---|"]
    for constant in constants.values():
        if constant.name.startswith("EVENT_"):
            keys = telemetry.events.get(constant.value, [])
            lines.append(f"| `{constant.value}` | `{constant.name}` | {constant.convention} | "
                         f"{_code(keys) or '–'} |")
    return "\n".join(lines) + "\n"


def metric_rows() -> list[tuple[str, Instrument, str | None, Constant, list[str], set[str]]]:
    """(section, instrument, Prometheus name, constant, attributes, failure-only ones) per
    ``METRIC_*`` constant, in ``semconv.py`` order."""
    constants, _ = semconv()
    found = instruments()
    telemetry = specimen()
    rows = []
    for constant in constants.values():
        if not constant.name.startswith("METRIC_") or constant.value not in found:
            continue
        keys, on_failure = telemetry.metric_attributes.get(constant.value, ([], set()))
        rows.append((constant.section, found[constant.value], prometheus_name(constant.value),
                     constant, keys, on_failure))
    return rows


#: headings of the metric tables, by section of ``semconv.py`` (else the section's name)
SECTION_TITLES = {
    "metrics": "Workflows, agents, LLM calls, tools, guardrails, cost",
    "the pipeline itself": "The export pipeline",
    "process and host": "The process and the host",
}


def metrics_tables() -> str:
    """One table per section of ``semconv.py`` that defines metrics."""
    out: list[str] = []
    section = None
    for where, instrument, prom, constant, keys, on_failure in metric_rows():
        if where != section:
            section = where
            out += ["", f"### {SECTION_TITLES.get(where, where.capitalize())}", "",
                    "| metric | instrument | unit | attributes | Prometheus name | convention |",
                    "|---|---|---|---|---|---|"]
        unit = f"`{instrument.unit}`" if instrument.unit else "–"
        described = instrument.description.rstrip(".")
        buckets = (f"<br>buckets: {', '.join(_number(b) for b in instrument.buckets)}"
                   if instrument.buckets else "")
        out.append(
            f"| `{instrument.name}`<br>{described}{buckets} | {instrument.kind} | {unit} | "
            f"{_keys(keys, on_failure) or '–'} | "
            f"{f'`{prom}`' if prom else '–'} | {constant.convention} |"
        )
    return "\n".join(out).lstrip("\n") + "\n"


def attributes_table() -> str:
    telemetry = specimen()
    carried: dict[str, list[str]] = {}
    for name, (_, _, keys, _) in telemetry.spans.items():
        for key in keys:
            carried.setdefault(key, []).append(f"span `{name.split(' ')[0]}`")
    for name, (keys, _) in telemetry.metric_attributes.items():
        for key in keys:
            carried.setdefault(key, []).append(f"metric `{name}`")
    for name, keys in telemetry.events.items():
        for key in keys:
            carried.setdefault(key, []).append(f"event `{name}`")
    lines = ["| attribute | constant | convention | carried by (in the specimen run) |",
             "|---|---|---|---|"]
    for key, (constant, convention) in sorted(attribute_constants().items()):
        on = sorted(set(carried.get(key, [])), key=carried.get(key, []).index)
        lines.append(f"| `{key}` | `{constant.name}` | {convention} | "
                     f"{', '.join(on) or '–'} |")
    return "\n".join(lines) + "\n"


def operation_names_table() -> str:
    constants, _ = semconv()
    lines = ["| `gen_ai.operation.name` | constant | convention |", "|---|---|---|"]
    for constant in constants.values():
        if constant.name.startswith("OP_"):
            lines.append(f"| `{constant.value}` | `{constant.name}` | "
                         f"{_convention('', constant.module) if constant.module else DRAFT} |")
    return "\n".join(lines) + "\n"


def sources_list() -> str:
    """Each section of ``semconv.py`` with the comments that cite its sources."""
    _, sections = semconv()
    version = metadata.version("opentelemetry-semantic-conventions")
    import agentotel.semconv as module

    cited = (module.__doc__ or "").partition("Sources:")[2].strip()
    out = [f"Names imported from `opentelemetry-semantic-conventions` are those of the "
           f"installed version, {version}. The module cites:", "", cited, "",
           "and, section by section:", ""]
    for section in sections:
        if section.comments:
            out.append(f"- **{section.title}**: " + " ".join(section.comments))
    return "\n".join(out) + "\n"

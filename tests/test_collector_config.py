"""Static checks of the shipped stack: Collector config, compose file, Grafana provisioning.

The Collector, Jaeger, Loki and Grafana cannot run without a container engine, so their
configurations are checked here against what they reference: every pipeline component is
defined and exists in the pinned otelcol-contrib release (tests/fixtures), every endpoint
names a compose service and a port that service listens on, every mounted file exists,
every image is pinned, and every dashboard reads from a provisioned datasource. Each
checker returns a list of problems; the tests run it on the shipped files (no problem) and
on a deliberately broken copy (the problem is reported).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from promql_names import dashboard_and_rule_metrics, queried_metrics

from agentotel import semconv

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "collector-config"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
KINDS = ("receivers", "processors", "exporters", "connectors", "extensions")
REMOVED_EXPORTERS = {"loki", "jaeger", "logging"}
SAMPLING_PROCESSORS = {"tail_sampling", "probabilistic_sampler"}
HOST_PORTS = {4317, 4318, 16686, 9090, 3100, 3000, 9093}
# Ports the upstream images listen on with the configuration used here (their defaults).
DEFAULT_PORTS = {"prometheus": {9090}, "alertmanager": {9093}, "grafana": {3000}}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def otelcol() -> dict[str, Any]:
    cfg: dict[str, Any] = load_yaml(CONFIG / "otelcol.yaml")
    return cfg


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    cfg: dict[str, Any] = load_yaml(CONFIG / "docker-compose.yml")
    return cfg


@pytest.fixture(scope="module")
def components() -> dict[str, Any]:
    pinned: dict[str, Any] = load_yaml(FIXTURES / "otelcol-contrib-0.136.0-components.yaml")
    return pinned


def component_type(component_id: str) -> str:
    """``otlp/jaeger`` -> ``otlp``."""
    return component_id.split("/", 1)[0]


# --------------------------------------------------------------------------- collector


def pipeline_problems(cfg: dict[str, Any]) -> list[str]:
    """References, usage and wiring of the components in ``service.pipelines``."""
    found = []
    pipelines = cfg["service"]["pipelines"]
    defined = {kind: set(cfg.get(kind) or {}) for kind in KINDS}
    used: dict[str, set[str]] = {kind: set() for kind in KINDS}
    connector_as_exporter: set[str] = set()
    connector_as_receiver: set[str] = set()
    for name, pipeline in pipelines.items():
        if component_type(name) not in ("traces", "metrics", "logs"):
            found.append(f"pipeline {name}: unknown signal")
        for role in ("receivers", "processors", "exporters"):
            for cid in pipeline.get(role, []):
                if role != "processors" and cid in defined["connectors"]:
                    used["connectors"].add(cid)
                    side = connector_as_receiver if role == "receivers" else connector_as_exporter
                    side.add(cid)
                elif cid in defined[role]:
                    used[role].add(cid)
                else:
                    found.append(f"pipeline {name}: {role[:-1]} {cid} is not defined")
        if not pipeline.get("receivers") or not pipeline.get("exporters"):
            found.append(f"pipeline {name}: needs receivers and exporters")
    for cid in cfg["service"].get("extensions", []):
        if cid in defined["extensions"]:
            used["extensions"].add(cid)
        else:
            found.append(f"service.extensions: {cid} is not defined")
    for kind in KINDS:
        for cid in sorted(defined[kind] - used[kind]):
            found.append(f"{kind[:-1]} {cid} is defined but not used")
    for cid in sorted(defined["connectors"]):
        if cid not in connector_as_exporter or cid not in connector_as_receiver:
            found.append(
                f"connector {cid} must be an exporter of one pipeline and a receiver of another"
            )
    return found


def ordering_problems(cfg: dict[str, Any]) -> list[str]:
    found = []
    for name, pipeline in cfg["service"]["pipelines"].items():
        processors = [component_type(p) for p in pipeline.get("processors", [])]
        if not processors or processors[0] != "memory_limiter":
            found.append(f"pipeline {name}: memory_limiter must be the first processor")
        if not processors or processors[-1] != "batch":
            found.append(f"pipeline {name}: batch must be the last processor")
    return found


def version_problems(cfg: dict[str, Any], pinned: dict[str, Any]) -> list[str]:
    """Every component type exists in the pinned release; no removed exporter is used."""
    found = []
    for kind in KINDS:
        for cid in cfg.get(kind) or {}:
            ctype = component_type(cid)
            module = pinned["types"][kind].get(ctype)
            if module is None:
                release = f"otelcol-contrib {pinned['version']}"
                found.append(f"{kind[:-1]} type {ctype} is not in {release}")
            elif module not in pinned["modules"][kind]:
                found.append(f"{kind[:-1]} {ctype}: module {module} is not in the distribution")
            if kind == "exporters" and ctype in REMOVED_EXPORTERS:
                found.append(f"exporter {ctype} has been removed from otelcol-contrib")
    return found


def test_every_pipeline_component_is_defined_used_and_wired(otelcol: dict[str, Any]) -> None:
    assert pipeline_problems(otelcol) == []


def test_pipeline_checker_reports_an_undefined_exporter(otelcol: dict[str, Any]) -> None:
    broken = copy.deepcopy(otelcol)
    broken["service"]["pipelines"]["traces"]["exporters"] = ["otlp/tempo", "spanmetrics"]
    assert pipeline_problems(broken) == [
        "pipeline traces: exporter otlp/tempo is not defined",
        "exporter otlp/jaeger is defined but not used",
    ]


def test_pipeline_checker_reports_a_connector_used_on_one_side_only(
    otelcol: dict[str, Any],
) -> None:
    broken = copy.deepcopy(otelcol)
    broken["service"]["pipelines"]["metrics"]["receivers"] = ["otlp"]
    assert pipeline_problems(broken) == [
        "connector spanmetrics must be an exporter of one pipeline and a receiver of another"
    ]


def test_memory_limiter_is_first_and_batch_last_in_every_pipeline(
    otelcol: dict[str, Any],
) -> None:
    assert ordering_problems(otelcol) == []


def test_ordering_checker_reports_memory_limiter_after_another_processor(
    otelcol: dict[str, Any],
) -> None:
    broken = copy.deepcopy(otelcol)
    broken["service"]["pipelines"]["logs"]["processors"] = [
        "resourcedetection", "memory_limiter", "batch",
    ]
    assert ordering_problems(broken) == [
        "pipeline logs: memory_limiter must be the first processor"
    ]


def test_component_types_exist_in_the_pinned_release(
    otelcol: dict[str, Any], components: dict[str, Any]
) -> None:
    assert version_problems(otelcol, components) == []


def test_version_checker_reports_names_of_other_releases(
    otelcol: dict[str, Any], components: dict[str, Any]
) -> None:
    broken = copy.deepcopy(otelcol)
    broken["exporters"]["otlp_grpc/jaeger"] = broken["exporters"].pop("otlp/jaeger")
    broken["exporters"]["loki"] = {"endpoint": "http://loki:3100/loki/api/v1/push"}
    assert version_problems(broken, components) == [
        "exporter type otlp_grpc is not in otelcol-contrib 0.136.0",
        "exporter type loki is not in otelcol-contrib 0.136.0",
        "exporter loki has been removed from otelcol-contrib",
    ]


def test_removed_exporters_are_absent_from_the_pinned_distribution(
    components: dict[str, Any],
) -> None:
    modules = " ".join(components["modules"]["exporters"])
    assert [name for name in ("lokiexporter", "jaegerexporter", "loggingexporter")
            if f"/{name}" in modules] == []


def test_collector_image_is_the_release_the_component_list_describes(
    compose: dict[str, Any], components: dict[str, Any]
) -> None:
    image = compose["services"]["otel-collector"]["image"]
    assert image == f"otel/opentelemetry-collector-contrib:{components['version']}"


def test_otlp_receiver_binds_all_interfaces_on_the_standard_ports(
    otelcol: dict[str, Any],
) -> None:
    protocols = otelcol["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"


def test_span_metrics_are_computed_before_any_sampling(otelcol: dict[str, Any]) -> None:
    feeding = [
        p for p in otelcol["service"]["pipelines"].values() if "spanmetrics" in p["exporters"]
    ]
    assert feeding, "no pipeline feeds the spanmetrics connector"
    sampled = [
        cid for p in feeding for cid in p.get("processors", [])
        if component_type(cid) in SAMPLING_PROCESSORS
    ]
    assert sampled == []


def test_logs_go_to_lokis_native_otlp_endpoint(otelcol: dict[str, Any]) -> None:
    exporter = otelcol["exporters"]["otlphttp/loki"]
    assert exporter["endpoint"] == "http://loki:3100/otlp"
    assert otelcol["service"]["pipelines"]["logs"]["exporters"] == ["otlphttp/loki"]


def test_prometheus_exporter_listens_on_8889_without_resource_labels(
    otelcol: dict[str, Any],
) -> None:
    exporter = otelcol["exporters"]["prometheus"]
    assert exporter["endpoint"] == "0.0.0.0:8889"
    assert exporter["resource_to_telemetry_conversion"] == {"enabled": False}


def test_health_check_zpages_pprof_and_own_metrics_are_exposed(
    otelcol: dict[str, Any],
) -> None:
    assert otelcol["extensions"]["health_check"]["endpoint"] == "0.0.0.0:13133"
    assert set(otelcol["service"]["extensions"]) == {"health_check", "zpages", "pprof"}
    reader = otelcol["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]
    assert reader == {"prometheus": {"host": "0.0.0.0", "port": 8888}}


# ------------------------------------------------------- GenAI content deletion switch


def content_drop_statements(cfg: dict[str, Any]) -> dict[str, list[str]]:
    """context -> the attribute keys its statements delete."""
    processor = cfg["processors"]["transform/drop_genai_content"]
    deleted: dict[str, list[str]] = {}
    for group in processor["trace_statements"] + processor["log_statements"]:
        keys = [
            m.group(1) for s in group["statements"]
            if (m := re.fullmatch(r'delete_key\(attributes, "([^"]+)"\)', s))
        ]
        deleted[group["context"]] = keys
    return deleted


def expand_env(text: str, env: dict[str, str]) -> str:
    """The Collector's ``${env:NAME:-default}`` expansion."""
    return re.sub(
        r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}",
        lambda m: env.get(m.group(1), m.group(2) or ""),
        text,
    )


def condition_holds(condition: str) -> bool:
    """Evaluates the only condition shape used: ``"<literal>" == "<literal>"``."""
    match = re.fullmatch(r'"([^"]*)" == "([^"]*)"', condition)
    assert match is not None, condition
    return match.group(1) == match.group(2)


def test_content_processor_deletes_every_genai_content_attribute(
    otelcol: dict[str, Any],
) -> None:
    deleted = content_drop_statements(otelcol)
    assert deleted == {
        "span": list(semconv.CONTENT_ATTRIBUTES),
        "spanevent": list(semconv.CONTENT_ATTRIBUTES),
        "log": list(semconv.CONTENT_ATTRIBUTES),
    }


def test_content_processor_runs_in_trace_and_log_pipelines(otelcol: dict[str, Any]) -> None:
    pipelines = otelcol["service"]["pipelines"]
    holding = sorted(
        name for name, p in pipelines.items()
        if "transform/drop_genai_content" in p.get("processors", [])
    )
    assert holding == ["logs", "traces"]


@pytest.mark.parametrize(
    ("env", "drops"),
    [({}, False), ({"AGENTOTEL_DROP_CONTENT": "false"}, False),
     ({"AGENTOTEL_DROP_CONTENT": "true"}, True)],
)
def test_content_is_deleted_only_when_the_operator_sets_agentotel_drop_content_true(
    otelcol: dict[str, Any], env: dict[str, str], drops: bool
) -> None:
    processor = otelcol["processors"]["transform/drop_genai_content"]
    groups = processor["trace_statements"] + processor["log_statements"]
    outcomes = {
        condition_holds(expand_env(condition, env))
        for group in groups for condition in group["conditions"]
    }
    assert outcomes == {drops}


def test_compose_passes_the_content_switch_to_the_collector(compose: dict[str, Any]) -> None:
    environment = compose["services"]["otel-collector"]["environment"]
    assert environment["AGENTOTEL_DROP_CONTENT"] == "${AGENTOTEL_DROP_CONTENT:-false}"


# --------------------------------------------------------------------------- compose


def test_compose_file_is_valid_against_the_compose_specification(
    compose: dict[str, Any],
) -> None:
    schema = json.loads((FIXTURES / "compose-spec.json").read_text())
    jsonschema.Draft201909Validator(schema).validate(compose)


def test_compose_schema_check_rejects_a_misspelled_key(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["grafana"]["volume"] = broken["services"]["grafana"].pop("volumes")
    schema = json.loads((FIXTURES / "compose-spec.json").read_text())
    unexpected = "'volume' does not match any of the regexes"
    with pytest.raises(jsonschema.ValidationError, match=unexpected):
        jsonschema.Draft201909Validator(schema).validate(broken)


def bind_mount_sources(compose: dict[str, Any]) -> list[str]:
    return [
        volume.split(":", 1)[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if volume.startswith(".")
    ]


def mount_problems(compose: dict[str, Any], base: Path) -> list[str]:
    return [f"{src} does not exist" for src in bind_mount_sources(compose)
            if not (base / src).exists()]


def test_every_mounted_file_exists(compose: dict[str, Any]) -> None:
    assert len(bind_mount_sources(compose)) == 9
    assert mount_problems(compose, CONFIG) == []


def test_mount_checker_reports_a_missing_file(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["loki"]["volumes"][0] = "./loki/loki-config.yaml:/etc/loki/loki.yaml:ro"
    assert mount_problems(broken, CONFIG) == ["./loki/loki-config.yaml does not exist"]


def image_problems(compose: dict[str, Any]) -> list[str]:
    found = []
    for name, service in compose["services"].items():
        image = service.get("image", "")
        repo, _, tag = image.rpartition(":")
        if not repo or "/" in tag or not re.fullmatch(r"v?\d+\.\d+\.\d+", tag):
            found.append(f"{name}: image {image!r} is not pinned to a version")
    return found


def test_every_image_is_pinned_to_a_version(compose: dict[str, Any]) -> None:
    assert image_problems(compose) == []


def test_image_checker_reports_latest_and_untagged_images(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["grafana"]["image"] = "grafana/grafana:latest"
    broken["services"]["loki"]["image"] = "grafana/loki"
    assert image_problems(broken) == [
        "loki: image 'grafana/loki' is not pinned to a version",
        "grafana: image 'grafana/grafana:latest' is not pinned to a version",
    ]


def test_jaeger_is_version_2(compose: dict[str, Any]) -> None:
    assert re.fullmatch(r"jaegertracing/jaeger:2\.\d+\.\d+", compose["services"]["jaeger"]["image"])


def test_host_ports_are_published_on_loopback_only(compose: dict[str, Any]) -> None:
    published = {}
    for name, service in compose["services"].items():
        for mapping in service.get("ports", []):
            host_ip, host_port, container_port = str(mapping).split(":")
            assert host_ip == "127.0.0.1", f"{name} publishes {mapping} beyond loopback"
            published[int(host_port)] = (name, int(container_port))
    assert set(published) == HOST_PORTS
    assert published[4317] == ("otel-collector", 4317)
    assert published[4318] == ("otel-collector", 4318)


# ------------------------------------------------- endpoints vs services and ports


def host_port(endpoint: str) -> tuple[str, int]:
    """``http://loki:3100/otlp`` or ``jaeger:4317`` -> (host, port)."""
    parts = urlsplit(endpoint if "://" in endpoint else f"tcp://{endpoint}")
    assert parts.hostname is not None and parts.port is not None, endpoint
    return parts.hostname, parts.port


def listening_ports() -> dict[str, set[int]]:
    """Service -> ports it listens on, read from each service's own configuration."""
    otelcol = load_yaml(CONFIG / "otelcol.yaml")
    collector = {
        host_port(otelcol["receivers"]["otlp"]["protocols"][p]["endpoint"])[1]
        for p in ("grpc", "http")
    }
    collector.add(host_port(otelcol["exporters"]["prometheus"]["endpoint"])[1])
    collector.add(otelcol["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]
                  ["prometheus"]["port"])
    collector |= {host_port(ext["endpoint"])[1] for ext in otelcol["extensions"].values()}
    jaeger_cfg = load_yaml(CONFIG / "jaeger" / "config.yaml")
    jaeger = {
        host_port(jaeger_cfg["receivers"]["otlp"]["protocols"][p]["endpoint"])[1]
        for p in ("grpc", "http")
    }
    jaeger |= {host_port(jaeger_cfg["extensions"]["jaeger_query"][p]["endpoint"])[1]
               for p in ("http", "grpc")}
    loki = {load_yaml(CONFIG / "loki" / "loki.yaml")["server"]["http_listen_port"]}
    return {"otel-collector": collector, "jaeger": jaeger, "loki": loki, **DEFAULT_PORTS}


def stack_endpoints() -> list[tuple[str, str]]:
    """(where, endpoint) for every address one part of the stack uses to reach another."""
    otelcol = load_yaml(CONFIG / "otelcol.yaml")
    found = [
        (f"otelcol exporter {name}", exporter["endpoint"])
        for name, exporter in otelcol["exporters"].items()
        if not exporter["endpoint"].startswith("0.0.0.0")
    ]
    prometheus = load_yaml(CONFIG / "prometheus" / "prometheus.yml")
    for job in prometheus["scrape_configs"]:
        for static in job["static_configs"]:
            found += [(f"prometheus job {job['job_name']}", t) for t in static["targets"]
                      if not t.startswith("localhost")]
    for am in prometheus["alerting"]["alertmanagers"]:
        found += [("prometheus alerting", t) for static in am["static_configs"]
                  for t in static["targets"]]
    datasources = load_yaml(
        CONFIG / "grafana" / "provisioning" / "datasources" / "datasources.yaml"
    )
    found += [(f"grafana datasource {d['uid']}", d["url"]) for d in datasources["datasources"]]
    loki = load_yaml(CONFIG / "loki" / "loki.yaml")
    found.append(("loki ruler", loki["ruler"]["alertmanager_url"]))
    return found


def endpoint_problems(
    endpoints: list[tuple[str, str]], services: set[str], ports: dict[str, set[int]]
) -> list[str]:
    found = []
    for where, endpoint in endpoints:
        host, port = host_port(endpoint)
        if host not in services:
            found.append(f"{where}: {host} is not a compose service")
        elif port not in ports.get(host, set()):
            found.append(f"{where}: {host} does not listen on {port}")
    return found


def test_every_endpoint_names_a_compose_service_and_a_port_it_listens_on(
    compose: dict[str, Any],
) -> None:
    endpoints = stack_endpoints()
    assert len(endpoints) == 9
    assert endpoint_problems(endpoints, set(compose["services"]), listening_ports()) == []


def test_endpoint_checker_reports_wrong_host_and_wrong_port(compose: dict[str, Any]) -> None:
    endpoints = [("otelcol exporter otlp/jaeger", "jaeger:14250"),
                 ("grafana datasource loki", "http://loki-gateway:3100")]
    assert endpoint_problems(endpoints, set(compose["services"]), listening_ports()) == [
        "otelcol exporter otlp/jaeger: jaeger does not listen on 14250",
        "grafana datasource loki: loki-gateway is not a compose service",
    ]


def test_published_ports_are_ports_the_services_listen_on(compose: dict[str, Any]) -> None:
    ports = listening_ports()
    unserved = [
        f"{name} {mapping}"
        for name, service in compose["services"].items()
        for mapping in service.get("ports", [])
        if int(str(mapping).split(":")[-1]) not in ports[name]
    ]
    assert unserved == []


def test_prometheus_scrapes_the_collector_exporter_with_honor_labels() -> None:
    prometheus = load_yaml(CONFIG / "prometheus" / "prometheus.yml")
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    apps = jobs["otel-collector-apps"]
    assert apps["honor_labels"] is True
    assert apps["static_configs"] == [{"targets": ["otel-collector:8889"]}]
    assert jobs["otel-collector"]["static_configs"] == [{"targets": ["otel-collector:8888"]}]


# --------------------------------------------------------------------------- grafana


def provisioned_datasources() -> dict[str, dict[str, Any]]:
    path = CONFIG / "grafana" / "provisioning" / "datasources" / "datasources.yaml"
    return {d["uid"]: d for d in load_yaml(path)["datasources"]}


def dashboards() -> dict[str, dict[str, Any]]:
    return {
        path.name: json.loads(path.read_text())
        for path in sorted((CONFIG / "grafana" / "dashboards").glob("*.json"))
    }


def datasource_refs(node: Any) -> list[dict[str, Any]]:
    """Every ``datasource`` object anywhere in a dashboard."""
    refs = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource" and isinstance(value, dict):
                refs.append(value)
            else:
                refs += datasource_refs(value)
    elif isinstance(node, list):
        for item in node:
            refs += datasource_refs(item)
    return refs


def datasource_problems(
    dashboard: dict[str, Any], provisioned: dict[str, dict[str, Any]]
) -> list[str]:
    found = []
    for ref in datasource_refs(dashboard):
        source = provisioned.get(ref.get("uid", ""))
        if source is None:
            found.append(
                f"{dashboard['uid']}: datasource uid {ref.get('uid')!r} is not provisioned"
            )
        elif source["type"] != ref.get("type"):
            found.append(
                f"{dashboard['uid']}: datasource {ref['uid']} is a {source['type']},"
                f" not {ref.get('type')}"
            )
    return found


def test_dashboards_cover_overview_llm_agents_tools_guardrails_evaluations_and_pipeline(
) -> None:
    titles = {d["uid"]: d["title"] for d in dashboards().values()}
    assert titles == {
        "agentotel-overview": "agentotel / Overview",
        "agentotel-llm": "agentotel / LLM",
        "agentotel-agents-tools": "agentotel / Agents & tools",
        "agentotel-guardrails": "agentotel / Guardrails",
        "agentotel-evaluations": "agentotel / Evaluations",
        "agentotel-pipeline": "agentotel / Telemetry pipeline",
    }


def test_pipeline_dashboard_charts_queue_fill_drops_failures_latency_and_the_collector(
) -> None:
    panels = dashboards()["pipeline.json"]["panels"]
    text = {p["title"]: " ".join(t["expr"] for t in p.get("targets", [])) for p in panels}
    wanted = {
        "Queue fill by processor": ["otel_sdk_processor_span_queue_size",
                                    "otel_sdk_processor_log_queue_capacity"],
        "Dropped per second by signal and reason": [
            'otel_sdk_processor_span_processed_total{job=~"$job", error_type!=""}',
            'otel_sdk_processor_log_processed_total{job=~"$job", error_type!=""}'],
        "Failed per second by signal and error type": [
            'otel_sdk_exporter_span_exported_total{job=~"$job", error_type!=""}',
            'otel_sdk_exporter_metric_data_point_exported_total{job=~"$job", error_type!=""}'],
        "Export duration p50 / p95 by exporter": [
            "otel_sdk_exporter_operation_duration_seconds_bucket"],
        "Collector accepted per second by signal": ["otelcol_receiver_accepted_spans_total"],
        "Collector refused per second by signal": ["otelcol_receiver_refused_log_records_total"],
        "Collector dropped per second by signal": [
            "otelcol_exporter_send_failed_metric_points_total",
            "otelcol_exporter_enqueue_failed_spans_total"],
    }
    missing = {title: [q for q in queries if q not in text.get(title, "")]
               for title, queries in wanted.items()}
    assert {title: queries for title, queries in missing.items() if queries} == {}


def test_every_dashboard_datasource_is_provisioned_with_that_uid_and_type() -> None:
    provisioned = provisioned_datasources()
    found = [p for d in dashboards().values() for p in datasource_problems(d, provisioned)]
    assert found == []


def test_datasource_checker_reports_an_unknown_uid() -> None:
    board = copy.deepcopy(dashboards()["overview.json"])
    board["panels"][1]["datasource"] = {"type": "prometheus", "uid": "prom"}
    assert datasource_problems(board, provisioned_datasources()) == [
        "agentotel-overview: datasource uid 'prom' is not provisioned"
    ]


def test_overview_has_a_loki_logs_panel_and_a_jaeger_traces_panel() -> None:
    panels = dashboards()["overview.json"]["panels"]
    kinds = {(p["type"], p["datasource"]["uid"]) for p in panels if p["type"] != "row"}
    assert {("logs", "loki"), ("table", "jaeger")} <= kinds


def test_traces_and_logs_link_to_each_other() -> None:
    sources = provisioned_datasources()
    derived = sources["loki"]["jsonData"]["derivedFields"]
    assert [(f["name"], f["matcherType"], f["datasourceUid"]) for f in derived] == [
        ("trace_id", "label", "jaeger")
    ]
    assert sources["jaeger"]["jsonData"]["tracesToLogsV2"]["datasourceUid"] == "loki"


def test_dashboard_provider_reads_the_mounted_dashboard_directory(
    compose: dict[str, Any],
) -> None:
    provider = load_yaml(CONFIG / "grafana" / "provisioning" / "dashboards" / "dashboards.yaml")
    path = provider["providers"][0]["options"]["path"]
    mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"]
                  if v.startswith("."))
    assert mounts["./grafana/dashboards"] == path


def agentotel_metric_names() -> set[str]:
    """The Prometheus names of agentotel's metrics and their histogram series."""
    names = set()
    for attr in dir(semconv):
        if attr.startswith("PROM_"):
            base = getattr(semconv, attr)
            names |= {base, f"{base}_bucket", f"{base}_count", f"{base}_sum"}
    return names


def test_dashboards_and_rules_query_only_agentotel_prometheus_names() -> None:
    unknown = dashboard_and_rule_metrics() - agentotel_metric_names()
    assert unknown == set()


def test_metric_name_check_reports_a_name_agentotel_does_not_emit() -> None:
    text = 'sum(rate(gen_ai_client_token_usage_total{job="x"}[5m]))'
    assert queried_metrics(text) - agentotel_metric_names() == {"gen_ai_client_token_usage_total"}


def test_dashboards_chart_every_agentotel_metric() -> None:
    text = " ".join(json.dumps(d) for d in dashboards().values())
    used = queried_metrics(text)
    bases = {getattr(semconv, a) for a in dir(semconv) if a.startswith("PROM_")}
    uncharted = {b for b in bases if not {b, f"{b}_bucket", f"{b}_count", f"{b}_sum"} & used}
    assert uncharted == set()


# ------------------------------------------------------- retrievals apart from LLM calls

# A selector of gen_ai.client.operation.duration's series, with its label matchers if any.
OPERATION_DURATION_SELECTOR = re.compile(
    rf"\b{semconv.PROM_OPERATION_DURATION}_(?:bucket|count|sum)\b(\{{[^}}]*\}})?"
)
# LLM queries leave out the other operations recorded on gen_ai.client.operation.duration:
# retrievals and remote agent invocations
NOT_RETRIEVAL = f'gen_ai_operation_name!~"{semconv.OP_RETRIEVAL}|{semconv.OP_INVOKE_AGENT}"'
ONLY_RETRIEVAL = f'gen_ai_operation_name="{semconv.OP_RETRIEVAL}"'


def dashboard_expressions(dashboard: dict[str, Any]) -> dict[str, str]:
    """Query id -> PromQL of every panel target and every variable query."""
    found = {
        f"{panel['title']} / {target['refId']}": target["expr"]
        for panel in dashboard["panels"] for target in panel.get("targets", [])
        if "expr" in target
    }
    for var in dashboard.get("templating", {}).get("list", []):
        found[f"${var['name']}"] = var["query"]["query"]
    return found


def rule_expressions() -> dict[str, str]:
    groups = load_yaml(CONFIG / "prometheus" / "alerts.yml")["groups"]
    return {
        rule.get("record") or rule["alert"]: rule["expr"]
        for group in groups for rule in group["rules"]
    }


def operation_filter_problems(expressions: dict[str, str], matcher: str) -> list[str]:
    """Each selector of gen_ai.client.operation.duration without ``matcher``."""
    return [
        f"{qid}: {match.group(0)} lacks {matcher}"
        for qid, expr in expressions.items()
        for match in OPERATION_DURATION_SELECTOR.finditer(expr)
        if matcher not in (match.group(1) or "")
    ]


def test_llm_dashboard_leaves_retrievals_out_of_every_operation_duration_query() -> None:
    expressions = dashboard_expressions(dashboards()["llm.json"])
    assert sum(len(OPERATION_DURATION_SELECTOR.findall(e)) for e in expressions.values()) > 0
    assert operation_filter_problems(expressions, NOT_RETRIEVAL) == []


def test_rules_leave_retrievals_out_of_every_operation_duration_query() -> None:
    reading = {
        name: expr for name, expr in rule_expressions().items()
        if OPERATION_DURATION_SELECTOR.search(expr)
    }
    assert set(reading) == {
        "agentotel:llm_error:ratio_rate5m", "agentotel:llm_duration_seconds:p99_5m",
    }
    assert operation_filter_problems(reading, NOT_RETRIEVAL) == []


def test_agents_and_tools_dashboard_reads_operation_duration_for_retrievals_only() -> None:
    expressions = dashboard_expressions(dashboards()["agents-tools.json"])
    reading = {qid for qid, e in expressions.items() if OPERATION_DURATION_SELECTOR.search(e)}
    assert reading == {
        "Retrievals per second by provider / A",
        "Retrieval error ratio by provider / A",
        "Retrieval duration p50 / p95 by provider / A",
        "Retrieval duration p50 / p95 by provider / B",
    }
    assert operation_filter_problems(expressions, ONLY_RETRIEVAL) == []


def test_operation_filter_check_reports_a_selector_that_counts_retrievals() -> None:
    expressions = {
        "calls": 'sum(rate(gen_ai_client_operation_duration_seconds_count{job=~"$job",'
                 ' gen_ai_operation_name!~"retrieval|invoke_agent"}[5m]))',
        "errors": 'sum(rate(gen_ai_client_operation_duration_seconds_count{error_type!=""}[5m]))'
                  ' / sum(rate(gen_ai_client_operation_duration_seconds_count[5m]))',
    }
    assert operation_filter_problems(expressions, NOT_RETRIEVAL) == [
        'errors: gen_ai_client_operation_duration_seconds_count{error_type!=""}'
        ' lacks gen_ai_operation_name!~"retrieval|invoke_agent"',
        "errors: gen_ai_client_operation_duration_seconds_count"
        ' lacks gen_ai_operation_name!~"retrieval|invoke_agent"',
    ]

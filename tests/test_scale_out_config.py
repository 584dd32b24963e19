"""Static checks of ``collector-config/scale-out/``: agent and gateway Collectors.

The Collector cannot run here, so the topology is proven on its files, with the checkers of
the single Collector (``test_collector_config``) and a few of its own:

- both configurations: every pipeline wired, connectors on both sides, ``memory_limiter``
  first, every component type in the pinned otelcol-contrib release;
- the agent: traces leave only through the ``loadbalancing`` exporter, routed by
  ``traceID``, to the name that resolves to every gateway; the content switch is the single
  Collector's;
- the gateway: span metrics see every span before ``tail_sampling``; the policies keep
  errors, denied guardrail checks, slow and expensive LLM calls and a share of the rest,
  with the attribute names agentotel emits (:mod:`agentotel.semconv`);
- the compose file: valid, pinned, two agents and two gateways, every endpoint a service
  and a port it listens on; Prometheus accepts the gateways' remote write;
- the Kubernetes manifests: valid against the vendored Kubernetes 1.34 schemas
  (``tests/fixtures/kubernetes-json-schema``), pinned images, requests and limits,
  probes on the health_check port, the headless Service the agents resolve.

Each checker returns a list of problems: the shipped files have none, a broken copy has
the one it was broken for.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from test_collector_config import (
    CONFIG,
    FIXTURES,
    SAMPLING_PROCESSORS,
    bind_mount_sources,
    component_type,
    content_drop_statements,
    endpoint_problems,
    expand_env,
    host_port,
    image_problems,
    listening_ports,
    load_yaml,
    mount_problems,
    ordering_problems,
    pipeline_problems,
    version_problems,
)
from test_prometheus_rules import promtool, run  # noqa: F401  (promtool is a fixture)
from test_tail_sampling_config import KEEPING_POLICIES

from agentotel import semconv

ROOT = Path(__file__).resolve().parent.parent
SCALE_OUT = CONFIG / "scale-out"
K8S_SCHEMAS = FIXTURES / "kubernetes-json-schema" / "v1.34.0-local-strict"
#: the name that resolves to every gateway (compose network alias, headless Service)
GATEWAY_POOL = "otelcol-gateway"
#: what the gateway reads from its environment, and what the compose file sets for it
GATEWAY_ENV = {"GATEWAY_NAME": "gateway-1"}


def expanded(path: Path, env: dict[str, str]) -> dict[str, Any]:
    """A Collector configuration with ``${env:...}`` expanded as the Collector does."""
    config: dict[str, Any] = yaml.safe_load(expand_env(path.read_text(), env))
    return config


def required_variables(path: Path) -> set[str]:
    """The ``${env:NAME}`` references without a default."""
    return set(re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", path.read_text()))


def emitted_names() -> set[str]:
    """Every name :mod:`agentotel.semconv` defines."""
    return {value for key, value in vars(semconv).items()
            if key.isupper() and isinstance(value, str)}


@pytest.fixture(scope="module")
def agent() -> dict[str, Any]:
    config: dict[str, Any] = load_yaml(SCALE_OUT / "agent.yaml")
    return config


@pytest.fixture(scope="module")
def gateway() -> dict[str, Any]:
    return expanded(SCALE_OUT / "gateway.yaml", GATEWAY_ENV)


@pytest.fixture(scope="module")
def components() -> dict[str, Any]:
    pinned: dict[str, Any] = load_yaml(FIXTURES / "otelcol-contrib-0.136.0-components.yaml")
    return pinned


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    config: dict[str, Any] = load_yaml(SCALE_OUT / "docker-compose.yml")
    return config


@pytest.fixture(scope="module")
def kustomization() -> dict[str, Any]:
    config: dict[str, Any] = load_yaml(SCALE_OUT / "kustomization.yaml")
    return config


@pytest.fixture(scope="module")
def manifests(kustomization: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``Kind/name`` -> manifest, for every resource the kustomization lists."""
    docs = [load_yaml(SCALE_OUT / path) for path in kustomization["resources"]]
    return {f"{doc['kind']}/{doc['metadata']['name']}": doc for doc in docs}


# ------------------------------------------------------------------ both Collectors


@pytest.mark.parametrize("name", ["agent", "gateway"])
def test_every_pipeline_is_wired_memory_limiter_first_and_in_the_pinned_release(
    name: str, request: pytest.FixtureRequest, components: dict[str, Any]
) -> None:
    config = request.getfixturevalue(name)
    assert pipeline_problems(config) == []
    assert ordering_problems(config) == []
    assert version_problems(config, components) == []


def test_version_checker_reports_the_later_name_of_the_load_balancer(
    agent: dict[str, Any], components: dict[str, Any]
) -> None:
    broken = copy.deepcopy(agent)
    broken["exporters"]["load_balancing"] = broken["exporters"].pop("loadbalancing")
    assert version_problems(broken, components) == [
        "exporter type load_balancing is not in otelcol-contrib 0.136.0"
    ]


def test_ordering_checker_reports_a_gateway_pipeline_without_memory_limiter_first(
    gateway: dict[str, Any],
) -> None:
    broken = copy.deepcopy(gateway)
    broken["service"]["pipelines"]["traces/sampled"]["processors"] = [
        "tail_sampling", "memory_limiter", "batch",
    ]
    assert ordering_problems(broken) == [
        "pipeline traces/sampled: memory_limiter must be the first processor"
    ]


def test_pipeline_checker_reports_the_sampling_connector_used_on_one_side_only(
    gateway: dict[str, Any],
) -> None:
    broken = copy.deepcopy(gateway)
    broken["service"]["pipelines"]["traces"]["exporters"] = ["spanmetrics"]
    assert pipeline_problems(broken) == [
        "connector forward/sampling must be an exporter of one pipeline and a receiver of"
        " another"
    ]


@pytest.mark.parametrize("name", ["agent", "gateway"])
def test_health_check_and_own_metrics_are_exposed(
    name: str, request: pytest.FixtureRequest
) -> None:
    config = request.getfixturevalue(name)
    assert config["extensions"]["health_check"]["endpoint"] == "0.0.0.0:13133"
    assert config["service"]["extensions"] == ["health_check"]
    reader = config["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]
    assert reader == {"prometheus": {"host": "0.0.0.0", "port": 8888}}


# --------------------------------------------------------------------------- agent


def routing_problems(config: dict[str, Any]) -> list[str]:
    """Traces leave only through load balancers that route by trace id."""
    found = []
    balancers = {cid for cid in config["exporters"] if component_type(cid) == "loadbalancing"}
    for name, pipeline in config["service"]["pipelines"].items():
        if component_type(name) != "traces":
            continue
        found += [f"pipeline {name}: exporter {cid} does not route by trace id"
                  for cid in pipeline["exporters"] if cid not in balancers]
    for cid in sorted(balancers):
        exporter = config["exporters"][cid]
        key = exporter.get("routing_key", "traceID")
        if key != "traceID":
            found.append(f"exporter {cid} routes by {key}, not traceID")
        resolvers = set(exporter["resolver"]) & {"static", "dns", "k8s", "aws_cloud_map"}
        if len(resolvers) != 1:
            found.append(f"exporter {cid} needs exactly one resolver, has {sorted(resolvers)}")
    return found


def test_traces_leave_the_agent_only_through_the_trace_id_load_balancer(
    agent: dict[str, Any],
) -> None:
    assert routing_problems(agent) == []
    assert agent["exporters"]["loadbalancing"]["routing_key"] == "traceID"
    assert agent["service"]["pipelines"]["traces"]["exporters"] == ["loadbalancing"]


def test_routing_checker_reports_routing_by_service(agent: dict[str, Any]) -> None:
    broken = copy.deepcopy(agent)
    broken["exporters"]["loadbalancing"]["routing_key"] = "service"
    assert routing_problems(broken) == ["exporter loadbalancing routes by service, not traceID"]


def test_routing_checker_reports_traces_sent_round_robin(agent: dict[str, Any]) -> None:
    broken = copy.deepcopy(agent)
    broken["service"]["pipelines"]["traces"]["exporters"] = ["otlp/gateway"]
    assert routing_problems(broken) == [
        "pipeline traces: exporter otlp/gateway does not route by trace id"
    ]


def agent_gateway_endpoints(agent: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, host:port) for every address the agent sends to."""
    dns = agent["exporters"]["loadbalancing"]["resolver"]["dns"]
    endpoints = [("agent exporter loadbalancing", f"{dns['hostname']}:{dns['port']}")]
    for cid, exporter in agent["exporters"].items():
        if "endpoint" in exporter:
            endpoint = exporter["endpoint"].removeprefix("dns:///")
            endpoints.append((f"agent exporter {cid}", endpoint))
    return endpoints


def test_agents_send_every_signal_to_the_gateway_pool_on_the_gateways_otlp_port(
    agent: dict[str, Any], gateway: dict[str, Any]
) -> None:
    grpc_port = host_port(gateway["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"])[1]
    assert {host_port(e) for _, e in agent_gateway_endpoints(agent)} == {
        (GATEWAY_POOL, grpc_port)
    }
    # gRPC resolves every address behind the name only with the dns:/// scheme
    assert agent["exporters"]["otlp/gateway"]["endpoint"].startswith("dns:///")
    assert agent["exporters"]["otlp/gateway"]["balancer_name"] == "round_robin"
    for name in ("metrics", "logs"):
        assert agent["service"]["pipelines"][name]["exporters"] == ["otlp/gateway"]


def test_agent_adds_host_attributes_without_overriding_the_applications(
    agent: dict[str, Any],
) -> None:
    detection = agent["processors"]["resourcedetection"]
    assert detection["override"] is False
    # the env detector first: on Kubernetes it names the node (host.name, k8s.node.name)
    assert detection["detectors"] == ["env", "system"]
    assert all("resourcedetection" in p["processors"]
               for p in agent["service"]["pipelines"].values())


def test_agent_content_switch_is_the_single_collectors(agent: dict[str, Any]) -> None:
    single = load_yaml(CONFIG / "otelcol.yaml")
    name = "transform/drop_genai_content"
    assert agent["processors"][name] == single["processors"][name]
    assert content_drop_statements(agent)["span"] == list(semconv.CONTENT_ATTRIBUTES)
    holding = sorted(n for n, p in agent["service"]["pipelines"].items()
                     if name in p["processors"])
    assert holding == ["logs", "traces"]


# --------------------------------------------------------------------------- gateway


def sampled_pipelines(config: dict[str, Any]) -> set[str]:
    """Pipelines that sample, or receive from one that does through a connector."""
    pipelines = config["service"]["pipelines"]
    sampled = {name for name, p in pipelines.items()
               if {component_type(c) for c in p.get("processors", [])} & SAMPLING_PROCESSORS}
    grew = True
    while grew:
        feeding = {cid for name in sampled for cid in pipelines[name]["exporters"]}
        more = {name for name, p in pipelines.items()
                if name not in sampled and set(p["receivers"]) & feeding}
        sampled |= more
        grew = bool(more)
    return sampled


def span_metrics_problems(config: dict[str, Any]) -> list[str]:
    """Span metrics must count every span: no sampler in front of the connector."""
    pipelines = config["service"]["pipelines"]
    sampled = sampled_pipelines(config)
    feeding = [name for name, p in pipelines.items()
               if any(component_type(c) == "spanmetrics" for c in p["exporters"])]
    found = [f"pipeline {name} feeds spanmetrics after sampling"
             for name in feeding if name in sampled]
    if not feeding:
        found.append("no pipeline feeds spanmetrics")
    return found


def test_span_metrics_see_every_span_before_tail_sampling(gateway: dict[str, Any]) -> None:
    assert span_metrics_problems(gateway) == []
    pipelines = gateway["service"]["pipelines"]
    # the sampler and the connector are fed by the same pipeline: they see the same spans
    (connector,) = pipelines["traces/sampled"]["receivers"]
    assert component_type(connector) == "forward"
    assert set(pipelines["traces"]["exporters"]) == {"spanmetrics", connector}
    assert sampled_pipelines(gateway) == {"traces/sampled"}
    # the trace backend is reached only behind the sampler
    assert [n for n, p in pipelines.items() if "otlp/jaeger" in p["exporters"]] == [
        "traces/sampled"
    ]


def test_span_metrics_checker_reports_the_connector_behind_the_sampler(
    gateway: dict[str, Any],
) -> None:
    broken = copy.deepcopy(gateway)
    pipelines = broken["service"]["pipelines"]
    pipelines["traces"]["exporters"] = ["forward/sampling"]
    pipelines["traces/sampled"]["exporters"] = ["otlp/jaeger", "spanmetrics"]
    assert pipeline_problems(broken) == []
    assert span_metrics_problems(broken) == [
        "pipeline traces/sampled feeds spanmetrics after sampling"
    ]


def test_gateway_span_metrics_connector_is_the_single_collectors(
    gateway: dict[str, Any],
) -> None:
    single = load_yaml(CONFIG / "otelcol.yaml")
    assert gateway["connectors"]["spanmetrics"] == single["connectors"]["spanmetrics"]


def test_each_gateways_span_metrics_carry_its_name_and_pass_through_metrics_do_not(
    gateway: dict[str, Any],
) -> None:
    pipelines = gateway["service"]["pipelines"]
    spanmetrics_out = [p["exporters"] for p in pipelines.values()
                       if "spanmetrics" in p["receivers"]]
    assert spanmetrics_out == [["prometheusremotewrite/spanmetrics"]]
    exporters = gateway["exporters"]
    assert exporters["prometheusremotewrite/spanmetrics"]["external_labels"] == {
        "otelcol_gateway": GATEWAY_ENV["GATEWAY_NAME"]
    }
    assert "external_labels" not in exporters["prometheusremotewrite"]
    assert pipelines["metrics"]["exporters"] == ["prometheusremotewrite"]
    for cid in ("prometheusremotewrite", "prometheusremotewrite/spanmetrics"):
        assert exporters[cid]["resource_to_telemetry_conversion"] == {"enabled": False}


def test_the_only_variable_the_gateway_needs_is_its_name() -> None:
    assert required_variables(SCALE_OUT / "gateway.yaml") == {"GATEWAY_NAME"}
    assert required_variables(SCALE_OUT / "agent.yaml") == set()


# ------------------------------------------------------------- tail-sampling policies


def policies_of(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in config["processors"]["tail_sampling"]["policies"]}


def ottl_conditions(policy: dict[str, Any]) -> list[str]:
    conditions: list[str] = policy.get("ottl_condition", {}).get("span", [])
    return conditions


def policy_attribute_problems(policies: list[dict[str, Any]], emitted: set[str]) -> list[str]:
    """Attribute names a policy reads that agentotel does not emit."""
    found = []
    for policy in policies:
        keys = [policy[t]["key"] for t in ("string_attribute", "numeric_attribute",
                                           "boolean_attribute") if t in policy]
        keys += [k for c in ottl_conditions(policy)
                 for k in re.findall(r'attributes\["([^"]+)"\]', c)]
        found += [f"policy {policy['name']}: {key} is not an agentotel attribute"
                  for key in keys if key not in emitted]
    return found


def test_no_policy_can_overrule_a_keep(gateway: dict[str, Any]) -> None:
    policies = gateway["processors"]["tail_sampling"]["policies"]
    assert {p["type"] for p in policies} <= KEEPING_POLICIES
    assert len(policies_of(gateway)) == len(policies)


def test_policies_read_only_attributes_agentotel_emits(gateway: dict[str, Any]) -> None:
    policies = gateway["processors"]["tail_sampling"]["policies"]
    assert policy_attribute_problems(policies, emitted_names()) == []


def test_attribute_checker_reports_a_misspelled_attribute(gateway: dict[str, Any]) -> None:
    policies = copy.deepcopy(gateway["processors"]["tail_sampling"]["policies"])
    expensive = next(p for p in policies if p["name"] == "expensive-llm-call")
    expensive["ottl_condition"]["span"] = ['attributes["agentotel.llm.usd_cost"] > 0.05']
    assert policy_attribute_problems(policies, emitted_names()) == [
        "policy expensive-llm-call: agentotel.llm.usd_cost is not an agentotel attribute"
    ]


def test_every_error_and_every_denied_guardrail_check_is_kept(
    gateway: dict[str, Any],
) -> None:
    policies = policies_of(gateway)
    assert policies["errors"]["status_code"] == {"status_codes": ["ERROR"]}
    assert policies["guardrail-denied"]["string_attribute"] == {
        "key": semconv.GUARDRAIL_VERDICT, "values": ["deny"],
    }
    assert "deny" in semconv.GUARDRAIL_VERDICTS


def test_a_slow_llm_call_is_one_llm_operation_over_the_latency_threshold(
    gateway: dict[str, Any],
) -> None:
    (condition,) = ottl_conditions(policies_of(gateway)["slow-llm-call"])
    operations = set(re.findall(
        rf'attributes\["{re.escape(semconv.GEN_AI_OPERATION_NAME)}"\] == "([^"]+)"', condition
    ))
    assert operations == set(semconv.LLM_OPERATIONS)
    assert condition.endswith(
        "and (end_time_unix_nano - start_time_unix_nano) / 1000000 > 30000"
    )


def test_an_expensive_llm_call_is_one_over_the_cost_threshold(gateway: dict[str, Any]) -> None:
    assert ottl_conditions(policies_of(gateway)["expensive-llm-call"]) == [
        f'attributes["{semconv.LLM_COST_USD}"] > 0.05'
    ]


def test_the_share_of_the_rest_is_ten_percent_unless_the_operator_sets_it() -> None:
    def share(env: dict[str, str]) -> Any:
        policies = policies_of(expanded(SCALE_OUT / "gateway.yaml", {**GATEWAY_ENV, **env}))
        return policies["the-rest"]["probabilistic"]["sampling_percentage"]

    assert share({}) == 10
    assert share({"AGENTOTEL_SAMPLE_REST_PERCENT": "25"}) == 25


def test_thresholds_follow_the_operators_environment() -> None:
    env = {**GATEWAY_ENV, "AGENTOTEL_SLOW_LLM_CALL_MS": "60000",
           "AGENTOTEL_EXPENSIVE_LLM_CALL_USD": "1.5"}
    policies = policies_of(expanded(SCALE_OUT / "gateway.yaml", env))
    assert ottl_conditions(policies["slow-llm-call"])[0].endswith("> 60000")
    assert ottl_conditions(policies["expensive-llm-call"])[0].endswith("> 1.5")


def test_errors_denials_and_costs_are_kept_as_by_the_single_collectors_overlay(
    gateway: dict[str, Any],
) -> None:
    overlay = policies_of(load_yaml(CONFIG / "tail-sampling.yaml"))
    ours = policies_of(gateway)
    for name in ("errors", "guardrail-denied", "expensive-llm-call", "the-rest"):
        assert ours[name] == overlay[name], name


# --------------------------------------------------------------------------- compose


def services_mounting(compose: dict[str, Any], config_file: str) -> set[str]:
    return {name for name, service in compose["services"].items()
            if any(v.startswith(f"./{config_file}:") for v in service.get("volumes", []))}


def aliases(compose: dict[str, Any]) -> dict[str, set[str]]:
    """Network alias -> the services that carry it."""
    found: dict[str, set[str]] = {}
    for name, service in compose["services"].items():
        networks = service.get("networks") or {}
        for network in networks.values() if isinstance(networks, dict) else []:
            for alias in (network or {}).get("aliases", []):
                found.setdefault(alias, set()).add(name)
    return found


def collector_ports(config: dict[str, Any]) -> set[int]:
    ports = {host_port(p["endpoint"])[1] for p in config["receivers"]["otlp"]["protocols"]
             .values()}
    ports |= {host_port(e["endpoint"])[1] for e in config["extensions"].values()}
    reader = config["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]
    return ports | {reader["prometheus"]["port"]}


def scale_out_ports(compose: dict[str, Any], agent: dict[str, Any],
                    gateway: dict[str, Any]) -> dict[str, set[int]]:
    ports = {k: v for k, v in listening_ports().items() if k != "otel-collector"}
    ports |= {s: collector_ports(agent) for s in services_mounting(compose, "agent.yaml")}
    ports |= {s: collector_ports(gateway) for s in services_mounting(compose, "gateway.yaml")}
    for alias, services in aliases(compose).items():
        ports[alias] = set.intersection(*(ports[s] for s in services))
    return ports


def compose_endpoints(compose: dict[str, Any], agent: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, endpoint) for every address one part of the scale-out stack uses."""
    found = agent_gateway_endpoints(agent)
    for name in sorted(services_mounting(compose, "gateway.yaml")):
        env = {k: str(v) for k, v in compose["services"][name].get("environment", {}).items()}
        config = expanded(SCALE_OUT / "gateway.yaml", env)
        found += [(f"{name} exporter {cid}", e["endpoint"])
                  for cid, e in config["exporters"].items()]
    prometheus = load_yaml(SCALE_OUT / "prometheus.yml")
    for job in prometheus["scrape_configs"]:
        found += [(f"prometheus job {job['job_name']}", target)
                  for static in job["static_configs"] for target in static["targets"]
                  if not target.startswith("localhost")]
    found += [("prometheus alerting", target)
              for am in prometheus["alerting"]["alertmanagers"]
              for static in am["static_configs"] for target in static["targets"]]
    return found


def test_compose_file_is_valid_against_the_compose_specification(
    compose: dict[str, Any],
) -> None:
    schema = json.loads((FIXTURES / "compose-spec.json").read_text())
    jsonschema.Draft201909Validator(schema).validate(compose)


def test_compose_runs_two_agents_and_two_gateways_of_the_pinned_release(
    compose: dict[str, Any], components: dict[str, Any]
) -> None:
    agents = services_mounting(compose, "agent.yaml")
    gateways = services_mounting(compose, "gateway.yaml")
    assert (agents, gateways) == ({"agent-1", "agent-2"}, {"gateway-1", "gateway-2"})
    images = {compose["services"][s]["image"] for s in agents | gateways}
    assert images == {f"otel/opentelemetry-collector-contrib:{components['version']}"}


def test_the_gateway_pool_name_resolves_to_the_gateways_only(compose: dict[str, Any]) -> None:
    assert aliases(compose) == {GATEWAY_POOL: services_mounting(compose, "gateway.yaml")}


def test_every_image_is_pinned_and_the_backends_are_the_single_stacks(
    compose: dict[str, Any],
) -> None:
    assert image_problems(compose) == []
    single = load_yaml(CONFIG / "docker-compose.yml")["services"]
    shared = set(single) & set(compose["services"])
    assert shared == {"jaeger", "prometheus", "alertmanager", "loki", "grafana"}
    assert {s: compose["services"][s]["image"] for s in shared} == {
        s: single[s]["image"] for s in shared
    }


def test_every_mounted_file_exists(compose: dict[str, Any]) -> None:
    assert len(bind_mount_sources(compose)) == 12
    assert mount_problems(compose, SCALE_OUT) == []


def test_every_endpoint_names_a_compose_service_and_a_port_it_listens_on(
    compose: dict[str, Any], agent: dict[str, Any], gateway: dict[str, Any]
) -> None:
    endpoints = compose_endpoints(compose, agent)
    assert len(endpoints) == 15
    services = set(compose["services"]) | set(aliases(compose))
    ports = scale_out_ports(compose, agent, gateway)
    assert endpoint_problems(endpoints, services, ports) == []


def test_endpoint_checker_reports_an_agent_sending_to_an_unknown_pool(
    compose: dict[str, Any], agent: dict[str, Any], gateway: dict[str, Any]
) -> None:
    broken = copy.deepcopy(agent)
    broken["exporters"]["otlp/gateway"]["endpoint"] = "dns:///otelcol-gateways:4317"
    broken["exporters"]["loadbalancing"]["resolver"]["dns"]["port"] = "4318"
    services = set(compose["services"]) | set(aliases(compose))
    ports = scale_out_ports(compose, agent, gateway)
    assert endpoint_problems(agent_gateway_endpoints(broken), services, ports) == [
        "agent exporter loadbalancing: otelcol-gateway does not listen on 4318",
        "agent exporter otlp/gateway: otelcol-gateways is not a compose service",
    ]


def test_each_gateway_is_given_its_own_name(compose: dict[str, Any]) -> None:
    gateways = sorted(services_mounting(compose, "gateway.yaml"))
    names = [compose["services"][g]["environment"]["GATEWAY_NAME"] for g in gateways]
    assert names == gateways


def test_host_ports_are_published_on_loopback_only(compose: dict[str, Any]) -> None:
    published = {}
    for name, service in compose["services"].items():
        for mapping in service.get("ports", []):
            host_ip, host, container = str(mapping).split(":")
            assert host_ip == "127.0.0.1", f"{name} publishes {mapping} beyond loopback"
            published[int(host)] = (name, int(container))
    assert published[4318] == ("agent-1", 4318)
    assert published[14318] == ("agent-2", 4318)
    assert not any(name.startswith("gateway") for name, _ in published.values())


def test_prometheus_accepts_the_gateways_remote_write_out_of_order_within_a_minute(
    compose: dict[str, Any], gateway: dict[str, Any]
) -> None:
    assert "--web.enable-remote-write-receiver" in compose["services"]["prometheus"]["command"]
    assert gateway["exporters"]["prometheusremotewrite"]["endpoint"].endswith("/api/v1/write")
    prometheus = load_yaml(SCALE_OUT / "prometheus.yml")
    assert prometheus["storage"]["tsdb"]["out_of_order_time_window"] == "1m"


def test_prometheus_scrapes_every_collector_under_the_job_the_alerts_use(
    compose: dict[str, Any],
) -> None:
    prometheus = load_yaml(SCALE_OUT / "prometheus.yml")
    (job,) = [j for j in prometheus["scrape_configs"] if j["job_name"] == "otel-collector"]
    targets = {t.split(":")[0] for s in job["static_configs"] for t in s["targets"]}
    collectors = services_mounting(compose, "agent.yaml") | services_mounting(
        compose, "gateway.yaml")
    assert targets == collectors
    alerts = (CONFIG / "prometheus" / "alerts.yml").read_text()
    assert 'up{job=~"otel-collector|' in alerts


def test_scale_out_prometheus_config_passes_promtool_check_config(
    promtool: str, tmp_path: Path  # noqa: F811
) -> None:
    shutil.copy(SCALE_OUT / "prometheus.yml", tmp_path / "prometheus.yml")
    shutil.copy(CONFIG / "prometheus" / "alerts.yml", tmp_path / "alerts.yml")
    result = run(promtool, "check", "config", "prometheus.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------------ kubernetes


def schema_problems(doc: dict[str, Any]) -> list[str]:
    """Validation errors of one manifest against the vendored Kubernetes schema of its kind."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", doc["apiVersion"])
    path = K8S_SCHEMAS / f"{doc['kind'].lower()}-{group_version}.json"
    if not path.exists():
        return [f"{doc['kind']} {doc['apiVersion']}: no schema in the fixtures"]
    schema = json.loads(path.read_text())
    definitions = json.loads((K8S_SCHEMAS / "_definitions.json").read_text())
    registry: Registry[Any] = Registry().with_resources([
        (schema["$id"], Resource.from_contents(schema)),
        (definitions["$id"], Resource.from_contents(definitions)),
    ])
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    return [f"{doc['kind']}/{doc['metadata']['name']}: {e.message}"
            for e in validator.iter_errors(doc)]


def generated_config_maps(kustomization: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ConfigMaps kustomize's configMapGenerator makes (before the hash suffix)."""
    maps = {}
    for generator in kustomization["configMapGenerator"]:
        data = {}
        for item in generator.get("files", []):
            key, _, source = item.rpartition("=")
            data[key or Path(source).name] = (SCALE_OUT / source).read_text()
        for literal in generator.get("literals", []):
            key, _, value = literal.partition("=")
            data[key] = value
        maps[generator["name"]] = {"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": generator["name"]}, "data": data}
    return maps


def pod_template(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


def collector_container(doc: dict[str, Any]) -> dict[str, Any]:
    (container,) = pod_template(doc)["containers"]
    return container


def mebibytes(quantity: str) -> float:
    units = {"Mi": 1, "Gi": 1024, "MiB": 1, "GiB": 1024}
    match = re.fullmatch(r"([\d.]+)([A-Za-z]+)", quantity)
    assert match is not None, quantity
    return float(match.group(1)) * units[match.group(2)]


def config_of(doc: dict[str, Any], maps: dict[str, dict[str, Any]]) -> tuple[str, str]:
    """(ConfigMap name, file content) of the configuration the collector container loads."""
    container = collector_container(doc)
    (arg,) = [a for a in container["args"] if a.startswith("--config=")]
    path = Path(arg.removeprefix("--config="))
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == str(path.parent)]
    (volume,) = [v for v in pod_template(doc)["volumes"] if v["name"] == mount["name"]]
    name = volume["configMap"]["name"]
    return name, maps[name]["data"][path.name]


def pod_problems(doc: dict[str, Any], maps: dict[str, dict[str, Any]],
                 pinned: dict[str, Any]) -> list[str]:
    """Image, resources, GOMEMLIMIT, probes and ports of a collector workload."""
    where = f"{doc['kind']}/{doc['metadata']['name']}"
    container = collector_container(doc)
    found = []
    if container["image"] != f"otel/opentelemetry-collector-contrib:{pinned['version']}":
        found.append(f"{where}: image {container['image']} is not the pinned release")
    resources = container.get("resources", {})
    for level in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if resource not in resources.get(level, {}):
                found.append(f"{where}: no {resource} {level}")
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    limit = resources.get("limits", {}).get("memory")
    if limit and not (env.get("GOMEMLIMIT") and
                      0.75 <= mebibytes(env["GOMEMLIMIT"]) / mebibytes(limit) <= 0.8):
        found.append(f"{where}: GOMEMLIMIT must be 75-80% of the memory limit {limit}")
    _, text = config_of(doc, maps)
    config = yaml.safe_load(text)
    health = host_port(config["extensions"]["health_check"]["endpoint"])[1]
    for probe in ("livenessProbe", "readinessProbe"):
        get = container.get(probe, {}).get("httpGet", {})
        if (get.get("port"), get.get("path")) != (health, "/"):
            found.append(f"{where}: {probe} must ask the health_check extension on {health}")
    declared = {p["containerPort"] for p in container.get("ports", [])}
    found += [f"{where}: port {port} of the configuration is not declared"
              for port in sorted(collector_ports(config) - declared)]
    return found


def test_every_manifest_is_valid_against_the_kubernetes_schemas(
    manifests: dict[str, dict[str, Any]],
) -> None:
    assert sorted(manifests) == [
        "DaemonSet/otelcol-agent", "Deployment/otelcol-gateway", "Namespace/observability",
        "PodDisruptionBudget/otelcol-gateway", "Service/otelcol-gateway",
    ]
    assert [p for doc in manifests.values() for p in schema_problems(doc)] == []


def test_generated_config_maps_are_valid_too(kustomization: dict[str, Any]) -> None:
    maps = generated_config_maps(kustomization)
    assert sorted(maps) == ["otelcol-agent", "otelcol-gateway", "otelcol-gateway-settings"]
    assert [p for doc in maps.values() for p in schema_problems(doc)] == []


def test_schema_check_reports_a_misspelled_key_and_a_wrong_type(
    manifests: dict[str, dict[str, Any]],
) -> None:
    broken = copy.deepcopy(manifests["Deployment/otelcol-gateway"])
    container = collector_container(broken)
    container["livenesProbe"] = container.pop("livenessProbe")
    broken["spec"]["replicas"] = "two"
    assert sorted(schema_problems(broken)) == [
        "Deployment/otelcol-gateway: 'two' is not of type 'integer', 'null'",
        "Deployment/otelcol-gateway: Additional properties are not allowed"
        " ('livenesProbe' was unexpected)",
    ]


def test_the_kustomization_applies_every_manifest_in_the_folder(
    kustomization: dict[str, Any],
) -> None:
    listed = sorted(kustomization["resources"])
    on_disk = sorted(str(p.relative_to(SCALE_OUT)) for p in (SCALE_OUT / "k8s").glob("*.yaml"))
    assert listed == on_disk
    assert kustomization["namespace"] == "observability"


def config_map_reference_problems(manifests: dict[str, dict[str, Any]],
                                  maps: dict[str, dict[str, Any]]) -> list[str]:
    found = []
    for where, doc in manifests.items():
        if "template" not in doc.get("spec", {}):
            continue
        spec = pod_template(doc)
        names = [v["configMap"]["name"] for v in spec.get("volumes", []) if "configMap" in v]
        names += [s["configMapRef"]["name"] for c in spec["containers"]
                  for s in c.get("envFrom", []) if "configMapRef" in s]
        found += [f"{where}: ConfigMap {n} is not generated" for n in names if n not in maps]
    return found


def test_every_config_map_a_pod_reads_is_generated(
    manifests: dict[str, dict[str, Any]], kustomization: dict[str, Any]
) -> None:
    maps = generated_config_maps(kustomization)
    assert config_map_reference_problems(manifests, maps) == []


def test_reference_checker_reports_a_config_map_that_is_not_generated(
    manifests: dict[str, dict[str, Any]], kustomization: dict[str, Any]
) -> None:
    broken = copy.deepcopy(manifests)
    pod_template(broken["DaemonSet/otelcol-agent"])["volumes"][0]["configMap"]["name"] = (
        "otelcol-agent-config"
    )
    maps = generated_config_maps(kustomization)
    assert config_map_reference_problems(broken, maps) == [
        "DaemonSet/otelcol-agent: ConfigMap otelcol-agent-config is not generated"
    ]


@pytest.mark.parametrize(("workload", "config_file"), [
    ("DaemonSet/otelcol-agent", "agent.yaml"), ("Deployment/otelcol-gateway", "gateway.yaml"),
])
def test_each_workload_loads_its_configuration_with_pinned_image_resources_and_probes(
    workload: str, config_file: str, manifests: dict[str, dict[str, Any]],
    kustomization: dict[str, Any], components: dict[str, Any]
) -> None:
    maps = generated_config_maps(kustomization)
    doc = manifests[workload]
    assert config_of(doc, maps)[1] == (SCALE_OUT / config_file).read_text()
    assert pod_problems(doc, maps, components) == []


def test_pod_checker_reports_an_unpinned_image_missing_limits_and_a_wrong_probe(
    manifests: dict[str, dict[str, Any]], kustomization: dict[str, Any],
    components: dict[str, Any]
) -> None:
    broken = copy.deepcopy(manifests["Deployment/otelcol-gateway"])
    container = collector_container(broken)
    container["image"] = "otel/opentelemetry-collector-contrib:latest"
    del container["resources"]["limits"]
    container["readinessProbe"]["httpGet"]["port"] = 8888
    maps = generated_config_maps(kustomization)
    assert pod_problems(broken, maps, components) == [
        "Deployment/otelcol-gateway: image otel/opentelemetry-collector-contrib:latest is not"
        " the pinned release",
        "Deployment/otelcol-gateway: no cpu limits",
        "Deployment/otelcol-gateway: no memory limits",
        "Deployment/otelcol-gateway: readinessProbe must ask the health_check extension on"
        " 13133",
    ]


def labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def gateway_service_problems(manifests: dict[str, dict[str, Any]],
                             agent: dict[str, Any]) -> list[str]:
    """The Service the agents resolve: headless, selecting the gateways, on their port."""
    dns = agent["exporters"]["loadbalancing"]["resolver"]["dns"]
    name = f"Service/{dns['hostname']}"
    if name not in manifests:
        return [f"no {name} for the agents to resolve"]
    service = manifests[name]
    gateway = manifests["Deployment/otelcol-gateway"]
    found = []
    if service["spec"].get("clusterIP") != "None":
        found.append(f"{name} is not headless: agents would see one address")
    if not labels_match(service["spec"]["selector"], gateway["spec"]["template"]["metadata"]
                        ["labels"]):
        found.append(f"{name} does not select the gateway pods")
    named = {p["name"]: p["containerPort"] for p in collector_container(gateway)["ports"]}
    targets = {named.get(p["targetPort"], p["targetPort"]) for p in service["spec"]["ports"]}
    if int(dns["port"]) not in targets:
        found.append(f"{name} has no port for the agents' {dns['port']}")
    return found


def test_the_agents_resolve_a_headless_service_of_the_gateways(
    manifests: dict[str, dict[str, Any]], agent: dict[str, Any]
) -> None:
    assert gateway_service_problems(manifests, agent) == []


def test_service_checker_reports_a_cluster_ip_service_and_a_wrong_selector(
    manifests: dict[str, dict[str, Any]], agent: dict[str, Any]
) -> None:
    broken = copy.deepcopy(manifests)
    spec = broken["Service/otelcol-gateway"]["spec"]
    del spec["clusterIP"]
    spec["selector"] = {"app.kubernetes.io/name": "otel-gateway"}
    assert gateway_service_problems(broken, agent) == [
        "Service/otelcol-gateway is not headless: agents would see one address",
        "Service/otelcol-gateway does not select the gateway pods",
    ]


def test_applications_on_a_node_reach_its_agent_on_the_otlp_host_ports(
    manifests: dict[str, dict[str, Any]],
) -> None:
    ports = collector_container(manifests["DaemonSet/otelcol-agent"])["ports"]
    assert {p["hostPort"] for p in ports if "hostPort" in p} == {4317, 4318}


def test_gateways_are_named_by_their_pod_and_given_every_backend(
    manifests: dict[str, dict[str, Any]], kustomization: dict[str, Any]
) -> None:
    container = collector_container(manifests["Deployment/otelcol-gateway"])
    env = {e["name"]: e for e in container["env"]}
    assert env["GATEWAY_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    settings = generated_config_maps(kustomization)["otelcol-gateway-settings"]["data"]
    # the compose service names are the defaults; on Kubernetes every backend is set
    defaults = set(re.findall(r"\$\{env:([A-Z_]+):-",
                              (SCALE_OUT / "gateway.yaml").read_text()))
    assert defaults == set(settings)


def test_the_disruption_budget_keeps_a_gateway(manifests: dict[str, dict[str, Any]]) -> None:
    budget = manifests["PodDisruptionBudget/otelcol-gateway"]["spec"]
    gateway = manifests["Deployment/otelcol-gateway"]
    assert labels_match(budget["selector"]["matchLabels"],
                        gateway["spec"]["template"]["metadata"]["labels"])
    assert 1 <= budget["minAvailable"] < gateway["spec"]["replicas"]


def test_agent_reports_its_node(manifests: dict[str, dict[str, Any]]) -> None:
    env = {e["name"]: e for e in collector_container(manifests["DaemonSet/otelcol-agent"])["env"]}
    assert env["K8S_NODE_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    assert env["OTEL_RESOURCE_ATTRIBUTES"]["value"] == (
        "host.name=$(K8S_NODE_NAME),k8s.node.name=$(K8S_NODE_NAME)"
    )


# --------------------------------------------------------------------------- the documentation


def scale_out_page() -> str:
    """The documentation's page on scaling past one machine."""
    return (ROOT / "docs" / "how-to" / "scale-out.md").read_text()


def test_the_docs_list_every_policy_and_setting_of_the_gateway(
    gateway: dict[str, Any],
) -> None:
    section = scale_out_page()
    settings = set(re.findall(r"\$\{env:([A-Z_]+)", (SCALE_OUT / "gateway.yaml").read_text()))
    missing = [f"`{name}`" for name in [*policies_of(gateway), *sorted(settings)]
               if f"`{name}`" not in section]
    assert missing == []


def test_the_docs_give_the_sizing_rule_with_its_sources() -> None:
    section = scale_out_page()
    assert "gateways = max(2, ⌈spans/s ÷ 8,000⌉ + 1)" in section
    for source in (
        "https://github.com/open-telemetry/opentelemetry-collector-contrib/blob/main/testbed/"
        "tests/trace_test.go",
        "https://github.com/open-telemetry/opentelemetry-collector/blob/v0.89.0/docs/"
        "performance.md",
    ):
        assert source in section
    rows = re.findall(r"^\| ([\d,]+) \| ([\d,]+) \| (\d+) \|", section, re.MULTILINE)
    per_replica = 150
    for replicas, spans, gateways in rows:
        total = int(replicas.replace(",", "")) * per_replica
        assert int(spans.replace(",", "")) == total
        assert int(gateways) == max(2, -(-total // 8000) + 1)
    assert [r[0] for r in rows] == ["10", "100", "1,000"]

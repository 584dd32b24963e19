"""Static checks of ``collector-config/tail-sampling.yaml``, the tail-sampling overlay.

The Collector cannot run here, so the overlay is merged onto ``otelcol.yaml`` the way the
Collector merges several ``--config`` files (maps merge key by key, every other value —
lists included — is replaced by the later file's) and the result goes through the same
checkers as the shipped configuration. Then: span metrics see every span before any
sampling, the policies keep every error and every denied request with the names agentotel
emits (:mod:`agentotel.semconv`), and the docs (the sampling how-to, the folder's README)
show the policies the file has.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_collector_config import (
    CONFIG,
    SAMPLING_PROCESSORS,
    component_type,
    load_yaml,
    ordering_problems,
    pipeline_problems,
    version_problems,
)

from agentotel import semconv

ROOT = Path(__file__).resolve().parent.parent
OVERLAY = CONFIG / "tail-sampling.yaml"
#: the policy types that decide on one condition each (no and / drop / composite policy
#: that could overrule the "keep" of another: top-level policies are OR-ed)
KEEPING_POLICIES = {"status_code", "string_attribute", "latency", "ottl_condition",
                    "probabilistic", "numeric_attribute", "boolean_attribute"}


def merged(base: Any, overlay: Any) -> Any:
    """``overlay`` on ``base`` as the Collector merges configuration files."""
    if not (isinstance(base, dict) and isinstance(overlay, dict)):
        return copy.deepcopy(overlay)
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        out[key] = merged(out[key], value) if key in out else copy.deepcopy(value)
    return out


@pytest.fixture(scope="module")
def sampled() -> dict[str, Any]:
    config: dict[str, Any] = merged(load_yaml(CONFIG / "otelcol.yaml"), load_yaml(OVERLAY))
    return config


@pytest.fixture(scope="module")
def policies(sampled: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = sampled["processors"]["tail_sampling"]["policies"]
    return found


@pytest.fixture(scope="module")
def components() -> dict[str, Any]:
    pinned: dict[str, Any] = load_yaml(
        Path(__file__).resolve().parent / "fixtures" / "otelcol-contrib-0.136.0-components.yaml"
    )
    return pinned


def test_the_merge_replaces_lists_and_merges_maps() -> None:
    base = {"a": {"x": 1, "l": [1, 2]}, "b": 2}
    assert merged(base, {"a": {"l": [3], "y": 4}}) == {"a": {"x": 1, "l": [3], "y": 4}, "b": 2}


def test_the_merged_configuration_passes_every_check_of_the_shipped_one(
    sampled: dict[str, Any], components: dict[str, Any]
) -> None:
    assert pipeline_problems(sampled) == []
    assert ordering_problems(sampled) == []
    assert version_problems(sampled, components) == []


def test_span_metrics_see_every_span_before_tail_sampling(sampled: dict[str, Any]) -> None:
    pipelines = sampled["service"]["pipelines"]
    feeding = [name for name, p in pipelines.items() if "spanmetrics" in p["exporters"]]
    assert feeding == ["traces"]
    assert [p for p in pipelines["traces"]["processors"]
            if component_type(p) in SAMPLING_PROCESSORS] == []
    sampling = [name for name, p in pipelines.items() if "tail_sampling" in p["processors"]]
    assert sampling == ["traces/sampled"]
    (connector,) = pipelines["traces/sampled"]["receivers"]
    assert component_type(connector) == "forward"
    assert connector in pipelines["traces"]["exporters"]
    # the sampled pipeline is the only way to the trace backend
    assert [name for name, p in pipelines.items() if "otlp/jaeger" in p["exporters"]] == [
        "traces/sampled"
    ]


def test_the_other_pipelines_are_those_of_the_shipped_configuration(
    sampled: dict[str, Any],
) -> None:
    shipped = load_yaml(CONFIG / "otelcol.yaml")["service"]["pipelines"]
    pipelines = sampled["service"]["pipelines"]
    assert {k: v for k, v in pipelines.items() if not k.startswith("traces")} == {
        k: v for k, v in shipped.items() if not k.startswith("traces")
    }
    assert pipelines["traces"]["receivers"] == shipped["traces"]["receivers"]
    assert pipelines["traces"]["processors"] == shipped["traces"]["processors"]


def test_every_error_is_kept(policies: list[dict[str, Any]]) -> None:
    assert [p["status_code"]["status_codes"] for p in policies if p["type"] == "status_code"] == [
        ["ERROR"]
    ]


def test_every_denied_request_is_kept(policies: list[dict[str, Any]]) -> None:
    rules = [p["string_attribute"] for p in policies if p["type"] == "string_attribute"]
    assert rules == [{"key": semconv.GUARDRAIL_VERDICT, "values": ["deny"]}]
    assert "deny" in semconv.GUARDRAIL_VERDICTS


def test_no_policy_can_overrule_a_keep(policies: list[dict[str, Any]]) -> None:
    assert {p["type"] for p in policies} <= KEEPING_POLICIES
    assert len({p["name"] for p in policies}) == len(policies)


def test_conditions_name_attributes_agentotel_emits(policies: list[dict[str, Any]]) -> None:
    names = {value for key, value in vars(semconv).items()
             if key.isupper() and isinstance(value, str)}
    conditions = [c for p in policies if p["type"] == "ottl_condition"
                  for c in p["ottl_condition"].get("span", [])]
    keys = {key for c in conditions for key in re.findall(r'attributes\["([^"]+)"\]', c)}
    assert keys == {semconv.LLM_COST_USD}
    assert keys <= names


def test_the_rest_is_sampled_at_ten_percent(policies: list[dict[str, Any]]) -> None:
    assert [p["probabilistic"] for p in policies if p["type"] == "probabilistic"] == [
        {"sampling_percentage": 10}
    ]


@pytest.mark.parametrize("page", ["docs/how-to/sampling.md", "collector-config/README.md"])
def test_the_docs_show_the_policies_of_the_file(
    page: str, policies: list[dict[str, Any]]
) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / page).read_text(), re.DOTALL)
    shown = [yaml.safe_load(b) for b in blocks if "tail_sampling:" in b]
    assert len(shown) == 1, page
    assert shown[0]["processors"]["tail_sampling"]["policies"] == policies

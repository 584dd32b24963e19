"""The distro's choice of instrumentors: one per entry point name, the official one kept.

Several packages register an ``opentelemetry_instrumentor`` entry point named ``openai``
(the official ``opentelemetry-instrumentation-openai-v2`` / ``-genai-openai``, OpenLLMetry's
``opentelemetry-instrumentation-openai``, OpenInference's, Elastic's); loading all of them
instruments the SDK twice. The entry points here are made as importlib.metadata makes them,
each bound to its distribution.
"""

from __future__ import annotations

from importlib import metadata
from types import SimpleNamespace

from agentotel import distro

GROUP = distro.INSTRUMENTOR_GROUP


def entry_point(name: str, value: str, dist: str) -> metadata.EntryPoint:
    found = metadata.EntryPoint(name, value, GROUP)
    return found._for(SimpleNamespace(name=dist))  # type: ignore[attr-defined,no-any-return]


OFFICIAL = entry_point("openai", "opentelemetry.instrumentation.genai.openai:OpenAIInstrumentor",
                       "opentelemetry-instrumentation-genai-openai")
OPENINFERENCE = entry_point("openai", "openinference.instrumentation.openai:OpenAIInstrumentor",
                            "openinference-instrumentation-openai")
FLASK = entry_point("flask", "opentelemetry.instrumentation.flask:FlaskInstrumentor",
                    "opentelemetry-instrumentation-flask")


def test_the_official_instrumentor_is_kept_whichever_comes_first() -> None:
    for order in ([OPENINFERENCE, OFFICIAL, FLASK], [OFFICIAL, OPENINFERENCE, FLASK]):
        choice = distro.choose(order)

        assert choice.kept == {"openai": OFFICIAL, "flask": FLASK}
        assert choice.shadowed == [(OPENINFERENCE, OFFICIAL)]


def test_the_shadowed_instrumentors_are_named_in_one_line() -> None:
    line = distro.shadowed_line(distro.choose([OPENINFERENCE, OFFICIAL]))

    assert line == (
        "agentotel: one instrumentation per name; not loaded: openai from "
        "openinference-instrumentation-openai (kept opentelemetry-instrumentation-genai-openai)"
    )


def test_without_duplicates_nothing_is_said() -> None:
    assert distro.shadowed_line(distro.choose([OFFICIAL, FLASK])) is None


def test_of_two_unofficial_instrumentors_the_first_is_kept() -> None:
    other = entry_point("openai", "vendor.openai:Instrumentor", "vendor-openai")

    assert distro.choose([OPENINFERENCE, other]).kept == {"openai": OPENINFERENCE}

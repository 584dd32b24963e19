"""Zero-code: ``opentelemetry-instrument python app.py`` runs agentotel's pipeline for an
application that never imports agentotel (agentotel's distro and configurator), and an
``init()`` under it builds no second pipeline.

The application makes one OpenAI SDK chat call at the local model server; the real
``opentelemetry-instrument`` (and ``agentotel run``, which hands off to it) exports over
OTLP/HTTP to the test receiver. The runs are started at once and shared by the tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import integration_app as app
import pytest
from llm_server import LLMServer, expected_usage, reply_text
from otlp_receiver import OtlpReceiver, SpanRecord

from agentotel import semconv as sc

BIN = Path(sys.executable).parent
RATES = (0.15, 0.075, 0.60)  # gpt-4o-mini in agentotel/data/pricing.json, USD per 1M tokens

#: the application: the OpenAI SDK only; with ``--init`` it calls agentotel.init() after
#: its model call, as a library or a later part of it would
APP = textwrap.dedent(
    f"""
    import os, sys
    import openai

    client = openai.OpenAI(base_url=os.environ["LLM_SERVER_URL"] + "/v1", api_key="sk-test")
    reply = client.chat.completions.create(
        model={app.OPENAI_MODEL!r}, messages=[{{"role": "user", "content": {app.PROMPT!r}}}]
    )
    print("reply:", reply.choices[0].message.content, flush=True)
    if "--init" in sys.argv:
        import agentotel
        agentotel.init(service_name="support-bot", traces_exporter="console")
        print("imported agentotel:", "agentotel" in sys.modules)
    """
)


@dataclass(frozen=True)
class Run:
    result: subprocess.CompletedProcess[str]
    receiver: OtlpReceiver

    def chat_spans(self) -> list[SpanRecord]:
        return [s for s in self.receiver.spans() if s.name == f"chat {app.OPENAI_MODEL}"]


def _environment(receiver: OtlpReceiver, server: LLMServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    env.update(
        LLM_SERVER_URL=server.base_url,
        OTEL_SERVICE_NAME="zero-code-app",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.http_endpoint,
        OTEL_BSP_SCHEDULE_DELAY="50",
        OTEL_METRIC_EXPORT_INTERVAL="200",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


#: name -> command line (the script path is appended)
COMMANDS = {
    "opentelemetry-instrument": [str(BIN / "opentelemetry-instrument"), "python"],
    "init-under-it": [str(BIN / "opentelemetry-instrument"), "python"],
    "agentotel run": [str(BIN / "agentotel"), "run", "python"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    script = tmp_path_factory.mktemp("zero_code") / "app.py"
    script.write_text(APP)
    with ExitStack() as stack:
        server = stack.enter_context(LLMServer())
        started = {}
        for name, command in COMMANDS.items():
            receiver = stack.enter_context(OtlpReceiver())
            argv = [*command, str(script), *(["--init"] if name == "init-under-it" else [])]
            process = subprocess.Popen(
                argv, env=_environment(receiver, server), text=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            started[name] = (process, argv, receiver)
        done = {}
        for name, (process, argv, receiver) in started.items():
            stdout, stderr = process.communicate(timeout=120)
            done[name] = Run(
                subprocess.CompletedProcess(argv, process.returncode, stdout, stderr), receiver
            )
        yield done


@pytest.mark.parametrize("name", ["opentelemetry-instrument", "agentotel run"])
def test_the_uninstrumented_app_exports_one_priced_chat_span(
    runs: dict[str, Run], name: str
) -> None:
    run = runs[name]
    assert run.result.returncode == 0, run.result.stderr
    usage = expected_usage([app.PROMPT], reply_text(app.PROMPT))
    expected_cost = (usage.prompt_tokens * RATES[0] + usage.output_tokens * RATES[2]) / 1e6

    [span] = run.chat_spans()

    assert span.resource[sc.SERVICE_NAME] == "zero-code-app"
    assert span.attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == usage.prompt_tokens
    assert span.attributes[sc.LLM_COST_USD] == pytest.approx(expected_cost, rel=1e-9)


def test_the_cost_metric_is_exported_under_opentelemetry_instrument(runs: dict[str, Run]) -> None:
    run = runs["opentelemetry-instrument"]
    [span] = run.chat_spans()

    # cumulative temporality: every export repeats the running total, so a run slow enough
    # for a periodic export before the one at exit sends the same sum twice; the last point
    # of each attribute set is the total
    latest = {
        tuple(sorted(p.attributes.items())): p.value or 0
        for p in run.receiver.metric_points(sc.METRIC_LLM_COST)
    }

    assert latest
    assert sum(latest.values()) == pytest.approx(span.attributes[sc.LLM_COST_USD])


def test_init_under_opentelemetry_instrument_builds_no_second_pipeline(
    runs: dict[str, Run],
) -> None:
    run = runs["init-under-it"]
    assert run.result.returncode == 0, run.result.stderr

    assert len(run.chat_spans()) == 1
    assert "imported agentotel: True" in run.result.stdout
    assert '"resource"' not in run.result.stdout  # no console exporter added by the call


def test_init_under_opentelemetry_instrument_says_in_one_line_what_it_did(
    runs: dict[str, Run],
) -> None:
    lines = [
        line for line in runs["init-under-it"].result.stderr.splitlines()
        if "init() was called again" in line
    ]

    assert len(lines) == 1
    assert "set up by opentelemetry-instrument (agentotel's distro)" in lines[0]
    assert "applied service_name" in lines[0]
    assert "not applied" in lines[0] and "traces_exporter" in lines[0]

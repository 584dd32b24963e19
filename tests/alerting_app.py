"""Steady agent traffic that crosses alert thresholds, or stays under them, for the live
Alertmanager test (``test_alertmanager_live.py``), which runs it as a subprocess.

    python tests/alerting_app.py over|under

``agentotel.init()`` names the service after the profile (``over-thresholds`` or
``under-thresholds``) and serves ``/metrics`` on ``OTEL_EXPORTER_PROMETHEUS_PORT``; nothing
else is exported. Every :data:`TICK_S` the profile's operations run again, so every
counter keeps rising between scrapes, until stdin is closed. One line, ``serving``, is
printed once the first round is recorded.

``over`` (per round; thresholds of ``collector-config/prometheus/alerts.yml``):

- agents ``triage`` and ``billing``: 1 of 2 invocations fails (50% > 5%), agent ``faq``:
  1 of 50 (2%);
- tool ``web_search``: 1 of 4 calls fails (25% > 10%), tool ``calculator``: 1 of 20 (5%);
- one ``gpt-4o`` call of 400,000 input and 10,000 output tokens: 1.10 USD, so the spend
  passes 10 USD within seconds;
- guardrail ``pii-filter``: 2 ``modify`` verdicts and 1 ``allow``, ``jailbreak``: 2
  ``deny`` (more than 10 a minute each), ``toxicity``: 3 ``allow``;
- and, on a thread of its own, agent ``researcher`` runs 0.5 s per invocation, over and
  over (its p95 lies in the 0.4-0.8 s bucket); the other agents take microseconds.

``under``: every ratio, spend and count under its threshold: agents ``triage`` and
``faq`` fail 1 of 50 (2%), ``researcher`` never and is fast; tools ``web_search`` and
``calculator`` fail 1 of 20 (5%); one ``gpt-4o-mini`` call of 1,200 + 300 tokens
(0.00036 USD); guardrail ``pii-filter`` denies once every 40 rounds (6 a minute),
``toxicity`` allows.

In each round the successful operations are recorded before the failed ones, so that a
scrape in the middle of a round can only under-count failures.
"""

from __future__ import annotations

import sys
import threading
import time

import agentotel

TICK_S = 0.25
SLOW_AGENT_S = 0.5
SERVICES = {"over": "over-thresholds", "under": "under-thresholds"}


def agent_calls(name: str, ok: int, failed: int) -> None:
    for _ in range(ok):
        with agentotel.agent(name):
            pass
    for _ in range(failed):
        with agentotel.agent(name) as run:
            run.fail("timeout")


def tool_calls(name: str, ok: int, failed: int) -> None:
    for _ in range(ok):
        with agentotel.tool(name):
            pass
    for _ in range(failed):
        with agentotel.tool(name) as call:
            call.fail("http_500")


def llm_call(model: str, input_tokens: int, output_tokens: int) -> None:
    with agentotel.llm(model, provider="openai") as call:
        call.record_response(
            response_model=model, input_tokens=input_tokens, output_tokens=output_tokens
        )


def guardrail_checks(name: str, verdict: str, count: int) -> None:
    for _ in range(count):
        with agentotel.guardrail(name, target="input") as check:
            check.verdict(verdict)


def over_round(_: int) -> None:
    agent_calls("triage", ok=1, failed=0)
    agent_calls("billing", ok=1, failed=0)
    agent_calls("faq", ok=49, failed=0)
    tool_calls("web_search", ok=3, failed=0)
    tool_calls("calculator", ok=19, failed=0)
    agent_calls("triage", ok=0, failed=1)
    agent_calls("billing", ok=0, failed=1)
    agent_calls("faq", ok=0, failed=1)
    tool_calls("web_search", ok=0, failed=1)
    tool_calls("calculator", ok=0, failed=1)
    llm_call("gpt-4o", input_tokens=400_000, output_tokens=10_000)
    guardrail_checks("pii-filter", "allow", 1)
    guardrail_checks("pii-filter", "modify", 2)
    guardrail_checks("jailbreak", "deny", 2)
    guardrail_checks("toxicity", "allow", 3)


def under_round(number: int) -> None:
    agent_calls("triage", ok=49, failed=0)
    agent_calls("faq", ok=49, failed=0)
    agent_calls("researcher", ok=1, failed=0)
    tool_calls("web_search", ok=19, failed=0)
    tool_calls("calculator", ok=19, failed=0)
    agent_calls("triage", ok=0, failed=1)
    agent_calls("faq", ok=0, failed=1)
    tool_calls("web_search", ok=0, failed=1)
    tool_calls("calculator", ok=0, failed=1)
    llm_call("gpt-4o-mini", input_tokens=1_200, output_tokens=300)
    guardrail_checks("pii-filter", "allow", 3)
    if number % 40 == 0:
        guardrail_checks("pii-filter", "deny", 1)
    guardrail_checks("toxicity", "allow", 3)


def slow_agent(stop: threading.Event) -> None:
    while not stop.is_set():
        with agentotel.agent("researcher"):
            time.sleep(SLOW_AGENT_S)


def main(profile: str) -> None:
    agentotel.init(
        SERVICES[profile],
        metrics_exporter="prometheus",
        traces_exporter="none",
        logs_exporter="none",
    )
    run_round = over_round if profile == "over" else under_round
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    if profile == "over":
        threading.Thread(target=slow_agent, args=(stop,), daemon=True).start()
    run_round(0)
    print("serving", flush=True)
    number = 1
    while not stop.wait(TICK_S):
        run_round(number)
        number += 1


if __name__ == "__main__":
    main(sys.argv[1])

"""Acme Drive support assistant: a multi-agent example application instrumented with agentotel.

A ``support-triage`` workflow screens each customer request with input guardrails (PII,
secrets, prompt injection), then runs a planner agent, a researcher agent that calls
tools (calculator, unit conversion, help-centre search) and a writer agent, and screens
the reply with output guardrails. Model calls go over HTTP to an OpenAI-compatible Chat
Completions API: a bundled local fake server by default, a real provider when
``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` are set.

Run it with ``python -m examples.support_assistant`` (see :mod:`.app`).
"""

"""Research agent: a LangGraph agent instrumented by ``agentotel.init()`` alone.

A ReAct-style LangGraph graph over LangChain's ``ChatOpenAI`` answers questions about
the planets from a few bundled notes, with two tools (a notes search and a calculator)
and an input guardrail. Its telemetry comes from the official OpenTelemetry GenAI and
HTTP client instrumentations that ``agentotel.init()`` enables. Model calls go to a
bundled local OpenAI-compatible server by default, to a real provider when
``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` are set.

Run it with ``python -m examples.research_agent`` (see :mod:`.app`).
"""

"""The agentotel_console exporter prints each finished trace as an indented tree."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
import time

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import agentotel
from agentotel import _runtime
from agentotel.console import TreeConsoleSpanExporter, _ttfc


@pytest.fixture
def console(recorded):
    out = io.StringIO()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(TreeConsoleSpanExporter(out)))
    previous = _runtime.RUNTIME
    _runtime.install(
        _runtime.Runtime(
            provider.get_tracer("t"), _runtime.current().instruments, _runtime.current().prices
        )
    )
    yield out
    _runtime.install(previous)


def test_trace_printed_as_tree_when_root_ends(console):
    with agentotel.workflow("triage"):
        with agentotel.agent("planner"):
            with agentotel.llm("gpt-4o-mini", provider="openai") as call:
                call.record_response(
                    response_model="gpt-4o-mini-2024-07-18",
                    input_tokens=1200,
                    output_tokens=80,
                    cache_read_input_tokens=1024,
                )
        assert console.getvalue() == ""  # nothing until the root ends
        with agentotel.guardrail("pii", target="output") as check:
            check.verdict("modify", reason="email")
    lines = console.getvalue().splitlines()
    assert lines[0].startswith("invoke_workflow triage  ")
    assert lines[1].startswith("├─ invoke_agent planner  ")
    assert lines[2].startswith("│  └─ chat gpt-4o-mini  ")
    assert "tokens in=1200 out=80 cached=1024" in lines[2]
    assert "model=gpt-4o-mini-2024-07-18" in lines[2]
    assert "$0.000" in lines[2]
    assert lines[3].startswith("└─ apply_guardrail pii  ")
    assert lines[3].endswith("verdict=modify (email)")


def test_retrieval_documents_and_memory_operations_are_shown(console):
    with agentotel.agent("assistant"):
        with agentotel.memory(
            "search_memory", store="conversation", memory_type="short_term"
        ) as mem:
            mem.record_memories(["a", "b", "c"])
        with agentotel.retrieval("kb-support", provider="chroma") as lookup:
            lookup.record_documents([{"id": "doc-1", "score": 0.9}] * 5)
        with agentotel.memory("upsert_memory", store="user-prefs") as mem:
            mem.record_memories(count=2)
        with agentotel.memory("create_memory_store"):
            pass
    lines = console.getvalue().splitlines()
    assert lines[0].startswith("invoke_agent assistant  ")
    assert lines[1].startswith("├─ search_memory conversation (short_term)  ")
    assert lines[1].endswith("ms  hits=3")
    assert lines[2].startswith("├─ retrieval kb-support  ")
    assert lines[2].endswith("ms  documents=5")
    assert lines[3].startswith("├─ upsert_memory user-prefs  ")
    assert lines[3].endswith("ms  records=2")
    assert lines[4].startswith("└─ create_memory_store  ")
    assert lines[4].endswith("ms")


def test_errors_are_marked(console):
    with pytest.raises(TimeoutError):
        with agentotel.workflow("wf"):
            with agentotel.tool("fetch"):
                raise TimeoutError("slow")
    lines = console.getvalue().splitlines()
    assert lines[0].startswith("✗ invoke_workflow wf")
    assert lines[1].startswith("└─ ✗ execute_tool fetch")
    assert lines[1].endswith("error=TimeoutError")


def test_shutdown_prints_unfinished_traces():
    out = io.StringIO()
    exporter = TreeConsoleSpanExporter(out)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    root = tracer.start_span("root")
    from opentelemetry import trace

    with trace.use_span(root):
        tracer.start_span("child").end()
    assert out.getvalue() == ""
    exporter.shutdown()
    assert out.getvalue().startswith("child  ")


def test_streamed_calls_show_the_time_to_first_chunk(console):
    def answer():
        time.sleep(0.02)
        yield "Hello"
        yield ", world"

    with agentotel.agent("writer"):
        with agentotel.llm("gpt-4o-mini", provider="openai") as call:
            for _ in call.stream(answer()):
                pass
            call.record_response(input_tokens=12, output_tokens=2)
        with agentotel.llm("gpt-4o-mini", provider="openai") as call:
            call.record_response(input_tokens=12, output_tokens=2)
    streamed, plain = console.getvalue().splitlines()[1:3]
    match = re.search(r"  ttfc=(\d+)ms  tokens in=12 out=2  ", streamed)
    assert match is not None, streamed
    assert 20 <= int(match.group(1)) < 1000
    assert "ttfc=" not in plain


def test_embeddings_show_the_dimension_count(console):
    with agentotel.llm("text-embedding-3-small", provider="openai", operation="embeddings") as e:
        e.record_response(input_tokens=8, dimension_count=1536)
    line = console.getvalue().splitlines()[0]
    assert line.startswith("embeddings text-embedding-3-small  ")
    assert "  tokens in=8 out=?  dims=1536  $0.000000" in line


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0.0045, "4.5ms"), (0.12, "120ms"), (1.254, "1.25s")]
)
def test_time_to_first_chunk_format(seconds, shown):
    assert _ttfc(seconds) == shown


def _run_script(script: str) -> str:
    """``script`` after ``agentotel.init()`` with trace trees on stdout, in a fresh
    interpreter (init() sets process-global providers); its stdout."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "AGENTOTEL_"))}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent("""
            import agentotel
            agentotel.init("svc", traces_exporter="agentotel_console",
                           metrics_exporter="none", logs_exporter="none")
        """) + textwrap.dedent(script)],
        env=clean, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_evaluation_results_are_shown_below_the_evaluated_span():
    out = _run_script("""
        with agentotel.workflow("triage"):
            with agentotel.agent("writer") as writer:
                with agentotel.tool("lookup"):
                    pass
            agentotel.evaluation("groundedness", score=0.8148, label="pass",
                                 span_context=writer)
            agentotel.evaluation("tone", label="friendly")
    """)
    lines = out.splitlines()
    assert lines[0].startswith("invoke_workflow triage  ")
    assert lines[1].startswith("├─ invoke_agent writer  ")
    assert lines[2].startswith("│  ├─ execute_tool lookup  ")
    assert lines[3] == "│  └─ evaluation groundedness  score=0.8148  label=pass"
    assert lines[4] == "└─ evaluation tone  label=friendly"


def test_an_evaluation_after_its_trace_was_printed_gets_a_line_of_its_own():
    out = _run_script("""
        with agentotel.agent("writer") as writer:
            pass
        span = writer.span.get_span_context()
        print(f"ids {span.trace_id:032x} {span.span_id:016x}", flush=True)
        agentotel.evaluation("groundedness", score=0.25, label="fail", span_context=writer)
        agentotel.evaluation("judge", error_type="timeout")
    """)
    trace_id, span_id = re.search(r"^ids (\w+) (\w+)$", out, re.MULTILINE).groups()
    assert out.splitlines()[0].startswith("invoke_agent writer  ")
    assert (f"evaluation groundedness  score=0.25  label=fail  (trace {trace_id}, span {span_id})"
            in out.splitlines())
    # no span at all: the line names none
    assert f"evaluation judge  error=timeout  (trace {0:032x}, span {0:016x})" in out.splitlines()

"""Static typing of the public surface: mypy --strict rejects a misspelled method or
setting, and accepts the documented use. ``__enter__`` returns the kind's own type
(``Retrieval``, ``Memory``, ... — a misspelled method on the ``as`` target is an error)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CORRECT = """
    from collections.abc import AsyncIterator, Iterator

    import agentotel
    from agentotel._settings import resolve

    def chunks() -> Iterator[str]:
        yield "Hello"

    async def async_chunks() -> AsyncIterator[str]:
        yield "Hello"

    async def consume() -> list[str]:
        call = agentotel.llm("gpt-4o", provider="openai")
        return [chunk async for chunk in call.stream(async_chunks())]

    with agentotel.llm("gpt-4o", provider="openai") as call:
        call.record_response(input_tokens=3, output_tokens=2, finish_reasons=["stop"])
        text: str = "".join(call.stream(chunks()))
        call.record_chunk("Hello")
        with call.stream(chunks()) as stream:
            first: str = next(stream)
    with agentotel.llm("e5", provider="openai", operation="embeddings") as embed:
        embed.record_response(input_tokens=3, dimension_count=1024)
    with agentotel.guardrail("pii") as check:
        check.verdict("deny", reason="email", categories=["pii"])
    with agentotel.tool("search") as t:
        t.record_result({"hits": 3})
    with agentotel.agent("planner") as a:
        a.record_input(["hello"])
    with agentotel.retrieval("kb", provider="chroma", top_k=5) as lookup:
        lookup.record_query("refund policy")
        lookup.record_documents([{"id": "doc-1", "score": 0.9}])
    with agentotel.memory("search_memory", store="conversation", memory_type="short_term") as m:
        m.record_memories(["prefers dark mode"], count=1)
    size = agentotel.memory_size("conversation", lambda: 3, memory_type="short_term")
    size.unregister()
    settings = resolve({})
    protocol: str = settings.traces.protocol
    exporters: tuple[str, ...] = settings.traces_exporter
    agentotel.init("svc", environment="prod", traces_exporter="none")
"""

MISSPELLED = {
    "call.record_responce(input_tokens=3)": '"LLMCall" has no attribute "record_responce"',
    'call.record_response(input_tokens="many")': 'Argument "input_tokens" to "record_response"',
    'check.verdcit("deny")': '"Guardrail" has no attribute "verdcit"',
    "t.record_reslt(1)": '"Tool" has no attribute "record_reslt"',
    "lookup.record_documnets([])": '"Retrieval" has no attribute "record_documnets"',
    "m.record_memory([])": '"Memory" has no attribute "record_memory"',
    'm.record_memories(count="3")': 'Argument "count" to "record_memories"',
    "size.unregistr()": '"MemorySize" has no attribute "unregistr"',
    "settings.traces_exportr": '"Settings" has no attribute "traces_exportr"',
    'agentotel.init("svc", enviroment="prod")': 'Unexpected keyword argument "enviroment"',
    "stream.clsoe()": '"ChunkStream[str]" has no attribute "clsoe"',
    "call.record_chunk(3)": 'Argument 1 to "record_chunk" of "LLMCall"',
}


def _mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "usage.py"
    path.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
         "--cache-dir", str(ROOT / ".mypy_cache"), str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )


def test_documented_use_type_checks(tmp_path):
    result = _mypy(tmp_path, CORRECT)
    assert result.returncode == 0, result.stdout


def test_misspelled_methods_settings_and_arguments_are_mypy_errors(tmp_path):
    lines = textwrap.dedent(CORRECT) + "\n".join(MISSPELLED) + "\n"
    result = _mypy(tmp_path, lines)
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    for expected in MISSPELLED.values():
        assert any(expected in line for line in errors), (expected, result.stdout)
    assert len(errors) == len(MISSPELLED), result.stdout

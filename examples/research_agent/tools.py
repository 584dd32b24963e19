"""The research agent's tools: a search over the bundled notes and a calculator.

Both are plain functions returning JSON-ready dictionaries; :mod:`.agent` turns them into
LangChain tools. They reuse the support-assistant example's TF-IDF index and safe
arithmetic (:mod:`examples.support_assistant.tools`). Bad input raises
:class:`ValueError`, whose message LangGraph's ``ToolNode`` hands back to the model.

A note is a Markdown file: a ``# Title``, a paragraph, then one fact per ``- `` line
(``- Length of a year: 687 Earth days``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from examples.support_assistant.tools import DocumentIndex, evaluate_arithmetic, tokenize

NOTES_DIR = Path(__file__).parent / "data" / "notes"
MAX_TOP_K = 7
MAX_FACTS = 2


@dataclass(frozen=True)
class Note:
    """One note: its title, its opening paragraph and its fact lines."""

    title: str
    summary: str
    facts: tuple[str, ...]


def read_note(path: Path) -> Note:
    """Parse one note file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    title = lines[0].lstrip("# ").strip() if lines else path.stem
    facts = tuple(line[2:].strip() for line in lines if line.startswith("- "))
    paragraph = " ".join(
        line.strip() for line in lines[1:] if line.strip() and not line.startswith("- ")
    )
    return Note(title, paragraph, facts)


class Notes:
    """The notes of a directory, ranked by TF-IDF for a query."""

    def __init__(self, directory: Path = NOTES_DIR) -> None:
        self.index = DocumentIndex.from_directory(directory)
        self.notes = {
            document.title: read_note(directory / document.path)
            for document in self.index.documents
        }

    def search(self, query: str, top_k: int = 3) -> dict[str, Any]:
        """``{"query", "results": [{"title", "score", "facts", "summary"}]}``, best first.

        ``facts`` are the (at most two) fact lines of the note sharing the most words
        with the query, the words of the note's own title not counted (every fact of the
        Mars note is about Mars).

        Raises:
            ValueError: ``query`` has no searchable words or ``top_k`` is not 1..7.
        """
        if not tokenize(query):
            raise ValueError("the query has no searchable words")
        if not 1 <= top_k <= MAX_TOP_K:
            raise ValueError(f"top_k must be between 1 and {MAX_TOP_K}")
        results = []
        for hit in self.index.search(query, top_k):
            note = self.notes[hit.title]
            results.append(
                {
                    "title": note.title,
                    "score": hit.score,
                    "facts": matching_facts(note, query),
                    "summary": note.summary,
                }
            )
        return {"query": query, "results": results}


def matching_facts(note: Note, query: str) -> list[str]:
    """The fact lines of ``note`` sharing the most query words (title words left out),
    best first, ties in the note's order; none when no fact shares a word."""
    terms = set(tokenize(query)) - set(tokenize(note.title))
    scored = [(len(terms & set(tokenize(fact))), index) for index, fact in enumerate(note.facts)]
    ranked = sorted((item for item in scored if item[0] > 0), key=lambda item: (-item[0], item[1]))
    return [note.facts[index] for _, index in ranked[:MAX_FACTS]]


def calculate(expression: str) -> dict[str, Any]:
    """``{"expression", "result"}``; floats rounded to 10 decimal places.

    Raises:
        ValueError: not arithmetic (see :func:`evaluate_arithmetic`).
    """
    result = evaluate_arithmetic(expression)
    if isinstance(result, float):
        result = round(result, 10)
    return {"expression": expression, "result": result}


_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def first_number(fact: str) -> str | None:
    """The first number after the fact's label, thousands separators removed
    (``"Diameter: 142,984 km"`` gives ``"142984"``)."""
    _, _, value = fact.partition(":")
    match = _NUMBER.search(value or fact)
    return match.group().replace(",", "") if match else None

"""The documentation site's pages as ``make docs`` writes them.

The reference pages hold markers (``<!-- generated: NAME -->``) that the build's hook,
``docs/hooks/generated.py``, replaces with tables generated from the code and the shipped
files; :func:`rendered` applies the same hook, so the tests read what the site shows.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
sys.path.insert(0, str(DOCS / "hooks"))

import generated  # noqa: E402


def pages() -> list[str]:
    """Every page of the site, as a path relative to ``docs/`` (``how-to/sampling.md``)."""
    return sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")
                  if "hooks" not in p.relative_to(DOCS).parts)


def source(page: str) -> str:
    """The Markdown of ``page`` as written in ``docs/``."""
    return (DOCS / page).read_text(encoding="utf-8")


def rendered(page: str) -> str:
    """The Markdown of ``page`` with its generated parts filled in, as the site shows it."""
    return generated.render(source(page), page)

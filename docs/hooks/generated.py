"""MkDocs hook: the generated parts of the reference pages, written at build time.

A page marks where a generated part goes with a comment on a line of its own,
``<!-- generated: NAME -->``; the hook replaces it with the Markdown the generator NAME
returns, from the code and the shipped files (so the pages cannot go stale). An unknown
name, or a generator that fails, is a warning: ``mkdocs build --strict`` fails.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import collector_files  # noqa: E402
import telemetry_names  # noqa: E402

from agentotel._settings import configuration_table  # noqa: E402

_logger = logging.getLogger("mkdocs.hooks.generated")

MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)

GENERATORS: dict[str, Callable[[], str]] = {
    "configuration": configuration_table,
    "spans": telemetry_names.spans_table,
    "events": telemetry_names.events_table,
    "metrics": telemetry_names.metrics_tables,
    "attributes": telemetry_names.attributes_table,
    "operation-names": telemetry_names.operation_names_table,
    "semconv-sources": telemetry_names.sources_list,
    "dashboards": collector_files.dashboards,
    "thresholds": collector_files.thresholds,
    "alerts": collector_files.alerts,
    "recording-rules": collector_files.recording_rules,
    "alert-routing": collector_files.routing,
}


def render(markdown: str, where: str = "") -> str:
    """``markdown`` with every marker replaced by its generated part."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        generate = GENERATORS.get(name)
        if generate is None:
            _logger.warning("%s: no generator named %r", where, name)
            return match.group(0)
        try:
            return generate()
        except Exception:
            _logger.exception("%s: the generator %r failed", where, name)
            return match.group(0)

    return MARKER.sub(fill, markdown)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    return render(markdown, page.file.src_uri)

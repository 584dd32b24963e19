"""Wrapping a library's functions for the protocol integrations (``mcp``, ``a2a``), with
``wrapt`` as the OpenTelemetry instrumentations do, and undoing it at shutdown.

A target missing from the installed version is skipped (logged at DEBUG): the other
targets still work, and nothing raises.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

import wrapt

from agentotel._errors import warn_failure

_logger = logging.getLogger("agentotel")

#: One patch: (module, attribute path in it such as ``Class.method``, wrapt wrapper).
Patch = tuple[str, str, Callable[..., Any]]


def apply(patches: list[Patch]) -> list[Callable[[], None]]:
    """Wrap each target; the undo callables of those that took (in order)."""
    undo: list[Callable[[], None]] = []
    for module_name, path, wrapper in patches:
        try:
            owner: Any = importlib.import_module(module_name)
            parent_path, _, attribute = path.rpartition(".")
            for part in filter(None, parent_path.split(".")):
                owner = getattr(owner, part)
            original = getattr(owner, "__dict__", {}).get(attribute)
            if original is None or isinstance(original, wrapt.ObjectProxy):
                continue  # inherited (wrapped on the class that defines it) or already done
            wrapt.wrap_function_wrapper(owner, attribute, wrapper)
            undo.append(_restorer(owner, attribute, original))
        except Exception:  # noqa: BLE001 - this version lacks it: the rest still works
            _logger.debug("agentotel: patch %s.%s not applied", module_name, path, exc_info=True)
    return undo


def _restorer(owner: Any, attribute: str, original: Any) -> Callable[[], None]:
    def restore() -> None:
        setattr(owner, attribute, original)

    return restore


def undo_all(undo: list[Callable[[], None]], what: str) -> None:
    """Run the undo callables, last first. Never raises."""
    for step in reversed(undo):
        try:
            step()
        except Exception:  # noqa: BLE001
            warn_failure(f"uninstrument {what}")
    undo.clear()

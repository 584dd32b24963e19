"""Enabling the OpenTelemetry instrumentations of the libraries an agent application uses.

One of them is not about a library but about the context: ``threading``
(``opentelemetry-instrumentation-threading``) makes a ``threading.Thread`` (and
``threading.Timer``) run in the context of the thread that called ``start()``, and a
function submitted to a ``concurrent.futures.ThreadPoolExecutor`` (so also
``loop.run_in_executor`` on the default or a thread-pool executor) run in the context of
the thread that called ``submit()``: the spans started there are children of the
operation that was current, with its baggage and conversation id. ``asyncio`` tasks and
``asyncio.to_thread`` copy the context themselves. A ``Thread`` subclass that overrides
``run()`` without calling ``Thread.run`` and a ``ProcessPoolExecutor`` are not covered.

``init()`` enables every installed instrumentation (:func:`~._catalog.catalog`: the
``opentelemetry_instrumentor`` entry points, as ``opentelemetry-instrument`` finds them)
whose target library is importable, on agentotel's tracer, meter and logger providers:
``init(instrumentations=[...])`` chooses them by entry point name (with the HTTP client
instrumentation each one's requests go through), otherwise
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS`` (the standard comma list of entry point names)
turns some off. Each is enabled when the application imports its library (at once for a
library already imported), so start-up imports nothing the application does not use. A
library version the instrumentation does not support gives one warning naming both,
never an exception (unless agentotel's tests cover that version: ``google-genai`` 3.x);
one INFO line at start-up lists what was instrumented, with versions, and what will be
when imported.
Process metrics (CPU, memory, threads, GC; host metrics by setting) come from
``opentelemetry-instrumentation-system-metrics``, enabled by :func:`enable_system_metrics`
(``_system_metrics``): they have no library to wait for.
The instrumentations are not wrapped or patched by agentotel: each is the official
``BaseInstrumentor`` (opentelemetry-instrumentation), called as its documentation says.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import platform
import sys
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from typing import Any, ClassVar

from agentotel import _runtime, content
from agentotel._errors import warn_failure
from agentotel._settings import ConfigError
from agentotel.integrations._catalog import RULES, Instrumentation, catalog, known_names
from agentotel.integrations._content import ContentHook
from agentotel.integrations._sampling import InferenceRecordingSampler, record_dropped_inference
from agentotel.integrations._spans import GenAISpanProcessor
from agentotel.integrations._system_metrics import SystemMetrics
from agentotel.integrations._system_metrics import enable as enable_system_metrics

__all__ = [
    "Enabled",
    "GenAISpanProcessor",
    "InferenceRecordingSampler",
    "Instrumentations",
    "SystemMetrics",
    "catalog",
    "check_names",
    "chosen",
    "known_names",
    "record_dropped_inference",
    "enable_system_metrics",
]

_logger = logging.getLogger("agentotel")


@dataclass(frozen=True)
class Enabled:
    """One instrumentation ``init()`` enabled: the catalog entry, the instrumentor object
    (to undo it at shutdown) and the target library's version."""

    entry: Instrumentation
    instrumentor: Any
    version: str


def check_names(names: Sequence[str] | None) -> None:
    """Fail fast on ``init(instrumentations=...)`` naming an unknown instrumentation.

    A name of an instrumentation agentotel knows but that is not installed is accepted
    with one warning naming the extra that installs it.

    Raises:
        ConfigError: a name neither installed nor known (the accepted names are listed).
    """
    accepted = known_names()
    unknown = [name for name in names or () if name not in accepted]
    if unknown:
        raise ConfigError(
            "argument instrumentations", list(names or ()), ", ".join(sorted(accepted))
        )
    installed = {entry.name for entry in catalog()}
    for name in names or ():
        if name not in installed:
            extra = RULES[name].extra
            _logger.warning(
                "agentotel: instrumentation %s is not installed%s",
                name,
                f" (pip install 'agentotel[{extra}]')" if extra else "",
            )


def chosen(names: Sequence[str] | None, disabled: Collection[str]) -> list[Instrumentation]:
    """The installed instrumentations to try: ``names`` (and the HTTP client
    instrumentations their requests go through, unless ``disabled``) when given, else all
    but ``disabled`` (``*`` disables all, as in ``opentelemetry-instrument``)."""
    if names is not None:
        wanted = set(names)
        for name in names:
            rule = RULES.get(name)
            wanted.update(h for h in (rule.http if rule else ()) if h not in disabled)
        return [entry for entry in catalog() if entry.name in wanted]
    if "*" in disabled:
        return []
    return [entry for entry in catalog() if entry.name not in disabled]


class Instrumentations:
    """The instrumentations ``init()`` chose, enabled as their libraries are imported.

    An instrumentation whose library the application has already imported is enabled at
    once; the others are enabled by a post-import hook (``wrapt.register_post_import_hook``,
    as the instrumentations themselves use ``wrapt``) the moment the application imports
    the library: start-up never imports a library the application does not use.
    """

    def __init__(
        self,
        entries: Sequence[Instrumentation],
        *,
        tracer_provider: Any,
        meter_provider: Any,
        logger_provider: Any,
    ) -> None:
        self._providers = {
            "tracer_provider": tracer_provider,
            "meter_provider": meter_provider,
            "logger_provider": logger_provider,
        }
        self._closed = False
        self.enabled: list[Enabled] = []
        self.pending: list[Instrumentation] = []
        from wrapt import register_post_import_hook  # at init(), not at import agentotel

        for entry in entries:
            module_name = entry.instrumentor.partition(":")[0]
            if not (_importable(entry.library) and _importable(module_name)):
                continue
            if entry.library not in sys.modules:
                self.pending.append(entry)
            register_post_import_hook(partial(self._on_import, entry), entry.library)
        if self.enabled or self.pending:
            _logger.info(
                "agentotel: instrumented %s%s",
                ", ".join(f"{e.entry.display} {e.version}" for e in self.enabled) or "nothing yet",
                "; when imported: " + ", ".join(e.display for e in self.pending)
                if self.pending
                else "",
            )

    @property
    def names(self) -> list[str]:
        """The instrumentations enabled so far, by name."""
        return [item.entry.name for item in self.enabled]

    #: shared by every instance (a second ``init()`` in the process has its own hooks):
    #: enabling one instrumentation may import another's library, whose hooks must wait
    #: until that import is done, whichever instance they belong to
    _lock = threading.RLock()
    _busy = False
    _queue: ClassVar[list[tuple[Instrumentations, Instrumentation]]] = []

    def _on_import(self, entry: Instrumentation, _module: object) -> None:
        cls = Instrumentations
        with cls._lock:
            cls._queue.append((self, entry))
            if cls._busy:  # an instrumentation being enabled imported another library:
                return  # enable that one after it, not inside its half-done import
            cls._busy = True
            try:
                while cls._queue:
                    owner, queued = cls._queue.pop(0)
                    if not owner._closed:
                        owner._enable(queued)
            finally:
                cls._busy = False

    def _enable(self, entry: Instrumentation) -> None:
        try:
            result = _enable_one(entry, **self._providers)
        except Exception:  # noqa: BLE001 - an instrumentation's failure must not break
            warn_failure(f"instrument {entry.name}")  # the application's import
            return
        if result is None:
            return
        self.enabled.append(result)
        if entry in self.pending:
            self.pending.remove(entry)
            _logger.info("agentotel: instrumented %s %s", entry.display, result.version)

    def close(self) -> None:
        """Undo what was enabled (at shutdown); later imports enable nothing. Never raises."""
        with Instrumentations._lock:
            self._closed = True
            enabled, self.enabled = self.enabled, []
        for item in reversed(enabled):
            try:
                item.instrumentor.uninstrument()
            except Exception:  # noqa: BLE001
                warn_failure(f"uninstrument {item.entry.name}")


def _enable_one(
    entry: Instrumentation, tracer_provider: Any, meter_provider: Any, logger_provider: Any
) -> Enabled | None:
    """Skipped (``None``) silently when the application instrumented the library itself,
    with a warning when the library's version is not one the instrumentation supports."""
    from opentelemetry.instrumentation.dependencies import DependencyConflictError

    module_name, _, class_name = entry.instrumentor.partition(":")
    instrumentor = getattr(importlib.import_module(module_name), class_name)()
    if instrumentor.is_instrumented_by_opentelemetry:
        return None  # the application did it (on its own providers): leave it alone
    version = _version(entry.distribution)
    arguments: dict[str, Any] = {
        "tracer_provider": tracer_provider,
        "meter_provider": meter_provider,
        "logger_provider": logger_provider,
        **dict(entry.options),
        **({"completion_hook": ContentHook()} if _captures_on_spans() else {}),
    }
    try:
        instrumentor.instrument(raise_exception_on_conflict=True, **arguments)
    except DependencyConflictError as conflict:
        if not _covered(entry, version):
            _logger.warning("agentotel: not instrumenting %s: %s", entry.name, conflict.conflict)
            return None
        # a version the instrumentation does not declare, which agentotel's tests cover
        _logger.info(
            "agentotel: instrumenting %s %s (tested with %s)", entry.name, version, entry.versions
        )
        instrumentor.instrument(skip_dep_check=True, **arguments)
    return Enabled(entry, instrumentor, version)


def _covered(entry: Instrumentation, version: str) -> bool:
    """``version`` of the target is in the range agentotel's tests cover beyond the
    instrumentation's own (:attr:`Instrumentation.versions`)."""
    if entry.versions is None:
        return False
    from packaging.requirements import Requirement

    try:
        return Requirement(entry.versions).specifier.contains(version, prereleases=True)
    except ValueError:
        return False


def _captures_on_spans() -> bool:
    return _runtime.current().capture in content.ON_SPAN


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a broken module
        return False


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        if distribution in sys.stdlib_module_names:  # threading: the interpreter's own
            return f"(Python {platform.python_version()})"
        return "(version unknown)"

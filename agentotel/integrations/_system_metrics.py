"""Process metrics (CPU, resident memory, threads, garbage collection), host metrics by
setting, through ``opentelemetry-instrumentation-system-metrics``.

``init()`` enables the official ``SystemMetricsInstrumentor`` on agentotel's meter
provider with an explicit ``config`` (never the instrumentor's default, which also
reports the deprecated ``process.runtime.*`` copies of the same numbers and the host's
disks, network interfaces and connections from every process):

- ``process`` (the default): ``process.cpu.time`` (``type`` user/system),
  ``process.memory.usage`` (resident set size), ``process.thread.count``,
  ``cpython.gc.collections`` / ``collected_objects`` / ``uncollectable_objects``
  (per ``cpython.gc.generation``);
- ``host``: those, and ``system.cpu.time`` (per ``cpu`` and ``state``) and
  ``system.memory.usage`` (per ``state``);
- ``off``: none.

Every one is an observable instrument: psutil and ``gc.get_stats()`` are read when a
metric reader collects (each export interval, each Prometheus scrape), on the reader's
thread, never on the application's calls. A callback that fails is logged by the SDK,
never raised into the application.

OpenTelemetry cannot unregister an observable instrument, and the instrumentor's
``uninstrument()`` leaves its callbacks in place; so the callbacks are registered behind a
gate, and :meth:`SystemMetrics.close` (at shutdown) closes it: a provider the application
owns and keeps using reports no process metrics from agentotel after ``shutdown()``. A
later ``init()`` on the same provider opens the same gate again (its instruments already
exist there) for the metrics of its own level.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from agentotel import semconv as sc
from agentotel._errors import warn_failure

_logger = logging.getLogger("agentotel")

_PROCESS: Mapping[str, list[str] | None] = {
    sc.METRIC_PROCESS_CPU_TIME: list(sc.PROCESS_CPU_TIME_TYPES),
    sc.METRIC_PROCESS_MEMORY_USAGE: None,
    sc.METRIC_PROCESS_THREAD_COUNT: None,
    sc.METRIC_CPYTHON_GC_COLLECTIONS: None,
    sc.METRIC_CPYTHON_GC_COLLECTED_OBJECTS: None,
    sc.METRIC_CPYTHON_GC_UNCOLLECTABLE_OBJECTS: None,
}
_HOST: Mapping[str, list[str] | None] = {
    **_PROCESS,
    sc.METRIC_SYSTEM_CPU_TIME: list(sc.SYSTEM_CPU_TIME_STATES),
    sc.METRIC_SYSTEM_MEMORY_USAGE: list(sc.SYSTEM_MEMORY_STATES),
}
#: The instrumentor's ``config`` for each level of the ``system_metrics`` setting: metric
#: name -> the attribute values to report (``None``: the metric has no such attribute).
CONFIGS: Mapping[str, Mapping[str, list[str] | None]] = {
    "process": _PROCESS,
    "host": _HOST,
    "off": {},
}


class _Gate:
    """Lets a callback observe only while its instrument's name is in :attr:`names`."""

    def __init__(self) -> None:
        self.names: frozenset[str] = frozenset()

    def wrap(self, name: str, callback: Any) -> Any:
        if not callable(callback):  # a generator: the SDK also accepts those
            return callback

        def observe(options: Any) -> Iterable[Any]:
            return callback(options) if name in self.names else ()

        return observe


class _GatedMeter:
    """A meter whose observable instruments' callbacks go through the gate."""

    def __init__(self, meter: Any, gate: _Gate) -> None:
        self._meter = meter
        self._gate = gate

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._meter, attribute)

    def _observable(self, create: Callable[..., Any]) -> Callable[..., Any]:
        def create_gated(name: str, callbacks: Any = None, *args: Any, **kwargs: Any) -> Any:
            gated = [self._gate.wrap(name, callback) for callback in callbacks or ()]
            return create(name, gated, *args, **kwargs)

        return create_gated

    def create_observable_counter(self, *args: Any, **kwargs: Any) -> Any:
        return self._observable(self._meter.create_observable_counter)(*args, **kwargs)

    def create_observable_up_down_counter(self, *args: Any, **kwargs: Any) -> Any:
        return self._observable(self._meter.create_observable_up_down_counter)(*args, **kwargs)

    def create_observable_gauge(self, *args: Any, **kwargs: Any) -> Any:
        return self._observable(self._meter.create_observable_gauge)(*args, **kwargs)


class _GatedMeterProvider:
    """What the instrumentor is given as its meter provider."""

    def __init__(self, provider: Any, gate: _Gate) -> None:
        self._provider = provider
        self._gate = gate

    def get_meter(
        self,
        name: str,
        version: str | None = None,
        schema_url: str | None = None,
        attributes: Any = None,
    ) -> Any:
        meter = self._provider.get_meter(name, version, schema_url, attributes)
        return _GatedMeter(meter, self._gate)


# One gate per meter provider: the instruments registered on a provider stay there.
_gates: weakref.WeakKeyDictionary[Any, _Gate] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_fork_hook_registered = False


class SystemMetrics:
    """The process (and host) metrics ``init()`` enabled; :meth:`close` stops them."""

    def __init__(self, level: str, instrumentor: Any, gate: _Gate) -> None:
        self.level = level
        self._instrumentor = instrumentor
        self._gate = gate

    @property
    def names(self) -> list[str]:
        """The OpenTelemetry names of the metrics reported, sorted."""
        return sorted(self._gate.names)

    def close(self) -> None:
        """Stop reporting (at shutdown); idempotent, never raises."""
        try:
            with _lock:
                self._gate.names = frozenset()
                if self._instrumentor.is_instrumented_by_opentelemetry:
                    self._instrumentor.uninstrument()
        except Exception:  # noqa: BLE001
            warn_failure("stop the process metrics")


def enable(meter_provider: Any, level: str) -> SystemMetrics | None:
    """Report the metrics of ``level`` (``process``, ``host``) on ``meter_provider``.

    ``None`` for ``off``, when the application enabled ``SystemMetricsInstrumentor``
    itself (agentotel leaves it alone, as it does every instrumentation the application
    set up), or when the instrumentor cannot run here (one warning). Never raises.
    """
    config = CONFIGS.get(level)
    if not config:
        return None
    try:
        from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor
    except Exception:  # noqa: BLE001 - e.g. psutil has no build for this platform
        warn_failure("enable the process metrics (opentelemetry-instrumentation-system-metrics)")
        return None
    try:
        with _lock:
            # The instrumentor is a singleton: constructing it again would replace the
            # configuration its registered callbacks read. Look before constructing.
            existing: Any = getattr(SystemMetricsInstrumentor, "_instance", None)
            if existing is not None and existing.is_instrumented_by_opentelemetry:
                _logger.info(
                    "agentotel: system metrics are instrumented by the application; "
                    "not enabling them again"
                )
                return None
            gate = _gates.get(meter_provider)
            if gate is None:
                gate = _gates[meter_provider] = _Gate()
            gate.names = frozenset(config)
            instrumentor = SystemMetricsInstrumentor(
                config={name: None if v is None else list(v) for name, v in config.items()}
            )
            instrumentor.instrument(meter_provider=_GatedMeterProvider(meter_provider, gate))
            _reset_process_after_fork()
        return SystemMetrics(level, instrumentor, gate)
    except Exception:  # noqa: BLE001 - the application starts without process metrics
        warn_failure("enable the process metrics")
        return None


def _reset_process_after_fork() -> None:
    """A worker forked after ``init()`` (a pre-forking server) reports its own process.

    The instrumentor reads the process it was created in (``psutil.Process(pid)``); in a
    child that would still be the parent.
    """
    global _fork_hook_registered
    if _fork_hook_registered or not hasattr(os, "register_at_fork"):
        return
    os.register_at_fork(after_in_child=_follow_child)
    _fork_hook_registered = True


def _follow_child() -> None:
    try:
        import psutil
        from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor

        instrumentor: Any = getattr(SystemMetricsInstrumentor, "_instance", None)
        if instrumentor is not None and hasattr(instrumentor, "_proc"):
            instrumentor._proc = psutil.Process(os.getpid())
    except Exception:  # noqa: BLE001 - never break the application's fork
        pass

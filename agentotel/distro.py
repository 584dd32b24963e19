"""agentotel as an OpenTelemetry distro: ``opentelemetry-instrument python app.py`` builds
the pipeline ``init()`` builds, for an application that never imports agentotel.

``opentelemetry-instrument`` (opentelemetry-instrumentation, "auto-instrumentation") loads a
distro (entry point group ``opentelemetry_distro``), runs its ``configure()``, then one
configurator (group ``opentelemetry_configurator``), then every instrumentor (group
``opentelemetry_instrumentor``) through the distro's ``load_instrumentor``. agentotel
registers both entry points under the name ``agentotel`` (``distro`` / ``configurator``
are taken by opentelemetry-distro and other vendors; ``OTEL_PYTHON_DISTRO=agentotel`` and
``OTEL_PYTHON_CONFIGURATOR=agentotel`` choose them when several are installed, which
``agentotel run`` sets):

- :class:`AgentotelDistro` makes agentotel's configurator the one that runs (unless
  ``OTEL_PYTHON_CONFIGURATOR`` names another) and loads the instrumentors: those
  ``init()`` finds are left to it (enabled as their libraries are imported, the official
  one first, with agentotel's options); of the others, one per entry point name — when several
  installed packages register the same name (``openai`` from several vendors), the
  official OpenTelemetry one is kept, and one line says which were not loaded;
- :class:`AgentotelConfigurator` calls ``init()`` with no arguments: the ``OTEL_*`` /
  ``AGENTOTEL_*`` variables configure it (redaction, cost, the GenAI span step, health,
  the pipeline metrics, process metrics). It sets up logging only when
  ``OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED=true`` (the OpenTelemetry variable for
  it): an application started this way configures its own logging later.

An ``init()`` the application calls later finds this pipeline and uses it (no second
one; see ``agentotel.init``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.instrumentation.environment_variables import OTEL_PYTHON_CONFIGURATOR
from opentelemetry.sdk._configuration import _BaseConfigurator

from agentotel import _setup, integrations

_logger = logging.getLogger("agentotel")

#: the name agentotel's distro and configurator are registered under
NAME = "agentotel"
INSTRUMENTOR_GROUP = "opentelemetry_instrumentor"
#: the process metrics: ``init()`` enables them itself, with agentotel's choice of metrics
#: (``AGENTOTEL_SYSTEM_METRICS``)
SYSTEM_METRICS = "system_metrics"


def enabled_by_init(name: str) -> bool:
    """Whether ``init()`` enables the instrumentation of that entry point name itself: every
    installed one it finds (official first; see ``agentotel.integrations``), agentotel's
    own, and the process metrics."""
    return name == SYSTEM_METRICS or name in integrations.known_names()
#: the standard switch for the logging setup under auto-instrumentation
OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED = (
    "OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED"
)


@dataclass
class Choice:
    """The instrumentor entry points kept, one per name, and those shadowed."""

    kept: dict[str, metadata.EntryPoint] = field(default_factory=dict)
    shadowed: list[tuple[metadata.EntryPoint, metadata.EntryPoint]] = field(
        default_factory=list
    )


def distribution(entry_point: metadata.EntryPoint) -> str:
    """The name of the distribution that registers ``entry_point`` (``?`` if unknown)."""
    dist = getattr(entry_point, "dist", None)
    return str(getattr(dist, "name", None) or "?")


def is_official(entry_point: metadata.EntryPoint) -> bool:
    """An instrumentation of the OpenTelemetry project (opentelemetry-python-contrib)."""
    return entry_point.value.startswith("opentelemetry.instrumentation.") and distribution(
        entry_point
    ).replace("_", "-").startswith("opentelemetry-instrumentation-")


def choose(entry_points: Iterable[metadata.EntryPoint]) -> Choice:
    """One entry point per name: the official one when several packages register it,
    else the first found."""
    choice = Choice()
    for entry_point in entry_points:
        kept = choice.kept.get(entry_point.name)
        if kept is None:
            choice.kept[entry_point.name] = entry_point
        elif is_official(entry_point) and not is_official(kept):
            choice.kept[entry_point.name] = entry_point
            choice.shadowed.append((kept, entry_point))
        else:
            choice.shadowed.append((entry_point, kept))
    return choice


def installed_instrumentors() -> Choice:
    """The ``opentelemetry_instrumentor`` entry points installed, chosen by :func:`choose`."""
    return choose(metadata.entry_points(group=INSTRUMENTOR_GROUP))


def shadowed_line(choice: Choice) -> str | None:
    """One line naming the instrumentations not loaded because an official one of the
    same name is (``None`` when there are none)."""
    if not choice.shadowed:
        return None
    parts = [
        f"{loser.name} from {distribution(loser)} (kept {distribution(winner)})"
        for loser, winner in choice.shadowed
    ]
    return "agentotel: one instrumentation per name; not loaded: " + "; ".join(parts)


class AgentotelDistro(BaseDistro):  # type: ignore[misc]
    """The ``opentelemetry_distro`` entry point ``agentotel``."""

    def __init__(self) -> None:
        super().__init__()
        self._choice: Choice | None = None

    def _configure(self, **kwargs: Any) -> None:
        # the configurator is chosen apart from the distro: make it agentotel's, unless
        # the user named one (this runs only under opentelemetry-instrument)
        os.environ.setdefault(OTEL_PYTHON_CONFIGURATOR, NAME)

    def load_instrumentor(self, entry_point: metadata.EntryPoint, **kwargs: Any) -> None:
        """Load ``entry_point``'s instrumentor unless ``init()`` enables it (agentotel's
        catalog) or another package's instrumentor of the same name is kept."""
        if self._choice is None:
            self._choice = installed_instrumentors()
            line = shadowed_line(self._choice)
            if line:
                _logger.info(line)
        if enabled_by_init(entry_point.name):
            return  # init() enables it (the official one, as its library is imported)
        if self._choice.kept.get(entry_point.name) != entry_point:
            return
        super().load_instrumentor(entry_point, **kwargs)


class AgentotelConfigurator(_BaseConfigurator):
    """The ``opentelemetry_configurator`` entry point ``agentotel``: ``init()`` from the
    environment."""

    def _configure(self, **kwargs: Any) -> None:
        logging_enabled = (
            os.environ.get(OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED, "").strip().lower()
            == "true"
        )
        telemetry = _setup.init(configure_logging=logging_enabled)
        telemetry.set_up_by = "opentelemetry-instrument (agentotel's distro)"

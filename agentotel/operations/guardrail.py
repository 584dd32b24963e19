"""The guardrail kind: ``apply_guardrail {name}``, an INTERNAL span around one check.

The GenAI conventions have not released guardrail names yet; the attributes are
agentotel's own (``agentotel.guardrail.*``, in :mod:`agentotel.semconv`) until they do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, overload

from agentotel import semconv as sc
from agentotel._errors import warn_failure, warn_misuse
from agentotel._runtime import Runtime
from agentotel.operations._operation import (
    Attributes,
    Operation,
    callable_name,
    optional_text,
    text,
    texts,
)

_F = TypeVar("_F", bound=Callable[..., Any])


class Guardrail(Operation):
    """``apply_guardrail {name}`` — INTERNAL span and ``agentotel.guardrail.checks``.

    Span attributes: ``gen_ai.operation.name`` = ``apply_guardrail``,
    ``agentotel.guardrail.name`` and ``.target`` (e.g. ``input``, ``output``,
    ``tool_call``, ``tool_result``; set at start), ``.verdict`` (``allow``, ``deny``,
    ``modify``, ``warn``), ``.reason``, ``.categories``; ``error.type`` on failure.

    Metric: every check counts once on ``agentotel.guardrail.checks`` (counter, {check};
    name, target, verdict, ``error.type``); a check that set no verdict counts as
    ``allow``.
    """

    __slots__ = ("name", "target", "_verdict")
    _api = "agentotel.guardrail"

    def __init__(self, name: str, target: str = "input") -> None:
        super().__init__((name, target))
        if not (name.__class__ is str and target.__class__ is str):  # no call when usual
            name = text(name, "agentotel.guardrail(name)")
            target = text(target, "agentotel.guardrail(target)")
        self.name = name
        self.target = target
        self._verdict: str | None = None

    def _span_name(self) -> str:
        return f"{sc.OP_APPLY_GUARDRAIL} {self.name}"

    def _start_attributes(self) -> Attributes:
        return {
            sc.GEN_AI_OPERATION_NAME: sc.OP_APPLY_GUARDRAIL,
            sc.GUARDRAIL_NAME: self.name,
            sc.GUARDRAIL_TARGET: self.target,
        }

    def verdict(
        self, verdict: str, *, reason: str | None = None, categories: Sequence[str] | None = None
    ) -> None:
        """Record the check's outcome: ``verdict`` is ``allow``, ``deny``, ``modify`` or
        ``warn``; ``reason`` a short text; ``categories`` e.g. ``["pii"]``.

        An unknown verdict is not recorded (one warning names it; the check keeps its
        verdict so far); ``reason`` and ``categories`` are recorded all the same.
        """
        try:
            attributes: Attributes = {}
            if isinstance(verdict, str) and verdict in sc.GUARDRAIL_VERDICTS:
                self._verdict = verdict
                attributes[sc.GUARDRAIL_VERDICT] = verdict
            else:
                warn_misuse(
                    "agentotel.guardrail.verdict(verdict)",
                    verdict,
                    ", ".join(sc.GUARDRAIL_VERDICTS),
                    "not recorded",
                )
            why = optional_text(reason, "agentotel.guardrail.verdict(reason)")
            if why is not None:
                attributes[sc.GUARDRAIL_REASON] = why
            kinds = texts(categories, "agentotel.guardrail.verdict(categories)")
            if kinds:
                attributes[sc.GUARDRAIL_CATEGORIES] = kinds
            self.span.set_attributes(attributes)
        except Exception:  # noqa: BLE001
            warn_failure("record a verdict")

    @property
    def current_verdict(self) -> str:
        """The verdict so far (``allow`` until :meth:`verdict` says otherwise)."""
        return self._verdict or sc.GUARDRAIL_DEFAULT_VERDICT

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        verdict = self.current_verdict
        if self._verdict is None:
            self.span.set_attribute(sc.GUARDRAIL_VERDICT, verdict)
        runtime.instruments.guardrail_checks.add(
            1,
            self._with_error(
                {
                    sc.GUARDRAIL_NAME: self.name,
                    sc.GUARDRAIL_TARGET: self.target,
                    sc.GUARDRAIL_VERDICT: verdict,
                }
            ),
            self._context,
        )


@overload
def guardrail(name: str, *, target: str = "input") -> Guardrail: ...
@overload
def guardrail(name: _F) -> _F: ...
def guardrail(name: Any, *, target: str = "input") -> Any:
    """An ``apply_guardrail {name}`` span (INTERNAL) and ``agentotel.guardrail.checks``.

    Record the outcome with :meth:`Guardrail.verdict`. See :class:`Guardrail`. Never
    raises.
    """
    if callable(name):
        return Guardrail(callable_name(name))(name)
    return Guardrail(name, target)

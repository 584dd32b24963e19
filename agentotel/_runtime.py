"""What operations need from ``init()``: the tracer, the instruments, the prices, switches.

One :class:`Runtime` is current at a time. Before ``init()`` the first operation builds a
default one on the global (proxy) tracer, meter and logger providers, so that an
application that installed its own SDK providers sees agentotel's telemetry; ``init()``
installs one on its own providers, ``shutdown()`` a disabled one. Nothing is built at
import time.

An operation reads the current runtime once, when it is created, and uses that runtime
until it ends: an ``init()`` in between cannot split one operation's telemetry across two
providers.
"""

from __future__ import annotations

import threading

from opentelemetry import _logs as otel_logs
from opentelemetry import metrics as otel_metrics
from opentelemetry import trace as otel_trace
from opentelemetry._logs import Logger
from opentelemetry.trace import Tracer

from agentotel import content
from agentotel import semconv as sc
from agentotel._instruments import Instruments
from agentotel.cost import PriceTable, load_price_table


class Runtime:
    """The tracer, instruments, price table and switches every operation uses.

    Args:
        tracer: where spans start.
        instruments: the metric instruments (:class:`agentotel._instruments.Instruments`).
        prices: model prices for ``agentotel.llm.cost`` (:mod:`agentotel.cost`).
        disabled: ``OTEL_SDK_DISABLED``: decorated functions call straight through.
        capture: content capture mode, one of :data:`agentotel.content.CAPTURE_MODES`.
        content_max_length: characters kept per captured content value.
        event_logger: where the events go (``gen_ai.client.inference.operation.details``,
            ``gen_ai.evaluation.result``); ``None``: no events.
    """

    __slots__ = (
        "tracer",
        "instruments",
        "prices",
        "disabled",
        "capture",
        "content_max_length",
        "event_logger",
    )

    def __init__(
        self,
        tracer: Tracer,
        instruments: Instruments,
        prices: PriceTable,
        *,
        disabled: bool = False,
        capture: str = content.NO_CONTENT,
        content_max_length: int = content.DEFAULT_MAX_LENGTH,
        event_logger: Logger | None = None,
    ) -> None:
        self.tracer = tracer
        self.instruments = instruments
        self.prices = prices
        self.disabled = disabled
        self.capture = capture
        self.content_max_length = content_max_length
        self.event_logger = event_logger


#: The installed runtime; ``None`` until the first operation or ``init()``.
RUNTIME: Runtime | None = None
_lock = threading.Lock()


def current() -> Runtime:
    """The installed runtime; on first use before ``init()``, one on the global providers."""
    runtime = RUNTIME
    if runtime is None:
        runtime = _install_default()
    return runtime


def _install_default() -> Runtime:
    global RUNTIME
    with _lock:
        if RUNTIME is None:
            RUNTIME = Runtime(
                otel_trace.get_tracer(sc.INSTRUMENTATION_SCOPE),
                Instruments(otel_metrics.get_meter(sc.INSTRUMENTATION_SCOPE)),
                load_price_table(),
                event_logger=otel_logs.get_logger(sc.INSTRUMENTATION_SCOPE),
            )
        return RUNTIME


def install(runtime: Runtime | None) -> None:
    """Make ``runtime`` the one every operation created from now on uses.

    ``None`` goes back to the state before ``init()`` (a default runtime on first use).
    """
    global RUNTIME
    with _lock:
        RUNTIME = runtime

"""Log a recurring failure at most once per interval, with a count of what was suppressed.

Telemetry failures (a dead collector, an exporter error) recur on every batch; the
application's log must show them, not drown in them. Exporters never raise into the
application (OpenTelemetry SDK behaviour); agentotel only throttles what they log.
"""

from __future__ import annotations

import logging
import threading
import time

DEFAULT_INTERVAL_S = 60.0
#: Distinct messages remembered; past this, those quiet for a whole interval are forgotten.
_MAX_KEYS = 1024


class ThrottleFilter(logging.Filter):
    """A :class:`logging.Filter` passing one record per (logger, message) per interval.

    The next record let through after a quiet period says how many were suppressed.
    Records below WARNING pass untouched.
    """

    def __init__(self, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        super().__init__()
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, str(record.msg))
        now = time.monotonic()
        with self._lock:
            last, suppressed = self._last.get(key, (float("-inf"), 0))
            if now - last < self._interval_s:
                self._last[key] = (last, suppressed + 1)
                return False
            if len(self._last) >= _MAX_KEYS:
                self._forget_quiet(now)
            self._last[key] = (now, 0)
        if suppressed:
            record.msg = f"{record.msg} (and {suppressed} more like it in the last minute)"
        return True

    def _forget_quiet(self, now: float) -> None:
        quiet = [k for k, (last, _) in self._last.items() if now - last >= self._interval_s]
        for key in quiet or list(self._last):  # all of them busy: start afresh
            del self._last[key]


_FILTER = ThrottleFilter()


def reset() -> None:
    """Forget every message seen so far (each is let through once more)."""
    with _FILTER._lock:
        _FILTER._last.clear()


def throttle_loggers(prefix: str = "opentelemetry") -> None:
    """Attach the shared throttle to every existing logger under ``prefix`` (idempotent)."""
    manager = logging.Logger.manager
    for name in list(manager.loggerDict):
        if name == prefix or name.startswith(prefix + "."):
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)


def log_throttled(logger: logging.Logger, message: str, *, exc_info: bool = False) -> None:
    """Log ``message`` at WARNING through the shared throttle."""
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    logger.warning(message, exc_info=exc_info)

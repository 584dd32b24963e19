"""What agentotel does with errors and misuse at run time.

The OpenTelemetry error-handling principle: an API must not throw when used incorrectly
at run time; it logs and records what is safe
(https://opentelemetry.io/docs/specs/otel/error-handling/). Three small pieces serve it:

- :func:`error_type_of` — the ``error.type`` attribute value of an exception;
- :func:`safe_repr` / :func:`safe_str` — text for any value, even one whose ``__repr__`` or
  ``__str__`` raises, bounded in length;
- :func:`warn`, :func:`warn_misuse`, :func:`warn_failure` — one throttled WARNING on the
  ``agentotel`` logger (at most once a minute per message, see :mod:`agentotel._ratelimit`).
"""

from __future__ import annotations

import logging

from agentotel._ratelimit import log_throttled

_logger = logging.getLogger("agentotel")
_MAX_REPR = 80


def error_type_of(exc: BaseException) -> str:
    """``error.type`` of an exception: its fully qualified class name, builtins unqualified.

    The same text the SDK records as ``exception.type`` and ``opentelemetry-util-genai``
    records as ``error.type`` (semantic conventions, ``error.type``: "the exception's
    fully-qualified class name").
    """
    cls = type(exc)
    module = cls.__module__
    return cls.__qualname__ if module in (None, "builtins") else f"{module}.{cls.__qualname__}"


def safe_repr(value: object) -> str:
    """``repr(value)`` cut to 80 characters; ``<unprintable T>`` if ``repr`` raises."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - any user object may have a broken __repr__
        return f"<unprintable {type(value).__qualname__}>"
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def safe_str(value: object) -> str:
    """``str(value)``; ``<unprintable T>`` if ``str`` raises or returns a non-string."""
    try:
        text = str(value)
    except Exception:  # noqa: BLE001
        return f"<unprintable {type(value).__qualname__}>"
    return text if isinstance(text, str) else f"<unprintable {type(value).__qualname__}>"


def warn(message: str) -> None:
    """One throttled warning ``agentotel: <message>``."""
    try:
        log_throttled(_logger, f"agentotel: {message}")
    except Exception:  # noqa: BLE001 - a logging filter or handler of the application raised
        pass


def warn_misuse(where: str, value: object, accepted: str, action: str) -> None:
    """One throttled warning: ``where`` got ``value``, ``accepted`` is expected, ``action``.

    Example: ``agentotel.llm(operation='rank') is not valid; accepted: chat, embeddings;
    using 'chat'``.
    """
    warn(f"{where}={safe_repr(value)} is not valid; accepted: {accepted}; {action}")


def warn_failure(what: str) -> None:
    """One throttled warning with the traceback: agentotel failed to ``what``.

    For an unexpected exception inside agentotel; the application carries on.
    """
    try:
        log_throttled(_logger, f"agentotel failed to {what}", exc_info=True)
    except Exception:  # noqa: BLE001
        pass

"""The span + metric lifecycle every kind shares, and the checks of user-given values.

One base class, :class:`Operation`, does what every kind needs (the model is
``opentelemetry-util-genai``'s ``_invocation.py``):

1. start the span *with the sampling-relevant attributes already set*, make it current,
   note a monotonic start time;
2. on exit, map an exception — or the task's cancellation (``asyncio.CancelledError``),
   which util-genai records as a failure too — to ``error.type`` and status ERROR
   (recording the exception on the span), set the end attributes, record the duration
   and the kind's metrics;
3. detach the context and end the span in ``finally``.

The kinds only supply their attributes and metrics. Nothing in here raises into user
code (the OpenTelemetry error-handling principle,
https://opentelemetry.io/docs/specs/otel/error-handling/): a value of the wrong type or
an unknown value gets one throttled warning naming it and the telemetry records what is
safe; a failure inside agentotel is logged the same way; the user's own exception always
propagates unchanged. Span attributes and metric attributes are kept apart; metric
attributes are low cardinality only (names, model, provider, type, verdict,
``error.type``) — ids never reach metrics.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from time import perf_counter as default_timer
from types import TracebackType
from typing import Any, TypeVar, cast

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue
from typing_extensions import Self

from agentotel import _runtime, content
from agentotel import semconv as sc
from agentotel._errors import error_type_of, safe_str, warn, warn_failure, warn_misuse
from agentotel._runtime import Runtime, current
from agentotel.operations._decorators import decorate

_CONVERSATION_KEY = otel_context.create_key("agentotel.conversation_id")
_F = TypeVar("_F", bound=Callable[..., Any])
_NEW, _ACTIVE, _ENDED = 0, 1, 2

Attributes = dict[str, AttributeValue]

#: What ``record_input`` / ``record_output`` accept (for the misuse warning).
MESSAGES_ACCEPTED = "an iterable of messages (mappings with role and content or parts) or str"


# --------------------------------------------------------------------------- value checks
def text(value: object, where: str) -> str:
    """``value`` if it is a ``str``; otherwise a warning and its ``str()``."""
    if isinstance(value, str):
        return value
    warn_misuse(where, value, "a str", "using its str()")
    return safe_str(value)


def optional_text(value: object, where: str) -> str | None:
    """``None`` stays ``None``; anything else as :func:`text`."""
    return None if value is None else text(value, where)


def count(value: object, where: str) -> int | None:
    """A non-negative ``int`` (tokens, dimensions); otherwise a warning and ``None``."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    warn_misuse(where, value, "an int >= 0", "not recorded")
    return None


def port(value: object, where: str) -> int | None:
    """A port number (``int`` from 0 to 65535); otherwise a warning and ``None``."""
    if value is None or (
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535
    ):
        return value
    warn_misuse(where, value, "an int from 0 to 65535", "not recorded")
    return None


def texts(value: object, where: str) -> list[str] | None:
    """A list of ``str`` from a sequence; a lone ``str`` is one item; else a warning."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    try:
        items = list(value)  # type: ignore[call-overload]
    except Exception:  # noqa: BLE001 - not iterable, or its iteration raised
        warn_misuse(where, value, "a sequence of str", "not recorded")
        return None
    return [text(item, where) for item in items]


def items(value: object, where: str, accepted: str) -> list[Any] | None:
    """``value`` as a list of items: a lone ``str``, ``bytes`` or mapping is one item,
    another iterable gives its items. Anything else (or an iteration that raises) gives
    ``None`` and one warning naming ``where``, the value and ``accepted``. Never raises."""
    if isinstance(value, (str, bytes, Mapping)):
        return [value]
    try:
        return list(cast(Iterable[Any], value))
    except Exception:  # noqa: BLE001 - not iterable, or its iteration raised
        warn_misuse(where, value, accepted, "not recorded")
        return None


def is_failure(exc: BaseException) -> bool:
    """An exception the operation failed with: any ``Exception``, and a task's
    cancellation (``asyncio.CancelledError``, which util-genai records as a failure too);
    not ``KeyboardInterrupt``, ``SystemExit`` or ``GeneratorExit``. (asyncio is looked up,
    not imported: without it loaded, nothing can have been cancelled.)"""
    if isinstance(exc, Exception):
        return True
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(exc, asyncio.CancelledError)


def callable_name(fn: Callable[..., Any]) -> str:
    """The name a bare decorator gives the operation: the function's ``__name__``."""
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) else type(fn).__name__


#: whether any context has carried a conversation id yet (before that, nothing to look up)
_conversations = False


def inherited_conversation(given: str | None) -> str | None:
    """``given``, else the conversation id a surrounding workflow put in the context."""
    if given is not None or not _conversations:
        return given
    value = otel_context.get_value(_CONVERSATION_KEY)
    return value if isinstance(value, str) else None


def with_conversation(ctx: Context, conversation: str) -> Context:
    """``ctx`` carrying ``conversation`` for the operations started inside it."""
    global _conversations
    _conversations = True
    return otel_context.set_value(_CONVERSATION_KEY, conversation, ctx)


def put(attributes: Attributes, pairs: Iterable[tuple[str, Any]]) -> Attributes:
    """Add the pairs whose value is not ``None``; returns ``attributes``."""
    for key, value in pairs:
        if value is not None:
            attributes[key] = value
    return attributes


# --------------------------------------------------------------------------- the lifecycle
class Operation:
    """One GenAI operation: a span plus its metrics. Use the kinds, not this base.

    Usable once as a context manager (``with agentotel.tool("search") as t:``); calling
    the object on a function returns a decorator that starts a fresh operation per call.
    The runtime (tracer, instruments, prices, capture mode) is read once, when the
    operation is created, and used until it ends.
    """

    __slots__ = (
        "span",
        "_runtime",
        "_token",
        "_context",
        "_start",
        "_error_type",
        "_spec",
        "_state",
        "_reentered",
    )
    _span_kind: SpanKind = SpanKind.INTERNAL
    #: The public call that makes this kind, for warnings (``agentotel.tool``).
    _api: str = "agentotel"

    def __init__(self, spec: tuple[Any, ...]) -> None:
        self._spec = spec  # the constructor arguments, to start a fresh copy per decorated call
        runtime = _runtime.RUNTIME
        self._runtime: Runtime = runtime if runtime is not None else current()
        self._error_type: str | None = None
        self._token: object | None = None
        self._context: Context | None = None
        self._state = _NEW
        self._reentered = 0
        self.span: Span = otel_trace.INVALID_SPAN

    # -- what the kinds supply ------------------------------------------------------
    def _span_name(self) -> str:
        raise NotImplementedError

    def _start_attributes(self) -> Attributes:
        raise NotImplementedError

    def _finish(self, duration_s: float, runtime: Runtime) -> None:
        """Set end attributes and record metrics; ``self._error_type`` is set on failure."""
        raise NotImplementedError

    def _enter_context(self, ctx: Context) -> Context:
        return ctx

    def _fresh(self) -> Self:
        return type(self)(*self._spec)

    # -- lifecycle ------------------------------------------------------------------
    def _begin(self, *, attach: bool) -> None:
        self._state = _ACTIVE
        runtime = self._runtime
        try:
            parent = otel_context.get_current()
            self.span = runtime.tracer.start_span(
                self._span_name(),
                parent,
                self._span_kind,
                self._start_attributes(),
                record_exception=False,
                set_status_on_exception=False,
            )
            self._context = self._enter_context(otel_trace.set_span_in_context(self.span, parent))
            if attach:
                self._token = otel_context.attach(self._context)
        except Exception:  # noqa: BLE001 - telemetry must not break the application
            warn_failure("start a span")
        self._start = default_timer()

    def _end(self, exc: BaseException | None) -> None:
        duration = default_timer() - self._start
        self._state = _ENDED
        span = self.span
        try:
            if exc is not None and is_failure(exc):
                self._record_exception(exc)
            self._finish(duration, self._runtime)
        except Exception:  # noqa: BLE001
            warn_failure("finish a span")
        finally:
            token, self._token = self._token, None
            if token is not None:
                try:
                    otel_context.detach(token)  # type: ignore[arg-type]
                except Exception:  # noqa: BLE001
                    pass
            try:
                span.end()
            except Exception:  # noqa: BLE001
                warn_failure("end a span")

    def _record_exception(self, exc: BaseException) -> None:
        """``error.type``, status ERROR with the message, the exception event (last: the
        SDK formats the traceback, which calls the exception's own ``__str__``)."""
        self._error_type = error_type_of(exc)
        span = self.span
        span.set_attribute(sc.ERROR_TYPE, self._error_type)
        span.set_status(Status(StatusCode.ERROR, safe_str(exc)))
        try:
            span.record_exception(exc)
        except Exception:  # noqa: BLE001 - an exception whose __str__ raises
            warn_failure("record an exception event")

    def __enter__(self) -> Self:
        if self._state == _NEW:
            self._begin(attach=True)
        else:
            self._reentered += 1
            warn(
                f"{self._api}(...) object entered again; an operation is used once "
                "(create one per use, or decorate the function)"
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._reentered:
            self._reentered -= 1
        elif self._state == _ACTIVE:
            self._end(exc)

    def __call__(self, fn: _F) -> _F:
        """Decorate ``fn``: each call runs in a fresh operation of this kind."""
        if not callable(fn):
            warn_misuse(f"{self._api}(...)(fn)", fn, "a function", "returned unchanged")
            return fn
        try:
            return decorate(self._fresh, fn)
        except Exception:  # noqa: BLE001
            warn_failure("decorate a function")
            return fn

    @property
    def context(self) -> Context:
        """The OpenTelemetry context holding this operation's span (the current one before
        the operation starts)."""
        ctx = self._context
        return otel_context.get_current() if ctx is None else ctx

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Set one span attribute (never a metric attribute). Invalid keys or values are
        dropped with a warning, as the SDK does."""
        try:
            self.span.set_attribute(key, value)
        except Exception:  # noqa: BLE001
            warn_failure("set an attribute")

    def fail(self, error_type: str, description: str | None = None) -> None:
        """Mark the operation failed without an exception (e.g. a handled HTTP 429).

        Sets ``error.type`` (a low-cardinality code such as ``rate_limited``) and status
        ERROR with ``description`` (default: the code); the duration metrics carry the
        same ``error.type``. Semantic conventions: ``error.type``.
        """
        try:
            code = text(error_type, f"{self._api}.fail(error_type)")
            why = optional_text(description, f"{self._api}.fail(description)")
            self._error_type = code
            self.span.set_attribute(sc.ERROR_TYPE, code)
            self.span.set_status(Status(StatusCode.ERROR, why or code))
        except Exception:  # noqa: BLE001
            warn_failure("record a failure")

    # -- content --------------------------------------------------------------------
    def _set_content(self, key: str, value: Any) -> None:
        """Put one content value on the span as bounded JSON, when capture is on the span."""
        runtime = self._runtime
        if runtime.capture in content.ON_SPAN:
            try:
                self.span.set_attribute(key, content.to_json(value, runtime.content_max_length))
            except Exception:  # noqa: BLE001
                warn_failure("capture content")

    def _on_call(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        """Decorator hook: the call's arguments (content capture only). Never raises."""

    def _on_return(self, value: Any) -> None:
        """Decorator hook: the call's return value (content capture only). Never raises."""

    def _chunk_hook(self) -> Callable[[Any], None] | None:
        """Decorator hook: what a decorated generator reports each yielded item to (an LLM
        call's stream chunks); ``None``: nothing. Never raises."""
        return None

    def _with_error(self, attributes: Attributes) -> Attributes:
        if self._error_type is not None:
            attributes[sc.ERROR_TYPE] = self._error_type
        return attributes


class MessagesOperation(Operation):
    """Workflow and agent: operations whose opt-in content is input and output messages."""

    __slots__ = ()

    def record_input(self, messages: Iterable[Mapping[str, Any] | str]) -> None:
        """Opt-in content: the input messages (``gen_ai.input.messages``, JSON on the span).

        Captured only when content capture is on the span (``SPAN_ONLY`` or
        ``SPAN_AND_EVENT``); see :mod:`agentotel.content` for the message format.
        """
        self._record_messages("record_input", messages, content.input_messages)

    def record_output(self, messages: Iterable[Mapping[str, Any] | str]) -> None:
        """Opt-in content: the output messages (``gen_ai.output.messages``, JSON on the span)."""
        self._record_messages("record_output", messages, content.output_messages)

    def _record_messages(
        self, method: str, messages: Any, convert: Callable[[Any], list[dict[str, Any]]]
    ) -> None:
        if self._runtime.capture not in content.ON_SPAN:
            return
        try:
            value = convert(messages)
        except Exception:  # noqa: BLE001 - not an iterable of messages
            where = f"{self._api}.{method}(messages)"
            warn_misuse(where, messages, MESSAGES_ACCEPTED, "not captured")
            return
        key = sc.GEN_AI_INPUT_MESSAGES if method == "record_input" else sc.GEN_AI_OUTPUT_MESSAGES
        self._set_content(key, value)

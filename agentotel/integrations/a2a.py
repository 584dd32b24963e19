"""Agent2Agent (A2A): one conventions-shaped span per side per call, and the trace context
(with baggage) carried in the request headers.

Follows the A2A semantic conventions (semantic-conventions-genai ``docs/gen-ai/a2a.md``,
Development) on ``a2a-sdk`` 1.x:

- **Client** (``BaseClient``, every transport): CLIENT span ``{a2a.method.name}``
  (``SendMessage``, ``SendStreamingMessage``, ``GetTask``, ...) with ``a2a.method.name``,
  ``a2a.message.id``, ``a2a.task.id``, ``a2a.task.state`` (``TASK_STATE_*``, the last one
  seen), ``a2a.tenant``, ``a2a.protocol.version``, ``gen_ai.conversation.id`` (the A2A
  context id), ``gen_ai.agent.name`` / ``.description`` / ``.version`` from the target's
  Agent Card, ``server.address`` / ``server.port`` of the interface URL; ``error.type`` (the
  exception's class name) and status ERROR on failure, and also when a task ends
  ``TASK_STATE_FAILED`` or ``TASK_STATE_REJECTED`` (``error.type`` = that state). The
  configured propagators inject into the call's service parameters, which the SDK sends as
  HTTP headers (keys the caller set are kept).
- **Server** (the SDK's request handlers): SERVER span ``{a2a.method.name}`` with the same
  attributes, ``gen_ai.agent.*`` from the local Agent Card; its parent is the ambient
  (HTTP server) span when there is one, else the context the request headers carry; that
  context is attached while the handler and the agent executor run, so baggage reaches them.
- **Streaming** (``SendStreamingMessage``, ``SubscribeToTask``): the span lasts until the
  stream is exhausted, closed or fails.

Layering: an ``agentotel.agent(..., remote=True)`` ``invoke_agent`` CLIENT span around the
call is the parent of the A2A CLIENT span, which is the parent of the HTTP client span.
The SDK's own tracing (class-and-method span names, no attributes) is replaced: its
decorators get a tracer that starts no span. Where the conventions are silent: no A2A
metric is recorded (the conventions define none; the remote agent's
``gen_ai.client.operation.duration`` measures the call), and a failed or rejected task is
an error of the span that saw it end. Never raises into the application.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, Span, SpanKind, Status, StatusCode

from agentotel import _runtime
from agentotel import semconv as sc
from agentotel._errors import error_type_of, safe_str, warn_failure
from agentotel.integrations._patching import Patch, apply, undo_all

_logger = logging.getLogger("agentotel")

#: task states that end a task unsuccessfully: the span is an error
_FAILED_STATES = frozenset({"TASK_STATE_FAILED", "TASK_STATE_REJECTED"})


# --------------------------------------------------------------------------- attributes
def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _has(message: Any, field: str) -> bool:
    try:
        return bool(message.HasField(field))
    except Exception:  # noqa: BLE001 - not a protobuf message, or no such field
        return False


def _state_name(status: Any) -> str | None:
    state = getattr(status, "state", None)
    if not isinstance(state, int) or isinstance(state, bool):
        return None
    try:
        from a2a.types.a2a_pb2 import TaskState

        return str(TaskState.Name(state))
    except Exception:  # noqa: BLE001
        return None


def _texts(item: Any, fields: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """Attribute key -> the text in ``item``'s field, for each (key, field) that has one."""
    found: dict[str, Any] = {}
    for key, field in fields:
        value = _text(getattr(item, field, None))
        if value is not None:
            found[key] = value
    return found


_IDS = ((sc.A2A_TASK_ID, "task_id"), (sc.GEN_AI_CONVERSATION_ID, "context_id"))
_CARD = (
    (sc.GEN_AI_AGENT_NAME, "name"),
    (sc.GEN_AI_AGENT_DESCRIPTION, "description"),
    (sc.GEN_AI_AGENT_VERSION, "version"),
)


def _message_attributes(message: Any) -> dict[str, Any]:
    return _texts(message, ((sc.A2A_MESSAGE_ID, "message_id"), *_IDS))


def request_attributes(request: Any) -> dict[str, Any]:
    """Span attributes of an A2A request (a ``SendMessageRequest``, ``GetTaskRequest``, ...)."""
    found: dict[str, Any] = {}
    if _has(request, "message"):
        found.update(_message_attributes(request.message))
    task_id = _text(getattr(request, "id", None)) or _text(getattr(request, "task_id", None))
    if task_id is not None:
        found[sc.A2A_TASK_ID] = task_id
    tenant = _text(getattr(request, "tenant", None))
    if tenant is not None:
        found[sc.A2A_TENANT] = tenant
    return found


def response_attributes(response: Any) -> dict[str, Any]:
    """Span attributes of an A2A response or stream event (a ``Task``, ``Message``,
    ``SendMessageResponse``, ``StreamResponse``, status or artifact update)."""
    for field in ("task", "message", "status_update", "artifact_update"):
        if _has(response, field):
            return response_attributes(getattr(response, field))
    found: dict[str, Any] = {}
    if hasattr(response, "status") and hasattr(response, "id"):  # a Task
        task_id = _text(response.id)
        if task_id is not None:
            found[sc.A2A_TASK_ID] = task_id
        context_id = _text(getattr(response, "context_id", None))
        if context_id is not None:
            found[sc.GEN_AI_CONVERSATION_ID] = context_id
    elif hasattr(response, "message_id"):  # a Message
        found.update(_message_attributes(response))
        found.pop(sc.A2A_MESSAGE_ID, None)  # the request's message id is the one recorded
    else:  # an update event
        found.update(_texts(response, _IDS))
    state = _state_name(getattr(response, "status", None))
    if state is not None:
        found[sc.A2A_TASK_STATE] = state
    return found


def card_attributes(card: Any) -> dict[str, Any]:
    """``gen_ai.agent.*`` from an Agent Card."""
    return _texts(card, _CARD)


def _server_attributes(url: Any) -> dict[str, Any]:
    if not isinstance(url, str) or not url:
        return {}
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return {}
    found: dict[str, Any] = {}
    if parts.hostname:
        found[sc.SERVER_ADDRESS] = parts.hostname
        if port is not None:
            found[sc.SERVER_PORT] = port
    return found


# --------------------------------------------------------------------------- one call
class Call:
    """One A2A call on one side: its span, the context it runs in. Never raises."""

    __slots__ = ("span", "context", "done")

    def __init__(self, method: str, kind: SpanKind, attributes: dict[str, Any],
                 parent: Context | None) -> None:
        runtime = _runtime.current()
        self.span: Span = runtime.tracer.start_span(
            method,
            parent,
            kind,
            {sc.A2A_METHOD_NAME: method, **attributes},
            record_exception=False,
            set_status_on_exception=False,
        )
        self.context = trace.set_span_in_context(self.span, parent)
        self.done = False

    def saw(self, response: Any) -> None:
        try:
            found = response_attributes(response)
            if found:
                self.span.set_attributes(found)
            state = found.get(sc.A2A_TASK_STATE)
            if state in _FAILED_STATES:
                self.span.set_attribute(sc.ERROR_TYPE, state)
                self.span.set_status(Status(StatusCode.ERROR, state))
        except Exception:  # noqa: BLE001
            warn_failure("read an A2A response")

    def end(self, exc: BaseException | None = None) -> None:
        if self.done:
            return
        self.done = True
        try:
            if isinstance(exc, Exception):
                self.span.set_attribute(sc.ERROR_TYPE, error_type_of(exc))
                self.span.set_status(Status(StatusCode.ERROR, safe_str(exc)))
                self.span.record_exception(exc)
        except Exception:  # noqa: BLE001
            warn_failure("record an A2A failure")
        finally:
            self.span.end()

    @contextmanager
    def current(self) -> Iterator[None]:
        token = otel_context.attach(self.context)
        try:
            yield
        finally:
            otel_context.detach(token)


async def _stream(call: Call, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """``stream`` with ``call`` current while each item is produced; the span ends with
    the stream (exhausted, closed or failed)."""
    error: BaseException | None = None
    try:
        while True:
            with call.current():
                try:
                    item = await stream.__anext__()
                except StopAsyncIteration:
                    return
            call.saw(item)
            yield item
    except BaseException as exc:
        error = exc
        raise
    finally:
        try:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:  # also when the consumer stopped early
                await aclose()
        finally:
            call.end(error)


# --------------------------------------------------------------------------- client side
def _client_parts(
    input_data: Any = None, method: str = "", context: Any = None, transport_call: Any = None,
    **rest: Any,
) -> tuple[Any, str, Any, Any, dict[str, Any]]:
    return input_data, method, context, transport_call, rest


def _client_call(client: Any, method: str, request: Any) -> Call | None:
    try:
        card = getattr(client, "_card", None)
        transport = getattr(client, "_transport", None)
        url = getattr(transport, "url", None)
        interfaces = list(getattr(card, "supported_interfaces", None) or ())
        if not isinstance(url, str) and interfaces:
            url = getattr(interfaces[0], "url", None)
        attributes = {
            **card_attributes(card),
            **_server_attributes(url),
            **request_attributes(request),
        }
        version = next(
            (_text(getattr(i, "protocol_version", None)) for i in interfaces
             if getattr(i, "url", None) == url),
            None,
        )
        if version is not None:
            attributes[sc.A2A_PROTOCOL_VERSION] = version
        name = sc.A2A_CLIENT_METHODS.get(method, method)
        return Call(name, SpanKind.CLIENT, attributes, None)
    except Exception:  # noqa: BLE001
        warn_failure("start an A2A client span")
        return None


def _with_context(call: Call, context: Any) -> Any:
    """A copy of the call's ``ClientCallContext`` whose service parameters (HTTP headers)
    carry the span's context, keeping the caller's entries."""
    try:
        from a2a.client.client import ClientCallContext

        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=call.context)
        if context is None:
            return ClientCallContext(service_parameters=carrier)
        parameters = dict(getattr(context, "service_parameters", None) or {})
        for key, value in carrier.items():
            parameters.setdefault(key, value)
        return context.model_copy(update={"service_parameters": parameters})
    except Exception:  # noqa: BLE001
        warn_failure("carry the trace context in an A2A call")
        return context


async def _v1_execute(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    request, method, context, transport_call, rest = _client_parts(*args, **kwargs)
    call = _client_call(instance, method, request)
    if call is None:
        return await wrapped(*args, **kwargs)
    try:
        with call.current():
            result = await wrapped(
                input_data=request, method=method, context=_with_context(call, context),
                transport_call=transport_call, **rest,
            )
    except BaseException as exc:
        call.end(exc)
        raise
    call.saw(result)
    call.end()
    return result


def _v1_execute_stream(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    request, method, context, transport_call, rest = _client_parts(*args, **kwargs)
    call = _client_call(instance, method, request)
    if call is None:
        return wrapped(*args, **kwargs)
    stream = wrapped(
        input_data=request, method=method, context=_with_context(call, context),
        transport_call=transport_call, **rest,
    )
    return _stream(call, stream)


# --------------------------------------------------------------------------- server side
def _server_parts(params: Any = None, context: Any = None, *rest: Any, **more: Any) -> tuple[
    Any, Any
]:
    return params, context


def _server_call(handler: Any, method: str, request: Any, context: Any) -> Call | None:
    try:
        ambient = trace.get_current_span().get_span_context()
        parent: Context | None = None
        if not ambient.is_valid:
            state = getattr(context, "state", None)
            headers = state.get("headers") if isinstance(state, Mapping) else None
            if isinstance(headers, Mapping):
                parent = propagate.extract(
                    {k: v for k, v in headers.items() if isinstance(v, str)}
                )
        card = getattr(handler, "agent_card", None) or getattr(handler, "_agent_card", None)
        attributes = {**card_attributes(card), **request_attributes(request)}
        return Call(sc.A2A_SERVER_METHODS.get(method, method), SpanKind.SERVER, attributes,
                    parent)
    except Exception:  # noqa: BLE001
        warn_failure("start an A2A server span")
        return None


def _server_wrapper(method: str) -> Any:
    streaming = sc.A2A_SERVER_METHODS.get(method) in sc.A2A_STREAMING_METHODS

    if streaming:

        def stream_wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            request, context = _server_parts(*args, **kwargs)
            call = _server_call(instance, method, request, context)
            if call is None:
                return wrapped(*args, **kwargs)
            with call.current():  # the handler's setup (and its tasks) run in the context
                stream = wrapped(*args, **kwargs)
            return _stream(call, stream)

        return stream_wrapper

    async def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        request, context = _server_parts(*args, **kwargs)
        call = _server_call(instance, method, request, context)
        if call is None:
            return await wrapped(*args, **kwargs)
        try:
            with call.current():
                result = await wrapped(*args, **kwargs)
        except BaseException as exc:
            call.end(exc)
            raise
        call.saw(result)
        call.end()
        return result

    return wrapper


# --------------------------------------------------------------------------- the SDK's own spans
class _NoSpanTracer:
    """What the SDK's decorators get instead of a tracer: no span; the current span's
    context stays current (so nothing is re-parented) and is not touched."""

    @contextmanager
    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Iterator[Span]:
        yield NonRecordingSpan(trace.get_current_span().get_span_context())


class _TraceModule:
    """``opentelemetry.trace`` for ``a2a.utils.telemetry``, with a tracer that starts no span."""

    _tracer = _NoSpanTracer()

    def get_tracer(self, *args: Any, **kwargs: Any) -> _NoSpanTracer:
        return self._tracer

    def __getattr__(self, name: str) -> Any:
        return getattr(trace, name)


# --------------------------------------------------------------------------- the instrumentor
_HANDLERS = (
    ("a2a.server.request_handlers.default_request_handler_v2", "DefaultRequestHandlerV2"),
    ("a2a.server.request_handlers.default_request_handler", "LegacyRequestHandler"),
)


class A2AInstrumentor:
    """Enables the above on ``a2a-sdk`` 1.x; another major version gets one warning and is
    left as it is. The interface of an OpenTelemetry ``BaseInstrumentor``."""

    is_instrumented_by_opentelemetry = False

    def __init__(self) -> None:
        self._undo: list[Any] = []

    def instrument(self, **_: Any) -> None:
        if type(self).is_instrumented_by_opentelemetry:
            return
        from importlib import metadata

        try:
            version = metadata.version("a2a-sdk")
        except metadata.PackageNotFoundError:
            version = "(unknown)"
        if version.partition(".")[0] != "1":
            _logger.warning(
                "agentotel: a2a-sdk %s is not a version agentotel knows (1.x); "
                "not instrumented", version,
            )
            return
        targets: list[Patch] = [
            ("a2a.client.base_client", "BaseClient._execute_with_interceptors", _v1_execute),
            ("a2a.client.base_client", "BaseClient._execute_stream_with_interceptors",
             _v1_execute_stream),
        ]
        for module, cls in _HANDLERS:
            for method in sc.A2A_SERVER_METHODS:
                targets.append((module, f"{cls}.{method}", _server_wrapper(method)))
        self._undo = apply(targets)
        try:
            telemetry: Any = importlib.import_module("a2a.utils.telemetry")
            previous = telemetry.trace
            telemetry.trace = _TraceModule()
            self._undo.append(lambda: setattr(telemetry, "trace", previous))
        except Exception:  # noqa: BLE001
            _logger.debug("agentotel: a2a-sdk's own spans left on", exc_info=True)
        type(self).is_instrumented_by_opentelemetry = True

    def uninstrument(self) -> None:
        undo_all(self._undo, "a2a")
        type(self).is_instrumented_by_opentelemetry = False

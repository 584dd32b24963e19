"""Model Context Protocol: one conventions-shaped span per side per call, the four MCP
metrics, and the trace context (with baggage) carried in ``params._meta``.

Follows the MCP semantic conventions (semantic-conventions-genai ``docs/gen-ai/mcp.md``,
Development):

- **Spans** ``{mcp.method.name} {target}`` (target: the tool or prompt name), CLIENT on the
  sender of a request or notification, SERVER on the receiver, with ``mcp.method.name``,
  ``jsonrpc.request.id`` (requests), ``mcp.protocol.version``, ``mcp.session.id`` (Streamable
  HTTP with a session), ``network.transport`` (``pipe`` for stdio, ``tcp`` for HTTP),
  ``network.protocol.name`` (``http``), ``server.address`` / ``server.port`` (client, HTTP),
  ``client.address`` / ``client.port`` (server, HTTP), ``gen_ai.tool.name`` and
  ``gen_ai.operation.name`` = ``execute_tool`` on ``tools/call``, ``gen_ai.prompt.name`` on
  ``prompts/get``, ``mcp.resource.uri`` on the resource methods. A JSON-RPC error sets
  ``error.type`` and ``rpc.response.status_code`` to its code, a ``tools/call`` result with
  ``isError: true`` sets ``error.type`` = ``tool_error``, another exception its class name;
  status ERROR on both sides. ``gen_ai.tool.call.arguments`` / ``.result`` only with content
  capture on spans (bounded JSON; the redacting exporter redacts them like all content).
- **One tool span.** A ``tools/call`` sent while the current span is already the
  ``execute_tool`` span of that tool (``agentotel.tool()``, or another GenAI layer's) adds
  the MCP attributes to that span instead of opening a second one, as the conventions ask.
- **Metrics** (histograms, s, the spec's buckets :data:`~agentotel.semconv.BUCKETS_MCP_DURATION`):
  ``mcp.client.operation.duration`` / ``mcp.server.operation.duration`` per request or
  notification, ``mcp.client.session.duration`` / ``mcp.server.session.duration`` per
  session; low-cardinality attributes only (method, tool or prompt name, operation,
  protocol version, transport, server address and port, ``error.type``).
- **Propagation.** The configured propagators inject into ``params._meta`` of every request
  and notification (keys the caller set are kept), and into the HTTP headers of a
  Streamable HTTP request. The server extracts, parents its span to that context, links the
  ambient (HTTP server) span when there is one, and attaches the context while the handler
  runs, so baggage reaches the handler; a ``gen_ai.conversation.id`` baggage entry becomes
  the server span's conversation id and that of the agentotel operations in the handler. A
  ``traceparent`` that does not parse is ignored with one throttled warning.

SDKs (``mcp`` on PyPI): 2.x traces itself (tracer ``mcp-python-sdk``); its client span and
server middleware are replaced by these (not doubled): the dispatcher's span helper yields
the span made here, its injection keeps the caller's keys, and its middleware calls
:func:`_serve`. 1.x has no tracing: the same spans come from wrapping ``BaseSession``'s
``send_request`` / ``send_notification`` and the low-level server's request and
notification handlers. FastMCP (``fastmcp`` 4.x, on top of the SDK) is set to
``telemetry_mode="off"`` (its documented switch for another layer owning the MCP spans) so a
call has exactly one CLIENT and one SERVER span. Another SDK major version gets one warning
and is left as it is (its own tracing and propagation, if any). Nothing here raises into the
application: a failure in the telemetry is logged (throttled) and the call goes on.
"""

from __future__ import annotations

import contextvars
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from timeit import default_timer
from typing import Any
from urllib.parse import urlsplit

import wrapt
from opentelemetry import baggage, propagate, trace
from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from agentotel import _runtime, content
from agentotel import semconv as sc
from agentotel._errors import error_type_of, safe_str, warn, warn_failure
from agentotel.integrations._patching import Patch, apply, undo_all
from agentotel.operations._operation import with_conversation

#: the JSON-RPC code of invalid params (a server-side pydantic ValidationError)
_INVALID_PARAMS = "-32602"

#: keys the W3C propagators write; a malformed ``traceparent`` is reported once
_TRACEPARENT = "traceparent"


# --------------------------------------------------------------------------- the peer
@dataclass
class Peer:
    """What a client session knows of its transport: ``network.transport`` and, for
    Streamable HTTP, the server's address and port and the transport (for its session id)."""

    transport: str
    address: str | None = None
    port: int | None = None
    http: Any = None  # the SDK's StreamableHTTPTransport: its session_id is read per call

    @classmethod
    def for_url(cls, url: object, http: Any = None) -> Peer:
        peer = cls(sc.NETWORK_TRANSPORT_TCP, http=http)
        try:
            parts = urlsplit(str(url))
            peer.address = parts.hostname
            peer.port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        except ValueError:
            pass
        return peer

    def session_id(self) -> str | None:
        value = getattr(self.http, "session_id", None)
        return value if isinstance(value, str) and value else None


#: the transport being opened in this context (set by the transport's own code, which runs
#: in the caller's context: a client session built next reads it)
_OPENING: contextvars.ContextVar[Peer | None] = contextvars.ContextVar(
    "agentotel_mcp_transport", default=None
)
#: a stdio server is being served in this context
_SERVING_STDIO: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "agentotel_mcp_stdio_server", default=False
)


# --------------------------------------------------------------------------- one exchange
def _target(method: str, params: Mapping[str, Any] | None) -> str | None:
    if params is None or method not in (sc.MCP_METHOD_TOOLS_CALL, sc.MCP_METHOD_PROMPTS_GET):
        return None
    name = params.get("name")
    return name if isinstance(name, str) else None


def _meta_of(params: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    meta = params.get("_meta") if isinstance(params, Mapping) else None
    return meta if isinstance(meta, Mapping) else None


def _attributes(
    method: str, params: Mapping[str, Any] | None, protocol_version: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(span attributes, metric attributes) of one message, from its method and params."""
    metric: dict[str, Any] = {sc.MCP_METHOD_NAME: method}
    span: dict[str, Any] = {}
    target = _target(method, params)
    if method == sc.MCP_METHOD_TOOLS_CALL:
        metric[sc.GEN_AI_OPERATION_NAME] = sc.OP_EXECUTE_TOOL
        if target is not None:
            metric[sc.GEN_AI_TOOL_NAME] = target
    elif method == sc.MCP_METHOD_PROMPTS_GET and target is not None:
        metric[sc.GEN_AI_PROMPT_NAME] = target
    if method in sc.MCP_RESOURCE_METHODS and params is not None:
        uri = params.get("uri")
        if uri is not None:
            span[sc.MCP_RESOURCE_URI] = safe_str(uri)
    meta = _meta_of(params)
    version = meta.get(sc.MCP_META_PROTOCOL_VERSION) if meta is not None else None
    if not isinstance(version, str) and method == "initialize" and params is not None:
        version = params.get("protocolVersion")  # the version the client asks for
    version = version if isinstance(version, str) else protocol_version
    if version:
        metric[sc.MCP_PROTOCOL_VERSION] = version
    return span, metric


def _span_name(method: str, params: Mapping[str, Any] | None) -> str:
    target = _target(method, params)
    return method if target is None else f"{method} {target}"


def _is_tool_span_for(span: Span, tool: str | None) -> bool:
    """Whether ``span`` is an outer layer's live ``execute_tool`` span of ``tool``."""
    attributes = getattr(span, "attributes", None)
    if not span.is_recording() or not isinstance(attributes, Mapping):
        return False
    if attributes.get(sc.GEN_AI_OPERATION_NAME) != sc.OP_EXECUTE_TOOL:
        return False
    name = attributes.get(sc.GEN_AI_TOOL_NAME)
    return name is None or name == tool


class Exchange:
    """One MCP request or notification on one side: its span (or the outer tool span it
    enriches), its start time and its metric attributes. Never raises."""

    __slots__ = ("span", "own", "metric", "method", "start", "token", "error", "runtime")

    def __init__(
        self,
        method: str,
        params: Mapping[str, Any] | None,
        kind: SpanKind,
        *,
        request_id: object = None,
        protocol_version: str | None = None,
        network: Mapping[str, Any] | None = None,
        parent: Context | None = None,
        links: list[Link] | None = None,
    ) -> None:
        self.method = method
        self.runtime = _runtime.current()
        self.token: object | None = None
        self.error: str | None = None
        self.own = True
        span_attributes, self.metric = _attributes(method, params, protocol_version)
        span_attributes.update(self.metric)
        network = dict(network or {})
        span_attributes.update(network)
        for key in (sc.NETWORK_TRANSPORT, sc.NETWORK_PROTOCOL_NAME, sc.SERVER_ADDRESS,
                    sc.SERVER_PORT):
            if key in network:
                self.metric[key] = network[key]
        if request_id is not None:
            span_attributes[sc.JSONRPC_REQUEST_ID] = safe_str(request_id)
        current = trace.get_current_span(parent)
        if (
            kind is SpanKind.CLIENT
            and method == sc.MCP_METHOD_TOOLS_CALL
            and _is_tool_span_for(current, self.metric.get(sc.GEN_AI_TOOL_NAME))
        ):
            self.own = False  # the outer layer's tool span gets the MCP attributes
            self.span = current
            current.set_attributes(span_attributes)
        else:
            self.span = self.runtime.tracer.start_span(
                _span_name(method, params),
                parent,
                kind,
                span_attributes,
                links,
                record_exception=False,
                set_status_on_exception=False,
            )
        self.start = default_timer()

    def attach(self) -> None:
        """Make the span current (detached again by :meth:`end`)."""
        self.token = otel_context.attach(trace.set_span_in_context(self.span))

    def capture(self, key: str, value: Any) -> None:
        runtime = self.runtime
        if value is not None and runtime.capture in content.ON_SPAN:
            self.span.set_attribute(key, content.to_json(value, runtime.content_max_length))

    def fail(self, error_type: str, description: str | None = None, code: bool = False) -> None:
        self.error = error_type
        self.span.set_attribute(sc.ERROR_TYPE, error_type)
        if code:
            self.span.set_attribute(sc.RPC_RESPONSE_STATUS_CODE, error_type)
            self.metric[sc.RPC_RESPONSE_STATUS_CODE] = error_type
        self.span.set_status(Status(StatusCode.ERROR, description))

    def failed(self, exc: BaseException) -> None:
        """Record an exception raised by the call: a JSON-RPC error by its code, anything
        else by its class name (with the exception event)."""
        code = _error_code(exc)
        if code is not None:
            self.fail(code, _error_message(exc), code=True)
            return
        self.fail(error_type_of(exc), safe_str(exc))
        self.span.record_exception(exc)

    def result(self, result: Any) -> None:
        """Look at a result: an error answer (mcp 1.x hands the server its ``ErrorData``),
        ``isError`` of a ``tools/call``; the result as content."""
        result = getattr(result, "root", result)  # mcp 1.x: ServerResult(CallToolResult)
        code = getattr(result, "code", None)
        if isinstance(code, int) and not isinstance(code, bool) and hasattr(result, "message"):
            self.fail(str(code), safe_str(result.message), code=True)
            return
        if self.method != sc.MCP_METHOD_TOOLS_CALL:
            return
        if _field(result, "isError", "is_error") is True:
            self.fail(sc.MCP_ERROR_TOOL)
        elif self.runtime.capture in content.ON_SPAN:
            structured = _field(result, "structuredContent", "structured_content")
            if structured is None:
                structured = _field(result, "content", "content")
                structured = [_plain(part) for part in structured] if isinstance(
                    structured, list) else structured
            self.capture(sc.GEN_AI_TOOL_CALL_RESULT, structured)

    def end(self, duration_metric: Any) -> None:
        try:
            token, self.token = self.token, None
            if token is not None:
                otel_context.detach(token)  # type: ignore[arg-type]
            if self.error is not None:
                self.metric[sc.ERROR_TYPE] = self.error
            duration_metric.record(default_timer() - self.start, self.metric)
        except Exception:  # noqa: BLE001
            warn_failure("record an MCP call")
        finally:
            if self.own:
                self.span.end()


def _field(value: Any, wire: str, python: str) -> Any:
    """A result's field: the wire (camelCase) key of a dict, the model's attribute (snake
    case in mcp 2.x, camelCase in 1.x)."""
    if isinstance(value, Mapping):
        return value.get(wire)
    found = getattr(value, python, None)
    return getattr(value, wire, None) if found is None else found


def _plain(part: Any) -> Any:
    dump = getattr(part, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json", by_alias=True, exclude_none=True)
        except Exception:  # noqa: BLE001
            return safe_str(part)
    return part


def _error_code(exc: BaseException) -> str | None:
    """The JSON-RPC code of an SDK error (``MCPError.error.code`` in 2.x, ``McpError`` in
    1.x), or ``None``."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    if isinstance(code, int) and not isinstance(code, bool):
        return str(code)
    if type(exc).__name__ == "ValidationError":  # pydantic: the SDK answers invalid params
        return _INVALID_PARAMS
    return None


def _error_message(exc: BaseException) -> str:
    message = getattr(getattr(exc, "error", None), "message", None)
    return message if isinstance(message, str) else safe_str(exc)


# --------------------------------------------------------------------------- propagation
def inject_meta(meta: dict[str, Any]) -> None:
    """The configured propagators' fields into ``meta``, keeping keys already there."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    for key, value in carrier.items():
        meta.setdefault(key, value)


def with_meta(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of ``params`` whose ``_meta`` carries the current context."""
    out = dict(params) if params is not None else {}
    meta = _meta_of(out)
    meta = dict(meta) if meta is not None else {}
    inject_meta(meta)
    if meta:
        out["_meta"] = meta
    return out


def extracted(meta: Mapping[str, Any] | None) -> Context | None:
    """The context a request's ``_meta`` carries (span context and baggage), or ``None``
    when it carries none; a ``traceparent`` that does not parse gives one warning."""
    if not meta:
        return None
    carrier = {k: v for k, v in meta.items() if isinstance(k, str) and isinstance(v, str)}
    if not carrier:
        return None
    ctx = propagate.extract(carrier)
    if _TRACEPARENT in meta and not trace.get_current_span(ctx).get_span_context().is_valid:
        warn(
            f"MCP params._meta.traceparent={safe_str(meta.get(_TRACEPARENT))[:80]!r} is not "
            "a valid W3C traceparent; ignored (the server span starts from the current context)"
        )
        return ctx if baggage.get_all(ctx) else None
    return ctx


def _server_context(meta: Mapping[str, Any] | None) -> tuple[Context | None, list[Link]]:
    """Parent and links of a server span: the context from ``_meta``, linked to the ambient
    (HTTP server) span; without one, the ambient context."""
    remote = extracted(meta)
    if remote is None:
        return None, []
    ambient = trace.get_current_span().get_span_context()
    if not trace.get_current_span(remote).get_span_context().is_valid:
        # baggage only: keep the ambient parent, add the baggage
        base = otel_context.get_current()
        for key, value in baggage.get_all(remote).items():
            base = baggage.set_baggage(key, value, base)
        return base, []
    return remote, [Link(ambient)] if ambient.is_valid else []


def _with_conversation(ctx: Context, exchange: Exchange) -> Context:
    conversation = baggage.get_baggage(sc.GEN_AI_CONVERSATION_ID, ctx)
    if isinstance(conversation, str) and conversation:
        exchange.span.set_attribute(sc.GEN_AI_CONVERSATION_ID, conversation)
        return with_conversation(ctx, conversation)
    return ctx


# --------------------------------------------------------------------------- server side
async def serve(
    method: str,
    params: Mapping[str, Any] | None,
    request_id: object,
    protocol_version: str | None,
    network: Mapping[str, Any],
    call: Any,
) -> Any:
    """Run ``call()`` (the handler) inside the SERVER span of one request or notification."""
    try:
        parent, links = _server_context(_meta_of(params))
        exchange = Exchange(
            method,
            params,
            SpanKind.SERVER,
            request_id=request_id,
            protocol_version=protocol_version,
            network=network,
            parent=parent,
            links=links,
        )
        ctx = _with_conversation(trace.set_span_in_context(exchange.span, parent), exchange)
        exchange.token = otel_context.attach(ctx)
        if method == sc.MCP_METHOD_TOOLS_CALL and params is not None:
            exchange.capture(sc.GEN_AI_TOOL_CALL_ARGUMENTS, params.get("arguments"))
    except Exception:  # noqa: BLE001
        warn_failure("start an MCP server span")
        return await call()
    instruments = exchange.runtime.instruments
    try:
        result = await call()
    except BaseException as exc:
        _safely(exchange.failed, exc)
        exchange.end(instruments.mcp_server_operation_duration)
        raise
    _safely(exchange.result, result)
    exchange.end(instruments.mcp_server_operation_duration)
    return result


def _safely(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except Exception:  # noqa: BLE001
        warn_failure("record an MCP result")


# --------------------------------------------------------------------------- client side
@contextmanager
def client_exchange(
    method: str,
    params: Mapping[str, Any] | None,
    peer: Peer | None,
    protocol_version: str | None,
    request_id: object = None,
) -> Iterator[Exchange | None]:
    """The CLIENT span of one request or notification, current inside; ``None`` if it
    could not be started (the call goes on). The caller reports the result."""
    exchange: Exchange | None = None
    try:
        network = peer_attributes(peer)
        session_id = peer.session_id() if peer is not None else None
        if session_id is not None:
            network[sc.MCP_SESSION_ID] = session_id
        exchange = Exchange(
            method, params, SpanKind.CLIENT, request_id=request_id,
            protocol_version=protocol_version, network=network,
        )
        if method == sc.MCP_METHOD_TOOLS_CALL and params is not None:
            exchange.capture(sc.GEN_AI_TOOL_CALL_ARGUMENTS, params.get("arguments"))
        exchange.attach()
    except Exception:  # noqa: BLE001
        warn_failure("start an MCP client span")
        if exchange is not None:  # started, then failed: ended, the call goes on without it
            exchange.end(exchange.runtime.instruments.mcp_client_operation_duration)
        exchange = None
    if exchange is None:
        yield None
        return
    try:
        yield exchange
    except BaseException as exc:
        _safely(exchange.failed, exc)
        raise
    finally:
        exchange.end(exchange.runtime.instruments.mcp_client_operation_duration)


class SessionClock:
    """``mcp.{client,server}.session.duration`` of one session: started when created,
    recorded once by :meth:`done`."""

    __slots__ = ("start", "attributes", "client")

    def __init__(self, client: bool, attributes: dict[str, Any]) -> None:
        self.start = default_timer()
        self.client = client
        self.attributes = attributes

    def done(self, protocol_version: str | None = None, error: BaseException | None = None) -> None:
        try:
            attributes = dict(self.attributes)
            if protocol_version:
                attributes[sc.MCP_PROTOCOL_VERSION] = protocol_version
            if error is not None and isinstance(error, Exception):
                attributes[sc.ERROR_TYPE] = _error_code(error) or error_type_of(error)
            instruments = _runtime.current().instruments
            histogram = (
                instruments.mcp_client_session_duration
                if self.client
                else instruments.mcp_server_session_duration
            )
            histogram.record(default_timer() - self.start, attributes)
        except Exception:  # noqa: BLE001
            warn_failure("record an MCP session duration")


def peer_attributes(peer: Peer | None) -> dict[str, Any]:
    """The transport attributes of a client session (its spans' and metrics')."""
    if peer is None:
        return {}
    attributes: dict[str, Any] = {sc.NETWORK_TRANSPORT: peer.transport}
    if peer.transport == sc.NETWORK_TRANSPORT_TCP:
        attributes[sc.NETWORK_PROTOCOL_NAME] = sc.NETWORK_PROTOCOL_HTTP
        if peer.address:
            attributes[sc.SERVER_ADDRESS] = peer.address
        if peer.port is not None:
            attributes[sc.SERVER_PORT] = peer.port
    return attributes


# --------------------------------------------------------------------------- the instrumentor
class MCPInstrumentor:
    """Enables the above on the installed ``mcp`` SDK (and FastMCP, when installed).

    The interface of an OpenTelemetry ``BaseInstrumentor`` (``instrument``,
    ``uninstrument``, ``is_instrumented_by_opentelemetry``), so the catalog treats it like
    the others. The spans and metrics go to agentotel's runtime (its providers).
    """

    is_instrumented_by_opentelemetry = False

    def __init__(self) -> None:
        self._undo: list[Any] = []

    def instrument(self, **_: Any) -> None:
        if type(self).is_instrumented_by_opentelemetry:
            return
        version = _version("mcp")
        major = version.partition(".")[0]
        patches = {"2": _v2_patches, "1": _v1_patches}.get(major)
        if patches is None:
            warn(
                f"mcp {version} is not a version agentotel knows (1.x, 2.x); its own "
                "tracing and propagation, if any, are left as they are"
            )
            return
        self._undo = apply(patches())
        _fastmcp_off(self._undo)
        type(self).is_instrumented_by_opentelemetry = True

    def uninstrument(self) -> None:
        undo_all(self._undo, "mcp")
        type(self).is_instrumented_by_opentelemetry = False


def _fastmcp_off(undo: list[Any]) -> None:
    """FastMCP's own spans off (``telemetry_mode="off"``), and the SDK's server middleware
    (which FastMCP's low-level server drops for its own spans) back at the head of the chain:
    agentotel's MCP spans are the call's spans and carry the context. Done when FastMCP is
    (or gets) imported."""

    def switch(module: Any) -> None:
        try:
            settings = module.settings
            previous = settings.telemetry_mode
            if previous == "native":
                settings.telemetry_mode = "off"
                undo.append(lambda: setattr(settings, "telemetry_mode", previous))
            undo.extend(
                apply([("fastmcp.server.low_level", "LowLevelServer.__init__", _fastmcp_server)])
            )
        except Exception:  # noqa: BLE001
            warn_failure("switch FastMCP's own spans off")

    wrapt.register_post_import_hook(switch, "fastmcp")


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "(unknown)"


# --------------------------------------------------------------------------- mcp 2.x
#: client sessions by their dispatcher: (session, transport)
_SESSIONS: weakref.WeakKeyDictionary[Any, tuple[Any, Peer | None]] = weakref.WeakKeyDictionary()
_CLOCKS: weakref.WeakKeyDictionary[Any, SessionClock] = weakref.WeakKeyDictionary()


def _v2_patches() -> list[Patch]:
    return [
        ("mcp.client.stdio", "_create_platform_compatible_process", _opening_stdio),
        ("mcp.client.streamable_http", "StreamableHTTPTransport.__init__", _opening_http),
        ("mcp.client.session", "ClientSession.__init__", _v2_session_init),
        ("mcp.client.session", "ClientSession.__aenter__", _session_enter),
        ("mcp.client.session", "ClientSession.__aexit__", _session_exit(_protocol_version)),
        ("mcp.shared.jsonrpc_dispatcher", "JSONRPCDispatcher.send_raw_request", _v2_request),
        ("mcp.shared.jsonrpc_dispatcher", "JSONRPCDispatcher.notify", _v2_notify),
        # in-process (the stateless revision's direct peer pair): the same spans
        ("mcp.shared.direct_dispatcher", "DirectDispatcher.send_raw_request", _v2_request),
        ("mcp.shared.direct_dispatcher", "DirectDispatcher.notify", _v2_notify),
        ("mcp.shared.jsonrpc_dispatcher", "otel_span", _v2_sdk_span),
        ("mcp.shared.jsonrpc_dispatcher", "inject_trace_context", _v2_inject),
        ("mcp.server._otel", "OpenTelemetryMiddleware.__call__", _v2_middleware),
        ("mcp.server.stdio", "_claim_fd", _serving_stdio),
        ("mcp.server.connection", "Connection.for_loop", _v2_connection),
    ]


def _opening_stdio(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    _OPENING.set(Peer(sc.NETWORK_TRANSPORT_PIPE))  # in the caller's context: the session
    return wrapped(*args, **kwargs)  # built on these streams reads it


def _opening_http(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    wrapped(*args, **kwargs)
    try:
        _OPENING.set(Peer.for_url(getattr(instance, "url", None), http=instance))
    except Exception:  # noqa: BLE001
        warn_failure("note an MCP transport")


def _v2_session_init(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    wrapped(*args, **kwargs)
    try:
        _SESSIONS[instance._dispatcher] = (instance, _OPENING.get())
    except Exception:  # noqa: BLE001
        warn_failure("note an MCP client session")


async def _session_enter(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    result = await wrapped(*args, **kwargs)
    try:
        side = _SESSIONS.get(getattr(instance, "_dispatcher", None) or instance)
        _CLOCKS[instance] = SessionClock(True, peer_attributes(side[1] if side else None))
    except Exception:  # noqa: BLE001
        warn_failure("start an MCP session clock")
    return result


def _session_exit(version_of: Any) -> Any:
    """The ``__aexit__`` wrapper that records a session's duration (with its protocol
    version, read by ``version_of(session)``, and the exception that ended it)."""

    async def session_exit(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        try:
            return await wrapped(*args, **kwargs)
        finally:
            clock = _CLOCKS.pop(instance, None)
            if clock is not None:
                error = args[1] if len(args) > 1 else kwargs.get("exc_val")
                clock.done(version_of(instance), error)

    return session_exit


def _protocol_version(session: Any) -> str | None:
    try:
        version = session.protocol_version
    except Exception:  # noqa: BLE001
        return None
    return version if isinstance(version, str) else None


def _call_args(
    method: str, params: Mapping[str, Any] | None = None, opts: Any = None, **rest: Any
) -> tuple[str, Mapping[str, Any] | None, Any, dict[str, Any]]:
    return method, params, opts, rest


def _with_headers(opts: Any) -> dict[str, Any]:
    """``opts`` whose ``headers`` carry the current context (Streamable HTTP), keeping the
    caller's."""
    out = dict(opts or {})
    headers = dict(out.get("headers") or {})
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    for key, value in carrier.items():
        headers.setdefault(key, value)
    out["headers"] = headers
    return out


async def _v2_request(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    method, params, opts, rest = _call_args(*args, **kwargs)
    session, peer = _SESSIONS.get(instance, (None, None))
    with client_exchange(method, params, peer, _protocol_version(session)) as exchange:
        if exchange is not None and peer is not None and peer.transport == sc.NETWORK_TRANSPORT_TCP:
            opts = _safe_call(_with_headers, opts, default=opts)
        result = await wrapped(method, params, opts, **rest)
        if exchange is not None:
            _safely(exchange.result, result)
        return result


async def _v2_notify(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    method, params, opts, rest = _call_args(*args, **kwargs)
    session, peer = _SESSIONS.get(instance, (None, None))
    with client_exchange(method, params, peer, _protocol_version(session)) as exchange:
        if exchange is not None:
            params = _safe_call(with_meta, params, default=params)
        return await wrapped(method, params, opts, **rest)


def _safe_call(fn: Any, value: Any, *, default: Any) -> Any:
    try:
        return fn(value)
    except Exception:  # noqa: BLE001
        warn_failure("carry the trace context in an MCP message")
        return default


@contextmanager
def _current_span(attributes: Mapping[str, Any] | None) -> Iterator[Span]:
    """The SDK's span helper, replaced: no span of its own; the request id goes on the
    span made here (current while the SDK sends)."""
    span = trace.get_current_span()
    try:
        own = getattr(span, "attributes", None)
        if attributes and isinstance(own, Mapping) and own.get(sc.MCP_METHOD_NAME) == (
            attributes.get(sc.MCP_METHOD_NAME)
        ):
            span.set_attributes(dict(attributes))
    except Exception:  # noqa: BLE001
        warn_failure("note an MCP request id")
    yield span


def _v2_sdk_span(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    return _current_span(kwargs.get("attributes"))


def _v2_inject(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> None:
    meta = args[0] if args else kwargs.get("meta")
    if isinstance(meta, dict):
        _safe_call(inject_meta, meta, default=None)


def _v2_middleware(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    ctx, call_next = args[0], args[1]
    return serve(
        ctx.method,
        ctx.params,
        ctx.request_id,
        getattr(ctx, "protocol_version", None),
        _server_network(getattr(ctx, "request", None)),
        lambda: call_next(ctx),
    )


def _server_network(request: Any) -> dict[str, Any]:
    """Transport attributes of a request as the server sees it: the HTTP request's client
    and session header (Streamable HTTP), else ``pipe`` when serving stdio."""
    network: dict[str, Any] = {}
    try:
        if request is not None and hasattr(request, "headers"):
            network[sc.NETWORK_TRANSPORT] = sc.NETWORK_TRANSPORT_TCP
            network[sc.NETWORK_PROTOCOL_NAME] = sc.NETWORK_PROTOCOL_HTTP
            client = getattr(request, "client", None)
            if client is not None:
                network[sc.CLIENT_ADDRESS] = client.host
                network[sc.CLIENT_PORT] = client.port
            session_id = request.headers.get(sc.MCP_SESSION_ID_HEADER)
            if session_id:
                network[sc.MCP_SESSION_ID] = session_id
        elif _SERVING_STDIO.get():
            network[sc.NETWORK_TRANSPORT] = sc.NETWORK_TRANSPORT_PIPE
    except Exception:  # noqa: BLE001
        warn_failure("read an MCP request's transport")
    return network


def _fastmcp_server(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> None:
    wrapped(*args, **kwargs)
    try:
        from mcp.server._otel import OpenTelemetryMiddleware

        middleware = instance.middleware
        if not any(isinstance(m, OpenTelemetryMiddleware) for m in middleware):
            middleware.insert(0, OpenTelemetryMiddleware())
    except Exception:  # noqa: BLE001
        warn_failure("trace FastMCP's server")


def _serving_stdio(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    _SERVING_STDIO.set(True)
    return wrapped(*args, **kwargs)


def _v2_connection(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    connection = wrapped(*args, **kwargs)
    try:
        attributes = (
            {sc.NETWORK_TRANSPORT: sc.NETWORK_TRANSPORT_PIPE} if _SERVING_STDIO.get() else {}
        )
        clock = SessionClock(False, attributes)
        connection.exit_stack.callback(
            lambda: clock.done(getattr(connection, "protocol_version", None))
        )
    except Exception:  # noqa: BLE001
        warn_failure("start an MCP session clock")
    return connection


# --------------------------------------------------------------------------- mcp 1.x
# No tracing of its own: the sessions' send_request / send_notification (both directions)
# and the low-level server's request and notification handlers are wrapped. The messages
# are pydantic models: a copy carrying the context in params._meta is sent instead.
_V1_SESSIONS: weakref.WeakKeyDictionary[Any, Peer | None] = weakref.WeakKeyDictionary()
_V1_VERSIONS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _v1_patches() -> list[Patch]:
    return [
        ("mcp.client.stdio", "_create_platform_compatible_process", _opening_stdio),
        ("mcp.client.streamable_http", "StreamableHTTPTransport.__init__", _opening_http),
        ("mcp.client.session", "ClientSession.__init__", _v1_session_init),
        ("mcp.shared.session", "BaseSession.__aenter__", _v1_session_enter),
        ("mcp.shared.session", "BaseSession.__aexit__", _session_exit(_v1_version)),
        ("mcp.shared.session", "BaseSession.send_request", _v1_request),
        ("mcp.shared.session", "BaseSession.send_notification", _v1_notify),
        ("mcp.server.lowlevel.server", "Server._handle_request", _v1_handle_request),
        ("mcp.server.lowlevel.server", "Server._handle_notification", _v1_handle_notification),
    ]


def _v1_session_init(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> None:
    wrapped(*args, **kwargs)
    try:
        _V1_SESSIONS[instance] = _OPENING.get()
    except Exception:  # noqa: BLE001
        warn_failure("note an MCP client session")


def _v1_client(session: Any) -> bool:
    return type(session).__name__ == "ClientSession"


def _v1_version(session: Any) -> str | None:
    version = _V1_VERSIONS.get(session)
    if version is None:  # a server session: what the client asked for at initialize
        params = getattr(session, "client_params", None)
        version = getattr(params, "protocolVersion", None)
    return version if isinstance(version, str) else None


async def _v1_session_enter(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    result = await wrapped(*args, **kwargs)
    try:
        client = _v1_client(instance)
        attributes = peer_attributes(_V1_SESSIONS.get(instance)) if client else {}
        _CLOCKS[instance] = SessionClock(client, attributes)
    except Exception:  # noqa: BLE001
        warn_failure("start an MCP session clock")
    return result


def _v1_message(message: Any) -> tuple[Any, str, dict[str, Any] | None]:
    """(the request or notification model, its method, its params as wire JSON)."""
    root = getattr(message, "root", message)
    params = getattr(root, "params", None)
    dump = getattr(params, "model_dump", None)
    dumped = dump(by_alias=True, mode="json", exclude_none=True) if callable(dump) else None
    return root, str(getattr(root, "method", "")), dumped


def _v1_with_meta(message: Any) -> Any:
    """A copy of a request or notification model whose ``params._meta`` carries the
    current context (keeping the caller's keys)."""
    data = message.model_dump(by_alias=True, mode="json", exclude_none=True)
    data["params"] = with_meta(data.get("params"))
    return type(message).model_validate(data)


async def _v1_request(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    request, *rest = args
    try:
        _, method, params = _v1_message(request)
        peer = _V1_SESSIONS.get(instance)
        version = _v1_version(instance)
        request_id = getattr(instance, "_request_id", None)
    except Exception:  # noqa: BLE001
        warn_failure("read an MCP request")
        return await wrapped(*args, **kwargs)
    with client_exchange(method, params, peer, version, request_id) as exchange:
        if exchange is not None:
            request = _safe_call(_v1_with_meta, request, default=request)
        result = await wrapped(request, *rest, **kwargs)
        if exchange is not None:
            _safely(exchange.result, result)
        if method == "initialize":
            version = getattr(result, "protocolVersion", None)
            if isinstance(version, str):
                _V1_VERSIONS[instance] = version
        return result


async def _v1_notify(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    notification, *rest = args
    try:
        _, method, params = _v1_message(notification)
    except Exception:  # noqa: BLE001
        warn_failure("read an MCP notification")
        return await wrapped(*args, **kwargs)
    peer = _V1_SESSIONS.get(instance)
    with client_exchange(method, params, peer, _v1_version(instance)) as exchange:
        if exchange is not None:
            notification = _safe_call(_v1_with_meta, notification, default=notification)
        return await wrapped(notification, *rest, **kwargs)


async def _v1_handle_request(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    responder, request, session = args[0], args[1], args[2]
    try:
        _, method, params = _v1_message(request)
        metadata = getattr(responder, "message_metadata", None)
        network = _server_network(getattr(metadata, "request_context", None))
        responded: list[Any] = []
        respond = responder.respond

        async def captured(response: Any) -> Any:
            responded.append(response)
            return await respond(response)

        responder.respond = captured  # the answer (a result or an ErrorData) is the outcome
    except Exception:  # noqa: BLE001
        warn_failure("read an MCP request")
        return await wrapped(*args, **kwargs)

    async def call() -> Any:
        await wrapped(*args, **kwargs)
        return responded[0] if responded else None

    await serve(method, params, getattr(responder, "request_id", None), _v1_version(session),
                network, call)


async def _v1_handle_notification(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    notification = args[0]
    try:
        _, method, params = _v1_message(notification)
    except Exception:  # noqa: BLE001
        warn_failure("read an MCP notification")
        return await wrapped(*args, **kwargs)
    return await serve(method, params, None, None, {}, lambda: wrapped(*args, **kwargs))

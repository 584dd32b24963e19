"""``GET /health`` and ``GET /ready``: the telemetry pipeline's probes, over HTTP.

Three ways to serve them, one answer (:func:`answer`):

- on the Prometheus exporter's port, beside ``/metrics`` (:func:`serve_metrics_and_probes`,
  what ``init()`` starts when ``metrics_exporter`` includes ``prometheus``);
- :func:`wsgi_app` and :func:`asgi_app`: small applications the application mounts in its
  own web server (Flask, Django, FastAPI, Starlette ...), e.g. under ``/telemetry``.

Bodies are JSON (:meth:`agentotel._health.Health.to_dict`, ``Content-Type:
application/json``, ``Cache-Control: no-store``): ``/health`` answers ``200`` while the
providers run (liveness) and ``503`` after ``shutdown()``; ``/ready`` answers ``200`` when
the last export of each OTLP signal succeeded, else ``503`` (readiness). Other paths:
``404``; methods other than GET and HEAD: ``405``. The bodies hold no header, token or
URL: the endpoint's host only. Health is computed from counters in memory, without I/O.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING, Any

from agentotel._health import Health

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

HealthSource = Callable[[], Health]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]

PROBE_PATHS = ("/health", "/ready")
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}
_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


def answer(method: str, path: str, health: HealthSource) -> tuple[int, bytes]:
    """(status code, JSON body) for one request to a probe handler.

    ``path`` is relative to where the handler is mounted (``/health`` or ``/ready``; a
    trailing ``/`` is ignored).
    """
    path = path.rstrip("/") or "/"
    if path not in PROBE_PATHS:
        return 404, _json({"error": "not found", "paths": list(PROBE_PATHS)})
    if method not in ("GET", "HEAD"):
        return 405, _json({"error": "method not allowed", "allowed": ["GET", "HEAD"]})
    current = health()
    ok = current.live if path == "/health" else current.ready
    return (200 if ok else 503), _json(current.to_dict())


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True).encode()


# --------------------------------------------------------------------------- WSGI


def wsgi_app(health: HealthSource) -> WSGIApp:
    """A WSGI application (PEP 3333) serving ``/health`` and ``/ready``."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        status, body = answer(method, str(environ.get("PATH_INFO", "")), health)
        headers = [*_HEADERS, ("Content-Length", str(len(body)))]
        start_response(f"{status} {_REASONS[status]}", headers)
        return [b"" if method == "HEAD" else body]

    return app


# --------------------------------------------------------------------------- ASGI


def asgi_app(health: HealthSource) -> ASGIApp:
    """An ASGI 3 application serving ``/health`` and ``/ready`` (``http`` scopes; a
    ``lifespan`` scope is acknowledged, so it also runs as the root application)."""

    async def app(
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        method = str(scope.get("method", "GET")).upper()
        root = str(scope.get("root_path", ""))
        path = str(scope.get("path", ""))
        if root and path.startswith(root):  # servers that keep the mount prefix in path
            path = path[len(root):]
        status, body = answer(method, path, health)
        headers = [(k.lower().encode(), v.encode()) for k, v in _HEADERS]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})

    return app


# --------------------------------------------------------------------------- /metrics + probes


def serve_metrics_and_probes(
    host: str, port: int, health: HealthSource, registry: Any = None
) -> tuple[WSGIServer, threading.Thread]:
    """Serve the Prometheus exposition of ``registry`` (default: ``prometheus_client``'s
    default registry) on any path but the probes, as ``prometheus_client.start_http_server``
    does, plus ``/health`` and ``/ready``, on a daemon thread.

    Returns ``(server, thread)``; ``server.shutdown()`` and ``server.server_close()`` stop
    it. Raises ``OSError`` when the address cannot be bound. (The server's modules are
    imported here, not at ``import agentotel``.)
    """
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from prometheus_client import REGISTRY, make_wsgi_app

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
            pass

    metrics = make_wsgi_app(REGISTRY if registry is None else registry)
    probes = wsgi_app(health)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if str(environ.get("PATH_INFO", "")).rstrip("/") in PROBE_PATHS:
            return probes(environ, start_response)
        result: Iterable[bytes] = metrics(environ, start_response)
        return result

    family, address = _family(host, port)

    class Server(ThreadingMixIn, WSGIServer):
        """A thread per request; worker threads never hold up exit."""

        address_family = family
        daemon_threads = True

    server = make_server(address, port, app, Server, handler_class=QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, name="agentotel-metrics", daemon=True
    )
    thread.start()
    return server, thread


def _family(host: str, port: int) -> tuple[socket.AddressFamily, str]:
    """The address family and address to bind ``host`` with (IPv6 hosts need AF_INET6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, sockaddr = infos[0]
    return family, str(sockaddr[0])

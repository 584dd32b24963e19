"""The application the pre-fork tests (``test_prefork.py``) run in real servers.

- ``wsgi`` (gunicorn sync workers) and ``asgi`` (uvicorn, gunicorn's
  ``uvicorn.workers.UvicornWorker``): ``GET /work`` runs one agentotel tool call
  (``prefork_tool``) and answers the worker's pid; ``GET /health`` answers the worker's
  ``health()`` as JSON.
- ``celery``: the task ``prefork_app.work`` runs the same tool call; the broker is Redis at
  ``PREFORK_REDIS_URL``.

Served (``PREFORK_APP_SERVER=1``), ``agentotel.init()`` runs when this module is imported
(in the master under gunicorn ``--preload``, in each worker otherwise), unless
``PREFORK_INIT=worker_process_init``: then in each Celery pool process, by the
``worker_process_init`` recipe. Under
``--preload`` the master also makes one tool call (``before_fork``) before any fork.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import agentotel

TOOL = "prefork_tool"
BEFORE_FORK_TOOL = "before_fork"
telemetry: agentotel.Telemetry | None = None


def _init() -> None:
    global telemetry
    telemetry = agentotel.init("prefork-app", logs_exporter="none")


SERVING = os.environ.get("PREFORK_APP_SERVER") == "1"  # not when the tests import the names

if SERVING and os.environ.get("PREFORK_INIT") != "worker_process_init":
    _init()
    if "--preload" in sys.argv:
        with agentotel.tool(BEFORE_FORK_TOOL):
            pass


def _answer(path: str) -> tuple[str, bytes]:
    if path == "/work":
        with agentotel.tool(TOOL):
            pass
        return "200 OK", str(os.getpid()).encode()
    if path == "/health" and telemetry is not None:
        health = telemetry.health()
        body = {"pid": os.getpid(), "status": health.status, "reason": health.reason}
        return "200 OK", json.dumps(body).encode()
    return "404 Not Found", b""


def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    status, body = _answer(str(environ.get("PATH_INFO", "")))
    start_response(status, [("Content-Type", "text/plain")])
    return [body]


async def asgi(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[Any]],
    send: Callable[[Any], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    status, body = _answer(str(scope.get("path", "")))
    await send({"type": "http.response.start", "status": int(status.split()[0]),
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------- Celery

if SERVING and os.environ.get("PREFORK_REDIS_URL"):
    from celery import Celery
    from celery.signals import worker_process_init

    celery = Celery("prefork_app", broker=os.environ["PREFORK_REDIS_URL"])
    celery.conf.update(worker_hijack_root_logger=False, broker_connection_retry_on_startup=True)

    @worker_process_init.connect  # type: ignore[untyped-decorator]
    def _init_in_pool_process(**_: Any) -> None:
        if os.environ.get("PREFORK_INIT") == "worker_process_init":
            _init()

    @celery.task(name="prefork_app.work")  # type: ignore[untyped-decorator]
    def work() -> int:
        with agentotel.tool(TOOL):
            pass
        return os.getpid()

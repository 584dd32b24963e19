"""One decorator factory for sync functions, ``async def`` functions, generators and
async generators.

Each call of a decorated function starts a fresh operation. The function runs exactly
once per call; its return value, the values it yields and its own exceptions reach the
caller unchanged. For generators the span covers the whole iteration — from the first
``next()`` to exhaustion, an exception, or the consumer stopping early (``close()``,
``break``, garbage collection) — and is made current only while the generator's own code
runs, never in the consumer's code between items; an LLM call also takes each yielded
item as a chunk of its stream (time to first chunk, time per chunk). With
``OTEL_SDK_DISABLED=true`` the wrapper calls straight through. With content capture on,
the call's arguments and return value are handed to the operation (tools record them as
``gen_ai.tool.call.arguments`` / ``.result``); those hooks never raise.

This module knows operations only through the :class:`Started` protocol, so that the
lifecycle module imports it and not the other way round.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, Protocol, TypeVar, cast

from opentelemetry import context as otel_context
from opentelemetry.context import Context

from agentotel import _runtime
from agentotel._runtime import Runtime
from agentotel.content import NO_CONTENT

_F = TypeVar("_F", bound=Callable[..., Any])


class Started(Protocol):
    """What the wrappers need of an operation (:class:`agentotel.operations.Operation`)."""

    _runtime: Runtime

    @property
    def context(self) -> Context: ...

    def _begin(self, *, attach: bool) -> None: ...

    def _end(self, exc: BaseException | None) -> None: ...

    def _on_call(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None: ...

    def _on_return(self, value: Any) -> None: ...

    def _chunk_hook(self) -> Callable[[Any], None] | None: ...


def decorate(start: Callable[[], Started], fn: _F) -> _F:
    """Wrap ``fn`` so that every call runs inside a fresh operation from ``start()``."""
    if inspect.isasyncgenfunction(fn):
        return cast(_F, _wrap_async_generator(start, fn))
    if inspect.isgeneratorfunction(fn):
        return cast(_F, _wrap_generator(start, fn))
    if inspect.iscoroutinefunction(fn):
        return cast(_F, _wrap_coroutine(start, fn))
    return cast(_F, _wrap_function(start, fn))


def _started(
    start: Callable[[], Started], fn: Callable[..., Any], args: Any, kwargs: Any
) -> Started:
    """A started operation (not made current) with the call's arguments handed over."""
    op = start()
    op._begin(attach=False)
    if op._runtime.capture != NO_CONTENT:
        op._on_call(fn, args, kwargs)
    return op


def _wrap_function(start: Callable[[], Started], fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        runtime = _runtime.RUNTIME
        if runtime is not None and runtime.disabled:
            return fn(*args, **kwargs)
        op = _started(start, fn, args, kwargs)
        token = otel_context.attach(op.context)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            otel_context.detach(token)
            op._end(exc)
            raise
        otel_context.detach(token)
        if op._runtime.capture != NO_CONTENT:
            op._on_return(result)
        op._end(None)
        return result

    return wrapper


def _wrap_coroutine(start: Callable[[], Started], fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        runtime = _runtime.RUNTIME
        if runtime is not None and runtime.disabled:
            return await fn(*args, **kwargs)
        op = _started(start, fn, args, kwargs)
        token = otel_context.attach(op.context)
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            otel_context.detach(token)
            op._end(exc)
            raise
        otel_context.detach(token)
        if op._runtime.capture != NO_CONTENT:
            op._on_return(result)
        op._end(None)
        return result

    return wrapper


def _wrap_generator(start: Callable[[], Started], fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        runtime = _runtime.RUNTIME
        if runtime is not None and runtime.disabled:
            return (yield from fn(*args, **kwargs))
        op = _started(start, fn, args, kwargs)
        chunk = op._chunk_hook()  # an LLM call: each item is a chunk of its stream
        error: BaseException | None = None
        try:
            gen = fn(*args, **kwargs)
            sent: Any = None
            thrown: BaseException | None = None
            while True:
                token = otel_context.attach(op.context)
                try:
                    if thrown is not None:
                        item = gen.throw(thrown)
                    else:
                        item = gen.send(sent)
                except StopIteration as stop:
                    return stop.value
                finally:
                    otel_context.detach(token)
                    thrown = None
                if chunk is not None:
                    chunk(item)
                try:
                    sent = yield item
                except GeneratorExit:
                    token = otel_context.attach(op.context)
                    try:
                        gen.close()
                    finally:
                        otel_context.detach(token)
                    raise
                except BaseException as exc:  # forwarded into the wrapped generator
                    thrown = exc
        except BaseException as exc:
            error = exc
            raise
        finally:
            op._end(error)

    return wrapper


def _wrap_async_generator(
    start: Callable[[], Started], fn: Callable[..., Any]
) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        runtime = _runtime.RUNTIME
        if runtime is not None and runtime.disabled:
            async for item in fn(*args, **kwargs):
                yield item
            return
        op = _started(start, fn, args, kwargs)
        chunk = op._chunk_hook()
        error: BaseException | None = None
        try:
            agen = fn(*args, **kwargs)
            sent: Any = None
            thrown: BaseException | None = None
            while True:
                token = otel_context.attach(op.context)
                try:
                    if thrown is not None:
                        item = await agen.athrow(thrown)
                    else:
                        item = await agen.asend(sent)
                except StopAsyncIteration:
                    return
                finally:
                    otel_context.detach(token)
                    thrown = None
                if chunk is not None:
                    chunk(item)
                try:
                    sent = yield item
                except GeneratorExit:
                    token = otel_context.attach(op.context)
                    try:
                        await agen.aclose()
                    finally:
                        otel_context.detach(token)
                    raise
                except BaseException as exc:
                    thrown = exc
        except BaseException as exc:
            error = exc
            raise
        finally:
            op._end(error)

    return wrapper

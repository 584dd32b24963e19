"""One decorator factory for sync functions, ``async def`` functions, generators and
async generators.

Each call of a decorated function starts a fresh operation. For generators the span
covers the whole iteration — from the first ``next()`` to exhaustion, an exception, or
the consumer stopping early (``close()``, ``break``, garbage collection) — and is made
current only while the generator's own code runs, never in the consumer's code between
items. With ``OTEL_SDK_DISABLED=true`` the wrapper calls straight through. With content
capture on, the call's arguments and return value are handed to the operation (tools
record them as ``gen_ai.tool.call.arguments`` / ``.result``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from opentelemetry import context as otel_context

from agentotel import _operations
from agentotel.content import NO_CONTENT

if TYPE_CHECKING:
    from agentotel._operations import Operation

_F = TypeVar("_F", bound=Callable[..., Any])


def decorate(start: Callable[[], Operation], fn: _F) -> _F:
    """Wrap ``fn`` so that every call runs inside a fresh operation from ``start()``."""
    if inspect.isasyncgenfunction(fn):
        return cast(_F, _wrap_async_generator(start, fn))
    if inspect.isgeneratorfunction(fn):
        return cast(_F, _wrap_generator(start, fn))
    if inspect.iscoroutinefunction(fn):
        return cast(_F, _wrap_coroutine(start, fn))
    return cast(_F, _wrap_function(start, fn))


def _wrap_function(start: Callable[[], Operation], fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        runtime = _operations.RUNTIME
        if runtime.disabled:
            return fn(*args, **kwargs)
        with start() as op:
            if runtime.capture == NO_CONTENT:
                return fn(*args, **kwargs)
            op._on_call(fn, args, kwargs)
            result = fn(*args, **kwargs)
            op._on_return(result)
            return result

    return wrapper


def _wrap_coroutine(start: Callable[[], Operation], fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        runtime = _operations.RUNTIME
        if runtime.disabled:
            return await fn(*args, **kwargs)
        with start() as op:
            if runtime.capture == NO_CONTENT:
                return await fn(*args, **kwargs)
            op._on_call(fn, args, kwargs)
            result = await fn(*args, **kwargs)
            op._on_return(result)
            return result

    return wrapper


def _wrap_generator(start: Callable[[], Operation], fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        if _operations.RUNTIME.disabled:
            return (yield from fn(*args, **kwargs))
        op = start()
        op._begin(attach=False)
        if _operations.RUNTIME.capture != NO_CONTENT:
            op._on_call(fn, args, kwargs)
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
    start: Callable[[], Operation], fn: Callable[..., Any]
) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        if _operations.RUNTIME.disabled:
            async for item in fn(*args, **kwargs):
                yield item
            return
        op = start()
        op._begin(attach=False)
        if _operations.RUNTIME.capture != NO_CONTENT:
            op._on_call(fn, args, kwargs)
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

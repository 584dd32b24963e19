"""The wrappers ``LLMCall.stream()`` returns: a sync and an async stream of chunks.

Each wrapper hands out the very chunks of the iterable it wraps, unchanged, and reports to
its owner (the LLM call) when each chunk arrived and how the stream ended — once:

- exhausted (``StopIteration`` / ``StopAsyncIteration``), or closed by the consumer
  (``close()`` / ``aclose()``, or leaving ``with stream:``): a success;
- an exception raised by the iterable, a cancellation (``asyncio.CancelledError`` while
  waiting for a chunk), or an exception leaving ``with stream:``: a failure with that
  exception, which reaches the consumer unchanged;
- garbage-collected before either (a ``break`` with nothing closing the stream is this
  too): abandoned — what ``opentelemetry-util-genai``'s stream wrappers record as
  ``AbandonedStreamError`` (``error.type`` ``_OTHER``).

Reading the iterable (``iter()``, each ``next()``, ``close()``) runs with the owner's
context current, so an instrumented SDK call the iterable makes lazily joins the LLM
call (one span per model request) — and only then: the consumer's own code between
chunks runs in its own context. Attributes the wrappers do not have (``response``,
``get_final_message()``, ...) are the wrapped stream's own.

This module knows the LLM call only through :class:`Owner`; nothing in it raises into
the consumer but the iterable's own exceptions.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from opentelemetry import context as otel_context
from opentelemetry.context import Context

_T = TypeVar("_T")

_attach = otel_context.attach
_detach = otel_context.detach
_current = otel_context.get_current


class Owner(Protocol):
    """What a stream reports to (:class:`agentotel.operations.llm.LLMCall`)."""

    @property
    def context(self) -> Context: ...

    def _chunk(self, chunk: object) -> None:
        """A chunk arrived. Never raises."""

    def _stream_end(self, error: BaseException | None, abandoned: bool) -> None:
        """The stream ended: ``error`` (``None``: exhausted or closed), or ``abandoned``
        (garbage-collected first). Called once per stream. Never raises."""


class _Stream:
    """What both wrappers share: the source, the owner, ending once."""

    __slots__ = ("_source", "_iterator", "_owner", "_context", "_on_chunk", "_open")

    def __init__(self, source: Any, owner: Owner) -> None:
        self._source = source
        self._iterator: Any = None  # iter(source), taken at the first read
        self._owner = owner
        self._context = owner.context
        self._on_chunk = owner._chunk
        self._open = True

    def _ended(self, error: BaseException | None, abandoned: bool = False) -> None:
        if self._open:
            self._open = False
            self._owner._stream_end(error, abandoned)

    def _enter(self) -> object:
        """Make the owner's context current unless it is; the token to detach, or None."""
        ctx = self._context
        return None if _current() is ctx else _attach(ctx)

    def __del__(self) -> None:
        try:
            if self._open:
                self._ended(None, abandoned=True)
        except BaseException:  # noqa: BLE001, S110 - at interpreter exit, or half-built
            pass

    if not TYPE_CHECKING:  # a type checker keeps flagging misspelled attributes

        def __getattr__(self, name: str) -> Any:
            if name.startswith("_"):  # never the wrapped stream's private state
                raise AttributeError(name)
            return getattr(self._source, name)


class ChunkStream(_Stream, Generic[_T]):
    """A sync iterator over an LLM call's stream: the same chunks, each one timed.

    ``for chunk in call.stream(sdk_stream): ...``; ``close()`` ends it early (and closes the
    wrapped stream); ``with call.stream(sdk_stream) as chunks:`` closes it at the block's
    end.
    """

    __slots__ = ()

    def __init__(self, source: Iterable[_T], owner: Owner) -> None:
        super().__init__(source, owner)

    def __iter__(self) -> ChunkStream[_T]:
        return self

    def __next__(self) -> _T:
        ctx = self._context  # self._enter(), inline: this runs once per chunk
        token = None if _current() is ctx else _attach(ctx)
        try:
            iterator: Iterator[_T] | None = self._iterator
            if iterator is None:
                iterator = self._iterator = iter(self._source)
            chunk = next(iterator)
        except StopIteration:
            self._ended(None)
            raise
        except BaseException as error:
            self._ended(error)
            raise
        finally:
            if token is not None:
                _detach(token)
        if self._open:
            self._on_chunk(chunk)
        return chunk

    def close(self) -> None:
        """Stop early: close the wrapped stream (if it can be closed) and end this stream
        as a success. An exception from the wrapped stream's ``close()`` propagates, and
        the stream ends with it."""
        token = self._enter()
        try:
            _close_sync(self._source, self._iterator)
        except BaseException as error:
            self._ended(error)
            raise
        finally:
            if token is not None:
                _detach(token)  # type: ignore[arg-type]
        self._ended(None)

    def __enter__(self) -> ChunkStream[_T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
            return
        self._ended(exc)
        try:
            _close_sync(self._source, self._iterator)
        except Exception:  # noqa: BLE001, S110 - the block's own exception is the one to see
            pass


class AsyncChunkStream(_Stream, Generic[_T]):
    """An async iterator over an LLM call's stream: the same chunks, each one timed.

    ``async for chunk in call.stream(sdk_stream): ...``; ``await aclose()`` (or
    ``close()``) ends it early; ``async with call.stream(sdk_stream) as chunks:`` closes it
    at the block's end.
    """

    __slots__ = ()

    def __init__(self, source: AsyncIterable[_T], owner: Owner) -> None:
        super().__init__(source, owner)

    def __aiter__(self) -> AsyncChunkStream[_T]:
        return self

    async def __anext__(self) -> _T:
        ctx = self._context
        token = None if _current() is ctx else _attach(ctx)
        try:
            iterator: AsyncIterator[_T] | None = self._iterator
            if iterator is None:
                iterator = self._iterator = aiter(self._source)
            chunk = await anext(iterator)
        except StopAsyncIteration:
            self._ended(None)
            raise
        except BaseException as error:  # a cancellation too: asyncio.CancelledError
            self._ended(error)
            raise
        finally:
            if token is not None:
                _detach(token)
        if self._open:
            self._on_chunk(chunk)
        return chunk

    async def aclose(self) -> None:
        """Stop early: close the wrapped stream (``aclose()``, else ``close()``, awaited
        when it returns an awaitable) and end this stream as a success."""
        token = self._enter()
        try:
            await _close_async(self._source, self._iterator)
        except BaseException as error:
            self._ended(error)
            raise
        finally:
            if token is not None:
                _detach(token)  # type: ignore[arg-type]
        self._ended(None)

    async def close(self) -> None:
        """The same as :meth:`aclose` (the SDKs' async streams spell it ``close``)."""
        await self.aclose()

    async def __aenter__(self) -> AsyncChunkStream[_T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            await self.aclose()
            return
        self._ended(exc)
        try:
            await _close_async(self._source, self._iterator)
        except Exception:  # noqa: BLE001, S110
            pass


def _close_sync(source: object, iterator: object) -> None:
    """``close()`` the stream (an SDK stream closes its response), else its iterator."""
    close = getattr(source, "close", None)
    if close is None:
        close = getattr(iterator, "close", None)
    if close is not None:
        close()


async def _close_async(source: object, iterator: object) -> None:
    """``aclose()`` or ``close()`` of the stream, else of its iterator; awaited if need be."""
    for target in (source, iterator):
        close = getattr(target, "aclose", None) or getattr(target, "close", None)
        if close is not None:
            result = close()
            if inspect.isawaitable(result):
                await result
            return

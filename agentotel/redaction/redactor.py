"""The :class:`Redactor`: runs the enabled detectors over strings and attribute values.

Strings are redacted with the detectors of :mod:`agentotel.redaction.detectors`; values
under a key that names a secret (:func:`~agentotel.redaction.detectors.is_secret_key`)
are replaced whole. Results for short strings and decisions per key are memoized.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, cast

from opentelemetry.util.types import AnyValue

from agentotel.redaction.detectors import (
    DEFAULT_DETECTORS,
    DETECTORS,
    SECRET_FIELD_MARKER,
    Detector,
    extra_detector,
    is_secret_key,
    marker,
)

#: Strings up to this many characters have their result memoized ...
_MEMO_MAX_LENGTH: Final = 4096
#: ... until the memo holds this many characters in all; then it starts afresh.
_MEMO_MAX_CHARACTERS: Final = 1 << 20
#: Key decisions (allowed / secret / ordinary) kept per redactor before starting afresh.
_KEY_MEMO_MAX_ENTRIES: Final = 4096
#: Sequences of plain values (``finish_reasons``, tool names) in which nothing was found,
#: kept per redactor before starting afresh.
_SEQUENCE_MEMO_MAX_ENTRIES: Final = 4096
_ALLOWED, _SECRET, _ORDINARY = 0, 1, 2
#: the memo's entry for a string in which no detector found anything
_UNCHANGED: Final = object()


class Redactor:
    """Replaces detected secrets and personal data in strings and attribute values.

    Args:
        detectors: names of the built-in detectors to run (:data:`DETECTORS`); default
            :data:`DEFAULT_DETECTORS`. Pass ``()`` to run only ``extra_patterns``.
        extra_patterns: additional detectors, name -> regular expression; every match is
            replaced with ``[REDACTED:<name>]``. They run after the built-in ones.
        allow_keys: attribute keys (exact, full key) whose values are never redacted,
            at any nesting level.

    Raises:
        ValueError: an unknown detector name, an extra pattern that does not compile,
            matches the empty string, or has an empty name; the message names the bad
            value and the accepted ones.

    Thread safety: a redactor holds only compiled patterns; it may be shared by threads.
    """

    def __init__(
        self,
        detectors: Iterable[str] = DEFAULT_DETECTORS,
        *,
        extra_patterns: Mapping[str, str] | None = None,
        allow_keys: Iterable[str] = (),
    ) -> None:
        names = set(detectors)
        unknown = sorted(names - DETECTORS.keys())
        if unknown:
            raise ValueError(
                f"unknown redaction detector(s) {', '.join(map(repr, unknown))}; "
                f"accepted: {', '.join(DETECTORS)}"
            )
        chosen = [d for d in DETECTORS.values() if d.name in names]
        chosen.extend(extra_detector(name, regex) for name, regex in (extra_patterns or {}).items())
        self._detectors: tuple[Detector, ...] = tuple(chosen)
        tokens = tuple(d for d in chosen if d.literal_first)
        self._tokens = tokens
        self._token_scan = (
            re.compile("|".join(d.pattern.pattern for d in tokens), re.DOTALL) if tokens else None
        )
        rest = [d for d in chosen if not d.literal_first]
        self._plan = tuple((d, d.gate, d.gate_lowered, d.lowered) for d in rest)
        self._needs_lowered = any(d.gate_lowered or d.lowered for d in rest)
        self._memo: dict[str, object] = {}
        self._memo_characters = 0
        self._allow_keys = frozenset(allow_keys)
        self._key_kinds: dict[str, int] = {}
        self._clean_sequences: set[tuple[Any, ...]] = set()

    @property
    def detectors(self) -> tuple[str, ...]:
        """Names of the detectors this redactor runs, in order."""
        return tuple(d.name for d in self._detectors)

    def redact_text(self, text: str) -> str:
        """``text`` with each detected value replaced by ``[REDACTED:<detector>]``.

        Returns the same object when nothing was found. Results for strings of up to
        4096 characters are memoized (1 Mi characters in all, then the memo starts
        afresh): model names, finish reasons, server addresses and system instructions
        recur on every span.
        """
        length = len(text)
        if length > _MEMO_MAX_LENGTH:
            return self._run_detectors(text)
        memo = self._memo
        result = memo.get(text)
        if result is None:
            result = self._run_detectors(text)
            self._memo_characters += length
            if self._memo_characters > _MEMO_MAX_CHARACTERS:
                memo.clear()
                self._memo_characters = length
            # nothing found: remember that, not the object, so that an equal string met
            # later comes back as itself (callers copy a span only when a value changed)
            memo[text] = _UNCHANGED if result is text else result
            return result
        return text if result is _UNCHANGED else cast(str, result)

    def _run_detectors(self, text: str) -> str:
        result = self._replace_tokens(text) if self._token_scan is not None else text
        lowered = text.lower() if self._needs_lowered else None
        gate_hits: dict[int, bool] = {}
        result_lowered = lowered if result is text else None
        for detector, gate, gate_lowered, pattern_lowered in self._plan:
            if gate is not None:
                hit = gate_hits.get(id(gate))
                if hit is None:
                    subject = lowered if gate_lowered and lowered is not None else text
                    hit = gate_hits[id(gate)] = gate.search(subject) is not None
                if not hit:
                    continue
            if pattern_lowered:
                if result_lowered is None:
                    result_lowered = result.lower()
                new = detector.replace(result, result_lowered)
            else:
                new = detector.replace(result)
            if new is not result:
                result = new
                result_lowered = None
        return result

    def _replace_tokens(self, text: str) -> str:
        """One combined scan for every ``literal_first`` detector; each hit is attributed
        to the first detector (in order) whose own pattern matches there and validates."""
        scan = self._token_scan
        assert scan is not None
        pieces: list[str] = []
        last = pos = 0
        while True:
            hit = scan.search(text, pos)
            if hit is None:
                break
            start = hit.start()
            pos = start + 1
            for detector in self._tokens:
                match = detector.pattern.match(text, start)
                if match is not None and (detector.validator is None or detector.validator(match)):
                    pieces.append(text[last:start])
                    pieces.append(marker(detector.name))
                    last = pos = max(match.end(), pos)
                    break
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)

    def redact_attributes(self, attrs: Mapping[str, AnyValue]) -> dict[str, AnyValue]:
        """A new dict of ``attrs`` with every value redacted.

        Strings and the strings inside sequences and mappings are redacted; numbers,
        booleans, ``bytes`` and ``None`` are kept. A key that names a secret
        (:func:`is_secret_key`) has its whole value replaced with
        :data:`SECRET_FIELD_MARKER` (a sequence keeps its length). Keys in
        ``allow_keys`` are copied unchanged.
        """
        return {key: self.redact(value, key) for key, value in attrs.items()}

    def redact(self, value: Any, key: str | None = None) -> Any:
        """Redact any value: ``str``, ``Mapping`` (keys kept, values redacted with their
        key), ``list``/``tuple`` (same type back), anything else unchanged.

        ``key`` is the attribute or field name the value belongs to, if any. Returns the
        same object when nothing changed.
        """
        if key is not None:
            kind = self._key_kinds.get(key)
            if kind is None:
                kind = self._key_kind(key)
            if kind == _ALLOWED:
                return value
            if kind == _SECRET and value is not None:
                return _secret_field(value)
        cls = value.__class__
        if cls is str:
            return self.redact_text(value)
        if cls in _UNREDACTED:  # numbers, booleans, None: no ABC check for the commonest
            return value
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, Mapping):
            return self._redact_mapping(value)
        if isinstance(value, (list, tuple)):
            return self._redact_sequence(value)
        return value

    def redacted_attributes(self, attrs: Mapping[str, Any]) -> dict[str, Any] | None:
        """A new dict of ``attrs`` with every value redacted as :meth:`redact` does, or
        ``None`` when no value changed (the usual case: nothing is copied then).

        The values that recur on every span (numbers, and strings and sequences met before
        under an ordinary key) are settled inline, without a call each."""
        kinds = self._key_kinds
        memo = self._memo
        clean = self._clean_sequences
        redact = self.redact
        for key, value in attrs.items():
            ordinary = kinds.get(key) == _ORDINARY
            if ordinary:
                cls = value.__class__
                if (cls is str and memo.get(value) is _UNCHANGED) or cls in _UNREDACTED:
                    continue
                if cls is tuple:
                    try:
                        known = value in clean
                    except TypeError:  # it holds a mapping or a list: never remembered
                        known = False
                    if known:
                        continue
            new = redact(value, key)
            if new is not value:  # something to redact (rare): copy, redacting the rest
                return self._copy_from(attrs, key, new)
            if ordinary and value.__class__ is tuple:
                self._remember_clean(value)
        return None

    def _copy_from(self, attrs: Mapping[str, Any], first: str, new: Any) -> dict[str, Any]:
        """``attrs`` copied: the values before ``first`` as they are (nothing was found in
        them), ``new`` for ``first``'s, the values after it redacted."""
        result: dict[str, Any] = {}
        redact = self.redact
        found = False
        for key, value in attrs.items():
            if found:
                result[key] = redact(value, key)
            elif key == first:
                result[key] = new
                found = True
            else:
                result[key] = value
        return result

    def _remember_clean(self, value: tuple[Any, ...]) -> None:
        """Remember a tuple of plain values (strings short enough to be memoized) in which
        nothing was found."""
        if sum(len(v) for v in value if v.__class__ is str) > _MEMO_MAX_LENGTH or any(
            v.__class__ not in _PLAIN for v in value
        ):
            return
        clean = self._clean_sequences
        if len(clean) >= _SEQUENCE_MEMO_MAX_ENTRIES:
            clean.clear()
        clean.add(value)

    def _key_kind(self, key: str) -> int:
        kinds = self._key_kinds
        if len(kinds) >= _KEY_MEMO_MAX_ENTRIES:
            kinds.clear()
        if key in self._allow_keys:
            kind = _ALLOWED
        else:
            kind = _SECRET if is_secret_key(key) else _ORDINARY
        kinds[key] = kind
        return kind

    def _redact_mapping(self, value: Mapping[Any, Any]) -> Mapping[Any, Any]:
        changed = False
        result: dict[Any, Any] = {}
        for item_key, item in value.items():
            new = self.redact(item, item_key if isinstance(item_key, str) else None)
            changed = changed or new is not item
            result[item_key] = new
        return result if changed else value

    def _redact_sequence(self, value: list[Any] | tuple[Any, ...]) -> list[Any] | tuple[Any, ...]:
        items = [self.redact(item) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return items if isinstance(value, list) else tuple(items)


#: value types redaction leaves as they are (beside bytes and anything that is not a str,
#: mapping or sequence)
_UNREDACTED: Final = frozenset({int, float, bool, type(None), bytes})


#: what a sequence attribute may hold to be remembered as clean
_PLAIN: Final = frozenset({str, int, float, bool, type(None)})


def _secret_field(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value)(SECRET_FIELD_MARKER for _ in value)
    return SECRET_FIELD_MARKER

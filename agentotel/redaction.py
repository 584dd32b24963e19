"""Redaction of secrets and personal data in spans and log records before export.

A :class:`Redactor` replaces every match of its enabled detectors with
``[REDACTED:<detector>]`` and replaces the whole value of any attribute whose key names a
secret (``password``, ``api_key``, ``authorization``, ``token``, ...) with
``[REDACTED:secret_field]``. :class:`RedactingSpanExporter` and
:class:`RedactingLogRecordExporter` wrap any OpenTelemetry exporter and apply a redactor on
the export path (the batch worker thread, or the caller's thread only when the application
chose a ``SimpleSpanProcessor``), so every span, span event, span link and log record is
redacted: agentotel's own and those of any other instrumentation in the process.

Detectors (see :data:`DETECTORS`; ``ipv4`` and ``ipv6`` are off by default):

==================  ===========================================================
name                what it matches
==================  ===========================================================
private_key         PEM/PGP ``-----BEGIN ... PRIVATE KEY-----`` blocks (also truncated)
jwt                 JSON Web Tokens (``eyJ...``.``eyJ...``.signature)
anthropic_key       Anthropic API keys (``sk-ant-...``)
openai_key          OpenAI API keys (``sk-...``, ``sk-proj-...``, ``sk-svcacct-...``)
aws_access_key      AWS access key ids (``AKIA...``, ``ASIA...``, 20 characters)
github_token        GitHub tokens (``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``,
                    ``github_pat_``)
gitlab_token        GitLab tokens (``glpat-`` and the other ``gl*-`` prefixes)
slack_token         Slack tokens (``xoxb-``, ``xoxp-``, ...) and incoming-webhook URLs
google_api_key      Google API keys (``AIza`` + 35 characters)
url_credentials     the password in ``scheme://user:password@host``
bearer_token        the credential in ``Bearer <token>`` / ``Authorization: <scheme> <token>``
aws_secret_key      40-character AWS secret access keys (mixed case and digits)
secret_assignment   the value in ``password=...`` / ``"secret": "..."`` / ``api_key: ...`` pairs
email               e-mail addresses
iban                IBANs, ISO 13616 mod-97 checksum and per-country length verified
credit_card         payment card numbers, 13-19 digits, Luhn-checked, known issuer prefix
us_ssn              US social security numbers (``AAA-GG-SSSS``, or 9 digits after "SSN")
phone               phone numbers: ``+<country code>`` forms, NANP, national ``0...`` forms
ipv4                IPv4 addresses (off by default)
ipv6                IPv6 addresses, validated with :mod:`ipaddress` (off by default)
==================  ===========================================================

Detectors run in the order above, each on the output of the previous one; a replaced span
is never matched again.

Cost: all token-shaped secrets (``private_key`` ... ``google_api_key``) are found with one
combined scan whose alternatives start with literal characters; each other detector only
runs its pattern when its cheap gate is found in the string (``@`` for e-mail, a run of
seven digits for the numeric detectors, a keyword such as ``password`` or ``bearer`` for
the key-value detectors). Results for short strings are memoized. See
``benchmarks/redaction.py`` for the cost per span.

Not handled: ``bytes`` values (passed through unchanged), span names, event names and
resource attributes (these are set by code, not by user input).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import AnyValue, Attributes

__all__ = [
    "DEFAULT_DETECTORS",
    "DETECTORS",
    "ERROR_MARKER",
    "SECRET_FIELD_MARKER",
    "SECRET_KEY_NAMES",
    "Detector",
    "RedactingLogRecordExporter",
    "RedactingSpanExporter",
    "Redactor",
    "is_secret_key",
    "marker",
]

_logger = logging.getLogger(__name__)


def marker(detector: str) -> str:
    """The replacement text for a match of ``detector``: ``[REDACTED:<detector>]``."""
    return f"[REDACTED:{detector}]"


#: Replacement for the whole value of an attribute whose key names a secret.
SECRET_FIELD_MARKER: Final = marker("secret_field")
#: Replacement for every string of a span or log record that could not be redacted.
ERROR_MARKER: Final = marker("error")
_MARKER_PREFIX: Final = "[REDACTED:"

MatchValidator = Callable[["re.Match[str]"], bool]


@dataclass(frozen=True)
class Detector:
    """One named detector.

    Attributes:
        name: the ``<detector>`` in ``[REDACTED:<detector>]``.
        pattern: the compiled expression whose matches are candidates.
        gate: a cheap expression (literal anchors, a digit run, ...); ``pattern`` only runs
            on strings in which it is found. ``None``: the pattern runs on every string.
        gate_lowered: search ``gate`` (written in lower case) in the lower-cased string.
        lowered: match ``pattern`` (written in lower case) against the lower-cased string,
            which is much faster than ``re.IGNORECASE``.
        validator: optional check of a candidate match (Luhn, mod-97, ...); a match it
            rejects is left unchanged.
        groups: names of the groups to replace; the first one that took part in the match
            is replaced. When none took part (or none are named) the whole match is.
        literal_first: every top-level alternative of ``pattern`` starts with a literal
            character and the pattern has no capturing group; a :class:`Redactor` scans for
            all such detectors with one combined expression (``re`` then skips ahead to
            the possible first characters), which is what keeps strings without any
            token-shaped secret cheap.
    """

    name: str
    pattern: re.Pattern[str]
    gate: re.Pattern[str] | None = None
    gate_lowered: bool = False
    lowered: bool = False
    validator: MatchValidator | None = None
    groups: tuple[str, ...] = ()
    literal_first: bool = False

    def replace(self, text: str, lowered: str | None = None) -> str:
        """``text`` with every validated match replaced; the same object if none.

        ``lowered`` is ``text.lower()`` when the caller has it; it is used by
        ``lowered`` detectors when it has the same length as ``text``.
        """
        if self.lowered:
            if lowered is None:
                lowered = text.lower()
            if len(lowered) == len(text):
                matches = self.pattern.finditer(lowered)
            else:  # some characters change length when lower-cased
                matches = re.finditer(self.pattern.pattern, text, re.IGNORECASE)
        else:
            matches = self.pattern.finditer(text)
        pieces: list[str] = []
        last = 0
        for match in matches:
            if self.validator is not None and not self.validator(match):
                continue
            start, end = self._target(match)
            if text.startswith(_MARKER_PREFIX, start):
                continue
            pieces.append(text[last:start])
            pieces.append(marker(self.name))
            last = end
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)

    def _target(self, match: re.Match[str]) -> tuple[int, int]:
        for group in self.groups:
            start, end = match.span(group)
            if start >= 0:
                return start, end
        return match.span()


# --------------------------------------------------------------------------- validators


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn (mod 10) check (ISO/IEC 7812-1)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


# ISO 13616 registry (SWIFT IBAN Registry): country code -> IBAN length.
_IBAN_LENGTHS: Final[Mapping[str, int]] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
    "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def iban_valid(candidate: str) -> bool:
    """True for an IBAN of its country's registered length whose ISO 7064 mod-97 check
    gives 1 (ISO 13616-1). Spaces are ignored."""
    iban = candidate.replace(" ", "").upper()
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


_CARD_PREFIX = re.compile(r"4|5[1-5]|2[2-7]|3[47]|3[068]|35|6[0245]")
_SEPARATORS = re.compile(r"[ ().+-]")


def _card_valid(match: re.Match[str]) -> bool:
    digits = _SEPARATORS.sub("", match.group(0))
    return 13 <= len(digits) <= 19 and bool(_CARD_PREFIX.match(digits)) and luhn_valid(digits)


def _iban_valid(match: re.Match[str]) -> bool:
    return iban_valid(match.group(0))


_SSN_CONTEXT = re.compile(r"ssn|social security", re.IGNORECASE)


def _ssn_valid(match: re.Match[str]) -> bool:
    """SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000. Nine bare
    digits count only after "SSN"/"social security" (within 24 characters)."""
    text = match.group(0)
    digits = _SEPARATORS.sub("", text)
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    if len(text) == 9:
        start = match.start()
        return _SSN_CONTEXT.search(match.string, max(0, start - 24), start) is not None
    return True


def _phone_valid(match: re.Match[str]) -> bool:
    text = match.group(0)
    count = sum(char.isdigit() for char in text)
    if text.startswith("+"):
        return 8 <= count <= 15
    return 9 <= count <= 15


def _ipv4_valid(match: re.Match[str]) -> bool:
    return all(int(part) <= 255 for part in match.group(0).split("."))


def _ipv6_valid(match: re.Match[str]) -> bool:
    text = match.group(0)
    if sum(1 for part in text.split(":") if part) < 2 and text != "::1":
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _aws_secret_valid(match: re.Match[str]) -> bool:
    text = match.group(0)
    return (
        any(char.isupper() for char in text)
        and any(char.islower() for char in text)
        and any(char.isdigit() for char in text)
    )


def _word_start(match: re.Match[str]) -> bool:
    """The match does not continue a word, identifier or dashed token."""
    start = match.start()
    return start == 0 or not (match.string[start - 1].isalnum() or match.string[start - 1] in "_-")


def _url_credentials_valid(match: re.Match[str]) -> bool:
    """``://`` must follow a URL scheme (a letter or digit right before it)."""
    start = match.start()
    return start > 0 and match.string[start - 1].isalnum()


def _assignment_valid(match: re.Match[str]) -> bool:
    """Accept quoted values, ``=`` values, and ``:`` values that look like a secret.

    A ``key: value`` pair in prose ("Reset your password: click the link") is left alone:
    an unquoted value after ``:`` must contain a non-letter or end the line/field.
    """
    quoted = match.group("qv")
    if quoted is not None:
        return bool(quoted.strip())
    value = match.group("uv")
    if match.group("sep") != ":" or not value.isalpha():
        return True
    tail = match.string[match.end() :].lstrip(" \t")
    return not tail or tail[0] in "\r\n,;}]|&"


def _bearer_valid(match: re.Match[str]) -> bool:
    value = match.group("tok")
    return len(value) >= 20 or not value.isalpha()


# --------------------------------------------------------------------------- detectors

#: Seven digits, each pair separated by at most two of " ().-": the shape every phone,
#: card, SSN and IBAN contains. Digit detectors only run where it is found.
_DIGIT_RUN: Final = re.compile(r"[0-9](?:[ ().-]{0,2}[0-9]){6}")


#: Words that the key of a ``key=value`` secret contains.
_SECRET_WORDS: Final = re.compile("pass|pwd|secret|key|token|credential")


def _after_first(chars: str) -> str:
    """Lookbehind placed after a pattern's first character: the character before the
    match is not one of ``chars``. (Keeping the first element a literal or a character
    class lets ``re`` skip ahead quickly.)"""
    return f"(?<![{chars}].)"


def _token(name: str, *alternatives: str, validator: MatchValidator | None = None) -> Detector:
    """A detector for a token with a literal prefix (see ``Detector.literal_first``)."""
    return Detector(
        name,
        re.compile("|".join(alternatives), re.DOTALL),
        validator=validator,
        literal_first=True,
    )


_DETECTOR_LIST: Final[tuple[Detector, ...]] = (
    _token(
        "private_key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
    ),
    _token("jwt", r"eyJ(?<![\w-]eyJ)[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    _token("anthropic_key", r"sk-ant-(?<![\w-]sk-ant-)[A-Za-z0-9_-]{20,}"),
    _token("openai_key", r"sk-(?<![\w-]sk-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}"),
    _token(
        "aws_access_key",
        r"A(?<![A-Za-z0-9]A)(?:KIA|SIA|BIA|CCA|GPA|IDA|ROA|3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])",
    ),
    _token(
        "github_token",
        r"g(?<![A-Za-z0-9_]g)(?:h[pousr]_[A-Za-z0-9]{36,251}|ithub_pat_[A-Za-z0-9_]{22,247})"
        r"(?![A-Za-z0-9_])",
    ),
    _token(
        "gitlab_token",
        r"gl(?:pat|dt|ptt|rt|soat|cbt|ft|imt|oas|wt|agent)-[A-Za-z0-9_-]{20,}",
        r"GR1348941[A-Za-z0-9_-]{20,}",
        validator=_word_start,
    ),
    _token(
        "slack_token",
        r"xox[abposre]-[A-Za-z0-9-]{10,}",
        r"xapp-\d-[A-Za-z0-9-]{10,}",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{10,}",
        validator=_word_start,
    ),
    _token("google_api_key", r"AIza(?<![\w-]AIza)[0-9A-Za-z_-]{35}(?![\w-])"),
    Detector(
        "url_credentials",
        re.compile(r"://[^\s:/?#@\[\]\"']{0,128}:(?P<pw>[^\s/?#@\"']{1,256})@"),
        validator=_url_credentials_valid,
        groups=("pw",),
    ),
    Detector(
        "bearer_token",
        re.compile(
            r"(?:authorization\\?[\"']?\s*[:=]\s*\\?[\"']?"
            r"(?:(?:bearer|basic|token|digest|negotiate|apikey)\s+)?"
            r"|bearer\s+)"
            r"(?P<tok>[a-z0-9\-._~+/]+=*)"
        ),
        gate=re.compile("bearer|authorization"),
        gate_lowered=True,
        lowered=True,
        validator=_bearer_valid,
        groups=("tok",),
    ),
    Detector(
        "aws_secret_key",
        re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"),
        gate=re.compile("aws|secret|cred|key"),
        gate_lowered=True,
        validator=_aws_secret_valid,
    ),
    Detector(
        "secret_assignment",
        re.compile(
            r"(?:client[_-]?secret|secret[_-]?key|secret|api[_-]?key|api[_-]?token|apikey"
            r"|access[_-]?key|access[_-]?token|private[_-]?key|auth[_-]?token|refresh[_-]?token"
            r"|session[_-]?token|password|passwd|passphrase|credentials?"
            r"|pass(?<![a-z]pass)|pwd(?<![a-z]pwd)|token(?<![a-z]token))"
            r"(?![a-z0-9_])\\{0,3}[\"']?\s*(?P<sep>:=|=>|[:=])\s*"
            r"(?:(?P<q>\\{0,3}[\"'])(?P<qv>[^\n]{1,256}?)(?P=q)|(?P<uv>[^\s\"'\\,;&}\])]{1,256}))"
        ),
        gate=_SECRET_WORDS,
        gate_lowered=True,
        lowered=True,
        validator=_assignment_valid,
        groups=("qv", "uv"),
    ),
    Detector(
        "email",
        re.compile(
            r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
            r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
        ),
        gate=re.compile("@"),
    ),
    Detector(
        "iban",
        re.compile(
            r"[A-Z]" + _after_first("A-Za-z0-9") + r"[A-Z]\d{2}"
            r"(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])"
        ),
        gate=_DIGIT_RUN,
        validator=_iban_valid,
    ),
    Detector(
        "credit_card",
        re.compile(
            r"[2-6]" + _after_first(r"\w.+-") + r"\d{3}"
            r"(?:([ -]?)\d{4}\1\d{4}\1\d{1,7}|[ -]?\d{6}[ -]?\d{4,5})(?!\w|[.-]\d)"
        ),
        gate=_DIGIT_RUN,
        validator=_card_valid,
    ),
    Detector(
        "us_ssn",
        re.compile(
            r"[0-8]" + _after_first(r"\w.+-") + r"\d{2}(?:([ -])\d{2}\1\d{4}|\d{6})"
            r"(?![\w-]|\.\d)"
        ),
        gate=_DIGIT_RUN,
        validator=_ssn_valid,
    ),
    Detector(
        "phone",
        re.compile(
            r"[+(0-9]" + _after_first(r"\w+.-") + r"(?:"
            r"(?<=\+)[1-9]\d{0,2}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){1,6}"
            r"|(?<=1)(?:[ .-]?\(?[2-9]\d{2}\)?([ .-])[2-9]\d{2}\1\d{4})"
            r"|(?<=[2-9])\d{2}([ .-])[2-9]\d{2}\2\d{4}"
            r"|(?<=\()\d{3}\)[ .-]?[2-9]\d{2}[ .-]\d{4}"
            r"|(?<=0)\d{1,4}([ -])\d{2,6}(?:\3\d{2,4}){0,3}"
            r")(?![\w.-]?\d|[:/])"
        ),
        gate=_DIGIT_RUN,
        validator=_phone_valid,
    ),
    Detector(
        "ipv4",
        re.compile(r"[0-9]" + _after_first(r"\w.") + r"\d{0,2}(?:\.\d{1,3}){3}(?![\w-]|\.\d)"),
        gate=re.compile(r"[0-9]\.[0-9]"),
        validator=_ipv4_valid,
    ),
    Detector(
        "ipv6",
        re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:.])"),
        gate=re.compile(r"[0-9A-Fa-f]?:[0-9A-Fa-f:]"),
        validator=_ipv6_valid,
    ),
)

#: Every built-in detector by name, in the order they run.
DETECTORS: Final[Mapping[str, Detector]] = {d.name: d for d in _DETECTOR_LIST}
#: The detectors enabled by default: all but ``ipv4`` and ``ipv6``.
DEFAULT_DETECTORS: Final = frozenset(DETECTORS) - {"ipv4", "ipv6"}

#: Attribute keys (last dotted segment, lower case, ``-`` read as ``_``) whose whole value
#: is replaced with :data:`SECRET_FIELD_MARKER`.
SECRET_KEY_NAMES: Final = frozenset(
    {
        "password", "passwd", "pwd", "passphrase", "secret", "client_secret",
        "api_key", "apikey", "x_api_key", "api_token", "access_token", "refresh_token",
        "id_token", "auth_token", "x_auth_token", "session_token", "token",
        "authorization", "proxy_authorization", "cookie", "set_cookie",
        "private_key", "secret_key", "access_key", "secret_access_key",
        "aws_secret_access_key", "credentials", "credential",
    }
)  # fmt: skip
_SECRET_KEY_SUFFIXES: Final = tuple(
    "_" + name
    for name in (
        "password", "passwd", "passphrase", "secret", "api_key", "apikey", "api_token",
        "access_token", "refresh_token", "auth_token", "session_token", "private_key",
        "secret_key", "credentials",
    )
)  # fmt: skip


def is_secret_key(key: str) -> bool:
    """True when the attribute key names a secret (see :data:`SECRET_KEY_NAMES`).

    The last dotted segment is compared, lower-cased, with ``-`` read as ``_``:
    ``http.request.header.authorization`` and ``db.password`` are secret keys,
    ``gen_ai.usage.input_tokens`` is not.
    """
    name = key.rpartition(".")[2].lower().replace("-", "_")
    return name in SECRET_KEY_NAMES or name.endswith(_SECRET_KEY_SUFFIXES)


# --------------------------------------------------------------------------- redactor


#: Strings up to this many characters have their result memoized ...
_MEMO_MAX_LENGTH: Final = 4096
#: ... until the memo holds this many characters in all; then it starts afresh.
_MEMO_MAX_CHARACTERS: Final = 1 << 20
#: Key decisions (allowed / secret / ordinary) kept per redactor before starting afresh.
_KEY_MEMO_MAX_ENTRIES: Final = 4096
_ALLOWED, _SECRET, _ORDINARY = 0, 1, 2


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
        chosen = [d for d in _DETECTOR_LIST if d.name in names]
        chosen.extend(
            _extra_detector(name, regex) for name, regex in (extra_patterns or {}).items()
        )
        self._detectors: tuple[Detector, ...] = tuple(chosen)
        tokens = tuple(d for d in chosen if d.literal_first)
        self._tokens = tokens
        self._token_scan = (
            re.compile("|".join(d.pattern.pattern for d in tokens), re.DOTALL) if tokens else None
        )
        rest = [d for d in chosen if not d.literal_first]
        self._plan = tuple((d, d.gate, d.gate_lowered, d.lowered) for d in rest)
        self._needs_lowered = any(d.gate_lowered or d.lowered for d in rest)
        self._memo: dict[str, str] = {}
        self._memo_characters = 0
        self._allow_keys = frozenset(allow_keys)
        self._key_kinds: dict[str, int] = {}

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
            memo[text] = result
        return result

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
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, Mapping):
            return self._redact_mapping(value)
        if isinstance(value, (list, tuple)):
            return self._redact_sequence(value)
        return value

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


def _secret_field(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value)(SECRET_FIELD_MARKER for _ in value)
    return SECRET_FIELD_MARKER


def _extra_detector(name: str, regex: str) -> Detector:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(
            f"extra redaction pattern name {name!r} is invalid; accepted: letters, digits, "
            "'_', '.', '-'"
        )
    if name in DETECTORS:
        raise ValueError(
            f"extra redaction pattern name {name!r} is a built-in detector; "
            f"accepted: any name except {', '.join(DETECTORS)}"
        )
    try:
        pattern = re.compile(regex)
    except (re.error, TypeError) as exc:
        raise ValueError(
            f"extra redaction pattern {name}={regex!r} is not a valid regular expression "
            f"({exc}); accepted: Python 're' syntax"
        ) from exc
    if pattern.fullmatch(""):
        raise ValueError(
            f"extra redaction pattern {name}={regex!r} matches the empty string; "
            "accepted: a pattern that matches at least one character"
        )
    return Detector(name, pattern)


# --------------------------------------------------------------------------- span exporter


def _blank_strings(value: Any) -> Any:
    """Every string in ``value`` (recursively) replaced with :data:`ERROR_MARKER`."""
    if isinstance(value, str):
        return ERROR_MARKER
    if isinstance(value, Mapping):
        return {k: _blank_strings(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_blank_strings(v) for v in value)
    return value


def _redacted_mapping(
    attrs: Attributes, redact: Callable[[Any, str | None], Any], dropped: int | None = None
) -> Attributes:
    """``attrs`` redacted; the same object if unchanged. The dropped-attribute count
    (``dropped``, or that of ``attrs`` itself) is carried over."""
    if not attrs:
        return attrs
    result: dict[str, AnyValue] = {}
    changed = False
    for key, value in attrs.items():
        new = redact(value, key)
        changed = changed or new is not value
        result[key] = new
    if not changed:
        return attrs
    return _bounded_attributes(result, _dropped(attrs) if dropped is None else dropped)


def _dropped(attrs: Attributes) -> int:
    return attrs.dropped if isinstance(attrs, BoundedAttributes) else 0


def _bounded_attributes(attrs: Attributes, dropped: int) -> Attributes:
    """``attrs`` as an immutable :class:`BoundedAttributes` reporting ``dropped``."""
    bounded = BoundedAttributes(maxlen=None, attributes=attrs, immutable=True)
    bounded.dropped = dropped
    return bounded


def _bounded_list(items: Sequence[Any], dropped: int) -> Sequence[Any]:
    """``items`` as a :class:`BoundedList` reporting ``dropped`` (a tuple if none were)."""
    if not dropped:
        return tuple(items)
    bounded: BoundedList[Any] = BoundedList.from_seq(None, items)
    bounded.dropped = dropped
    return bounded


def _redacted_event(event: Event, redact: Callable[[Any, str | None], Any]) -> Event:
    attributes = _redacted_mapping(event.attributes, redact)
    if attributes is event.attributes:
        return event
    return Event(event.name, attributes, event.timestamp)


def _redacted_link(link: Link, redact: Callable[[Any, str | None], Any]) -> Link:
    attributes = _redacted_mapping(link.attributes, redact)
    if attributes is link.attributes:
        return link
    return Link(link.context, attributes)


def _redacted_span(span: ReadableSpan, redact: Callable[[Any, str | None], Any]) -> ReadableSpan:
    """A new span with redacted attributes, event/link attributes and status description;
    ``span`` itself when nothing changed. Dropped attribute/event/link counts are kept."""
    original_attributes = span.attributes  # a new read-only view on every access
    attributes = _redacted_mapping(original_attributes, redact, span.dropped_attributes)
    original_events, original_links = span.events, span.links
    events = [_redacted_event(event, redact) for event in original_events]
    links = [_redacted_link(link, redact) for link in original_links]
    status = span.status
    if status.description:
        description = redact(status.description, None)
        if description is not status.description:
            status = Status(status.status_code, description)
    if (
        attributes is original_attributes
        and status is span.status
        and all(new is old for new, old in zip(events, original_events, strict=True))
        and all(new is old for new, old in zip(links, original_links, strict=True))
    ):
        return span
    if attributes is original_attributes and span.dropped_attributes:
        attributes = _bounded_attributes(attributes, span.dropped_attributes)
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=_bounded_list(events, span.dropped_events),
        links=_bounded_list(links, span.dropped_links),
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _blank(value: Any, key: str | None) -> Any:
    return _blank_strings(value)


class RedactingSpanExporter(SpanExporter):
    """A span exporter that redacts every span, then hands it to ``exporter``.

    Redacted: span attributes, span event attributes, span link attributes and the status
    description. Not redacted: span and event names, resource attributes. The original
    spans are never modified (other processors may hold them); a changed span is a new
    :class:`~opentelemetry.sdk.trace.ReadableSpan`.

    Redaction runs inside :meth:`export`, i.e. on the ``BatchSpanProcessor`` worker
    thread, never on the thread that ended the span (unless the application configured a
    ``SimpleSpanProcessor``).

    Never raises from redaction: if redacting a span fails (a bug, or an exotic attribute
    value), that span is exported with every string value of its attributes, event and
    link attributes and status description replaced by ``[REDACTED:error]`` -- nothing
    leaks and the span's structure, timing and numbers still arrive. The first failure is
    logged once on the ``agentotel.redaction`` logger; :attr:`error_count` counts them.
    Errors of the wrapped exporter propagate as they would without the wrapper.
    """

    def __init__(self, exporter: SpanExporter, redactor: Redactor | None = None) -> None:
        self._exporter = exporter
        self._redactor = redactor if redactor is not None else Redactor()
        self.error_count = 0

    @property
    def exporter(self) -> SpanExporter:
        """The wrapped exporter."""
        return self._exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Redact ``spans`` and export them with the wrapped exporter."""
        return self._exporter.export([self._redact(span) for span in spans])

    def _redact(self, span: ReadableSpan) -> ReadableSpan:
        try:
            return _redacted_span(span, self._redactor.redact)
        except Exception:  # noqa: BLE001 - must never raise; fall back to blanking
            self._record_error()
        try:
            return _redacted_span(span, _blank)
        except Exception:  # noqa: BLE001
            return ReadableSpan(
                name=span.name,
                context=span.context,
                parent=span.parent,
                resource=span.resource,
                kind=span.kind,
                start_time=span.start_time,
                end_time=span.end_time,
                instrumentation_scope=span.instrumentation_scope,
            )

    def _record_error(self) -> None:
        self.error_count += 1
        if self.error_count == 1:
            _logger.warning(
                "span redaction failed; exporting the span with its strings replaced",
                exc_info=True,
            )

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        return self._exporter.force_flush(timeout_millis)


# --------------------------------------------------------------------------- log exporter


def _redacted_log(
    record: ReadableLogRecord, redact: Callable[[Any, str | None], Any]
) -> ReadableLogRecord:
    """A new log record with redacted body and attributes; ``record`` if unchanged."""
    inner = record.log_record
    body = redact(inner.body, None)
    attributes = _redacted_mapping(inner.attributes, redact)
    if body is inner.body and attributes is inner.attributes:
        return record
    new_inner = _copy_log_record(inner)
    new_inner.body = body
    new_inner.attributes = attributes
    return dataclasses.replace(record, log_record=new_inner)


def _copy_log_record(inner: Any) -> Any:
    new = object.__new__(type(inner))
    new.__dict__.update(inner.__dict__)
    return new


class RedactingLogRecordExporter(LogRecordExporter):
    """A log record exporter that redacts every record, then hands it to ``exporter``.

    Redacted: the body (a string, or a structured value whose strings are redacted and
    whose secret-named keys are replaced) and the attributes. The original records are
    never modified. On an internal error the record is exported with every string of its
    body and attributes replaced by ``[REDACTED:error]``; see
    :class:`RedactingSpanExporter` for the rest of the contract.
    """

    def __init__(self, exporter: LogRecordExporter, redactor: Redactor | None = None) -> None:
        self._exporter = exporter
        self._redactor = redactor if redactor is not None else Redactor()
        self.error_count = 0

    @property
    def exporter(self) -> LogRecordExporter:
        """The wrapped exporter."""
        return self._exporter

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        """Redact ``batch`` and export it with the wrapped exporter."""
        return self._exporter.export([self._redact(record) for record in batch])

    def _redact(self, record: ReadableLogRecord) -> ReadableLogRecord:
        try:
            return _redacted_log(record, self._redactor.redact)
        except Exception:  # noqa: BLE001 - must never raise; fall back to blanking
            self.error_count += 1
            # Not logged: a log emitted here could re-enter this exporter.
        try:
            return _redacted_log(record, _blank)
        except Exception:  # noqa: BLE001
            new_inner = _copy_log_record(record.log_record)
            new_inner.body = ERROR_MARKER
            new_inner.attributes = None
            return dataclasses.replace(record, log_record=new_inner)

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._exporter.shutdown()  # type: ignore[no-untyped-call]

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        return self._exporter.force_flush(timeout_millis)

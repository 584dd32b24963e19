"""The built-in detectors, their validators, and the attribute keys that name a secret.

A :class:`Detector` is a named regular expression, an optional cheap gate and an optional
validator (Luhn for payment cards, ISO 7064 mod-97 for IBANs, the SSA rules for US social
security numbers, :mod:`ipaddress` for IPv6). :data:`DETECTORS` holds the built-in ones in
the order they run; the table and the cost notes are in :mod:`agentotel.redaction`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final


def marker(detector: str) -> str:
    """The replacement text for a match of ``detector``: ``[REDACTED:<detector>]``."""
    return f"[REDACTED:{detector}]"


#: Replacement for the whole value of an attribute whose key names a secret.
SECRET_FIELD_MARKER: Final = marker("secret_field")
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
            character and the pattern has no capturing group; a
            :class:`~agentotel.redaction.Redactor` scans for all such detectors with one
            combined expression (``re`` then skips ahead to the possible first
            characters), which is what keeps strings without any token-shaped secret
            cheap.
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


def extra_detector(name: str, regex: str) -> Detector:
    """A detector named ``name`` that replaces every match of ``regex`` (the
    ``extra_patterns`` of a :class:`~agentotel.redaction.Redactor`).

    Raises:
        ValueError: ``name`` is empty, holds characters other than letters, digits,
            ``_``, ``.`` and ``-``, or is a built-in detector's name; ``regex`` does not
            compile (Python :mod:`re` syntax) or matches the empty string. The message
            names the bad value and the accepted ones.
    """
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

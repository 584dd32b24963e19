"""Input and output guardrails: PII, secrets and prompt injection.

Each check is a pure function ``text -> Decision``; :func:`screen_input` and
:func:`screen_output` run a sequence of named checks (:class:`Guardrail`), each inside
``agentotel.guardrail(name, target=...)``, and report the verdict on the span so that the
``agentotel.guardrail.checks`` counter shows how often each guardrail allowed, denied,
modified or warned.

Input policy: a pasted secret or a prompt-injection attempt is denied; PII (email
addresses, phone numbers, card numbers, US social security numbers) is masked and the
request continues (verdict ``modify``); softer injection phrasing ("pretend you are")
gets ``warn``. Output policy: secrets and PII in the answer are masked (``modify``).

The detectors are regular expressions tuned for precision on support tickets. They are
an example, not a complete data-loss-prevention product.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import agentotel


@dataclass(frozen=True)
class Finding:
    """One match: ``kind`` names what was found (``"email"``, ``"aws_access_key"`` ...)."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Decision:
    """The outcome of one guardrail check.

    ``verdict`` is ``allow``, ``deny``, ``modify`` or ``warn``; ``text`` is the text to
    continue with (masked when the verdict is ``modify``); ``reason`` is a short
    human-readable explanation and ``categories`` the policy categories that matched.
    """

    verdict: str
    text: str
    reason: str | None = None
    categories: tuple[str, ...] = ()


# --------------------------------------------------------------------------- PII

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_CARD_CANDIDATE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])\+?\(?\d[\d ().-]{7,17}\d(?!\w)")
_US_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` (only 0-9) passes the Luhn checksum used by card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def find_pii(text: str) -> list[Finding]:
    """Email addresses, card numbers (13-19 digits, Luhn-valid), US SSNs and phone
    numbers (9-15 digits), without overlaps, in text order."""
    findings = [Finding("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]
    for match in _CARD_CANDIDATE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            findings.append(Finding("card_number", match.start(), match.end()))
    findings += [Finding("us_ssn", m.start(), m.end()) for m in _US_SSN.finditer(text)]
    for match in _PHONE_CANDIDATE.finditer(text):
        digit_count = sum(char.isdigit() for char in match.group())
        if 9 <= digit_count <= 15:
            findings.append(Finding("phone_number", match.start(), match.end()))
    return _without_overlaps(findings)


def _without_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep the earliest finding of overlapping ones (ties: the first detector wins)."""
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: f.start):
        if not kept or finding.start >= kept[-1].end:
            kept.append(finding)
    return kept


def _pii_placeholder(kind: str, original: str) -> str:
    if kind == "card_number":
        last_four = re.sub(r"\D", "", original)[-4:]
        return f"[CARD ****{last_four}]"
    return {"email": "[EMAIL]", "phone_number": "[PHONE]", "us_ssn": "[SSN]"}[kind]


# --------------------------------------------------------------------------- secrets

_SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "private_key": re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"),
    "aws_access_key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "aws_secret_key": re.compile(
        r"(?i)aws.{0,20}secret.{0,20}[=:]\s*['\"]?[A-Za-z0-9/+=]{40}\b"
    ),
    "openai_api_key": re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}"),
    "github_token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "slack_token": re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}"),
    "live_api_key": re.compile(r"\b[a-z]+_(?:live|test)_[A-Za-z0-9]{16,}\b"),
    "jwt": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "password": re.compile(r"(?i)\b(?:password|passwd|pwd)\s*[:=]\s*\S{6,}"),
}


def find_secrets(text: str) -> list[Finding]:
    """API keys and tokens of well-known shapes, AWS keys, private keys, JWTs and
    ``password: ...`` assignments, without overlaps, in text order."""
    findings = [
        Finding(kind, match.start(), match.end())
        for kind, pattern in _SECRET_PATTERNS.items()
        for match in pattern.finditer(text)
    ]
    return _without_overlaps(findings)


# --------------------------------------------------------------------------- injection

_INJECTION_PATTERNS: dict[str, re.Pattern[str]] = {
    "ignore_instructions": re.compile(
        r"(?i)\b(?:ignore|disregard|forget|override)\s+"
        r"(?:(?:all|any|of|the|your|my|these|previous|prior|above|earlier|system|safety)\s+){0,4}"
        r"(?:instructions|rules|guidelines|prompts?|directions|policies)\b"
        r"|\b(?:ignore|disregard|forget)\s+(?:everything|anything)\s+(?:above|before|earlier)"
    ),
    "reveal_system_prompt": re.compile(
        r"(?i)\b(?:reveal|show|print|repeat|output|leak|tell me)\b.{0,30}"
        r"\b(?:system prompt|hidden instructions|initial instructions|developer message)"
    ),
    "jailbreak_persona": re.compile(
        r"(?i)\b(?:you are now|enable|enter)\b.{0,20}\b(?:DAN|developer mode|jailbreak|"
        r"unrestricted mode|god mode)\b"
    ),
    "fake_system_message": re.compile(r"(?im)^\s*(?:###\s*)?(?:system|assistant)\s*:"),
}
_SUSPICIOUS_PATTERNS: dict[str, re.Pattern[str]] = {
    "role_play": re.compile(r"(?i)\b(?:pretend (?:that )?you(?:'re| are)|pretend to be|"
                            r"role-?play as|act as if you)\b"),
}


def find_injection(text: str) -> list[Finding]:
    """Prompt-injection phrasing that warrants a denial (in text order)."""
    return _match_all(_INJECTION_PATTERNS, text)


def find_suspicious(text: str) -> list[Finding]:
    """Softer manipulation phrasing that warrants a warning only (in text order)."""
    return _match_all(_SUSPICIOUS_PATTERNS, text)


def _match_all(patterns: dict[str, re.Pattern[str]], text: str) -> list[Finding]:
    findings = [
        Finding(kind, match.start(), match.end())
        for kind, pattern in patterns.items()
        for match in pattern.finditer(text)
    ]
    return sorted(findings, key=lambda f: f.start)


# --------------------------------------------------------------------------- checks


def mask(text: str, findings: Sequence[Finding], placeholder: Callable[[Finding], str]) -> str:
    """Replace each (non-overlapping) finding in ``text`` by ``placeholder(finding)``."""
    pieces, cursor = [], 0
    for finding in sorted(findings, key=lambda f: f.start):
        pieces += [text[cursor : finding.start], placeholder(finding)]
        cursor = finding.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _describe(findings: Sequence[Finding]) -> str:
    """``"email, card_number"``: the distinct kinds found, in order of appearance."""
    return ", ".join(dict.fromkeys(finding.kind for finding in findings))


def pii_filter(text: str) -> Decision:
    """Mask PII: ``modify`` with placeholders such as ``[EMAIL]`` or ``[CARD ****1111]``,
    else ``allow``."""
    findings = find_pii(text)
    if not findings:
        return Decision("allow", text)
    masked = mask(text, findings, lambda f: _pii_placeholder(f.kind, text[f.start : f.end]))
    return Decision("modify", masked, f"masked {_describe(findings)}", ("pii",))


def secret_scanner_deny(text: str) -> Decision:
    """Deny text that carries a secret (used on user input: the secret must not reach the
    model provider, and the user should rotate it)."""
    findings = find_secrets(text)
    if not findings:
        return Decision("allow", text)
    return Decision("deny", text, _describe(findings), ("secret",))


def secret_scanner_redact(text: str) -> Decision:
    """Redact secrets to ``[REDACTED SECRET]`` (used on model output)."""
    findings = find_secrets(text)
    if not findings:
        return Decision("allow", text)
    redacted = mask(text, findings, lambda f: "[REDACTED SECRET]")
    return Decision("modify", redacted, f"redacted {_describe(findings)}", ("secret",))


def injection_detector(text: str) -> Decision:
    """Deny prompt-injection attempts, warn on role-play manipulation, else allow."""
    findings = find_injection(text)
    if findings:
        return Decision(
            "deny", text, _describe(findings), ("prompt_injection",)
        )
    suspicious = find_suspicious(text)
    if suspicious:
        return Decision(
            "warn", text, _describe(suspicious), ("prompt_injection",)
        )
    return Decision("allow", text)


@dataclass(frozen=True)
class Guardrail:
    """A named check; ``name`` is what the ``apply_guardrail`` span and metrics show."""

    name: str
    check: Callable[[str], Decision]


#: Checks on the user's request, in order; the first ``deny`` stops the sequence.
INPUT_GUARDRAILS: tuple[Guardrail, ...] = (
    Guardrail("secret-scanner", secret_scanner_deny),
    Guardrail("prompt-injection", injection_detector),
    Guardrail("pii-filter", pii_filter),
)
#: Checks on the writer's answer, in order.
OUTPUT_GUARDRAILS: tuple[Guardrail, ...] = (
    Guardrail("secret-scanner", secret_scanner_redact),
    Guardrail("pii-filter", pii_filter),
)

_SEVERITY = {"allow": 0, "warn": 1, "modify": 2, "deny": 3}


@dataclass
class Screening:
    """The combined result of a sequence of guardrails.

    ``text`` is the text after every ``modify``; ``decisions`` maps each guardrail that
    ran to its decision, in order.
    """

    text: str
    decisions: dict[str, Decision] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """The most severe verdict seen: deny > modify > warn > allow."""
        verdicts = [decision.verdict for decision in self.decisions.values()]
        return max(verdicts, key=_SEVERITY.__getitem__, default="allow")

    def notes(self) -> str:
        """``"pii-filter: masked email"``-style notes for every non-``allow`` decision."""
        return "; ".join(
            f"{name}: {decision.reason}"
            for name, decision in self.decisions.items()
            if decision.verdict != "allow"
        )


def screen(text: str, guardrails: Sequence[Guardrail], target: str) -> Screening:
    """Run ``guardrails`` on ``text`` in order, each as one ``apply_guardrail`` span.

    ``target`` is ``"input"`` or ``"output"``. A ``modify`` hands the masked text to the
    next guardrail; a ``deny`` stops the sequence.
    """
    screening = Screening(text)
    for guardrail in guardrails:
        with agentotel.guardrail(guardrail.name, target=target) as check:
            decision = guardrail.check(screening.text)
            check.verdict(
                decision.verdict, reason=decision.reason, categories=list(decision.categories)
            )
        screening.decisions[guardrail.name] = decision
        screening.text = decision.text
        if decision.verdict == "deny":
            break
    return screening


def screen_input(text: str) -> Screening:
    """Apply :data:`INPUT_GUARDRAILS` to a user request (target ``input``)."""
    return screen(text, INPUT_GUARDRAILS, "input")


def screen_output(text: str) -> Screening:
    """Apply :data:`OUTPUT_GUARDRAILS` to an answer (target ``output``)."""
    return screen(text, OUTPUT_GUARDRAILS, "output")

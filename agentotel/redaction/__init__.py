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

| name | what it matches |
|---|---|
| ``private_key`` | PEM/PGP ``-----BEGIN ... PRIVATE KEY-----`` blocks (also truncated) |
| ``jwt`` | JSON Web Tokens (``eyJ...``.``eyJ...``.signature) |
| ``anthropic_key`` | Anthropic API keys (``sk-ant-...``) |
| ``openai_key`` | OpenAI API keys (``sk-...``, ``sk-proj-...``, ``sk-svcacct-...``) |
| ``aws_access_key`` | AWS access key ids (``AKIA...``, ``ASIA...``, 20 characters) |
| ``github_token`` | GitHub tokens (``gh*_`` prefixes: ``ghp_``, ``ghs_``, ...; ``github_pat_``) |
| ``gitlab_token`` | GitLab tokens (``glpat-`` and the other ``gl*-`` prefixes) |
| ``slack_token`` | Slack tokens (``xoxb-``, ``xoxp-``, ...) and incoming-webhook URLs |
| ``google_api_key`` | Google API keys (``AIza`` + 35 characters) |
| ``url_credentials`` | the password in ``scheme://user:password@host`` |
| ``bearer_token`` | the credential in ``Bearer <token>`` / ``Authorization: <scheme> <token>`` |
| ``aws_secret_key`` | 40-character AWS secret access keys (mixed case and digits) |
| ``secret_assignment`` | the value in ``password=...``, ``"secret": "..."``, ``api_key: ...`` |
| ``email`` | e-mail addresses |
| ``iban`` | IBANs, ISO 13616 mod-97 checksum and per-country length verified |
| ``credit_card`` | payment card numbers, 13-19 digits, Luhn-checked, known issuer prefix |
| ``us_ssn`` | US social security numbers (``AAA-GG-SSSS``, or 9 digits after "SSN") |
| ``phone`` | phone numbers: ``+<country code>`` forms, NANP, national ``0...`` forms |
| ``ipv4`` | IPv4 addresses (off by default) |
| ``ipv6`` | IPv6 addresses, validated with :mod:`ipaddress` (off by default) |

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

Modules: :mod:`~agentotel.redaction.detectors` (the detectors, their validators and the
secret key names), :mod:`~agentotel.redaction.redactor` (:class:`Redactor`) and
:mod:`~agentotel.redaction.exporters` (the two exporters and the wrapper they share).
Import from this package.
"""

from agentotel.redaction.detectors import (
    DEFAULT_DETECTORS,
    DETECTORS,
    SECRET_FIELD_MARKER,
    SECRET_KEY_NAMES,
    Detector,
    is_secret_key,
    marker,
)
from agentotel.redaction.detectors import iban_valid as iban_valid
from agentotel.redaction.detectors import luhn_valid as luhn_valid
from agentotel.redaction.exporters import (
    ERROR_MARKER,
    RedactingLogRecordExporter,
    RedactingSpanExporter,
)
from agentotel.redaction.redactor import Redactor

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

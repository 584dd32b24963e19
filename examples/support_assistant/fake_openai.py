"""A local stand-in for an OpenAI-compatible Chat Completions API.

The demo talks to this server by default so that it runs offline and gives the same
result every time. It speaks the real wire format: ``POST /v1/chat/completions`` with a
bearer token, answered with ``id``, ``object``, ``created``, ``model`` (a dated snapshot
such as ``gpt-4o-mini-2024-07-18``), ``choices[].message`` (``content`` or
``tool_calls`` with JSON ``arguments``), ``finish_reason`` and ``usage`` including
``prompt_tokens_details.cached_tokens``. A request with ``"stream": true`` is answered
with server-sent events, as OpenAI streams: ``chat.completion.chunk`` objects (the role,
then the reply a word per chunk, then the finish reason), the usage in a last chunk
without choices when ``stream_options.include_usage`` asks for it, and ``data: [DONE]``.

How the stand-in "model" answers (all derived from the request, so replies are
deterministic):

- a request that offers ``tools`` and has no tool results yet gets ``tool_calls``:
  ``convert_units`` for "26.2 miles to km" / "how many GiB is 2 TB", ``calculate`` for
  "15% of 249.99" or "(12.50 * 4) * 12", ``search_docs`` for everything else (and for
  long requests in addition);
- a request with tool results gets a ``Findings:`` list summarising them;
- a request whose system message asks for a "step-by-step plan" gets a short plan;
- any other request gets a support reply built from the ``Research notes:`` section of
  the last user message.

Faults, chosen by a hash of the request body: about 6% of requests are answered with
``429 Too Many Requests`` (``Retry-After``) the first time they are seen, and about 3%
always fail with ``500``. A request without ``Authorization: Bearer ...`` gets ``401``.

Token usage is estimated at 4 characters per token. Prompt caching is simulated the way
providers do it: the prompt is cut into 64-token blocks and every leading block that an
earlier request already sent counts as cached.

Run it on its own with ``python -m examples.support_assistant.fake_openai [PORT]``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .tools import normalize_unit

#: request model -> the dated snapshot the server says it used.
SNAPSHOTS = {
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
}
RATE_LIMIT_PERCENT = 6
SERVER_ERROR_PERCENT = 3
CHARS_PER_TOKEN = 4
CACHE_BLOCK_TOKENS = 64
SYSTEM_FINGERPRINT = "fp_0ba0d124f1"


@dataclass
class FakeResponse:
    """What the HTTP layer sends back: status code, extra headers and a JSON body, or
    for a streamed answer the chunks to send as server-sent events."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[dict[str, Any]] | None = None


# --------------------------------------------------------------------------- intents

_CONVERSION = re.compile(
    r"(?P<value>-?\d+(?:\.\d+)?)\s*(?P<from>°?[A-Za-z]+)\s+(?:to|in|into)\s+(?P<to>°?[A-Za-z]+)"
)
_HOW_MANY = re.compile(
    r"(?i)how many (?P<to>°?[A-Za-z]+) (?:is|are|in) (?P<value>-?\d+(?:\.\d+)?)\s*"
    r"(?P<from>°?[A-Za-z]+)"
)
_PERCENT_OF = re.compile(r"(?P<pct>\d+(?:\.\d+)?)\s*%\s*of\s*\$?(?P<base>\d+(?:\.\d+)?)")
_EXPRESSION_RUN = re.compile(r"[\d$(][\d\s.$()+\-*/^×]*[\d)]")
_BINARY_OPERATION = re.compile(r"[\d)]\s*(?:\*\*|[-+*/])\s*[(\d]")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
LONG_REQUEST_WORDS = 14
MIN_SEARCH_SCORE = 0.15  # weaker search hits are ignored, as a careful model would
NOTHING_FOUND = "I could not find this in our help centre, so a colleague will follow up."


def find_conversion(text: str) -> dict[str, Any] | None:
    """``{"value", "from_unit", "to_unit"}`` for "26.2 miles to km" or "how many GiB is
    2 TB"; None when there is no conversion with two known units."""
    for pattern in (_HOW_MANY, _CONVERSION):
        for match in pattern.finditer(text):
            try:
                normalize_unit(match["from"])
                normalize_unit(match["to"])
            except ValueError:
                continue
            return {
                "value": float(match["value"]),
                "from_unit": match["from"],
                "to_unit": match["to"],
            }
    return None


def find_expression(text: str) -> str | None:
    """An arithmetic expression in ``text`` ("15% of 249.99" becomes
    ``"15 / 100 * 249.99"``), or None."""
    percent = _PERCENT_OF.search(text)
    if percent:
        return f"{percent['pct']} / 100 * {percent['base']}"
    for run in _EXPRESSION_RUN.findall(text):
        expression = " ".join(run.replace("$", "").replace("×", "*").replace("^", "**").split())
        expression = _balance_parentheses(expression)
        if _BINARY_OPERATION.search(expression) and not _DATE.search(expression):
            return expression
    return None


def _balance_parentheses(expression: str) -> str:
    """Drop unmatched leading "(" and trailing ")" that a sentence may have contributed."""
    while expression.startswith("(") and expression.count("(") > expression.count(")"):
        expression = expression[1:].lstrip()
    while expression.endswith(")") and expression.count(")") > expression.count("("):
        expression = expression[:-1].rstrip()
    return expression


def plan_tool_calls(text: str, offered: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """The (tool name, arguments) pairs the stand-in model calls for a user request."""
    calls: list[tuple[str, dict[str, Any]]] = []
    conversion = find_conversion(text)
    if conversion and "convert_units" in offered:
        calls.append(("convert_units", conversion))
    expression = None if conversion else find_expression(text)
    if expression and "calculate" in offered:
        calls.append(("calculate", {"expression": expression}))
    if "search_docs" in offered and (not calls or len(text.split()) > LONG_REQUEST_WORDS):
        calls.append(("search_docs", {"query": " ".join(text.split())[:200], "top_k": 3}))
    return calls


# --------------------------------------------------------------------------- replies


def summarise_tool_result(name: str, content: str) -> str:
    """One ``Findings:`` line for a tool result (a JSON document)."""
    try:
        result = json.loads(content)
    except json.JSONDecodeError:
        return f"{name} returned text I could not read."
    if "error" in result:
        return f"{name} failed: {result['error']}."
    if name == "calculate":
        return f"{result['expression']} = {result['result']}."
    if name == "convert_units":
        source = f"{result['value']:g} {result['from_unit']}"
        return f"{source} is {result['result']:g} {result['to_unit']}."
    if name == "search_docs":
        hits = [hit for hit in result.get("results", []) if hit["score"] >= MIN_SEARCH_SCORE]
        if hits:
            return f'From "{hits[0]["title"]}": {hits[0]["snippet"]}'
    return NOTHING_FOUND


_GREETINGS = ("Hi there,", "Hello,", "Thanks for reaching out!", "Hi, thanks for writing in.")
_CLOSINGS = (
    "If anything is still unclear, just reply to this message.",
    "Let us know if there is anything else we can help with.",
    "Happy to help further if you need anything else.",
)


def write_reply(notes: list[str], digest: str) -> str:
    """A short support reply that restates the research notes."""
    greeting = _GREETINGS[int(digest[0:2], 16) % len(_GREETINGS)]
    closing = _CLOSINGS[int(digest[2:4], 16) % len(_CLOSINGS)]
    body = " ".join(notes) if notes else NOTHING_FOUND
    return f"{greeting} {body} {closing} — Acme Drive Support"


def write_plan(request: str) -> str:
    """A three-step plan naming the tools the request needs."""
    needs = [name for name, _ in plan_tool_calls(request, {"convert_units", "calculate"})]
    needs.append("search_docs")
    return (
        f"1. Research with {', '.join(needs)}.\n"
        "2. Check the findings against the help centre.\n"
        "3. Write a short, friendly reply; keep masked details masked."
    )


def customer_request(user_message: str) -> str:
    """The customer's words: the part between ``Customer request:`` and ``Plan:`` when
    the agent framed the message that way, else the whole message."""
    _, marker, rest = user_message.partition("Customer request:")
    if not marker:
        return user_message
    return rest.split("\n\nPlan:", 1)[0].strip()


def _notes_of(user_message: str) -> list[str]:
    """The ``- `` lines below ``Research notes:`` in the writer's prompt."""
    _, _, notes = user_message.partition("Research notes:")
    return [line[2:].strip() for line in notes.splitlines() if line.startswith("- ")]


# --------------------------------------------------------------------------- the model


class FakeChatModel:
    """The request -> response logic, without HTTP (so it can be tested directly).

    Thread-safe: the cache and rate-limit memories are guarded by a lock.
    """

    def __init__(
        self,
        rate_limit_percent: int = RATE_LIMIT_PERCENT,
        server_error_percent: int = SERVER_ERROR_PERCENT,
    ) -> None:
        self.rate_limit_percent = rate_limit_percent
        self.server_error_percent = server_error_percent
        self._lock = threading.Lock()
        self._cached_blocks: set[str] = set()
        self._rate_limited: set[str] = set()

    def respond(self, body: dict[str, Any]) -> FakeResponse:
        """Answer one Chat Completions request body."""
        if not isinstance(body.get("model"), str) or not isinstance(body.get("messages"), list):
            return _error(400, "'model' and 'messages' are required.", "invalid_request_error")
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        fault = self._fault(digest, body["model"])
        if fault is not None:
            return fault
        message, finish_reason = self.reply(body, digest)
        completion = self._completion(body, digest, message, finish_reason)
        if body.get("stream") is not True:
            return FakeResponse(200, completion)
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return FakeResponse(200, completion, chunks=stream_chunks(completion, include_usage))

    def _fault(self, digest: str, model: str) -> FakeResponse | None:
        bucket = int(digest[:8], 16) % 100
        if bucket < self.rate_limit_percent:
            with self._lock:
                first_time = digest not in self._rate_limited
                self._rate_limited.add(digest)
            if first_time:
                response = _error(
                    429,
                    f"Rate limit reached for {model} on requests per min (RPM): "
                    "Limit 500, Used 500, Requested 1. Please try again in 200ms.",
                    "requests",
                    code="rate_limit_exceeded",
                )
                response.headers = {"Retry-After": "1", "retry-after-ms": "200"}
                return response
        elif bucket < self.rate_limit_percent + self.server_error_percent:
            return _error(
                500,
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
            )
        return None

    def reply(self, body: dict[str, Any], digest: str) -> tuple[dict[str, Any], str]:
        """The stand-in model's turn: the assistant message and its finish reason.

        ``digest`` is the SHA-256 of the request body, the seed of ids and choices. A
        subclass overrides this to answer another application's requests; the HTTP
        layer, the response shape, the usage and cache accounting and the faults stay.
        """
        messages: list[dict[str, Any]] = body["messages"]
        offered = {t["function"]["name"] for t in body.get("tools") or [] if "function" in t}
        last = messages[-1] if messages else {}
        user_text = _text_of(next((m for m in reversed(messages) if m.get("role") == "user"), {}))
        request = customer_request(user_text)
        if offered and last.get("role") == "user":
            calls = plan_tool_calls(request, offered)
            if calls:
                tool_calls = [
                    {
                        "id": "call_" + _hash_id(f"{digest}:{index}", 24),
                        "type": "function",
                        "function": {"name": name, "arguments": json.dumps(arguments)},
                    }
                    for index, (name, arguments) in enumerate(calls)
                ]
                message = {"role": "assistant", "content": None, "tool_calls": tool_calls}
                return message, "tool_calls"
        if last.get("role") == "tool":
            return _assistant(self._findings(messages)), "stop"
        system = _text_of(next((m for m in messages if m.get("role") == "system"), {}))
        if "step-by-step plan" in system.lower():
            return _assistant(write_plan(request)), "stop"
        return _assistant(write_reply(_notes_of(user_text), digest)), "stop"

    @staticmethod
    def _findings(messages: list[dict[str, Any]]) -> str:
        """Summarise the tool results that follow the last assistant tool-call message."""
        calls: dict[str, str] = {}  # tool call id -> tool name
        lines: list[str] = []
        for message in messages:
            for call in message.get("tool_calls") or []:
                calls[call.get("id", "")] = call.get("function", {}).get("name", "tool")
            if message.get("role") == "assistant" and message.get("tool_calls"):
                lines = []
            if message.get("role") == "tool":
                name = calls.get(message.get("tool_call_id", ""), "tool")
                lines.append("- " + summarise_tool_result(name, _text_of(message)))
        return "Findings:\n" + "\n".join(lines)

    def _completion(
        self, body: dict[str, Any], digest: str, message: dict[str, Any], finish_reason: str
    ) -> dict[str, Any]:
        prompt_text = json.dumps(body.get("tools") or []) + "".join(
            f"<{m.get('role')}>{_text_of(m)}{json.dumps(m.get('tool_calls') or '')}"
            for m in body["messages"]
        )
        prompt_tokens = _tokens(prompt_text) + 3 * len(body["messages"])
        completion_text = message["content"] or json.dumps(message.get("tool_calls"))
        completion_tokens = _tokens(completion_text)
        return {
            "id": "chatcmpl-" + _hash_id(digest, 29),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": SNAPSHOTS.get(body["model"], body["model"]),
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {
                    "cached_tokens": self._cached_tokens(prompt_text),
                    "audio_tokens": 0,
                },
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
            },
        }

    def _cached_tokens(self, prompt_text: str) -> int:
        """Tokens in the leading 64-token blocks that an earlier prompt already sent."""
        block_chars = CACHE_BLOCK_TOKENS * CHARS_PER_TOKEN
        prefixes = [
            hashlib.sha256(prompt_text[:end].encode()).hexdigest()
            for end in range(block_chars, len(prompt_text) + 1, block_chars)
        ]
        with self._lock:
            cached = 0
            while cached < len(prefixes) and prefixes[cached] in self._cached_blocks:
                cached += 1
            self._cached_blocks.update(prefixes)
        return cached * CACHE_BLOCK_TOKENS


def stream_chunks(completion: dict[str, Any], include_usage: bool) -> list[dict[str, Any]]:
    """A Chat Completions response as the ``chat.completion.chunk`` objects OpenAI streams:
    the role, the content a word per chunk (tool calls in one chunk), the finish reason,
    and with ``include_usage`` a last chunk with ``"choices": []`` and the usage (every
    other chunk then has ``"usage": null``)."""
    choice = completion["choices"][0]
    message = choice["message"]
    head = {key: completion[key] for key in ("id", "created", "model", "system_fingerprint")}

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {**head, "object": "chat.completion.chunk", "choices": [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        ]}
        if include_usage:
            body["usage"] = None
        return body

    chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
    chunks += [chunk({"content": word}) for word in re.findall(r"\S+\s*", message["content"] or "")]
    if message.get("tool_calls"):
        calls = [{"index": n, **call} for n, call in enumerate(message["tool_calls"])]
        chunks.append(chunk({"tool_calls": calls}))
    chunks.append(chunk({}, choice["finish_reason"]))
    if include_usage:
        chunks.append({**head, "object": "chat.completion.chunk", "choices": [],
                       "usage": completion["usage"]})
    return chunks


def _text_of(message: dict[str, Any]) -> str:
    """A message's text (``content`` may be a string, None, or a list of parts)."""
    content = message.get("content")
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def _assistant(content: str) -> dict[str, Any]:
    return {"role": "assistant", "content": content, "refusal": None}


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def _hash_id(seed: str, length: int) -> str:
    """A stable id of ``length`` alphanumeric characters."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    number = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)


def _error(status: int, message: str, kind: str, code: str | None = None) -> FakeResponse:
    """An error in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``."""
    return FakeResponse(
        status, {"error": {"message": message, "type": kind, "param": None, "code": code}}
    )


# --------------------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 handler (keep-alive) for ``POST /v1/chat/completions``."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 (name fixed by BaseHTTPRequestHandler)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            message = f"Unknown request URL: POST {self.path}."
            self._send(_error(404, message, "invalid_request_error"))
            return
        authorization = self.headers.get("Authorization", "")
        if not authorization.startswith("Bearer ") or not authorization[7:].strip():
            self._send(
                _error(
                    401,
                    "You didn't provide an API key. You need to provide your API key in an "
                    "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    "invalid_request_error",
                )
            )
            return
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            self._send(_error(400, "We could not parse the JSON body of your request.",
                              "invalid_request_error"))
            return
        if not isinstance(body, dict):
            self._send(_error(400, "The body must be a JSON object.", "invalid_request_error"))
            return
        response = self.server.model.respond(body)
        time.sleep(self.server.latency_s(raw))
        if response.chunks is not None:
            self._send_events(response.chunks)
        else:
            self._send(response)

    def _send_events(self, chunks: list[dict[str, Any]]) -> None:
        """Server-sent events, one ``data:`` line per chunk, then ``data: [DONE]``; each
        written on its own after :attr:`_Server.chunk_interval_s`, as tokens arrive."""
        events = [f"data: {json.dumps(chunk)}\n\n".encode() for chunk in chunks]
        events.append(b"data: [DONE]\n\n")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Content-Length", str(sum(len(event) for event in events)))
        self.send_header("x-request-id", "req_" + _hash_id(events[0].decode(), 24))
        self.end_headers()
        for event in events:
            self.wfile.write(event)
            self.wfile.flush()
            time.sleep(self.server.chunk_interval_s)

    def _send(self, response: FakeResponse) -> None:
        payload = json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", "req_" + _hash_id(payload.decode(), 24))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence the per-request log lines of ``http.server``."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], model: FakeChatModel, max_latency_s: float):
        super().__init__(address, _Handler)
        self.model = model
        self.max_latency_s = max_latency_s
        #: the pause between two streamed chunks (a word each).
        self.chunk_interval_s = max_latency_s / 25

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops its connection (reset, broken pipe: the SDK's connection pool
        closing) has simply gone; anything else is printed as ``socketserver`` does."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)

    def latency_s(self, raw: bytes) -> float:
        """A deterministic simulated latency between 20% and 100% of ``max_latency_s``."""
        fraction = int(hashlib.sha256(raw).hexdigest()[:4], 16) / 0xFFFF
        return self.max_latency_s * (0.2 + 0.8 * fraction)


class FakeOpenAIServer:
    """The stand-in API on ``host``, port ``port`` (0: a free port), in a daemon thread.

    Use as a context manager; :attr:`base_url` is the value for ``OPENAI_BASE_URL``
    (``http://127.0.0.1:PORT/v1``). ``max_latency_s`` bounds the simulated model latency.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_latency_s: float = 0.05,
        model: FakeChatModel | None = None,
    ) -> None:
        self._host = host
        self._server = _Server((host, port), model or FakeChatModel(), max_latency_s)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-openai", daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._server.server_port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve on the port given as the only argument (default 8000) until interrupted."""
    args = sys.argv[1:] if argv is None else argv
    server = FakeOpenAIServer(port=int(args[0]) if args else 8000)
    print(f"fake OpenAI-compatible API at {server.base_url} (Ctrl-C to stop)", flush=True)
    with server:
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

"""The protocol layers never raise into the application, whatever crosses them.

The same property as ``test_never_raises.py`` (the OpenTelemetry error-handling principle),
for what reaches agentotel from the wire or from the caller at run time: MCP methods,
params, ``_meta`` (malformed ``traceparent``, non-string keys and values, cycles), request
ids, results and handler exceptions on both sides; A2A requests, responses, Agent Cards
and clients of any shape; the remote agent's arguments. In every content capture mode:

- no exception raised by agentotel reaches the caller;
- the handler's (or the caller's block's) result and exception reach the caller
  unchanged (the same objects);
- every span that starts also ends, and the caller's context is restored.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
import test_never_raises as _base
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.trace import SpanKind
from test_never_raises import (
    EXAMPLES,
    HOSTILE,
    INT_OR_HOSTILE,
    KEYS,
    TEXT_OR_HOSTILE,
    USER_ERRORS,
    Spans,
)

import agentotel
from agentotel.integrations import a2a, mcp

# the same fixtures: agentotel in every content capture mode, with a span counter
providers = _base.providers
counter = _base.counter

META = st.dictionaries(
    st.sampled_from(["traceparent", "tracestate", "baggage", mcp.sc.MCP_META_PROTOCOL_VERSION])
    | KEYS,
    st.sampled_from(["00-zz-yy-01", "00-" + "a" * 32 + "-" + "b" * 16 + "-01", "k=v,=,%%"])
    | TEXT_OR_HOSTILE,
    max_size=4,
)
PARAMS = HOSTILE | st.fixed_dictionaries(
    {},
    optional={
        "name": TEXT_OR_HOSTILE,
        "uri": TEXT_OR_HOSTILE,
        "arguments": HOSTILE,
        "protocolVersion": TEXT_OR_HOSTILE,
        "_meta": META | HOSTILE,
    },
)
METHODS = st.sampled_from(
    ["tools/call", "prompts/get", "resources/read", "initialize", "notifications/progress"]
) | TEXT_OR_HOSTILE
RESULTS = HOSTILE | st.fixed_dictionaries(
    {}, optional={"isError": HOSTILE | st.booleans(), "content": HOSTILE,
                  "structuredContent": HOSTILE, "code": INT_OR_HOSTILE, "message": HOSTILE},
)


@EXAMPLES
@given(method=METHODS, params=PARAMS, request_id=HOSTILE, version=TEXT_OR_HOSTILE,
       network=st.dictionaries(st.text(max_size=5), HOSTILE, max_size=2), result=RESULTS,
       raise_inside=st.booleans(), error_type=USER_ERRORS)
def test_an_mcp_server_span_never_raises(counter, method, params, request_id, version,
                                         network, result, raise_inside, error_type):
    error = error_type("handler failed")

    async def handler() -> Any:
        if raise_inside:
            raise error
        return result

    with Spans(counter):
        if raise_inside:
            with pytest.raises(error_type) as raised:
                anyio.run(mcp.serve, method, params, request_id, version, network, handler)
            assert raised.value is error
        else:
            assert anyio.run(
                mcp.serve, method, params, request_id, version, network, handler
            ) is result


@EXAMPLES
@given(method=METHODS, params=PARAMS, request_id=HOSTILE, version=TEXT_OR_HOSTILE,
       transport=st.sampled_from(["pipe", "tcp"]) | TEXT_OR_HOSTILE, address=TEXT_OR_HOSTILE,
       port=INT_OR_HOSTILE, result=RESULTS, raise_inside=st.booleans(), error_type=USER_ERRORS)
def test_an_mcp_client_span_never_raises(counter, method, params, request_id, version,
                                         transport, address, port, result, raise_inside,
                                         error_type):
    peer = mcp.Peer(transport, address, port)
    error = error_type("call failed")
    with Spans(counter):
        try:
            with mcp.client_exchange(method, params, peer, version, request_id) as exchange:
                carried = mcp._safe_call(mcp.with_meta, params, default=params)
                assert carried is params or isinstance(carried, dict)
                if raise_inside:
                    raise error
                if exchange is not None:
                    mcp._safely(exchange.result, result)
        except error_type as raised:
            assert raised is error and raise_inside


@EXAMPLES
@given(meta=META | HOSTILE)
def test_extracting_any_meta_never_raises(counter, meta):
    context = mcp.extracted(meta) if isinstance(meta, dict) else None
    assert context is None or isinstance(context, dict)


@EXAMPLES
@given(request=HOSTILE, response=HOSTILE, card=HOSTILE, method=TEXT_OR_HOSTILE,
       failure=st.none() | USER_ERRORS.map(lambda t: t("boom")))
def test_an_a2a_span_never_raises_whatever_it_reads(counter, request, response, card, method,
                                                    failure):
    class Client:
        _card = card
        _transport = response

    with Spans(counter):
        call = a2a._client_call(Client(), method, request)
        if call is not None:
            call.saw(response)
            call.end(failure)
        server = a2a._server_call(Client(), method, request, card)
        if server is not None:
            server.saw(request)
            server.end()


@EXAMPLES
@given(name=TEXT_OR_HOSTILE, provider=st.none() | TEXT_OR_HOSTILE, address=TEXT_OR_HOSTILE,
       port=INT_OR_HOSTILE, raise_inside=st.booleans(), error_type=USER_ERRORS)
def test_a_remote_agent_never_raises(counter, name, provider, address, port, raise_inside,
                                     error_type):
    error = error_type("remote failed")
    with Spans(counter):
        try:
            with agentotel.agent(name, remote=True, provider=provider, server_address=address,
                                 server_port=port) as invocation:
                assert invocation.span.kind is SpanKind.CLIENT or not invocation.span.is_recording()
                if raise_inside:
                    raise error
        except error_type as raised:
            assert raised is error and raise_inside

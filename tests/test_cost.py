"""Offline pricing by provider and model: USD per million tokens, cached tokens priced once.

Expected values are computed here from the providers' published prices (USD per million
tokens, standard tier), not taken from agentotel's table or genai-prices' data.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date, datetime, time, timezone
from decimal import Decimal

import pytest

from agentotel.cost import (
    GenAIPrices,
    ModelPrice,
    PriceTable,
    load_price_table,
    packaged_price_table,
)

TABLE = load_price_table()  # the default: genai-prices when installed, then the packaged table
PACKAGED = packaged_price_table()
BOTH = pytest.mark.parametrize("table", [TABLE, PACKAGED], ids=["default", "packaged"])

needs_genai_prices = pytest.mark.skipif(
    GenAIPrices().lookup("gpt-4o", "openai")[0] is None, reason="genai-prices is not installed"
)


def usd(*tokens_at_rate: tuple[int, float]) -> float:
    """USD for (tokens, USD per million tokens) pairs."""
    return sum(tokens * rate for tokens, rate in tokens_at_rate) / 1_000_000


# ------------------------------------------------------------------------------ OpenAI


@BOTH
def test_openai_uncached_input_and_output(table):
    # gpt-4o: 2.50 input, 10.00 output (openai.com/api/pricing)
    cost = table.cost(provider="openai", model="gpt-4o", input_tokens=1000, output_tokens=100)
    assert cost == pytest.approx(usd((1000, 2.50), (100, 10.00)))


@BOTH
def test_openai_dated_snapshot_is_priced_as_its_family_with_cache_reads(table):
    # gpt-4o-mini: 0.15 input, 0.075 cached input, 0.60 output
    cost = table.cost(
        provider="openai",
        model="gpt-4o-mini-2024-07-18",
        input_tokens=1200,
        output_tokens=80,
        cache_read_input_tokens=1024,
    )
    assert cost == pytest.approx(usd((176, 0.15), (1024, 0.075), (80, 0.60)))


@BOTH
def test_an_older_snapshot_keeps_its_own_price(table):
    # gpt-4o-2024-05-13: 5.00 input, 15.00 output — not gpt-4o's 2.50 / 10.00
    cost = table.cost(provider="openai", model="gpt-4o-2024-05-13", input_tokens=1000,
                      output_tokens=100)
    assert cost == pytest.approx(usd((1000, 5.00), (100, 15.00)))


@BOTH
def test_a_longer_name_is_not_its_prefix(table):
    # gpt-5-pro: 15.00 / 120.00, not gpt-5's 1.25 / 10.00; o3-mini: 1.10 / 4.40, not o3's
    assert table.cost(provider="openai", model="gpt-5-pro", input_tokens=1000,
                      output_tokens=100) == pytest.approx(usd((1000, 15.0), (100, 120.0)))
    assert table.cost(provider="openai", model="o3-mini", input_tokens=1000,
                      output_tokens=100) == pytest.approx(usd((1000, 1.10), (100, 4.40)))
    assert table.price("gpt-4omega", "openai") is None


@BOTH
def test_embeddings_have_input_only(table):
    # text-embedding-3-small: 0.02 per million input tokens
    cost = table.cost(provider="openai", model="text-embedding-3-small", input_tokens=50_000,
                      output_tokens=0)
    assert cost == pytest.approx(usd((50_000, 0.02)))


def test_the_old_positional_form_prices_for_any_provider():
    # gpt-4o: 2.50 input, 10.00 output
    assert TABLE.cost("gpt-4o", 2_000_000, 500_000) == pytest.approx(5.0 + 5.0)
    assert PACKAGED.cost("gpt-4o", 2_000_000, 500_000) == pytest.approx(5.0 + 5.0)


# --------------------------------------------------------------------------- fine-tuned


@BOTH
def test_a_fine_tuned_openai_model_is_priced_at_the_fine_tuned_rate(table):
    # fine-tuned gpt-4o-mini-2024-07-18: 0.30 input, 1.20 output (base: 0.15 / 0.60)
    cost = table.cost(provider="openai", model="ft:gpt-4o-mini-2024-07-18:acme::9abcDEF",
                      input_tokens=1000, output_tokens=100)
    assert cost == pytest.approx(usd((1000, 0.30), (100, 1.20)))


@BOTH
def test_a_fine_tune_of_unknown_rate_has_no_cost_never_the_base_price(table):
    for provider, model in (
        ("openai", "gpt-4o-mini-2024-07-18-ft"),
        ("openai", "ft:o4-mini-2025-04-16:acme::9abcDEF"),
        ("openai", "ft:gpt-4-0613:acme::9abcDEF"),  # genai-prices alone prices it as gpt-4
        ("azure.ai.openai", "gpt-4o-2024-08-06-ft-0123abcd"),
        ("aws.bedrock", "arn:aws:bedrock:us-east-1:123456789012:custom-model/"
                        "amazon.nova-pro-v1:0/abcdefghijkl"),
        ("mistral_ai", "ft:open-mistral-7b:587a6b29:20240514:7e773925"),
    ):
        assert table.cost(provider=provider, model=model, input_tokens=1000,
                          output_tokens=100) is None, model


# ---------------------------------------------------------------------------- Anthropic


@BOTH
def test_anthropic_cache_reads_and_writes_at_their_own_rates_never_twice(table):
    # claude-sonnet-4-5: 3.00 input, 0.30 cache read, 3.75 cache write (5 min), 15.00 output
    cost = table.cost(
        provider="anthropic",
        model="claude-sonnet-4-5-20250929",
        input_tokens=100_000,  # includes the cached tokens (GenAI semantic conventions)
        output_tokens=1000,
        cache_read_input_tokens=60_000,
        cache_write_input_tokens=10_000,
    )
    assert cost == pytest.approx(
        usd((30_000, 3.00), (60_000, 0.30), (10_000, 3.75), (1000, 15.00))
    )


@BOTH
def test_anthropic_alias_ids(table):
    # claude-3-5-haiku: 0.80 / 4.00; claude-sonnet-4 (alias claude-sonnet-4-0): 3.00 / 15.00
    assert table.cost(provider="anthropic", model="claude-3-5-haiku-latest", input_tokens=1000,
                      output_tokens=100) == pytest.approx(usd((1000, 0.80), (100, 4.00)))
    assert table.cost(provider="anthropic", model="claude-sonnet-4-0", input_tokens=1000,
                      output_tokens=100) == pytest.approx(usd((1000, 3.00), (100, 15.00)))


@needs_genai_prices
def test_prompts_over_200k_tokens_pay_the_long_context_rates_for_all_tokens():
    # claude-sonnet-4-5 over 200k input tokens: 6.00 input, 0.60 cache read, 22.50 output
    cost = TABLE.cost(provider="anthropic", model="claude-sonnet-4-5", input_tokens=300_000,
                      output_tokens=1000, cache_read_input_tokens=100_000)
    assert cost == pytest.approx(usd((200_000, 6.00), (100_000, 0.60), (1000, 22.50)))


# ------------------------------------------------------------------------------- Google


@BOTH
def test_gemini_api(table):
    # gemini-2.5-flash: 0.30 input, 0.03 cached input, 2.50 output (ai.google.dev pricing)
    cost = table.cost(provider="gcp.gemini", model="gemini-2.5-flash", input_tokens=10_000,
                      output_tokens=1000, cache_read_input_tokens=8000)
    assert cost == pytest.approx(usd((2000, 0.30), (8000, 0.03), (1000, 2.50)))


@BOTH
def test_gemini_stable_version_suffix(table):
    # gemini-2.0-flash-001 is gemini-2.0-flash: 0.10 input, 0.40 output
    cost = table.cost(provider="gcp.gemini", model="gemini-2.0-flash-001", input_tokens=1000,
                      output_tokens=100)
    assert cost == pytest.approx(usd((1000, 0.10), (100, 0.40)))


@BOTH
def test_vertex_ai_gemini(table):
    # gemini-2.5-pro on Vertex AI, prompts <= 200k: 1.25 input, 10.00 output
    cost = table.cost(provider="gcp.vertex_ai", model="gemini-2.5-pro", input_tokens=1000,
                      output_tokens=100)
    assert cost == pytest.approx(usd((1000, 1.25), (100, 10.00)))


@needs_genai_prices
def test_vertex_ai_claude():
    # Claude Sonnet 4 on Vertex AI: 3.00 input, 15.00 output
    cost = TABLE.cost(provider="gcp.vertex_ai", model="claude-sonnet-4@20250514",
                      input_tokens=1000, output_tokens=100)
    assert cost == pytest.approx(usd((1000, 3.00), (100, 15.00)))


# ------------------------------------------------------------------------------ Mistral


@BOTH
def test_mistral_versions(table):
    # Mistral Large 24.11: 2.00 / 6.00; Codestral 25.08: 0.30 / 0.90 (mistral.ai/pricing)
    assert table.cost(provider="mistral_ai", model="mistral-large-2411", input_tokens=1000,
                      output_tokens=100) == pytest.approx(usd((1000, 2.00), (100, 6.00)))
    assert table.cost(provider="mistral_ai", model="codestral-2508", input_tokens=1000,
                      output_tokens=100) == pytest.approx(usd((1000, 0.30), (100, 0.90)))


# ------------------------------------------------------------------------ AWS Bedrock


@needs_genai_prices
def test_bedrock_model_ids():
    # Bedrock on-demand: Claude 3.5 Sonnet 3.00 / 15.00, Nova Pro 0.80 / 3.20,
    # Llama 3.1 70B Instruct 0.72 / 0.72 (aws.amazon.com/bedrock/pricing)
    for model, inp, out in (
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", 3.00, 15.00),
        ("amazon.nova-pro-v1:0", 0.80, 3.20),
        ("us.amazon.nova-pro-v1:0", 0.80, 3.20),
        ("meta.llama3-1-70b-instruct-v1:0", 0.72, 0.72),
    ):
        cost = TABLE.cost(provider="aws.bedrock", model=model, input_tokens=1000,
                          output_tokens=100)
        assert cost == pytest.approx(usd((1000, inp), (100, out))), model


@needs_genai_prices
def test_bedrock_regional_endpoints_cost_ten_percent_more_from_sonnet_4_5():
    # Claude Sonnet 4.5: global endpoint 3.00 / 15.00, regional (us.) 3.30 / 16.50
    def cost(model):
        return TABLE.cost(provider="aws.bedrock", model=model, input_tokens=1000,
                          output_tokens=100)

    assert cost("global.anthropic.claude-sonnet-4-5-20250929-v1:0") == pytest.approx(
        usd((1000, 3.00), (100, 15.00))
    )
    assert cost("us.anthropic.claude-sonnet-4-5-20250929-v1:0") == pytest.approx(
        usd((1000, 3.30), (100, 16.50))
    )


def test_packaged_first_party_prices_do_not_apply_to_other_providers():
    assert PACKAGED.price("gpt-4o", "aws.bedrock") is None
    assert PACKAGED.price("claude-sonnet-4-5", "gcp.vertex_ai") is None


# -------------------------------------------------------------------------------- Azure


@BOTH
def test_azure_openai(table):
    # Azure OpenAI global deployment of gpt-4o: 2.50 / 10.00
    cost = table.cost(provider="azure.ai.openai", model="gpt-4o-2024-11-20", input_tokens=1000,
                      output_tokens=100)
    assert cost == pytest.approx(usd((1000, 2.50), (100, 10.00)))
    assert table.price("my-prod-gpt4o-deployment", "azure.ai.openai") is None


# ------------------------------------------------------------------------ no price at all


@BOTH
def test_unknown_model_or_provider_has_no_cost(table):
    assert table.cost(provider="openai", model="my-finetune", input_tokens=100,
                      output_tokens=100) is None
    assert table.cost(provider="vllm", model="gpt-4o", input_tokens=100,
                      output_tokens=100) is None
    assert table.cost(provider="openai", model="", input_tokens=1, output_tokens=1) is None


def test_no_token_counts_no_cost():
    assert TABLE.cost(provider="openai", model="gpt-4o", input_tokens=None,
                      output_tokens=None) is None


def test_cache_counts_above_the_input_count_never_make_a_negative_price():
    # gpt-4o: 1.25 cached input; a provider reporting more cached than input tokens
    cost = PACKAGED.cost(provider="openai", model="gpt-4o", input_tokens=10, output_tokens=0,
                         cache_read_input_tokens=100)
    assert cost == pytest.approx(usd((100, 1.25)))


def test_an_empty_table_prices_nothing():
    assert PriceTable({}).cost("gpt-4o", 100, 100) is None


def test_without_genai_prices_the_packaged_table_serves(monkeypatch):
    monkeypatch.setitem(sys.modules, "genai_prices", None)  # as if it were not installed
    table = load_price_table()
    assert table.cost(provider="openai", model="gpt-4o", input_tokens=1000,
                      output_tokens=100) == pytest.approx(usd((1000, 2.50), (100, 10.00)))
    assert table.price("amazon.nova-pro-v1:0", "aws.bedrock") is None


def test_the_memo_is_bounded():
    table = load_price_table()
    for i in range(5000):
        table.price(f"model-{i}", "openai")
    assert len(table._memo) <= 4096
    assert table.cost(provider="openai", model="gpt-4o", input_tokens=1000,
                      output_tokens=100) == pytest.approx(usd((1000, 2.50), (100, 10.00)))


# ----------------------------------------------------------- prices that change over time


def test_genai_prices_tiers_and_date_changes_are_kept():
    genai_types = pytest.importorskip("genai_prices.types")
    from agentotel.cost import _from_genai, _next_change

    long_context = [genai_types.Tier(200_000, Decimal("6"))]
    tiered = genai_types.ModelPrice(
        input_mtok=genai_types.TieredPrices(Decimal("3"), long_context),
        output_mtok=Decimal("15"),
    )
    assert _from_genai(tiered) == ModelPrice(3.0, 15.0, 3.0, 3.0, ((200_000,
                                             ModelPrice(6.0, 15.0, 6.0, 6.0)),))
    model = genai_types.ModelInfo(
        id="m",
        match=genai_types.ClauseEquals(equals="m"),
        prices=[
            genai_types.ConditionalPrice(prices=genai_types.ModelPrice(input_mtok=Decimal("1"))),
            genai_types.ConditionalPrice(
                constraint=genai_types.StartDateConstraint(start_date=date(2030, 1, 1)),
                prices=genai_types.ModelPrice(input_mtok=Decimal("2")),
            ),
            genai_types.ConditionalPrice(
                constraint=genai_types.TimeOfDateConstraint(
                    start_time=time(16, 30, tzinfo=timezone.utc),
                    end_time=time(0, 30, tzinfo=timezone.utc),
                ),
                prices=genai_types.ModelPrice(input_mtok=Decimal("0.5")),
            ),
        ],
    )
    utc = timezone.utc
    # at noon the next change is the 16:30 UTC off-peak start, before the 2030-01-01 price
    noon = datetime(2029, 12, 31, 12, 0, tzinfo=utc)
    assert _next_change(model, noon) == datetime(2029, 12, 31, 16, 30, tzinfo=utc).timestamp()
    evening = datetime(2029, 12, 31, 20, 0, tzinfo=utc)
    assert _next_change(model, evening) == datetime(2030, 1, 1, tzinfo=utc).timestamp()


# --------------------------------------------------------------- AGENTOTEL_PRICING_FILE


def test_file_entries_win_over_the_default_sources(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {
        "gpt-4o": {"provider": "openai", "input": 1.0, "output": 1.0, "cache_read": 0.5},
        "in-house-7b": {"input": 1.0, "output": 2.0},
    }}))
    table = load_price_table(str(path))
    assert table.cost(provider="openai", model="gpt-4o", input_tokens=1_000_000,
                      output_tokens=1_000_000, cache_read_input_tokens=1_000_000) == pytest.approx(
        0.5 + 1.0
    )
    # an entry without a provider applies to every provider
    assert table.cost(provider="vllm", model="in-house-7b", input_tokens=1_000_000,
                      output_tokens=1_000_000) == pytest.approx(1.0 + 2.0)
    # an entry for one provider leaves the others to the default sources (gpt-4o on Azure:
    # 2.50 / 10.00)
    assert table.cost(provider="azure.ai.openai", model="gpt-4o", input_tokens=1_000_000,
                      output_tokens=0) == pytest.approx(2.50)
    # models the file does not name keep their prices (gpt-4o-mini: 0.15 input)
    assert table.cost(provider="openai", model="gpt-4o-mini", input_tokens=1_000_000,
                      output_tokens=0) == pytest.approx(0.15)


def test_malformed_file_names_the_model(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {"broken": {"input": "cheap"}}}))
    with pytest.raises(ValueError, match="model 'broken' needs numeric input and output prices"):
        load_price_table(str(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read a JSON pricing table"),
        (json.dumps({"gpt-4o": {"input": 1, "output": 1}}), 'a JSON object with a "models"'),
        (json.dumps({"models": {"m": {"input": -1, "output": 1}}}), "finite and not negative"),
        (json.dumps({"models": {"m": {"input": 1, "output": 1, "provider": 7}}}),
         "provider must be a gen_ai.provider.name"),
    ],
)
def test_a_bad_file_is_a_value_error(tmp_path, content, message):
    path = tmp_path / "prices.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_price_table(str(path))


def test_a_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read a JSON pricing table"):
        load_price_table(str(tmp_path / "missing.json"))


# ------------------------------------------------------------------------- no network


def test_pricing_makes_no_network_call():
    script = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise AssertionError("network access")

        class NoSocket(socket.socket):
            def __init__(self, *args, **kwargs):
                refuse()

        socket.socket = NoSocket
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        from agentotel.cost import load_price_table

        table = load_price_table()
        for provider, model in [
            ("openai", "gpt-4o"), ("anthropic", "claude-sonnet-4-5-20250929"),
            ("gcp.gemini", "gemini-2.5-flash"), ("mistral_ai", "mistral-large-2411"),
            ("aws.bedrock", "amazon.nova-pro-v1:0"), ("gcp.vertex_ai", "claude-sonnet-4@20250514"),
            ("azure.ai.openai", "gpt-4o"), ("openai", "unknown-model"),
        ]:
            print(provider, model, table.cost(provider=provider, model=model, input_tokens=1000,
                                              output_tokens=100))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "network access" not in result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 8
    assert float(lines[0].split()[-1]) == pytest.approx(usd((1000, 2.50), (100, 10.00)))
    assert lines[-1] == "openai unknown-model None"

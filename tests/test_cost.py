"""Offline pricing: USD per million tokens, cached tokens priced once, unknown models unpriced."""

from __future__ import annotations

import json

import pytest

from agentotel.cost import load_price_table

TABLE = load_price_table()


def test_packaged_table_covers_the_four_providers():
    for model in (
        "gpt-4o-mini",
        "gpt-4.1",
        "claude-sonnet-4-5",
        "claude-haiku-4-5",
        "gemini-2.5-flash",
        "mistral-large",
    ):
        assert TABLE.price(model) is not None, model


def test_dated_snapshot_resolves_to_its_family():
    assert TABLE.price("gpt-4o-mini-2024-07-18") == TABLE.price("gpt-4o-mini")
    assert TABLE.price("claude-sonnet-4-5-20250929") == TABLE.price("claude-sonnet-4-5")


def test_longest_prefix_wins():
    assert TABLE.price("gpt-4o-mini-2024-07-18") != TABLE.price("gpt-4o")


def test_prefix_must_end_at_a_separator():
    assert TABLE.price("gpt-4omega") is None


def test_uncached_input_and_output():
    # gpt-4o: 2.50 input, 10.00 output USD per million tokens
    assert TABLE.cost("gpt-4o", 2_000_000, 500_000) == pytest.approx(5.0 + 5.0)


def test_cache_reads_priced_as_cached_not_twice():
    # claude-sonnet-4-5: 3.00 input, 0.30 cache read, 3.75 cache write, 15.00 output
    cost = TABLE.cost(
        "claude-sonnet-4-5",
        1_000_000,
        0,
        cache_read_input_tokens=600_000,
        cache_write_input_tokens=100_000,
    )
    assert cost == pytest.approx(0.3 * 3.0 + 0.6 * 0.30 + 0.1 * 3.75)


def test_unknown_model_has_no_cost():
    assert TABLE.cost("my-finetune", 100, 100) is None


def test_no_token_counts_no_cost():
    assert TABLE.cost("gpt-4o", None, None) is None


def test_file_entries_override_packaged_prices(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps({"models": {"gpt-4o": {"input": 1.0, "output": 1.0, "cache_read": 0.5}}})
    )
    table = load_price_table(str(path))
    assert table.cost(
        "gpt-4o", 1_000_000, 1_000_000, cache_read_input_tokens=1_000_000
    ) == pytest.approx(0.5 + 1.0)
    assert len(table) == len(TABLE)


def test_malformed_file_names_the_model(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {"broken": {"input": "cheap"}}}))
    with pytest.raises(ValueError, match="model 'broken' needs numeric input and output prices"):
        load_price_table(str(path))

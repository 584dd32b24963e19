"""Offline LLM pricing: token counts -> USD.

Prices come from the packaged table ``agentotel/data/pricing.json`` (USD per million
tokens, separate prices for uncached input, cache reads, cache writes and output), which
a JSON file of the same shape named by ``AGENTOTEL_PRICING_FILE`` extends or overrides.

Token accounting follows the GenAI semantic conventions: ``gen_ai.usage.input_tokens``
*includes* cached tokens, so cache-read and cache-write tokens are taken out of the input
count and priced at their own rates — never twice. Reasoning tokens are part of output.
An unknown model has no price: :meth:`PriceTable.cost` returns ``None`` and nothing is
recorded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

_PER_TOKEN = 1e-6  # prices are per million tokens


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens for one model."""

    input: float
    output: float
    cache_read: float
    cache_write: float


class PriceTable:
    """Model name -> :class:`ModelPrice`, matched exactly or by the longest known prefix.

    Dated snapshots resolve to their family: ``gpt-4o-mini-2024-07-18`` is priced as
    ``gpt-4o-mini``, ``claude-sonnet-4-5-20250929`` as ``claude-sonnet-4-5``.
    """

    def __init__(self, prices: Mapping[str, ModelPrice]) -> None:
        self._prices = dict(prices)
        self._by_length = sorted(self._prices, key=len, reverse=True)
        self._resolved: dict[str, ModelPrice | None] = {}

    def __len__(self) -> int:
        return len(self._prices)

    def price(self, model: str) -> ModelPrice | None:
        """The price of ``model``, or ``None`` when the table does not know it."""
        try:
            return self._resolved[model]
        except KeyError:
            pass
        found = self._prices.get(model)
        if found is None:
            for known in self._by_length:
                if model.startswith(known) and model[len(known)] in "-@:.":
                    found = self._prices[known]
                    break
        if len(self._resolved) < 4096:  # bounded: model names come from responses
            self._resolved[model] = found
        return found

    def cost(
        self,
        model: str,
        input_tokens: int | None,
        output_tokens: int | None,
        cache_read_input_tokens: int | None = None,
        cache_write_input_tokens: int | None = None,
    ) -> float | None:
        """The call's cost in USD, or ``None`` for an unknown model or no token counts.

        ``input_tokens`` includes ``cache_read_input_tokens`` and
        ``cache_write_input_tokens`` (GenAI semantic conventions, usage attributes).
        """
        price = self.price(model)
        if price is None or (input_tokens is None and output_tokens is None):
            return None
        cache_read = cache_read_input_tokens or 0
        cache_write = cache_write_input_tokens or 0
        uncached = max((input_tokens or 0) - cache_read - cache_write, 0)
        return (
            uncached * price.input
            + cache_read * price.cache_read
            + cache_write * price.cache_write
            + (output_tokens or 0) * price.output
        ) * _PER_TOKEN


def _parse(data: Any, source: str) -> dict[str, ModelPrice]:
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise ValueError(f'{source}: expected a JSON object with a "models" object')
    prices: dict[str, ModelPrice] = {}
    for name, entry in models.items():
        try:
            inp = float(entry["input"])
            prices[name] = ModelPrice(
                input=inp,
                output=float(entry["output"]),
                cache_read=float(entry.get("cache_read", inp)),
                cache_write=float(entry.get("cache_write", inp)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f"{source}: model {name!r} needs numeric input and output prices "
                f"(USD per million tokens), optional cache_read and cache_write: {exc}"
            ) from None
    return prices


def load_price_table(pricing_file: str | None = None) -> PriceTable:
    """Load the packaged table, extended/overridden by ``pricing_file`` if given.

    Raises:
        ValueError: the file is missing, not JSON, or not of the table's shape.
    """
    packaged = resources.files("agentotel").joinpath("data/pricing.json").read_text("utf-8")
    prices = _parse(json.loads(packaged), "packaged pricing table")
    if pricing_file:
        try:
            with open(pricing_file, encoding="utf-8") as handle:
                extra = json.load(handle)
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{pricing_file}: cannot read a JSON pricing table: {exc}") from None
        prices.update(_parse(extra, pricing_file))
    return PriceTable(prices)

"""Offline LLM pricing: token counts -> USD, by provider and model.

Prices come from the packaged table ``agentotel/data/pricing.json`` (list prices of the
common first-party models), which the JSON file named by ``AGENTOTEL_PRICING_FILE`` (or
``init(pricing_file=...)``) extends or overrides: its entries win.

Prices are USD per million tokens, with separate rates for uncached input, cache reads,
cache writes and output. Token accounting follows the GenAI semantic conventions:
``gen_ai.usage.input_tokens`` *includes* cached tokens, so cache-read and cache-write
tokens are taken out of the input count and priced at their own rates — never twice.
Reasoning tokens are part of output. A model no source knows has no price: :meth:`cost`
returns ``None`` and nothing is recorded. A fine-tuned model is priced at its fine-tuned
rate where a source knows it, and otherwise not at all — never at its base model's price.

Nothing is read at import: :func:`load_price_table` reads the packaged table and the
file, and each (model, provider) pair is resolved once and kept in a bounded memo (model
names come from responses).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

_MTOK = 1_000_000  # prices are per million tokens
_FOREVER = math.inf
_MEMO_SIZE = 4096

# A dated snapshot or alias of a family in a table: gpt-4o-2024-08-06, claude-sonnet-4-20250514,
# claude-sonnet-4@20250514 (Vertex AI), gemini-2.0-flash-001, claude-3-5-haiku-latest.
_SNAPSHOT = re.compile(r"(.+?)(?:-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-\d{3}|-latest)")


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens for one model.

    ``above`` holds long-context tiers, lowest threshold first: a call whose input tokens
    (cached ones included) exceed the threshold pays that tier's rates for all of its
    tokens, as Anthropic and Google bill prompts over 200k tokens.
    """

    input: float
    output: float
    cache_read: float
    cache_write: float
    above: tuple[tuple[int, ModelPrice], ...] = ()

    def cost(
        self,
        input_tokens: int | None,
        output_tokens: int | None,
        cache_read_input_tokens: int | None = None,
        cache_write_input_tokens: int | None = None,
    ) -> float:
        """USD for one call; ``input_tokens`` includes the cache reads and writes."""
        total_input = input_tokens or 0
        rates = self
        for threshold, tier in self.above:
            if total_input > threshold:
                rates = tier
        cache_read = cache_read_input_tokens or 0
        cache_write = cache_write_input_tokens or 0
        uncached = max(total_input - cache_read - cache_write, 0)
        return (
            uncached * rates.input
            + cache_read * rates.cache_read
            + cache_write * rates.cache_write
            + (output_tokens or 0) * rates.output
        ) / _MTOK


#: What a source answers: the price (``None``: not known) and until when the answer holds,
#: in :func:`time.time` seconds (``math.inf``: for good; a source may have prices that
#: start on a date or off-peak hours).
Lookup = tuple[ModelPrice | None, float]


class PriceSource(Protocol):
    """Anything that prices a model served by a provider."""

    def lookup(self, model: str, provider: str | None) -> Lookup:
        """The price of ``model`` (as the provider names it) served by ``provider``
        (a ``gen_ai.provider.name`` value; ``None``: any), and until when it holds."""
        ...


class PriceTable:
    """Model prices from a table, then from the ``fallback`` sources, memoized.

    This is the object the rest of agentotel calls (:meth:`cost`). A table entry applies
    to the providers it names (all when it names none) and matches a model name, case
    aside, exactly, as a dated snapshot or alias of the entry (``gpt-4o-mini-2024-07-18``,
    ``claude-sonnet-4-20250514``, ``claude-sonnet-4@20250514``, ``gemini-2.0-flash-001``,
    ``claude-3-5-haiku-latest`` for ``gpt-4o-mini``, ``claude-sonnet-4``, ...), or, for an
    OpenAI-style fine-tune ``ft:<base>:<org>:...``, as the entry ``ft:<base>``. Nothing
    else: ``gpt-5-pro`` is not ``gpt-5`` and ``gpt-4o-mini-2024-07-18-ft`` is not
    ``gpt-4o-mini``. Names the table does not match go to the fallback sources in order.
    """

    def __init__(
        self,
        prices: Mapping[str, ModelPrice],
        *,
        providers: Mapping[str, Iterable[str]] | None = None,
        fallback: Sequence[PriceSource] = (),
    ) -> None:
        self._prices = {name.lower(): price for name, price in prices.items()}
        self._providers = {
            name.lower(): frozenset(p.lower() for p in names)
            for name, names in (providers or {}).items()
        }
        self._fallback = tuple(fallback)
        self._memo: dict[tuple[str, str | None], Lookup] = {}

    def lookup(self, model: str, provider: str | None) -> Lookup:
        """This table's answer, else the first fallback source's that knows the model."""
        name = model.lower()
        if provider is not None:
            provider = provider.lower()
        found = self._prices.get(name)
        if found is None or not self._serves(name, provider):
            found = None
            if name.startswith("ft:"):
                base = "ft:" + name[3:].split(":", 1)[0]
                if base != name:
                    found = self._entry(base, provider)
            else:
                snapshot = _SNAPSHOT.fullmatch(name)
                if snapshot is not None:
                    found = self._entry(snapshot.group(1), provider)
        if found is not None:
            return found, _FOREVER
        until = _FOREVER
        for source in self._fallback:
            price, valid = source.lookup(model, provider)
            if price is not None:
                return price, min(until, valid)
            until = min(until, valid)
        return None, until

    def price(self, model: str, provider: str | None = None) -> ModelPrice | None:
        """The price of ``model`` served by ``provider`` (``None``: any), or ``None``."""
        if not isinstance(model, str) or not (provider is None or isinstance(provider, str)):
            return None
        key = (model, provider)
        found = self._memo.get(key)
        if found is None or (found[1] != _FOREVER and found[1] <= time.time()):
            found = self.lookup(model, provider)
            if len(self._memo) >= _MEMO_SIZE:  # bounded: model names come from responses
                self._memo.clear()
            self._memo[key] = found
        return found[0]

    def cost(
        self,
        model: str,
        input_tokens: int | None,
        output_tokens: int | None,
        cache_read_input_tokens: int | None = None,
        cache_write_input_tokens: int | None = None,
        *,
        provider: str | None = None,
    ) -> float | None:
        """The call's cost in USD, or ``None`` for an unknown model or no token counts.

        Arguments are the span's GenAI attributes: ``provider`` is
        ``gen_ai.provider.name`` (``None``: any provider), ``model`` the
        ``gen_ai.response.model`` (else ``gen_ai.request.model``), and the counts the
        ``gen_ai.usage.*`` values.

        Precondition: the counts follow the GenAI semantic conventions —
        ``input_tokens`` *includes* ``cache_read_input_tokens`` and
        ``cache_write_input_tokens``, and ``output_tokens`` includes reasoning tokens.
        Some SDKs report otherwise (Anthropic's API leaves cached tokens out of its
        ``input_tokens``); the official instrumentations normalize to the convention, and
        a caller with raw counts adds the cached tokens in first.
        """
        if input_tokens is None and output_tokens is None:
            return None
        price = self.price(model, provider)
        if price is None:
            return None
        return price.cost(
            input_tokens, output_tokens, cache_read_input_tokens, cache_write_input_tokens
        )

    def _serves(self, name: str, provider: str | None) -> bool:
        providers = self._providers.get(name)
        return provider is None or providers is None or provider in providers

    def _entry(self, name: str, provider: str | None) -> ModelPrice | None:
        found = self._prices.get(name)
        return found if found is not None and self._serves(name, provider) else None


def _parse(data: Any, source: str) -> tuple[dict[str, ModelPrice], dict[str, list[str]]]:
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise ValueError(f'{source}: expected a JSON object with a "models" object')
    prices: dict[str, ModelPrice] = {}
    providers: dict[str, list[str]] = {}
    for name, entry in models.items():
        try:
            inp = float(entry["input"])
            price = ModelPrice(
                input=inp,
                output=float(entry["output"]),
                cache_read=float(entry.get("cache_read", inp)),
                cache_write=float(entry.get("cache_write", inp)),
            )
            if not all(
                math.isfinite(rate) and rate >= 0
                for rate in (price.input, price.output, price.cache_read, price.cache_write)
            ):
                raise ValueError("prices must be finite and not negative")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(
                f"{source}: model {name!r} needs numeric input and output prices "
                f"(USD per million tokens), optional cache_read and cache_write: {exc}"
            ) from None
        provider = entry.get("provider")
        if provider is not None:
            names = [provider] if isinstance(provider, str) else provider
            if not isinstance(names, list) or not all(isinstance(p, str) for p in names):
                raise ValueError(
                    f"{source}: model {name!r}: provider must be a gen_ai.provider.name "
                    "or a list of them"
                )
            providers[name] = names
        prices[name] = price
    return prices, providers


def _table(data: Any, source: str, fallback: Sequence[PriceSource] = ()) -> PriceTable:
    prices, providers = _parse(data, source)
    return PriceTable(prices, providers=providers, fallback=fallback)


def packaged_price_table() -> PriceTable:
    """The packaged table alone (``agentotel/data/pricing.json``)."""
    text = resources.files("agentotel").joinpath("data/pricing.json").read_text("utf-8")
    return _table(json.loads(text), "packaged pricing table")


def load_price_table(pricing_file: str | None = None) -> PriceTable:
    """The process's prices: ``pricing_file`` first, then the packaged table.

    Raises:
        ValueError: the file is missing, not JSON, or not of the table's shape.
    """
    default: list[PriceSource] = [packaged_price_table()]
    if not pricing_file:
        return PriceTable({}, fallback=default)
    try:
        with open(pricing_file, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{pricing_file}: cannot read a JSON pricing table: {exc}") from None
    return _table(data, pricing_file, default)

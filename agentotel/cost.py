"""Offline LLM pricing: token counts -> USD, by provider and model.

Where a price comes from, first to last:

1. the JSON file named by ``AGENTOTEL_PRICING_FILE`` (or ``init(pricing_file=...)``):
   its entries win over everything else;
2. `genai-prices <https://pypi.org/project/genai-prices/>`_ when it is installed (it comes
   with pydantic-ai; it is not a dependency of agentotel, and needs Python 3.11+): an
   offline price database covering the first-party APIs and the clouds that resell them
   (Bedrock, Vertex AI, Azure), long-context tiers and price changes by date. agentotel
   only reads the data bundled with the installed version; it never starts its
   ``UpdatePrices`` fetcher (an application that starts it itself gets the fetched data
   for names looked up afterwards);
3. the packaged table ``agentotel/data/pricing.json``: list prices of the common
   first-party models, for installs without genai-prices and models it does not know.

Prices are USD per million tokens, with separate rates for uncached input, cache reads,
cache writes and output. Token accounting follows the GenAI semantic conventions:
``gen_ai.usage.input_tokens`` *includes* cached tokens, so cache-read and cache-write
tokens are taken out of the input count and priced at their own rates — never twice.
Reasoning tokens are part of output. A model no source knows has no price: :meth:`cost`
returns ``None`` and nothing is recorded. A fine-tuned model is priced at its fine-tuned
rate where a source knows it, and otherwise not at all — never at its base model's price.

Nothing is read at import: :func:`load_price_table` reads the packaged table and the
file, genai-prices is imported on the first lookup, and each (model, provider) pair is
resolved once and kept in a bounded memo (model names come from responses).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

from agentotel._errors import warn

if TYPE_CHECKING:
    from genai_prices import types as genai_types

_MTOK = 1_000_000  # prices are per million tokens
_FOREVER = math.inf
_MEMO_SIZE = 4096
_DAY = 86_400.0

#: ``gen_ai.provider.name`` (and the older ``gen_ai.system``) values -> genai-prices
#: provider ids. A name not listed is looked up as a genai-prices id as it is.
GENAI_PRICES_PROVIDERS: Mapping[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "gemini": "google",
    "vertex_ai": "google",
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "az.ai.openai": "azure",
    "az.ai.inference": "azure",
    "mistral_ai": "mistral",
    "deepseek": "deepseek",
    "x_ai": "x-ai",
    "xai": "x-ai",
    "cohere": "cohere",
    "groq": "groq",
    "perplexity": "perplexity",
}

#: ``gen_ai.provider.name`` values of gateways, which forward a request to the model's own
#: provider (Portkey's, LiteLLM's): their spans are priced by the model name alone, as if
#: no provider were named.
GATEWAY_PROVIDERS: frozenset[str] = frozenset({"portkey", "litellm"})

# A dated snapshot or alias of a family in a table: gpt-4o-2024-08-06, claude-sonnet-4-20250514,
# claude-sonnet-4@20250514 (Vertex AI), gemini-2.0-flash-001, claude-3-5-haiku-latest.
_SNAPSHOT = re.compile(r"(.+?)(?:-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-\d{3}|-latest)")
# A fine-tuned or custom model: ft:gpt-4o-mini-2024-07-18:org::id (OpenAI, Mistral),
# gpt-4o-mini-2024-07-18.ft-<id> (Azure), ...-ft, a Bedrock custom-model ARN, a Gemini
# tunedModels/ name.
_FINE_TUNED = re.compile(r"(?:^|[/:])ft:|[.\-_]ft(?:[.\-_:]|$)|custom-model|tunedmodels/")


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
#: in :func:`time.time` seconds (``math.inf``: for good; genai-prices has prices that
#: start on a date and off-peak hours).
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
        """The price of ``model`` served by ``provider`` (``None``, or a gateway of
        :data:`GATEWAY_PROVIDERS`: any), or ``None``."""
        if not isinstance(model, str) or not (provider is None or isinstance(provider, str)):
            return None
        if provider in GATEWAY_PROVIDERS:
            provider = None
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


class GenAIPrices:
    """The genai-prices database as a :class:`PriceSource` (nothing when not installed).

    ``provider`` is mapped with :data:`GENAI_PRICES_PROVIDERS`; with no provider, the
    model name picks one as genai-prices does. A fine-tuned or custom model name is
    priced only by a genai-prices entry for fine-tuned models, never by its base model's.
    Only token prices are used (no per-request or per-search fees); ``cache_write`` is the
    default (5-minute) cache-write rate.
    """

    def __init__(self) -> None:
        # the genai-prices snapshot last read and its providers by id, replaced together
        self._by_id: tuple[object, dict[str, genai_types.Provider]] = (None, {})
        self._unavailable = False

    def lookup(self, model: str, provider: str | None) -> Lookup:
        if self._unavailable:
            return None, _FOREVER
        try:
            return self._lookup(model, provider)
        except ImportError:
            self._unavailable = True
        except Exception as exc:  # noqa: BLE001 - a data or version problem of genai-prices
            warn(f"genai-prices could not price model {model[:80]!r} ({type(exc).__name__})")
        return None, _FOREVER

    def _lookup(self, model: str, provider: str | None) -> Lookup:
        from genai_prices import data_snapshot

        snapshot = data_snapshot.get_snapshot()
        known, by_id = self._by_id
        if snapshot is not known:
            by_id = {p.id: p for p in snapshot.providers}
            self._by_id = (snapshot, by_id)
        all_providers = snapshot.providers
        ref = model.lower()
        if provider is not None:
            source = by_id.get(GENAI_PRICES_PROVIDERS.get(provider, provider))
        else:
            source = next(
                (p for p in all_providers if p.model_match and p.model_match.is_match(ref)), None
            )
        if source is None:
            return None, _FOREVER
        info = source.find_model(ref, all_providers=all_providers)
        if info is None or (_FINE_TUNED.search(ref) and not _FINE_TUNED.search(info.id.lower())):
            return None, _FOREVER
        now = datetime.now(timezone.utc)
        return _from_genai(info.get_prices(now)), _next_change(info, now)


def _from_genai(price: genai_types.ModelPrice) -> ModelPrice | None:
    """Token rates of a genai-prices price, tiers flattened; ``None``: not priced in tokens."""
    keys = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
    values = [getattr(price, key) for key in keys]
    if values[0] is None and values[1] is None:
        other = any(v is not None for k, v in vars(price).items() if not k.startswith("_"))
        return None if other else ModelPrice(0.0, 0.0, 0.0, 0.0)  # free, or priced otherwise
    thresholds = sorted({t.start for v in values if hasattr(v, "tiers") for t in v.tiers})

    def rates(total_input: int) -> ModelPrice:
        inp, out, read, write = (_rate(v, total_input) for v in values)
        base = inp or 0.0
        return ModelPrice(
            base,
            out or 0.0,
            base if read is None else read,
            base if write is None else write,
        )

    standard = rates(0)
    tiers = tuple((t, rates(t + 1)) for t in thresholds)
    return ModelPrice(
        standard.input, standard.output, standard.cache_read, standard.cache_write, tiers
    )


def _rate(value: Any, total_input: int) -> float | None:
    if value is None:
        return None
    if hasattr(value, "tiers"):  # a genai-prices TieredPrices: the highest tier passed
        applicable = value.base
        for tier in value.tiers:
            if total_input > tier.start:
                applicable = tier.price
        return float(applicable)
    return float(value)


def _next_change(info: genai_types.ModelInfo, now: datetime) -> float:
    """When the price genai-prices gives ``info`` may next change (a start date, an
    off-peak boundary), in :func:`time.time` seconds; ``math.inf`` for never."""
    if not isinstance(info.prices, list):
        return _FOREVER
    now_ts = now.timestamp()
    changes: list[float] = []
    for conditional in info.prices:
        constraint = conditional.constraint
        start_date = getattr(constraint, "start_date", None)
        if isinstance(start_date, date):
            start = datetime(start_date.year, start_date.month, start_date.day, tzinfo=timezone.utc)
            if start.timestamp() > now_ts:
                changes.append(start.timestamp())
        for name in ("start_time", "end_time"):
            boundary = getattr(constraint, name, None)
            if boundary is not None:
                if boundary.tzinfo is None:
                    boundary = boundary.replace(tzinfo=timezone.utc)
                at = datetime.combine(now.date(), boundary).timestamp()
                while at > now_ts + _DAY:
                    at -= _DAY
                while at <= now_ts:
                    at += _DAY
                changes.append(at)
    return min(changes, default=_FOREVER)


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
    """The process's prices: ``pricing_file`` first, then genai-prices, then the packaged
    table (see the module docstring).

    Raises:
        ValueError: the file is missing, not JSON, or not of the table's shape.
    """
    default: list[PriceSource] = [GenAIPrices(), packaged_price_table()]
    if not pricing_file:
        return PriceTable({}, fallback=default)
    try:
        with open(pricing_file, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{pricing_file}: cannot read a JSON pricing table: {exc}") from None
    return _table(data, pricing_file, default)

"""The researcher agent's tools: plain Python functions that do real work.

- :func:`calculate` evaluates arithmetic safely (an ``ast`` walk over a whitelist of node
  types; no ``eval``).
- :func:`convert_units` converts length, mass, temperature and data sizes.
- :class:`DocumentIndex` ranks the bundled help-centre articles with TF-IDF.

The researcher agent wraps every call in ``agentotel.tool(...)`` so that each tool call
becomes an ``execute_tool`` span carrying the model's tool-call id; the help-centre
lookup inside :func:`search_docs` is a ``retrieval`` span of its own. Nothing else here
knows about telemetry. :data:`TOOL_SPECS` describes the tools in the OpenAI ``tools``
format. Every tool raises :class:`ValueError` on bad input; the message is
meant to be shown to the model.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import agentotel

DOCS_DIR = Path(__file__).parent / "data" / "docs"

# --------------------------------------------------------------------------- arithmetic

MAX_EXPRESSION_LENGTH = 200
MAX_RESULT_DIGITS = 300  # results above 10**300 are refused
MAX_INT_BITS = 1000  # ~ 10**301

_BINARY_OPERATORS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY_OPERATORS: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "sqrt": math.sqrt,
}

Number = int | float


def evaluate_arithmetic(expression: str) -> Number:
    """Evaluate an arithmetic expression such as ``"12.5 * 4 + sqrt(16)"``.

    Allowed: int and float literals, ``+ - * / // % **``, unary ``+``/``-``, parentheses
    and the functions ``abs``, ``round``, ``min``, ``max``, ``sqrt``. Everything else
    (names, attribute access, subscripts, strings, lambdas, ``__import__`` ...) is refused.

    Raises:
        ValueError: the expression is too long, not arithmetic, divides by zero, or its
            result (or an exponent) is too large.
    """
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ValueError(f"expression longer than {MAX_EXPRESSION_LENGTH} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an arithmetic expression: {expression!r}") from exc
    return _evaluate(tree.body)


def _evaluate(node: ast.expr) -> Number:
    """Evaluate one whitelisted node; refuse every other node type."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _checked(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        try:
            return _checked(_BINARY_OPERATORS[type(node.op)](left, right))
        except ZeroDivisionError as exc:
            raise ValueError("division by zero") from exc
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY_OPERATORS:
        return _checked(_UNARY_OPERATORS[type(node.op)](_evaluate(node.operand)))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        args = [_evaluate(arg) for arg in node.args]
        try:
            return _checked(_FUNCTIONS[node.func.id](*args))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad call to {node.func.id}(): {exc}") from exc
    raise ValueError(f"not allowed in arithmetic: {ast.unparse(node)!r}")


def _check_power(base: Number, exponent: Number) -> None:
    """Refuse powers whose result would have more than MAX_RESULT_DIGITS digits."""
    if exponent > 0 and abs(base) > 1:
        if exponent * math.log10(abs(base)) > MAX_RESULT_DIGITS:
            raise ValueError(f"result of {base} ** {exponent} is too large")


def _checked(value: object) -> Number:
    """Return ``value`` if it is a finite, reasonably sized real number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("result is not a real number")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ValueError("result is too large")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("result is too large")
    return value


def calculate(expression: str) -> dict[str, Any]:
    """Tool: evaluate ``expression``; returns ``{"expression", "result"}``.

    Floats are rounded to 10 decimal places (``0.1 + 0.2`` gives ``0.3``).

    Raises:
        ValueError: see :func:`evaluate_arithmetic`.
    """
    result = evaluate_arithmetic(expression)
    if isinstance(result, float):
        result = round(result, 10)
    return {"expression": expression, "result": result}


# --------------------------------------------------------------------------- units

# unit -> (dimension, factor to the dimension's base unit: metre, kilogram, byte)
_LINEAR_UNITS: dict[str, tuple[str, float]] = {
    "mm": ("length", 0.001),
    "cm": ("length", 0.01),
    "m": ("length", 1.0),
    "km": ("length", 1000.0),
    "in": ("length", 0.0254),
    "ft": ("length", 0.3048),
    "yd": ("length", 0.9144),
    "mi": ("length", 1609.344),
    "nmi": ("length", 1852.0),
    "mg": ("mass", 1e-6),
    "g": ("mass", 0.001),
    "kg": ("mass", 1.0),
    "t": ("mass", 1000.0),
    "oz": ("mass", 0.028349523125),
    "lb": ("mass", 0.45359237),
    "st": ("mass", 6.35029318),
    "bit": ("data", 0.125),
    "B": ("data", 1.0),
    "kB": ("data", 1e3),
    "MB": ("data", 1e6),
    "GB": ("data", 1e9),
    "TB": ("data", 1e12),
    "KiB": ("data", 1024.0),
    "MiB": ("data", 1024.0**2),
    "GiB": ("data", 1024.0**3),
    "TiB": ("data", 1024.0**4),
}
_TEMPERATURE_UNITS = ("C", "F", "K")

# Spellings people use -> canonical unit. Data units are case-sensitive (MB vs Mb is a
# real difference), everything else is matched in lower case.
UNIT_ALIASES: dict[str, str] = {
    "millimeter": "mm", "millimeters": "mm", "millimetre": "mm", "millimetres": "mm",
    "centimeter": "cm", "centimeters": "cm", "centimetre": "cm", "centimetres": "cm",
    "meter": "m", "meters": "m", "metre": "m", "metres": "m",
    "kilometer": "km", "kilometers": "km", "kilometre": "km", "kilometres": "km",
    "inch": "in", "inches": "in", "foot": "ft", "feet": "ft", "yard": "yd", "yards": "yd",
    "mile": "mi", "miles": "mi", "nautical mile": "nmi", "nautical miles": "nmi",
    "milligram": "mg", "milligrams": "mg", "gram": "g", "grams": "g",
    "kilogram": "kg", "kilograms": "kg", "kgs": "kg", "tonne": "t", "tonnes": "t",
    "ounce": "oz", "ounces": "oz", "pound": "lb", "pounds": "lb", "lbs": "lb",
    "stone": "st",
    "bits": "bit", "byte": "B", "bytes": "B",
    "kilobyte": "kB", "kilobytes": "kB", "megabyte": "MB", "megabytes": "MB",
    "gigabyte": "GB", "gigabytes": "GB", "terabyte": "TB", "terabytes": "TB",
    "kibibyte": "KiB", "kibibytes": "KiB", "mebibyte": "MiB", "mebibytes": "MiB",
    "gibibyte": "GiB", "gibibytes": "GiB", "tebibyte": "TiB", "tebibytes": "TiB",
    "c": "C", "°c": "C", "celsius": "C", "degrees celsius": "C",
    "f": "F", "°f": "F", "fahrenheit": "F", "degrees fahrenheit": "F",
    "k": "K", "kelvin": "K",
}


def normalize_unit(unit: str) -> str:
    """Map a unit spelling (``"miles"``, ``"°F"``, ``"GiB"``) to its canonical symbol.

    Raises:
        ValueError: the unit is unknown.
    """
    text = unit.strip()
    if text in _LINEAR_UNITS or text in _TEMPERATURE_UNITS:
        return text
    canonical = UNIT_ALIASES.get(text.lower())
    if canonical is None and text.lower() in _LINEAR_UNITS:
        canonical = text.lower()  # "KM", "Kg"
    if canonical is None:
        raise ValueError(f"unknown unit {unit!r}")
    return canonical


def dimension_of(unit: str) -> str:
    """``"length"``, ``"mass"``, ``"temperature"`` or ``"data"`` for a canonical unit."""
    return "temperature" if unit in _TEMPERATURE_UNITS else _LINEAR_UNITS[unit][0]


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert ``value`` between two units of the same dimension.

    Length and mass use exact international definitions (1 in = 25.4 mm,
    1 lb = 0.45359237 kg); data sizes distinguish decimal (kB, MB, GB) from binary
    (KiB, MiB, GiB) prefixes; temperatures convert through kelvin.

    Raises:
        ValueError: a unit is unknown, the units measure different things, or a
            temperature is below absolute zero.
    """
    source, target = normalize_unit(from_unit), normalize_unit(to_unit)
    if dimension_of(source) != dimension_of(target):
        raise ValueError(
            f"cannot convert {dimension_of(source)} ({source}) to "
            f"{dimension_of(target)} ({target})"
        )
    if dimension_of(source) == "temperature":
        return _from_kelvin(_to_kelvin(value, source), target)
    return value * _LINEAR_UNITS[source][1] / _LINEAR_UNITS[target][1]


def _to_kelvin(value: float, unit: str) -> float:
    kelvin = {"C": value + 273.15, "F": (value - 32) * 5 / 9 + 273.15, "K": value}[unit]
    if kelvin < 0:
        raise ValueError(f"{value} {unit} is below absolute zero")
    return kelvin


def _from_kelvin(kelvin: float, unit: str) -> float:
    return {"C": kelvin - 273.15, "F": (kelvin - 273.15) * 9 / 5 + 32, "K": kelvin}[unit]


def convert_units(value: float, from_unit: str, to_unit: str) -> dict[str, Any]:
    """Tool: convert a quantity; returns ``{"value", "from_unit", "result", "to_unit"}``.

    The result is rounded to 6 significant digits.

    Raises:
        ValueError: see :func:`convert`.
    """
    result = convert(float(value), from_unit, to_unit)
    return {
        "value": value,
        "from_unit": normalize_unit(from_unit),
        "result": float(f"{result:.6g}"),
        "to_unit": normalize_unit(to_unit),
    }


# --------------------------------------------------------------------------- documents

_STOPWORDS = frozenset(
    "a about also an and any are as at be but by can could do does for from get had has have "
    "hello hi how i if in is it its just me my need no not of on one or our please re so "
    "thanks that the their them then there this to up us was we what when where which who "
    "why will with would you your".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-case words without stop words, with a light plural stemming."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [_stem(word) for word in words if word not in _STOPWORDS]


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@dataclass(frozen=True)
class Document:
    """One help-centre article: ``path`` is its file name, ``title`` its first heading."""

    path: str
    title: str
    text: str


@dataclass(frozen=True)
class SearchHit:
    """A ranked search result; ``score`` is the TF-IDF cosine similarity in [0, 1]."""

    path: str
    title: str
    score: float
    snippet: str


class DocumentIndex:
    """TF-IDF index over a small set of Markdown documents.

    Weights are ``tf * idf`` with ``idf = ln((1 + N) / (1 + df)) + 1`` (the smoothed form
    scikit-learn uses); documents and queries are compared by cosine similarity.
    """

    def __init__(self, documents: list[Document]) -> None:
        self.documents = documents
        counts = [Counter(tokenize(doc.title + "\n" + doc.text)) for doc in documents]
        document_frequency = Counter(term for count in counts for term in count)
        total = len(documents)
        self._idf = {
            term: math.log((1 + total) / (1 + df)) + 1 for term, df in document_frequency.items()
        }
        self._vectors = [self._weigh(count) for count in counts]

    @classmethod
    def from_directory(cls, directory: Path = DOCS_DIR) -> DocumentIndex:
        """Index every ``*.md`` file in ``directory`` (sorted by file name)."""
        documents = []
        for path in sorted(directory.glob("*.md")):
            text = path.read_text(encoding="utf-8")
            first_line = text.splitlines()[0] if text else path.stem
            documents.append(Document(path.name, first_line.lstrip("# ").strip(), text))
        return cls(documents)

    def _weigh(self, counts: Counter[str]) -> dict[str, float]:
        weights = {term: n * self._idf.get(term, 0.0) for term, n in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {term: w / norm for term, w in weights.items()}

    def search(self, query: str, top_k: int = 3) -> list[SearchHit]:
        """The ``top_k`` documents most similar to ``query``, best first.

        Documents sharing no term with the query are left out, so the list may be short
        or empty. Ties are broken by file name.
        """
        query_vector = self._weigh(Counter(tokenize(query)))
        scored = []
        for doc, vector in zip(self.documents, self._vectors, strict=True):
            score = sum(w * vector.get(term, 0.0) for term, w in query_vector.items())
            if score > 0:
                scored.append((-score, doc.path, doc))
        scored.sort()
        return [
            SearchHit(doc.path, doc.title, round(-neg, 4), best_paragraph(doc.text, query))
            for neg, _, doc in scored[:top_k]
        ]


def best_paragraph(text: str, query: str, max_chars: int = 280) -> str:
    """The passage of ``text`` sharing the most terms with ``query``, as plain text.

    Passages are the paragraphs of the Markdown text, with every list item a passage of
    its own; emphasis and code marks are removed.
    """
    query_terms = set(tokenize(query))
    passages = [" ".join(p.split()) for p in _passages(text)]
    if not passages:
        return ""
    best = max(passages, key=lambda p: len(query_terms & set(tokenize(p))))
    return best if len(best) <= max_chars else best[: max_chars - 1].rstrip() + "…"


def _passages(markdown: str) -> list[str]:
    """Paragraphs and list items of ``markdown`` without headings, ``**`` and backticks."""
    plain = markdown.replace("**", "").replace("`", "")
    passages: list[str] = []
    for block in plain.split("\n\n"):
        if not block.strip() or block.startswith("#"):
            continue
        items = re.split(r"^- ", block, flags=re.MULTILINE)
        passages += [item for item in items if item.strip()]
    return passages


_DEFAULT_INDEX: DocumentIndex | None = None
#: ``gen_ai.data_source.id`` of the help-centre index.
DATA_SOURCE_ID = "acme-help-centre"


def search_docs(query: str, top_k: int = 3) -> dict[str, Any]:
    """Tool: search the bundled help centre; returns ``{"query", "results": [...]}``.

    Each result is ``{"path", "title", "score", "snippet"}``. The lookup is a
    ``retrieval acme-help-centre`` span with the number of documents found (the query and
    the documents' ids and scores as opt-in content).

    Raises:
        ValueError: ``query`` has no searchable words or ``top_k`` is not 1..10.
    """
    global _DEFAULT_INDEX
    if not tokenize(query):
        raise ValueError("the query has no searchable words")
    if not 1 <= top_k <= 10:
        raise ValueError("top_k must be between 1 and 10")
    if _DEFAULT_INDEX is None:
        _DEFAULT_INDEX = DocumentIndex.from_directory()
    with agentotel.retrieval(DATA_SOURCE_ID, top_k=top_k) as lookup:
        lookup.record_query(query)
        hits = _DEFAULT_INDEX.search(query, top_k)
        lookup.record_documents([{"id": hit.path, "score": hit.score} for hit in hits])
    return {"query": query, "results": [hit.__dict__ for hit in hits]}


# --------------------------------------------------------------------------- tool table


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the model sees it (name, description, JSON-schema parameters)."""

    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., dict[str, Any]]

    def openai_schema(self) -> dict[str, Any]:
        """The entry for the Chat Completions ``tools`` list."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


TOOL_SPECS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            name="calculate",
            description="Evaluate an arithmetic expression (+ - * / // % **, parentheses, "
            "abs, round, min, max, sqrt) and return the exact result.",
            parameters={
                "type": "object",
                "properties": {
                    "expression": {"type": "string", "description": "e.g. 12.5 * 4 * 12"}
                },
                "required": ["expression"],
            },
            function=calculate,
        ),
        ToolSpec(
            name="convert_units",
            description="Convert a quantity between units of length, mass, temperature "
            "or data size (e.g. mi to km, lb to kg, F to C, GB to GiB).",
            parameters={
                "type": "object",
                "properties": {
                    "value": {"type": "number"},
                    "from_unit": {"type": "string"},
                    "to_unit": {"type": "string"},
                },
                "required": ["value", "from_unit", "to_unit"],
            },
            function=convert_units,
        ),
        ToolSpec(
            name="search_docs",
            description="Search the Acme Drive help centre and return the most relevant "
            "articles with a snippet each.",
            parameters={
                "type": "object",
                "properties": {
                    "query": {"type": "string"},
                    "top_k": {"type": "integer", "minimum": 1, "maximum": 10},
                },
                "required": ["query"],
            },
            function=search_docs,
        ),
    )
}

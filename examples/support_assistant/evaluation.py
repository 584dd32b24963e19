"""A deterministic groundedness evaluation of each reply.

The score is the share of the reply's content words (stop words left out, plurals
folded, as the help-centre search reads text) that occur in what the researcher
retrieved: the tool results, including the help-centre search hits. A reply restating
its sources scores near 1; one that adds unsupported claims scores lower. The result is
recorded with ``agentotel.evaluation(...)``: a ``gen_ai.evaluation.result`` event
parented to the writer's span (which has ended by then) and a point on the
``agentotel.evaluation.score`` histogram.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import agentotel

from .tools import tokenize

NAME = "groundedness"
#: replies scoring at least this are labelled ``pass``, the others ``fail``.
PASS_THRESHOLD = 0.5


@dataclass(frozen=True)
class Groundedness:
    """``score`` in [0, 1], ``label`` ``pass`` or ``fail``, and how it was reached."""

    score: float
    label: str
    explanation: str


def groundedness(reply: str, sources: Iterable[str]) -> Groundedness:
    """Score ``reply`` against ``sources`` (see the module docstring). A reply without
    content words scores 0."""
    words = set(tokenize(reply))
    known = {word for source in sources for word in tokenize(source)}
    found = words & known
    score = round(len(found) / len(words), 4) if words else 0.0
    label = "pass" if score >= PASS_THRESHOLD else "fail"
    explanation = f"{len(found)} of {len(words)} content words of the reply occur in the sources"
    return Groundedness(score, label, explanation)


def evaluate_reply(
    reply: str, sources: Iterable[str], *, response_id: str, evaluated: agentotel.Operation
) -> Groundedness:
    """Score the reply and record the result against ``evaluated`` (the writer's span)."""
    result = groundedness(reply, sources)
    agentotel.evaluation(
        NAME,
        score=result.score,
        label=result.label,
        explanation=result.explanation,
        response_id=response_id,
        span_context=evaluated,
    )
    return result

"""How honest the answers of an evaluation run are: outcomes, calibration and highlights.

For each question of the main configuration the eval composes the reply `ask` would give
(answer, related passages only, or a decline, with its confidence). This module turns those
into the shares per outcome for answerable and unanswerable questions, the trade-off curve
over the confidence threshold, a reliability table (predicted vs observed share of right first
quotes) and, for sets with expected phrases, the highlight accuracy: the share of right-first
answers whose highlighted sentence holds an expected phrase.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..answer import OUTCOMES
from ..answerability import reliability
from .quote_checks import normalise, phrases
from ..settings import Settings

if TYPE_CHECKING:
    from .evaluate import EvalResult


def honesty(result: "EvalResult", settings: Settings) -> dict[str, Any]:
    main = result.main
    if not main.answers:
        return {}
    answerable = [q for q in main.per_query if q in main.answers]
    unanswerable = [q for q in (result.data.unanswerable if result.data else {}) if q in main.answers]
    right = {q: main.per_query[q]["Success@1"] >= 1 for q in answerable}
    out: dict[str, Any] = {
        "answerable": shares([main.answers[q].outcome for q in answerable]),
        "unanswerable": shares([main.answers[q].outcome for q in unanswerable]) if unanswerable else {},
        **{f"unanswerable_{kind}": shares([main.answers[q].outcome for q in unanswerable if result.data.kinds.get(q) == kind])
           for kind in sorted(set(result.data.kinds.values()))},
        "reliability": reliability([main.answers[q].confidence for q in answerable + unanswerable],
                                   [right.get(q, False) for q in answerable + unanswerable]),
        "thresholds": {"answer_from": settings.answer_from, "related_from": settings.related_from,
                       "cosine_floor": settings.abstain_below},
    }
    if unanswerable:
        out.update(curve(result, answerable, unanswerable, settings.abstain_below))
    if result.data is not None and result.data.expect:
        out["highlight_accuracy"] = highlight_accuracy(result, [q for q in answerable if right[q]])
        out["first_quote"] = first_quote(result, answerable)
    return out


def shares(outcomes: list[str]) -> dict[str, float]:
    n = max(len(outcomes), 1)
    return {o: round(outcomes.count(o) / n, 4) for o in OUTCOMES}


def curve(result: "EvalResult", answerable: list[str], unanswerable: list[str], floor: float) -> dict[str, Any]:
    """Answered-directly share of answerable questions and not-answered share of unanswerable ones
    over the answer threshold, and the highest threshold keeping 95% of answerable ones answered."""
    main = result.main

    def direct(ids: list[str], t: float) -> np.ndarray:
        return np.array([main.answers[q].confidence >= t and main.top_dense[q] >= floor for q in ids])

    points = []
    for t in np.round(np.arange(0.0, 1.0, 0.01), 2):
        points.append({"threshold": float(t), "answered": float(direct(answerable, t).mean()),
                       "not_answered": float(1 - direct(unanswerable, t).mean())})
    # the operating point exactly: the highest confidence of an answerable question that still keeps 95% answered
    # (a 0.01 grid can stop short of it by a few questions)
    ok = [t for t in {main.answers[q].confidence for q in answerable} if direct(answerable, t).mean() >= 0.95]
    best = max(ok, default=0.0)
    return {"curve": points, "at_95_answered": {"threshold": round(best, 4), "answered": round(float(direct(answerable, best).mean()), 4),
                                                "unanswerable_not_answered": round(float(1 - direct(unanswerable, best).mean()), 4)}}


def first_quote(result: "EvalResult", answerable: list[str]) -> dict[str, Any]:
    """The phrase set's own rule: the first quote shown (with the list it announces, when it goes
    on to one), whatever the outcome, holds an expected phrase. A declined question has none."""
    hits, misses = 0, []
    for qid in answerable:
        quotes = result.main.answers[qid].quotes
        if quotes and any(p in normalise(quotes[0].text) for p in phrases(result.data.expect[qid])):
            hits += 1
        else:
            misses.append(qid)
    return {"share": round(hits / len(answerable), 4) if answerable else None, "questions": len(answerable), "misses": misses}


def highlight_accuracy(result: "EvalResult", right_first: list[str]) -> dict[str, Any]:
    """Share of right-first answers whose highlighted span holds an expected phrase; the misses listed."""
    hits, misses = 0, []
    for qid in right_first:
        answer = result.main.answers[qid]
        if not answer.quotes:
            continue
        quote = answer.quotes[0]
        doc_text = result.index.documents[quote.document].text
        marked = " ".join(normalise(doc_text[a:b]) for a, b in quote.highlights)
        if any(p in marked for p in phrases(result.data.expect[qid])):
            hits += 1
        else:
            misses.append({"query_id": qid, "highlighted": marked[:200]})
    n = len(right_first)
    return {"share": round(hits / n, 4) if n else None, "right_first": n, "misses": misses}

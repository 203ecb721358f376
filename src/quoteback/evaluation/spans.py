"""Span sets (`quoteback feedback export`): judgments as exact spans of real documents.

A retrieved passage is right for a question when it shares a character with a span of its
document judged to answer it (gain 1); spans judged wrong (gain 0) are kept as judged
non-relevant, and the questions whose first passage is one judged wrong are counted: the
regression a thumbs-down asks the next version to fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from ..index import Index
    from ..passages import Passage
    from .datasets import Dataset
    from .evaluate import ConfigResult


def passage_units(index: "Index") -> list[str]:
    """Each passage as the unit a hit counts as: `document#start`."""
    return [f"{p.document}#{p.start}" for p in index.passages]


def overlaps(p: "Passage", span: dict[str, Any]) -> bool:
    return p.document == span["document"] and p.start < span["end"] and span["start"] < p.end


def span_qrels(dataset: "Dataset", index: "Index") -> tuple[list[str], dict[str, dict[str, int]]]:
    """The passage units and, per question with a span that answers it, the gain of every passage
    overlapping one of its spans (the highest when several). Questions judged wrong only have no
    relevant passage: they are searched (see `wrong_first`) but not scored."""
    units = passage_units(index)
    by_doc: dict[str, list[int]] = {}
    for i, p in enumerate(index.passages):
        by_doc.setdefault(p.document, []).append(i)
    qrels = {}
    for qid, spans in dataset.spans.items():
        gains: dict[str, int] = {}
        for span in spans:
            for i in by_doc.get(span["document"], []):
                if overlaps(index.passages[i], span):
                    gains[units[i]] = max(gains.get(units[i], 0), span["gain"])
        if any(g > 0 for g in gains.values()):
            qrels[qid] = gains
    return units, qrels


def wrong_first(dataset: "Dataset", result: "ConfigResult", index: "Index") -> dict[str, Any]:
    """Of the questions with a span judged wrong, those whose first passage overlaps such a span
    (and no span that answers): what users saw and said was wrong, still shown first."""
    first, again = {}, []
    for qid, spans in dataset.spans.items():
        wrong = [s for s in spans if s["gain"] == 0]
        if not wrong:
            continue
        pid = result.top_passage.get(qid, -1)
        passage = index.passages[pid] if pid >= 0 else None
        first[qid] = f"{passage.document}#{passage.start}" if passage else None
        if passage and _first_is(passage, wrong, [s for s in spans if s["gain"] > 0]):
            again.append(qid)
    return {"judged_wrong": len(first), "wrong_first": len(again),
            "wrong_first_share": round(len(again) / len(first), 4) if first else None, "questions": again, "first": first}


def _first_is(p: "Passage", wrong: Sequence[dict[str, Any]], right: Sequence[dict[str, Any]]) -> bool:
    return any(overlaps(p, s) for s in wrong) and not any(overlaps(p, s) for s in right)

"""Page sets: questions judged by the evidence pages of a named file (FinanceBench's layout).

A hit counts as the page of its file where the passage starts (`STEM#p12`), so the ranking
measures (Success@1, nDCG@10) read "an evidence page of the right filing"; and what a user sees
is measured on the reply `ask -k 3` gives: page@1, the first quote lies on an evidence page of
the right file (its `page` or `pages`), page@3, one of the quotes shown does.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from ..index import Index

if TYPE_CHECKING:
    from ..answer import Answer, Quote
    from .datasets import Dataset


def stem(path: str) -> str:
    return PurePosixPath(path).stem


def page_units(index: Index) -> list[str]:
    """Each passage as `STEM#pN`, N its starting page (0 for formats without pages)."""
    out = []
    for p in index.passages:
        page = index.documents[p.document].page_at(p.start)
        out.append(f"{stem(p.document)}#p{page or 0}")
    return out


def page_qrels(dataset: "Dataset") -> dict[str, dict[str, int]]:
    return {q: {f"{doc}#p{page}": 1 for page in pages} for q, (doc, pages) in dataset.evidence.items()}


def on_evidence(quote: "Quote", doc: str, pages: list[int]) -> bool:
    touched = set(quote.pages) | ({quote.page} if quote.page else set())
    return stem(quote.document) == doc and bool(touched & set(pages))


def page_hits(dataset: "Dataset", answers: dict[str, "Answer"]) -> dict[str, Any]:
    """page@1, page@3 and the share declined, over the questions judged by pages."""
    ids = [q for q in dataset.evidence if q in answers]
    first = [q for q in ids if answers[q].quotes and on_evidence(answers[q].quotes[0], *dataset.evidence[q])]
    any3 = [q for q in ids if any(on_evidence(x, *dataset.evidence[q]) for x in answers[q].quotes[:3])]
    right_file = [q for q in ids if answers[q].quotes and stem(answers[q].quotes[0].document) == dataset.evidence[q][0]]
    n = max(len(ids), 1)
    return {"questions": len(ids), "page@1": round(len(first) / n, 4), "page@3": round(len(any3) / n, 4),
            "right_file_first": round(len(right_file) / n, 4),
            "declined": round(sum(answers[q].outcome == "declined" for q in ids) / n, 4),
            "page@1_ids": first, "page@3_ids": any3}

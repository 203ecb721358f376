"""How dense and keyword evidence combine into one ranking: a value, named by configurations."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import Settings

MODES = ("dense", "bm25", "hybrid", "rrf")


@dataclass(frozen=True)
class Fusion:
    """`hybrid` is a weighted sum of the passage cosine, its best sentence's cosine, the keyword
    coverage of its best sentence and max-normalised BM25 (which gets the weight left over);
    `rrf` is reciprocal rank fusion of the dense and BM25 rankings. `candidates` passages come
    from each retriever; `feedback` > 0 re-runs the search moved toward that many top passages.
    `heading_weight`: what a passage gains when the question names the section it sits in (all the
    words of one heading above it; a part of them, a part of it: section_match.py).
    `reader_depth` > 0: the reader (reader.py) reads that many best passages with the question,
    and its logit, times `reader_weight`, is added to their score."""

    mode: str = "hybrid"
    dense_weight: float = 0.4
    sentence_weight: float = 0.3
    coverage_weight: float = 0.15
    candidates: int = 100
    feedback: int = 0
    reader_depth: int = 0
    reader_weight: float = 0.0
    heading_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown retrieval mode {self.mode!r}; choose from {', '.join(MODES)}")
        weights = (self.dense_weight, self.sentence_weight, self.coverage_weight)
        if min(weights) < 0 or sum(weights) > 1:
            raise ValueError("dense_weight, sentence_weight and coverage_weight must be >= 0 and sum to at most 1")
        if self.heading_weight < 0:
            raise ValueError("heading_weight must be >= 0")

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Fusion":
        return cls(mode=settings.retrieval, dense_weight=settings.dense_weight, sentence_weight=settings.sentence_weight,
                   coverage_weight=settings.coverage_weight, candidates=settings.candidates, feedback=settings.feedback,
                   reader_depth=settings.reader_depth if settings.reader else 0, reader_weight=settings.reader_weight,
                   heading_weight=settings.heading_weight)

    @property
    def lexical_weight(self) -> float:
        return 1 - self.dense_weight - self.sentence_weight - self.coverage_weight


def configurations(base: Fusion) -> dict[str, Fusion]:
    """The evaluation's named configurations; `hybrid+sentences`, the settings as they are (with the
    reader when it is on), is the default; `no-reader` is the same without the reader."""
    plain = {"candidates": base.candidates, "coverage_weight": 0.0, "sentence_weight": 0.0, "reader_depth": 0, "heading_weight": 0.0}
    return {
        "dense": Fusion("dense", dense_weight=1.0, **plain),
        "bm25": Fusion("bm25", dense_weight=0.0, **plain),
        "rrf": Fusion("rrf", dense_weight=0.5, **plain),
        "hybrid": Fusion("hybrid", dense_weight=0.5, **plain),
        "hybrid+feedback": replace(base, feedback=2),
        "no-reader": replace(base, reader_depth=0),
        "hybrid+sentences": base,
    }

"""Stage 5½: how likely the best passage answers the question, from signals retrieval already has.

A raw cosine cannot tell "on topic and answered" from "on topic, not answered" (SQuAD 2.0's
unanswerable questions, "What is the capital of Mali?" against an FAQ on Mali). So several cheap
signals are combined by a logistic regression fitted on the development sets (`calibrate.py`
fits it; the coefficients ship in `data/answerability.json`): the passage and best-sentence
cosines, the margin to the next passage, how much of the question's keyword weight and of its
names and numbers the passage holds, whether BM25 and the dense ranking agree, and whether the
best sentence holds the kind of thing asked for (a number for "how many", a date for "when",
a name for "who").
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from .index import Index
from .retrieval import Hit

COEFFICIENTS = Path(__file__).resolve().parent / "data" / "answerability.json"

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                     r"hundred|thousand|million|billion|dozen|several|many|few|half|percent)\b", re.I)
_DATE = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})s?\b|\b(?:January|February|March|April|May|June|July|August|September|"
                   r"October|November|December|century|decade|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
                   r"yesterday|today|spring|summer|autumn|winter)\b", re.I)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+|\b[A-Z]{2,}\b")
_ASKS = (  # (question pattern, what the answer sentence should hold)
    (re.compile(r"\bhow (?:many|much|long|old|far|large|big|high|tall|often|fast|heavy)\b|\bwhat (?:percentage|number|amount|size)\b", re.I), _NUMBER),
    (re.compile(r"\bwhen\b|\b(?:what|which) (?:year|date|month|day|century|decade)\b", re.I), _DATE),
    (re.compile(r"\bwho(?:m|se)?\b", re.I), _NAME),
    (re.compile(r"\bwhere\b", re.I), _NAME),
)
_STOP = frozenset("a an the of in on at to for from by with and or is are was were be been do does did what which who whom whose "
                  "when where why how i you it its this that these those as into about than then there their they he she his her "
                  "can could should would will may might must has have had not no yes".split())


@dataclass(frozen=True)
class Signals:
    """Everything the answerability score looks at, for one question and its best passage."""

    dense: float  # cosine of question and best passage
    sentence: float  # cosine of the best passage's closest sentence
    margin: float  # fused-score gap between the first and second passage
    coverage: float  # largest share of the question's keyword weight one sentence holds
    anchors: float  # share of the question's names, numbers and rare words found in the passage
    agreement: float  # 1 when both the dense and the BM25 ranking put this passage first, lower as they disagree
    type_missing: float  # 1 when the question asks for a number/date/name and the best sentence holds none

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, f.name) for f in fields(self)], dtype=np.float64)


NAMES = [f.name for f in fields(Signals)]


def best_sentence(index: Index, hit: Hit, q: np.ndarray) -> tuple[int, int]:
    """The span of the passage's sentence closest to the question (sentence vectors when stored),
    leaving out headings and question lines while the passage has other sentences."""
    passage = index.passages[hit.passage_id]
    sentences = passage.sentences or [(passage.start, passage.end)]
    rows = index.sentence_rows(hit.passage_id)
    if rows is None or len(rows) != len(sentences):
        return sentences[0]
    keep = answering_sentences(index, hit.passage_id)
    scores = np.asarray(rows, dtype=np.float32)[keep] @ q
    return sentences[keep[int(np.argmax(scores))]]


def answering_sentences(index: Index, passage_id: int) -> list[int]:
    """Positions of the passage's sentences that can answer: not a heading, not a question line
    (an FAQ's own question repeats the words asked and answers nothing); all when none is left."""
    passage = index.passages[passage_id]
    doc = index.documents[passage.document]
    headings = [(a, b) for a, b, _ in doc.headings if a < passage.end and b > passage.start]
    keep = [i for i, (a, b) in enumerate(passage.sentences)
            if not doc.text[a:b].rstrip().endswith("?") and not any(ha <= a and b <= hb for ha, hb in headings)]
    return keep or list(range(len(passage.sentences)))


def signals(question: str, hits: Sequence[Hit], index: Index, q: np.ndarray) -> Signals:
    top = hits[0]
    passage = index.passages[top.passage_id]
    text = index.documents[passage.document].text
    a, b = best_sentence(index, top, q)
    return Signals(
        dense=top.dense,
        sentence=top.sentence,
        margin=top.score - hits[1].score if len(hits) > 1 else top.score,
        coverage=top.coverage,
        anchors=_anchor_share(question, passage.text),
        agreement=0.5 / (1 + top.dense_rank) + 0.5 / (1 + top.lexical_rank),
        type_missing=type_missing(question, text[a:b]),
    )


def _anchor_share(question: str, passage: str) -> float:
    """Share of the question's anchors (capitalised words past the first, numbers, long words) the passage holds."""
    words = _WORD.findall(question)
    anchors = {w.lower() for i, w in enumerate(words)
               if w.lower() not in _STOP and (any(c.isdigit() for c in w) or (i > 0 and w[0].isupper()) or len(w) >= 9)}
    if not anchors:
        return 1.0
    held = {w.lower() for w in _WORD.findall(passage)}
    return sum(1 for w in anchors if w in held or (len(w) > 5 and any(h.startswith(w[:6]) for h in held))) / len(anchors)


def type_missing(question: str, sentence: str) -> float:
    """1.0 when the question asks for a number, date or name and the sentence holds none; else 0."""
    for asks, holds in _ASKS:
        if asks.search(question):
            return 0.0 if holds.search(sentence) else 1.0
    return 0.0


@dataclass(frozen=True)
class Calibrator:
    """confidence = sigmoid(bias + weights · signals), fitted on the development sets."""

    weights: tuple[float, ...]
    bias: float
    fitted_on: tuple[str, ...] = ()

    def confidence(self, s: Signals) -> float:
        return self.confidence_of(s.vector())

    def confidence_of(self, vector: np.ndarray) -> float:
        z = self.bias + float(np.dot(self.weights, vector))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def save(self, path: Path = COEFFICIENTS) -> None:
        data = {"signals": NAMES, "weights": list(self.weights), "bias": self.bias, "fitted_on": list(self.fitted_on)}
        Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = COEFFICIENTS) -> "Calibrator":
        return _load(str(path))


@lru_cache(maxsize=4)
def _load(path: str) -> Calibrator:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("signals") != NAMES:
        raise ValueError(f"{path} was fitted on other signals ({data.get('signals')}); rerun python -m quoteback.calibrate")
    return Calibrator(tuple(data["weights"]), float(data["bias"]), tuple(data.get("fitted_on", ())))


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50,
        sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Logistic regression by Newton's method with a small L2 penalty (not on the bias): few
    features, a few thousand rows, no dependency needed. Returns (weights, bias)."""
    r = np.ones(len(x)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    design = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(design.shape[1])
    penalty = np.eye(design.shape[1]) * l2
    penalty[0, 0] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(design @ beta, -30, 30)))
        gradient = design.T @ (r * (p - y)) + penalty @ beta
        hessian = design.T @ (design * (r * p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta[1:], float(beta[0])


def reliability(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> list[dict]:
    """Predicted vs observed share of right answers per confidence bin: a calibrated score has them close."""
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    rows = []
    for i in range(bins):
        lo, hi = i / bins, (i + 1) / bins
        inside = (confidence >= lo) & ((confidence < hi) if i < bins - 1 else (confidence <= hi))
        if inside.any():
            rows.append({"bin": f"{lo:.1f}–{hi:.1f}", "questions": int(inside.sum()),
                         "predicted": round(float(confidence[inside].mean()), 3), "observed": round(float(correct[inside].mean()), 3)})
    return rows


def as_dict(s: Signals) -> dict[str, float]:
    return {k: round(v, 4) for k, v in asdict(s).items()}

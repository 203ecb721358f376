"""Stage 5½: how likely the best passage answers the question, from signals retrieval already has.

A raw cosine cannot tell "on topic and answered" from "on topic, not answered" (SQuAD 2.0's
unanswerable questions, "What is the capital of Mali?" against an FAQ on Mali). So several cheap
signals are combined by a logistic regression fitted on the development sets (`calibrate.py`
fits it; the coefficients ship in `data/answerability.json`): the passage and best-sentence
cosines, the margin to the next passage, how much of the question's keyword weight one sentence holds,
how much of it the passage and the whole corpus lack, whether BM25 and the dense ranking agree, and whether the
best sentence holds the kind of thing asked for (a number for "how many", a date for "when",
a name for "who").
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from .index import Index
from .passages import CAPTION
from .retrieval import Hit

COEFFICIENTS = Path(__file__).resolve().parent / "data" / "answerability.json"  # fitted with the reader off (its signal is 0)
COEFFICIENTS_READER = COEFFICIENTS.with_name("answerability-reader.json")  # ... and on


def coefficients(reader: bool) -> Path:
    return COEFFICIENTS_READER if reader else COEFFICIENTS

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_YEAR = r"(?:1[0-9]{3}|20[0-9]{2})s?"
_QUANTITY = re.compile(rf"(?!\b{_YEAR}\b)\b\d[\d,.]*\b|%|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                       r"twenty|thirty|forty|fifty|hundreds?|thousands?|millions?|billions?|dozens?|several|half|twice|once)\b", re.I)
_DATE = re.compile(rf"\b{_YEAR}\b|\b(?:January|February|March|April|May|June|July|August|September|October|November|"
                   r"December|century|decade|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|"
                   r"spring|summer|autumn|winter|season|morning|evening|night|daily|weekly|monthly|yearly|annually|every)\b", re.I)
_CAPITALISED = re.compile(r"(?<=[^\s.!?:]\s)[A-Z][\w'’.-]*|(?<=\()[A-Z][\w'’.-]*")  # not the first word of a sentence
_NEGATIONS = "not|never|no|none|nothing|neither|nor|without"
_NEGATION = re.compile(rf"\b(?:{_NEGATIONS})\b|n['’]t\b", re.I)
_NEGATED = re.compile(rf"\b(?:{_NEGATIONS}|except|exception)\b|n['’]t\b", re.I)  # in a sentence
_YES_NO = re.compile(r"^\W*(?:is|are|was|were|am|do|does|did|can|could|has|have|had|will|would|should|shall|may|might|must)(?:n['’]t)?\b", re.I)
_NOT_A_NEGATION = re.compile(r"\b(?:whether|may) or (?:may )?not\b|\bor not\b", re.I)  # "may or may not", "whether or not"
_NUMBER = re.compile(r"\d+(?:,\d{3})*")  # "1,000" is 1000
_NAMES = re.compile(r"(?<!^)\b[A-Z][^\W_]*(?:\s+[A-Z][^\W_]*)*")  # capitalised words in a row, after the question's first
_NATIONALITY = re.compile(r"(?:ian|ese|ish|ean|an|ic|i)$")  # Russian, Malian, Chinese, British, Korean, Arabic, Iraqi
_ASKS = (  # (question start, kind of answer); a quantity is never just a year, a date never just any number
    (re.compile(r"^\W*how long\b", re.I), "duration"),
    (re.compile(r"^\W*how (?:many|much|old|far|large|big|high|tall|often|fast|heavy|wide)\b|^\W*what (?:percentage|amount|number)\b", re.I), "quantity"),
    (re.compile(r"^\W*(?:when (?:did|was|were|will|had|has|does|do)\b|(?:in )?(?:what|which) (?:year|date|month|century|decade)\b)", re.I), "date"),
    (re.compile(r"^\W*who(?:m|se)?\b", re.I), "name"),
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
    missing: float  # share of the question's keyword weight (idf) the passage does not hold
    unknown: float  # share of the question's keyword weight no passage of the corpus holds ("mines", "mutiny")
    agreement: float  # 1 when both the dense and the BM25 ranking put this passage first, lower as they disagree
    type_missing: float  # 1 when the question asks for a quantity/date/name and the passage holds none
    negation_unmatched: float  # 1 when the question negates ("did not", "never") and the answering sentence does not
    number_unmatched: float  # 1 when the question gives a number the passage does not hold
    name_unmatched: float  # 1 when the question names something (a capitalised word) the passage never mentions
    reader: float = 0.0  # the reader's probability that the passage answers (question and passage read together); 0 when off

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, f.name) for f in fields(self)], dtype=np.float64)


NAMES = [f.name for f in fields(Signals)]


def answering_sentences(index: Index, passage_id: int) -> list[int]:
    """Positions of the passage's sentences that can answer: not a heading, not a question line
    (an FAQ's own question repeats the words asked and answers nothing), not a table or figure
    caption (it names what the rows below hold); all when none is left."""
    passage = index.passages[passage_id]
    doc = index.documents[passage.document]
    headings = [(a, b) for a, b, _ in doc.headings if a < passage.end and b > passage.start]
    keep = [i for i, (a, b) in enumerate(passage.sentences)
            if not doc.text[a:b].rstrip().endswith("?") and not CAPTION.match(doc.text[a:b])
            and not any(ha <= a and b <= hb for ha, hb in headings)]
    return keep or list(range(len(passage.sentences)))


def signals(question: str, hits: Sequence[Hit], index: Index, q: np.ndarray, highlighted: str = "") -> Signals:
    """`highlighted`: the sentence(s) the answer would highlight in the first passage."""
    top = hits[0]
    passage = index.passages[top.passage_id]
    text = index.documents[passage.document].text
    missing, unknown = _absent(index, question, passage.text)
    answering = " ".join(text[a:b] for a, b in (passage.sentences[i] for i in answering_sentences(index, top.passage_id)))
    return Signals(
        dense=top.dense,
        sentence=top.sentence,
        margin=top.score - hits[1].score if len(hits) > 1 else top.score,
        coverage=top.coverage,
        missing=missing,
        unknown=unknown,
        agreement=0.5 / (1 + top.dense_rank) + 0.5 / (1 + top.lexical_rank),
        type_missing=type_missing(question, answering or passage.text),
        **unmatched(question, passage.text, highlighted or answering or passage.text),
        reader=0.0 if top.reader is None else 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, top.reader)))),
    )


def unmatched(question: str, passage: str, sentence: str) -> dict[str, float]:
    """What the question states that the passage does not: a negation its answering sentence
    lacks (see `negates`; "except" counts as one in the sentence), a number it never gives, a
    name it never mentions. A question written by changing one fact of a paragraph ("What did
    the Normans *not* …", "… in 1066?" against a paragraph on 1067) shares every other word
    with it, so cosines and keyword shares cannot tell; these can (squad2-dev: 12% / 10% / 13%
    of the unanswerable questions against 0.6% / 0.2% / 4% of the answerable ones)."""
    held = {_fold(w) for w in re.findall(r"[^\W_]+", passage)}
    # every word of a name counts ("King Charles III"), unless the passage has the name's initials ("UN")
    names = [[_fold(w) for w in m.group().split()] for m in _NAMES.finditer(question)]
    names = [n for n in names if set(n) - _STOP]
    return {
        "negation_unmatched": float(negates(question) and not _NEGATED.search(sentence)),
        "number_unmatched": float(bool(_numbers(question) - _numbers(passage))),
        "name_unmatched": float(any(set(n) - held - _STOP and "".join(w[0] for w in n) not in held for n in names)),
    }


def _absent(index: Index, question: str, passage: str) -> tuple[float, float]:
    """Shares of the question's keyword weight absent from the passage, and from the whole corpus.
    Real questions the documents do not answer ask about things they never mention."""
    weights = index.lexical.weights(question)
    total = sum(idf for idf, _ in weights.values())
    if not total:
        return 0.0, 0.0
    held = index.lexical.words(passage)
    return (sum(idf for t, (idf, _) in weights.items() if t not in held) / total,
            sum(idf for idf, known in weights.values() if not known) / total)


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def negates(question: str) -> bool:
    """A wh-question that negates ("Who did Rollo *not* …"); a yes/no question's "not" ("Is Wagner
    not linked to the Kremlin?") asks the same as without it, and "whether or not" negates nothing."""
    return not _YES_NO.match(question) and bool(_NEGATION.search(_NOT_A_NEGATION.sub("", question)))


def _fold(word: str) -> str:
    """Lower case without accents: "Hervé" is "Herve"."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def asked_kind(question: str) -> str | None:
    """"quantity", "duration", "date" or "name" when the question asks for one (by how it starts), else None."""
    return next((kind for pattern, kind in _ASKS if pattern.search(question)), None)


def type_missing(question: str, text: str) -> float:
    """1.0 when the question asks for a quantity, date or name and `text` holds none; else 0.
    A name must be one the question does not already give ("Who founded Wagner?" is not
    answered by a sentence naming only Wagner)."""
    kind = asked_kind(question)
    if kind == "quantity":
        return 0.0 if _QUANTITY.search(text) else 1.0
    if kind == "date":
        return 0.0 if _DATE.search(text) else 1.0
    if kind == "duration":  # "for three years", "since 2018"
        return 0.0 if _QUANTITY.search(text) or _DATE.search(text) else 1.0
    if kind == "name":
        asked = {w.lower() for w in _WORD.findall(question)}
        names = {w.strip(".'’").lower() for w in _CAPITALISED.findall(text)}
        names = {w for w in names if not _NATIONALITY.search(w)}  # "Russian" names no one
        return 0.0 if names - asked - _STOP else 1.0
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
    if not Path(path).is_file():
        raise RuntimeError(f"{Path(path).name} is missing: this version ships no calibration for the reader "
                           "(set reader = false, or fit one: python -m quoteback.evaluation.calibrate --reader)")
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("signals") != NAMES:
        raise ValueError(f"{path} was fitted on other signals ({data.get('signals')}); rerun python -m quoteback.evaluation.calibrate")
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


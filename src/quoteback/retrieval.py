"""Stage 5: find the passages for a question: dense (FAISS), lexical (BM25), and their fusion."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

from .cues import DEFINITION_BONUS, DEFINITION_QUESTION, IDENTIFIER_BONUS, defines, identifier_share, identifiers
from .embeddings import Encoder
from .filters import Filter
from .fusion import Fusion
from .index import Index
from .passages import embedding_text
from .reader import Reader
from .section_match import SectionMatch


@dataclass(frozen=True)
class Hit:
    passage_id: int
    score: float  # the fused score the ranking uses
    dense: float  # cosine similarity of question and passage
    lexical: float  # BM25 score on a 0..1 scale: divided by the best score of this question (see LEXICAL_FLOOR)
    sentence: float  # cosine of the passage's closest sentence (equals dense without sentence vectors)
    coverage: float = 0.0  # share of the question's keyword weight held by one sentence (top candidates)
    dense_rank: int = 0  # 0-based rank among the candidates by passage cosine alone
    lexical_rank: int = 0  # ... and by BM25 alone: the two agreeing is a sign the passage answers
    reader: float | None = None  # the reader's logit (question and passage read together); None when not read


RESCORE = 100  # how many top candidates get the sentence keyword coverage
# BM25 is scaled by the best passage's score, but never by less than this share of the score a
# passage holding every question word would get: a stray common word matched by one passage
# then no longer earns it full lexical credit (measured on the dev sets: neutral there, and it
# stops "countries" in "In which other countries has Wagner fought?" outweighing the meaning).
LEXICAL_FLOOR = 0.25


class Retriever:
    """Hybrid by default: over the union of the dense and BM25 candidates, a weighted sum of the
    passage cosine, the best sentence cosine (re-scoring), max-normalised BM25 and, for the top
    candidates, the keyword coverage of their best sentence.

    `feedback` > 0 turns on relevance feedback for broad, topic-style searches: the question
    vector moves toward the best `feedback` passages and BM25 adds their most telling words,
    then the search runs again. It helps keyword-heavy collections (Cranfield) and hurts
    question answering (SQuAD), so it is off by default (see README)."""

    def __init__(self, index: Index, embedder: Encoder, fusion: Fusion = Fusion(), reader: Reader | None = None) -> None:
        if not index.store.has_sentences:  # nothing to re-score with: BM25 takes the share
            fusion = replace(fusion, sentence_weight=0.0)
        self.index = index
        self.embedder = embedder
        self.fusion = fusion
        self.mode = fusion.mode
        self.feedback = fusion.feedback
        self._whole_words = functools.lru_cache(maxsize=1 << 16)(self._cut_at_spaces)  # a fact of this index's passages
        self.reader = (reader or Reader()) if fusion.reader_depth else None
        self._masks: dict[Filter, np.ndarray] = {}  # a chat asks many questions under one filter
        self.sections = SectionMatch(index)

    def search(self, query: str, k: int = 10, vector: np.ndarray | None = None, where: Filter | None = None,
               lexical_scale: float | None = None) -> list[Hit]:
        """The k best passages (of those `where` allows: searched among them, so k come back when
        k match); with the reader on, the best `reader_depth` are read and re-ranked first.
        `lexical_scale`: what BM25 scores are divided by instead of this index's own `lexical_scale`
        (a search over several indexes passes the largest of theirs: collections.py)."""
        allowed = self.allowed(where)
        if allowed is not None and not allowed.any():
            return []
        if self.reader is None:
            return self._retrieve(query, k, vector, where, lexical_scale)
        depth = self.fusion.reader_depth
        hits = self._retrieve(query, max(k, depth), vector, where, lexical_scale)
        if not hits:
            return hits
        read = self.read(query, hits[:depth])
        # the passages not read rank below the ones read, their scores shifted as if they had the lowest logit
        shift, floor = self.fusion.reader_weight * min(h.reader for h in read), read[-1].score
        return (read + [replace(h, score=min(h.score + shift, floor)) for h in hits[depth:]])[:k]

    def read(self, query: str, hits: list[Hit]) -> list[Hit]:
        """`hits` re-scored: the fused score plus `reader_weight` times the reader's logit, best first."""
        texts = [embedding_text(p, self.index.documents[p.document], True) for p in (self.index.passages[h.passage_id] for h in hits)]
        logits = self.reader.score(query, texts)
        read = [replace(h, score=h.score + self.fusion.reader_weight * float(x), reader=float(x)) for h, x in zip(hits, logits)]
        return sorted(read, key=lambda h: -h.score)

    def allowed(self, where: Filter | None) -> np.ndarray | None:
        """The passages a filter allows, by passage id (None: all)."""
        if not where:
            return None
        if where not in self._masks:
            if len(self._masks) >= 64:
                self._masks.clear()
            self._masks[where] = where.mask(self.index)
        return self._masks[where]

    def _inside(self, where: Filter | None) -> dict[str, Filter]:
        """`{"where": where}` for a store that applies filters itself (Milvus, as a filter
        expression: its dense and BM25 hits are then all allowed passages), else {}."""
        return {"where": where} if where and getattr(self.index.store, "applies_filters", False) else {}

    def _retrieve(self, query: str, k: int, vector: np.ndarray | None, where: Filter | None = None,
                  scale: float | None = None) -> list[Hit]:
        n = len(self.index.passages)
        if n == 0:
            return []
        allowed = self.allowed(where)
        q = self.embedder.encode([query])[0] if vector is None else vector
        lexical = self._lexical(query, n, where, scale) if self.mode != "dense" else np.zeros(0)
        hits = self._search(query, q, lexical, max(k, self.feedback), q, where)
        if not (self.feedback and self.mode == "hybrid" and hits):
            return hits[:k]
        top = [h.passage_id for h in hits[: self.feedback]]
        moved = q + self.index.store.passage_vectors(np.array(top)).mean(axis=0)
        moved /= np.linalg.norm(moved)
        texts = [embedding_text(self.index.passages[i], self.index.documents[self.index.passages[i].document], True) for i in top]
        expansion = self.index.lexical.expansion(query, texts, **self._inside(where))[:n]
        if allowed is not None:
            expansion = np.where(allowed, expansion, 0.0)
        return self._search(query, moved, 0.5 * lexical + 0.5 * expansion, k, q, where)

    def _lexical(self, query: str, n: int, where: Filter | None = None, scale: float | None = None) -> np.ndarray:
        """BM25 scores on a 0..1 scale (see LEXICAL_FLOOR), 0 for passages a filter leaves out."""
        raw = self._raw_lexical(query, n, where)
        scale = self._scale(query, raw) if scale is None else scale
        return raw / scale if scale > 0 else raw

    def _raw_lexical(self, query: str, n: int, where: Filter | None) -> np.ndarray:
        raw, allowed = self.index.lexical.scores(query, **self._inside(where))[:n], self.allowed(where)
        return raw if allowed is None else np.where(allowed, raw, 0.0)

    def _scale(self, query: str, raw: np.ndarray) -> float:
        return max(float(raw.max()) if len(raw) else 0.0, LEXICAL_FLOOR * self.index.lexical.ideal(query))

    def lexical_scale(self, query: str, where: Filter | None = None) -> float:
        """What this index divides a question's BM25 scores by: the best allowed passage's score,
        never less than LEXICAL_FLOOR of a complete match's. Each index scales by its own best, so a
        weak keyword match in one would count as fully as a strong one in another; a search over
        several divides them all by the largest of these (collections.py)."""
        return self._scale(query, self._raw_lexical(query, len(self.index.passages), where))

    def _search(self, query: str, q: np.ndarray, lexical: np.ndarray, k: int, asked: np.ndarray,
                where: Filter | None = None) -> list[Hit]:
        """Rank by `q`; `asked` is the question's own vector, which Hit.dense reports (abstention);
        `where`: the filter whose passages the dense search ranks."""
        n = len(self.index.passages)
        depth = min(n, max(k, self.fusion.candidates))
        found: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        if self.mode != "bm25":
            found.append(dense_rank := self._dense(q, depth, where))
        if self.mode != "dense":
            top = np.argpartition(-lexical, depth - 1)[:depth] if depth < n else np.arange(n)
            found.append(top[lexical[top] > 0])
        order = np.unique(np.concatenate(found)).astype(np.int64)  # passage ids in order
        if not len(order):
            return []
        vectors = self.index.store.passage_vectors(order)
        cosine = vectors @ q
        reported = cosine if asked is q else vectors @ asked
        lex = lexical[order] if len(lexical) else np.zeros(len(order))
        f = self.fusion
        sentence = self.sentence_scores(order, q) if f.sentence_weight else cosine
        coverage = np.zeros(len(order), dtype=np.float32)
        if self.mode == "dense":
            fused = cosine
        elif self.mode == "bm25":
            fused = lex
        elif self.mode == "rrf":
            fused = _rrf(order, [dense_rank.tolist(), order[np.argsort(-lex)].tolist()])
        else:
            fused = self._hybrid(query, order, f.dense_weight * cosine + f.sentence_weight * sentence + f.lexical_weight * lex,
                                 lex, coverage, k)
        best = np.argsort(-fused, kind="stable")[:k]
        dense_rank, lexical_rank = _ranks(reported), _ranks(lex)
        return [Hit(int(order[i]), float(fused[i]), float(reported[i]), float(lex[i]), float(sentence[i]), float(coverage[i]),
                    int(dense_rank[i]), int(lexical_rank[i])) for i in best]

    def _dense(self, q: np.ndarray, depth: int, where: Filter | None) -> np.ndarray:
        """The `depth` passages nearest `q`: the store's index (filtered there when it can), or
        among the allowed ones exactly."""
        allowed = self.allowed(where)
        if allowed is None or self._inside(where):
            found = self.index.store.dense_search(q, depth, **self._inside(where))
            return found if allowed is None else found[allowed[found]]
        ids = np.flatnonzero(allowed)
        cosine = self.index.store.passage_vectors(ids) @ q
        best = np.argsort(-cosine, kind="stable")[:depth]
        return ids[best].astype(np.int64)

    def _hybrid(self, query: str, order: np.ndarray, fused: np.ndarray, lex: np.ndarray, coverage: np.ndarray, k: int) -> np.ndarray:
        """`fused` plus the share of a heading above each candidate that the question names
        (section_match.py), the keyword coverage of the top RESCORE candidates (written to
        `coverage`), the definition bonus and the identifier bonus; the last three computed only for
        the candidates they could still lift into the k best: from its ceiling, the rest stay below
        the k-th score whatever it gives them."""
        if self.fusion.heading_weight:  # first, for every candidate: the reach below counts it in
            fused = fused + self.fusion.heading_weight * self.sections.share(query, order)
        weight, codes = self.fusion.coverage_weight, identifiers(query)
        bonus = np.full(len(order), IDENTIFIER_BONUS if codes else 0.0, dtype=np.float32)
        if weight:
            top = np.argsort(-(fused + weight * lex), kind="stable")[:RESCORE]
            ceiling = np.zeros(len(order), dtype=np.float32)  # coverage is 0 outside the top
            ceiling[top] = self._coverage_ceiling(query, order[top])
            top = top[_within_reach(fused, k, [weight * ceiling, bonus])[top]]
            coverage[top] = self.index.lexical.coverage(query, [self._sentences(int(order[i])) for i in top])
            fused = fused + weight * coverage
        if DEFINITION_QUESTION.match(query.strip()):
            reach = np.flatnonzero(_within_reach(fused, k, [np.full(len(order), DEFINITION_BONUS, dtype=np.float32)]))
            defining = np.zeros(len(order), dtype=np.float32)
            defining[reach] = [defines(query, self.index.passages[int(order[i])].text) for i in reach]
            fused = fused + DEFINITION_BONUS * defining
        if codes:
            reach = _within_reach(fused, k, [bonus])
            holds = np.zeros(len(order), dtype=np.float32)
            holds[reach] = self._holds(order[reach], codes)
            fused = fused + IDENTIFIER_BONUS * holds
        return fused

    def _coverage_ceiling(self, query: str, ids: np.ndarray) -> np.ndarray:
        """At least the coverage of each passage of `ids`, as float32: the share of the keyword
        weight its indexed words hold (plus 1e-6: those sums run in another order), or all of it
        when a sentence is not cut at whitespace (its first or last word may be a piece)."""
        share = self.index.lexical.coverage_ceiling(query, ids)
        share[np.array([not self._whole_words(int(i)) for i in ids], dtype=bool)] = 1.0
        return np.minimum(share + 1e-6, 1.0).astype(np.float32)

    def _cut_at_spaces(self, passage_id: int) -> bool:
        """Each sentence of the passage starts and ends at whitespace or at the passage's ends: its
        words are words of the passage, lower-cased alike (see Lexical.coverage_ceiling)."""
        p = self.index.passages[passage_id]
        text = p.text
        return all((a == p.start or text[a - p.start - 1].isspace()) and (b == p.end or text[b - p.start].isspace())
                   for a, b in p.sentences)

    def _holds(self, order: np.ndarray, codes: list[str]) -> np.ndarray:
        """Share of the question's identifiers each candidate passage holds verbatim."""
        return np.array([identifier_share(self.index.passages[int(i)].text, codes) for i in order], dtype=np.float32)

    def _sentences(self, passage_id: int) -> list[str]:
        p = self.index.passages[passage_id]
        return [p.text[a - p.start : b - p.start] for a, b in p.sentences] or [p.text]

    def sentence_scores(self, passage_ids: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Max cosine between the question and each passage's sentences."""
        rows, counts = self.index.store.sentence_vectors(passage_ids)
        return np.maximum.reduceat(rows @ q, np.concatenate([[0], np.cumsum(counts)[:-1]]))


def _within_reach(fused: np.ndarray, k: int, most: list[np.ndarray]) -> np.ndarray:
    """The candidates that could still be among the k best once non-negative terms of at most
    `most` are added to `fused`: the k-th score cannot fall below today's k-th, and the others
    stay under it. The ceiling is summed as the scores will be (float32, same order), so
    rounding cannot lift a real score above it."""
    if k >= len(fused):
        return np.ones(len(fused), dtype=bool)
    kth = np.partition(fused, len(fused) - k)[len(fused) - k]
    ceiling = fused
    for term in most:
        ceiling = ceiling + term
    return ceiling >= kth


def _ranks(values: np.ndarray) -> np.ndarray:
    """0-based rank of each value, highest first."""
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[np.argsort(-np.asarray(values), kind="stable")] = np.arange(len(values))
    return ranks


def _rrf(order: np.ndarray, rankings: list[list[int]], c: int = 60) -> np.ndarray:
    """Reciprocal rank fusion: the sum of 1/(c + rank) over the lists a passage appears in."""
    score = {int(i): 0.0 for i in order}
    for ranking in rankings:
        for rank, pid in enumerate(ranking):
            if pid in score:
                score[pid] += 1.0 / (c + rank + 1)
    return np.array([score[int(i)] for i in order])

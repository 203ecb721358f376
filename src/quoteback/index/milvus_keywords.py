"""BM25 of a Milvus index (`milvus.py`): Milvus's full-text search finds the top hits, optionally
only among the passages a filter allows (its expression, `milvus_filters`), and they are
re-scored from their stored tokens with the collection-wide statistics kept at each write."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from .lexical import sentence_coverage
from .milvus_schema import TOPK, by_ids

if TYPE_CHECKING:
    from ..filters import Filter
    from .milvus import MilvusSearch


class MilvusKeywords:
    """The `Keywords` of a Milvus index: BM25 from Milvus full-text search, idf from the stored statistics."""

    def __init__(self, search: MilvusSearch, bm25: dict[str, float]) -> None:
        self.search, self.store = search, search.store
        self.k1, self.b = float(bm25["k1"]), float(bm25["b"])
        stats = self.store._get("stats") or {"passages": 0, "length": 0}
        self.n, self.avgdl = int(stats["passages"]), (stats["length"] / stats["passages"]) if stats["passages"] else 1.0
        self._df: dict[str, int] = {}
        self.tokens, self.words = self.store.lexical.tokens, self.store.lexical.words  # bm25s + Snowball, as embedded

    def df(self, tokens: Iterable[str]) -> dict[str, int]:
        """Document frequencies (0 for words no passage uses), fetched once per word."""
        tokens = set(tokens)
        missing = sorted(t for t in tokens if t not in self._df)
        self._df.update(dict.fromkeys(missing, 0))
        self._df.update({r["term"]: int(r["df"]) for r in by_ids(self.store.client, self.store._name("_terms"), "term", missing, ["term", "df"])})
        return {t: self._df[t] for t in tokens}

    def _idf(self, df: int) -> float:
        return float(np.log(1 + (self.n - df + 0.5) / (df + 0.5)))

    def _bm25(self, queries: list[list[str]], where: Filter | None = None) -> list[np.ndarray]:
        """BM25 of every passage for each token list: Milvus's top hits (among the passages `where`
        allows: found by Milvus with its expression), zeros elsewhere."""
        out = [np.zeros(len(self.search.keys), dtype=np.float32) for _ in queries]
        asked = [(i, q) for i, q in enumerate(queries) if q]
        if not asked or not self.n:
            return out
        fields = ["terms"] if self.store.rescore else ["id"]  # not none: Milvus Lite would send every field
        found = self.store.client.search(self.store.collection, data=[" ".join(q) for _, q in asked], anns_field="sparse",
                                         limit=min(self.store.candidates, TOPK), output_fields=fields,
                                         search_params={"metric_type": "BM25"}, filter=self.search.expression(where))
        df = self.df(t for _, q in asked for t in q)
        for (i, q), hits in zip(asked, found):
            weights = {t: c * self._idf(df[t]) for t, c in Counter(q).items() if df[t]}
            for h in hits:
                pid = self.search.ids.get(h["id"])
                if pid is not None:
                    out[i][pid] = self._rescore(h["entity"]["terms"].split(), weights) if self.store.rescore else abs(h["distance"]) / (self.k1 + 1)
        return out

    def _rescore(self, words: list[str], weights: dict[str, float]) -> float:
        """BM25 as bm25s's "lucene" variant scores it: without Milvus's (k1 + 1) factor."""
        norm = self.k1 * (1 - self.b + self.b * len(words) / self.avgdl)
        return sum(w * tf / (tf + norm) for t, w in weights.items() if (tf := words.count(t)))

    def scores(self, question: str, where: Filter | None = None) -> np.ndarray:
        return self._bm25([self.tokens(question)], where)[0]

    def weights(self, question: str) -> dict[str, tuple[float, bool]]:
        return {t: (self._idf(f), f > 0) for t, f in self.df(self.tokens(question)).items()}

    def ideal(self, question: str) -> float:
        return sum(idf for idf, _ in self.weights(question).values())

    def expansion(self, question: str, passages: Sequence[str], terms: int = 20, where: Filter | None = None) -> np.ndarray:
        asked = set(self.tokens(question))
        tokens = [[t for t in self.tokens(text) if t not in asked] for text in passages]
        df = self.df(t for ts in tokens for t in ts)
        weight: Counter[str] = Counter()
        for ts in tokens:
            counts = Counter(t for t in ts if df[t])
            total = sum(counts.values()) or 1
            for token, count in counts.items():
                weight[token] += count / total * np.log(self.n / max(df[token], 1))
        chosen = [(t, w) for t, w in weight.most_common(terms) if w > 0]
        out = np.zeros(len(self.search.keys), dtype=np.float32)
        for (_, w), scores in zip(chosen, self._bm25([[t] for t, _ in chosen], where)):
            out += w * scores
        return out / out.max() if out.max() > 0 else out

    def coverage_ceiling(self, question: str, ids: np.ndarray) -> np.ndarray:
        return np.ones(len(ids))  # no bound short of the whole weight: every candidate's coverage is computed

    def coverage(self, question: str, passages: Sequence[Sequence[str]]) -> np.ndarray:
        return sentence_coverage({t: self._idf(f) for t, f in self.df(self.tokens(question)).items() if f}, passages, self.words)

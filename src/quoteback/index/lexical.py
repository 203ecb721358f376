"""BM25 over passages (bm25s with Snowball stemming), persisted as plain files next to the index."""

from __future__ import annotations

import functools
import re
from collections import Counter
from pathlib import Path
from typing import Callable, Sequence

import numpy as np


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


class Lexical:
    """Keyword scores for every passage; the counterpart of the dense FAISS search."""

    def __init__(self, model=None) -> None:
        self._model = model
        self._stem = _stemmer()
        self._words = functools.lru_cache(maxsize=100_000)(self._sentence_words)  # passages recur across questions
        # A question is read by BM25, the lexical scale, coverage, answerability and highlights:
        # tokenised and weighed once. Both depend only on the text and this index's statistics.
        self._tokens = functools.lru_cache(maxsize=256)(self._tokenize)
        self._weights = functools.lru_cache(maxsize=256)(self._question_weights)
        self._sorted: set[int] = set()  # posting lists checked to be in passage order (see _held)

    def _sentence_words(self, sentence: str) -> frozenset[str]:
        return frozenset(self._stem.stemWords(_WORD.findall(sentence.lower())))

    @classmethod
    def build(cls, texts: Sequence[str], k1: float = 0.9, b: float = 0.4) -> "Lexical":
        import bm25s

        lexical = cls()
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=lexical._stem, show_progress=False)
        model = bm25s.BM25(k1=k1, b=b)
        model.index(tokens, show_progress=False)
        lexical._model = model
        return lexical

    @classmethod
    def build_repeated(cls, texts: Sequence[str], size: int, k1: float = 0.9, b: float = 0.4) -> "Lexical":
        """BM25 over `texts` repeated up to `size` documents (benchmarks: tokenise once)."""
        import bm25s

        lexical = cls()
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=lexical._stem, show_progress=False)
        ids = [tokens.ids[i % len(texts)] for i in range(size)]
        model = bm25s.BM25(k1=k1, b=b)
        model.index(bm25s.tokenization.Tokenized(ids=ids, vocab=tokens.vocab), show_progress=False)
        lexical._model = model
        return lexical

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> "Lexical":
        import bm25s

        return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0))

    def tokens(self, question: str) -> list[str]:
        """The BM25 tokens of a text, as bm25s.tokenize makes them (lower case, its word pattern,
        English stop words out, Snowball stems), without its per-call progress-bar machinery."""
        return list(self._tokens(question))

    def _tokenize(self, text: str) -> tuple[str, ...]:
        return tuple(self._stem.stemWords([w for w in _WORD.findall(text.lower()) if w not in _stopwords()]))

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every passage, in passage-id order: bm25s's sum over the question's
        tokens (repeats count again), each token's posting list added in turn. Its np.add.at is
        a slow path for what is a plain scatter-add here: a posting list names a passage once."""
        model = self._model
        if getattr(model, "nonoccurrence_array", None) is not None:  # BM25L / BM25+ add a constant per token: bm25s's own path
            tokens = self.tokens(question)
            return np.asarray(model.get_scores(tokens), dtype=np.float32) if tokens else np.zeros(model.scores["num_docs"], np.float32)
        data, indices, indptr = model.scores["data"], model.scores["indices"], model.scores["indptr"]
        vocab, columns = model.vocab_dict, len(indptr) - 1
        out = np.zeros(model.scores["num_docs"], dtype=np.float32)
        for token in self._tokens(question):
            column = vocab.get(token, columns)
            if column < columns:
                a, b = indptr[column], indptr[column + 1]
                out[indices[a:b]] += data[a:b]
        return out

    def weights(self, question: str) -> dict[str, tuple[float, bool]]:
        """Each stemmed question word with its idf and whether any passage uses it (words no
        passage uses get the idf of a word seen nowhere: they were asked, and nothing holds them)."""
        return dict(self._weights(question))

    def _question_weights(self, question: str) -> dict[str, tuple[float, bool]]:
        model = self._model
        vocab, indptr = model.vocab_dict, model.scores["indptr"]
        n, columns = model.scores["num_docs"], len(indptr) - 1
        out = {}
        for t in set(self._tokens(question)):
            known = vocab.get(t, columns) < columns
            f = int(indptr[vocab[t] + 1] - indptr[vocab[t]]) if known else 0
            out[t] = (float(np.log(1 + (n - f + 0.5) / (f + 0.5))), known)
        return out

    def words(self, text: str) -> frozenset[str]:
        """The stemmed words of a text (cached: passages recur across questions)."""
        return self._words(text)

    def ideal(self, question: str) -> float:
        """About the BM25 score of a passage of average length holding each question word once:
        the scale of a complete lexical match. Words the passages never use count too (they were
        asked, and no passage holds them)."""
        return sum(idf for idf, _ in self._weights(question).values())

    def expansion(self, question: str, passages: Sequence[str], terms: int = 20) -> np.ndarray:
        """BM25 scores for the `terms` most telling words of `passages` that the question lacks
        (relevance feedback: term frequency in the passages times idf), weighted and max-normalised."""
        model = self._model
        vocab, indptr = model.vocab_dict, model.scores["indptr"]
        n = model.scores["num_docs"]
        asked = set(self.tokens(question))
        columns = len(indptr) - 1  # bm25s may list an empty token that has no column
        weight: Counter[str] = Counter()
        for text in passages:
            counts = Counter(t for t in self.tokens(text) if t not in asked and vocab.get(t, columns) < columns)
            total = sum(counts.values()) or 1
            for token, count in counts.items():
                df = int(indptr[vocab[token] + 1] - indptr[vocab[token]])
                weight[token] += count / total * np.log(n / max(df, 1))
        chosen = [(t, w) for t, w in weight.most_common(terms) if w > 0]
        out = np.zeros(n, dtype=np.float32)
        for token, w in chosen:
            out += w * np.asarray(model.get_scores([token]), dtype=np.float32)
        return out / out.max() if out.max() > 0 else out

    def coverage(self, question: str, passages: Sequence[Sequence[str]]) -> np.ndarray:
        """For each passage, given as its sentences: the largest share of the question's keyword
        weight (idf) that one sentence holds. Rewards a passage whose single sentence carries the
        question's words, as a quoted answer sentence does, over words scattered across sentences."""
        return sentence_coverage({t: w for t, (w, known) in self._weights(question).items() if known}, passages, self._words)

    def coverage_ceiling(self, question: str, ids: np.ndarray) -> np.ndarray:
        """For passages `ids`: the share of the question's keyword weight held by the words BM25
        indexed for the passage (title and headings included) or by a stop word's stem (BM25
        drops stop words, `words` keeps them: "its" asked stems to "it"). A sentence whose
        bounds fall on whitespace holds no other word, so its coverage is at most this (as
        float64, up to summation order): read from the posting lists, no sentence tokenised."""
        weights = {t: w for t, (w, known) in self._weights(question).items() if known}
        total = sum(weights.values())
        out = np.zeros(len(ids))
        if not total:
            return out
        stop = _stop_stems()
        for token, weight in weights.items():
            out += weight if token in stop else weight * self._held(token, ids)
        return out / total

    def _held(self, token: str, ids: np.ndarray) -> np.ndarray:
        """Whether each passage of `ids` has `token` in the index, from its posting list (kept in
        passage order by bm25s; checked once per token, else searched unordered)."""
        model = self._model
        indices, indptr = model.scores["indices"], model.scores["indptr"]
        column = model.vocab_dict[token]
        posting = indices[indptr[column] : indptr[column + 1]]
        if column not in self._sorted:
            if not (posting[1:] > posting[:-1]).all():
                return np.isin(ids, posting)
            self._sorted.add(column)
        if not len(posting):
            return np.zeros(len(ids), dtype=bool)
        return posting[np.minimum(np.searchsorted(posting, ids), len(posting) - 1)] == ids


_WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s's default token pattern


@functools.cache
def _stop_stems() -> frozenset[str]:
    """The stems of the stop words: what a stop word in a sentence adds to its `words`."""
    return frozenset(_stemmer().stemWords(sorted(_stopwords())))


@functools.cache
def _stopwords() -> frozenset[str]:
    """The English stop words bm25s.tokenize(stopwords="en") removes."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def sentence_coverage(idf: dict[str, float], passages: Sequence[Sequence[str]], words: Callable[[str], set[str]]) -> np.ndarray:
    """Per passage (its sentences), the largest share of the question's keyword weight `idf` one
    sentence holds (`words`: a sentence's keyword set); shared by the file and Milvus keyword stores."""
    total = sum(idf.values())
    out = np.zeros(len(passages), dtype=np.float32)
    if not total:
        return out
    asked = set(idf)
    for i, sentences in enumerate(passages):
        out[i] = max((sum(idf[t] for t in asked & words(s)) for s in sentences), default=0.0) / total
    return out

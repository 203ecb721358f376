"""Collections: several named document folders served by one server, each with its own index,
asked one at a time or all together.

Searching all of them gives one answer ranked as one list: each collection's retriever hands its
candidates to the merge, which orders them by the fused score the single-index ranking uses. The
parts of that score are comparable across indexes (cosines; keyword coverage is a share; the
identifier and definition bonuses are fixed) except BM25, which each index divides by its own
best score: a weak keyword match ("leave" in a leave policy, asked when the ferry leaves) would
count in one collection as fully as a complete one in another. Raw BM25 is not comparable either:
each index has its own idf statistics. So each collection's BM25 is first taken as a share of what
a complete match scores there (`Lexical.ideal`, in its own statistics), and all collections then
share one scale: the best of those shares (never below the single index's floor) counts 1. With
one collection this is exactly the single-index scaling. What stays per collection: which words
are rare (idf), and with the reader on, each collection's best `reader_depth` passages are read.

The outcome (answer, related, declined) and its confidence are judged on the merged list, from
the first passage's collection; quotes come from any collection, each tagged with its name.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields, replace
from typing import Mapping, Sequence

import numpy as np

from .documents import Document
from .index import Manifest
from .answer import RELATED_MESSAGE, Answer, Answerer, Quote, Source, _overlap, _shingles, decline_message, topic_cosine
from .filters import Filter
from .question import read_question, validate_question, with_language_note
from .retrieval import Hit
from .settings import Settings

ALL = ""  # "no collection chosen": all of them


@dataclass(frozen=True)
class Collection:
    name: str  # "" for the one unnamed corpus (no collections named)
    settings: Settings  # its own corpus folder, index folder and Milvus collection


def collections_of(settings: Settings) -> list[Collection]:
    """Every collection the settings name, in their order; the unnamed corpus when none is named."""
    if not settings.collections:
        return [Collection(ALL, settings)]
    return [Collection(name, settings.for_collection(name)) for name in settings.collections]


def chosen(settings: Settings, name: str | None) -> list[Collection]:
    """The collection `--collection NAME` chooses, or all of them (None or ""); a ValueError names
    the known ones when NAME is not one of them."""
    if not name:
        return collections_of(settings)
    if not settings.collections:
        raise ValueError(f"no collections are named, so there is no collection {name!r}; name them with "
                         "--corpus NAME=FOLDER or [collections] in quoteback.toml")
    return [Collection(name, settings.for_collection(name))]


@dataclass(frozen=True)
class CollectionSource(Source):
    collection: str = ""


@dataclass
class CollectionQuote(Quote):
    collection: str = ""  # which collection the quote comes from (in the JSON when collections are named)


def tagged(quote: Quote, collection: str) -> CollectionQuote:
    """The quote, and the other places holding its words, labelled with their collection."""
    values = {f.name: getattr(quote, f.name) for f in fields(Quote)}
    values["also_in"] = [s if isinstance(s, CollectionSource) else CollectionSource(**vars(s), collection=collection)
                         for s in quote.also_in]
    return CollectionQuote(**values, collection=collection)


def viewed_path(collection: str, document: str) -> str:
    """The name the document view knows a document by: `<collection>/<path>` (its path alone unnamed)."""
    return f"{collection}/{document}" if collection else document


class CombinedIndex:
    """What the chat's document view reads of "the index" when collections are named: every
    collection's documents under `viewed_path` (the path a quote's link names)."""

    def __init__(self, answerers: Mapping[str, Answerer]) -> None:
        self.answerers = answerers

    @functools.cached_property
    def documents(self) -> dict[str, Document]:
        return {viewed_path(name, path): replace(doc, path=viewed_path(name, path))
                for name, answerer in self.answerers.items() for path, doc in answerer.index.documents.items()}

    @property
    def manifest(self) -> Manifest:
        return next(iter(self.answerers.values())).index.manifest

    def source(self, document: Document) -> tuple[str, Document]:
        """The collection of a document of `documents`, and the document as its own index has it."""
        name, path = document.path.split("/", 1)
        return name, self.answerers[name].index.documents[path]


def tag_answer(answer: Answer, collection: str) -> Answer:
    """The answer with each quote labelled with its collection (one collection asked alone)."""
    answer.quotes = [tagged(q, collection) for q in answer.quotes]
    return answer


class CollectionsAnswerer:
    """Answers from one or several collections' answerers (all with one embedder and settings but
    their folders); the interface of `Answerer.ask`."""

    def __init__(self, answerers: Mapping[str, Answerer]) -> None:
        if not answerers:
            raise ValueError("no collection to answer from")
        self.answerers = dict(answerers)
        self.first = next(iter(self.answerers.values()))
        self.embedder = self.first.embedder
        self.settings = self.first.settings

    @functools.cached_property
    def index(self) -> CombinedIndex:
        return CombinedIndex(self.answerers)

    def matches(self, where: Filter | None) -> bool:
        """Whether the filter allows any passage of any collection."""
        return any(_allows(a, where) for a in self.answerers.values())

    def ask(self, question: str, history: Sequence[str] = (), k: int | None = None, where: Filter | None = None) -> Answer:
        """`Answerer.ask` over every collection: one collection answers as its own index does; several
        are searched together and answered from the merged list (collections whose passages `where`
        rules out all are skipped)."""
        if len(self.answerers) == 1:
            return tag_answer(self.first.ask(question, history, k, where), next(iter(self.answerers)))
        k = k or self.settings.k
        active = {name: a for name, a in self.answerers.items() if _allows(a, where)}
        if validate_question(question, self.settings.max_question_chars) or not active:
            return self.first.ask(question, history, k, where)  # refused before any search, with the one-line reason
        query, vector, changed = read_question(question, history, self.embedder.encode,
                                               lambda text, v: all(a.off_topic(text, v) for a in active.values()))
        if changed:
            return Answer(question, False, [], decline_message(question), query)
        answer = self._compose(active, question, query, self.search(active, query, vector, 3 * k, where), vector, k)
        answer.message = with_language_note(question, answer.message)
        return answer

    @staticmethod
    def search(answerers: Mapping[str, Answerer], query: str, vector: np.ndarray, depth: int,
               where: Filter | None = None) -> list[tuple[str, Hit]]:
        """The `depth` best passages of all the collections, as (collection, hit), best first:
        each collection's own best, BM25 on one scale (`lexical_scales`), ranked by score."""
        keywords = any(a.retriever.mode != "dense" for a in answerers.values())
        scales = lexical_scales(answerers, query, where) if keywords else dict.fromkeys(answerers)
        found = [(name, hit) for name, a in answerers.items()
                 for hit in a.retriever.search(query, depth, vector=vector, where=where, lexical_scale=scales[name])]
        return sorted(found, key=lambda pair: -pair[1].score)[:depth]  # stable: ties keep the collections' order

    def _compose(self, active: Mapping[str, Answerer], question: str, query: str, found: list[tuple[str, Hit]],
                 vector: np.ndarray, k: int) -> Answer:
        """`Answerer.compose` over the merged list: judged from the first passage's collection."""
        if not found:
            return self.first.compose(question, query, [], vector, k)
        lead, top = found[0]
        best, hits = active[lead], [hit for _, hit in found]
        first = _lead_highlights(best, top, vector, query)
        outcome, confidence, signals = best.judge(query, hits, vector, first)
        if outcome == "declined":
            on_topic = topic_cosine(hits) >= self.settings.abstain_below
            return Answer(question, False, [], decline_message(question, on_topic), query, confidence=confidence, signals=signals)
        quotes: list[CollectionQuote] = []
        for name, answerer in active.items():
            mine = [hit for n, hit in found if n == name]
            if mine:
                highlights = first if mine[0] is top else _lead_highlights(answerer, mine[0], vector, query)
                quotes += [tagged(q, name) for q in answerer.quotes(mine, vector, query, k, highlights)]
        quotes = merge_quotes(quotes, round(top.score, 4) - self.settings.quote_margin, k)
        searched = f"Searched for: {query}" if query != question.strip() else ""
        return Answer(question, outcome == "answer", list(quotes), RELATED_MESSAGE if outcome == "related" else searched,
                      query, outcome=outcome, confidence=confidence, signals=signals)


def lexical_scales(answerers: Mapping[str, Answerer], query: str, where: Filter | None = None) -> dict[str, float]:
    """What each collection divides its BM25 scores by so that they share one scale: its complete
    match's score (`ideal`) times the largest share of a complete match any collection's best
    passage reaches (each index's own scale over its ideal: its best share, or the floor)."""
    own = {name: a.retriever.lexical_scale(query, where) for name, a in answerers.items()}
    ideal = {name: a.index.lexical.ideal(query) for name, a in answerers.items()}
    best = max((own[name] / ideal[name] for name in answerers if ideal[name] > 0), default=0.0)
    return {name: ideal[name] * best if ideal[name] > 0 and best > 0 else own[name] for name in answerers}


def merge_quotes(quotes: list[CollectionQuote], floor: float, k: int) -> list[CollectionQuote]:
    """The k best quotes of several collections, best first, each at least `floor`; a quote whose
    words an earlier one holds (the same text in two collections) becomes a further source of it."""
    kept: list[tuple[set[tuple[str, ...]], CollectionQuote]] = []
    for quote in sorted(quotes, key=lambda q: -q.score):
        key = _shingles(quote.text)
        same = next((q for other, q in kept if _overlap(key, other) >= 0.8), None)
        if same is not None:
            source = {f.name: getattr(quote, f.name) for f in fields(Source)}
            same.also_in += [CollectionSource(**source, collection=quote.collection), *quote.also_in]
        elif len(kept) < k and quote.score >= floor:
            kept.append((key, quote))
    return [q for _, q in kept]


def allows(answerer: Answerer | CollectionsAnswerer, where: Filter | None) -> bool:
    """Whether `where` leaves any passage to search (in any collection)."""
    return answerer.matches(where) if isinstance(answerer, CollectionsAnswerer) else _allows(answerer, where)


def _allows(answerer: Answerer, where: Filter | None) -> bool:
    allowed = answerer.retriever.allowed(where)
    return allowed is None or bool(allowed.any())


def _lead_highlights(answerer: Answerer, hit: Hit, vector: np.ndarray, query: str) -> list[list[int]]:
    """The highlights of a collection's first passage (its quote and, for the best, the judgement use them)."""
    index = answerer.index
    text = index.documents[index.passages[hit.passage_id].document].text
    return answerer.highlights(hit.passage_id, text, vector, query)

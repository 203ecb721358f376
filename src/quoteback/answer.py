"""Stage 6: turn retrieved passages into an answer made only of quotes, or a plain decline.

Every quote is `document.text[start:end]`; highlights are sentence spans inside it. The only
words of our own are fixed messages (a decline, an input problem), never claims.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Collection, Sequence

import numpy as np

from .documents import Document
from .embeddings import Encoder
from .filters import Filter
from .fusion import Fusion
from .index import Index
from .passages import Passage
from .answerability import Calibrator, Signals, answering_sentences, coefficients, signals, type_missing
from .reader import Reader
from .cues import defines, identifier_share, identifiers
from .retrieval import Hit, Retriever
from .question import (is_follow_up, language_note, read_question, refers_back, search_query,  # noqa: F401 - re-exported
                       validate_question, with_language_note)
from .settings import Settings

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Source:
    document: str
    title: str
    date: str | None
    start: int
    end: int
    page: int | None = None  # 1-based PDF page where the span starts; None without pages
    section: str | None = None  # heading path above the span, outermost first, joined by " › "


def _where(doc: Document, start: int, end: int) -> dict[str, Any]:
    """Page(s) and section of a span: what a person needs to find it in the document."""
    return {"page": doc.page_at(start), "pages": doc.pages_of(start, end), "section": doc.section_label(start)}


@dataclass
class Quote:
    text: str
    document: str
    title: str
    date: str | None
    start: int
    end: int
    score: float
    highlights: list[list[int]] = field(default_factory=list)  # absolute [start, end) sentence spans
    also_in: list[Source] = field(default_factory=list)  # the same words elsewhere in the corpus
    page: int | None = None  # 1-based PDF page where the quote starts; None for formats without pages
    pages: list[int] = field(default_factory=list)  # every page the quote touches (two across a page break)
    section: str | None = None  # heading path above the quote, e.g. "5 Authenticators › 5.1 Memorized Secrets"


OUTCOMES = ("answer", "related", "declined")
# two different messages for two different situations: on the documents' topic but not answered
# (the closest passages are shown), and off their topic altogether (declined; see `decline_message`)
RELATED_MESSAGE = "The documents are about this but don't answer it directly. The closest passages:"


@dataclass
class Answer:
    question: str
    answered: bool  # True only for a direct answer
    quotes: list[Quote]
    message: str
    searched: str = ""  # the query actually searched (differs for follow-ups)
    valid: bool = True  # False when the question itself was rejected
    outcome: str = "declined"  # answer | related (closest passages, lower confidence) | declined
    confidence: float = 0.0  # probability-like: how likely the first quote answers the question
    signals: Signals | None = None  # what the confidence looked at (for evaluation; not in the JSON)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "valid": self.valid,  # false: the question or its filter was refused (the message says why)
            "answered": self.answered,
            "outcome": self.outcome,
            "confidence": round(self.confidence, 4),
            "quotes": [asdict(q) for q in self.quotes],
            "message": self.message,
            "searched": self.searched,
        }


class Answerer:
    """Configuration in the constructor, work in `ask`."""

    def __init__(self, index: Index, embedder: Encoder, settings: Settings, calibrator: Calibrator | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.retriever = Retriever(index, embedder, Fusion.from_settings(settings), Reader.from_settings(settings))
        self.calibrator = calibrator or Calibrator.load(coefficients(settings.reader))

    def ask(self, question: str, history: Sequence[str] = (), k: int | None = None, where: Filter | None = None) -> Answer:
        """Quotes answering `question` (a follow-up of `history`), from the passages `where` allows."""
        problem = validate_question(question, self.settings.max_question_chars)
        if problem:
            return Answer(question if isinstance(question, str) else "", False, [], problem, "", valid=False)
        allowed = self.retriever.allowed(where)
        if allowed is not None and not allowed.any():
            return Answer(question, False, [], f"No passage matches the filter {where}; nothing was searched.", "", valid=False)
        query, vector, changed = read_question(question, history, self.embedder.encode, self.off_topic)
        if changed:
            return Answer(question, False, [], decline_message(question), query)
        hits = self.retriever.search(query, (k or self.settings.k) * 3, vector=vector, where=where)
        answer = self.compose(question, query, hits, vector, k or self.settings.k)
        answer.message = with_language_note(question, answer.message)
        return answer

    def off_topic(self, text: str, vector: np.ndarray) -> bool:
        """A follow-up's own words are off the documents' topic: no passage within the cosine floor
        (see `judge`), and it has keywords, none of which any passage uses ("since when?" has
        none; "what about the coup?" names what the documents speak of)."""
        weights = self.index.lexical.weights(text)
        if not weights or any(known for _, known in weights.values()):
            return False
        best = self.index.store.dense_search(vector, 1)
        return not len(best) or float((self.index.store.passage_vectors(best) @ vector).max()) < self.settings.abstain_below

    def judge(self, query: str, hits: Sequence[Hit], vector: np.ndarray, first: list[list[int]]) -> tuple[str, float, Signals | None]:
        """The outcome, the confidence that the first passage answers, and the signals it looked
        at: when no passage found comes within the cosine floor, the question is off the documents'
        topic (declined; the first passage may sit lower when it holds the code asked about);
        otherwise the calibrated score decides. `first`: the first passage's highlights."""
        if not hits:
            return "declined", 0.0, None
        text = self.index.documents[self.index.passages[hits[0].passage_id].document].text
        found = signals(query, hits, self.index, vector, " ".join(text[a:b] for a, b in first))
        confidence = self.calibrator.confidence(found)
        if topic_cosine(hits) < self.settings.abstain_below:
            return "declined", confidence, found
        # the code asked about, verbatim: an exact lookup, however the words embed (a table row)
        lookup = identifier_share(self.index.passages[hits[0].passage_id].text, identifiers(query)) == 1.0
        if confidence < self.settings.related_from and not lookup:
            return "declined", confidence, found
        if found.type_missing:  # asked how many / when / who, and the passage holds no such thing
            return "related", confidence, found
        if lookup:
            return "answer", confidence, found
        return ("answer" if confidence >= self.settings.answer_from else "related"), confidence, found

    def compose(self, question: str, query: str, hits: Sequence[Hit], vector: np.ndarray, k: int) -> Answer:
        """Quotes for the hits of a search (best first), or a decline."""
        top = self.index.passages[hits[0].passage_id] if hits else None  # its highlights: judged on, then shown
        first = self.highlights(hits[0].passage_id, self.index.documents[top.document].text, vector, query) if top else []
        outcome, confidence, found = self.judge(query, hits, vector, first)
        if outcome == "declined":
            on_topic = bool(hits) and topic_cosine(hits) >= self.settings.abstain_below
            return Answer(question, False, [], decline_message(question, on_topic), query, confidence=confidence, signals=found)
        quotes = self.quotes(hits, vector, query, k, first)
        searched = f"Searched for: {query}" if query != question.strip() else ""
        message = RELATED_MESSAGE if outcome == "related" else searched
        return Answer(question, outcome == "answer", quotes, message, query, outcome=outcome, confidence=confidence, signals=found)

    def quotes(self, hits, vector: np.ndarray, query: str, k: int, first: list[list[int]]) -> list[Quote]:
        """Best first; a passage whose words another quote already contains (or the reverse) is merged
        into it as a further source instead of being quoted twice."""
        quotes: list[tuple[set[tuple[str, ...]], Quote]] = []
        for hit in hits:
            p = self.index.passages[hit.passage_id]
            doc = self.index.documents[p.document]
            if _inside(quotes, p):
                continue  # already quoted whole, as what an earlier quote announced
            key = _shingles(p.text)
            same = next((q for other, q in quotes if _overlap(key, other) >= 0.8), None)
            if same is not None:
                where = _where(doc, p.start, p.end)
                same.also_in.append(Source(doc.path, doc.title, doc.date, p.start, p.end, where["page"], where["section"]))
                continue
            if len(quotes) == k or hit.score < hits[0].score - self.settings.quote_margin:
                continue
            highlights = list(first) if hit is hits[0] else self.highlights(hit.passage_id, doc.text, vector, query)
            end = p.end
            follow = announced(self.index, hit.passage_id)
            if follow is not None and not _inside(quotes, follow):  # "... listed below": the quote goes on to what it announces
                end = follow.end
                if highlights and highlights[-1][1] == p.sentences[-1][1]:
                    highlights += [list(s) for s in follow.sentences]
            quote = Quote(doc.text[p.start : end], doc.path, doc.title, doc.date, p.start, end, round(hit.score, 4),
                          highlights, **_where(doc, p.start, end))
            quotes.append((key, quote))
        return [q for _, q in quotes]

    def _sentence_vectors(self, passage_id: int, text: str) -> np.ndarray:
        rows = self.index.sentence_rows(passage_id)
        if rows is not None:
            return np.asarray(rows)
        return self.embedder.encode([text[a:b] for a, b in self.index.passages[passage_id].sentences])

    def highlights(self, passage_id: int, text: str, vector: np.ndarray, query: str) -> list[list[int]]:
        """The sentence(s) of the quote closest to the question: cosine plus the share of the
        question's keyword weight (idf, stemmed) the sentence holds, less
        when the question asks for a number, date or name that the sentence does not hold, more
        when it asks what a term is and the sentence defines it ("X, where …", "known as X").

        Headings and question lines (an FAQ's own question) are not highlighted unless nothing
        else is there: they repeat the question's words but answer nothing.
        """
        sentences = self.index.passages[passage_id].sentences
        all_vectors = self._sentence_vectors(passage_id, text)
        keep = answering_sentences(self.index, passage_id)
        candidates = [sentences[i] for i in keep]
        vectors = all_vectors[keep]
        weights = self.index.lexical.weights(query)
        total = sum(idf for idf, _ in weights.values()) or 1.0
        held = [self.index.lexical.words(text[a:b]) for a, b in candidates]  # each sentence's words once, not once a question word
        overlap = np.array([sum(idf for t, (idf, _) in weights.items() if t in words) / total
                            for words in held])  # rare question words count most: the topic is in every sentence
        missing = np.array([type_missing(query, text[a:b]) for a, b in candidates])
        defining = np.array([defines(query, text[a:b]) for a, b in candidates], dtype=float)
        score = vectors @ vector + 1.0 * overlap - 0.3 * missing + 0.3 * defining
        best = float(score.max())
        chosen = [s for s, v in zip(candidates, score) if v >= best - 0.03]
        complete = {s for s, d in zip(candidates, defining) if d}  # a definition asked for stands alone
        return [list(s) for s in _continued(chosen, sentences, text, complete)]


_ANNOUNCES = re.compile(r":\s*$|\b(?:listed|shown|given|described|outlined|summari[sz]ed|presented) below\b|\bas follows\b", re.I)


def announced(index: Index, passage_id: int) -> Passage | None:
    """The passage right after this one when this one ends by announcing it ("The attack vectors
    listed below are ...", "... as follows:") and both sit in the same section: quoted alone, the
    first would promise a list the reader never sees."""
    p = index.passages[passage_id]
    if not p.sentences or passage_id + 1 >= len(index.passages):
        return None
    after = index.passages[passage_id + 1]
    doc = index.documents[p.document]
    a, b = p.sentences[-1]
    if (after.document != p.document or doc.text[p.end : after.start].strip() or not _ANNOUNCES.search(doc.text[a:b])
            or doc.section_at(after.start) != doc.section_at(p.start)):
        return None
    return after


def _inside(quotes: list[tuple[set[tuple[str, ...]], Quote]], p: Passage) -> bool:
    """Whether one of the quotes already holds the whole passage."""
    return any(q.document == p.document and q.start <= p.start and p.end <= q.end for _, q in quotes)


_LIST_INTRO = re.compile(r"(?:This|These|That|Those|It|They|Such|Here|The following)\b[^\n]{0,100}:\s*$")
_CONTRAST = re.compile(r"(?:However|But|Yet|Nevertheless|Nonetheless|Still|That said|Even so)\b")
_POINTS_BACK = re.compile(r"(?:\w+ ){0,2}(?:this|these|such) \w+,")  # "During this period, ..." "In these cases, ..."
_FIRST = re.compile(r"(?:The first|First,|Firstly,|One (?:way|option|reason|method) (?:is|was))\b")
_NEXT_ITEM = re.compile(r"(?:The (?:second|third|fourth|next|last|other)|Another|Second(?:ly)?,|Third(?:ly)?,|Next,|Finally,|Lastly,)\b")


def _continued(chosen: list[tuple[int, int]], sentences: list[tuple[int, int]], text: str,
               complete: Collection[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """A chosen sentence is highlighted with what completes it in the quote: the list it
    introduces ("... are as follows:", or a short next sentence that does: "This should be done
    when one of these applies:"), and the next sentence when that one turns it around ("... is
    not publicly disclosed. However, reports suggest ..."): alone it would say the opposite of
    what the passage says, or opens by pointing back at it ("... was profiled for 24 hours.
    During this period, 99.94% of requests saw one version"): the one sets up what the other says;
    and the first item of an enumeration is highlighted with the items after it ("The first is by
    clicking ... Another way is ..."). A sentence in `complete` (the definition a "What is X?"
    question asked for) takes no next sentence."""
    out = []
    for span in chosen:
        out.append(span)
        after = [s for s in sentences if s[0] >= span[1]]
        following = text[after[0][0] : after[0][1]] if after else ""
        if text[span[0] : span[1]].rstrip().endswith(":") or _LIST_INTRO.match(following):
            out += after
        elif _FIRST.match(text[span[0] : span[1]]):  # "The first is ... Another way is ...": the whole enumeration
            for a, b in after:
                if not _NEXT_ITEM.match(text[a:b]):
                    break
                out.append((a, b))
        elif span not in complete and (_CONTRAST.match(following) or _POINTS_BACK.match(following)):
            out.append(after[0])
    return sorted(set(out))


def _shingles(text: str) -> set[tuple[str, ...]]:
    """The word trigrams of a text (its words as one, when fewer than three)."""
    words = _WORD.findall(text.lower())
    return set(zip(words, words[1:], words[2:])) if len(words) > 2 else {tuple(words)}


def _overlap(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    """Share of the smaller passage's word trigrams found in the other: 1.0 for a copy or an excerpt."""
    return len(a & b) / max(1, min(len(a), len(b)))


def topic_cosine(hits: Sequence[Hit]) -> float:
    """How near the documents come to the question: the best passage cosine among the hits (the
    first hit may rank first for holding the code asked about, with a lower cosine)."""
    return max((h.dense for h in hits), default=-1.0)


def decline_message(question: str, on_topic: bool = False) -> str:
    """Off the documents' topic, or (when `related_from` is raised above 0) on it but too unsure to quote."""
    shown = question.strip() if len(question.strip()) <= 120 else question.strip()[:117] + "..."
    if on_topic:
        return f"The documents are about this but don't say it: no passage answers “{shown}” closely enough to quote."
    return f"The documents are not about this: no passage comes near “{shown}”."

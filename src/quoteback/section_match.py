"""Whether a question names the section a passage sits in: "shown in the cash flow statement"
names "Consolidated Statement of Cash Flows", "how is risk managed at Tier 1" names "Tier 1:
Partial". The passage's own words may share nothing with the question (a statement row reads
"Purchases of property, plant and equipment | 2018: (1,577)"); its heading carries the topic.

BM25 already indexes the headings with the passage, where their few words are lost among the
passage's many; here a heading is scored as a field of its own, as search engines weigh a title
field apart (BM25F)."""

from __future__ import annotations

import numpy as np

from .index import Index


class SectionMatch:
    """`share(question, ids)`: for each passage, the largest share of one heading's keyword weight
    (idf, as BM25 counts it) that the question holds, over the headings above the passage (the
    document title left out: every passage of a document shares it), squared: 1.0 when the
    question holds every word of a heading, 0.0 under no heading, and one word of a longer
    heading little ("How many replicas …" names neither "Replica synchronization" nor "Divergent
    Versions: When and How Many?"). Heading words are read once per index."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._paths: dict[int, tuple[str, ...]] = {}  # passage id -> its headings, title left out
        self._words: dict[str, tuple[dict[str, float], float]] = {}  # heading -> (its words' idf, their sum)

    def share(self, question: str, ids: np.ndarray) -> np.ndarray:
        asked = {t for t, (_, known) in self.index.lexical.weights(question).items() if known}
        out = np.zeros(len(ids), dtype=np.float32)
        if not asked:
            return out
        for j, passage_id in enumerate(ids):
            best = 0.0
            for heading in self._headings(int(passage_id)):
                words, total = self._heading_words(heading)
                if total:
                    best = max(best, sum(idf for t, idf in words.items() if t in asked) / total)
            out[j] = best * best
        return out

    def _headings(self, passage_id: int) -> tuple[str, ...]:
        if passage_id not in self._paths:
            p = self.index.passages[passage_id]
            document = self.index.documents[p.document]
            self._paths[passage_id] = tuple(h for h in document.section_at(p.start) if h != document.title)
        return self._paths[passage_id]

    def _heading_words(self, heading: str) -> tuple[dict[str, float], float]:
        if heading not in self._words:
            words = {t: idf for t, (idf, known) in self.index.lexical.weights(heading).items() if known}
            self._words[heading] = (words, sum(words.values()))
        return self._words[heading]

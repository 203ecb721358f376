"""Hand cues of a question that plain fusion misses: an identifier it names verbatim ("DE.CM-1")
and a definition it asks for ("What is X?"). Each adds a fixed bonus in retrieval (retrieval.py)
and a check in answering (answer.py)."""

from __future__ import annotations

import re

# An identifier the question names verbatim (letters and digits joined by . - / _: "DE.CM-1",
# "SP 800-61r2", "E11000", "HTTP/1.1") is an exact lookup that word-level BM25 cuts apart and
# embeddings blur; a passage holding it verbatim gets this much more.
# A definition question ("What is X?", "what exactly counts as X?") prefers a passage that says
# what X is ("X is ...", "known as X") over passages that only name it (a keyword list, a
# "Definition of X and related terms" list item): realdocs-dev +1 Success@1, no change elsewhere.
DEFINITION_BONUS = 0.05
IDENTIFIER_BONUS = 0.3  # 0.2 -> 0.3: a table row holding the code asked about outranks prose about such codes (realdocs-dev +1 Success@1; scifact-train nDCG@10 -0.0006)
_IDENTIFIER = re.compile(r"(?<![\w.\-/])(?=[\w.\-/]*\d)(?=[\w.\-/]*[A-Za-z])[A-Za-z0-9]+(?:[.\-_/][A-Za-z0-9]+)+(?![\w\-/]|\.\w)")


def identifiers(question: str) -> list[str]:
    """Codes in the question: capital letters and digits joined by punctuation ("DE.CM-1",
    "HTTP/1.1", "PD-1"); lower-case compounds ("30-second", "7-day-old") are words, not codes."""
    return list(dict.fromkeys(c for c in _IDENTIFIER.findall(question) if any(ch.isupper() for ch in c)))


def identifier_share(text: str, codes: list[str]) -> float:
    """Share of the identifiers `codes` that `text` holds verbatim."""
    return sum(code in text for code in codes) / len(codes) if codes else 0.0


# "What is X?", "What does X mean?", "According to the guide, what exactly counts as X?"
DEFINITION_QUESTION = re.compile(
    r"^\W*(?:[^,?]{0,80},\s*)?(?:what(?:'s| is| are| does| do)|define|what is meant by|what (?:exactly )?counts as)\s+(?:an?\s+|the\s+)?(.{2,60}?)(?:\s+(?:mean|stand for)\b[^?]*)?\s*\??\s*$", re.I)


def defines(question: str, text: str) -> bool:
    """For a definition question ("What does over-engineering mean?", "What is MINUSMA?"),
    whether `text` states what the term is: "X is …", "X means …", "X, where …", "is X, where …",
    "known as X", "called X"; False for any other question."""
    asked = DEFINITION_QUESTION.match(question.strip())
    if not asked:
        return False
    term = rf"\W{{0,3}}{re.escape(asked.group(1).strip())}\W{{0,3}}"  # "**over-engineering**", "“MINUSMA”"
    frames = (rf"\b{term}\s*(?:is|are|was|were|means?|refers? to|stands? for|denotes)\b",
              rf"\b{term}\s*,\s*(?:where|which|when|i\.e\.)",
              rf"\b(?:known as|called|termed|named)\s+{term}",
              rf"\b(?:is|are)\s+(?:an?\s+|the\s+)?{term}\s*,\s*(?:where|which|when|i\.e\.)")
    return any(re.search(frame, text, re.I) for frame in frames)

"""What a reader would object to in a quote from a real document, counted by `quoteback eval`.

Extraction leftovers (ligature characters, words broken at a line end, running headers or
footers, words glued together) and missing citations (a PDF quote without its page, a quote
from a document with headings but no section). The eval reports these counts for the quotes
it would show, so cleaning is measured, not assumed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..documents import Document

LIGATURES = re.compile("[\ufb00-\ufb06]")
HYPHEN_BREAK = re.compile(r"[a-z]-\n[a-z]")
GLUED = re.compile(r"(?<![\w/.@:-])[A-Za-z]{26,}(?![\w/@-]|\.\w)")  # a 26+ letter run: real English words are shorter
KINDS = ("ligature", "hyphen break", "running header/footer", "glued words", "no page", "no section")


def normalise(text: str) -> str:
    """Whitespace runs collapsed to one space, case folded: how expected phrases are matched."""
    return " ".join(text.split()).casefold()


def phrases(expected: str | list[str]) -> list[str]:
    """A question's expected phrases (one or several), normalised for matching."""
    return [normalise(x) for x in ([expected] if isinstance(expected, str) else expected)]


@dataclass
class QuoteChecks:
    """Counts over every quote checked; `examples` keeps one offending line per kind."""

    quotes: int = 0
    counts: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    _repeated: dict[str, set[str]] = field(default_factory=dict)

    def check(self, document: Document, start: int, end: int, page: int | None, section: str | None) -> list[str]:
        """Record one quote `document.text[start:end]`; returns the kinds of problem found."""
        text = document.text[start:end]
        found = []
        for kind, match in (("ligature", LIGATURES.search(text)), ("hyphen break", HYPHEN_BREAK.search(text)),
                            ("glued words", GLUED.search(text))):
            if match:
                found.append(kind)
                self.examples.setdefault(kind, _line_around(text, match.start()))
        header = next((line for line in text.splitlines() if line.strip() in self._lines_repeated(document)), None)
        if header is not None:
            found.append("running header/footer")
            self.examples.setdefault("running header/footer", header.strip())
        if document.pages and page is None:
            found.append("no page")
        if document.headings and not section:
            found.append("no section")
        self.quotes += 1
        self.counts.update(found)
        return found

    def _lines_repeated(self, document: Document) -> set[str]:
        """Lines of 12+ characters that stand alone on 4+ pages: what running headers look like."""
        if document.path not in self._repeated:
            lines = Counter(line.strip() for line in document.text.splitlines() if len(line.strip()) >= 12)
            pages = max(len(document.pages), 1)
            self._repeated[document.path] = {line for line, n in lines.items() if n >= 4 and pages >= 4 and " | " not in line}
        return self._repeated[document.path]

    def to_json(self) -> dict:
        return {"quotes": self.quotes, **{kind: self.counts.get(kind, 0) for kind in KINDS}, "examples": self.examples}


def _line_around(text: str, pos: int) -> str:
    a = text.rfind("\n", 0, pos) + 1
    b = text.find("\n", pos)
    return text[a : b if b >= 0 else len(text)][:200]

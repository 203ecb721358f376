"""What every format reader produces: the document text with its pages and headings.

Offsets everywhere refer to `Document.text`, the text as extracted (for a .txt file, the file
itself). A quote is `text[start:end]`; its page and section are looked up from the offsets.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

SECTION_SEPARATOR = " › "
# a figure in a table cell: 1,577 (1,577) -3.5 12% $5,363 — n/a; alone it means nothing without its column header
FIGURE = re.compile(r"^(?:[$€£]\s?)?\(?[-−–]?[$€£]?\s?\d[\d,]*(?:\.\d+)?\)?%?$|^[—–-]+$|^n/?a$", re.I)


class DocumentError(Exception):
    """A document that cannot be indexed; the message says why, for the build report."""


@dataclass(frozen=True)
class Document:
    path: str  # relative to the corpus folder, with forward slashes
    title: str
    date: str | None  # ISO yyyy-mm-dd when known
    text: str
    body_start: int  # offset where quotable text starts (after any metadata header)
    content_hash: str  # sha256 of the file's bytes
    pages: list[int] = field(default_factory=list)  # offset where each page starts (PDF); empty without pages
    headings: list[list[int]] = field(default_factory=list)  # [start, end, level] of each heading, in order
    tags: list[str] = field(default_factory=list)  # from the sidecar (`sidecar.py`), for `--where tag=`

    def page_at(self, offset: int) -> int | None:
        """1-based page holding `offset`, None for formats without pages."""
        return bisect.bisect_right(self.pages, offset) if self.pages else None

    def pages_of(self, start: int, end: int) -> list[int]:
        """Every page a span touches (one for most quotes, two when it crosses a page break)."""
        if not self.pages:
            return []
        first, last = self.page_at(start), self.page_at(max(start, end - 1))
        return list(range(first, last + 1))

    def section_at(self, offset: int) -> list[str]:
        """The heading path above `offset`, outermost first (e.g. ["5 Authenticators", "5.1 Memorized Secrets"]).

        Markup before a heading's words on the same line (`# `) counts as part of the heading."""
        while offset < len(self.text) and not self.text[offset].isalnum() and self.text[offset] != "\n":
            offset += 1
        path: list[tuple[int, str]] = []
        for start, end, level in self.headings:
            if start > offset:
                break
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, " ".join(self.text[start:end].split())))
        return [title for _, title in path]

    def section_label(self, offset: int) -> str | None:
        """The heading path above `offset` as one line ("5 Authenticators › 5.1 Memorized Secrets");
        None before a document's first heading (an introduction is under no heading: naming the
        first one, which may start pages later, would place it wrongly; the title is shown apart)."""
        path = self.section_at(offset)
        return SECTION_SEPARATOR.join(path) if path else None


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True)
class Notice:
    """A warning raised while reading a file (a library's complaint), named by the file."""

    path: str
    message: str


@dataclass(frozen=True)
class Corpus:
    documents: list[Document]
    skipped: list[Skipped]
    notices: list[Notice] = field(default_factory=list)


@dataclass
class Extracted:
    """A format reader's result, before the corpus bookkeeping (path, hash) is added."""

    text: str
    title: str | None = None
    date: str | None = None
    body_start: int = 0
    pages: list[int] = field(default_factory=list)
    headings: list[list[int]] = field(default_factory=list)


class TextBuilder:
    """Assembles extracted text block by block, recording heading spans and page starts.

    Blocks are separated by a blank line, so the chunker sees each paragraph, heading, list item
    and table on its own; a table is one row per line with ` | ` between cells."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.headings: list[list[int]] = []
        self.pages: list[int] = []

    def _append(self, text: str) -> int:
        if self._length:
            self._parts.append("\n\n")
            self._length += 2
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        return start

    def paragraph(self, text: str) -> None:
        text = text.strip()
        if text:
            self._append(text)

    def heading(self, text: str, level: int) -> None:
        text = " ".join(text.split())
        if text:
            start = self._append(text)
            self.headings.append([start, start + len(text), max(1, int(level))])

    def table(self, rows: list[list[str]]) -> None:
        """Rows `cell | cell`; under a header row (a first row of words, not figures), a figure
        is written with its column's header, `Net sales | 2023: 14,694 | 2022: 14,544`, as the PDF
        statements are (see `pdf_statements`): a bare number says nothing on its own."""
        rows = [[" ".join(cell.split()) for cell in row] for row in rows]
        header = rows[0] if len(rows) > 2 and not any(FIGURE.match(c) for c in rows[0][1:]) else None
        if header:
            rows = [rows[0]] + [[f"{header[j]}: {c}" if j and len(row) == len(header) and header[j] and FIGURE.match(c) else c
                                 for j, c in enumerate(row)] for row in rows[1:]]
        lines = [" | ".join(row) for row in rows]
        lines = [line for line in lines if line.strip(" |")]
        if lines:
            self._append("\n".join(lines))

    def page(self) -> None:
        """The next block starts a new page."""
        self.pages.append(self._length + (2 if self._length else 0))

    def build(self, title: str | None = None, date: str | None = None) -> Extracted:
        return Extracted("".join(self._parts), title, date, 0, self.pages, self.headings)

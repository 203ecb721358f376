"""Stage 2: split a document into passages a person would want quoted.

Every passage is an exact slice `document.text[start:end]` that begins and ends on sentence
boundaries (nupunkt). Structure is respected: blank-line paragraphs, list items and headings
are blocks; a heading or FAQ question line travels with the paragraph that follows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .documents import Document

Span = tuple[int, int]

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_STARTS_BLOCK = re.compile(r"^[ \t]*(?:#{1,6}[ \t]|[-*+•][ \t]|\d{1,3}[.)][ \t])")
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+•▪◦][ \t]|\d{1,3}[.)][ \t]|\(?[a-z0-9]{1,2}\)[ \t])")
CAPTION = re.compile(r"(?:Table|Figure|Fig\.|Exhibit|Listing)\s+[A-Z]?[\d.-]+[.:]?\s+[^\n]{1,120}$")  # leads its table or figure
_HARD_LIMIT_FACTOR = 4  # a "sentence" longer than this many max_chars is unpunctuated text: split it


@dataclass(frozen=True)
class Passage:
    document: str  # Document.path
    start: int
    end: int
    text: str
    sentences: list[Span] = field(default_factory=list)  # absolute offsets, inside [start, end)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans of text[start:end], absolute and stripped of surrounding whitespace."""
    import nupunkt

    end = len(text) if end is None else end
    spans = []
    for a, b in nupunkt.sent_spans(text[start:end]):
        a, b = _strip(text, start + a, start + b)
        if a < b:
            spans.append((a, b))
    return spans


def _strip(text: str, a: int, b: int) -> Span:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


@dataclass
class _Block:
    start: int
    end: int
    sentences: list[Span]
    lead: bool  # a heading, question line or "as follows:" line that belongs with what follows
    item: bool = False  # a list item or table: consecutive ones stay together
    heading: bool = False  # a heading the reader found: it starts a section
    table: bool = False  # rows of a table (cells between ` | `)


class Chunker:
    """Configuration in the constructor, work in `split`."""

    def __init__(self, max_chars: int = 700, min_chars: int = 60) -> None:
        if max_chars < 50:
            raise ValueError("max_chars must be at least 50")
        self.max_chars = max_chars
        self.min_chars = min_chars

    def split(self, document: Document) -> list[Passage]:
        text = document.text
        headings = {(a, b) for a, b, _ in document.headings}
        groups = self._groups(self._blocks(text, document.body_start, headings))
        spans: list[list[Span]] = []
        for group in groups:
            for piece in self._pack(group):
                size = piece[-1][1] - piece[0][0]
                if spans and size < self.min_chars and piece[-1][1] - spans[-1][0][0] <= self.max_chars:
                    spans[-1] = spans[-1] + piece
                else:
                    spans.append(piece)
        return [
            Passage(document.path, s[0][0], s[-1][1], text[s[0][0] : s[-1][1]], list(s)) for s in spans
        ]

    def _blocks(self, text: str, body_start: int, headings: set[Span]) -> list[_Block]:
        """Paragraphs, list items, table rows and headings; a heading the reader found always
        starts its own block and leads the block after it."""
        blocks = []
        cuts = sorted({x for span in headings for x in span})
        for a, b in _paragraph_spans(text, body_start, cuts):
            lines = _table_rows(text, a, b)
            sentences = self._limit(text, lines or sentence_spans(text, a, b))
            if not sentences:
                continue
            a, b = sentences[0][0], sentences[-1][1]
            body = text[a:b]
            item = bool(lines) or bool(_LIST_ITEM.match(body))
            lead = (a, b) in headings or (not item and body.endswith(":")) or bool(CAPTION.match(body)) or (
                not lines
                and "\n" not in body
                and len(body) <= 150
                and (body.lstrip().startswith("#") or body[-1] not in ".!,;\"'”’)")
                and len(sentences) == 1
            )
            blocks.append(_Block(a, b, sentences, lead, item and not lead, heading=(a, b) in headings, table=bool(lines)))
        return _label_tables(text, blocks)

    def _limit(self, text: str, sentences: list[Span]) -> list[Span]:
        """Split only runs with no sentence punctuation at all, at whitespace, so embeddings see them whole."""
        hard = self.max_chars * _HARD_LIMIT_FACTOR
        out: list[Span] = []
        for a, b in sentences:
            while b - a > hard:
                cut = text.rfind(" ", a + 1, a + self.max_chars)
                cut = cut if cut > a else a + self.max_chars
                out.append(_strip(text, a, cut))
                a = _strip(text, cut, b)[0]
            out.append((a, b))
        return [s for s in out if s[0] < s[1]]

    @staticmethod
    def _groups(blocks: list[_Block]) -> list[list[_Block]]:
        """Leads join the block after them; a run of list items (or table rows) stays one group,
        with the line that introduced it, so a list answer is quoted whole where it fits. A heading
        starts a new group: unpunctuated lines waiting above it (a keyword list under "Keywords")
        stay in their own section instead of joining the next one."""
        groups: list[list[_Block]] = []
        pending: list[_Block] = []
        for block in blocks:
            if block.heading and not all(b.heading for b in pending):
                groups.append(pending)
                pending = []
            if block.item and not pending and groups and groups[-1][-1].item:
                groups[-1].append(block)
                continue
            pending.append(block)
            if not block.lead:
                groups.append(pending)
                pending = []
        if pending:
            groups.append(pending)
        return groups

    def _pack(self, group: list[_Block]) -> list[list[Span]]:
        """One passage per group when it fits; else as few runs of whole sentences as fit, cut
        where the runs come out most even (leads kept with the sentence after them): a greedy
        fill leaves a short tail (a paragraph's last sentence alone) that loses the context it
        answers in."""
        sentences = [s for block in group for s in block.sentences]
        if sentences[-1][1] - sentences[0][0] <= self.max_chars:
            return [sentences]
        leads = sum(len(b.sentences) for b in group if b.lead)
        cuts = _even_cuts(sentences, self.max_chars, no_cut_until=leads + 1 if leads else 1)
        return [sentences[a:b] for a, b in zip([0, *cuts], [*cuts, len(sentences)])]


def _label_tables(text: str, blocks: list[_Block]) -> list[_Block]:
    """The short lines right above a table that are not sentences ("(Amounts in millions)",
    "For the Years Ended December 31,") are its labels: they lead it, with the title above them,
    instead of making a passage of their own that names a statement but holds none of its figures."""
    following_table = False
    for block in reversed(blocks):
        if block.table:
            following_table = True
            continue
        body = text[block.start : block.end]
        if following_table and not block.lead and len(block.sentences) == 1 and "\n" not in body \
                and len(body) <= 150 and body[-1] not in ".!?":
            block.lead, block.item = True, False
        following_table = following_table and block.lead
    return blocks


def _even_cuts(sentences: list[Span], max_chars: int, no_cut_until: int) -> list[int]:
    """Where to cut a run of sentences: the fewest pieces of at most max_chars each (a longer
    sentence is a piece alone), and among those the smallest sum of squared piece lengths. No cut
    before position `no_cut_until` (the leads and the sentence they lead stay together)."""
    n = len(sentences)
    best: list[tuple[int, int]] = [(0, 0)] + [(n + 1, 0)] * n  # (pieces, sum of squares) for the first i sentences
    back = [0] * (n + 1)
    for i in range(1, n + 1):
        for j in range(i - 1, -1, -1):
            if 0 < j < no_cut_until:
                continue
            size = sentences[i - 1][1] - sentences[j][0]
            if size > max_chars and j < i - 1 and not (j == 0 and i <= no_cut_until):
                break
            pieces, squares = best[j]
            candidate = (pieces + 1, squares + size * size)
            if candidate < best[i]:
                best[i], back[i] = candidate, j
    cuts, i = [], n
    while i > 0:
        i = back[i]
        cuts.append(i)
    return sorted(c for c in cuts if c > 0)


def _paragraph_spans(text: str, start: int, cuts: list[int] = ()) -> list[Span]:
    """Blank-line separated paragraphs, with list items and markdown headings as their own
    blocks, also cut at the given offsets (heading boundaries)."""
    spans = []
    cursor = start
    for match in list(_BLANK_LINE.finditer(text, start)) + [None]:
        end = match.start() if match else len(text)
        for a, b in _split_lines(text, cursor, end):
            inside = [c for c in cuts if a < c < b]
            spans.extend(zip([a, *inside], [*inside, b]))
        cursor = match.end() if match else len(text)
    return [s for s in (_strip(text, a, b) for a, b in spans) if s[0] < s[1]]


def _table_rows(text: str, a: int, b: int) -> list[Span]:
    """A table block (most lines have ` | ` between cells, as the readers write tables; a line
    without, such as a statement's "Operating expenses:", is a row that groups the rows below):
    its rows, each one "sentence", so a row is never cut and can be the highlighted answer."""
    rows, pos, cells = [], a, 0
    for line in text[a:b].split("\n"):
        cells += " | " in line
        rows.append(_strip(text, pos, pos + len(line)))
        pos += len(line) + 1
    rows = [r for r in rows if r[0] < r[1]]
    if len(rows) == 1:
        return rows if text[a:b].count(" | ") >= 2 else []
    return rows if cells >= 2 and 2 * cells >= len(rows) else []


def _split_lines(text: str, a: int, b: int) -> list[Span]:
    out, block_start = [], a
    pos = a
    for line in text[a:b].splitlines(keepends=True):
        if pos > block_start and _STARTS_BLOCK.match(line):
            out.append((block_start, pos))
            block_start = pos
        pos += len(line)
    out.append((block_start, b))
    return out


def embedding_text(passage: Passage, document: Document, with_context: bool) -> str:
    """What gets embedded (and BM25-indexed): the passage, optionally after where it sits: the
    document title and the headings above it that the passage does not itself start with (a list
    item under "Label comment severity" is about comment severity)."""
    if not with_context:
        return passage.text
    path = [h for h in document.section_at(passage.start) if h != document.title and not passage.text.startswith(h)]
    context = " › ".join(x for x in (document.title, *path) if x)
    return f"{context}\n{passage.text}" if context else passage.text

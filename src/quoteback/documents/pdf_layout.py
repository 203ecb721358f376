"""PDF text cleanup: from positioned lines (per page, per block) to text that reads like the page.

Input is what a PDF text extractor (poppler's `pdftotext -bbox-layout`) or OCR (Tesseract TSV)
gives: pages of blocks of lines with their boxes. Output is an `Extracted` whose text has

- running headers, footers and page numbers removed (lines repeated at the top or bottom of
  many pages, digits ignored when comparing, so `NIST SP 800-63B ... 68` matches `... 69`);
- ligatures expanded (ﬁ → fi ...), odd spaces normalised, soft hyphens dropped, symbol-font
  bullets turned into `•`;
- two-column pages in reading order (left column, then right, between full-width blocks);
- line-end hyphenation between lowercase letters joined (`incre-` + `menting`);
- paragraphs rebuilt (lines joined with single spaces), separated by a blank line; a paragraph
  that goes on in the next column or on the next page is continued, not split;
- headings in their own block and recorded (`2.3.4 Title` → level 3, `Abstract`, all-caps and
  larger-type lines → level 1 or 2);
- figure residue (axis numbers, short label fragments) dropped.

Every offset in `pages` and `headings` indexes the returned text.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from .model import Extracted

LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "ft", "\ufb06": "st",
             "\u0132": "IJ", "\u0133": "ij"}
# Symbol/Wingdings bullets that Word and LaTeX fonts map into the private-use area.
PUA_BULLETS = {"\uf0b7", "\uf0a7", "\uf0d8", "\uf0fc", "\uf076", "\uf0a8", "\uf0e0", "\uf06e", "\uf0a1", "\uf0f0", "\uf02d", "\uf03c"}
_CHAR_MAP = {ord(k): v for k, v in LIGATURES.items()}
_CHAR_MAP.update({ord(c): "•" for c in PUA_BULLETS})
_CHAR_MAP.update({c: " " for c in (0x00A0, 0x1680, 0x202F, 0x205F, 0x3000, *range(0x2000, 0x200B))})
_CHAR_MAP.update({c: None for c in (0x00AD, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)})
_CHAR_MAP.update({c: None for c in range(0x00, 0x20) if c not in (0x09, 0x0A)})
_CHAR_MAP.update({0x09: " ", 0x0A: " "})

BULLET_RE = re.compile(r"^(?:[•◦▪▫■□●○‣⁃∙·\-–*]|\(?[0-9]{1,2}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])\s")
NUMBERED_RE = re.compile(r"^(?:(?:Appendix|APPENDIX|Annex|Chapter|Section|Part)\s+)?(\d{1,2}(?:\.\d{1,2}){0,5}|[A-Z](?:\.\d{1,2}){1,5})\.?\s+(\S.*)$")
NAMED_HEADINGS = {
    "abstract", "introduction", "background", "conclusion", "conclusions", "references", "bibliography",
    "acknowledgments", "acknowledgements", "acknowledgment", "acknowledgement", "related work", "keywords",
    "executive summary", "table of contents", "contents", "summary", "discussion", "evaluation", "appendix",
    "foreword", "preface", "glossary", "index", "notes", "authority", "abstract.", "categories and subject descriptors",
    "general terms", "list of figures", "list of tables", "errata", "note to readers",
}
# dot leaders of a table of contents, and the letter runs some fonts turn them into ("cceecsecc...")
LEADERS = re.compile(r"(?:\s?[.·…_]){4,}|\b(?=\w*[aeiouy])[acenosu]{16,}\b")
END_PUNCT = tuple(".!?:;\"'”’)]")
SENTENCE_END = tuple(".!?\"”’")


def clean_chars(text: str) -> str:
    """Ligatures expanded, odd spaces to plain spaces, invisible characters dropped, NFC."""
    return unicodedata.normalize("NFC", text.translate(_CHAR_MAP))


@dataclass
class Line:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float = 0.0  # glyph height, a proxy for the font size

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass
class Block:
    lines: list[Line]
    rows: list[str] | None = None  # a table: its rows, cells joined with ` | `

    @property
    def x0(self) -> float:
        return min(line.x0 for line in self.lines)

    @property
    def x1(self) -> float:
        return max(line.x1 for line in self.lines)

    @property
    def y0(self) -> float:
        return min(line.y0 for line in self.lines)

    @property
    def y1(self) -> float:
        return max(line.y1 for line in self.lines)


@dataclass
class Page:
    width: float
    height: float
    blocks: list[Block] = field(default_factory=list)
    toc: bool = False  # a table of contents (or list of figures/tables) page


# ---------------------------------------------------------------- headers and footers

def _signature(text: str) -> str:
    """A line compared across pages: digits and roman page numbers ignored, case and spacing folded."""
    text = re.sub(r"\d+", "#", text.casefold())
    text = re.sub(r"\b[ivxlc]{1,6}\b$", "#", text)
    return " ".join(text.split())


def _is_page_number(text: str) -> bool:
    t = text.strip().casefold()
    return bool(re.fullmatch(r"(?:page\s+)?[-–—]?\s*(?:\d{1,4}|[ivxlc]{1,7})\s*[-–—]?(?:\s*(?:of|/)\s*\d{1,4})?", t))


def remove_running_lines(pages: list[Page]) -> None:
    """Drop headers, footers and page numbers: lines in the top or bottom margin band that repeat
    (digits ignored) on several pages, and lone page numbers there."""
    band_lines: list[list[tuple[int, int, str]]] = []  # per page: (block index, line index, zone + signature)
    counts: Counter[str] = Counter()
    for page in pages:
        found = []
        lines = [(bi, li, line) for bi, block in enumerate(page.blocks) for li, line in enumerate(block.lines)]
        if not lines:
            band_lines.append(found)
            continue
        top_edge = min(line.y0 for _, _, line in lines)
        bottom_edge = max(line.y1 for _, _, line in lines)
        for bi, li, line in lines:
            # the margin bands: the top and bottom ~9% of the page, or the first/last lines of text
            top = line.y1 <= page.height * 0.09 or line.y0 - top_edge < 2
            bottom = line.y0 >= page.height * 0.91 or bottom_edge - line.y1 < 2
            if top or bottom:
                found.append((bi, li, ("T" if top else "B") + _signature(line.text)))
        band_lines.append(found)
        counts.update({key for _, _, key in found})
    need = 2 if len(pages) <= 4 else max(3, round(len(pages) * 0.2))
    for page, found in zip(pages, band_lines):
        drop = {(bi, li) for bi, li, key in found
                if ((counts[key] >= need and re.search(r"[^\W\d_]", key[1:])) or _is_page_number(page.blocks[bi].lines[li].text))
            and not _beside_title(page, page.blocks[bi].lines[li])}
        if drop:
            for bi, block in enumerate(page.blocks):
                block.lines = [line for li, line in enumerate(block.lines) if (bi, li) not in drop]
            page.blocks = [block for block in page.blocks if block.lines]


def _beside_title(page: Page, line: Line) -> bool:
    """A number-only line with words right beside it on the same baseline: a section number (`1` +
    `Introduction` set apart), not a page number."""
    if not re.fullmatch(r"[\dA-Z]{1,2}(?:\.\d{1,2})*\.?", line.text.strip()):
        return False
    return any(other is not line and 0 <= other.x0 - line.x1 < max(45.0, 4.5 * line.size) and abs(other.y0 - line.y0) < 2
               and other.text[:1].isalpha() for block in page.blocks for other in block.lines)


# ---------------------------------------------------------------- reading order

def reading_order(page: Page) -> list[Block]:
    """Blocks in reading order: on a two-column page, left column then right column, within the
    bands between full-width blocks; other pages keep the extractor's order."""
    blocks = page.blocks
    if len(blocks) < 2:
        return blocks
    mid = page.width / 2
    left = [b for b in blocks if b.x1 <= mid + 6]
    right = [b for b in blocks if b.x0 >= mid - 6]
    chars = lambda bs: sum(len(l.text) for b in bs for l in b.lines)  # noqa: E731
    total = chars(blocks) or 1
    if chars(left) < total * 0.2 or chars(right) < total * 0.2 or chars(left) + chars(right) < total * 0.6:
        return blocks
    ordered: list[Block] = []
    band: list[Block] = []

    def flush() -> None:
        ordered.extend(sorted((b for b in band if b.x1 <= mid + 6), key=lambda b: b.y0))
        ordered.extend(sorted((b for b in band if b.x1 > mid + 6), key=lambda b: b.y0))
        band.clear()

    for block in sorted(blocks, key=lambda b: b.y0):
        spanning = block.x0 < mid - 6 and block.x1 > mid + 6
        if spanning:
            flush()
            ordered.append(block)
        else:
            band.append(block)
    flush()
    return ordered


# ---------------------------------------------------------------- line classes

def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def is_figure_residue(block: Block, body: float) -> bool:
    """Axis numbers and label fragments of a figure: a block whose lines are mostly numbers, or
    only very short fragments in small type."""
    text = " ".join(line.text for line in block.lines)
    visible = [ch for ch in text if not ch.isspace()]
    if not visible:
        return True
    letters = _letters(text)
    digits = sum(ch.isdigit() for ch in visible)
    if letters < len(visible) * 0.3 and letters < 25:
        return True  # numbers, symbols
    if digits > letters and len(visible) < 60:
        return True
    short = all(line.words <= 2 and len(line.text) <= 14 for line in block.lines)
    if short and len(block.lines) >= 2 and not any(line.text.rstrip().endswith(END_PUNCT) for line in block.lines):
        return letters < 40
    return False


LABELLED_RE = re.compile(r"^(?:Tier|Level|Step|Phase|Stage|Part|Scenario|Case|Option)\s+\d{1,2}\s*[:.–—-]\s+[A-Z][\w-]*(?:\s+[\w-]+){0,5}$")
SUBLEVEL = 9
APPENDIX_RE = re.compile(r"^(?:Appendix|APPENDIX|Annex|ANNEX)\s+[A-Z]\b\s*[-—–:.]?\s*\S")


def rotated(line: Line) -> bool:
    """Text set vertically (axis labels): a box far too narrow for its characters."""
    return len(line.text) >= 3 and line.size > 0 and (line.x1 - line.x0) < 0.3 * line.size * len(line.text.strip())


def strong_heading(text: str) -> bool:
    """A heading by its words alone: numbered, `Appendix A ...`, or a usual section name."""
    text = text.strip()
    return bool(NUMBERED_RE.match(text) or APPENDIX_RE.match(text) or text.casefold().rstrip(".: ") in NAMED_HEADINGS)


def heading_level(line: Line, body: float, block_lines: int) -> int | None:
    """The level of a heading line, None for ordinary text."""
    text = line.text.strip()
    if not text or len(text) > 110 or line.words > 14 or _letters(text) < 2 or rotated(line):
        return None
    if text.endswith((",", ";")) or (text.endswith(".") and not re.match(r"^\d+(\.\d+)*\.?\s*$", text[:-1].split(" ")[0] + " ") and line.words > 3):
        return None
    if BULLET_RE.match(text) and not NUMBERED_RE.match(text):
        return None
    low = text.casefold().rstrip(".: ")
    low = re.sub(r"^[\divxlc]+\.?\s+", "", low) if not NAMED_HEADINGS.__contains__(low) else low
    bigger = body and line.size >= body * 1.15
    numbered = NUMBERED_RE.match(text)
    if numbered:
        number, rest = numbered.group(1), numbered.group(2)
        words = rest.split()
        if not (body and line.size >= body * 1.05):  # in body type: a numbered question (FAQ) or list item
            if text.endswith("?") or (re.match(r"^\d+\.\s", text) and sum(w[:1].isupper() for w in words) < len(words) * 0.6):
                return None
        if rest[:1].isupper() and not rest.endswith(".") or (bigger and rest[:1].isalpha()):
            if len(words) <= 12 and _letters(rest) >= 3 and not re.search(r"\d{3,}|[=<>]", rest):
                first_digit = number.split(".")[0]
                if first_digit.isdigit() and int(first_digit) == 0:
                    return None
                if sum(w[:1].isupper() or w.casefold() in _SMALL for w in words) >= len(words) * 0.6 or bigger or len(words) <= 6:
                    number = re.sub(r"(?<=\d)(?:\.0)+$", "", number)  # `1.0 Introduction` is a chapter
                    return number.count(".") + 1
        return None
    if APPENDIX_RE.match(text) and line.words <= 12 and not text.endswith("."):
        return 1
    if block_lines == 1 and LABELLED_RE.match(text) and line.words <= 8:
        return SUBLEVEL  # `Tier 1: Partial`: one level below the section it is in (see `_numbering`)
    if text.rstrip("”\"’'").endswith(".") or (not bigger and re.match(r"^[^:]{2,60}:\s+\S+\s+\S", text)):
        return None  # a sentence, a glossary entry (`Term: definition`)
    if low in NAMED_HEADINGS:
        return 1
    letters = [ch for ch in text if ch.isalpha()]
    caps = letters and sum(ch.isupper() for ch in letters) >= len(letters) * 0.9 and len(letters) >= 4
    if caps and line.words <= 10 and not text.endswith("."):
        if bigger:
            return 1
        if line.words >= 2 and not re.search(r"\d|[./]", text) and block_lines == 1:
            return 2
    if bigger and line.size >= body * 1.3 and line.words <= 12 and not text.endswith("."):
        return 1
    if bigger and line.words <= 10 and text[:1].isupper() and not text.endswith((".", ":")):
        return 2
    return None


_SMALL = {"a", "an", "and", "the", "of", "in", "on", "for", "to", "with", "by", "or", "at", "from", "vs", "via", "as", "is"}


# ---------------------------------------------------------------- assembly

@dataclass
class _Para:
    pieces: list[tuple[str, int, str]]  # (text, page index, joiner before it)
    kind: str = "para"  # para | heading | lines | table
    level: int = 0
    size: float = 0.0  # a heading's type size

    @property
    def last(self) -> str:
        return self.pieces[-1][0]


def _join_lines(lines: list[Line]) -> list[tuple[str, str]]:
    """(text, joiner) pairs of a paragraph's lines: line-end hyphens between lowercase letters joined."""
    out: list[tuple[str, str]] = []
    for line in lines:
        text = " ".join(line.text.split())
        if not text:
            continue
        if not out:
            out.append((text, ""))
            continue
        prev = out[-1][0]
        if BULLET_RE.match(text) and text[:1] in "•◦▪▫■□●○‣⁃∙·":
            out.append((text, "\n"))
        elif re.search(r"[a-z]-$", prev) and text[:1].islower():
            out[-1] = (prev[:-1], out[-1][1])
            out.append((text, ""))
        else:
            out.append((text, " "))
    return out


def _split_paragraphs(block: Block, body: float) -> list[tuple[str, list[Line], int]]:
    """A block split into headings and paragraphs: ("heading", [line], level) or ("para", lines, 0)."""
    result: list[tuple[str, list[Line], int]] = []
    current: list[Line] = []
    width = block.x1 - block.x0
    for i, line in enumerate(block.lines):
        level = None
        starts_para = not current
        prev = current[-1] if current else None
        if prev is not None:
            ended = prev.text.rstrip().endswith(END_PUNCT)
            short = prev.x1 < block.x0 + width * 0.82
            indent = line.x0 - block.x0 > 4 and line.x0 - prev.x0 > 4 and line.x0 - block.x0 < 40
            bullet = bool(BULLET_RE.match(line.text.strip())) and line.text.strip()[:1] in "•◦▪▫■□●○‣⁃∙·"
            outdent = line.x0 < prev.x0 - 4
            if (ended and short) or (indent and ended) or (indent and prev.x0 - block.x0 < 2 and short) or (outdent and ended):
                starts_para = True
            if bullet:
                starts_para = starts_para or False
        nxt = block.lines[i + 1] if i + 1 < len(block.lines) else None
        if result and result[-1][0] == "heading" and not current and len(result[-1][1]) < 3:
            head = result[-1][1][-1]
            text = line.text.strip()
            if (abs(line.size - head.size) < 0.6 and line.y0 - head.y1 < 0.8 * max(head.size, 1) and line.words <= 8
                    and not NUMBERED_RE.match(text) and not text.endswith(".")
                    and (text[:1].islower() or (body and head.size >= body * 1.1))):
                result[-1][1].append(line)
                continue
        if starts_para or (prev is not None and (prev.text.rstrip().endswith(END_PUNCT) or heading_level(prev, body, 0))):
            level = heading_level(line, body, len(block.lines))
            # a heading line is followed by a new start (a new line) or is alone
            if level is not None and nxt is not None and line.x1 > block.x0 + width * 0.9 and line.size <= body * 1.05 and not NUMBERED_RE.match(line.text.strip()):
                level = None
        if level is not None:
            if current:
                result.append(("para", current, 0))
                current = []
            result.append(("heading", [line], level))
            continue
        if starts_para and current:
            result.append(("para", current, 0))
            current = []
        current.append(line)
    if current:
        result.append(("para", current, 0))
    return result


def join_cell(lines: list[Line]) -> str:
    """A table cell's lines as one line (line-end hyphens between lowercase letters joined)."""
    return "".join(j + t for t, j in _join_lines(lines)).replace("\n", " ")


def _body_size(pages: list[Page]) -> float:
    sizes: Counter[float] = Counter()
    for page in pages:
        for block in page.blocks:
            for line in block.lines:
                sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _caption(text: str) -> bool:
    return bool(re.match(r"^(?:Figure|Fig\.|Table|Listing|Algorithm)\s+[\dA-Z]+[.:]", text))


def assemble(pages: list[Page], title: str | None = None, date: str | None = None) -> Extracted:
    """Clean positioned lines into an `Extracted` (see the module doc)."""
    for page in pages:
        for block in page.blocks:
            for line in block.lines:
                line.text = " ".join(LEADERS.sub(" ... ", clean_chars(line.text)).split())
            block.lines = [line for line in block.lines if line.text]
        page.blocks = [block for block in page.blocks if block.lines]
    remove_running_lines(pages)
    body = _body_size(pages)
    from .pdf_tables import attach_page_numbers, find_tables, is_toc_page, join_heading_words, join_section_numbers

    for page in pages:
        join_section_numbers(page)
        join_heading_words(page, body)
        page.toc = is_toc_page(page)
        if page.toc:
            attach_page_numbers(page)
        else:
            find_tables(page, body)

    paras: list[_Para] = []
    open_para: _Para | None = None  # an unfinished paragraph that may go on in the next column or page
    deferred: list[_Para] = []  # captions met while a paragraph was unfinished, put after it
    for index, page in enumerate(pages):
        if deferred:  # a caption stays on its page: the paragraph it interrupted ends here
            paras.extend(deferred)
            deferred = []
            open_para = None
        for block in reading_order(page):
            if block.rows:
                paras.extend(deferred)
                deferred = []
                open_para = None
                paras.append(_Para([(row, index, "\n") for row in block.rows], "table"))
                continue
            if page.toc:  # contents lines are no headings: one line each, under the page's title
                open_para = None
                for kind, lines, level in _split_paragraphs(block, body):
                    for line in lines:
                        title = line.text.strip().casefold().rstrip(": ") in _TOC_TITLES
                        if title:
                            paras.append(_Para([(line.text.strip(), index, "")], "heading", 1, line.size))
                        elif paras and paras[-1].kind == "lines" and paras[-1].pieces[-1][1] == index:
                            paras[-1].pieces.append((line.text.strip(), index, "\n"))
                        else:
                            paras.append(_Para([(line.text.strip(), index, "")], "lines"))
                continue
            if is_figure_residue(block, body) and not any(heading_level(l, body, 1) for l in block.lines[:1]):
                continue
            for kind, lines, level in _split_paragraphs(block, body):
                if kind == "heading":
                    open_para = None
                    paras.append(_Para([(" ".join(t for t, _ in _join_lines(lines)).replace("\n", " "), index, "")], "heading", level,
                                       max(line.size for line in lines)))
                    continue
                joined = _join_lines(lines)
                first = joined[0][0]
                if open_para is not None and (first[:1].islower() or (first[:1].isdigit() and not _caption(first))) \
                        and not BULLET_RE.match(first):
                    prev = open_para.last
                    hyphen = re.search(r"[a-z]-$", prev) and first[:1].islower()
                    if hyphen:
                        text, page_i, join = open_para.pieces[-1]
                        open_para.pieces[-1] = (text[:-1], page_i, join)
                    open_para.pieces.append((joined[0][0], index, "" if hyphen else " "))
                    open_para.pieces.extend((t, index, j) for t, j in joined[1:])
                    para = open_para
                    paras.extend(deferred)
                    deferred = []
                else:
                    para = _Para([(t, index, j) for t, j in joined])
                    if open_para is not None and _caption(first):
                        deferred.append(para)
                        continue
                    paras.extend(deferred)
                    deferred = []
                    paras.append(para)
                open_para = None if para.last.endswith(SENTENCE_END) or para.last.endswith(":") else para
    paras.extend(deferred)
    _front_matter(paras)
    _numbering(paras, body)
    return _build(paras, len(pages), title, date)


_TOC_TITLES = {"contents", "table of contents", "list of figures", "list of tables", "list of appendices",
               "list of exhibits", "list of illustrations", "table of figures"}


def _numbering(paras: list[_Para], body: float) -> None:
    """Numbered lines that go back in the numbering (`1. Determine ...` after `3.5 ...`: a numbered
    list or checklist, FAQ questions) are no headings unless set clearly larger than the text."""
    last: tuple[int, ...] = ()
    outer = 0  # the level of the last heading that is not a labelled one
    for para in paras:
        if para.kind != "heading":
            continue
        if para.level == SUBLEVEL:
            para.level = outer + 1
            continue
        outer = para.level
        match = NUMBERED_RE.match(para.pieces[0][0])
        if not match or not re.fullmatch(r"[\d.]+", match.group(1)):
            continue
        number = tuple(int(n) for n in re.sub(r"(?<=\d)(?:\.0)+$", "", match.group(1)).split(".") if n)
        if last and number <= last and not (body and para.size >= body * 1.1):
            para.kind = "para"
            continue
        last = number


def _front_matter(paras: list[_Para]) -> None:
    """Before the first numbered or named heading (on the first pages: cover, title page, authors),
    only the title is a heading: the largest-type heading of the first page with headings, with the
    heading lines of the same size right after it."""
    front = []
    for i, para in enumerate(paras):
        if para.pieces[0][1] > 2:
            break
        if para.kind == "heading":
            if strong_heading(para.pieces[0][0]):
                break
            front.append(i)
    if not front:
        return
    first_page = paras[front[0]].pieces[0][1]
    on_first = [i for i in front if paras[i].pieces[0][1] == first_page]
    largest = max(paras[i].size for i in on_first)
    title = next(i for i in on_first if paras[i].size >= largest - 0.3)
    merged = title
    for i in front:
        if i == title:
            continue
        if i == merged + 1 and abs(paras[i].size - paras[title].size) < 0.5:
            paras[title].pieces.append((paras[i].pieces[0][0], paras[i].pieces[0][1], " "))
            paras[i].kind = "drop"
            merged = i
            continue
        paras[i].kind = "para"
    paras[title].level = 1
    paras[:] = [p for p in paras if p.kind != "drop"]


def _build(paras: list[_Para], npages: int, title: str | None, date: str | None) -> Extracted:
    parts: list[str] = []
    length = 0
    headings: list[list[int]] = []
    page_starts: list[int | None] = [None] * npages
    for para in paras:
        if length:
            parts.append("\n\n")
            length += 2
        start = length
        for text, page_i, join in para.pieces:
            if length > start:
                parts.append(join)
                length += len(join)
            if page_starts[page_i] is None:
                page_starts[page_i] = length
            parts.append(text)
            length += len(text)
        if para.kind == "heading":
            headings.append([start, length, max(1, para.level)])
    # a page without text starts where the next page's text starts (or at the end)
    starts: list[int] = []
    following = length
    for value in reversed(page_starts):
        following = value if value is not None else following
        starts.append(following)
    starts.reverse()
    for i in range(1, len(starts)):  # pieces are emitted in page order, but keep the list sorted anyway
        starts[i] = max(starts[i], starts[i - 1])
    if starts:
        starts[0] = 0
    return Extracted("".join(parts), title, date, 0, starts, headings)

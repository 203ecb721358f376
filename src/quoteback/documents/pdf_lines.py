"""The data of PDF cleanup: positioned lines, blocks and pages (what `pdftotext -bbox-layout` or
OCR gives), the paragraphs rebuilt from them, and the character- and line-level cleanup every
pass shares: ligatures and odd spaces, bullets, line-end hyphenation."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

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
    subheading: bool = False  # a subheading found by its layout on the page (`pdf_headings.mark_subheadings`)
    title_level: int = 0  # a heading of this level found by what the page holds (a statement's title: `pdf_statements`)

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


@dataclass
class Para:
    """A paragraph being rebuilt: its pieces in reading order, each with its page and joiner."""

    pieces: list[tuple[str, int, str]]  # (text, page index, joiner before it)
    kind: str = "para"  # para | heading | lines | table
    level: int = 0
    size: float = 0.0  # a heading's type size

    @property
    def last(self) -> str:
        return self.pieces[-1][0]


def count_letters(text: str) -> int:
    """Letters in `text`: a fragment with too few is a label or residue, not text."""
    return sum(ch.isalpha() for ch in text)


def join_lines(lines: list[Line]) -> list[tuple[str, str]]:
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


def join_cell(lines: list[Line]) -> str:
    """A table cell's lines as one line (line-end hyphens between lowercase letters joined)."""
    return "".join(j + t for t, j in join_lines(lines)).replace("\n", " ")


def same_line(a: Line, b: Line) -> bool:
    """Two boxes on one baseline (a row's cells, a number set apart from its entry)."""
    return abs(a.y0 - b.y0) <= max(1.5, 0.2 * a.size) and abs(a.y1 - b.y1) <= max(2.5, 0.3 * a.size)

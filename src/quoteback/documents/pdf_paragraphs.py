"""Paragraphs of a PDF: a block split into headings and paragraphs by line ends, indents and
short lines; and the finished paragraphs written out as text, with every page start and heading
as an offset into it."""

from __future__ import annotations

import re

from .model import Extracted
from .pdf_headings import NUMBERED_RE, heading_level
from .pdf_lines import BULLET_RE, END_PUNCT, Block, Line, Para


def split_paragraphs(block: Block, body: float) -> list[tuple[str, list[Line], int]]:
    """A block split into headings and paragraphs: ("heading", [line], level) or ("para", lines, 0)."""
    result: list[tuple[str, list[Line], int]] = []
    current: list[Line] = []
    width = block.x1 - block.x0
    for i, line in enumerate(block.lines):
        if line.title_level:  # a heading by what the page holds (a statement's title): its lines make one
            if current:
                result.append(("para", current, 0))
                current = []
            if result and result[-1][0] == "heading" and result[-1][1][-1].title_level:
                result[-1][1].append(line)
            else:
                result.append(("heading", [line], line.title_level))
            continue
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


def is_caption(text: str) -> bool:
    return bool(re.match(r"^(?:Figure|Fig\.|Table|Listing|Algorithm)\s+[\dA-Z]+[.:]", text))


def build_text(paras: list[Para], npages: int, title: str | None, date: str | None) -> Extracted:
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

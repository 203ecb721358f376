"""Contents pages of a PDF: recognised (a Contents / List of Figures title, many dot-leader lines,
or a column of rising page numbers at the right), and page numbers set in their own column put
back at the end of their line. Their lines are no headings (see `pdf_layout.assemble`)."""

from __future__ import annotations

import re

from .pdf_headings import CONTENTS_TITLES
from .pdf_lines import Page, same_line

_LEADER_LINE = re.compile(r"\.\.\.\s*(?:[\dA-Z]+-)?(?:\d{1,4}|[ivxlc]{1,7})?$", re.I)
_PAGE_NUMBER = re.compile(r"^(?:[\dA-Z]+-)?(?:\d{1,4}|[ivxlc]{1,7})$", re.I)


def is_toc_page(page: Page) -> bool:
    texts = [line.text.strip() for block in page.blocks for line in block.lines]
    if not texts:
        return False
    titled = any(t.casefold().rstrip(": ") in CONTENTS_TITLES for t in texts)
    leaders = sum(bool(_LEADER_LINE.search(t)) for t in texts)
    numbers = sum(bool(_PAGE_NUMBER.match(t)) for t in texts)
    return (leaders >= 3 and leaders >= len(texts) * 0.25) or (titled and (leaders >= 2 or numbers >= 3)) \
        or _page_number_column(page, len(texts))


def _page_number_column(page: Page, lines: int) -> bool:
    """A contents page without a title or leaders (a 10-K's index, its title a running link): a
    column of bare page numbers at the right, rising down the page, each on the line of an entry."""
    numbers = sorted(((line.y0, int(line.text)) for block in page.blocks for line in block.lines
                      if line.text.strip().isdigit() and len(line.text.strip()) <= 4 and line.x0 > page.width * 0.6))
    if len(numbers) < 6 or len(numbers) < lines * 0.3:
        return False
    values = [n for _, n in numbers]
    return sum(b >= a for a, b in zip(values, values[1:])) >= 0.9 * (len(values) - 1)


def attach_page_numbers(page: Page) -> None:
    """On a contents page: page numbers in a column of their own go back to the end of their line."""
    lines = [(bi, line) for bi, block in enumerate(page.blocks) for line in block.lines]
    used: set[int] = set()
    for bi, line in lines:
        if not _PAGE_NUMBER.match(line.text.strip()):
            continue
        left = [(line.x0 - other.x1, other) for obi, other in lines
                if obi != bi and other.x1 <= line.x0 + 1 and same_line(other, line) and id(other) not in used]
        if left:
            _, target = min(left, key=lambda t: t[0])
            target.text = f"{target.text} {line.text.strip()}"
            target.x1 = line.x1
            used.add(id(line))
    if used:
        for block in page.blocks:
            block.lines = [line for line in block.lines if id(line) not in used]
        page.blocks = [block for block in page.blocks if block.lines]

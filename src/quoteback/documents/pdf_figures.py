"""What interrupts running text on a PDF page without being part of it: the labels of a figure
drawn as vector graphics (poppler gives them as text, and they would be spliced into the sentence
that goes on around the figure: `exchange a successful KeepAlive be old master dies ... fore the
end`), and footnotes set at the foot of a page under an unfinished sentence.

A figure's labels are found by layout, not by its drawing (pdftotext gives no graphics): the
blocks between a figure caption and the running text above it, in the caption's column, made of
short lines only. Where that area is mostly longer text (a figure that is a box of prose or
pseudocode), nothing is dropped: such text is content."""

from __future__ import annotations

import re

from .pdf_headings import heading_level, strong_heading
from .pdf_lines import Block, Page

FIGURE_CAPTION = re.compile(r"^(?:Figure|FIGURE|Fig\.?)\s*\d{1,3}[a-z]?\s*[.:]")
_LABEL_WORDS = 6  # a figure label line is short: `new master elected`, `5 servers of a Chubby cell`
_TEXT_WORDS = 7  # a line of running text in body type has more words


def drop_figure_labels(page: Page, body: float) -> None:
    """Remove the label blocks of each captioned figure on the page (see the module doc)."""
    captions = [b for b in page.blocks if FIGURE_CAPTION.match(b.lines[0].text.strip())]
    drop: set[int] = set()
    for caption in captions:
        left, right = _column(caption, page)
        above = [b for b in page.blocks if b is not caption and b.y1 <= caption.y0 + 1 and _inside(b, left, right)]
        ceiling = max((b.y1 for b in above if _running_text(b, body)), default=-1e9)
        area = [b for b in above if b.y0 >= ceiling - 1]
        labels = [b for b in area if _label_like(b, body)]
        label_chars = sum(len(line.text) for b in labels for line in b.lines)
        area_chars = sum(len(line.text) for b in area for line in b.lines)
        if labels and label_chars >= area_chars * 0.8:
            drop.update(id(b) for b in labels)
    if drop:
        page.blocks = [b for b in page.blocks if id(b) not in drop]


def _column(caption: Block, page: Page) -> tuple[float, float]:
    """The horizontal extent of a caption's figure: the page's width for a caption across the
    middle (a one-column page, a figure over both columns), else the caption's column."""
    mid = page.width / 2
    if caption.x0 < mid - 6 and caption.x1 > mid + 6:
        return 0.0, page.width
    return (0.0, mid) if (caption.x0 + caption.x1) / 2 < mid else (mid, page.width)


def _inside(block: Block, left: float, right: float) -> bool:
    overlap = min(block.x1, right) - max(block.x0, left)
    return overlap >= 0.5 * max(block.x1 - block.x0, 1.0)


def _running_text(block: Block, body: float) -> bool:
    """A block of the page's text (not a figure's): a line of many words in body type."""
    return any(line.words >= _TEXT_WORDS and line.size >= body * 0.9 for line in block.lines)


def _label_like(block: Block, body: float) -> bool:
    """Short lines only, and not a section heading (`2.2 System structure` above a figure; a
    numbered label in small type, `5 servers of a Chubby cell`, is none)."""
    first = block.lines[0]
    heading = strong_heading(first.text) and heading_level(first, body, len(block.lines)) is not None
    return all(line.words <= _LABEL_WORDS for line in block.lines) and not heading


_MARK = re.compile(r"(?:\d{1,3}|[*†‡§]{1,3})")


def is_footnote(block: Block, page: Page, body: float) -> bool:
    """A note at the foot of the page: in smaller type than the text, starting with its mark (`1`,
    `*`, in the line or set apart just left of it), with nothing in body type below it in its
    column. Read after the paragraph it interrupts, which may go on over the page."""
    if not body or max(line.size for line in block.lines) > body * 0.92 or block.y0 < page.height * 0.6:
        return False
    first = block.lines[0]
    marked = re.match(_MARK.pattern + r"\s*\S", first.text) or any(
        _MARK.fullmatch(line.text.strip()) and abs(line.y0 - first.y0) < first.size and line.x1 <= first.x0 + 2
        for b in page.blocks for line in b.lines)
    below = [b for b in page.blocks if b.y0 > block.y1 - 1 and min(b.x1, block.x1) > max(b.x0, block.x0)]
    return bool(marked) and all(max(line.size for line in b.lines) <= body * 0.92 for b in below)

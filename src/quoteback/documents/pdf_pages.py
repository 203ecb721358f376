"""What on a PDF page is not running text, and the order the rest is read in: running headers,
footers and page numbers (lines repeated in the margin bands of many pages, digits ignored),
figure residue (axis numbers, label fragments), and two-column pages put in reading order."""

from __future__ import annotations

import re
from collections import Counter

from .pdf_lines import END_PUNCT, Block, Line, Page, count_letters


def _signature(text: str) -> str:
    """A line compared across pages: digits and roman page numbers ignored, case and spacing folded."""
    text = re.sub(r"\d+", "#", text.casefold())
    text = re.sub(r"\b[ivxlc]{1,6}\b$", "#", text)
    return " ".join(text.split())


def _is_page_number(text: str) -> bool:
    t = text.strip().casefold()
    return bool(re.fullmatch(r"(?:page\s+)?[-–—]?\s*(?:\d{1,4}|[ivxlc]{1,7})\s*[-–—]?(?:\s*(?:of|/)\s*\d{1,4})?", t))


def remove_running_lines(pages: list[Page]) -> set[str]:
    """Drop headers, footers and page numbers: lines in the top or bottom margin band that repeat
    (digits ignored) on several pages, and lone page numbers there. A line in type half as large
    again as its repeats is kept: the title on page 1 that the running header repeats. Returns the
    texts removed (a running title is the title as written, where page 1 sets it in capitals)."""
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
    sizes: dict[str, list[float]] = {}
    for page, found in zip(pages, band_lines):
        for bi, li, key in found:
            sizes.setdefault(key, []).append(page.blocks[bi].lines[li].size)
    usual = {key: sorted(values)[len(values) // 2] for key, values in sizes.items()}
    removed: set[str] = set()
    for page, found in zip(pages, band_lines):
        drop = {(bi, li) for bi, li, key in found
                if ((counts[key] >= need and re.search(r"[^\W\d_]", key[1:])) or _is_page_number(page.blocks[bi].lines[li].text))
            and not _beside_title(page, page.blocks[bi].lines[li]) and page.blocks[bi].lines[li].size < usual[key] * 1.5}
        removed.update(page.blocks[bi].lines[li].text for bi, li in drop)
        if drop:
            for bi, block in enumerate(page.blocks):
                block.lines = [line for li, line in enumerate(block.lines) if (bi, li) not in drop]
            page.blocks = [block for block in page.blocks if block.lines]
    return removed


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


def is_figure_residue(block: Block, body: float) -> bool:
    """Axis numbers and label fragments of a figure: a block whose lines are mostly numbers, or
    only very short fragments in small type."""
    text = " ".join(line.text for line in block.lines)
    visible = [ch for ch in text if not ch.isspace()]
    if not visible:
        return True
    letters = count_letters(text)
    digits = sum(ch.isdigit() for ch in visible)
    if letters < len(visible) * 0.3 and letters < 25:
        return True  # numbers, symbols
    if digits > letters and len(visible) < 60:
        return True
    short = all(line.words <= 2 and len(line.text) <= 14 for line in block.lines)
    if short and len(block.lines) >= 2 and not any(line.text.rstrip().endswith(END_PUNCT) for line in block.lines):
        return letters < 40
    return False

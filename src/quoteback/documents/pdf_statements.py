"""Numeric tables (financial statements, data tables): each row read with its column headers.

`pdftotext` cuts a statement into a block of row labels and one block per column of figures, so
"Purchases of property, plant and equipment (PP&E)" lands paragraphs away from its "(1,577)",
and neither says which year. This pass, run on a page before the general table finder, puts
figures back on the row whose baseline they share and names each by its column's header:

    Purchases of property, plant and equipment (PP&E) | 2018: (1,577) | 2017: (1,373) | 2016: (1,420)

A page qualifies when at least two columns of right-aligned figures, each of MIN_COLUMN or more,
sit to the right of the row labels; prose with a few numbers in it never does.

The statement's title above the table ("Consolidated Statement of Cash Flows", with the line
naming the company above it) becomes a heading, so every row is read under it: a row alone
("Purchases of property, plant and equipment (PP&E) | 2018: (1,577)") does not say which
statement, or whose, it belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import FIGURE as _FIGURE  # a bare year matches too: here it is a header, not a figure
from .pdf_lines import Block, Line, Page

_YEAR = re.compile(r"^(?:19|20)\d\d$")
# a financial statement's title, matched on its letters alone (poppler splits words of some titles: "Balance Shee t"),
# the whole line: the company before it and "(continued)", "(unaudited)", "(in millions ...)" after it at most
_STATEMENT_TITLE = re.compile(
    r"(?:condensed|consolidated|combined|unaudited|interim)*(?:balancesheets?|statements?of(?:consolidated)?(?:operations|income"
    r"|earnings|loss|comprehensive(?:income|loss|earnings)|cashflows?|financialposition|financialcondition"
    r"|(?:changesin)?(?:stockholders|shareholders|shareowners)?(?:equity|deficit)|netassets|retainedearnings)"
    r"(?:andcomprehensive(?:income|loss))?)(?:continued|unaudited|in(?:millions|thousands|billions)\w*|dollarsin\w*)*$")
TITLE_REACH = 15.0  # a statement's title sits at most this many line heights above its first figures
_CURRENCY = {"$", "€", "£"}
MIN_COLUMN = 4  # figures a column needs
HEADER_REACH = 6.0  # header lines may sit this many line heights above the first row of figures


@dataclass
class _Cell:
    text: str
    x0: float
    x1: float
    y0: float
    y1: float
    line: Line


def _cells(line: Line) -> list[_Cell]:
    """A line of figures only, as one cell per figure (pdftotext sometimes keeps "(329) (524)" as one line)."""
    tokens = line.text.split()
    if not tokens or not all(_FIGURE.match(t) or t in _CURRENCY for t in tokens):
        return []
    out, width, at = [], (line.x1 - line.x0) / max(1, len(line.text)), 0
    for token in tokens:
        start = line.text.index(token, at)
        at = start + len(token)
        if token not in _CURRENCY:
            out.append(_Cell(token, line.x0 + start * width, line.x0 + at * width, line.y0, line.y1, line))
    return out


def _columns(cells: list[_Cell], tol: float) -> list[list[_Cell]]:
    """Figures grouped by their right edge (figures are set flush right)."""
    columns: list[list[_Cell]] = []
    for cell in sorted(cells, key=lambda c: c.x1):
        if columns and cell.x1 - columns[-1][-1].x1 <= tol:
            columns[-1].append(cell)
        else:
            columns.append([cell])
    return [c for c in columns if len(c) >= MIN_COLUMN]


def find_statements(page: Page) -> None:
    """Replace the blocks of a numeric table on the page by one table block (`Block.rows`)."""
    lines = [line for block in page.blocks for line in block.lines]
    if len(lines) < 2 * MIN_COLUMN:
        return
    size = sorted(line.y1 - line.y0 for line in lines)[len(lines) // 2] or 8.0
    figures = [c for line in lines for c in _cells(line) if not _YEAR.match(c.text)]
    columns = _columns(figures, max(6.0, 0.8 * size))
    if len(columns) < 2:
        return
    left = min(c.x0 for col in columns for c in col)
    top, bottom = min(c.y0 for col in columns for c in col), max(c.y1 for col in columns for c in col)
    spans = [(min(c.x0 for c in col) - 2.5 * size, max(c.x1 for c in col) + size) for col in columns]
    used: set[int] = {id(c.line) for col in columns for c in col}
    currency = {id(line) for line in lines if line.text.strip() in _CURRENCY and top - size <= line.y0 <= bottom}
    labels = [line for line in lines if id(line) not in used | currency and line.x1 <= left + 2
              and top - 1.5 * size <= line.y0 <= bottom]
    if sum(1 for line in labels if any(_level(line, c) for col in columns for c in col)) < MIN_COLUMN:
        return  # figures without row labels beside them: not a statement
    taken = used | currency | {id(x) for x in labels}
    heads = _column_heads([line for line in lines if id(line) not in taken and top - HEADER_REACH * size <= line.y0 <= bottom],
                          columns, spans, size)
    used |= {id(line) for line in labels} | {id(line) for h in heads for line in h} | currency
    rows = _rows(labels, columns, [_headers(h, size) for h in heads], size)
    _replace(page, used, rows)
    _mark_title(page, top, size)


def _column_heads(candidates: list[Line], columns: list[list[_Cell]], spans: list[tuple[float, float]],
                  size: float) -> list[list[Line]]:
    """Each column's header lines: those centred over it, and those spanning it with some of its
    neighbours ("Three months ended March 31," over 2021 and 2020; "Consumer & Community Banking"
    over 2021, 2020 and Change), so every figure is named by its group. A line spanning every
    column says nothing that tells them apart: it stays text above the table."""
    centres = [(min(c.x0 for c in col) + max(c.x1 for c in col)) / 2 for col in columns]
    heads: list[list[Line]] = [[] for _ in columns]
    for line in candidates:
        if _over_all(line, candidates, centres, spans, size):
            continue
        covered = [k for k, x in enumerate(centres) if line.x0 - 0.5 * size <= x <= line.x1 + 0.5 * size]
        if len(covered) >= 2:
            if len(covered) < len(columns):
                for k in covered:
                    heads[k].append(line)
            continue
        for k, span in enumerate(spans):
            if span[0] <= (line.x0 + line.x1) / 2 <= span[1]:
                heads[k].append(line)
    return heads


def _over_all(line: Line, candidates: list[Line], centres: list[float], spans: list[tuple[float, float]], size: float) -> bool:
    """A lone header line centred over the middle of the columns, above a row of headers
    naming each of them ("Year Ended December 31," over 2015, 2016 and 2017): common to all, though
    too narrow to span them; read as the middle column's, it would name one year apart."""
    if len(centres) < 2:
        return False
    pitch = (centres[-1] - centres[0]) / (len(centres) - 1)
    if any(o is not line and abs(o.y1 - line.y1) <= 0.5 * size and o.x1 >= centres[0] - pitch / 2 for o in candidates):
        return False  # another header on its baseline over the figures: a row of headers, not one over all
    below = [o for o in candidates if 0 <= o.y0 - line.y1 < 2 * size]
    named = all(any(lo <= (o.x0 + o.x1) / 2 <= hi for o in below) for lo, hi in spans)
    middle, width = (centres[0] + centres[-1]) / 2, centres[-1] - centres[0]
    return named and abs((line.x0 + line.x1) / 2 - middle) <= 0.15 * width


def is_statement_title(text: str) -> bool:
    """"CONSOLIDATED STATEMENTS OF CASH FLOWS (In thousands)", "Consolidated Balance Shee t": a title
    line, not a sentence that mentions one."""
    key = re.sub(r"[^a-z]", "", text.casefold())
    match = _STATEMENT_TITLE.search(key)
    return len(text.split()) <= 14 and not text.rstrip().endswith(".") and match is not None and match.start() <= 40


def _mark_title(page: Page, top: float, size: float) -> None:
    """The statement's title above its table becomes a level-1 heading, with the short line right
    above it in its block (the company: "3M Company and Subsidiaries", "SQUARE, INC.")."""
    for block in page.blocks:
        if block.rows is not None:
            continue
        for i, line in enumerate(block.lines):
            if not (top - TITLE_REACH * size <= line.y0 and line.y1 <= top + 1 and is_statement_title(line.text)):
                continue
            line.title_level = 1
            above = block.lines[i - 1] if i else None
            if above is not None and above.words <= 8 and line.y0 - above.y1 < 1.5 * size \
                    and not above.text.rstrip().endswith((".", ":")) and above.text.strip().casefold() != "table of contents":
                above.title_level = 1
            return


def _level(line: Line, cell: _Cell) -> bool:
    """A label and a figure on one baseline."""
    return abs(line.y1 - cell.y1) <= 0.45 * (line.y1 - line.y0 or 8.0)


def _headers(lines: list[Line], size: float) -> list[tuple[float, str]]:
    """A column's headers, top first, each with the bottom of its last line: the lines centred over
    the column above its first figure ("Three months ended" / "March 31, 2021"), and any set
    between its figures (a second table below the first: its own years)."""
    out: list[tuple[float, str]] = []
    last = None
    for line in sorted(lines, key=lambda x: (x.y0, x.x0)):
        if last is not None and line.y0 - last.y1 < 0.8 * size:
            out[-1] = (line.y1, f"{out[-1][1]} {line.text}")
        else:
            out.append((line.y1, line.text))
        last = line
    return out


def _header_of(headers: list[tuple[float, str]], cell: _Cell) -> str:
    above = [text for bottom, text in headers if bottom <= cell.y0 + 1]
    return above[-1] if above else ""


def _rows(labels: list[Line], columns: list[list[_Cell]], headers: list[list[tuple[float, str]]], size: float) -> list[str]:
    """Rows top to bottom: the label, then `header: figure` for each column with a figure on its
    baseline. A label line that runs the width of the label column and has no figures wrapped:
    the line under it, indented, finishes it (figures usually sit on the last line)."""
    cells = [(k, c) for k, col in enumerate(columns) for c in col]
    full = 0.8 * max(line.x1 - line.x0 for line in labels)
    rows: list[tuple[float, str, list[tuple[int, _Cell]]]] = []
    pending: tuple[Line, str] | None = None  # a wrapped label waiting for its last line
    for line in sorted(labels, key=lambda x: (x.y0, x.x0)):
        text = line.text
        if pending is not None:
            first, so_far = pending
            if line.x0 > first.x0 + 1 and line.y0 - first.y1 < 0.8 * size * 2:
                text = f"{so_far} {line.text}"
            else:
                rows.append((first.y1, so_far, []))
        mine = [(k, c) for k, c in cells if _level(line, c)]
        wrapped = not mine and pending is None and line.x1 - line.x0 >= full
        pending = (line, text) if wrapped else None
        if not wrapped:
            rows.append((line.y1, text, mine))
    if pending is not None:
        rows.append((pending[0].y1, pending[1], []))
    placed = {id(c) for _, _, mine in rows for _, c in mine}
    rows += [(c.y1, "", [(k, c)]) for k, c in cells if id(c) not in placed]  # a figure with no label on its line
    out = []
    for _, label, mine in sorted(rows, key=lambda r: r[0]):
        parts = [label] if label else []
        for k, c in sorted(mine, key=lambda kc: kc[0]):
            head = _header_of(headers[k], c)
            parts.append(f"{head}: {c.text}" if head else c.text)
        out.append(" | ".join(parts))
    return out


def _replace(page: Page, used: set[int], rows: list[str]) -> None:
    """The table block takes the place of the first block it draws from; emptied blocks go."""
    taken = [line for block in page.blocks for line in block.lines if id(line) in used]
    at = next(i for i, block in enumerate(page.blocks) if any(id(line) in used for line in block.lines))
    kept = []
    for i, block in enumerate(page.blocks):
        if i == at:
            kept.append(Block(taken, rows))
        rest = [line for line in block.lines if id(line) not in used]
        if rest:
            kept.append(Block(rest, block.rows))
    page.blocks = kept

"""Page-level layout passes run before paragraphs are rebuilt (see `pdf_layout.assemble`):

- a section number set apart from its title (`2.1` and `Events and Incidents` as two boxes on one
  baseline) is joined to it, so the heading reads `2.1 Events and Incidents`;
- tables: boxes aligned into rows (tops level) and columns (x-ranges that line up from row to
  row) become one block whose rows are written `cell | cell | cell`, multi-line cells joined.
  Two blocks whose lines pair up side by side (a term list next to its definitions) are first
  split into one box per entry. Two-column prose, figure labels and headings are left alone.
"""

from __future__ import annotations

import re

from .pdf_lines import Block, Line, Page, join_cell, same_line

SECTION_NUMBER = re.compile(r"^(?:(?:\d{1,2}(?:\.\d{1,2}){0,5}|[A-Z](?:\.\d{1,2}){1,5})\.?|(?:Appendix|APPENDIX|Annex|Chapter|CHAPTER|Part|PART)\s+[A-Z\d]{1,3}[.:]?)$")
_MARKER = re.compile(r"^(?:[•◦▪▫■□●○‣⁃∙·\-–*]|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)]|\(?[ivx]{1,4}[.)])$")


def join_section_numbers(page: Page) -> None:
    """`2.1` + `Events and Incidents` (separate boxes on one line) → one line `2.1 Events and Incidents`."""
    lines = [line for block in page.blocks for line in block.lines]
    used: set[int] = set()
    for number in lines:
        if not SECTION_NUMBER.match(number.text.strip()):
            continue
        best, best_gap = None, max(45.0, 4.5 * number.size)
        for other in lines:
            gap = other.x0 - number.x1
            if other is not number and id(other) not in used and -1 <= gap < best_gap and same_line(number, other) \
                    and abs(other.size - number.size) < 1.5 and other.text[:1].isalpha():
                best, best_gap = other, gap
        if best is not None:
            best.text = f"{number.text.strip()} {best.text}"
            best.x0, best.y0, best.y1 = number.x0, min(best.y0, number.y0), max(best.y1, number.y1)
            used.add(id(number))
    if used:
        for block in page.blocks:
            block.lines = [line for line in block.lines if id(line) not in used]
        page.blocks = [block for block in page.blocks if block.lines]


def join_heading_words(page: Page, body: float) -> None:
    """Words of a justified heading line set as boxes of their own (`6.4 Client-driven`, `or`,
    `Server-driven`): single-line boxes in heading type joined to the line on their left."""
    if not body:
        return
    drop: set[int] = set()
    order = sorted(range(len(page.blocks)), key=lambda k: page.blocks[k].x0)
    for i in order:
        block = page.blocks[i]
        if len(block.lines) != 1 or block.lines[0].size < body * 1.15:
            continue
        word = block.lines[0]
        left = [line for j, other in enumerate(page.blocks) if j != i and j not in drop for line in other.lines
                if 0 <= word.x0 - line.x1 < 3.5 * word.size and same_line(line, word) and abs(line.size - word.size) < 0.5]
        if left:
            target = max(left, key=lambda line: line.x1)
            target.text = f"{target.text} {word.text}"
            target.x1 = word.x1
            drop.add(i)
    if drop:
        page.blocks = [b for k, b in enumerate(page.blocks) if k not in drop]


# ---------------------------------------------------------------- tables

def _split_entries(page: Page) -> None:
    """Two side-by-side blocks whose lines pair up (terms next to definitions): one block per entry,
    so the row finder sees each term and its definition as cells of one row."""
    width = page.width
    blocks = page.blocks
    split: dict[int, list[list[Line]]] = {}
    for i, a in enumerate(blocks):
        if len(a.lines) < 3 or a.x1 - a.x0 > width * 0.3:
            continue
        for j, b in enumerate(blocks):
            if j == i or j in split or b.x0 < a.x1 or b.x0 - a.x1 > width * 0.25:
                continue
            if b.y1 < a.y0 or b.y0 > a.y1:
                continue
            paired = [la for la in a.lines if any(same_line(la, lb) for lb in b.lines)]
            if len(paired) < 5 or len(paired) < len(a.lines) * 0.8 \
                    or sum(not line.text[:1].islower() for line in a.lines) < len(a.lines) * 0.8:
                continue
            for k, block in ((i, a), (j, b)):
                entries: list[list[Line]] = []
                for line in block.lines:
                    other = b if block is a else a
                    if not entries or any(same_line(line, lo) for lo in other.lines):
                        entries.append([line])
                    else:
                        entries[-1].append(line)
                split[k] = entries
            break
    if split:
        new: list[Block] = []
        for k, block in enumerate(blocks):
            new.extend(Block(entry) for entry in split[k]) if k in split else new.append(block)
        page.blocks = new


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return min(a1, b1) - max(a0, b0)


def find_tables(page: Page, body: float) -> None:
    """Replace the cell blocks of each table on the page by one table block (`Block.rows`)."""
    if len(page.blocks) < 4:
        return
    _split_entries(page)
    blocks = page.blocks
    width = page.width
    order = sorted(range(len(blocks)), key=lambda k: (blocks[k].y0, blocks[k].x0))
    groups: list[list[int]] = []  # blocks whose tops are level
    for k in order:
        tol = max(2.0, 0.3 * blocks[k].lines[0].size)
        if groups and abs(blocks[k].y0 - blocks[groups[-1][0]].y0) <= tol:
            groups[-1].append(k)
        else:
            groups.append([k])
    mid = width / 2
    chars = lambda side: sum(len(l.text) for b in blocks if side(b) for l in b.lines)  # noqa: E731
    total = chars(lambda b: True) or 1
    columned = chars(lambda b: b.x1 <= mid + 6) > total * 0.2 and chars(lambda b: b.x0 >= mid - 6) > total * 0.2
    rows: list[list[int]] = []  # side-by-side runs within a group
    for group in groups:
        run: list[int] = []
        for k in sorted(group, key=lambda k: blocks[k].x0):
            gutter = columned and run and max(blocks[r].x1 for r in run) <= mid + 6 and blocks[k].x0 >= mid - 6 \
                and any(len(b.lines) >= 4 and b.x1 - b.x0 > width * 0.3 for b in (blocks[run[-1]], blocks[k]))
            if run and (gutter or blocks[k].x0 < max(blocks[r].x1 for r in run) - 2 or blocks[k].x0 - blocks[run[-1]].x1 > width * 0.25):
                if len(run) >= 2:
                    rows.append(run)
                run = []
            run.append(k)
        if len(run) >= 2:
            rows.append(run)
    rows.sort(key=lambda r: min(blocks[k].y0 for k in r))
    in_row = {k for row in rows for k in row}
    taken: set[int] = set()
    tables: list[tuple[list[list[float]], list[list[int]]]] = []
    i = 0
    while i < len(rows):
        columns = [[blocks[k].x0, blocks[k].x1] for k in rows[i]]
        table = [list(rows[i])]
        skipped: list[list[int]] = []
        j = i + 1
        while j < len(rows):
            prev_bottom = max(blocks[k].y1 for k in table[-1])
            top = min(blocks[k].y0 for k in rows[j])
            size = blocks[rows[j][0]].lines[0].size or 10
            if top - prev_bottom > max(2.2 * size, 14):
                break
            tx0, tx1 = min(c[0] for c in columns), max(c[1] for c in columns)
            if not any(_overlap(blocks[k].x0, blocks[k].x1, tx0 - 20, tx1 + 20) > 0 for k in rows[j]):
                skipped.append(rows[j])  # beside the table (a figure in the other column)
                del rows[j]
                continue
            mapped = _map_columns(rows[j], blocks, columns)
            if mapped is None:
                break
            # blocks in between that are no cell of a row: stray lines of a cell, or the end of the table
            tx0, tx1 = min(c[0] for c in columns), max(c[1] for c in columns)
            between = [k for k in range(len(blocks)) if k not in in_row and k not in taken
                       and prev_bottom - 1 <= blocks[k].y0 < top and _overlap(blocks[k].x0, blocks[k].x1, tx0, tx1) > 0]
            if any(blocks[k].y1 > top + 2 * size for k in between):
                break
            if any(_map_columns([k], blocks, columns, grow=False) is None for k in between):
                break
            table[-1].extend(between)
            taken.update(between)
            table.append(list(rows[j]))
            j += 1
        rows[j:j] = skipped
        if len(table) >= 2 and _tabular(table, blocks, columns, width, body):
            header = _header(rows, groups, table, blocks, columns, in_row | taken)
            if header:
                table.insert(0, header)
            tables.append((columns, table))
            taken.update(k for row in table for k in row)
            i = j
        else:
            i += 1
    if not tables:
        return
    replace: dict[int, Block] = {}
    for columns, table in tables:
        cols = sorted(range(len(columns)), key=lambda c: columns[c][0])
        texts = []
        for row in table:
            cells: dict[int, list[Block]] = {}
            for k in row:
                c = _best_column(blocks[k], columns)
                cells.setdefault(c, []).append(blocks[k])
            parts = [join_cell([line for b in sorted(cells[c], key=lambda b: b.y0) for line in b.lines])
                     for c in cols if c in cells]
            texts.append(" | ".join(p for p in parts if p))
        members = [k for row in table for k in row]
        lines = [line for k in sorted(members, key=lambda k: (blocks[k].y0, blocks[k].x0)) for line in blocks[k].lines]
        replace[min(members)] = Block(lines, rows=[t for t in texts if t])
        for k in members:
            replace.setdefault(k, None)  # type: ignore[arg-type]
    page.blocks = [replace[k] if k in replace else b for k, b in enumerate(blocks) if k not in replace or replace[k] is not None]


def _best_column(block: Block, columns: list[list[float]]) -> int:
    return max(range(len(columns)), key=lambda c: _overlap(block.x0, block.x1, *columns[c]))


def _map_columns(row: list[int], blocks: list[Block], columns: list[list[float]], grow: bool = True) -> list[int] | None:
    """The column of each cell of `row` (new columns added where a cell overlaps none), None when
    a cell straddles two columns or two cells fall in one."""
    found: list[int] = []
    added: list[list[float]] = []
    tx0, tx1 = min(c[0] for c in columns), max(c[1] for c in columns)
    if grow and not any(_overlap(blocks[k].x0, blocks[k].x1, x0, x1) > 0 for k in row for x0, x1 in columns):
        return None  # a row beside the table, not in it
    for k in row:
        b = blocks[k]
        hits = [c for c, (x0, x1) in enumerate(columns) if _overlap(b.x0, b.x1, x0, x1) > 0]
        if len(hits) > 1 or (hits and hits[0] in found):
            return None
        if not hits:
            if not grow or b.x1 < tx0 - 60 or b.x0 > tx1 + 60:
                return None
            added.append([b.x0, b.x1])
            found.append(len(columns) + len(added) - 1)
            continue
        found.append(hits[0])
    if grow:
        for k, c in zip(row, found):
            if c < len(columns):
                columns[c][0] = min(columns[c][0], blocks[k].x0)
                columns[c][1] = max(columns[c][1], blocks[k].x1)
        columns.extend(added)
        spans = sorted(columns)
        if any(spans[n][1] > spans[n + 1][0] for n in range(len(spans) - 1)):
            del columns[len(columns) - len(added):]
            return None
    return found


def _tabular(table: list[list[int]], blocks: list[Block], columns: list[list[float]], width: float, body: float) -> bool:
    """Not two-column prose (every column wide), not figure labels (no cell with a few words), no headings."""
    if min(x1 - x0 for x0, x1 in columns) > width * 0.3 or sum(x1 - x0 > width * 0.35 for x0, x1 in columns) >= 2:
        return False  # two-column prose
    cells = [blocks[k] for row in table for k in row]
    if not any(sum(line.words for line in b.lines) >= 5 for b in cells):
        return False  # labels of a figure
    for c in range(len(columns)):
        texts = [" ".join(l.text for l in blocks[k].lines) for row in table for k in row if _best_column(blocks[k], columns) == c]
        if texts and all(_MARKER.match(t.strip()) for t in texts):
            return False  # a list: bullets or numbers beside their items
    if body and any(line.size > body * 1.25 for b in cells for line in b.lines):
        return False
    return True


def _header(rows, groups, table, blocks, columns, used) -> list[int] | None:
    """The group of boxes just above the table whose boxes each sit over a different column."""
    top = min(blocks[k].y0 for k in table[0])
    tx0, tx1 = min(c[0] for c in columns), max(c[1] for c in columns)
    above = [g for g in groups if max(blocks[k].y1 for k in g) <= top + 1]
    if not above:
        return None
    group = [k for k in above[-1] if k not in used and _overlap(blocks[k].x0, blocks[k].x1, tx0 - 5, tx1 + 5) > 0]
    size = blocks[table[0][0]].lines[0].size or 10
    if len(group) < 2 or top - max(blocks[k].y1 for k in group) > 2.2 * size:
        return None
    if any(len(blocks[k].lines) > 2 for k in group):
        return None
    mapped = _map_columns(group, blocks, columns, grow=False)
    return group if mapped is not None else None

"""Word (.docx): paragraphs and tables in document order.

The body's `w:p`, `w:tbl` (and content controls `w:sdt`) are read in order. Tables are one row
per line with ` | ` between cells; a cell spanning columns appears once and the continuation of a
vertically merged cell is not repeated; a table nested in a cell is flattened into that cell
(`a b; c d`), and a one-cell table (a box around text) is read as ordinary paragraphs. Heading
styles (`Heading 1`..`Heading 9`, styles based on them, `Title`, or an outline level) become
headings; list paragraphs are one line each with a `- ` prefix, consecutive items in one block.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from .model import DocumentError, Extracted, TextBuilder

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.I)
_LIST_STYLE = re.compile(r"^list\b|\blist\s*(?:bullet|number|paragraph|continue)", re.I)
_WS = re.compile(r"[ \t\r\f\v\u00a0]+")


def read_docx(path: Path, data: bytes) -> Extracted:
    import docx

    try:
        document = docx.Document(io.BytesIO(data) if data else str(path))
    except Exception as err:
        raise DocumentError(f"broken .docx ({type(err).__name__}: {err})") from None
    reader = _Reader(document)
    reader.body(document.element.body)
    reader.flush_list()
    reader.emit()
    props = document.core_properties
    try:
        created = props.created.date().isoformat() if props.created else None
    except Exception:  # a malformed date in docProps/core.xml
        created = None
    return reader.out.build((props.title or "").strip() or None, created)


class _Reader:
    def __init__(self, document) -> None:
        self.out = TextBuilder()
        self.blocks: list[tuple] = []  # ("h", text, level) ("bold", text, level) ("p", text) ("table", rows)
        self._list: list[str] = []
        self._styles: dict[str, tuple[int | None, bool]] = {}
        self._by_id = {}
        try:
            for style in document.styles:
                self._by_id[style.style_id] = style
        except Exception:
            pass

    # -- blocks --

    def body(self, element) -> None:
        for child in element.iterchildren():
            tag = child.tag
            if tag == _W + "p":
                self.paragraph(child)
            elif tag == _W + "tbl":
                self.flush_list()
                self.table(child)
            elif tag == _W + "sdt":
                content = child.find(_W + "sdtContent")
                if content is not None:
                    self.body(content)
            elif tag in (_W + "customXml", _W + "smartTag"):
                self.body(child)

    def paragraph(self, p) -> None:
        text = _paragraph_text(p)
        level, is_list = self._kind(p)
        if level is not None:
            self.flush_list()
            self.blocks.append(("h", text, level))
        elif not is_list and _bold_line(p, text):
            self.flush_list()
            self.blocks.append(("bold", text, 1 if text.upper() == text else 2))
        elif is_list:
            line = " ".join(text.split())
            if line:
                self._list.append(f"- {line}")
        else:
            self.flush_list()
            self.blocks.append(("p", "\n".join(_WS.sub(" ", line).strip() for line in text.split("\n"))))

    def flush_list(self) -> None:
        if self._list:
            self.blocks.append(("p", "\n".join(self._list)))
            self._list = []

    def emit(self) -> None:
        """Write the blocks; short all-bold lines are headings only in a document without heading styles."""
        styled = any(block[0] == "h" for block in self.blocks)
        for block in self.blocks:
            if block[0] == "h" or (block[0] == "bold" and not styled):
                self.out.heading(block[1], block[2])
            elif block[0] == "table":
                self.out.table(block[1])
            else:
                self.out.paragraph(block[1])

    def table(self, tbl) -> None:
        rows = _rows(tbl)
        cells = [tc for row in rows for tc in row]
        if len(cells) == 1:  # a box around text: its paragraphs are ordinary blocks
            self.body(cells[0])
            self.flush_list()
            return
        lines = []
        for row in rows:
            texts = [_cell_text(tc) for tc in row if not _merged_continuation(tc)]
            texts = [t for t in texts if t]
            if texts:
                lines.append(texts)
        self.blocks.append(("table", lines))

    # -- styles --

    def _kind(self, p) -> tuple[int | None, bool]:
        """(heading level or None, is a list item) from the paragraph's style and properties."""
        ppr = p.find(_W + "pPr")
        style_id = None
        outline = None
        numbered = False
        if ppr is not None:
            style = ppr.find(_W + "pStyle")
            style_id = style.get(_W + "val") if style is not None else None
            lvl = ppr.find(_W + "outlineLvl")
            if lvl is not None and (lvl.get(_W + "val") or "").isdigit() and int(lvl.get(_W + "val")) < 9:
                outline = int(lvl.get(_W + "val")) + 1
            numbered = ppr.find(_W + "numPr") is not None
        level, listed = self._style_kind(style_id) if style_id else (None, False)
        if level is None:
            level = outline
        return level, (numbered or listed) and level is None

    def _style_kind(self, style_id: str) -> tuple[int | None, bool]:
        if style_id in self._styles:
            return self._styles[style_id]
        level, listed = None, False
        style, seen = self._by_id.get(style_id), 0
        while style is not None and seen < 10:
            name = (style.name or "").strip()
            match = _HEADING_STYLE.match(name)
            if match:
                level = int(match.group(1))
                break
            if name.lower() == "title":
                level = 1
                break
            if _LIST_STYLE.search(name):
                listed = True
            style, seen = getattr(style, "base_style", None), seen + 1
        if style is None and level is None:
            match = _HEADING_STYLE.match(re.sub(r"(?i)^heading(\d)$", r"heading \1", style_id))
            level = int(match.group(1)) if match else (1 if style_id.lower() == "title" else None)
        self._styles[style_id] = (level, listed)
        return level, listed


def _bold_line(p, text: str) -> bool:
    """A short one-line paragraph set mostly in bold: a heading typed by hand."""
    if not text or "\n" in text or len(text) > 100 or text[-1] in ".,;:!?":
        return False
    bold = total = 0
    for run in p.iter(_W + "r"):
        size = len("".join(t.text or "" for t in run.iter(_W + "t")).strip())
        flag = run.find(f"{_W}rPr/{_W}b")
        total += size
        if flag is not None and flag.get(_W + "val") not in ("0", "false", "off"):
            bold += size
    return total > 0 and bold * 2 >= total


def _paragraph_text(p) -> str:
    """Visible text of a paragraph: runs, hyperlinks, tabs and breaks (not deleted text or field codes)."""
    parts: list[str] = []
    for el in p.iter(_W + "t", _W + "tab", _W + "br", _W + "cr", _W + "noBreakHyphen"):
        tag = el.tag
        if tag == _W + "t":
            parts.append(el.text or "")
        elif tag == _W + "tab":
            parts.append(" ")
        elif tag == _W + "noBreakHyphen":
            parts.append("-")
        elif el.get(_W + "type") != "page":
            parts.append("\n")
    return "".join(parts).strip()


def _rows(tbl) -> list[list]:
    return [[tc for tc in tr.iterchildren(_W + "tc")] for tr in tbl.iterchildren(_W + "tr")]


def _merged_continuation(tc) -> bool:
    pr = tc.find(_W + "tcPr")
    merge = pr.find(_W + "vMerge") if pr is not None else None
    return merge is not None and merge.get(_W + "val") in (None, "continue")


def _cell_text(tc) -> str:
    """A cell on one line: its paragraphs joined by spaces, a nested table's rows by `; `."""
    parts: list[str] = []
    for child in tc.iterchildren():
        if child.tag == _W + "p":
            parts.append(_paragraph_text(child))
        elif child.tag == _W + "tbl":
            rows = []
            for row in _rows(child):
                texts = [_cell_text(c) for c in row if not _merged_continuation(c)]
                rows.append(" ".join(t for t in texts if t))
            parts.append("; ".join(r for r in rows if r))
        elif child.tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                parts.extend(_paragraph_text(p) for p in content.iter(_W + "p"))
    return " ".join(" ".join(part.split()) for part in parts if part.strip())

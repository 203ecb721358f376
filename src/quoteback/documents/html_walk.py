"""The cleaned HTML content tree as blocks of text: paragraphs, headings (h1 in nested sections
takes the section depth), tables one row a line (`cell | cell`), lists one item a line
(`- item`, `1. item`), `<pre>` with its lines (see `html_pre`); layout tables are walked as blocks
and link boxes skipped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .html_clean import HEADINGS, WS, link_box

if TYPE_CHECKING:
    from bs4 import Tag

_BLOCKS = set(
    "p div section article main header footer aside blockquote address figure figcaption dl dt dd "
    "details summary center form fieldset hr li body html caption tbody thead tfoot tr td th".split()
)
_BR = "\x00"


def _inline(text: str) -> str:
    text = WS.sub(" ", text)
    return "\n".join(part.strip() for part in text.split(_BR)).strip()


class Walker:
    """Turns the cleaned content tree into blocks: ("p", text, 0), ("h", text, level), ("table", rows, 0)."""

    def __init__(self, root: Tag, skip_links: bool = True) -> None:
        self.root = root
        self.skip_links = skip_links  # False: link boxes kept too (the whole visible text)
        self.blocks: list[tuple] = []
        self._inline: list[str] = []
        self._pre: list[str] = []

    def flush(self) -> None:
        """The inline text gathered so far as a paragraph block."""
        text = _inline("".join(self._inline))
        self._inline = []
        if text:
            self.blocks.append(("p", text, 0))

    def _flush_pre(self) -> None:
        if self._pre:
            from .html_pre import pre_blocks

            self.blocks.extend(pre_blocks(self._pre))
            self._pre = []

    def walk(self, node: Tag, children: list | None = None) -> None:
        """Blocks of `node`'s children (or of `children`) appended to `self.blocks` (call `flush` after the last)."""
        from bs4 import NavigableString, Tag

        for child in list(node.children) if children is None else children:
            if isinstance(child, NavigableString):
                if self._pre and not str(child).strip():
                    continue  # whitespace between consecutive <pre> pages
                self._flush_pre()
                self._inline.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name == "pre":
                self.flush()
                self._pre.append(_pre_text(child))
                continue
            self._flush_pre()
            if name in HEADINGS:
                self.flush()
                text = _inline(child.get_text(" "))
                if text:
                    self.blocks.append(("h", text, self._level(child)))
            elif name == "br":
                self._inline.append(_BR)
            elif name in ("ul", "ol"):
                self.flush()
                if not (self.skip_links and link_box(child, 0.7)):
                    lines = _list_lines(child, 0)
                    if lines:
                        self.blocks.append(("p", "\n".join(lines), 0))
            elif name == "table":
                self.flush()
                self._table(child)
            elif name in _BLOCKS:
                self.flush()
                if self.skip_links and name in ("div", "section", "center", "blockquote", "dl") and self._links(child):
                    continue
                self.walk(child)
                self.flush()
            else:
                self.walk(child)
        self._flush_pre()

    @staticmethod
    def _links(box) -> bool:
        return link_box(box, 0.75) and len(box.find_all("a")) >= 5

    def _level(self, heading) -> int:
        level = HEADINGS[heading.name]
        if level == 1:
            depth = sum(1 for parent in heading.parents if parent.name in ("section", "article"))
            if depth > 1:
                return min(6, depth)
        return level

    def _table(self, table) -> None:
        rows = [row for row in table.find_all("tr") if row.find_parent("table") is table]
        if _layout_table(table, rows):
            self.walk(table)
            return
        if self.skip_links and link_box(table, 0.75):
            return
        caption = table.find("caption")
        if caption is not None and caption.find_parent("table") is table:
            self.flush()
            text = _inline(caption.get_text(" "))
            if text:
                self.blocks.append(("p", text, 0))
        cells = [[_cell_text(cell) for cell in row.find_all(["td", "th"], recursive=False)] for row in rows]
        cells = [[c for c in row if c] for row in cells]
        self.blocks.append(("table", [row for row in cells if row], 0))


def _layout_table(table, rows) -> bool:
    """A table used for page layout (cells holding paragraphs, headings or long text) is walked as blocks."""
    for cell in table.find_all(["td", "th"]):
        if cell.find_parent("table") is not table:
            continue
        if cell.find(["h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote"]) or len(cell.get_text()) > 1500:
            return True
    return not rows or str(table.get("role", "")).lower() == "presentation"


def _cell_text(cell) -> str:
    """A cell's text on one line; list items, line breaks and nested rows separated by `; `."""
    breaks = dict.fromkeys(("br", "li", "tr", "p", "div", "dt", "dd", "ul", "ol", "table"), (_BR, _BR))
    text = _gathered(cell, {**breaks, "td": (" ", " "), "th": (" ", " ")})
    pieces = [WS.sub(" ", p).strip() for p in text.split(_BR)]
    return "; ".join(p for p in pieces if p)


def _list_lines(tag, depth: int) -> list[str]:
    lines = []
    number = int(tag.get("start") or 1) if str(tag.get("start") or "1").isdigit() else 1
    for item in tag.find_all("li", recursive=False):
        nested = [child for child in item.find_all(["ul", "ol"]) if child.find_parent("li") is item]
        for sub in nested:  # the item's own text is everything except its nested lists
            sub.extract()
        text = _inline(item.get_text(" ").replace("\n", " "))
        marker = f"{number}." if tag.name == "ol" else "-"
        if text:
            lines.append("  " * depth + f"{marker} {text}")
            number += 1
        for sub in nested:
            lines.extend(_list_lines(sub, depth + 1))
    return lines


def _pre_text(pre) -> str:
    """The text of a <pre>, its line structure as written."""
    return _gathered(pre, {"br": ("\n", "")}).replace("\r\n", "\n").replace("\t", "    ")


def _gathered(node, around: dict[str, tuple[str, str]]) -> str:
    """All text under `node`, with the strings `around` names before and after each tag of that name."""
    from bs4 import NavigableString, Tag

    parts: list[str] = []

    def visit(node) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                parts.append(str(child))
            elif isinstance(child, Tag):
                before, after = around.get(child.name, ("", ""))
                parts.append(before)
                visit(child)
                parts.append(after)

    visit(node)
    return "".join(parts)

"""Markdown (.md): the text a reader sees when the file is rendered.

Parsed with markdown-it-py (CommonMark plus tables and strikethrough): emphasis markers,
backticks, `{#anchor}` attributes, HTML comments and raw HTML tags are gone; link text is kept
without its URL; image alt text is dropped (a rendered page shows the image, not the alt text,
and alt text such as "screenshot" would only make junk quotes); code blocks keep their lines;
lists are one item per line (`- item`, `1. item`, nested items indented); tables are one row
per line with ` | `; ATX and setext headings become headings with their level. Front matter and
a `date 2023-12-12` first line give the title and date and are not part of the text.
"""

from __future__ import annotations

import html as html_lib
import re

from .model import Extracted, TextBuilder
from .text import decode, text_metadata

_ATTRS = re.compile(r"[ \t]*\{[ \t]*[#.][\w:.#=\"' \t-]*\}")  # `{#anchor}`, `{#id .class}`
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>")
_WS = re.compile(r"[ \t\r\f\v\u00a0]+")


def read_markdown(data: bytes) -> Extracted:
    source = decode(data)
    title, date, body_start = text_metadata(source, markdown=True)
    out = TextBuilder()
    _render(source[body_start:], out)
    extracted = out.build(_clean_inline(title) if title else None, date)
    return extracted


def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def _clean_inline(text: str) -> str:
    """Text of a heading/title line from raw markdown: no attributes, markers or tags."""
    tokens = _parser().parseInline(text)
    return " ".join(_inline(tokens[0].children or []).split()) if tokens else text


def _render(body: str, out: TextBuilder) -> None:
    tokens = _parser().parse(body)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            out.heading(_inline(tokens[i + 1].children or []), int(token.tag[1]))
            i += 3
            continue
        if kind == "paragraph_open":
            out.paragraph(_inline(tokens[i + 1].children or []))
            i += 3
            continue
        if kind in ("bullet_list_open", "ordered_list_open"):
            end = _close(tokens, i)
            out.paragraph("\n".join(_list_lines(tokens[i:end + 1])))
            i = end + 1
            continue
        if kind == "table_open":
            end = _close(tokens, i)
            out.table(_table_rows(tokens[i:end + 1]))
            i = end + 1
            continue
        if kind in ("fence", "code_block"):
            out.paragraph(token.content.rstrip())
        elif kind == "html_block":
            out.paragraph(_strip_html(token.content))
        i += 1


def _close(tokens, start: int) -> int:
    """Index of the token closing tokens[start] (same nesting level)."""
    depth = 0
    for j in range(start, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


def _inline(children) -> str:
    parts: list[str] = []
    for child in children:
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind == "softbreak":
            parts.append(" ")
        elif kind == "hardbreak":
            parts.append("\n")
        elif kind == "html_inline":
            if child.content.lower().startswith("<br"):
                parts.append("\n")
        # link_open/close, em/strong/s markers and images (alt text) add nothing
    text = _ATTRS.sub("", "".join(parts))
    return "\n".join(_WS.sub(" ", line).strip() for line in text.split("\n")).strip()


def _strip_html(raw: str) -> str:
    text = _TAG.sub(" ", _COMMENT.sub("", raw))
    return "\n".join(_WS.sub(" ", line).strip() for line in html_lib.unescape(text).splitlines() if line.strip())


def _list_lines(tokens) -> list[str]:
    """One line per item; nested lists indented two spaces per level; code inside items on its own lines."""
    lines: list[str] = []
    depth = -1
    numbers: list[int | None] = []
    item_open = False
    for token in tokens:
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            depth += 1
            numbers.append(int(token.attrGet("start") or 1) if kind == "ordered_list_open" else None)
        elif kind in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            numbers.pop()
        elif kind == "list_item_open":
            item_open = True
        elif kind in ("inline", "fence", "code_block", "html_block"):
            if kind == "inline":
                text = _inline(token.children or []).replace("\n", " ")
            elif kind == "html_block":
                text = _strip_html(token.content).replace("\n", " ")
            else:
                text = token.content.rstrip()
            if not text:
                continue
            indent = "  " * max(depth, 0)
            if item_open:
                number = numbers[-1]
                marker = "-" if number is None else f"{number}."
                if number is not None:
                    numbers[-1] = number + 1
                lines.append(f"{indent}{marker} {text}")
                item_open = False
            else:  # a second paragraph of the same item
                lines.append("\n".join(f"{indent}  {line}" for line in text.split("\n")))
    return lines


def _table_rows(tokens) -> list[list[str]]:
    rows: list[list[str]] = []
    for token in tokens:
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows:
            rows[-1].append(_inline(token.children or []).replace("\n", " "))
    return rows

"""Preformatted text from HTML `<pre>`: code keeps its lines; a plain-text RFC/Internet-Draft
(consecutive `<pre>` pages with `[Page N]` footers) is rebuilt as a document: page headers and
footers dropped, paragraphs joined across page breaks, numbered section lines as headings."""

from __future__ import annotations

import re
import textwrap

_FOOTER = re.compile(r"^\S.*\s{2,}\[Page \d+\]\s*$")
_HEADER = re.compile(r"^(?:Internet[- ]Draft|INTERNET[- ]DRAFT|RFC \d+|Request for Comments: \d+)\s{2,}\S.*\s{2,}\S.*\b(?:19|20)\d\d\s*$")
_SECTION = re.compile(r"^(?:(\d+(?:\.\d+)*)\.?|Appendix\s+[A-Z](?:\.\d+)*\.?|([A-Z](?:\.\d+)+)\.?)\s+\S")
_LEADER = re.compile(r"\.{3,}\s*\d+\s*$")
_BREAK = "\f"


def pre_blocks(pages: list[str]) -> list[tuple]:
    """Blocks ("p", text, 0) / ("h", text, level) from the text of one or more consecutive <pre>."""
    text = "\n".join(page.rstrip("\n") for page in pages)
    if not any(_FOOTER.match(line) for line in text.split("\n")):
        code = _dedent(text)
        return [("p", code, 0)] if code.strip() else []
    return _rfc_blocks(text)


def _rfc_blocks(text: str) -> list[tuple]:
    lines: list[str] = []
    for line in text.replace("\f", "\n").split("\n"):
        line = line.rstrip()
        if _FOOTER.match(line):
            lines.append(_BREAK)
        elif not _HEADER.match(line):
            lines.append(line)
    lines = _join_pages(lines)
    blocks: list[tuple] = []
    for block in re.split(r"\n\s*\n", "\n".join(lines)):
        raw = [line for line in block.split("\n") if line.strip() and not _LEADER.search(line)]
        if not raw:
            continue
        if len(raw) == 1 and not raw[0][:1].isspace() and len(raw[0]) <= 90 and raw[0][-1] not in ".,;":
            title = " ".join(raw[0].split())
            match = _SECTION.match(title)
            level = 1
            if match and (match.group(1) or match.group(2)):
                level = min(6, (match.group(1) or match.group(2)).count(".") + 1)
            blocks.append(("h", title, level))
        else:
            blocks.append(("p", _dedent("\n".join(raw)), 0))
    return blocks


def _join_pages(lines: list[str]) -> list[str]:
    """Remove page breaks: a paragraph cut by a break continues on the next page without a blank line."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i] != _BREAK:
            out.append(lines[i])
            i += 1
            continue
        while out and not out[-1].strip():
            out.pop()
        i += 1
        while i < len(lines) and (not lines[i].strip() or lines[i] == _BREAK):
            i += 1
        before = out[-1] if out else ""
        after = lines[i] if i < len(lines) else ""
        continues = (
            before.strip()
            and after.strip()
            and before.rstrip()[-1] not in ".:!?"
            and after[:1].isspace()
            and not re.match(r"\s*(?:[-*o+]|\d+\.)\s", after)
            and len(after) - len(after.lstrip()) >= len(before) - len(before.lstrip()) - 1
        )
        if not continues:
            out.append("")
    return out


def _dedent(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    return textwrap.dedent("\n".join(lines)).strip("\n")

"""Plain text (.txt): the file itself is the document text; metadata comes from its head.

Also the metadata helpers every format shares: dates, and titles that skip junk metadata
(`paper.dvi`, `Microsoft Word - draft.docx`, `untitled`) in favour of the first heading.
"""

from __future__ import annotations

import re

from .model import DocumentError, Extracted

_DATE_HEADER = re.compile(r"\A\s*date:?\s+(\d{4}-\d{2}-\d{2})\s*")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_ISO_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_JUNK_TITLE = re.compile(
    r"""^(?:untitled|document\d*|title|no\s+title|slide\s*\d*|presentation\d*|\W*|\d+)$   # placeholders
    |\.(?:dvi|tex|docx?|pdf|rtf|odt|ps|eps|indd|qxd|pages|txt|md|html?)$                # a file name
    |^microsoft\s+(?:word|powerpoint)\s+-                                                  # Office's print title
    |^(?:page|p\.)\s*\d+$
    |^(?:for\s+immediate\s+release|(?:press|news|media)\s+release)\W*$                        # a press release's dateline""",
    re.I | re.X,
)


def read_text(data: bytes) -> Extracted:
    text = decode(data)
    title, date, body_start = text_metadata(text, markdown=False)
    return Extracted(text, title, date, body_start, headings=heading_lines(text, body_start))


def heading_lines(text: str, start: int) -> list[list[int]]:
    """Headings of plain text: `#` lines (level by their count) and standalone short lines without
    closing punctuation (an FAQ's question lines included), as [start, end, level] of their words."""
    found = []
    for block in re.finditer(r"[^\n]+(?:\n(?![ \t\r]*\n)[^\n]*)*", text[start:]):
        line = block.group().strip()
        if "\n" in line or not line or len(line) > 100 or line[-1] in ".,;:!" or not re.search(r"[^\W\d_]", line):
            continue
        marks = len(line) - len(line.lstrip("#"))
        words = line[marks:].strip()
        a = start + block.start() + block.group().index(words)
        found.append([a, a + len(words), min(marks, 6) or 1])
    return found


def decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise DocumentError("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DocumentError(f"not valid UTF-8 text (byte {err.start})") from None


def front_matter(text: str) -> tuple[dict[str, str], int]:
    """`---` front matter as lower-cased keys, and the offset where the body starts."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, 0
    values = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(":")
        if value.strip():
            values[key.strip().lower()] = value.strip().strip("\"'")
    return values, match.end()


def text_metadata(text: str, markdown: bool) -> tuple[str | None, str | None, int]:
    """Title, date and body start of a text file: front matter, a `date 2023-12-12` first line,
    a markdown `#` heading or the first standalone short line."""
    meta, body_start = front_matter(text)
    title, date = meta.get("title"), iso_date(meta.get("date"))
    if not body_start:
        header = _DATE_HEADER.match(text)
        if header:
            date, body_start = header.group(1), header.end()
    body = text[body_start:]
    if title is None and markdown:
        heading = re.search(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", body, re.M)
        title = heading.group(1).strip() if heading else None
    return title or heading_line(body), date, body_start


def heading_line(body: str) -> str | None:
    """The first standalone short line with no closing punctuation: how plain text titles look."""
    for block in re.split(r"\n[ \t\r]*\n", body)[:40]:
        line = block.strip()
        if line and "\n" not in line and len(line) <= 100 and line[-1] not in ".!?,;:":
            return line
    return None


def iso_date(value: str | None) -> str | None:
    match = _ISO_DATE.search(value or "")
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else None


def usable_title(title: str | None) -> str | None:
    """The title unless it is junk metadata (a file name, an Office print title, a placeholder)."""
    title = " ".join((title or "").split())
    return None if not title or len(title) > 300 or _JUNK_TITLE.search(title) else title


def title_from_name(stem: str) -> str:
    words = re.sub(r"[_\-]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else stem

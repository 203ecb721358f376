"""Markdown (.md): interim reader, the raw file (to be replaced by rendered text)."""

from __future__ import annotations

import re

from .model import Extracted
from .text import decode, text_metadata


def read_markdown(data: bytes) -> Extracted:
    text = decode(data)
    title, date, body_start = text_metadata(text, markdown=True)
    headings = [[m.start(2), m.end(2), len(m.group(1))] for m in re.finditer(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", text[body_start:], re.M)]
    headings = [[a + body_start, b + body_start, level] for a, b, level in headings]
    return Extracted(text, title, date, body_start, [], headings)

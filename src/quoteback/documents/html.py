"""HTML (.html, .htm): interim reader (BeautifulSoup text of the whole page)."""

from __future__ import annotations

import re

from .model import Extracted
from .text import decode, iso_date

_BLOCK_TAGS = "p h1 h2 h3 h4 h5 h6 li dt dd pre blockquote tr div section article br table ul ol".split()


def read_html(data: bytes) -> Extracted:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode(data), "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    date = None
    for meta in soup.find_all("meta"):
        name = (meta.get("name") or meta.get("property") or "").lower()
        if name in ("date", "article:published_time", "dc.date", "pubdate") and meta.get("content"):
            date = iso_date(meta["content"])
            break
    if date is None and soup.find("time", datetime=True):
        date = iso_date(soup.find("time", datetime=True)["datetime"])
    for tag in soup(["script", "style", "noscript", "template", "head", "nav", "svg"]):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    return Extracted(tidy(soup.get_text()), title or None, date)


def tidy(text: str) -> str:
    """Collapse layout whitespace from extraction: one space inside lines, blank lines between blocks."""
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

"""HTML (.html, .htm): the main content of a page, as a reader sees it.

Chosen by measurement on real pages (Wikipedia, a book chapter, an IETF draft; see the
`formats` branch report): our own rules over BeautifulSoup kept every expected phrase with no
boilerplate, where trafilatura kept edit links, footnote markers and the reference list, and
readability/jusText lost tables or headings. The rules:

- the content root is `<main>`/`role=main`/`<article>` (else `<body>`);
- navigation, banners, cookie notices, footers, sidebars, edit links, footnote markers,
  reference lists and hidden elements are removed by tag, ARIA role, and class/id words (except
  on the element holding most of the page's text, and ids that are their heading's slug);
- inside the root, the densest block of prose (Readability's paragraph score) is kept when it
  holds nearly all the paragraphs: teaser streams and "more stories" boxes stay out;
- link-dense lists, tables and boxes (navigation boxes) are dropped;
- sections titled References, Notes, External links, See also ... are dropped;
- headings h1-h6 become headings (h1 inside nested `<section>`s takes the section depth);
- tables are one row per line, `cell | cell`; lists one item per line (`- item`, `1. item`);
- `<pre>` keeps its lines; a plain-text RFC inside `<pre>` loses its page headers and footers,
  its paragraphs are rebuilt across page breaks and its numbered section lines become headings.

Pages where these rules keep next to nothing fall back to trafilatura, then to the whole visible
text, and the build report says so (`html_route`; measured on mozilla/readability's test pages,
`web-dev`: F1 0.967 against trafilatura's 0.923, no page empty).

Here: reading a page and its metadata (title, date). The steps: `html_route` (which extraction),
`html_clean` (content root, boilerplate, dropped sections), `html_focus` (the densest block),
`html_walk` (the tree as blocks), `html_pre` (`<pre>`).
"""

from __future__ import annotations

import re

from .html_route import page_blocks, parse
from .model import Extracted, TextBuilder
from .text import decode, iso_date

_SITE_SEPARATORS = re.compile(r"\s+(?:[-|–—:·•]|::)\s+")
_DATE_META = ("article:published_time", "date", "dc.date", "dc.date.issued", "dcterms.date", "dcterms.created",
              "pubdate", "publishdate", "publication_date", "citation_publication_date", "citation_date",
              "og:published_time", "article:modified_time", "last-modified")


def read_html(data: bytes) -> Extracted:
    """The page's main content as text, with its headings, title and date."""
    text = decode(data)
    soup = parse(text)
    meta = _meta(soup)
    date = next((iso_date(meta[k]) for k in _DATE_META if iso_date(meta.get(k))), None)
    if date is None:
        stamp = soup.find("time", datetime=True)
        date = iso_date(stamp["datetime"]) if stamp else None
    page_title = meta.get("og:title") or meta.get("dc.title") or meta.get("citation_title")
    if not page_title and soup.title:
        page_title = soup.title.get_text(" ", strip=True)
    blocks = page_blocks(text, soup)
    out = TextBuilder()
    for kind, value, level in blocks:
        if kind == "h":
            out.heading(value, level)
        elif kind == "table":
            out.table(value)
        else:
            out.paragraph(value)
    first_h1 = next((value for kind, value, level in blocks if kind == "h"), None)
    return out.build(_page_title(page_title, first_h1, meta.get("og:site_name")), date)


def tidy(text: str) -> str:
    """Collapse layout whitespace from extraction: one space inside lines, blank lines between blocks."""
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- metadata ---------------------------------------------------------------------------------


def _meta(soup) -> dict[str, str]:
    values: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        name = (tag.get("property") or tag.get("name") or tag.get("itemprop") or "").strip().lower()
        content = (tag.get("content") or "").strip()
        if name and content and name not in values:
            values[name] = content
    return values


def _page_title(title: str | None, first_heading: str | None, site: str | None) -> str | None:
    """The page title without a site suffix/prefix (`Mozilla - Wikipedia` -> `Mozilla`)."""
    title = " ".join((title or "").split())
    if not title:
        return None
    parts = [p for p in _SITE_SEPARATORS.split(title) if p]
    if len(parts) < 2:
        return title
    heading = " ".join((first_heading or "").split()).lower()
    for part in parts:
        if heading and part.lower() == heading:
            return part
    if site:
        kept = [p for p in parts if p.lower() != site.strip().lower()]
        if kept and len(kept) < len(parts):
            return " - ".join(kept)
    if parts[-1].lower() in ("wikipedia", "wikipedia, the free encyclopedia", "home", "blog"):
        return " - ".join(parts[:-1])
    return title

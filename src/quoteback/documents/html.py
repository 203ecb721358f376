"""HTML (.html, .htm): the main content of a page, as a reader sees it.

Chosen by measurement on real pages (Wikipedia, a book chapter, an IETF draft; see the
`formats` branch report): our own rules over BeautifulSoup kept every expected phrase with no
boilerplate, where trafilatura kept edit links, footnote markers and the reference list, and
readability/jusText lost tables or headings. The rules:

- the content root is `<main>`/`role=main`/`<article>` (else `<body>`);
- navigation, banners, cookie notices, footers, sidebars, edit links, footnote markers,
  reference lists and hidden elements are removed by tag, ARIA role, and class/id words;
- link-dense lists, tables and boxes (navigation boxes) are dropped;
- sections titled References, Notes, External links, See also ... are dropped;
- headings h1-h6 become headings (h1 inside nested `<section>`s takes the section depth);
- tables are one row per line, `cell | cell`; lists one item per line (`- item`, `1. item`);
- `<pre>` keeps its lines; a plain-text RFC inside `<pre>` loses its page headers and footers,
  its paragraphs are rebuilt across page breaks and its numbered section lines become headings.
"""

from __future__ import annotations

import re

from .model import Extracted, TextBuilder
from .text import decode, iso_date

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS = set(
    "p div section article main header footer aside blockquote address figure figcaption dl dt dd "
    "details summary center form fieldset hr li body html caption tbody thead tfoot tr td th".split()
)
_DROP_TAGS = "script style noscript template svg canvas nav aside footer form button input select textarea iframe dialog object embed map head title meta link img picture video audio source".split()
_DROP_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary", "dialog", "alertdialog", "menu", "menubar", "toolbar", "tablist"}
# Words in class/id names that mark boilerplate, matched against whole hyphen/underscore parts.
_BOILER_WORDS = re.compile(
    r"""^(?:cookies?|consent|gdpr|cc|banner|navbox|navbar|nav|navigation|menu|menus|breadcrumbs?|sidebar|footer|
    masthead|toc|toctitle|editsection|reflist|references?|refbegin|catlinks|printfooter|jump|skip|skiplink|share|
    sharing|social|related|advert|advertisement|ads?|promo|newsletter|subscribe|noprint|hatnote|sitesub|
    contentsub|sitenotice|cite|backlink|footnotes?|endnotes?|comments?|popup|modal|overlay|docinfo|legend|
    navigation|pagination|pager|sharebar|signup|login|search|searchform|widget|sponsored|rss|tags|tagcloud)$""",
    re.I | re.X,
)
_DROP_SECTIONS = re.compile(
    r"^(?:[\dA-Z]+(?:\.\d+)*\.?\s+)?(?:(?:normative|informative)\s+)?(?:references?|notes?(?:\s+and\s+references)?|"
    r"references\s+and\s+notes|citations?|footnotes?|endnotes?|sources|bibliography|external\s+links|"
    r"further\s+reading|see\s+also|table\s+of\s+contents|contents|navigation\s+menu)$",
    re.I,
)
_SITE_SEPARATORS = re.compile(r"\s+(?:[-|–—:·•]|::)\s+")
_DATE_META = ("article:published_time", "date", "dc.date", "dc.date.issued", "dcterms.date", "dcterms.created",
              "pubdate", "publishdate", "publication_date", "citation_publication_date", "citation_date",
              "og:published_time", "article:modified_time", "last-modified")
_FOOTNOTE_MARK = re.compile(r"^\[(?:\d+|[a-z]|note \d+|citation needed|edit|update)\]$", re.I)
_WS = re.compile(r"[ \t\r\n\f\v\u00a0\u200b]+")
_BR = "\x00"


def read_html(data: bytes) -> Extracted:
    from bs4 import BeautifulSoup

    text = decode(data)
    try:
        soup = BeautifulSoup(text, "lxml")
    except Exception:  # lxml missing or refusing the markup
        soup = BeautifulSoup(text, "html.parser")
    meta = _meta(soup)
    date = next((iso_date(meta[k]) for k in _DATE_META if iso_date(meta.get(k))), None)
    if date is None:
        stamp = soup.find("time", datetime=True)
        date = iso_date(stamp["datetime"]) if stamp else None
    page_title = meta.get("og:title") or meta.get("dc.title") or meta.get("citation_title")
    if not page_title and soup.title:
        page_title = soup.title.get_text(" ", strip=True)
    root = _content_root(soup)
    _remove_boilerplate(root)
    walker = _Walker(root)
    walker.walk(root)
    walker.flush()
    out = TextBuilder()
    for kind, value, level in _drop_sections(walker.blocks):
        if kind == "h":
            out.heading(value, level)
        elif kind == "table":
            out.table(value)
        else:
            out.paragraph(value)
    first_h1 = next((value for kind, value, level in walker.blocks if kind == "h"), None)
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


# --- cleaning ---------------------------------------------------------------------------------


def _content_root(soup):
    for finder in (
        lambda: soup.find(attrs={"role": "main"}),
        lambda: soup.find("main"),
        lambda: max(soup.find_all("article"), key=lambda a: len(a.get_text()), default=None),
        lambda: soup.find(id="mw-content-text") or soup.find(id="content"),
    ):
        found = finder()
        if found is not None and len(found.get_text(" ", strip=True)) > 200:
            return found
    return soup.body or soup


def _is_boilerplate(tag) -> bool:
    if tag.name in _DROP_TAGS:
        return not (tag.name == "footer" and tag.find(["h1", "h2"]))  # an article <footer> holding a heading is rare
    attrs = tag.attrs or {}
    if str(attrs.get("role", "")).lower() in _DROP_ROLES:
        return True
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    style = str(attrs.get("style", "")).replace(" ", "").lower()
    if "display:none" in style or "visibility:hidden" in style:
        return True
    if tag.name == "header" and not tag.find(list(_HEADINGS)):
        return True
    names = list(attrs.get("class") or []) + ([attrs["id"]] if isinstance(attrs.get("id"), str) else [])
    for name in names:
        if any(_BOILER_WORDS.match(part) for part in re.split(r"[-_\s]+", name) if part):
            return True
    if tag.name in ("sup", "a", "span") and _FOOTNOTE_MARK.match(tag.get_text(strip=True) or "x"):
        return True
    if tag.name == "sup" and re.fullmatch(r"\[?\d{1,3}\]?", tag.get_text(strip=True)):
        link = tag.find("a", href=True)
        return link is not None and link["href"].startswith("#")  # a footnote marker, not an exponent
    return False


def _remove_boilerplate(root) -> None:
    from bs4 import Comment, Doctype, ProcessingInstruction

    for node in root.find_all(string=lambda s: isinstance(s, (Comment, Doctype, ProcessingInstruction))):
        node.extract()
    for tag in list(root.find_all(True)):
        if tag.decomposed or tag.parent is None:
            continue
        if _is_boilerplate(tag):
            tag.decompose()


def _link_density(tag) -> tuple[int, float]:
    text = len(_WS.sub(" ", tag.get_text(" ")).strip())
    links = tag.find_all("a")
    if not text:
        return len(links), 0.0
    linked = sum(len(_WS.sub(" ", a.get_text(" ")).strip()) for a in links)
    return len(links), linked / text


def _link_box(tag, threshold: float) -> bool:
    count, density = _link_density(tag)
    return count >= 3 and density > threshold


def _drop_sections(blocks: list[tuple]) -> list[tuple]:
    """Drop reference lists, external links, see-also and tables of contents, with their subsections."""
    out, skip_level = [], None
    for block in blocks:
        kind, value, level = block
        if kind == "h":
            if skip_level is not None and level > skip_level:
                continue
            skip_level = level if _DROP_SECTIONS.match(value.strip()) else None
            if skip_level is not None:
                continue
        elif skip_level is not None:
            continue
        out.append(block)
    return out


# --- text -------------------------------------------------------------------------------------


def _inline(text: str) -> str:
    text = _WS.sub(" ", text)
    return "\n".join(part.strip() for part in text.split(_BR)).strip()


class _Walker:
    """Turns the cleaned content tree into blocks: ("p", text, 0), ("h", text, level), ("table", rows, 0)."""

    def __init__(self, root) -> None:
        self.root = root
        self.blocks: list[tuple] = []
        self._inline: list[str] = []
        self._pre: list[str] = []

    def flush(self) -> None:
        text = _inline("".join(self._inline))
        self._inline = []
        if text:
            self.blocks.append(("p", text, 0))

    def _flush_pre(self) -> None:
        if self._pre:
            from .html_pre import pre_blocks

            self.blocks.extend(pre_blocks(self._pre))
            self._pre = []

    def walk(self, node) -> None:
        from bs4 import NavigableString, Tag

        for child in list(node.children):
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
            if name in _HEADINGS:
                self.flush()
                text = _inline(child.get_text(" "))
                if text:
                    self.blocks.append(("h", text, self._level(child)))
            elif name == "br":
                self._inline.append(_BR)
            elif name in ("ul", "ol"):
                self.flush()
                if not _link_box(child, 0.7):
                    lines = _list_lines(child, 0)
                    if lines:
                        self.blocks.append(("p", "\n".join(lines), 0))
            elif name == "table":
                self.flush()
                self._table(child)
            elif name in _BLOCKS:
                self.flush()
                if name in ("div", "section", "center", "blockquote", "dl") and _link_box(child, 0.75) and len(child.find_all("a")) >= 5:
                    continue
                self.walk(child)
                self.flush()
            else:
                self.walk(child)
        self._flush_pre()

    def _level(self, heading) -> int:
        level = _HEADINGS[heading.name]
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
        if _link_box(table, 0.75):
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
    parts: list[str] = []

    def visit(node) -> None:
        from bs4 import NavigableString, Tag

        for child in node.children:
            if isinstance(child, NavigableString):
                parts.append(str(child))
            elif isinstance(child, Tag):
                if child.name in ("br", "li", "tr", "p", "div", "dt", "dd", "ul", "ol", "table"):
                    parts.append(_BR)
                    visit(child)
                    parts.append(_BR)
                elif child.name in ("td", "th"):
                    parts.append(" ")
                    visit(child)
                    parts.append(" ")
                else:
                    visit(child)

    visit(cell)
    pieces = [_WS.sub(" ", p).strip() for p in "".join(parts).split(_BR)]
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
    from bs4 import NavigableString, Tag

    parts: list[str] = []

    def visit(node) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                parts.append(str(child))
            elif isinstance(child, Tag):
                if child.name == "br":
                    parts.append("\n")
                else:
                    visit(child)

    visit(pre)
    return "".join(parts).replace("\r\n", "\n").replace("\t", "    ")

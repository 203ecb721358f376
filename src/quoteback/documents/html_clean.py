"""What of an HTML page is not its content: the content root (`<main>`, `role=main`, the longest
`<article>`, else `<body>`); boilerplate removed by tag, ARIA role, class/id words and hidden
state (navigation, banners, cookie notices, sidebars, edit links, footnote markers); link-dense
boxes recognised; and sections such as References or See also dropped after the walk."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
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
_FOOTNOTE_MARK = re.compile(r"^\[(?:\d+|[a-z]|note \d+|citation needed|edit|update)\]$", re.I)
WS = re.compile(r"[ \t\r\n\f\v\u00a0\u200b]+")


def content_root(soup: BeautifulSoup) -> Tag | BeautifulSoup:
    """The element holding the page's content: the first landmark with some text, else the body."""
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
    if tag.name == "header" and not tag.find(list(HEADINGS)):
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


def remove_boilerplate(root: Tag) -> None:
    """Comments and boilerplate elements removed from the tree, in place."""
    from bs4 import Comment, Doctype, ProcessingInstruction

    for node in root.find_all(string=lambda s: isinstance(s, (Comment, Doctype, ProcessingInstruction))):
        node.extract()
    for tag in list(root.find_all(True)):
        if tag.decomposed or tag.parent is None:
            continue
        if _is_boilerplate(tag):
            tag.decompose()


def _link_density(tag) -> tuple[int, float]:
    text = len(WS.sub(" ", tag.get_text(" ")).strip())
    links = tag.find_all("a")
    if not text:
        return len(links), 0.0
    linked = sum(len(WS.sub(" ", a.get_text(" ")).strip()) for a in links)
    return len(links), linked / text


def link_box(tag: Tag, threshold: float) -> bool:
    """A box of links (navigation), not text: three links or more covering most of its text."""
    count, density = _link_density(tag)
    return count >= 3 and density > threshold


def drop_sections(blocks: list[tuple]) -> list[tuple]:
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

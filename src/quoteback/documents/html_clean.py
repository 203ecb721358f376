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
INVISIBLE = "script style noscript template head title meta link".split()  # never shown as text
_DROP_TAGS = "svg canvas nav aside footer form button input select textarea iframe dialog object embed map img picture video audio source".split()
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
# Those that mark boilerplate even on an element holding most of the page's text (a long comment thread).
_ALWAYS_WORDS = re.compile(r"^(?:comments?|footnotes?|endnotes?|references?|reflist|navbox|catlinks)$", re.I)
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


def _is_boilerplate(tag, container: list[int]) -> bool:
    if tag.name in _DROP_TAGS:
        return not (tag.name == "footer" and tag.find(["h1", "h2"]))  # an article <footer> holding a heading is rare
    attrs = tag.attrs or {}
    if str(attrs.get("role", "")).lower() in _DROP_ROLES:
        return True
    if tag.name == "header" and not tag.find(list(HEADINGS)):
        return True
    named = _boiler_named(tag)
    if named and (named == "always" or not _content_container(tag, container)):
        return True
    if tag.name in ("sup", "a", "span") and _FOOTNOTE_MARK.match(tag.get_text(strip=True) or "x"):
        return True
    if tag.name == "sup" and re.fullmatch(r"\[?\d{1,3}\]?", tag.get_text(strip=True)):
        link = tag.find("a", href=True)
        return link is not None and link["href"].startswith("#")  # a footnote marker, not an exponent
    return False


def hidden(tag) -> bool:
    """Hidden by attribute or inline style: not what a reader sees."""
    attrs = tag.attrs or {}
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    style = str(attrs.get("style", "")).replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def _boiler_named(tag) -> str | None:
    """"always" or "word" when a class or id word marks boilerplate, else None; an id that is the slug of the element's own heading
    (a section anchor, `id="sharing-with-a-developer"`) names the content, not its role."""
    attrs = tag.attrs or {}
    names = list(attrs.get("class") or [])
    if isinstance(attrs.get("id"), str) and not _heading_slug(tag, attrs["id"]):
        names.append(attrs["id"])
    parts = [part for name in names for part in re.split(r"[-_\s]+", name) if _BOILER_WORDS.match(part)]
    return ("always" if any(_ALWAYS_WORDS.match(part) for part in parts) else "word") if parts else None


def _heading_slug(tag, ident: str) -> bool:
    heading = tag.find(list(HEADINGS))
    if heading is None:
        return False
    ident, title = (re.sub(r"[\W_]+", "", text.lower()) for text in (ident, heading.get_text(" ")))
    return len(ident) > 8 and ident in title


def _content_container(tag, container: list[int]) -> bool:
    """The outermost element holding most of the page's text, little of it linked, is the content's
    container whatever its class says (Blogger's posts sit in `widget Blog`, an article in
    `share-wrapper`); only one per page, so the widgets inside it still go. `container` holds the
    page's text length until that element is found, then nothing."""
    if not container or density(tag) >= 0.5 or visible_length(tag) <= container[0] / 2:
        return False
    container.clear()
    return True


def strip_invisible(root: Tag) -> None:
    """Comments, scripts, styles and hidden elements removed in place: what no reader sees."""
    from bs4 import Comment, Doctype, ProcessingInstruction

    for node in root.find_all(string=lambda s: isinstance(s, (Comment, Doctype, ProcessingInstruction))):
        node.extract()
    for tag in root.find_all(INVISIBLE):
        tag.decompose()
    for tag in list(root.find_all(True)):
        if not tag.decomposed and tag.parent is not None and hidden(tag):
            tag.decompose()


def remove_boilerplate(root: Tag) -> None:
    """Invisible markup and boilerplate elements removed from the tree, in place."""
    strip_invisible(root)
    container = [visible_length(root)]
    for tag in list(root.find_all(True)):
        if tag.decomposed or tag.parent is None:
            continue
        if _is_boilerplate(tag, container):
            tag.decompose()


def visible_length(root) -> int:
    """Characters of text under `root`, whitespace collapsed (after the INVISIBLE tags are gone)."""
    return len(WS.sub(" ", root.get_text(" ")).strip())


def _link_density(tag) -> tuple[int, float]:
    text = visible_length(tag)
    links = tag.find_all("a")
    if not text:
        return len(links), 0.0
    return len(links), sum(visible_length(a) for a in links) / text


def density(tag) -> float:
    """The share of an element's text that is link text."""
    return _link_density(tag)[1]


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

"""Which extraction a page's text comes from, so that no page with an article is indexed empty.

1. Our main-content rules (`html_clean`, `html_walk`): the route for nearly every page.
2. When they keep too little of the page's visible words (under `CONSULT_SHARE`), trafilatura's
   extraction, if it keeps clearly more (twice the words). Measured on mozilla/readability's test
   pages (`web-dev`), the smallest share the rules keep of a page's visible words is 11% (an
   article beside a longer comment thread); the pages they used to miss (a Blogger post in
   `class="widget Blog"`, an article in `id="share-..."`) kept 0-0.5%. trafilatura reads the page
   without its hidden elements (it would index them otherwise).
3. When both keep next to nothing (under `VISIBLE_SHARE`, or nothing at all), the whole visible
   text: scripts, styles and hidden elements dropped, every other block kept, link boxes too.

A route other than the rules is named in a warning, which the build report shows with the file.
"""

from __future__ import annotations

import re
import warnings

from .html_clean import content_root, drop_sections, remove_boilerplate, strip_invisible
from .html_focus import focus
from .html_walk import Walker

CONSULT_SHARE = 0.05  # rules keeping under this share of the visible words: ask trafilatura
VISIBLE_SHARE = 0.01  # the best extraction under this share: the whole visible text
_WORD = re.compile(r"\w+")


def parse(markup: str):
    """The page as a BeautifulSoup tree (lxml, else Python's own parser)."""
    from bs4 import BeautifulSoup

    try:
        return BeautifulSoup(markup, "lxml")
    except Exception:  # lxml missing or refusing the markup
        return BeautifulSoup(markup, "html.parser")


def page_blocks(markup: str, soup) -> list[tuple]:
    """The page's content as blocks ("p"/"h"/"table", value, level) by the first route that keeps
    enough; `soup` is consumed (read metadata first). A fallback route is reported as a warning."""
    body = soup.body or soup
    strip_invisible(body)
    visible = _count(body.get_text(" "))
    blocks = _walked(content_root(soup), clean=True)
    kept = best = _words(blocks)
    if not visible or (kept and kept >= CONSULT_SHARE * visible):
        return blocks
    note, route = f"the main-content rules kept {kept} of the page's {visible} words", "those words"
    seen = parse(markup)  # the page again, as a reader sees it: trafilatura would index hidden text
    strip_invisible(seen)
    other = _trafilatura(str(seen))
    if other is not None and _words(other) > 2 * kept:
        blocks, best = other, _words(other)
        route = f"trafilatura's extraction ({best} words)"
    if best < VISIBLE_SHARE * visible or not best:
        blocks = _walked(seen.body or seen, clean=False)
        route = f"the page's whole visible text ({_words(blocks)} words)"
    warnings.warn(f"{note}; its text is {route}")
    return blocks


def _walked(root, clean: bool) -> list[tuple]:
    """The blocks under `root`: cleaned of boilerplate and focused on the article, or (clean=False,
    `root` already stripped of invisible markup) every visible block."""
    nodes = None
    if clean:
        remove_boilerplate(root)
        nodes = focus(root)
    walker = Walker(root, skip_links=clean)
    walker.walk(root, nodes)
    walker.flush()
    return drop_sections(walker.blocks) if clean else walker.blocks


def _trafilatura(markup: str) -> list[tuple] | None:
    """trafilatura's main content as our blocks (its HTML output walked like a page), None when
    it is not installed or finds nothing."""
    try:
        import trafilatura
    except ImportError:
        return None
    try:
        found = trafilatura.extract(markup, output_format="html", include_tables=True, include_formatting=True)
    except Exception:  # a fallback that fails must not refuse the page: the visible text follows
        return None
    return _walked(parse(found), clean=True) if found else None


def _words(blocks: list[tuple]) -> int:
    return sum(_count(" ".join(" ".join(row) for row in value) if kind == "table" else value) for kind, value, _ in blocks)


def _count(text: str) -> int:
    return len(_WORD.findall(text))

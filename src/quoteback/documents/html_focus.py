"""The densest block of prose inside the content root, so that teaser streams, "more stories"
boxes and widgets beside the article, which carry no boilerplate names, stay out.

The measure is Readability's (mozilla/readability, the reference of the article-extraction
benchmarks): each paragraph scores 1 + its commas + a point per 100 characters (at most 3); the
score goes to its parent in full, its grandparent by half and to three more ancestors by
3 x their distance; an element's score is scaled by the share of its text that is not link text.
The best element is kept with those of its siblings that score at least a fifth of it (or are
plain paragraphs), and with the headings just before them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .html_clean import HEADINGS, density, visible_length

if TYPE_CHECKING:
    from bs4 import Tag

_PARAGRAPHS = ("p", "pre", "td")
_BLOCKS = ["p", "div", "pre", "table", "ul", "ol", "dl", "blockquote", "section", "article", "figure", *HEADINGS]
_MIN_LENGTH = 25  # characters: shorter paragraphs (captions, bylines) do not vote
_SIBLING_SHARE = 0.2
_KEEP_PROSE = 0.9  # narrow only to a block holding this share of the root's paragraph text


def focus(root: Tag) -> list[Tag] | None:
    """The elements holding the article, in page order, or None to keep all of `root`."""
    scores: dict[int, float] = {}
    tags: dict[int, Tag] = {}
    prose: list[tuple[Tag, int]] = []
    for paragraph in root.find_all(_paragraph):
        text = paragraph.get_text(" ")
        length = visible_length(paragraph)
        if length < _MIN_LENGTH:
            continue
        prose.append((paragraph, length))
        points = 1 + text.count(",") + text.count("，") + min(length // 100, 3)
        for level, ancestor in enumerate(_ancestors(paragraph, root)):
            scores[id(ancestor)] = scores.get(id(ancestor), 0.0) + points / (1 if level == 0 else 2 if level == 1 else level * 3)
            tags[id(ancestor)] = ancestor
    if not scores:
        return None
    final = {key: score * (1 - density(tags[key])) for key, score in scores.items()}
    best = tags[max(final, key=final.get)]
    if best is root or best.parent is None:
        return None
    threshold = max(10.0, final[id(best)] * _SIBLING_SHARE)
    siblings = [child for child in best.parent.children if getattr(child, "name", None)]
    kept = {id(s) for s in siblings if s is best or final.get(id(s), 0.0) >= threshold or _prose(s)}
    inside = sum(n for p, n in prose if id(p) in kept or any(id(a) in kept for a in p.parents))
    if inside < _KEEP_PROSE * sum(n for _, n in prose):
        return None  # the block would cut paragraphs: the article is spread wider than one block
    return [s for i, s in enumerate(siblings) if id(s) in kept or _heads(s, siblings[i + 1 :], kept)]


def _paragraph(tag: Tag) -> bool:
    """A paragraph, cell or `<pre>`, or a `<div>` holding only inline content (a paragraph in all but name)."""
    if tag.name in _PARAGRAPHS:
        return True
    return tag.name == "div" and tag.find(_BLOCKS) is None


def _ancestors(tag: Tag, root: Tag) -> list[Tag]:
    """Up to five ancestors, stopping at `root` (included)."""
    found = []
    for parent in tag.parents:
        found.append(parent)
        if parent is root or len(found) == 5:
            break
    return found


def _prose(tag: Tag) -> bool:
    """A plain paragraph beside the best element: long with few links, or a short linkless sentence."""
    if tag.name != "p":
        return False
    length, links = visible_length(tag), density(tag)
    text = tag.get_text(" ").strip()
    return (length > 80 and links < 0.25) or (0 < length <= 80 and links == 0 and text.endswith((".", "!", "?", ":")))


def _heads(tag: Tag, after: list[Tag], kept: set[int]) -> bool:
    """A heading (or a run of them) just before a kept element."""
    if tag.name not in HEADINGS:
        return False
    following = next((s for s in after if s.name not in HEADINGS), None)
    return following is not None and id(following) in kept

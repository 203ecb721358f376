"""Answers as text for people: terminal block quotes and chat markdown.

Document text is always escaped so that markup inside a document (HTML, markdown links,
`javascript:` URLs) is shown as the characters it is, never interpreted.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote as quote_url

from ..answer import Answer, Quote, Source
from ..collections import viewed_path
from .viewer import view_url

ASK_DOCUMENT = "#ask-document="  # a quote's "ask this document" link: the chat's page script turns it into the filter
# The chat's sanitizer keeps a class (not data- or aria- attributes): a reply carries its id, and each
# quote's "this answers it" button its reply and position, as class names the page script reads.
REPLY_CLASS, ANSWERS_CLASS, ANSWERS_LABEL = "qb-reply-", "qb-answers-", "This answers it"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:])")


BOLD, PLAIN = "\033[1;33m", "\033[0m"


def to_terminal(answer: Answer, color: bool = False) -> str:
    """Block quotes with the answering sentence marked (bold yellow on a terminal, `**…**` in
    plain output) and a citation a person can follow: title, page, section, file, date."""
    lines = [f"Q: {answer.question}"]
    if answer.searched and answer.searched != answer.question.strip():
        lines.append(f"(searched: {answer.searched})")
    if not answer.answered:
        lines.append(answer.message + (f" (confidence {answer.confidence:.0%})" if answer.outcome == "related" else ""))
    start, end = (BOLD, PLAIN) if color else ("**", "**")
    if answer.outcome == "related":
        start = end = ""  # no sentence is presented as the answer
    for quote in answer.quotes:
        lines.append("")
        lines.extend("> " + line for line in _marked(quote, start, end).splitlines())
        lines.append(f"  — {citation(quote)} ({named(quote)}, {quote.date or 'undated'}, score {quote.score:.2f})")
        for other in quote.also_in:
            lines.append(f"    also in {citation(other)} ({named(other)})")
    return "\n".join(lines) + "\n"


def named(quote: Quote | Source) -> str:
    """The quote's file, after its collection's name when collections are named (`policies: leave.md`)."""
    collection = getattr(quote, "collection", "")
    return f"{collection}: {quote.document}" if collection else quote.document


def citation(quote: Quote | Source) -> str:
    """`Title, p. 12, § 5 Authenticators › 5.1 Memorized Secrets`: the page and section when the
    document has them, else the character position."""
    parts = [quote.title]
    pages = getattr(quote, "pages", None) or ([quote.page] if quote.page else [])
    if pages:
        parts.append(f"p. {pages[0]}" if len(pages) == 1 else f"pp. {pages[0]}–{pages[-1]}")
    if quote.section:
        parts.append(f"§ {quote.section}")
    if len(parts) == 1:
        parts.append(f"chars {quote.start}–{quote.end}")
    return ", ".join(parts)


def _segments(quote: Quote) -> list[tuple[str, bool]]:
    """The quote's text in order, as (piece, highlighted) pairs."""
    pieces, cursor = [], quote.start
    for a, b in sorted(quote.highlights):
        pieces += [(quote.text[cursor - quote.start : a - quote.start], False), (quote.text[a - quote.start : b - quote.start], True)]
        cursor = b
    pieces.append((quote.text[cursor - quote.start :], False))
    return pieces


def _marked(quote: Quote, start: str, end: str) -> str:
    """The quote with its highlighted sentences between `start` and `end`."""
    return "".join(f"{start}{piece}{end}" if lit else piece for piece, lit in _segments(quote))


def escape(text: str) -> str:
    """Plain text safe inside chat markdown: markdown punctuation backslashed, then <, > and & escaped."""
    return html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", text), quote=False)


def to_markdown(answer: Answer, reply: str | None = None) -> str:
    """Quotes as block quotes with the answering sentence highlighted; fixed framing only.

    Related passages (the documents don't answer directly) are framed as such, with the
    confidence, and their quotes carry no highlight: no sentence is presented as the answer.
    `reply`: the id the server keeps this reply under (feedback on): an invisible marker, and a
    "this answers it" button beside each quote's source."""
    marker = f'<span class="{REPLY_CLASS}{reply}"></span>' if reply and answer.valid else ""
    if not answer.valid or not answer.quotes:
        return escape(answer.message) + marker
    related = answer.outcome == "related"
    parts = []
    if related:
        parts.append(f"⚠️ *{escape(answer.message)}* (confidence {answer.confidence:.0%})")
    if answer.searched and answer.searched != answer.question.strip():
        parts.append(f"*Searched for:* {escape(answer.searched)}")
    for position, quote in enumerate(answer.quotes):
        parts.append(f"**{'Related passage, from' if related else 'From'} {escape(quote.title)}:**")
        parts.append(_blockquote(quote, marks=not related))
        parts.append(_source(quote, f"{reply}-{position}" if reply else None))
    return "\n\n".join(parts) + marker


def _blockquote(quote: Quote, marks: bool = True) -> str:
    body = "".join(f"<mark>{escape(piece)}</mark>" if lit and marks else escape(piece) for piece, lit in _segments(quote))
    return "\n".join("> " + line if line.strip() else ">" for line in body.split("\n"))


def _source(quote: Quote, judge: str | None = None) -> str:
    """Inside HTML tags markdown is not parsed, so only HTML escaping applies here. `judge`:
    `<reply id>-<position>`, the quote's "this answers it" button (a real button, its label its text)."""
    link = html.escape(view_url(viewed_path(getattr(quote, "collection", ""), quote.document), quote.start, quote.end))
    where = (f"{html.escape(citation(quote))} · {html.escape(named(quote))} · {html.escape(quote.date or 'undated')} · "
             f'<a href="{link}" target="_blank" rel="noopener">open at the quote</a> · '
             f'<a href="{ASK_DOCUMENT}{html.escape(quote_url(quote.document, safe=""))}">ask this document</a>')
    if judge:
        where += f' · <button type="button" class="qb-answers {ANSWERS_CLASS}{judge}">{ANSWERS_LABEL}</button>'
    extra = "".join(f"<br>also in {html.escape(citation(o))} · {html.escape(named(o))}" for o in quote.also_in)
    return f"<details><summary>{where}</summary>relevance {quote.score:.2f}{extra}</details>"

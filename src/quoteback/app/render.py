"""Answers as text for people: terminal block quotes and chat markdown.

Document text is always escaped so that markup inside a document (HTML, markdown links,
`javascript:` URLs) is shown as the characters it is, never interpreted.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote as quote_url

from ..answer import Answer, Quote, Source
from .viewer import view_url

ASK_DOCUMENT = "#ask-document="  # a quote's "ask this document" link: the chat's page script turns it into the filter
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
        lines.append(f"  — {citation(quote)} ({quote.document}, {quote.date or 'undated'}, score {quote.score:.2f})")
        for other in quote.also_in:
            lines.append(f"    also in {citation(other)} ({other.document})")
    return "\n".join(lines) + "\n"


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


def to_markdown(answer: Answer) -> str:
    """Quotes as block quotes with the answering sentence highlighted; fixed framing only.

    Related passages (the documents don't answer directly) are framed as such, with the
    confidence, and their quotes carry no highlight: no sentence is presented as the answer."""
    if not answer.valid or not answer.quotes:
        return escape(answer.message)
    related = answer.outcome == "related"
    parts = []
    if related:
        parts.append(f"⚠️ *{escape(answer.message)}* (confidence {answer.confidence:.0%})")
    if answer.searched and answer.searched != answer.question.strip():
        parts.append(f"*Searched for:* {escape(answer.searched)}")
    for quote in answer.quotes:
        parts.append(f"**{'Related passage, from' if related else 'From'} {escape(quote.title)}:**")
        parts.append(_blockquote(quote, marks=not related))
        parts.append(_source(quote))
    return "\n\n".join(parts)


def _blockquote(quote: Quote, marks: bool = True) -> str:
    body = "".join(f"<mark>{escape(piece)}</mark>" if lit and marks else escape(piece) for piece, lit in _segments(quote))
    return "\n".join("> " + line if line.strip() else ">" for line in body.split("\n"))


def _source(quote: Quote) -> str:
    """Inside HTML tags markdown is not parsed, so only HTML escaping applies here."""
    link = html.escape(view_url(quote.document, quote.start, quote.end))
    where = (f"{html.escape(citation(quote))} · {html.escape(quote.document)} · {html.escape(quote.date or 'undated')} · "
             f'<a href="{link}" target="_blank" rel="noopener">open at the quote</a> · '
             f'<a href="{ASK_DOCUMENT}{html.escape(quote_url(quote.document, safe=""))}">ask this document</a>')
    extra = "".join(f"<br>also in {html.escape(citation(o))} · {html.escape(o.document)}" for o in quote.also_in)
    return f"<details><summary>{where}</summary>relevance {quote.score:.2f}{extra}</details>"

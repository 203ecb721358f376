"""Answers as text for people: terminal block quotes and chat markdown.

Document text is always escaped so that markup inside a document (HTML, markdown links,
`javascript:` URLs) is shown as the characters it is, never interpreted.
"""

from __future__ import annotations

import html
import re

from .answer import Answer, Quote

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:])")


def to_terminal(answer: Answer) -> str:
    lines = [f"Q: {answer.question}"]
    if answer.searched and answer.searched != answer.question.strip():
        lines.append(f"(searched: {answer.searched})")
    if not answer.answered:
        lines.append(answer.message)
    for quote in answer.quotes:
        lines.append("")
        lines.extend("> " + line for line in quote.text.splitlines())
        lines.append(f"  — {quote.title} ({quote.document}, {quote.date or 'undated'}, {_position(quote)}, score {quote.score:.2f})")
        for other in quote.also_in:
            lines.append(f"    also in {other.title} ({other.document}, chars {other.start}–{other.end})")
    return "\n".join(lines) + "\n"


def escape(text: str) -> str:
    """Plain text safe inside chat markdown: markdown punctuation backslashed, then <, > and & escaped."""
    return html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", text), quote=False)


def to_markdown(answer: Answer) -> str:
    """Quotes as block quotes with the answering sentence highlighted; fixed framing only."""
    if not answer.valid or not answer.answered:
        return escape(answer.message)
    parts = []
    if answer.searched and answer.searched != answer.question.strip():
        parts.append(f"*Searched for:* {escape(answer.searched)}")
    for quote in answer.quotes:
        parts.append(f"**From {escape(quote.title)}:**")
        parts.append(_blockquote(quote))
        parts.append(_source(quote))
    return "\n\n".join(parts)


def _blockquote(quote: Quote) -> str:
    pieces, cursor = [], quote.start
    for a, b in sorted(quote.highlights):
        pieces.append(escape(quote.text[cursor - quote.start : a - quote.start]))
        pieces.append("<mark>" + escape(quote.text[a - quote.start : b - quote.start]) + "</mark>")
        cursor = b
    pieces.append(escape(quote.text[cursor - quote.start :]))
    body = "".join(pieces)
    return "\n".join("> " + line if line.strip() else ">" for line in body.split("\n"))


def _position(quote: Quote) -> str:
    return f"chars {quote.start}–{quote.end}"


def _source(quote: Quote) -> str:
    """Inside HTML tags markdown is not parsed, so only HTML escaping applies here."""
    where = f"{html.escape(quote.document)} · {html.escape(quote.date or 'undated')} · {_position(quote)}"
    extra = "".join(f"<br>also in {html.escape(o.title)} · {html.escape(o.document)} · {_position(o)}" for o in quote.also_in)
    return f"<details><summary>{where}</summary>relevance {quote.score:.2f}{extra}</details>"

"""What the chat's feedback buttons record: each reply's Answer kept on the server under a random
reply id (the page only carries the id), and the judgments a user's clicks turn it into.

The page never sends a quote, a question or an offset the server then trusts: it names a reply id
(and a quote's position in that reply, or a selection the server checks against the document's
text), and the judgment is built from what the server itself answered. The map is bounded: the
oldest replies are forgotten first, and a click on a forgotten one is refused with a clear line.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Mapping

from ..answer import Answer

if TYPE_CHECKING:
    from ..documents.model import Document
    from ..feedback.store import FeedbackStore, Judgment, QuoteRef

MAX_REPLIES = 2000  # replies remembered (an Answer is a few kB: a few MB at most)
MAX_PICK = 4000  # characters of a passage picked in the document view
REPLY_ID = re.compile(r"[0-9a-f]{16}")
FORGOTTEN = "this reply is no longer known to the server (it restarted or many replies came since); ask the question again to judge it"


class FeedbackError(ValueError):
    """A click that cannot be recorded: the one line the user sees, nothing stored."""


@dataclass(frozen=True)
class Reply:
    """A reply as the chat showed it: the Answer and what it was asked with."""

    answer: Answer
    history: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    collection: str = ""


@dataclass(frozen=True)
class Recorded:
    """A stored judgment: its row id, its kind, and the line that tells the user."""

    id: int
    judgment: str
    message: str


class Replies:
    """Reply id → Reply, the latest `limit` of them (thread-safe: replies come from many sessions)."""

    def __init__(self, limit: int = MAX_REPLIES) -> None:
        self.limit = limit
        self._items: OrderedDict[str, Reply] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, answer: Answer, history: tuple[str, ...] | list[str] = (), where: tuple[str, ...] | list[str] = (),
                 collection: str = "") -> str:
        """A new random id for this reply (16 hex characters: unguessable, safe in a class name and a URL)."""
        reply_id = secrets.token_hex(8)
        with self._lock:
            self._items[reply_id] = Reply(answer, tuple(history), tuple(where), collection)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)
        return reply_id

    def get(self, reply_id: str | None) -> Reply | None:
        if not isinstance(reply_id, str) or not REPLY_ID.fullmatch(reply_id):
            return None
        with self._lock:
            return self._items.get(reply_id)

    def __len__(self) -> int:
        return len(self._items)


def clean_comment(comment: str | None) -> str:
    """A comment as stored: plain text, trimmed, at most MAX_COMMENT characters, no control
    characters but line breaks and tabs (refused whole rather than cut: bad input loses nothing)."""
    from ..feedback.store import MAX_COMMENT

    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise FeedbackError(f"a comment is at most {MAX_COMMENT} characters ({len(text)} given); shorten it and send again")
    if any(ord(c) < 32 and c not in "\n\t" or ord(c) == 127 for c in text):
        raise FeedbackError("a comment may not hold control characters")
    return text


def shown(text: str, limit: int = 80) -> str:
    """A question or passage as quoted in a confirmation line: one line, at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class Recorder:
    """Turns the chat's clicks into judgments in the feedback store, the way `quoteback feedback
    add` writes them: 👍 answers (the first quote), 👎 wrong (the first quote, all quotes shown),
    a quote's "this answers it" answers (that quote), "none of the documents answer this" none,
    a passage picked in the document view answers (that span). `documents` and `index_version`
    (of a collection, "" the single corpus) are read at each click: the index a rebuild swaps in is
    the one a picked span is checked against."""

    def __init__(self, store: "FeedbackStore", replies: Replies, documents: Callable[[], Mapping[str, "Document"]],
                 index_version: Callable[[str], str]) -> None:
        self.store = store
        self.replies = replies
        self.documents = documents
        self.index_version = index_version

    def reply(self, reply_id: str | None) -> Reply:
        found = self.replies.get(reply_id)
        if found is None:
            raise FeedbackError(FORGOTTEN)
        return found

    def thumbs(self, reply_id: str, liked: bool, user: str = "", comment: str = "") -> Recorded:
        """👍: the first quote answers (a reply that quoted nothing: rightly, no document answers);
        👎: the quotes shown do not answer."""
        reply = self.reply(reply_id)
        first = self._quotes(reply)[:1]
        if liked:
            kind = "answers" if first else "none"
            message = "Recorded: the first quote answers it" if first else "Recorded: the documents don't answer this"
        else:
            kind, message = "wrong", "Recorded: the quotes shown don't answer it"
        return self._add(reply, kind, first[0] if first and kind != "none" else None, user, comment, message)

    def answers(self, reply_id: str, position: int, user: str = "") -> Recorded:
        """A quote's "this answers it": `position` is the quote's place in the reply (0 = first)."""
        reply = self.reply(reply_id)
        quotes = self._quotes(reply)
        if not isinstance(position, int) or not 0 <= position < len(quotes):
            raise FeedbackError(f"this reply has no quote {position!r}")
        return self._add(reply, "answers", quotes[position], user, "", f"Recorded: quote {position + 1} answers it")

    def none(self, reply_id: str, user: str = "", comment: str = "") -> Recorded:
        return self._add(self.reply(reply_id), "none", None, user, comment, "Recorded: none of the documents answer this")

    def comment(self, reply_id: str, comment: str, user: str = "") -> Recorded:
        """A comment on a reply judged wrong, sent on its own: stored with a `wrong` judgment."""
        if not clean_comment(comment):
            raise FeedbackError("type a comment first")
        reply = self.reply(reply_id)
        first = self._quotes(reply)[:1]
        return self._add(reply, "wrong", first[0] if first else None, user, comment, "Recorded your comment")

    def picked(self, reply_id: str, document: str, start: int, end: int, selected: str, user: str = "") -> Recorded:
        """The passage a user selected in the document view as where the answer is. The selection's
        offsets must give exactly its text (the page maps the selection to offsets; anything that
        does not line up is refused, never stored approximately); edge whitespace is trimmed."""
        from ..feedback.store import quote_ref

        reply = self.reply(reply_id)
        doc = self.documents().get(document) if isinstance(document, str) else None
        if doc is None:
            raise FeedbackError(f"no document {str(document)[:200]!r} in the index (rebuilt since the page was opened?); reload it")
        text = doc.text
        if not (isinstance(start, int) and isinstance(end, int) and isinstance(selected, str) and 0 <= start < end <= len(text)):
            raise FeedbackError("select some of the document's text first")
        if text[start:end] != selected:
            raise FeedbackError(f"the selection does not match the document's text at characters {start}–{end} "
                                "(it crosses a page marker or the document changed); select within the text and try again")
        start += len(selected) - len(selected.lstrip())
        end -= len(selected) - len(selected.rstrip())
        if start >= end:
            raise FeedbackError("the selection is only white space; select the words that answer")
        if end - start > MAX_PICK:
            raise FeedbackError(f"select the passage that answers, at most {MAX_PICK} characters ({end - start} selected)")
        span = quote_ref(document, text, start, end)
        return self._add(reply, "answers", span, user, "", f"Recorded: the answer is “{shown(text[start:end])}” "
                                                             f"({document}, characters {start}–{end})")

    def _quotes(self, reply: Reply) -> list["QuoteRef"]:
        """The reply's quotes as references, each hashed from the text the reply showed."""
        from ..feedback.store import quote_ref

        return [replace(quote_ref(q.document, q.text, 0, len(q.text)), start=q.start, end=q.end)
                for q in reply.answer.quotes if q.end > q.start]

    def _add(self, reply: Reply, kind: str, span: "QuoteRef | None", user: str, comment: str, message: str) -> Recorded:
        from ..feedback.store import Judgment

        answer, comment = reply.answer, clean_comment(comment)
        try:
            item = Judgment(
                question=answer.question.strip(), judgment=kind, span=span, quotes=tuple(self._quotes(reply)), history=reply.history,
                collection=reply.collection, where=reply.where, outcome=answer.outcome, confidence=float(answer.confidence),
                comment=comment, user=user or "", index_version=self.index_version(reply.collection))
        except ValueError as err:
            raise FeedbackError(str(err)) from None
        row = self.store.add(item)
        return Recorded(row, kind, f"{message} (“{shown(answer.question)}”).")

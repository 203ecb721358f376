"""Stage 5a: which passages a question may be answered from (`--where`, `/ask`'s `where`).

A filter is a list of conditions `KEY=VALUE`, `KEY>=VALUE` or `KEY<=VALUE` on what a passage's
document and position say: `doc` (a file name or glob: `3M_2018*`), `type` (pdf, docx, html, md,
txt), `date` (the document's date, ISO: `2023`, `2023-05`, `2023-05-30`), `tag` (one of the
document's tags, from its sidecar `NAME.meta.json`; case does not matter), `section` (the start
of the section path: `5 Authenticators`) and `page` (a PDF page the passage touches). Several
`=` conditions on one key are alternatives (`doc=A* doc=B*`: either file); conditions on
different keys, and ranges, must all hold. Retrieval searches only the passages allowed (so k
of them come back whenever k match), rather than dropping hits after the fact.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from .documents import Document
    from .index import Index
    from .passages import Passage

KEYS = ("doc", "type", "date", "tag", "section", "page")
_CONDITION = re.compile(r"^\s*([A-Za-z]+)\s*(>=|<=|=)\s*(.*?)\s*$", re.S)
_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
_RANGED = ("date", "page")
_OF_DOCUMENT = ("doc", "type", "date", "tag")
_OF_PASSAGE = ("section", "page")
TYPE_ALIASES = frozenset({("htm", "html"), ("html", "htm"), ("markdown", "md")})  # (suffix, type=VALUE it also counts as)


@dataclass(frozen=True)
class Condition:
    key: str
    op: str  # "=", ">=" or "<="
    value: str

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.value}"


def parse_condition(text: str) -> Condition:
    """One `KEY=VALUE` / `KEY>=VALUE` / `KEY<=VALUE`; a ValueError that says what is wrong."""
    match = _CONDITION.match(text if isinstance(text, str) else "")
    if not match:
        raise ValueError(f"filter {text!r} is not KEY=VALUE, KEY>=VALUE or KEY<=VALUE (keys: {', '.join(KEYS)})")
    key, op, value = match.group(1).lower(), match.group(2), match.group(3)
    if key not in KEYS:
        raise ValueError(f"filter {text!r}: unknown key {key!r}; use one of {', '.join(KEYS)}")
    if not value:
        raise ValueError(f"filter {text!r} has no value")
    if op != "=" and key not in _RANGED:
        raise ValueError(f"filter {text!r}: only date and page take >= and <=")
    if key == "date" and not _DATE.match(value):
        raise ValueError(f"filter {text!r}: a date is written YYYY, YYYY-MM or YYYY-MM-DD")
    if key == "page" and not value.isdigit():
        raise ValueError(f"filter {text!r}: a page is a number (1 is the first page)")
    if key == "type":
        value = value.lower().lstrip(".")
    return Condition(key, op, value)


@dataclass(frozen=True)
class Filter:
    """Conditions every passage searched must satisfy; the empty filter allows everything."""

    conditions: tuple[Condition, ...] = ()

    @classmethod
    def parse(cls, texts: Sequence[str] | str | None) -> "Filter":
        if texts is None:
            return cls()
        items = [texts] if isinstance(texts, str) else list(texts)
        return cls(tuple(parse_condition(t) for t in items if not (isinstance(t, str) and not t.strip())))

    def __bool__(self) -> bool:
        return bool(self.conditions)

    def __str__(self) -> str:
        return " ".join(str(c) for c in self.conditions)

    def allows(self, passage: "Passage | None", document: "Document", keys: Sequence[str] = KEYS) -> bool:
        """Every condition on `keys` holds for the passage (several `=` on one key: any of them);
        `passage` may be None when `keys` are document keys only."""
        for conditions in self.by_key(keys).values():
            equal = [c for c in conditions if c.op == "="]
            if equal and not any(_holds(c, passage, document) for c in equal):
                return False
            if not all(_holds(c, passage, document) for c in conditions if c.op != "="):
                return False
        return True

    def by_key(self, keys: Sequence[str] = KEYS) -> dict[str, list[Condition]]:
        """The conditions on `keys`, grouped by key (how `allows` combines them)."""
        out: dict[str, list[Condition]] = {}
        for c in self.conditions:
            if c.key in keys:
                out.setdefault(c.key, []).append(c)
        return out

    def mask(self, index: "Index") -> np.ndarray | None:
        """The passages allowed, as a boolean array by passage id (None: no filter). Document
        conditions are checked once a document; section and page ones only on its passages."""
        if not self.conditions:
            return None
        docs = index.documents
        kept = {path for path, doc in docs.items() if self.allows(None, doc, _OF_DOCUMENT)}
        own = any(c.key not in _OF_DOCUMENT for c in self.conditions)
        return np.fromiter((p.document in kept and (not own or self.allows(p, docs[p.document], _OF_PASSAGE))
                            for p in index.passages), dtype=bool, count=len(index.passages))


def _holds(c: Condition, passage: "Passage | None", document: "Document") -> bool:
    if c.key == "doc":
        path = PurePosixPath(document.path)
        names = (document.path.casefold(), path.name.casefold(), path.stem.casefold())
        return any(fnmatch.fnmatchcase(n, c.value.casefold()) for n in names)
    if c.key == "type":
        suffix = PurePosixPath(document.path).suffix.lower().lstrip(".")
        return suffix == c.value or (suffix, c.value) in TYPE_ALIASES
    if c.key == "tag":
        return any(tag.casefold() == c.value.casefold() for tag in document.tags)
    if c.key == "date":
        if not document.date:
            return False
        date = document.date[: len(c.value)]  # compared at the value's precision: date=2023 is the whole year
        return date == c.value if c.op == "=" else (date >= c.value if c.op == ">=" else date <= c.value)
    assert passage is not None, "section and page conditions are checked on passages"
    if c.key == "section":
        label = document.section_label(passage.start) or ""
        return label.casefold().startswith(c.value.casefold())
    pages = document.pages_of(passage.start, passage.end)
    n = int(c.value)
    return any(p == n if c.op == "=" else (p >= n if c.op == ">=" else p <= n) for p in pages)

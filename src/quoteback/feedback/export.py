"""The judgments as an evaluation set `quoteback eval DIR` reads: a span set.

Each judged span is mapped to the documents of the **current** index: where its text still is at
its offsets it stays; where the document changed, the same text (found by its hash) elsewhere in
the document gives new offsets; otherwise it is stale, listed in stale.jsonl and the summary,
never silently dropped. Questions are grouped by what is searched for them (a follow-up with its
conversation), so judgments of one question from several replies make one test.

The layout (a folder):
- dataset.json     {"kind": "spans", "corpus_dir", "index", "summary", ...}
- queries.jsonl    {"_id", "text", "question", "history", "where", "spans": [{"document", "start",
                   "end", "gain", "judgments", "passages"}]}; gain 1: answers, 0: judged wrong
- queries-unanswerable.jsonl   `none` judgments (no passage given): the documents don't answer them
- stale.jsonl      the spans that could not be found again, with their judgment and reason
"""

from __future__ import annotations

import bisect
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from ..index.backends import open_backend
from ..question import search_query
from .records import index_version, scoped
from .store import FeedbackStore, QuoteRef, StoredJudgment, now, text_hash

if TYPE_CHECKING:
    from ..index import Index
    from ..settings import Settings

NAME = "feedback"
GONE = "the document is no longer indexed"
CHANGED = "its text is no longer in the document"
UNINDEXED = "no passage of the index holds it"


@dataclass(frozen=True)
class StaleSpan:
    """A judged span the current documents no longer hold."""

    judgment_id: int
    question: str
    judgment: str
    document: str
    start: int
    end: int
    sha256: str
    reason: str


@dataclass
class ExportSummary:
    folder: Path
    judgments: int = 0  # judgments of this collection read
    questions: int = 0  # questions with a span that answers them
    unanswerable: int = 0  # questions no document answers (a `none` judgment, no passage given)
    wrong_only: int = 0  # questions judged wrong with no answer shown: searched, their judged-wrong spans checked
    untestable: int = 0  # questions judged wrong with no passage at all (a declined reply): nothing to test yet
    spans: int = 0  # spans found in the current documents
    moved: int = 0  # ... of them at new offsets (the document changed around them)
    stale: list[StaleSpan] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # judged both answered (a span) and unanswerable: the span wins
    other_collections: int = 0  # judgments asked in other collections (export them with their collection)
    index_version: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["folder"] = str(self.folder)
        data["stale"] = len(self.stale)
        return data

    def describe(self) -> str:
        """Two or three lines for a person."""
        lines = [f"{self.questions} answerable questions ({self.spans} spans, {self.moved} moved), "
                 f"{self.unanswerable} unanswerable, {self.wrong_only} judged wrong only; from {self.judgments} judgments"]
        if self.untestable:
            lines.append(f"{self.untestable} questions judged wrong without a passage: nothing to test until one is picked")
        if self.stale:
            lines.append(f"stale: {len(self.stale)} spans no longer in the documents (listed in {self.folder / 'stale.jsonl'})")
        if self.conflicts:
            lines.append(f"judged both answered and unanswerable ({len(self.conflicts)}; the answering span counts): "
                         + "; ".join(repr(q) for q in self.conflicts[:5]))
        if self.other_collections:
            lines.append(f"{self.other_collections} judgments of other collections left out (export with --collection NAME)")
        return "\n".join(lines)


def locate(ref: QuoteRef, text: str | None) -> tuple[int, int] | None:
    """Where the span's text is in the document's current `text`: its own offsets when unchanged,
    else the occurrence of the same text (same hash) nearest them; None when it is nowhere."""
    if text is None:
        return None
    length = ref.end - ref.start
    if text_hash(text[ref.start : ref.end]) == ref.sha256:
        return ref.start, ref.end
    found = [i for i in range(len(text) - length + 1) if text_hash(text[i : i + length]) == ref.sha256]
    if not found:
        return None
    best = min(found, key=lambda i: (abs(i - ref.start), i))
    return best, best + length


class Passages:
    """The current index's passages by document, to tell which overlap a span."""

    def __init__(self, index: "Index") -> None:
        self._by_doc: dict[str, list[tuple[int, int]]] = {}
        for p in index.passages:
            self._by_doc.setdefault(p.document, []).append((p.start, p.end))
        for spans in self._by_doc.values():
            spans.sort()

    def overlapping(self, document: str, start: int, end: int) -> list[int]:
        """The start offsets of the passages of `document` that share a character with start:end."""
        spans = self._by_doc.get(document, [])
        first = max(bisect.bisect_left(spans, (start, start)) - 1, 0)
        out = []
        for a, b in spans[first:]:
            if a >= end:
                break
            if b > start:
                out.append(a)
        return out


def query_text(j: StoredJudgment) -> str:
    """What is searched for the judged question (a follow-up: with its conversation)."""
    return " ".join(search_query(j.question, j.history).split())


def export_set(settings: "Settings", store: FeedbackStore, folder: Path, collection: str = "") -> ExportSummary:
    """Write the judgments of `collection` as a span set in `folder`, mapped to the current index
    of that collection (loaded with `settings`); returns what was written and what is stale."""
    local = scoped(settings, collection)
    index = open_backend(local).load()
    judgments = store.list()
    mine = [j for j in judgments if j.collection == collection]
    summary = ExportSummary(Path(folder), judgments=len(mine), other_collections=len(judgments) - len(mine),
                            index_version=index_version(local))
    passages = Passages(index)
    groups: dict[str, list[StoredJudgment]] = {}
    for j in mine:
        groups.setdefault(query_text(j), []).append(j)
    answerable, unanswerable = [], []
    for text, group in groups.items():
        spans = _spans(group, index, passages, summary)
        first = group[0]
        row = {"_id": f"fb-{first.id}", "text": text, "question": first.question, "history": list(first.history),
               "where": list(first.where)}
        if any(j.judgment == "none" for j in group) and not any(s["gain"] > 0 for s in spans):
            unanswerable.append(row)
            continue
        if not spans:
            summary.untestable += not any(j.span for j in group)  # all stale: already listed
            continue
        answerable.append({**row, "spans": spans})
        summary.spans += len(spans)
        summary.moved += sum(s["moved"] for s in spans)
        if not any(s["gain"] > 0 for s in spans):
            summary.wrong_only += 1
        elif any(j.judgment == "none" for j in group):
            summary.conflicts.append(first.question)
    summary.questions = len(answerable) - summary.wrong_only
    summary.unanswerable = len(unanswerable)
    meta = {"name": NAME, "kind": "spans", "corpus_dir": str(Path(local.corpus).resolve()),
            "index": str(Path(local.index).resolve()), "collection": collection, "exported_at": now(),
            "summary": summary.to_json()}
    _write(Path(folder), {"dataset.json": [meta], "queries.jsonl": answerable, "queries-unanswerable.jsonl": unanswerable,
                          "stale.jsonl": [asdict(s) for s in summary.stale]})
    return summary


def _spans(group: list[StoredJudgment], index: "Index", passages: Passages, summary: ExportSummary) -> list[dict[str, Any]]:
    """The group's judged spans mapped to the current documents (answers: gain 1, wrong: gain 0;
    a span judged both ways counts as answering); stale ones go to the summary."""
    found: dict[tuple[str, int, int], dict[str, Any]] = {}
    for j in group:
        if j.span is None or j.judgment == "none":
            continue
        doc = index.documents.get(j.span.document)
        where = locate(j.span, doc.text if doc else None)
        units = passages.overlapping(j.span.document, *where) if where else []
        if not units:
            reason = GONE if doc is None else CHANGED if where is None else UNINDEXED
            summary.stale.append(StaleSpan(j.id, j.question, j.judgment, j.span.document, j.span.start, j.span.end,
                                           j.span.sha256, reason))
            continue
        key = (j.span.document, *where)
        if key not in found:
            found[key] = {"document": key[0], "start": key[1], "end": key[2], "gain": 0, "judgments": [], "passages": units,
                          "moved": where != (j.span.start, j.span.end)}
        found[key]["judgments"].append(j.id)
        found[key]["gain"] = max(found[key]["gain"], int(j.judgment == "answers"))
    return list(found.values())


def _write(folder: Path, files: dict[str, Iterable[dict[str, Any]]]) -> None:
    """Each file whole, then renamed into place: a reader never sees half a set."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as out:
            if name.endswith(".json"):
                out.write(json.dumps(next(iter(rows)), indent=2, ensure_ascii=False) + "\n")
            else:
                out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        os.replace(tmp, folder / name)

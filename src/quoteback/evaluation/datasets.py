"""Evaluation sets in the BEIR layout, materialised as a corpus folder the normal pipeline indexes.

The corpus is written once per content hash under the user's cache folder (never inside the
dataset folder, which may be read-only), so `quoteback eval` runs the exact pipeline the chat
uses, and a second run reuses both the files and the index.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

from ..settings import cache_root


def eval_root() -> Path | None:
    """The development sets' folder when a checkout sits beside them (`../shared/eval`)."""
    for base in (Path.cwd() / "../shared/eval", Path(__file__).resolve().parents[4] / "../shared/eval"):
        if base.is_dir():
            return base.resolve()
    return None


@dataclass
class Dataset:
    name: str
    folder: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]  # query id -> {document id: gain}
    unanswerable: dict[str, str] = field(default_factory=dict)
    expect: dict[str, str | list[str]] = field(default_factory=dict)  # query id -> phrase(s) (passage-level sets)
    corpus_dir: Path | None = None  # set for sets that point at a folder of real documents
    kinds: dict[str, str] = field(default_factory=dict)  # unanswerable query id -> "on-topic" | "off-topic" when given
    evidence: dict[str, tuple[str, list[int]]] = field(default_factory=dict)  # page sets: query id -> (document stem, 1-based pages)
    spans: dict[str, list[dict]] = field(default_factory=dict)  # span sets: query id -> [{document, start, end, gain}]
    where: dict[str, list[str]] = field(default_factory=dict)  # span sets: query id -> the --where conditions it was asked with
    index_dir: Path | None = None  # span sets: the index the spans were mapped to (evaluated there when it exists)


def _jsonl(path: Path, keys: tuple[str, ...] = ("_id", "text")) -> list[dict]:
    """One JSON object per line, each with `keys`; a bad line is named in a ValueError."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as rows:
        for n, line in enumerate(rows, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path} line {n} is not JSON ({err.msg}); each line is one object such as "
                                 '{"_id": "q1", "text": "the question"}') from None
            missing = [k for k in keys if not isinstance(row, dict) or k not in row]
            if missing:
                raise ValueError(f"{path} line {n} has no {' or '.join(repr(k) for k in missing)}")
            out.append(row)
    return out


def load_dataset(folder: Path, split: str = "test") -> Dataset:
    """A BEIR folder's queries judged in `qrels/<split>.tsv` (BEIR downloads carry test, dev and
    train judgments side by side), a phrase set (`dataset.json` naming a corpus folder), or a
    page set (a `corpus/` folder of real files; each query names its `doc` and evidence `pages`)."""
    folder = Path(folder)
    if not (folder / "queries.jsonl").is_file():
        raise FileNotFoundError(f"{folder} is not an evaluation set: queries.jsonl is missing")
    rows = _jsonl(folder / "queries.jsonl")
    queries = {str(r["_id"]): r["text"] for r in rows}
    unanswerable, kinds = {}, {}
    if (folder / "queries-unanswerable.jsonl").is_file():
        extra = _jsonl(folder / "queries-unanswerable.jsonl")
        unanswerable = {str(r["_id"]): r["text"] for r in extra}
        kinds = {str(r["_id"]): r["kind"] for r in extra if r.get("kind")}
    meta = json.loads((folder / "dataset.json").read_text()) if (folder / "dataset.json").is_file() else {}
    if meta.get("kind") == "spans":
        return _span_set(folder, meta, rows, unanswerable, split)
    if "corpus_dir" in meta:
        if split != "test":  # a phrase set has no judgment files: a split would be silently ignored
            raise ValueError(f"{meta.get('name', folder.name)} judges answers by phrase and has no splits; "
                             "--split applies to BEIR folders with qrels/<split>.tsv")
        expect = {str(r["_id"]): r["expect"] for r in rows}
        return Dataset(meta.get("name", folder.name), folder, queries, {}, unanswerable, expect, (folder / meta["corpus_dir"]).resolve(), kinds)
    if rows and all("doc" in r and "pages" in r for r in rows) and (folder / "corpus").is_dir():
        if split != "test":
            raise ValueError(f"{folder.name} judges answers by evidence page and has no splits")
        evidence = {str(r["_id"]): (str(r["doc"]), [int(p) for p in r["pages"]]) for r in rows}
        return Dataset(folder.name, folder, queries, {}, unanswerable, corpus_dir=(folder / "corpus").resolve(), kinds=kinds, evidence=evidence)
    qrels_file = folder / "qrels" / f"{split}.tsv"
    if not qrels_file.is_file():
        found = sorted(p.stem for p in (folder / "qrels").glob("*.tsv")) if (folder / "qrels").is_dir() else []
        raise FileNotFoundError(f"{folder} has no qrels/{split}.tsv; "
                                + (f"its splits: {', '.join(found)} (choose one with --split)" if found else "it has no qrels folder"))
    qrels: dict[str, dict[str, int]] = {}
    with open(qrels_file, encoding="utf-8") as lines:
        for i, line in enumerate(lines):
            parts = line.rstrip("\n").split("\t")
            if i == 0 and not parts[-1].lstrip("-").isdigit():
                continue  # header
            if len(parts) >= 3 and int(parts[-1]) > 0:
                qrels.setdefault(parts[0], {})[parts[1]] = int(parts[-1])
    return Dataset(folder.name, folder, queries, qrels, unanswerable, kinds=kinds)


def _span_set(folder: Path, meta: dict, rows: list[dict], unanswerable: dict[str, str], split: str) -> Dataset:
    """A span set (`quoteback feedback export`): each question's judged spans of real documents;
    a passage retrieved counts as right when it overlaps a span of gain > 0 of its document."""
    if split != "test":
        raise ValueError(f"{meta.get('name', folder.name)} judges answers by span and has no splits")
    spans = {str(r["_id"]): [dict(s, gain=int(s.get("gain", 1))) for s in r.get("spans", [])] for r in rows}
    bad = [q for q, found in spans.items() if any(not {"document", "start", "end"} <= set(s) for s in found)]
    if bad:
        raise ValueError(f"{folder / 'queries.jsonl'}: spans of {', '.join(bad[:3])} lack document, start or end")
    extra = _jsonl(folder / "queries-unanswerable.jsonl") if unanswerable else []
    where = {str(r["_id"]): list(r["where"]) for r in rows + extra if r.get("where")}
    index = Path(meta["index"]) if meta.get("index") else None
    return Dataset(meta.get("name", folder.name), folder, {str(r["_id"]): r["text"] for r in rows}, {}, unanswerable,
                   corpus_dir=(folder / meta["corpus_dir"]).resolve(), spans=spans, where=where,
                   index_dir=index if index is not None and index.is_dir() else None)


def doc_file(doc_id: str) -> str:
    return quote(doc_id, safe="") + ".md"


def doc_id(path: str) -> str:
    return unquote(path.removesuffix(".md"))


def materialise(dataset: Dataset) -> Path:
    """The dataset's corpus as one markdown file per document (front matter title), cached by content hash."""
    if dataset.corpus_dir is not None:
        return dataset.corpus_dir
    source = dataset.folder / "corpus.jsonl"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    target = cache_root() / "eval" / f"{dataset.name}-{digest}" / "corpus"
    if target.is_dir():
        return target
    tmp = target.with_name(f"corpus.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for row in _jsonl(source):
        title = " ".join(str(row.get("title") or "").split())
        head = f"---\ntitle: {title}\n---\n" if title else ""
        (tmp / doc_file(str(row["_id"]))).write_text(head + row["text"], encoding="utf-8")
    os.replace(tmp, target)
    return target


def index_folder(corpus: Path, fingerprint: dict) -> Path:
    key = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:12]
    if corpus.is_relative_to(cache_root()):
        return corpus.parent / f"index-{key}"
    return cache_root() / "eval" / f"{corpus.name}-{hashlib.sha256(str(corpus).encode()).hexdigest()[:8]}" / f"index-{key}"

"""Training lists for the reader, from public question -> passage data only (SQuAD v1.1 train,
and further sets in the same row layout: see README, "The reader").

Each source document becomes one file of a corpus folder and goes through quoteback's own
pipeline (passages, embeddings, index), so the reader learns on passages cut and titled the way
it will read them. For each question, quoteback's own retriever ranks the passages; the passage
holding the answer is the positive and the best-ranked passages holding none of its answers are
the negatives (many from the same document: they share the question's words but not its answer).
Documents are split by a fixed seed into training and held-out ones; the held-out questions keep
their retrieval features, which is what the reader's weight in the ranking is fitted on (never
a development set).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

SQUAD_TRAIN = "squad-v1.1-train.json.gz"
HELD_OUT = 0.05  # share of each source's documents whose questions fit the ranking weight and measure the reader
DEPTH = 30  # passages retrieved per question: negatives and re-ranking candidates come from these


@dataclass
class Example:
    """One question: its positive passage, mined negatives and (held-out questions) the
    retriever's top candidates with their features."""

    qid: str
    question: str
    positive: int  # passage id in the training index
    negatives: list[int]
    held_out: bool = False
    candidates: list[list[float]] = field(default_factory=list)  # [passage id, fused, dense, lexical, sentence, coverage, relevant]


def squad_rows(path: Path) -> list[dict]:
    """SQuAD v1.1 train as rows of the common layout (see `read_rows`)."""
    with gzip.open(path, "rt", encoding="utf-8") as rows:
        articles = json.load(rows)["data"]
    return [{"question": qa["question"], "context": paragraph["context"], "title": article["title"].replace("_", " "),
             "answers": qa["answers"], "doc": f"squad:{article['title']}"}
            for article in articles for paragraph in article["paragraphs"] for qa in paragraph["qas"]]


def read_rows(path: Path) -> list[dict]:
    """Rows of the common layout: {"question", "context", "title", "answers": [verbatim in context], "doc"}."""
    if path.name.startswith("squad-v1.1-train"):
        return squad_rows(path)
    with gzip.open(path, "rt", encoding="utf-8") as rows:
        return [json.loads(line) for line in rows]


def file_name(doc: str) -> str:
    return re.sub(r"[^\w\-]+", "_", doc)[:80] + "-" + hashlib.sha256(doc.encode()).hexdigest()[:8] + ".txt"


def write_corpus(rows: list[dict], folder: Path) -> dict[tuple[str, str], int]:
    """One .txt file per document (front matter title; its contexts, in order of first use,
    apart by a blank line); returns where each (document, context) starts in its file's text."""
    folder.mkdir(parents=True, exist_ok=True)
    contexts: dict[str, dict[str, None]] = {}
    titles: dict[str, str] = {}
    for row in rows:
        contexts.setdefault(row["doc"], {})[row["context"]] = None
        titles.setdefault(row["doc"], " ".join((row.get("title") or "").split()))
    offsets: dict[tuple[str, str], int] = {}
    for doc, texts in contexts.items():
        text = f"---\ntitle: {titles[doc]}\n---\n" if titles[doc] else ""
        for context in texts:
            offsets[(doc, context)] = len(text)
            text += context.strip("\n") + "\n\n"
        (folder / file_name(doc)).write_text(text, encoding="utf-8")
    return offsets


def split_documents(rows: list[dict], seed: int, held_out: float) -> tuple[list[dict], list[dict]]:
    """(training rows, held-out rows): a fixed share of each source's documents is held out."""
    docs = sorted({r["doc"] for r in rows})
    random.Random(seed).shuffle(docs)
    held = set(docs[: max(1, round(held_out * len(docs)))])
    return [r for r in rows if r["doc"] not in held], [r for r in rows if r["doc"] in held]


def questions(rows: list[dict], offsets: dict[tuple[str, str], int], seed: int) -> list[tuple[str, str, str, int, list[str], int]]:
    """(qid, question, file, answer offset, answers, end of a topical context or -1) of the rows
    with an answer span, or marked `topical` (relevant without a span: a heading and its section,
    a title and its abstract; every passage of the context counts, the first is the positive),
    in a fixed shuffled order."""
    out = []
    for n, row in enumerate(rows):
        answers = [a for a in row["answers"] if a.strip()]
        start = offsets[(row["doc"], row["context"])]
        if row.get("topical"):
            out.append((f"{row['doc']}#{n}", row["question"], file_name(row["doc"]), start, [], start + len(row["context"].strip("\n"))))
            continue
        at = row["context"].find(answers[0]) if answers else -1
        if at >= 0:
            out.append((f"{row['doc']}#{n}", row["question"], file_name(row["doc"]), start + at, answers, -1))
    random.Random(seed).shuffle(out)
    return out


def write_examples(examples: list[Example], path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as out:
        for example in examples:
            out.write(json.dumps(asdict(example)) + "\n")
    tmp.replace(path)


def read_examples(path: Path) -> list[Example]:
    with gzip.open(path, "rt", encoding="utf-8") as rows:
        return [Example(**json.loads(line)) for line in rows]

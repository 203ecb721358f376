"""Mine the reader's training lists with quoteback's own pipeline (see data.py for why).

    python -m quoteback.training.mine [--source FILE ...] [--questions 20000]

writes, under the run folder: the corpus, its index, `passages.jsonl.gz` (what the reader reads
of each passage: title and section path, then the text) and `examples.jsonl.gz`.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import json
import random
import time
from dataclasses import replace
from pathlib import Path

from ..build import IndexBuilder
from ..embeddings import Embedder
from ..fusion import Fusion
from ..index.backends import open_backend
from ..passages import embedding_text
from ..retrieval import Retriever
from ..settings import Settings, cache_root, offline_environment
from .data import (DEPTH, HELD_OUT, SQUAD_TRAIN, Example, file_name, questions, read_rows, split_documents, write_corpus,
                   write_examples)

NEGATIVES = 7  # per question; the trainer samples from them
# Sources whose questions do not say which document they ask about ("Do you share my information
# with others?" of one of 40 privacy policies): another document's passage may answer as well,
# so negatives and held-out candidates come from the question's own document only.
WITHIN_DOCUMENT = ("policyqa",)


EXTRA = ("tatqa-devtest.jsonl.gz", "policyqa-devtest.jsonl.gz", "covidqa.jsonl.gz",  # in training-data/ (see its README)
         "pubmedqa-pqal.jsonl.gz", "headings-rustbook.jsonl.gz", "headings-prometheus.jsonl.gz")  # topical: no answer span


def default_sources() -> list[Path]:
    """SQuAD v1.1 train beside the checkout, and the sets the repository carries in training-data/."""
    root = Path(__file__).resolve().parents[3]
    return [root / ".." / "shared" / "training" / SQUAD_TRAIN] + [root / "training-data" / name for name in EXTRA]


def default_run() -> Path:
    return cache_root() / "training" / "reader"


def mine(sources: list[Path], run: Path, limit: int, held_out_limit: int, seed: int) -> None:
    """Mine at most `limit` training questions of each source (and `held_out_limit` held-out ones in all)."""
    rows = {path.name: read_rows(path) for path in sources}
    offsets = write_corpus([r for part in rows.values() for r in part], run / "corpus")
    settings = Settings().replace(corpus=run / "corpus", index=run / "index")
    embedder = Embedder.from_settings(settings)
    print(IndexBuilder(settings, embedder).build(progress=_progress).summary(), flush=True)
    index = open_backend(settings).load()
    retriever = Retriever(index, embedder, Fusion.from_settings(settings))
    # a source document without a title is read without one (not with the title made from its file name)
    untitled = {file_name(r["doc"]) for part in rows.values() for r in part if not r.get("title")}
    texts = [embedding_text(p, replace(index.documents[p.document], title="") if p.document in untitled else index.documents[p.document], True)
             for p in index.passages]
    with gzip.open(run / "passages.jsonl.gz", "wt", encoding="utf-8") as out:
        for text in texts:
            out.write(json.dumps(text) + "\n")
    starts: dict[str, list[tuple[int, int]]] = {}
    for i, p in enumerate(index.passages):
        starts.setdefault(p.document, []).append((p.start, i))
    train, held = [], []
    for name, part in rows.items():
        fit, kept = split_documents(part, seed, HELD_OUT)
        usable = questions(fit, offsets, seed)
        within = name.startswith(WITHIN_DOCUMENT)
        train += [(q, within) for q in usable[:limit]]
        held += [(q, within) for q in questions(kept, offsets, seed)]
        print(f"{name}: {len(part)} rows, {len(usable)} training questions (an answer span or topical), {min(limit, len(usable))} mined", flush=True)
    random.Random(seed).shuffle(held)
    examples: list[Example] = []
    for part, is_held in ((train, False), (held[:held_out_limit], True)):
        vectors = embedder.encode([r[0][1] for r in part])
        began = time.monotonic()
        for n, (((qid, question, name, at, answers, end), within), vector) in enumerate(zip(part, vectors)):
            spans = starts[name]
            positive = spans[max(0, bisect.bisect_right(spans, (at, 1 << 62)) - 1)][1]
            hits = retriever.search(question, DEPTH, vector=vector)
            if within:
                hits = [h for h in hits if index.passages[h.passage_id].document == name]
            wanted = [a.lower() for a in answers]

            def relevant(pid: int) -> bool:
                p = index.passages[pid]
                if pid == positive or p.document != name:
                    return pid == positive
                return at <= p.start < end if end >= 0 else any(a in p.text.lower() for a in wanted)

            negatives = [h.passage_id for h in hits if not relevant(h.passage_id)][:NEGATIVES]
            example = Example(qid, question, positive, negatives, is_held)
            if is_held:
                example.candidates = [[h.passage_id, h.score, h.dense, h.lexical, h.sentence, h.coverage, float(relevant(h.passage_id))]
                                      for h in hits]
            examples.append(example)
            if n % 2000 == 0:
                print(f"mined {'held-out' if is_held else 'training'} {n}/{len(part)} ({time.monotonic() - began:.0f} s)", flush=True)
    write_examples(examples, run / "examples.jsonl.gz")
    print(f"{len(examples)} questions, {len(texts)} passages -> {run}", flush=True)


def _progress(stage: str, done: int, total: int) -> None:
    if total and (done % 2000 == 0 or done == total):
        print(f"{stage} {done}/{total}", flush=True)


def main() -> None:
    offline_environment()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, action="append", help="SQuAD v1.1 train (.json.gz) or a rows file "
                        "(.jsonl.gz: question, context, title, answers, doc); repeatable (default: SQuAD v1.1 train and training-data/)")
    parser.add_argument("--run", type=Path, default=default_run(), help="the run folder")
    parser.add_argument("--questions", type=int, default=20000, help="training questions to mine, at most, of each source")
    parser.add_argument("--held-out", type=int, default=2000, help="held-out questions to mine")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    mine(args.source or default_sources(), args.run, args.questions, args.held_out, args.seed)


if __name__ == "__main__":
    main()

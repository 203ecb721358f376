"""Fit the reader's weight in the ranking on held-out training questions, never a development set.

    python -m quoteback.training.combine [--run DIR] [--reader FILE] [--questions 600]

The held-out SQuAD train articles' questions (see data.py) keep the retriever's top candidates
with their fused scores; the reader reads the best `--depth` of them, and the weight w of
`fused + w * logit` that ranks the answering passage best is chosen on a grid: the mean
reciprocal rank, each source weighing the same (SQuAD's many questions must not decide alone
for the filings and policies). Prints the held-out Success@1 and MRR of the retriever, the
reader alone and the two combined, in all and per source.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import numpy as np

from ..reader import READER_FILE, Reader, ReaderConfig
from ..settings import offline_environment
from .data import read_examples
from .mine import default_run

GRID = tuple(round(x, 3) for x in np.concatenate([np.arange(0, 0.1, 0.005), np.arange(0.1, 0.5, 0.02), np.arange(0.5, 2.01, 0.1)]))


def ranks(scores: list[np.ndarray], relevant: list[np.ndarray]) -> np.ndarray:
    """1-based rank of the first relevant candidate per question (inf when none is relevant)."""
    out = []
    for s, r in zip(scores, relevant):
        order = np.argsort(-s, kind="stable")
        hit = np.flatnonzero(r[order])
        out.append(hit[0] + 1 if len(hit) else np.inf)
    return np.array(out, dtype=float)


def summary(rank: np.ndarray) -> dict[str, float]:
    return {"Success@1": round(float((rank == 1).mean()), 4), "MRR": round(float((1 / rank).mean()), 4)}


def source(qid: str) -> str:
    return qid.split(":", 1)[0]


def combine(run: Path, reader_file: Path, questions: int, depth: int) -> dict:
    """`questions`: at most this many held-out questions of each source."""
    examples, taken = [], {}
    for e in read_examples(run / "examples.jsonl.gz"):
        if e.held_out and e.candidates and taken.get(source(e.qid), 0) < questions:
            taken[source(e.qid)] = taken.get(source(e.qid), 0) + 1
            examples.append(e)
    with gzip.open(run / "passages.jsonl.gz", "rt", encoding="utf-8") as rows:
        passages = [json.loads(line) for line in rows]
    reader = Reader(ReaderConfig(path=reader_file))
    fused, logits, relevant = [], [], []
    for e in examples:
        top = np.array(e.candidates[:depth], dtype=float)
        fused.append(top[:, 1])
        relevant.append(top[:, 6] > 0)
        logits.append(reader.score(e.question, [passages[int(i)] for i in top[:, 0]]))
    groups = {name: np.array([source(e.qid) == name for e in examples]) for name in taken}

    def balanced_mrr(w: float) -> float:
        rank = ranks([f + w * x for f, x in zip(fused, logits)], relevant)
        return float(np.mean([(1 / rank[mask]).mean() for mask in groups.values()]))

    curve = {w: round(balanced_mrr(w), 5) for w in GRID}
    best = max(curve, key=lambda w: (curve[w], -w))
    per_source = {}
    for name, mask in groups.items():
        pick = [i for i in np.flatnonzero(mask)]
        per_source[name] = {"questions": len(pick),
                            "retriever": summary(ranks([fused[i] for i in pick], [relevant[i] for i in pick])),
                            "reader_alone": summary(ranks([logits[i] for i in pick], [relevant[i] for i in pick])),
                            "combined": summary(ranks([fused[i] + best * logits[i] for i in pick], [relevant[i] for i in pick]))}
    flat_rel = np.concatenate(relevant)
    flat_logit = np.concatenate(logits)
    result = {
        "questions": len(examples), "depth": depth,
        "retriever": summary(ranks(fused, relevant)),
        "reader_alone": summary(ranks(logits, relevant)),
        "combined": summary(ranks([f + best * x for f, x in zip(fused, logits)], relevant)),
        "reader_weight": best,
        "reader_auc": round(_auc(flat_logit[flat_rel], flat_logit[~flat_rel]), 4),
        "per_source": per_source,
        "curve": curve,
    }
    (run / "combine.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


def _auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability a relevant candidate scores above an irrelevant one (ties count half)."""
    both = np.concatenate([positive, negative])
    order = both.argsort(kind="stable")
    rank = np.empty(len(both))
    rank[order] = np.arange(1, len(both) + 1)
    for value in np.unique(both):  # average ranks of ties
        same = both == value
        rank[same] = rank[same].mean()
    return float((rank[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2) / max(1, len(positive) * len(negative)))


def main() -> None:
    offline_environment()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, default=default_run())
    parser.add_argument("--reader", type=Path, default=READER_FILE, help="the int8 ONNX reader to measure")
    parser.add_argument("--questions", type=int, default=200, help="held-out questions of each source, at most")
    parser.add_argument("--depth", type=int, default=20)
    args = parser.parse_args()
    result = combine(args.run, args.reader, args.questions, args.depth)
    print(json.dumps({k: v for k, v in result.items() if k != "curve"}, indent=1))


if __name__ == "__main__":
    main()

"""txtai measured on the same passages, questions and model folder as quoteback (optional extra)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..embeddings import Embedder, resolve_model


def compare_txtai(texts: list[str], asked: list[str], embedder: Embedder, own: dict) -> dict:
    """Index time, warm query latency and Cranfield dev nDCG@10, with ratios quoteback / txtai."""
    try:
        from txtai import Embeddings
    except ImportError:
        return {"skipped": "txtai is not installed (pip install -e '.[peer]')"}
    model = resolve_model(embedder.name)
    config = {"path": model, "backend": "faiss", "content": False, "normalize": True}
    peer = Embeddings(**config)
    started = time.perf_counter()
    peer.index([(i, t, None) for i, t in enumerate(texts)])
    index_s = time.perf_counter() - started
    for q in asked[:10]:
        peer.search(q, 3)
    times = []
    for q in asked:
        t = time.perf_counter()
        peer.search(q, 3)
        times.append((time.perf_counter() - t) * 1000)
    result = {
        "library": f"txtai {_version('txtai')} (faiss backend, same model folder)",
        "index_s": round(index_s, 2),
        "query_ms_p50": round(float(np.median(times)), 2),
        "index_time_ratio": round(own["index_s"] / index_s, 3),
        "query_p50_ratio": round(own["query_ms_p50"] / float(np.median(times)), 3),
        "note": "txtai returns ids and scores; quoteback's time includes BM25, fusion, sentence re-scoring and highlights",
    }
    cranfield = _cranfield()
    if cranfield:
        result["cranfield_dev_ndcg10"] = _txtai_ndcg(Embeddings, config, cranfield)
        result["quoteback_cranfield_dev_ndcg10"] = own.get("cranfield_dev_ndcg10")
    return result


def _cranfield() -> Path | None:
    from ..evaluation.datasets import eval_root

    root = eval_root()
    return root / "cranfield-dev" if root and (root / "cranfield-dev").is_dir() else None


def _txtai_ndcg(Embeddings, config: dict, folder: Path) -> float:
    import ir_measures

    from ..evaluation.datasets import _jsonl, load_dataset

    data = load_dataset(folder)
    rows = _jsonl(folder / "corpus.jsonl")
    peer = Embeddings(**config)
    peer.index([(r["_id"], f"{r.get('title', '')}\n{r['text']}", None) for r in rows])
    run = {}
    for qid, text in data.queries.items():
        if qid in data.qrels:
            run[qid] = {str(i): float(s) for i, s in peer.search(text, 100)}
    value = ir_measures.calc_aggregate([ir_measures.parse_measure("nDCG@10")], data.qrels, run)
    return round(float(next(iter(value.values()))), 4)


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)

"""`quoteback bench`: indexing speed against the model's raw speed, query latency by corpus size,
incremental rebuilds, cold start and memory; optionally txtai measured side by side."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..build import IndexBuilder
from ..evaluation.datasets import _jsonl, eval_root
from ..embeddings import Embedder
from ..fusion import Fusion
from ..passages import embedding_text
from ..reader import Reader
from ..retrieval import Retriever
from ..passages import Chunker
from ..documents import load_document
from ..settings import Settings

SIZES = {"quick": [10_000, 100_000], "full": [10_000, 100_000, 1_000_000]}
SEED_DIR = Path(__file__).resolve().parents[3] / "corpus"


def real_documents(limit: int) -> list[tuple[str, str]]:
    """(title, text) of real paragraphs and abstracts: the evaluation corpora when present, else the seed."""
    docs: list[tuple[str, str]] = []
    root = eval_root()
    if root:
        for name in ("squad1-dev", "scifact-train", "cranfield-dev"):
            path = root / name / "corpus.jsonl"
            if path.is_file():
                docs += [(r.get("title") or "", r["text"]) for r in _jsonl(path)]
    if not docs:
        seed = load_document(next(SEED_DIR.glob("*.txt")))
        docs = [(seed.title, p.text) for p in Chunker().split(seed)]
    return [docs[i % len(docs)] for i in range(limit)]


def questions(n: int) -> list[str]:
    root = eval_root()
    found = [r["text"] for r in _jsonl(root / "squad1-dev" / "queries.jsonl")] if root else []
    found = found or ["What is the Wagner Group?", "Why is the UN leaving Mali?", "What is MINUSMA?"]
    return [found[(i * 7919) % len(found)] for i in range(n)]


def write_corpus(folder: Path, docs: list[tuple[str, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, (title, text) in enumerate(docs):
        head = f"---\ntitle: {' '.join(title.split())}\n---\n" if title else ""
        (folder / f"doc{i:06d}.md").write_text(head + text, encoding="utf-8")


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run_bench(quick: bool = False, peer: bool = True, log: Callable[[str], None] = print, distributed: bool = False) -> dict:
    work = Path(tempfile.mkdtemp(prefix="quoteback-bench-"))
    try:
        return _run(work, quick, peer, log, distributed)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, quick: bool, peer: bool, log: Callable[[str], None], distributed: bool = False) -> dict:
    started = time.perf_counter()
    settings = Settings()  # the defaults: the onnx-int8 runtime, passage and sentence vectors
    embedder = Embedder.from_settings(settings)
    embedder.encode(["warm up"])  # the one-time export and quantisation are not timed
    torch = Embedder.from_settings(settings.replace(backend="torch"))
    torch.encode(["warm up"])
    n_passages = 2_000 if quick else 10_000
    corpus = work / "corpus"
    docs = real_documents(n_passages * 2)
    write_corpus(corpus, docs[: _docs_for(docs, n_passages)])
    chunker = Chunker(**settings.chunker_settings())
    passages = [(d, p) for d in (load_document(f, f.name) for f in sorted(corpus.iterdir())) for p in chunker.split(d)]
    texts = [embedding_text(p, d, True) for d, p in passages]
    log(f"{len(texts)} passages of real text; raw encode…")
    vectors: dict[str, np.ndarray] = {}
    raw = _timed(lambda: vectors.setdefault("torch", torch.model.encode(
        texts, batch_size=settings.batch_size, normalize_embeddings=True, show_progress_bar=False)))
    log("raw encode with the onnx-int8 backend (the default)…")
    fast = embedder
    raw_fast = _timed(lambda: vectors.setdefault("onnx", fast.encode(texts)))  # length-sorted, as model.encode does
    agreement = np.sum(vectors["torch"] * vectors["onnx"], axis=1)
    log("full build with the onnx-int8 backend (passage vectors only)…")
    build_fast = _timed(lambda: IndexBuilder(settings.replace(corpus=corpus, index=work / "index-onnx", sentence_vectors=False,
                                                              backend="onnx-int8"), fast).build())
    plain = settings.replace(corpus=corpus, index=work / "index-plain", sentence_vectors=False, backend="torch")
    log("full build with torch (passage vectors only)…")
    build_plain = _timed(lambda: IndexBuilder(plain, torch).build())
    log("full build with torch (passage and sentence vectors: the default before onnx-int8)…")
    build_torch_full = _timed(lambda: IndexBuilder(settings.replace(corpus=corpus, index=work / "index-torch", backend="torch"),
                                                   torch).build())
    full = settings.replace(corpus=corpus, index=work / "index")
    log("full build (default settings: onnx-int8, passage and sentence vectors)…")
    build_full = _timed(lambda: IndexBuilder(full, embedder).build())
    victim = sorted(corpus.iterdir())[len(docs) // 7 % len(list(corpus.iterdir()))]
    victim.write_text(victim.read_text(encoding="utf-8") + "\n\nOne more sentence for the benchmark.", encoding="utf-8")
    log("incremental rebuild after one document changed…")
    incremental = _timed(lambda: IndexBuilder(full, embedder).build())
    result = {
        "machine": _machine(),
        "mode": "quick" if quick else "full",
        "passages": len(texts),
        "encode_raw_passages_per_s": round(len(texts) / raw, 1),
        "index_passages_per_s": round(len(texts) / build_plain, 1),
        "overhead_ratio": round(build_plain / raw, 3),
        "index_passages_per_s_with_sentences": round(len(texts) / build_full, 1),  # the default build
        "index_passages_per_s_with_sentences_torch": round(len(texts) / build_torch_full, 1),
        "default_build_vs_raw_torch": round(raw / build_full, 3),
        "encode_onnx_int8_passages_per_s": round(len(texts) / raw_fast, 1),
        "onnx_int8_speedup": round(raw / raw_fast, 2),
        "index_passages_per_s_onnx_int8": round(len(texts) / build_fast, 1),
        "onnx_int8_cosine_to_torch": {"mean": round(float(agreement.mean()), 4), "min": round(float(agreement.min()), 4)},
        "incremental_rebuild_ratio": round(incremental / build_full, 4),
        "incremental_rebuild_s": round(incremental, 2),
        "cold_start_s": _cold_start(work),
        "sizes": {},
    }
    asked = questions(100 if quick else 300)
    if Reader.available():
        log("the reader: re-scoring the best passages of each question…")
        result["reader_ms_p50"] = _reader_latency(full, embedder, asked[:60])
    for size in SIZES["quick" if quick else "full"]:
        index_type = "flat" if size < settings.ann_from else "ivf"
        log(f"query latency at {size:,} passages ({index_type})…")
        result["sizes"][str(size)] = _measure_size(full.index, size, asked, index_type)
    if distributed:
        from .distributed import milvus_latency, ray_scaling

        log("Ray: embedding with 1 and 2 actors…")
        result["distributed"] = ray_scaling(settings, texts[:400])
        result["distributed"].update(milvus_latency(full.index, 20_000 if quick else 100_000, asked[:100], log))
    if peer:
        from .peer import compare_txtai

        log("txtai, side by side…")
        own = {"index_s": build_plain, "query_ms_p50": _own_latency(full, embedder, asked)}
        own["cranfield_dev_ndcg10"] = _own_cranfield(settings, embedder)
        result["peer"] = compare_txtai(texts, asked, embedder, own)
    result["duration_s"] = round(time.perf_counter() - started, 1)
    return result


def _own_latency(settings: Settings, embedder: Embedder, asked: list[str]) -> float:
    from .scale import latencies_ms
    from ..pipeline import open_answerer

    return round(float(np.median(latencies_ms(open_answerer(settings, build=False, embedder=embedder).answerer, asked))), 2)


def _reader_latency(settings: Settings, embedder: Embedder, asked: list[str]) -> float:
    """Median time the reader adds to a question: reading its `reader_depth` best passages."""
    from ..index.backends import open_backend

    index, fusion = open_backend(settings).load(), Fusion.from_settings(settings)
    plain = Retriever(index, embedder, replace(fusion, reader_depth=0))
    reading = Retriever(index, embedder, replace(fusion, reader_depth=settings.reader_depth))
    times = []
    for i, question in enumerate(asked):
        hits = plain.search(question, settings.reader_depth)
        took = _timed(lambda: reading.read(question, hits))
        times += [took * 1000] if i else []  # the first loads the model
    return round(float(np.median(times)), 1)


def _own_cranfield(settings: Settings, embedder: Embedder) -> float | None:
    from ..evaluation.evaluate import Evaluator

    root = eval_root()
    if not root or not (root / "cranfield-dev").is_dir():
        return None
    return Evaluator(settings, ["hybrid+sentences"], embedder).run(root / "cranfield-dev").main.metrics["nDCG@10"]


def _docs_for(docs: list[tuple[str, str]], n_passages: int) -> int:
    """How many documents give about n passages with the default chunker (long ones split)."""
    chunker, total = Chunker(), 0
    for i, (title, text) in enumerate(docs):
        total += max(1, round(len(text) / chunker.max_chars + 0.4))
        if total >= n_passages:
            return i + 1
    return len(docs)


def _measure_size(index_dir: Path, size: int, asked: list[str], index_type: str) -> dict:
    args = json.dumps({"index": str(index_dir), "size": size, "questions": asked, "index_type": index_type})
    out = subprocess.run([sys.executable, "-m", "quoteback.bench.scale", args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cold_start(work: Path, runs: int = 3) -> float:
    """`quoteback ask` from a new process to the printed answer, on a built index of the seed."""
    index = work / "seed-index"
    cmd = [sys.executable, "-m", "quoteback", "ask", "What is MINUSMA?", "--corpus", str(SEED_DIR), "--index", str(index)]
    subprocess.run(cmd, capture_output=True, check=True)  # builds the index once
    times = [_timed(lambda: subprocess.run(cmd, capture_output=True, check=True)) for _ in range(runs)]
    return round(float(np.median(times)), 2)


def _machine() -> dict:
    import torch

    return {
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }


def table_rows(result: dict) -> list[tuple[str, object]]:
    """The result as (name, value) rows for the terminal, in reading order."""
    rows = [(k, result[k]) for k in ("passages", "encode_raw_passages_per_s", "index_passages_per_s", "overhead_ratio",
                                      "index_passages_per_s_with_sentences", "index_passages_per_s_with_sentences_torch",
                                      "default_build_vs_raw_torch", "encode_onnx_int8_passages_per_s", "onnx_int8_speedup",
                                      "index_passages_per_s_onnx_int8", "onnx_int8_cosine_to_torch", "incremental_rebuild_ratio",
                                      "cold_start_s", "reader_ms_p50", "duration_s") if k in result]
    for size, m in result["sizes"].items():
        rows += [(f"query_ms_p50[{size}]", m["query_ms_p50"]), (f"query_ms_p99[{size}]", m["query_ms_p99"]),
                 (f"recall@10[{size}] ({m['index_type']})", m["recall_at_10"]), (f"peak_rss_mb[{size}]", m["peak_rss_mb"])]
        rows += [(f"answer_rss_mb[{size}]", m["answer_rss_mb"])] if "answer_rss_mb" in m else []
    for section in ("distributed", "peer"):
        rows += [(f"{section}.{key}", value) for key, value in (result.get(section) or {}).items()]
    return rows

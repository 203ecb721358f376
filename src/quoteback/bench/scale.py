"""Query latency and memory at a given corpus size, in a process of its own (clean peak RSS).

Real passages and their real vectors form the base; larger sizes repeat the base texts and add
synthetic vectors near the real ones (gaussian noise, renormalised), so that FAISS, BM25 and
sentence re-scoring work at the target size while every question is a real one.
"""

from __future__ import annotations

import gc
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..answer import Answerer
from ..embeddings import Embedder
from ..index import FileStore, Index, live_folder, load_index, make_dense, recall_at
from ..index.dense import IVF_TYPES, ivf_of, search
from ..index.files import write_store
from ..index.lexical import Lexical
from ..settings import Settings

_MAPPING = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")
NOISE = 0.04  # per-dimension sigma: keeps synthetic vectors at cosine ~0.6 from their source


def scaled_index(base: Index, size: int, index_type: str) -> Index:
    """`base` grown to `size` passages: texts repeated, vectors perturbed."""
    n, store = len(base.passages), base.store
    source = np.arange(size) % n
    rng = np.random.default_rng(42)
    embeddings = _perturb(np.asarray(store.embeddings), source, rng, keep=n)
    counts = np.diff(store.sentence_offsets)
    sentence_source = np.concatenate([np.arange(store.sentence_offsets[i], store.sentence_offsets[i + 1]) for i in source])
    sentences = _perturb(np.asarray(store.sentence_matrix), sentence_source, rng, keep=int(store.sentence_offsets[-1]))
    offsets = np.concatenate([[0], np.cumsum(counts[source])]).astype(np.int64)
    passages = [base.passages[i] for i in source]
    texts = [f"{base.documents[p.document].title}\n{p.text}" for p in passages[:n]]
    lexical = Lexical.build_repeated(texts, size, **base.manifest.bm25)
    started = time.perf_counter()
    dense = make_dense(embeddings, index_type)
    manifest = replace(base.manifest, passages=size, index_type=index_type,
                       extra={**base.manifest.extra, "dense_build_s": time.perf_counter() - started})
    return replace(base, manifest=manifest, passages=passages, store=FileStore(dense, embeddings, lexical, sentences, offsets))


def _perturb(vectors: np.ndarray, source: np.ndarray, rng, keep: int) -> np.ndarray:
    out = np.empty((len(source), vectors.shape[1]), dtype=vectors.dtype)  # stored as the index stores them (float16)
    step = 100_000
    for a in range(0, len(source), step):
        block = vectors[source[a : a + step]].astype(np.float32)
        noisy = np.arange(a, a + len(block)) >= keep
        block[noisy] += rng.normal(0, NOISE, (int(noisy.sum()), vectors.shape[1])).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[a : a + step] = block
    return out


def latencies_ms(answerer: Answerer, questions: list[str], warmup: int = 10) -> list[float]:
    """Warm end-to-end `ask` times, question in, quotes out."""
    for q in questions[:warmup]:
        answerer.ask(q)
    times = []
    for q in questions:
        started = time.perf_counter()
        answerer.ask(q)
        times.append((time.perf_counter() - started) * 1000)
    return times


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not getrusage: Linux carries ru_maxrss over from the parent
    across fork and exec, so a small child would report the benchmark parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now: VmRSS counts anonymous and file-backed pages (memory
    maps, libraries) together; RssAnon only what the process allocated (not reclaimable)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def mapped_mb(folder: Path) -> dict[str, float]:
    """Resident MB of each memory-mapped file of `folder`: what searches touched, with what the
    kernel mapped around it (whole page-cache folios)."""
    out: dict[str, float] = {}
    name = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if _MAPPING.match(line):  # a mapping's header: address range, mode, offset, device, inode, path
            path = line.split(maxsplit=5)[5] if len(line.split()) >= 6 else ""
            name = Path(path).name if path.startswith(str(folder)) else None
        elif name and line.startswith("Rss:"):
            out[name] = round(out.get(name, 0.0) + int(line.split()[1]) / 1024, 1)
    return out


def measure(index_dir: Path, size: int, questions: list[str], index_type: str) -> dict:
    """Query latency, recall and peak RSS of the grown index in memory (see `grow_and_measure`),
    then the memory of answering from its files as a user has them, in a fresh process."""
    with tempfile.TemporaryDirectory(prefix="quoteback-scale-") as tmp:
        out = grow_and_measure(index_dir, size, questions, index_type, Path(tmp) / "index")
        gc.collect()  # the grown index is gone; the answering process gets the memory
        run = [sys.executable, "-m", "quoteback.bench.scale", json.dumps({"answer": tmp + "/index", "questions": questions})]
        done = subprocess.run(run, capture_output=True, text=True, check=True)
        out.update(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def answer_memory(index_dir: Path, questions: list[str]) -> dict:
    """RSS of answering from a written index: `load_index` (vectors memory-mapped), then the warm
    questions; with what each part added (RSS deltas in load order) and the vector pages touched."""
    marks = {"start": rss_mb()}
    settings = Settings()
    embedder = Embedder.from_settings(settings)
    embedder.encode(["warm up"])
    marks["model"] = rss_mb()
    index = load_index(index_dir, loaded=lambda part: marks.__setitem__(part, rss_mb()))
    times = latencies_ms(Answerer(index, embedder, settings), questions)
    marks["questions"] = rss_mb()
    names = list(marks)
    parts = {b: round(marks[b] - marks[a], 1) for a, b in zip(names, names[1:])}
    folder = live_folder(index_dir)
    files = {p.name: round(sum(f.stat().st_size for f in p.rglob("*")) / 2**20 if p.is_dir() else p.stat().st_size / 2**20, 1)
             for p in folder.iterdir()}
    return {
        "answer_rss_mb": marks["questions"],
        "answer_rss_anon_mb": rss_mb("RssAnon"),
        "answer_query_ms_p50": round(float(np.percentile(times, 50)), 2),
        "answer_memory_mb": {"python": marks["start"], **parts, "mapped_resident": mapped_mb(folder)},
        "answer_passage_bytes": round(parts["passages"] * 2**20 / max(1, len(index.passages))),
        "index_files_mb": files,
    }


def grow_and_measure(index_dir: Path, size: int, questions: list[str], index_type: str, folder: Path) -> dict:
    """Warm end-to-end `ask` latency, recall@10 of the index type against exact search, peak RSS;
    the grown index is then written to `folder` as `quoteback build` writes one."""
    import faiss

    settings = Settings()
    embedder = Embedder.from_settings(settings)
    base = load_index(index_dir, mmap=False)
    index = base if size == len(base.passages) and index_type == "flat" else scaled_index(base, size, index_type)
    times = latencies_ms(Answerer(index, embedder, settings), questions)
    vectors = embedder.encode(questions)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(np.asarray(index.store.embeddings, dtype=np.float32))
    _, truth = exact.search(vectors, 10)
    found = search(index.store.dense, index.store.passage_vectors, vectors, 10)
    peak = peak_rss_mb()  # before the rebuild below, which holds a second index
    out = {
        "size": size,
        "index_type": index_type,
        "query_ms_p50": round(float(np.percentile(times, 50)), 2),
        "query_ms_p99": round(float(np.percentile(times, 99)), 2),
        "recall_at_10": round(recall_at(found, truth), 4),  # as the store searches (8-bit codes: re-ranked)
        "recall_at_10_faiss_alone": round(recall_at(index.store.dense.search(vectors, 10)[1], truth), 4),
        "peak_rss_mb": peak,
        "vectors": "real" if size <= len(base.passages) else f"{len(base.passages)} real + synthetic (noise sigma {NOISE})",
    }
    store = index.store
    write_store(folder, index.manifest, list(index.documents.values()), index.passages, store.embeddings,
                store.sentence_matrix, store.dense, store.lexical)
    if index_type in IVF_TYPES:
        out.update(ivf_rebuild(index, vectors))
    return out


def ivf_rebuild(index: Index, questions: np.ndarray) -> dict:
    """The dense part of a rebuild after 1% of the passages changed: trained afresh (as the first
    build) against reusing the previous version's centroids, as `quoteback build` does."""
    vectors = np.array(index.store.embeddings, dtype=np.float32)
    changed = np.random.default_rng(3).choice(len(vectors), size=len(vectors) // 100, replace=False)
    vectors[changed] = np.roll(vectors[changed], 1, axis=0)  # other passages' vectors in those rows
    started = time.perf_counter()
    dense = make_dense(vectors, index.manifest.index_type, trained=index.store.dense)
    reused = time.perf_counter() - started
    import faiss

    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(questions, 10)
    found = search(dense, vectors.__getitem__, questions, 10)
    return {
        "ivf_build_s": round(index.manifest.extra["dense_build_s"], 2),
        "ivf_rebuild_reusing_centroids_s": round(reused, 2),
        "ivf_rebuild_nprobe": {"trained": _nprobe(index.store.dense), "reused": _nprobe(dense)},
        "ivf_rebuild_recall_at_10": round(recall_at(found, truth), 4),
    }


def _nprobe(dense) -> int:
    return int(ivf_of(dense).nprobe)


if __name__ == "__main__":
    args = json.loads(sys.argv[1])
    if "answer" in args:
        print(json.dumps(answer_memory(Path(args["answer"]), args["questions"])))
    else:
        print(json.dumps(measure(Path(args["index"]), args["size"], args["questions"], args["index_type"])))

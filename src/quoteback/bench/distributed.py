"""The bench's beyond-one-machine figures: Ray build throughput by actor count, and query latency
through Milvus beside the embedded store on the same passages. Run only when the extras are
installed (`quoteback bench --distributed`); each starts and stops its own local server."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..answer import Answerer
from ..embeddings import Embedder
from ..index import load_index
from ..passages import embedding_text
from ..settings import Settings
from .scale import latencies_ms, scaled_index


def ray_scaling(settings: Settings, texts: list[str]) -> dict:
    """Passages/s embedding `texts` in this process and with 1 and 2 Ray actors (model load excluded)."""
    from ..ray_build import connect, throughput

    plain = throughput(settings, texts, 0)
    with connect("auto"):
        one, two = throughput(settings, texts, 1), throughput(settings, texts, 2)
    return {"ray_passages_per_s": {"plain": round(plain, 1), "actors_1": round(one, 1), "actors_2": round(two, 1)},
            "ray_scaling_efficiency_2_actors": round(two / (2 * one), 3)}


def milvus_latency(index_dir: Path, size: int, asked: list[str], log: Callable[[str], None]) -> dict:
    """Warm `ask` p50 through a local `milvus-lite server` holding `size` passages (the real base
    grown as bench/scale.py grows it, each copy under its own document names), beside the same
    passages in the embedded store."""
    from ..index.milvus import MilvusStore
    from ..index.milvus_schema import pymilvus

    settings = Settings()
    embedder = Embedder.from_settings(settings)
    base = load_index(index_dir, mmap=False)
    grown = scaled_index(base, size, "ivf" if size >= settings.ann_from else "flat")
    n = len(base.passages)
    passages = [replace(p, document=f"copy{i // n}/{p.document}") for i, p in enumerate(grown.passages)]
    documents = {f"copy{c}/{path}": replace(doc, path=f"copy{c}/{path}")
                 for c in range(-(-size // n)) for path, doc in base.documents.items()}
    embedded_ms = float(np.median(latencies_ms(Answerer(grown, embedder, settings), asked)))
    with tempfile.TemporaryDirectory(prefix="quoteback-milvus-") as tmp, local_milvus(Path(tmp)) as uri:
        store = MilvusStore(uri, None, "bench", index_type="ivf" if size >= settings.ann_from else "flat")
        texts = [embedding_text(p, documents[p.document], True) for p in passages]
        log(f"writing {size:,} passages to Milvus…")
        started = time.perf_counter()
        store.write_documents([documents[d] for d in sorted({p.document for p in passages})], passages,
                              np.asarray(grown.store.embeddings, dtype=np.float32),
                              np.asarray(grown.store.sentence_matrix, dtype=np.float32), texts, base.manifest.bm25)
        store.write_manifest(replace(base.manifest, passages=size))
        written = time.perf_counter() - started
        pymilvus()  # loaded by now; what follows is the query path only
        milvus_ms = float(np.median(latencies_ms(Answerer(store.load(), embedder, settings), asked)))
    return {"milvus_size": size, "milvus_query_ms_p50": round(milvus_ms, 2), "embedded_query_ms_p50": round(embedded_ms, 2),
            "milvus_write_passages_per_s": round(size / written, 1)}


class local_milvus:
    """`milvus-lite server` on 127.0.0.1 and a free port, stopped by process id."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> str:
        import socket

        from ..index.milvus_schema import pymilvus

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(self.folder / "data"),
                                      "--host", "127.0.0.1", "--port", str(port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        uri, deadline = f"http://127.0.0.1:{port}", time.time() + 60
        while True:
            try:
                pymilvus().MilvusClient(uri=uri, timeout=2).list_collections()
                return uri
            except Exception:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.__exit__()
                    raise RuntimeError("milvus-lite server did not start") from None
                time.sleep(0.5)

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

"""The build's two heavy stages on Ray: reading the corpus in parallel tasks and encoding with a
pool of actors, each holding one copy of the model.

Ray is optional and imported only inside these functions, so `import quoteback.ray_build` (and
the plain build) never pay for it. Results equal the single-process ones: `read_corpus` gives
what `documents.load_corpus` gives, `RayEncoder.encode` what `Embedder.encode` gives (to 1e-5).
Files are read where the tasks run, so a multi-node cluster needs the corpus on a shared path.
"""

from __future__ import annotations

import os
import time
from collections import deque
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from .documents import Corpus, corpus_files, load_corpus
from .embeddings import Embedder
from .embeddings.encoder import OWN_RUNTIMES
from .settings import Settings

if TYPE_CHECKING:
    from types import ModuleType

RAY_MISSING = "Ray is not installed; install it with: pip install 'quoteback[ray]'"
_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
            "GRADIO_ANALYTICS_ENABLED": "False", "TOKENIZERS_PARALLELISM": "false"}


class RayMissing(RuntimeError):
    """Ray was asked for but is not installed; the message names the fix."""


def _ray() -> "ModuleType":
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # an offline tool reports nothing
    try:
        import ray
    except ImportError:
        raise RayMissing(RAY_MISSING) from None
    return ray


@contextmanager
def connect(address: str = "auto") -> Iterator[None]:
    """"auto": a local cluster for this process only, on 127.0.0.1, shut down on exit. Anything
    else is the address of a running cluster, which this process joins and leaves running."""
    ray = _ray()
    runtime_env = {"env_vars": _OFFLINE}  # workers, even on other machines, never reach for a hub
    if address == "auto":
        # Ray 2.x silently rewrites _node_ip_address="127.0.0.1" to the machine's routable address
        # (and then every server listens on all interfaces) unless it believes clustering is off.
        constants = ray._private.ray_constants
        clustering = constants.ENABLE_RAY_CLUSTER
        constants.ENABLE_RAY_CLUSTER = False
        try:
            ray.init(num_cpus=os.cpu_count(), _node_ip_address="127.0.0.1", include_dashboard=False,
                     log_to_driver=False, configure_logging=False, runtime_env=runtime_env)
        finally:
            constants.ENABLE_RAY_CLUSTER = clustering
    else:
        ray.init(address=address, log_to_driver=False, configure_logging=False, runtime_env=runtime_env)
    try:
        yield
    finally:
        ray.shutdown()  # stops a cluster we started; only disconnects from someone else's


def _cpus(ray: "ModuleType") -> int:
    return max(1, int(ray.cluster_resources().get("CPU", os.cpu_count() or 1)))


def _read_batch(folder: str, rels: list[str]) -> Corpus:
    """One task: load_corpus itself on a subset, so reasons and notices are the plain ones."""
    return load_corpus(Path(folder), only=set(rels))


def read_corpus(folder: Path, only: set[str] | None = None, workers: int | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> Corpus:
    """`load_corpus(folder, only)` with files read in parallel Ray tasks (needs `connect`).

    Files are dealt round-robin into 2 batches per worker (one task per batch, not per file):
    big files (PDFs) spread out, and a worker that finishes early takes the next batch."""
    ray = _ray()
    folder = Path(folder)
    rels = [p.relative_to(folder).as_posix() for p in corpus_files(folder)]
    rels = [r for r in rels if only is None or r in only]
    if not rels:
        return Corpus([], [], [])
    tasks = min(len(rels), 2 * (workers or _cpus(ray)))
    read = ray.remote(num_cpus=1)(_read_batch)
    pending = [read.remote(str(folder), rels[k::tasks]) for k in range(tasks)]
    parts: list[Corpus] = []
    while pending:  # batches as they finish, for the progress display
        [ref], pending = ray.wait(pending, num_returns=1)
        parts.append(ray.get(ref))
        if progress:
            progress("reading documents", sum(len(p.documents) + len(p.skipped) for p in parts), len(rels))
    position = {rel: i for i, rel in enumerate(rels)}

    def ordered(items: Iterable[Any]) -> list[Any]:  # stable: a file's notices keep their order
        return sorted(items, key=lambda item: position[item.path])

    return Corpus(ordered(d for p in parts for d in p.documents), ordered(s for p in parts for s in p.skipped),
                  ordered(n for p in parts for n in p.notices))


class _EncodeActor:
    """One model per actor, loaded once; its threads capped so all actors share the cores."""

    def __init__(self, settings: Settings, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        self.embedder = Embedder.from_settings(settings)
        if settings.backend in OWN_RUNTIMES:  # they take every core they see: this actor's share only
            self.embedder.model.use_threads(threads)
        self.embedder.encode(["warm up"])  # first forward pass is slow: not the caller's cost

    def dimension(self) -> int:
        return self.embedder.dimension

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode(texts)


class RayEncoder:
    """The Encoder protocol over a pool of Ray actors (needs `connect`); close() frees their cores.

    Batches keep the plain Embedder's shape (multiples of its batch size, cut from the same
    length-sorted order), so the vectors match it; results come back in input order."""

    def __init__(self, settings: Settings, actors: int = 2) -> None:
        if actors < 1:
            raise ValueError(f"actors must be 1 or more, not {actors}")
        self.name = settings.model
        self.batch_size = settings.batch_size
        self.settings, self.count = settings, actors
        self._actors: list[Any] = []
        self._dimension = 0

    def start(self) -> "RayEncoder":
        """Start the actors and load their models (on first use otherwise: a build reads the corpus
        in Ray tasks first, which need the cores the actors would hold)."""
        if not self._actors:
            ray = _ray()
            cores = _cpus(ray)
            threads = max(1, cores // self.count)
            # fractional when there are more actors than cores, so every actor gets placed
            remote = ray.remote(num_cpus=threads if self.count <= cores else cores / self.count)(_EncodeActor)
            self._actors = [remote.remote(self.settings, threads) for _ in range(self.count)]
            self._dimension = ray.get([a.dimension.remote() for a in self._actors])[0]  # waits for every model
        return self

    @property
    def dimension(self) -> int:
        return self.start()._dimension

    def close(self) -> None:
        ray = _ray()
        for actor in self._actors:
            ray.kill(actor)
        self._actors = []

    def __enter__(self) -> "RayEncoder":
        return self  # the actors start on first use

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _chunk(self, total: int) -> int:
        """At most 8 model batches, small enough that every actor gets about two chunks."""
        per_actor = -(-total // (2 * len(self._actors)))
        return max(self.batch_size, min(8 * self.batch_size, -(-per_actor // self.batch_size) * self.batch_size))

    def _ordered(self, chunks: Iterator[list[str]]) -> Iterator[np.ndarray]:
        """Each chunk's vectors, in order. Two chunks queued per actor so none waits on the
        driver; a finished actor takes the next chunk at once (unlike ActorPool.map, which
        waits for results in order); at most 4 chunks per actor in flight or buffered."""
        ray = _ray()
        free = deque(self.start()._actors * 2)
        running: dict[Any, tuple[int, Any]] = {}
        finished: dict[int, np.ndarray] = {}
        sent = given = 0
        while True:
            while free and sent - given < 4 * len(self._actors) and (chunk := next(chunks, None)) is not None:
                actor = free.popleft()
                running[actor.encode.remote(chunk)] = (sent, actor)
                sent += 1
            if given in finished:
                yield finished.pop(given)
                given += 1
            elif not running:
                return
            else:
                [ref], _ = ray.wait(list(running), num_returns=1)
                index, actor = running.pop(ref)
                finished[index] = ray.get(ref)
                free.append(actor)

    def encode(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Like Embedder.encode: length-sorted chunks (less padding), returned in input order."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        step = self._chunk(len(texts))
        chunks = ([texts[i] for i in order[b : b + step]] for b in range(0, len(texts), step))
        for k, vectors in enumerate(self._ordered(chunks)):
            out[order[k * step : k * step + len(vectors)]] = vectors
            if progress:
                progress(min((k + 1) * step, len(texts)), len(texts))
        return out

    def encode_batches(self, texts: Sequence[str], batch: int = 256) -> Iterator[tuple[int, np.ndarray]]:
        """(start, vectors of texts[start:start + batch]) in order, for a caller that writes each
        batch away (a remote store) and never holds all the vectors."""
        chunks = (list(texts[b : b + batch]) for b in range(0, len(texts), batch))
        for k, vectors in enumerate(self._ordered(chunks)):
            yield k * batch, vectors


def throughput(settings: Settings, texts: Sequence[str], actors: int) -> float:
    """Passages per second of `encode` with this many actors (0: the plain in-process Embedder),
    model load and first forward pass excluded. Needs `connect` when actors > 0."""
    if actors == 0:
        encoder: Any = Embedder.from_settings(settings)
        encoder.encode(["warm up"])
    else:
        encoder = RayEncoder(settings, actors).start()
    try:
        start = time.perf_counter()
        encoder.encode(texts)
        return len(texts) / (time.perf_counter() - start)
    finally:
        if actors:
            encoder.close()

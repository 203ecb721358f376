"""Shared fixtures: the real packaged model (loaded once), corpora copied into tmp folders."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

for key, value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
}.items():
    os.environ[key] = value

from quoteback.embeddings import Embedder  # noqa: E402
from quoteback.settings import Settings  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "corpus" / "wagner-group-in-mali-faq.txt"


class CountingEncoder:
    """The real encoder, counting how many texts it runs through the model (for incremental-build
    tests): each text given to `encode`, and each forward pass `encode_with_spans` makes (one per
    passage, plus any tails of truncated passages and sentences encoded alone)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.count = 0

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts, progress=None) -> np.ndarray:
        self.count += len(texts)
        return self.inner.encode(texts, progress)

    def encode_with_spans(self, texts, spans, prefixes=None, progress=None):
        before = self.inner.forward_texts
        out = self.inner.encode_with_spans(texts, spans, prefixes, progress)
        self.count += self.inner.forward_texts - before
        return out


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture
def counting(embedder) -> CountingEncoder:
    return CountingEncoder(embedder)


@pytest.fixture
def seed_corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


@pytest.fixture
def settings_for(tmp_path):
    def make(corpus: Path, **changes) -> Settings:
        return Settings(corpus=corpus, index=tmp_path / "index").replace(**changes)

    return make


@pytest.fixture(scope="session")
def seed_ready(tmp_path_factory, embedder):
    """The shipped corpus indexed once with the default settings."""
    from quoteback.pipeline import open_answerer

    root = tmp_path_factory.mktemp("seed")
    shutil.copytree(REPO / "corpus", root / "corpus")
    settings = Settings(corpus=root / "corpus", index=root / "index")
    return open_answerer(settings, embedder=embedder)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def chat_server(root: Path, corpus: Path | None, *args: str):
    """`quoteback chat` on a free loopback port in a subprocess, until it answers HTTP; stopped by
    its process id at the end. Yields the base URL (no trailing slash). `corpus` None: the
    folders are among `args` (`--corpus NAME=FOLDER`, collections)."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    log = open(root / "server.log", "w")
    folder = ["--corpus", str(corpus)] if corpus is not None else []
    proc = subprocess.Popen([sys.executable, "-m", "quoteback", "chat", *folder, "--index", str(root / "index"),
                             "--port", str(port), *args], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                urllib.request.urlopen(url + "/", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError((root / "server.log").read_text())
                time.sleep(1)
        else:
            raise RuntimeError("the app did not start in 180 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()

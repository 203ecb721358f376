"""The Ray build stages give the plain results: a real local cluster, the real packaged model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray")

from quoteback.documents import load_corpus  # noqa: E402
from quoteback.embeddings import Embedder  # noqa: E402
from quoteback.passages import Chunker  # noqa: E402
from quoteback.ray_build import RayEncoder, RayMissing, connect, read_corpus  # noqa: E402
from quoteback.settings import Settings  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cluster():
    """One local cluster for the module (it takes seconds to start), stopped at the end."""
    import ray

    with connect("auto"):
        yield ray
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """50 texts of varied length: the shipped corpus's passages, its questions, its sentences, and
    edge cases (empty, blank, one letter, one longer than the model's window)."""
    passages = [p for d in load_corpus(REPO / "corpus").documents for p in Chunker().split(d)]
    questions = (REPO / "src/quoteback/data/shipped-questions/queries.jsonl").read_text().splitlines()
    sentences = [p.text[a - p.start : b - p.start] for p in passages for a, b in p.sentences]
    mixed = [p.text for p in passages] + [json.loads(q)["text"] for q in questions] + sentences
    texts = mixed[:46] + ["", "   ", "x", "Wagner " * 400]
    assert len(texts) == 50
    return texts


def test_local_cluster_is_on_loopback(cluster):
    assert {node["NodeManagerAddress"] for node in cluster.nodes()} == {"127.0.0.1"}
    assert cluster.cluster_resources()["CPU"] >= 1


def test_read_corpus_equals_load_corpus(cluster, tmp_path):
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("Alpha report\n\nThe alpha team met on Monday. It agreed on a budget.\n\n" * 5)
    (folder / "b.md").write_text("# Beta\n\nBeta notes say the launch moves to June.\n\n## Risks\n\n- supply\n- staff\n")
    (folder / "sub" / "c.txt").write_text("Gamma. " * 300)
    (folder / "empty.txt").write_text("")
    (folder / "notes.xyz").write_text("unsupported type")

    plain = load_corpus(folder)
    for workers in (None, 1, 3):
        assert read_corpus(folder, workers=workers) == plain
    assert [d.path for d in plain.documents] == ["a.txt", "b.md", "sub/c.txt"]
    assert [s.path for s in plain.skipped] == ["empty.txt", "notes.xyz"]
    assert read_corpus(folder, only={"b.md", "empty.txt"}) == load_corpus(folder, only={"b.md", "empty.txt"})

    def cut(corpus):
        return [(p.document, p.start, p.end, p.text) for d in corpus.documents for p in Chunker().split(d)]

    assert cut(read_corpus(folder)) == cut(plain) and cut(plain)


def test_ray_encoder_matches_embedder(cluster, texts):
    # the default runtime: a text's vector does not depend on its batch or on the threads it runs on
    # (tests/test_embeddings.py), so the actors' chunks must give the plain vectors bit for bit
    plain = Embedder.from_settings(Settings())
    expected = plain.encode(texts)
    with RayEncoder(Settings(), actors=2) as encoder:
        assert encoder.name == plain.name and encoder.dimension == plain.dimension == expected.shape[1]
        seen = []
        vectors = encoder.encode(texts, progress=lambda done, total: seen.append((done, total)))
        assert vectors.dtype == np.float32 and vectors.shape == expected.shape
        assert np.array_equal(vectors, expected)  # row by row: order preserved
        assert seen[-1] == (len(texts), len(texts)) and len(seen) > 1  # several chunks, over both actors
        batches = list(encoder.encode_batches(texts, 8))
        assert [start for start, _ in batches] == list(range(0, len(texts), 8))
        assert np.array_equal(np.concatenate([v for _, v in batches]), expected)
        assert encoder.encode([]).shape == (0, expected.shape[1])
    deadline = time.time() + 30  # close() killed the actors: their cores come back
    while cluster.available_resources().get("CPU") != cluster.cluster_resources()["CPU"] and time.time() < deadline:
        time.sleep(0.2)
    assert cluster.available_resources().get("CPU") == cluster.cluster_resources()["CPU"]


def test_import_does_not_import_ray():
    code = "import sys, quoteback.build, quoteback.ray_build; assert 'ray' not in sys.modules, 'ray imported'"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr


def test_missing_ray_names_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(RayMissing, match=r"pip install 'quoteback\[ray\]'"), connect("auto"):
        pass


def test_a_ray_build_equals_a_plain_build(cluster, tmp_path):
    """`quoteback build --ray`: documents read in Ray tasks, embedded by actors, the same index."""
    from quoteback.build import IndexBuilder
    from quoteback.index import load_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("wagner-group-in-mali-faq.txt",):
        (corpus / name).write_text((REPO / "corpus" / name).read_text(encoding="utf-8"), encoding="utf-8")
    (corpus / "notes.md").write_text("# Notes\n\nThe harbour master keeps the tide tables in the blue cabinet.\n")
    plain_settings = Settings(corpus=corpus, index=tmp_path / "plain")
    ray_settings = Settings(corpus=corpus, index=tmp_path / "ray")
    IndexBuilder(plain_settings).build()
    with RayEncoder(ray_settings, actors=2) as encoder:
        report = IndexBuilder(ray_settings, encoder, reader=read_corpus).build()
    plain, distributed = load_index(plain_settings.index), load_index(ray_settings.index)
    assert report.added == 2 and report.passages == len(plain.passages)
    assert [(p.document, p.start, p.end, p.text) for p in distributed.passages] == \
        [(p.document, p.start, p.end, p.text) for p in plain.passages]
    ids = np.arange(len(plain.passages))
    assert np.array_equal(distributed.store.passage_vectors(ids), plain.store.passage_vectors(ids))
    assert np.array_equal(distributed.store.sentence_vectors(ids)[0], plain.store.sentence_vectors(ids)[0])

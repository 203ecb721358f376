"""The encoder: normalised vectors in input order, both backends, settings validation."""

import numpy as np
import pytest

from quoteback.embeddings import Embedder
from quoteback.settings import Settings

TEXTS = [
    "The UN peacekeeping mission in Mali, known as MINUSMA, was established in 2013.",
    "Wagner",
    "Concerns have been raised about accountability, transparency, and potential human rights abuses "
    "associated with the operations of private military contractors in the country. " * 3,
    "",
]


def test_vectors_are_normalised_and_in_input_order(embedder):
    vectors = embedder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), embedder.dimension) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors[:3], axis=1), 1, atol=1e-4)
    one_by_one = np.vstack([embedder.encode([t]) for t in TEXTS[:3]])
    assert np.allclose(vectors[:3], one_by_one, atol=1e-4)  # length-sorted batching restores the order
    assert embedder.encode([]).shape == (0, embedder.dimension)


def test_onnx_int8_backend_agrees_with_torch(embedder, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # a real export, not a cached file
    fast = Embedder(backend="onnx-int8")
    assert fast.dimension == embedder.dimension
    exported = list((tmp_path / "cache" / "quoteback" / "models" / "onnx").rglob("model-int8.onnx"))
    assert len(exported) == 1 and not list(exported[0].parent.parent.glob("*.tmp-*"))
    reference, vectors = embedder.encode(TEXTS[:3]), fast.encode(TEXTS[:3])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    agreement = np.sum(reference * vectors, axis=1)
    assert agreement.min() > 0.97, agreement
    question = fast.encode(["What is MINUSMA?"])[0]
    assert int(np.argmax(vectors @ question)) == 0


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="onnx-int8"):
        Settings(backend="tensorrt")
    with pytest.raises(ValueError, match="backend"):
        Embedder(backend="tensorrt")

"""The encoder: normalised vectors in input order, both backends, settings validation."""

import importlib.util

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


def test_vectors_are_normalised_and_in_input_order_and_do_not_depend_on_their_batch(embedder):
    """Length-sorted batching restores the input order, and a text's vector is the same whatever is
    encoded beside it: torch up to float rounding, onnx-int8 bit for bit (each text runs alone, so
    the int8 graph's per-run activation scale is the text's own; it used to move with the batch's
    padding, cosine 0.987 at worst)."""
    torch = Embedder(backend="torch")
    for encoder, same in ((torch, lambda a, b: np.allclose(a, b, atol=1e-4)), (embedder, np.array_equal)):
        vectors = encoder.encode(TEXTS)
        assert vectors.shape == (len(TEXTS), encoder.dimension) and vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
        one_by_one = np.vstack([encoder.encode([t]) for t in TEXTS])
        assert same(vectors, one_by_one), encoder.backend
        assert same(encoder.encode(TEXTS[::-1] * 3)[-len(TEXTS):], vectors[::-1]), encoder.backend
        assert list(np.argmax(vectors @ one_by_one.T, axis=1)) == list(range(len(TEXTS)))  # each row is its own text
        assert encoder.encode([]).shape == (0, encoder.dimension)


def test_onnx_int8_runs_texts_on_every_core_it_is_given(embedder):
    model = embedder.model
    vectors = embedder.encode(TEXTS)
    try:
        model.use_threads(1)
        assert model.threads == 1 and np.array_equal(embedder.encode(TEXTS), vectors)
    finally:
        model.use_threads()
    assert model.threads >= 1 and model.session.get_session_options().intra_op_num_threads == 1


def test_onnx_int8_backend_agrees_with_torch(tmp_path, monkeypatch):
    embedder = Embedder(backend="torch")
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


def test_openvino_int8_backend_agrees_with_torch(tmp_path, monkeypatch):
    if not (importlib.util.find_spec("openvino") and importlib.util.find_spec("nncf")):  # not imported: that sends telemetry
        pytest.skip("the [openvino] extra is not installed")
    embedder = Embedder(backend="torch")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # a real conversion, not a cached model
    fast = Embedder(backend="openvino-int8")
    assert fast.dimension == embedder.dimension
    converted = list((tmp_path / "cache" / "quoteback" / "models" / "openvino").rglob("model-int8.xml"))
    assert len(converted) == 1 and converted[0].with_suffix(".bin").is_file()
    assert not list(converted[0].parent.parent.glob("*.tmp-*")) and not list(converted[0].parent.glob("*.onnx"))
    reference, vectors = embedder.encode(TEXTS), fast.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), embedder.dimension) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    agreement = np.sum(reference * vectors, axis=1)
    assert agreement.min() > 0.97, agreement
    one_by_one = np.vstack([fast.encode([t]) for t in TEXTS])  # in input order, whatever the batch
    assert list(np.argmax(vectors @ one_by_one.T, axis=1)) == list(range(len(TEXTS)))
    question = fast.encode(["What is MINUSMA?"])[0]
    assert int(np.argmax(vectors[:3] @ question)) == 0


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="onnx-int8"):
        Settings(backend="tensorrt")
    with pytest.raises(ValueError, match="backend"):
        Embedder(backend="tensorrt")


def _sentence_spans(text: str, start: int = 0) -> list[tuple[int, int]]:
    import re

    return [(m.start() + start, m.end() + start) for m in re.finditer(r"\S[^.!?]*[.!?]", text[start:])]


@pytest.mark.parametrize("backend", ["torch", "onnx-int8"])
def test_one_pass_gives_the_passage_vector_and_one_unit_vector_per_sentence(embedder, backend):
    encoder = embedder if backend == "onnx-int8" else Embedder(backend="torch")  # the fixture is the default, onnx-int8
    long = "Doc › Part\n" + TEXTS[2] * 8 + "The last sentence is about Wagner in Mali."  # ~500 word pieces: truncated
    texts = ["Mali › MINUSMA\n" + TEXTS[0] + " Bananas are rich in potassium and grow in the tropics.", TEXTS[1] + ".", long]
    prefixes = [len("Mali › MINUSMA\n"), 0, len("Doc › Part\n")]
    spans = [_sentence_spans(t, p) for t, p in zip(texts, prefixes)]
    before, tails = encoder.forward_texts, encoder.tail_texts
    passages, sentences = encoder.encode_with_spans(texts, spans, prefixes)
    assert encoder.tail_texts - tails >= 1 and encoder.forward_texts - before == len(texts) + encoder.tail_texts - tails
    assert np.abs(passages - encoder.encode(texts)).max() < 1e-5  # the passage vector is encode()'s
    assert [len(s) for s in sentences] == [2, 1, 25]
    for vectors in sentences:
        assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    # in order: each contextual sentence vector is near its own sentence encoded alone
    first = encoder.encode([texts[0][a:b] for a, b in spans[0]])
    assert np.argmax(first @ sentences[0][0]) == 0 and np.argmax(first @ sentences[0][1]) == 1
    for text, span, vectors in zip(texts, spans, sentences):
        alone = encoder.encode([text[a:b] for a, b in span])
        assert (np.sum(alone * vectors, axis=1) > 0.5).all()
    # the tail of the truncated passage (past 256 word pieces) is read in its own context
    question = encoder.encode(["What is the last sentence about?"])[0]
    assert sentences[2][-1] @ question > sentences[2][0] @ question
    assert encoder.encode_with_spans([], []) [0].shape == (0, encoder.dimension)

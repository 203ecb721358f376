"""The `openvino-int8` embedding backend: the same model run by OpenVINO, int8 with calibrated ranges.

Why: a default build encodes every passage and then each of its sentences. On a 2-core AVX512-VNNI
CPU this runtime encoded SciFact abstracts ~1.7x and their sentences ~1.6x as fast as the onnx-int8
backend (3.5x and 5.8x torch, on a shared machine), with vectors at cosine 0.998 (min 0.993) to
torch's. onnx-int8 quantises activations on the fly; here NNCF's post-training quantisation
(SmoothQuant, transformer preset) fixes their ranges once, from 300 paragraphs and sentences of
Python's own documentation (`pydoc_data`, shipped with CPython: nothing is fetched). The FFN output
projections stay in float: quantised, vectors of other domains fell to cosine 0.96. Converted once
on first use (~40 s) and cached under the user's cache folder, keyed by the model's files. Needs
`pip install 'quoteback[openvino]'`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from .onnx import OnnxModel, _export, cached_model, tokenizer

CALIBRATION_TEXTS = 300  # half paragraphs, half sentences


def _calibration_texts() -> list[str]:
    try:
        from pydoc_data.topics import topics

        blocks = list(topics.values())
    except ImportError:  # a Python without its docs: the shipped question set's corpus
        corpus = Path(__file__).resolve().parents[1] / "data" / "shipped-questions" / "corpus"
        blocks = [p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*.txt"))]
    paragraphs = [" ".join(p.split()) for block in blocks for p in re.split(r"\n\s*\n", block)]
    prose = [p for p in paragraphs if len(p) > 200 and sum(c.isalpha() or c == " " for c in p) / len(p) > 0.9]
    sentences = [s for p in prose for s in re.split(r"(?<=[.!?])\s+", p) if len(s) > 20]
    half = CALIBRATION_TEXTS // 2
    return prose[:: max(1, len(prose) // half)][:half] + sentences[:: max(1, len(sentences) // half)][:half]


@contextlib.contextmanager
def _quiet_converters():
    """openvino (on import, and its converter) and nncf send usage telemetry unless CI=true (their switch);
    nncf's progress bars go to stderr, never to a command's stdout (JSON answers)."""
    saved = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if saved is None:
            os.environ.pop("CI", None)
        else:
            os.environ["CI"] = saved


def int8_model(model_dir: Path) -> Path:
    """The quantised OpenVINO model (.xml, weights beside it) for `model_dir`, made on first use."""

    def make(model_dir: Path, folder: Path) -> None:
        try:
            with _quiet_converters():
                import nncf
                import openvino as ov
        except ImportError as err:
            raise ImportError(f"the openvino-int8 backend needs openvino and nncf: pip install 'quoteback[openvino]' ({err})") from None
        _export(model_dir, folder / "model.onnx")
        words = tokenizer(model_dir)
        feeds = []
        for text in _calibration_texts():  # one text a sample: no padding in the ranges
            ids = np.array([words.encode(text).ids], dtype=np.int64)
            feeds.append({"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)})
        with _quiet_converters():
            model = ov.convert_model(str(folder / "model.onnx"))
            keep_float = [op.get_friendly_name() for op in model.get_ops()
                          if op.get_type_name() == "MatMul" and op.input_value(0).get_node().get_type_name() == "Gelu"]
            nncf.set_log_level(logging.WARNING)
            quantized = nncf.quantize(model, nncf.Dataset(feeds), model_type=nncf.ModelType.TRANSFORMER, subset_size=len(feeds),
                                      ignored_scope=nncf.IgnoredScope(names=keep_float))
            ov.save_model(quantized, str(folder / "model-int8.xml"))
        (folder / "model.onnx").unlink()

    return cached_model(model_dir, "openvino", "model-int8.xml", make)


class OpenVinoModel(OnnxModel):
    """OnnxModel's tokenising and pooling around an OpenVINO int8 graph (it outputs token embeddings)."""

    def __init__(self, model_dir: Path, threads: int | None = None) -> None:
        model_dir = Path(model_dir)
        self.path = int8_model(model_dir)
        self.use_threads(threads)
        self.tokenizer = tokenizer(model_dir)
        self.tokenizer.enable_padding()
        self.dimension = int(self.compiled.output(0).get_partial_shape()[-1].get_length())

    def use_threads(self, threads: int | None = None) -> None:
        """(Re)compile for `threads` cores (default: every core this process may use). The throughput
        hint runs several streams of fewer threads each; a batch is shared out among them (~10% faster
        than one stream over all cores)."""
        with _quiet_converters():  # importing openvino sends telemetry too
            import openvino as ov

        threads = threads or max(1, len(os.sched_getaffinity(0)))
        self.compiled = ov.Core().compile_model(str(self.path), "CPU", {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "THROUGHPUT"})
        self.requests = [self.compiled.create_infer_request() for _ in range(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))]

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        out = []
        for begin in range(0, len(texts), batch_size):
            hidden, mask, _ = self.token_embeddings(texts[begin : begin + batch_size])
            pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
            out.append(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))
        return np.vstack(out).astype(np.float32)

    def _run_batch(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        started = []
        for request, rows in zip(self.requests, np.array_split(np.arange(len(ids)), len(self.requests))):
            if len(rows):
                request.start_async({"input_ids": ids[rows], "attention_mask": mask[rows], "token_type_ids": np.zeros_like(ids[rows])})
                started.append(request)
        for request in started:
            request.wait()
        return np.concatenate([request.get_output_tensor(0).data for request in started])

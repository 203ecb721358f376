"""Stage 5b: read the question and each top candidate together, and score how well it answers.

The retriever compares a question vector with passage vectors computed apart; the reader (a
cross-encoder trained by the project, see `quoteback.training`) reads both at once, with the
passage's title and section path before it, so "3M FY2018" can meet a cash-flow statement that
never names the company. It runs at question time only, on the few best candidates, as one int8
ONNX graph shipped in the package and loaded once, lazily.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .documents import file_hash as file_sha256  # the sha256 of a file, read in blocks

if TYPE_CHECKING:
    from .settings import Settings

READER_FILE = Path(__file__).resolve().parent / "data" / "reader-int8.onnx"
MAX_TOKENS = 192  # question and passage together; the passage is cut, never the question


def pair_tokenizer(model_dir: Path, max_tokens: int = MAX_TOKENS) -> Any:
    """MiniLM's fast tokenizer encoding (question, passage) pairs, cutting only the passage."""
    from tokenizers import Tokenizer

    out = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    out.enable_truncation(max_tokens, strategy="only_second")
    out.no_padding()
    return out


@dataclass(frozen=True)
class ReaderConfig:
    path: Path = READER_FILE
    max_tokens: int = MAX_TOKENS
    threads: int = 0  # 0: every core this process may use


class Reader:
    """Scores (question, passage text) pairs: a logit, higher when the passage answers.

    Each pair runs alone on a one-thread session, as many at once as there are cores (as the
    embedding backend runs texts): no padding, and a pair's score does not depend on the pairs
    beside it (the int8 graph quantises each run's activations with one scale). Measured on 20
    passages of ~500 characters, two busy cores: 155 ms against 402 ms for one padded batch.
    """

    def __init__(self, config: ReaderConfig = ReaderConfig()) -> None:
        self.config = config
        self._session: Any = None
        self._tokenizer: Any = None
        self._pool: Any = None

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Reader":
        return cls(ReaderConfig(path=Path(settings.reader_file) if settings.reader_file else READER_FILE))

    @staticmethod
    def available(path: Path = READER_FILE) -> bool:
        return Path(path).is_file()

    def _load(self) -> None:
        import onnxruntime as ort
        from concurrent.futures import ThreadPoolExecutor

        from .embeddings.encoder import resolve_model
        from .settings import DEFAULT_MODEL

        if not Path(self.config.path).is_file():
            raise RuntimeError(f"the reader model {self.config.path} is missing: set reader = false, or reader_file to an "
                               "exported reader (python -m quoteback.training.export)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(self.config.path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = pair_tokenizer(Path(resolve_model(DEFAULT_MODEL)), self.config.max_tokens)
        self._pool = ThreadPoolExecutor(self.config.threads or max(1, len(os.sched_getaffinity(0))))

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, dtype=np.float32)
        if self._session is None:
            self._load()
        pairs = self._tokenizer.encode_batch([(question, t) for t in texts])
        return np.array(list(self._pool.map(self._one, pairs)), dtype=np.float32)

    def _one(self, encoded: Any) -> float:
        ids = np.array([encoded.ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.array([encoded.type_ids], dtype=np.int64)}
        return float(self._session.run(None, feeds)[0].reshape(-1)[0])

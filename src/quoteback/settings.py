"""All tunable settings in one typed place.

Precedence, lowest first: defaults, a TOML file (`quoteback.toml` in the working directory or
`QUOTEBACK_CONFIG`), environment variables (`QUOTEBACK_<FIELD>`), then CLI flags.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("torch", "onnx-int8", "openvino-int8")
DEFAULT_BACKEND = "onnx-int8"  # the same model as int8 ONNX: ~1.5x faster on CPU, dev quality within 0.005, no torch import to answer
SENTENCE_POOLINGS = ("contextual", "separate")
STORES = ("files", "milvus")
INDEX_TYPES = ("auto", "flat", "ivf", "ivf-flat", "hnsw")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NAMED = re.compile(r"([^/\\=]*)=(.*)", re.S)  # NAME=PATH: no slash before the first "="


@dataclass(frozen=True)
class Collections(Mapping[str, Path]):
    """Named document folders served together, name -> corpus folder, in the order given; each has
    its own index (`<index>/<name>/`). Empty: the one unnamed corpus of `Settings.corpus`."""

    pairs: tuple[tuple[str, Path], ...] = ()

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for name, _ in self.pairs:
            if not _NAME.fullmatch(name):
                raise ValueError(f"collection name {name!r} may hold only letters, digits, - and _ (1 to 64 of them)")
            if name in seen:
                raise ValueError(f"collection {name!r} is named twice; give each collection one folder")
            seen.add(name)

    @classmethod
    def parse(cls, value: Any) -> "Collections":
        """From a TOML table ({name: folder}), an environment string ("a=./a,b=./b") or `NAME=PATH` strings."""
        if isinstance(value, Collections):
            return value
        if isinstance(value, Mapping):
            return cls(tuple((str(k), Path(v)) for k, v in value.items()))
        items = [v for v in value.split(",") if v.strip()] if isinstance(value, str) else list(value)
        pairs = []
        for item in items:
            named = _NAMED.fullmatch(str(item).strip())
            if not named or not named.group(2):
                raise ValueError(f"{item!r} is not NAME=FOLDER (e.g. policies=./policies)")
            pairs.append((named.group(1), Path(named.group(2))))
        return cls(tuple(pairs))

    def __getitem__(self, name: str) -> Path:
        for key, folder in self.pairs:
            if key == name:
                return folder
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)


def corpus_flags(values: Iterable[str]) -> dict[str, Any]:
    """The `--corpus` flags as settings: one plain `--corpus PATH` is the one unnamed corpus (as
    before collections); `--corpus NAME=PATH` (repeatable) names collections. Mixing the two, or
    two plain folders, is a ValueError; no flag changes nothing."""
    values = list(values)
    if not values:
        return {}
    named = [v for v in values if _NAMED.fullmatch(v)]
    if not named:
        if len(values) > 1:
            raise ValueError("--corpus names one folder, or several as NAME=FOLDER (e.g. --corpus policies=./policies)")
        return {"corpus": Path(values[0]), "collections": Collections()}
    if len(named) != len(values):
        raise ValueError("--corpus: give every folder a name (NAME=FOLDER) or give one plain folder, not both")
    return {"collections": Collections.parse(values)}


@dataclass(frozen=True)
class Settings:
    corpus: Path = Path("corpus")
    index: Path = Path("index")
    model: str = DEFAULT_MODEL  # packaged name, a local folder, or a hub name
    batch_size: int = 32
    backend: str = DEFAULT_BACKEND  # onnx-int8 | torch (sentence-transformers as it loads the model) | openvino-int8 (the [openvino] extra)
    max_chars: int = 700  # passage size target; passages never cut a sentence
    min_chars: int = 60  # shorter paragraphs join the previous passage when they fit
    embed_title: bool = True  # prefix the document title to what is embedded and BM25-indexed
    sentence_vectors: bool = True  # also embed each sentence: re-scoring and highlights use them
    sentence_pooling: str = "separate"  # separate: each sentence encoded alone | contextual: pooled from the passage's own forward pass (~3x faster builds; Success@1 0.006 lower on squad2-dev, 0.11 on realdocs-dev)
    retrieval: str = "hybrid"  # dense | bm25 | hybrid
    dense_weight: float = 0.4  # hybrid fusion: share of the passage cosine
    sentence_weight: float = 0.3  # ... of the best sentence cosine
    coverage_weight: float = 0.15  # ... of the best sentence's keyword coverage (idf share); BM25 gets the rest
    heading_weight: float = 0.15  # added times the share of a heading above the passage that the question names ("in the cash flow statement"; see README)
    bm25_k1: float = 0.9  # tuned on the dev sets (see README)
    bm25_b: float = 0.4
    k: int = 3  # at most this many quotes per answer
    quote_margin: float = 0.15  # further quotes only when their score is within this of the first
    candidates: int = 100  # passages each retriever hands to fusion
    feedback: int = 0  # >0: relevance feedback from this many top passages (broad topic searches; off for Q&A)
    reader: bool = False  # re-score the best passages with the reader (a cross-encoder trained by the project; see README)
    reader_depth: int = 20  # how many best passages the reader reads
    reader_weight: float = 0.1  # its logit's weight beside the fused score (fitted on held-out SQuAD train questions)
    reader_file: str = ""  # an int8 ONNX reader (python -m quoteback.training.export); empty: the one shipped in the package
    abstain_below: float = 0.25  # when no passage found comes this near (dense cosine), decline: off topic
    answer_from: float = 0.35  # calibrated confidence from which the first quote is given as the answer (dev-tuned)
    related_from: float = 0.0  # ... from which the closest passages are shown as related; below: declined. 0: an on-topic question (within the cosine floor) is at worst related; decline is for questions the documents are not about
    max_question_chars: int = 2000
    index_type: str = "auto"  # auto | flat | ivf (8-bit codes, candidates re-ranked by the stored vectors) | ivf-flat (float32 lists: 4x the memory) | hnsw
    ann_from: int = 50_000  # auto switches from exact search to IVF (tuned nprobe) at this many passages
    hnsw_ef_search: int = 128
    store: str = "files"  # files: the embedded index folder | milvus: a Milvus server (uri, token, milvus_collection)
    uri: str = ""  # the Milvus server, e.g. http://127.0.0.1:19530
    token: str = ""  # Milvus authentication ("user:password" or an API key); prefer QUOTEBACK_TOKEN to a flag
    milvus_collection: str = ""  # the Milvus collection; default: one per corpus folder (named collections: BASE_<name>)
    collections: Collections = Collections()  # named corpus folders ([collections] in TOML); empty: `corpus` alone
    feedback_enabled: bool = True  # users' judgments of replies (chat buttons, `quoteback feedback`); off: no buttons, the CLI says so
    feedback_db: str = ""  # the feedback database (SQLite); empty: feedback.sqlite in the index folder, beside its versions

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {self.backend!r}; choose from {', '.join(BACKENDS)}")
        if self.sentence_pooling not in SENTENCE_POOLINGS:
            raise ValueError(f"unknown sentence_pooling {self.sentence_pooling!r}; choose from {', '.join(SENTENCE_POOLINGS)}")
        if self.index_type not in INDEX_TYPES:  # anything else used to mean exact search, silently
            raise ValueError(f"unknown index_type {self.index_type!r}; choose from {', '.join(INDEX_TYPES)}")
        if self.store not in STORES:
            raise ValueError(f"unknown store {self.store!r}; choose from {', '.join(STORES)}")
        if self.k < 1:  # 0 or fewer quotes would read as "the documents don't say"
            raise ValueError(f"k (the number of quotes, -k) must be 1 or more, not {self.k}")

    def replace(self, **changes: Any) -> "Settings":
        """A copy with the given fields changed; None values are ignored (unset CLI flags)."""
        clean = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **{k: _coerce(self, k, v) for k, v in clean.items()})

    def for_collection(self, name: str) -> "Settings":
        """The settings of one named collection: its folder, its index `<index>/<name>/`, its own
        Milvus collection, and no collections of its own."""
        if name not in self.collections:
            known = ", ".join(self.collections) or "none are named (--corpus NAME=FOLDER names them)"
            raise ValueError(f"unknown collection {name!r}; the collections: {known}")
        corpus, plain = self.collections[name], name.replace("-", "_")  # Milvus names allow no "-"
        digest = hashlib.sha256(str(corpus.expanduser().resolve()).encode()).hexdigest()[:10]  # two servers' "policies" apart
        milvus = f"{self.milvus_collection}_{plain}" if self.milvus_collection else f"qb_{plain}_{digest}"
        return dataclasses.replace(self, corpus=corpus, index=self.index / name, collections=Collections(), milvus_collection=milvus)

    def chunker_settings(self) -> dict[str, Any]:
        return {"max_chars": self.max_chars, "min_chars": self.min_chars}

    def bm25_settings(self) -> dict[str, float]:
        return {"k1": self.bm25_k1, "b": self.bm25_b}


def _coerce(settings: Settings, name: str, value: Any) -> Any:
    current = getattr(settings, name)
    if isinstance(current, bool):
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)
    if isinstance(current, Path):
        return Path(value)
    if isinstance(current, Collections):
        return Collections.parse(value)
    return type(current)(value)


def load_settings(config: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Defaults, then the TOML file, then QUOTEBACK_* environment variables."""
    environ = dict(os.environ if environ is None else environ)
    settings = Settings()
    path = config or (Path(environ["QUOTEBACK_CONFIG"]) if "QUOTEBACK_CONFIG" in environ else None)
    if path is None and Path("quoteback.toml").is_file():
        path = Path("quoteback.toml")
    names = {f.name for f in fields(Settings)}
    if path is not None:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        data = dict(data.get("quoteback", data))
        if isinstance(data.get("collection"), str):  # its name before collections were quoteback's own
            data.setdefault("milvus_collection", data.pop("collection"))
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"{path}: unknown settings {sorted(unknown)}; known: {sorted(names)}")
        settings = settings.replace(**data)
    if "QUOTEBACK_COLLECTION" in environ:  # the Milvus collection's earlier name, as in the TOML file
        environ.setdefault("QUOTEBACK_MILVUS_COLLECTION", environ.pop("QUOTEBACK_COLLECTION"))
    from_env = {n: environ[f"QUOTEBACK_{n.upper()}"] for n in names if f"QUOTEBACK_{n.upper()}" in environ}
    return settings.replace(**from_env)


def cache_root() -> Path:
    """Where derived files live (evaluation corpora and indexes, exported models): never the
    dataset or corpus folders themselves."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "quoteback"


def offline_environment() -> None:
    """Never reach for the network: a hub name would otherwise hang for a minute before failing."""
    for key, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TRANSFORMERS_VERBOSITY": "error",
        "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    }.items():
        os.environ.setdefault(key, value)

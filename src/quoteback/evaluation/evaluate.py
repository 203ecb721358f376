"""`quoteback eval`: retrieval quality of the same pipeline users run, measured with ir-measures."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..build import IndexBuilder
from ..status import settings_fingerprint
from .datasets import Dataset, doc_id, eval_root, index_folder, load_dataset, materialise
from ..embeddings import Embedder
from ..answer import Answer, Answerer, topic_cosine
from ..answerability import Calibrator, Signals
from ..filters import Condition, Filter
from .honesty import honesty
from .pages import page_hits, page_qrels, page_units
from ..index import Index
from ..index.backends import open_backend
from .quote_checks import QuoteChecks, normalise, phrases
from .spans import passage_units, span_qrels, wrong_first
from ..fusion import Fusion, configurations
from ..reader import Reader
from ..retrieval import Retriever
from ..settings import Settings

MEASURES = ("nDCG@10", "RR@10", "R@100", "Success@1")
MISSING = "(not in the extracted text)"  # the judged unit of a question whose phrases no passage holds
CONFIGS = tuple(configurations(Fusion()))  # the names; each is a Fusion built from the settings (fusion.py)
DEFAULT_CONFIGS = ["dense", "bm25", "rrf", "hybrid", "hybrid+sentences"]
REPO_SET = Path(__file__).resolve().parents[1] / "data" / "shipped-questions"


def default_sets() -> list[Path]:
    """The shipped question set, plus the development sets when a checkout sits beside them."""
    root = eval_root()
    return [REPO_SET] + (sorted(p.resolve() for p in root.iterdir() if (p / "queries.jsonl").is_file()) if root else [])


@dataclass
class ConfigResult:
    name: str
    metrics: dict[str, float]
    per_query: dict[str, dict[str, float]]
    runs: dict[str, list[tuple[str, float]]]  # query id -> ranked (unit id, score)
    top_passage: dict[str, int]
    top_dense: dict[str, float]  # how near the documents come (`topic_cosine`): what the cosine floor looks at
    shown: dict[str, list[int]] = field(default_factory=dict)  # the passages a user would see quoted (first 3)
    answers: dict[str, Answer] = field(default_factory=dict)  # main configuration: what `ask` would reply
    signals: dict[str, Signals] = field(default_factory=dict)  # main configuration: what the confidence looked at


@dataclass
class EvalResult:
    dataset: str
    queries: int
    configs: list[ConfigResult]
    abstention: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    data: Dataset | None = None  # for reports: the questions and judgments
    index: Index | None = None  # for reports: the passages quoted
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)
    split: str = "test"  # which qrels file judged the queries
    missing: list[str] = field(default_factory=list)  # phrase sets: queries whose phrases are in no passage
    checks: QuoteChecks | None = None  # phrase sets: extraction leftovers and citations in the quotes shown
    honesty: dict[str, Any] = field(default_factory=dict)  # outcomes, reliability, highlight accuracy (see honesty.py)
    pages: dict[str, Any] = field(default_factory=dict)  # page sets: page@1 / page@3 of the replies (see pages.py)
    spans: dict[str, Any] = field(default_factory=dict)  # span sets: questions whose first passage was judged wrong (spans.py)

    @property
    def main(self) -> ConfigResult:
        return self.configs[-1]

    def to_json(self, config: str | None = None) -> dict[str, Any]:
        main = next((c for c in self.configs if c.name == config), self.main)
        return {
            "dataset": self.dataset,
            "split": self.split,
            "queries": self.queries,
            "config": main.name,
            "metrics": main.metrics,
            "configs": {c.name: c.metrics for c in self.configs},
            "abstention": {k: v for k, v in self.abstention.items() if k != "curve"},
            "seconds": round(self.seconds, 1),
            **({"not_in_extracted_text": self.missing} if self.data is not None and self.data.expect else {}),
            **({"quote_checks": self.checks.to_json()} if self.checks else {}),
            "honesty": {k: v for k, v in self.honesty.items() if k != "curve"},
            **({"pages": self.pages} if self.pages else {}),
            **({"spans": self.spans} if self.spans else {}),
        }


class Evaluator:
    def __init__(self, settings: Settings, configs: list[str] | None = None, embedder: Embedder | None = None,
                 split: str = "test", calibrator: Calibrator | None = None, scope_doc: bool = False,
                 collection: Settings | None = None) -> None:
        self.settings = settings
        self.collection = collection  # `eval --collection`: the questions asked of its folder and index, not the set's own
        self.scope_doc = scope_doc  # search each question only in the document it names (page sets): the doc filter
        self.calibrator = calibrator  # None: the shipped one
        self.split = split
        self.configs = configs or DEFAULT_CONFIGS
        unknown = set(self.configs) - set(CONFIGS)
        if unknown:
            raise ValueError(f"unknown configurations {sorted(unknown)}; choose from {', '.join(CONFIGS)}")
        self.embedder = embedder or Embedder.from_settings(settings)
        self.reader = Reader.from_settings(settings)  # loaded when a configuration first reads

    def prepare(self, dataset: Dataset, progress=None) -> Index:
        if self.collection is not None:
            settings = self.collection
        else:
            corpus = materialise(dataset)
            # a span set is evaluated on the index its spans were mapped to, built first if stale (as `ask` does)
            index = dataset.index_dir or index_folder(corpus, settings_fingerprint(self.settings))
            settings = self.settings.replace(corpus=corpus, index=index)
        IndexBuilder(settings, self.embedder).build(progress=progress)
        return open_backend(settings).load()  # the embedded store, or the set's own Milvus collection

    def run(self, folder: Path, progress=None) -> EvalResult:
        started = time.perf_counter()
        dataset = load_dataset(folder, self.split)
        index = self.prepare(dataset, progress)
        units, qrels = self._units(dataset, index)
        ids = [q for q in dataset.queries if q in qrels]
        probes = [q for q in dataset.spans if q not in qrels]  # span sets: judged wrong only, searched but not scored
        texts = [dataset.queries[q] for q in ids + probes] + list(dataset.unanswerable.values())
        vectors = self.embedder.encode(texts)
        all_ids = ids + probes + list(dataset.unanswerable)
        answerer = Answerer(index, self.embedder, self.settings, self.calibrator)
        scopes = self._scopes(dataset, ids)
        results = [self._config(name, index, units, qrels, all_ids, texts, vectors, answerer if name == self.configs[-1] else None, scopes)
                   for name in self.configs]
        out = EvalResult(dataset.name, len(ids), results, data=dataset, index=index, qrels=qrels, split=self.split)
        if dataset.expect:
            out.missing = [q for q in ids if MISSING in qrels[q]]
            out.checks = check_quotes(index, results[-1], ids)
        out.seconds = time.perf_counter() - started
        if dataset.unanswerable:
            out.abstention = abstention(results[-1], ids, list(dataset.unanswerable), self.settings.abstain_below)
        out.honesty = honesty(out, self.settings)
        if dataset.evidence:
            out.pages = page_hits(dataset, results[-1].answers)
        if dataset.spans:
            out.spans = wrong_first(dataset, results[-1], index)
        return out

    def _scopes(self, dataset: Dataset, ids: list[str]) -> dict[str, Filter]:
        """With `scope_doc`, each question's filter `doc=<the file it names>`."""
        if not self.scope_doc:  # span sets: each question searched under the filters it was asked with
            return {q: Filter.parse(w) for q, w in dataset.where.items()}
        if not dataset.evidence:
            raise ValueError(f"{dataset.name} does not name each question's document; --scope-doc needs a page set")
        return {q: Filter((Condition("doc", "=", dataset.evidence[q][0]),)) for q in ids if q in dataset.evidence}

    def _units(self, dataset: Dataset, index: Index) -> tuple[list[str], dict[str, dict[str, int]]]:
        """What a hit counts as: its corpus document (BEIR), the page it starts on (page sets), or
        the passage itself (phrase and span sets)."""
        if dataset.evidence:
            return page_units(index), page_qrels(dataset)
        if dataset.spans:
            return span_qrels(dataset, index)
        if not dataset.expect:
            return [doc_id(p.document) for p in index.passages], dataset.qrels
        units = passage_units(index)
        texts = [normalise(p.text) for p in index.passages]
        qrels = {}
        for qid, expected in dataset.expect.items():
            wanted = phrases(expected)
            qrels[qid] = {u: 1 for u, text in zip(units, texts) if any(x in text for x in wanted)}
            # a phrase in no passage: the extraction lost it; the question counts as a miss
            qrels[qid] = qrels[qid] or {MISSING: 1}
        return units, qrels

    def _config(self, name, index, units, qrels, ids, texts, vectors, answerer: Answerer | None = None,
                scopes: dict[str, Filter] | None = None) -> ConfigResult:
        base = replace(Fusion.from_settings(self.settings), candidates=max(self.settings.candidates, 300))
        retriever = Retriever(index, self.embedder, configurations(base)[name], self.reader)
        runs, top_passage, top_dense, shown, answers, found = {}, {}, {}, {}, {}, {}
        for qid, text, vector in zip(ids, texts, vectors):
            hits = retriever.search(text, 300, vector=vector, where=(scopes or {}).get(qid))
            ranked: dict[str, float] = {}
            for hit in hits:
                p = index.passages[hit.passage_id]
                assert index.documents[p.document].text[p.start : p.end] == p.text, "a quote is not an exact slice"
                ranked.setdefault(units[hit.passage_id], hit.score)
            runs[qid] = list(ranked.items())[:100]
            top_passage[qid] = hits[0].passage_id if hits else -1
            seen = hits[: 3 * self.settings.k]  # what `Answerer.ask` judges
            top_dense[qid] = topic_cosine(seen)
            shown[qid] = [h.passage_id for h in hits[:3]]
            if answerer is not None and hits:
                answers[qid] = answerer.compose(text, text, seen, vector, answerer.settings.k)
                found[qid] = answers[qid].signals
        judged = {q: runs[q] for q in ids if q in qrels}
        per_query, metrics = score_runs(qrels, {q: dict(ranked) for q, ranked in judged.items()})
        return ConfigResult(name, metrics, per_query, runs, top_passage, top_dense, shown, answers, found)


def check_quotes(index: Index, result: ConfigResult, ids: list[str]) -> QuoteChecks:
    """Extraction leftovers and citations over the quotes shown for the answerable questions."""
    checks = QuoteChecks()
    for qid in ids:
        for pid in result.shown.get(qid, []):
            p = index.passages[pid]
            doc = index.documents[p.document]
            checks.check(doc, p.start, p.end, doc.page_at(p.start), doc.section_label(p.start))
    return checks


def score_runs(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Per-query and mean values of MEASURES (ir-measures; graded qrels count as trec_eval does)."""
    import ir_measures

    measures = [ir_measures.parse_measure(m) for m in MEASURES]
    per_query = {q: {m: 0.0 for m in MEASURES} for q in run}
    for metric in ir_measures.iter_calc(measures, {q: qrels[q] for q in run}, run):
        per_query[metric.query_id][str(metric.measure)] = float(metric.value)
    metrics = {m: round(float(np.mean([v[m] for v in per_query.values()])) if per_query else 0.0, 4) for m in MEASURES}
    return per_query, metrics


def abstention(result: ConfigResult, answerable: list[str], unanswerable: list[str], threshold: float) -> dict[str, Any]:
    """Shares answered/declined at the configured threshold, the curve, and the 95%-answered point."""
    a = np.array([result.top_dense[q] for q in answerable])
    u = np.array([result.top_dense[q] for q in unanswerable])
    curve = []
    for t in np.round(np.arange(0.0, 1.0, 0.01), 2):
        curve.append({"threshold": float(t), "answered": float((a >= t).mean()), "declined": float((u < t).mean())})
    ok = [c for c in curve if c["answered"] >= 0.95]
    point = max(ok, key=lambda c: c["threshold"]) if ok else curve[0]
    return {
        "threshold": threshold,
        "answerable_answered": round(float((a >= threshold).mean()), 4),
        "unanswerable_declined": round(float((u < threshold).mean()), 4),
        "at_95_answered": {"threshold": point["threshold"], "unanswerable_declined": round(point["declined"], 4)},
        "curve": curve,
    }

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from quoteback.build import IndexBuilder
from quoteback.embeddings import Embedder
from quoteback.status import index_status
from quoteback.index import IndexCorrupt, IndexMissing, live_folder, load_index
from quoteback.pipeline import open_answerer

SENTENCES = [
    "The committee approved the budget for the new bridge over the river.",
    "Engineers measured the wind loads on the tower during the storm.",
    "The museum opened an exhibition of medieval maps and globes.",
    "Farmers reported that the spring rains came two weeks early.",
    "The orchestra rehearsed the symphony for the winter festival.",
]


def _write_corpus(folder: Path, n: int = 5) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        body = "\n\n".join(f"{SENTENCES[(i + j) % 5]} Document {i} paragraph {j}." for j in range(3))
        (folder / f"doc{i}.txt").write_text(body)


def test_incremental_rebuild_embeds_only_what_changed(tmp_path, settings_for, counting):
    corpus = tmp_path / "corpus"
    _write_corpus(corpus)
    settings = settings_for(corpus, sentence_pooling="contextual")
    first = IndexBuilder(settings, counting).build()
    assert (first.added, first.embedded_passages, first.embedded_sentences) == (5, 15, 30)
    assert counting.count == first.embedded_passages == 15  # one forward pass per passage gives its sentences' vectors too
    before = load_index(settings.index)
    kept = np.vstack([before.sentence_rows(i) for i, p in enumerate(before.passages) if p.document == "doc2.txt"])

    counting.count = 0
    again = IndexBuilder(settings, counting).build()
    assert counting.count == 0 and not again.wrote and again.unchanged == 5

    (corpus / "doc1.txt").write_text("A completely new text about lighthouses on the coast.")
    (corpus / "doc4.txt").unlink()
    (corpus / "new.md").write_text("# Added\n\nAn added note on glaciers and their retreat.")
    report = IndexBuilder(settings, counting).build()
    assert (report.unchanged, report.changed, report.added, report.removed) == (3, 1, 1, 1)
    assert report.embedded_passages == 2 and report.embedded_sentences == 3  # doc1's one passage, new.md's one
    assert counting.count == 2
    index = load_index(settings.index)
    assert index.manifest.sentence_pooling == "contextual"
    # unchanged documents keep their sentence vectors, row for row
    rows = [np.array(index.sentence_rows(i)) for i, p in enumerate(index.passages) if p.document == "doc2.txt"]
    assert len(rows) == 3 and kept.shape == (6, 384) and np.array_equal(np.vstack(rows), kept)
    for i, p in enumerate(index.passages):  # one unit vector per sentence, each an exact slice of its document
        assert index.sentence_rows(i).shape == (len(p.sentences), 384)
        assert np.allclose(np.linalg.norm(index.sentence_rows(i), axis=1), 1, atol=1e-4)
        assert all(index.documents[p.document].text[a:b] in p.text for a, b in p.sentences)
    docs = {p.document for p in index.passages}
    assert "doc4.txt" not in docs and {"doc1.txt", "new.md"} <= docs
    assert "3 unchanged, 1 changed, 1 added, 1 removed" in report.summary()
    # reused vectors still line up with their passages
    answer = open_answerer(settings, embedder=counting).answerer.ask("lighthouses on the coast")
    assert answer.quotes[0].document == "doc1.txt"


def test_status_reports_staleness(tmp_path, settings_for, counting):
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, 2)
    settings = settings_for(corpus)
    assert index_status(settings).stale
    IndexBuilder(settings, counting).build()
    assert not index_status(settings).stale
    (corpus / "doc0.txt").write_text("Changed.")
    status = index_status(settings)
    assert status.stale and "1 changed" in status.reasons[0]
    assert index_status(settings.replace(max_chars=300)).stale


@pytest.mark.parametrize("added, shown", [(6, "6 added: new0.txt, new1.txt, new2.txt, new3.txt, new4.txt, new5.txt"),
                                          (8, "8 added: new0.txt, new1.txt, new2.txt, new3.txt, new4.txt and 3 more")])
def test_stale_reasons_name_every_file_or_say_how_many_more(tmp_path, settings_for, counting, added, shown):
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, 1)
    settings = settings_for(corpus)
    IndexBuilder(settings, counting).build()
    for i in range(added):
        (corpus / f"new{i}.txt").write_text(f"New document number {i}.")
    assert index_status(settings).reasons == [shown]


def test_settings_change_forces_full_rebuild(tmp_path, settings_for, counting):
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, 2)
    IndexBuilder(settings_for(corpus), counting).build()
    counting.count = 0
    report = IndexBuilder(settings_for(corpus, max_chars=120), counting).build()
    assert report.full_rebuild_reason == "settings changed" and report.embedded_passages == report.passages > 0
    assert counting.count == report.embedded_passages + report.embedded_sentences  # the default encodes sentences alone


def test_sentence_pooling_is_a_setting_and_a_change_rebuilds(tmp_path, settings_for, counting):
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, 2)
    separate = settings_for(corpus)
    assert separate.sentence_pooling == "separate"  # the default
    report = IndexBuilder(separate, counting).build()
    assert counting.count == report.embedded_passages + report.embedded_sentences == 6 + 12  # every sentence again
    old = load_index(separate.index)
    assert old.manifest.sentence_pooling == "separate" and not index_status(separate).stale
    contextual = settings_for(corpus, sentence_pooling="contextual")
    assert index_status(contextual).stale  # contextual vectors need a rebuild
    counting.count = 0
    report = IndexBuilder(contextual, counting).build()
    assert report.full_rebuild_reason == "settings changed" and counting.count == report.embedded_passages == 6
    new = load_index(separate.index)
    assert np.allclose(new.store.embeddings, old.store.embeddings, atol=1e-5)  # passage vectors as before
    assert new.store.sentence_matrix.shape == old.store.sentence_matrix.shape
    assert not np.allclose(new.store.sentence_matrix, old.store.sentence_matrix, atol=1e-3)  # sentences now read in context
    # an index from before the setting (no sentence_pooling in its manifest) holds separate vectors
    manifest_path = live_folder(separate.index) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.pop("sentence_pooling")
    manifest_path.write_text(json.dumps(manifest))
    assert index_status(contextual).stale and not index_status(separate).stale
    with pytest.raises(ValueError, match="sentence_pooling"):
        settings_for(corpus, sentence_pooling="cls")


def test_model_mismatch_is_an_error_or_a_rebuild(tmp_path, settings_for, counting):
    from quoteback.index import IndexMismatch

    corpus = tmp_path / "corpus"
    _write_corpus(corpus, 1)
    IndexBuilder(settings_for(corpus), counting).build()
    other = settings_for(corpus, model="some/other-model")
    with pytest.raises(IndexMismatch, match="rebuild"):
        open_answerer(other, build=False, embedder=counting)
    assert index_status(other).stale


def test_corrupt_files_give_a_clear_error_and_build_recovers(tmp_path, settings_for, counting):
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, 2)
    settings = settings_for(corpus)
    with pytest.raises(IndexMissing, match="quoteback build"):
        load_index(settings.index)
    IndexBuilder(settings, counting).build()
    folder = live_folder(settings.index)
    (folder / "dense.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexCorrupt, match="quoteback build --force"):
        load_index(settings.index)
    report = IndexBuilder(settings, counting).build()
    assert report.full_rebuild_reason.startswith("previous index unusable")
    assert len(load_index(settings.index).passages) == 6

    (live_folder(settings.index) / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorrupt, match="quoteback build --force"):
        load_index(settings.index)
    (live_folder(settings.index) / "manifest.json").write_text("{}")
    with pytest.raises(Exception, match="quoteback build --force"):
        load_index(settings.index)


def test_failed_swap_keeps_previous_index(tmp_path, settings_for, counting, monkeypatch):
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, 2)
    settings = settings_for(corpus)
    IndexBuilder(settings, counting).build()
    (corpus / "doc0.txt").write_text("Replacement text about volcanoes.")

    def crash(*args):
        raise OSError("simulated crash at the swap")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        IndexBuilder(settings, counting).build()
    monkeypatch.undo()
    index = load_index(settings.index)
    assert any("Document 0 paragraph 0" in p.text for p in index.passages)


def test_bad_documents_are_skipped_and_reported(tmp_path, settings_for, counting):
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, 1)
    (corpus / "bad.pdf").write_bytes(b"%PDF-1.4 broken")
    settings = settings_for(corpus)
    report = IndexBuilder(settings, counting).build()
    assert [s.path for s in report.skipped] == ["bad.pdf"]
    assert json.loads((live_folder(settings.index) / "manifest.json").read_text())["skipped"][0]["path"] == "bad.pdf"
    again = IndexBuilder(settings, counting).build()
    assert not again.wrote and [s.path for s in again.skipped] == ["bad.pdf"]


def test_a_sidecar_change_makes_its_document_stale_and_the_rebuild_reads_it(tmp_path, settings_for, counting):
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, 2)
    side = corpus / "doc1.txt.meta.json"
    side.write_text('{"title": "Storms", "tags": ["weather"]}')
    settings = settings_for(corpus)
    first = IndexBuilder(settings, counting).build()
    assert (first.added, first.skipped, first.notices) == (2, [], [])  # the sidecar is part of doc1, not a file of its own
    assert not index_status(settings).stale
    for change in ('{"title": "Wind", "date": "2020-01-31", "tags": ["wind", "weather"]}', '{"tags": 1}', None):
        side.write_text(change) if change else side.unlink()
        assert index_status(settings).reasons == ["1 changed: doc1.txt"]
        report = IndexBuilder(settings, counting).build()
        assert (report.unchanged, report.changed, report.embedded_passages) == (1, 1, 3)
        doc = load_index(settings.index).documents["doc1.txt"]
        assert not index_status(settings).stale and load_index(settings.index).manifest.documents["doc1.txt"].title == doc.title
        if change and "Wind" in change:
            assert (doc.title, doc.date, doc.tags) == ("Wind", "2020-01-31", ["wind", "weather"]) and not report.notices
        else:
            warned = [n.path for n in report.notices if n.message.startswith("sidecar doc1.txt.meta.json ignored: tags")]
            assert doc.tags == [] and warned == (["doc1.txt"] if change else []) and len(report.notices) == len(warned)
    side.write_text('{"tags": ["weather"]}')  # adding one is a change too
    assert index_status(settings).reasons == ["1 changed: doc1.txt"]


def test_killed_build_leaves_previous_index_usable(tmp_path, settings_for, embedder):
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, 3)
    settings = settings_for(corpus)
    IndexBuilder(settings, embedder).build()
    for i in range(1500):  # enough text that embedding takes well over ten seconds
        (corpus / f"extra{i}.txt").write_text(" ".join(SENTENCES) + f" Extra {i}.\n\n" + " ".join(reversed(SENTENCES)))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "src")}
    cmd = [sys.executable, "-m", "quoteback", "build", "--corpus", str(corpus), "--index", str(settings.index)]
    for delay in (2.0, 6.0, 10.0):  # while loading the model, and twice while embedding
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        assert proc.poll() is None, "the build finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        index = load_index(settings.index)
        assert len(index.passages) == 9 and {p.document for p in index.passages} == {"doc0.txt", "doc1.txt", "doc2.txt"}
        answer = open_answerer(settings, build=False, embedder=embedder).answerer.ask("wind loads on the tower")
        assert answer.answered and "wind loads" in answer.quotes[0].text
    for extra in corpus.glob("extra*.txt"):
        extra.unlink()
    report = IndexBuilder(settings, embedder).build()  # the next build works and clears leftovers
    assert report.passages == 9 and report.unchanged == 3
    assert [p.name for p in settings.index.glob("v-*")] == [live_folder(settings.index).name]


def test_bm25_settings_change_rebuilds_bm25_without_embedding(tmp_path, settings_for, counting):
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, 2)
    IndexBuilder(settings_for(corpus), counting).build()
    changed = settings_for(corpus, bm25_k1=1.5)
    status = index_status(changed)
    assert status.stale and "BM25" in status.reasons[0]
    counting.count = 0
    report = IndexBuilder(changed, counting).build()
    assert report.wrote and counting.count == 0 and report.full_rebuild_reason is None
    assert load_index(changed.index).manifest.bm25 == {"k1": 1.5, "b": 0.4}
    assert not index_status(changed).stale


def test_backend_is_recorded_and_a_change_needs_a_rebuild(seed_corpus, settings_for, embedder):
    from quoteback.index import IndexMismatch
    from tests.conftest import SEED

    torch_settings = settings_for(seed_corpus, backend="torch")
    embedder = Embedder(backend="torch")
    IndexBuilder(torch_settings, embedder).build()
    onnx_settings = torch_settings.replace(backend="onnx-int8")
    status = index_status(onnx_settings)
    assert status.stale and "backend" in status.reasons[0]
    with pytest.raises(IndexMismatch, match="onnx-int8"):
        open_answerer(onnx_settings, build=False, embedder=embedder)
    ready = open_answerer(onnx_settings)  # rebuilds with the int8 model
    assert ready.report is not None and ready.report.full_rebuild_reason == "settings changed"
    assert load_index(onnx_settings.index).manifest.model.backend == "onnx-int8"
    answer = ready.answerer.ask("What is MINUSMA?")
    text = SEED.read_text(encoding="utf-8")
    assert answer.answered and "known as MINUSMA" in answer.quotes[0].text
    assert all(text[q.start : q.end] == q.text for q in answer.quotes)
    assert not index_status(onnx_settings).stale and index_status(torch_settings).stale


def test_ivf_rebuild_keeps_the_trained_centroids(tmp_path, settings_for, counting):
    import faiss
    import numpy as np

    corpus = tmp_path / "corpus"
    _write_corpus(corpus, n=30)
    settings = settings_for(corpus, index_type="ivf")
    IndexBuilder(settings, counting).build()
    first = load_index(settings.index)
    before = faiss.extract_index_ivf(first.store.dense.index)
    (corpus / "new.md").write_text("# Added\n\nAn added note on glaciers and their retreat.")
    IndexBuilder(settings, counting).build()
    index = load_index(settings.index)
    after = faiss.extract_index_ivf(index.store.dense.index)
    assert index.store.dense.ntotal == len(index.passages) == 91
    assert np.array_equal(after.quantizer.reconstruct_n(0, after.nlist), before.quantizer.reconstruct_n(0, before.nlist))
    assert open_answerer(settings, embedder=counting).answerer.ask("glaciers and their retreat").quotes[0].document == "new.md"

"""Uploads refuse a second copy of a file's content; removal moves a file to a trash it can be
restored from. Real files in a tmp corpus folder; the index build uses the real model."""

from __future__ import annotations

from pathlib import Path

import pytest

from quoteback.app.service import ChatService
from quoteback.settings import Settings

TRASH = ".quoteback-trash"  # in the corpus folder, hidden: the name the issue asks for
NOTE = "# Heron notes\n\nThe grey heron waits motionless in the shallows of the estuary.\n"


@pytest.fixture
def service(tmp_path) -> ChatService:
    """The service's file handling alone: no model is loaded to save, remove or restore files."""
    corpus = tmp_path / "corpus"
    (corpus / "birds").mkdir(parents=True)
    (corpus / "birds" / "heron-notes.md").write_text(NOTE)
    service = ChatService.__new__(ChatService)
    service.settings = Settings(corpus=corpus, index=tmp_path / "index")
    return service


def _upload(tmp_path: Path, text: str, name: str = "upload.tmp") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_second_copy_of_a_files_content_is_refused_naming_the_file(service, tmp_path):
    copy = service.save_upload(_upload(tmp_path, NOTE), "heron (1).md")
    assert not copy.ok and copy.message == "refused: the same content is already in the corpus as birds/heron-notes.md"
    assert service.corpus_names() == ["birds/heron-notes.md"]
    same_name = service.save_upload(_upload(tmp_path, NOTE + "\nIt nests in colonies.\n"), "heron-notes.md")
    assert same_name.ok and same_name.name == "heron-notes.md"  # other content is welcome, under a free name
    again = service.save_upload(_upload(tmp_path, NOTE + "\nIt nests in colonies.\n"), "other.md")
    assert not again.ok and again.message.endswith("as heron-notes.md")


def test_removal_moves_the_file_to_the_trash_and_restore_puts_it_back(service):
    corpus = service.settings.corpus
    removed = service.remove_document("birds/heron-notes.md")
    assert removed.ok and "moved to the trash" in removed.message
    assert service.corpus_names() == [] and not (corpus / "birds" / "heron-notes.md").exists()
    [entry] = service.trashed()
    assert entry.name == "birds/heron-notes.md" and entry.label.startswith("birds/heron-notes.md · removed ")
    assert (corpus / TRASH / entry.key / "birds" / "heron-notes.md").read_text() == NOTE  # recoverable by hand too
    restored = service.restore_document(entry.key)
    assert restored.ok and restored.name == "birds/heron-notes.md"
    assert (corpus / "birds" / "heron-notes.md").read_text() == NOTE
    assert service.trashed() == [] and list((corpus / TRASH).iterdir()) == []


def test_restore_never_overwrites_nor_makes_a_second_copy(service, tmp_path):
    corpus = service.settings.corpus
    service.remove_document("birds/heron-notes.md")
    [entry] = service.trashed()
    (corpus / "birds" / "heron-notes.md").write_text("A newer note under the same name.")
    refused = service.restore_document(entry.key)
    assert not refused.ok and "a file named birds/heron-notes.md is in the corpus folder now" in refused.message
    assert (corpus / "birds" / "heron-notes.md").read_text() == "A newer note under the same name."
    assert service.trashed() == [entry]  # still there to restore later
    (corpus / "birds" / "heron-notes.md").unlink()
    assert service.save_upload(_upload(tmp_path, NOTE), "heron-copy.md").ok
    twin = service.restore_document(entry.key)
    assert not twin.ok and twin.message == "refused: the same content is in the corpus now as heron-copy.md"
    assert service.trashed() == [entry]


def test_two_removals_of_one_name_are_both_kept(service, tmp_path):
    service.remove_document("birds/heron-notes.md")
    (service.settings.corpus / "birds" / "heron-notes.md").write_text("Second version.")
    service.remove_document("birds/heron-notes.md")
    entries = service.trashed()
    assert [e.name for e in entries] == ["birds/heron-notes.md"] * 2 and len({e.key for e in entries}) == 2
    assert sorted((service.settings.corpus / TRASH / e.key / e.name).read_text() for e in entries) == [NOTE, "Second version."]


@pytest.mark.parametrize("key", ["", "nope", "../corpus", "../../etc"])
def test_restore_accepts_only_listed_entries(service, key):
    service.remove_document("birds/heron-notes.md")
    assert not service.restore_document(key).ok
    assert len(service.trashed()) == 1


def test_the_trash_is_never_indexed(service, embedder):
    from quoteback.build import IndexBuilder

    corpus = service.settings.corpus
    (corpus / "okapi.md").write_text("# Okapi\n\nThe okapi is a giraffid native to the Congo.\n")
    service.remove_document("birds/heron-notes.md")
    report = IndexBuilder(service.settings, embedder).build()
    assert report.added == 1 and not report.skipped
    from quoteback.index.backends import open_backend

    assert list(open_backend(service.settings).load().manifest.documents) == ["okapi.md"]


def test_a_documents_sidecar_goes_to_the_trash_with_it_and_comes_back(service):
    corpus = service.settings.corpus
    side = corpus / "birds" / "heron-notes.md.meta.json"
    side.write_text('{"title": "Herons", "tags": ["estuary"]}')
    assert service.corpus_names() == ["birds/heron-notes.md"]  # a sidecar is no document of its own
    removed = service.remove_document("birds/heron-notes.md")
    assert removed.ok and not side.exists()
    [entry] = service.trashed()
    assert entry.name == "birds/heron-notes.md"  # the document names the entry, not its sidecar
    assert (corpus / TRASH / entry.key / "birds" / "heron-notes.md.meta.json").read_text() == '{"title": "Herons", "tags": ["estuary"]}'
    side.write_text("{}")  # someone wrote a new sidecar meanwhile: the restore refuses, moving nothing
    refused = service.restore_document(entry.key)
    assert not refused.ok and "birds/heron-notes.md.meta.json is in the corpus folder now" in refused.message
    assert not (corpus / "birds" / "heron-notes.md").exists() and service.trashed() == [entry]
    side.unlink()
    assert service.restore_document(entry.key).ok
    assert side.read_text() == '{"title": "Herons", "tags": ["estuary"]}' and (corpus / "birds" / "heron-notes.md").read_text() == NOTE
    assert service.trashed() == []


def test_uploads_and_removals_say_what_happens_next(service, tmp_path):
    assert service.save_upload(_upload(tmp_path, "# Kite\n\nThe red kite circles."), "kite.md").message == \
        "saved; press Rebuild index to add it"
    service.watched = True  # the live folder is watching: no button to press
    saved = service.save_upload(_upload(tmp_path, "# Owl\n\nThe barn owl hunts at dusk."), "owl.md")
    assert saved.ok and saved.message == "saved; it will be indexed automatically in a moment"
    removed = service.remove_document("owl.md")
    assert removed.ok and "Rebuild" not in removed.message and "once the live folder has re-indexed" in removed.message


def test_each_collection_keeps_its_own_files_and_trash(tmp_path):
    from quoteback.settings import Collections

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    (tmp_path / "a" / "heron.md").write_text(NOTE)
    service = ChatService.__new__(ChatService)
    service.settings = Settings(index=tmp_path / "index", collections=Collections.parse({"a": tmp_path / "a", "b": tmp_path / "b"}))
    assert service.save_upload(_upload(tmp_path, NOTE), "heron.md", "b").ok  # the same content in another collection is welcome
    assert (service.corpus_names("a"), service.corpus_names("b")) == (["heron.md"], ["heron.md"])
    assert service.remove_document("heron.md", "b").ok and service.corpus_names("b") == [] and service.corpus_names("a") == ["heron.md"]
    assert service.trashed("a") == [] and [e.name for e in service.trashed("b")] == ["heron.md"]
    assert (tmp_path / "b" / TRASH).is_dir() and not (tmp_path / "a" / TRASH).exists()
    assert service.corpus_names() == ["heron.md"]  # no collection named: the first
    with pytest.raises(ValueError, match="unknown collection 'c'"):
        service.corpus_names("c")

import pytest

from quoteback.app.render import escape, to_markdown
from quoteback.answer import Answer, Quote
from quoteback.app.service import safe_name


@pytest.mark.parametrize("name, expected", [
    ("report.pdf", "report.pdf"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\win.ini.md", "win.ini.md"),
    (".hidden.txt", "hidden.txt"),
    ("we!rd<name>.html", "we_rd_name_.html"),
    ("evil.exe", None),
    ("noext", None),
    ("", None),
    ("...", None),
    ("Résumé de l'été 東京 notes.md", "Résumé de l'été 東京 notes.md"),
    ("Re\u0301sume\u0301.txt", "Résumé.txt"),  # decomposed accents normalised to NFC
    ("tab\there\x07.txt", "tab_here_.txt"),
    ("a" * 150 + ".md", "a" * 117 + ".md"),
    ("東" * 150 + ".pdf", "東" * 78 + ".pdf"),
])
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def test_uploads_land_in_the_corpus_without_clobbering(tmp_path, seed_ready):
    from quoteback.app.service import ChatService

    service = ChatService.__new__(ChatService)  # no model needed to save files
    service.settings = seed_ready.answerer.settings.replace(corpus=tmp_path)
    src = tmp_path / "upload.tmp"
    src.write_text("hello")
    first = service.save_upload(src, "../note.txt")
    src.write_text("hello again")  # the same content twice is refused (test_trash.py): another note, same name
    second = service.save_upload(src, "note.txt")
    assert first.ok and second.ok and (first.name, second.name) == ("note.txt", "note-1.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note-1.txt", "note.txt", "upload.tmp"]
    assert (tmp_path / "note.txt").read_text() == "hello" and (tmp_path / "note-1.txt").read_text() == "hello again"
    assert not service.save_upload(src, "x.exe").ok


def test_a_long_upload_name_keeps_its_extension_and_is_indexed(tmp_path, embedder):
    """The data-loss bug: a 150-character name used to be cut to 120 characters after the
    extension check, saved without an extension, reported saved and never indexed."""
    from quoteback.build import IndexBuilder
    from quoteback.app.service import ChatService
    from quoteback.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    service = ChatService.__new__(ChatService)
    service.settings = Settings(corpus=corpus, index=tmp_path / "index")
    src = tmp_path / "upload.tmp"
    src.write_text("The osprey nests on the old radio mast above the harbour every spring.")
    saved = service.save_upload(src, "a" * 150 + ".md")
    assert saved.ok and saved.name.endswith(".md") and len(saved.name) <= 120
    report = IndexBuilder(service.settings, embedder).build()
    assert report.added == 1 and not report.skipped and report.passages == 1


def test_markdown_escapes_document_markup():
    text = "<script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=alert(3)> **bold**"
    quote = Quote(text, "x.md", "<b>T</b>", None, 0, len(text), 0.9, [[0, 25]])
    md = to_markdown(Answer("q", True, [quote], ""))
    assert "<script>" not in md and "<img" not in md and "](javascript" not in md and "<b>T</b>" not in md
    assert "&lt;script&gt;" in md and "<mark>" in md
    assert escape("a*b_c") == "a\\*b\\_c"


@pytest.mark.parametrize("name, content, reason", [
    ("empty.txt", b"", "empty file"),
    ("blank.md", b"   \n\n  ", "empty file"),
    ("random.pdf", bytes(range(256)) * 40, "PDF"),
    ("fake.docx", b"PK\x03\x04 not really a zip", ".docx"),
])
def test_bad_files_are_refused_at_upload_with_the_reason(tmp_path, name, content, reason):
    from quoteback.app.service import ChatService
    from quoteback.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    service = ChatService.__new__(ChatService)
    service.settings = Settings(corpus=corpus, index=tmp_path / "index")
    src = tmp_path / "upload.tmp"
    src.write_bytes(content)
    saved = service.save_upload(src, name)
    assert not saved.ok and saved.message.startswith("refused: ") and reason in saved.message
    assert ".upload-" not in saved.message and "quoteback-upload-" not in saved.message  # no staging paths shown
    assert list(corpus.iterdir()) == []  # nothing left behind, not even the hidden staging copy


def test_remove_document_only_by_listed_name(tmp_path):
    from quoteback.app.service import ChatService
    from quoteback.settings import Settings

    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "a.md").write_text("alpha")
    (corpus / "b.txt").write_text("beta")
    (tmp_path / "outside.txt").write_text("keep me")
    service = ChatService.__new__(ChatService)
    service.settings = Settings(corpus=corpus, index=tmp_path / "index")
    assert service.corpus_names() == ["b.txt", "sub/a.md"]
    for bad in ("../outside.txt", str(tmp_path / "outside.txt"), "sub", "", "missing.txt"):
        assert not service.remove_document(bad).ok
    assert (tmp_path / "outside.txt").exists() and (corpus / "sub").is_dir()
    removed = service.remove_document("sub/a.md")
    assert removed.ok and "Rebuild" in removed.message and service.corpus_names() == ["b.txt"]


def test_service_warms_the_model_before_serving(seed_ready, counting):
    from quoteback.app.service import ChatService

    service = ChatService(seed_ready.answerer.settings, counting)
    before = counting.count
    service.warm()
    assert counting.count > before  # one real question went through the encoder

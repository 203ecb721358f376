import pytest

from quoteback.render import escape, to_markdown
from quoteback.answer import Answer, Quote
from quoteback.service import safe_name


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
])
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def test_uploads_land_in_the_corpus_without_clobbering(tmp_path, seed_ready):
    from quoteback.service import ChatService

    service = ChatService.__new__(ChatService)  # no model needed to save files
    service.settings = seed_ready.answerer.settings.replace(corpus=tmp_path)
    src = tmp_path / "upload.tmp"
    src.write_text("hello")
    first = service.save_upload(src, "../note.txt")
    second = service.save_upload(src, "note.txt")
    assert first.ok and second.ok and (first.name, second.name) == ("note.txt", "note-1.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note-1.txt", "note.txt", "upload.tmp"]
    assert not service.save_upload(src, "x.exe").ok


def test_markdown_escapes_document_markup():
    text = "<script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=alert(3)> **bold**"
    quote = Quote(text, "x.md", "<b>T</b>", None, 0, len(text), 0.9, [[0, 25]])
    md = to_markdown(Answer("q", True, [quote], ""))
    assert "<script>" not in md and "<img" not in md and "](javascript" not in md and "<b>T</b>" not in md
    assert "&lt;script&gt;" in md and "<mark>" in md
    assert escape("a*b_c") == "a\\*b\\_c"

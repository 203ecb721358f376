
import pytest

from quoteback.documents import load_corpus, load_document
from tests.conftest import SEED


def _pdf_bytes(text: str) -> bytes:
    """A minimal one-page PDF with a text layer, written by hand (no PDF writer needed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_seed_date_header_is_metadata_not_text():
    doc = load_document(SEED, SEED.name)
    assert doc.date == "2023-12-12"
    assert doc.text == SEED.read_text(encoding="utf-8")  # offsets refer to the file itself
    assert doc.text[doc.body_start:].startswith("In recent years, Mali")
    assert doc.title == "FAQ: Russia’s Wagner Group in Mali"


def test_markdown_front_matter_and_heading(tmp_path):
    (tmp_path / "a.md").write_text("---\ntitle: Notes\ndate: 2024-02-03\n---\n# Heading\n\nBody text here.\n")
    (tmp_path / "b.md").write_text("# Only a heading title\n\nSome body.\n")
    a = load_document(tmp_path / "a.md")
    b = load_document(tmp_path / "b.md")
    assert (a.title, a.date) == ("Notes", "2024-02-03")
    assert a.text[a.body_start:].startswith("Heading\n\nBody text here.")  # the text a reader sees: no `#`
    assert a.section_at(a.text.index("Body")) == ["Heading"]
    assert b.title == "Only a heading title" and b.date is None


def test_html_text_title_date_and_no_script(tmp_path):
    (tmp_path / "p.html").write_text(
        "<html><head><title>Page</title><meta name='date' content='2022-05-06T10:00'>"
        "<script>alert(1)</script></head><body><h1>Head</h1><p>First <b>bold</b> para.</p>"
        "<ul><li>one</li><li>two</li></ul></body></html>"
    )
    doc = load_document(tmp_path / "p.html")
    assert (doc.title, doc.date) == ("Page", "2022-05-06")
    assert "alert" not in doc.text
    assert "First bold para." in doc.text
    assert doc.text.split("\n\n") == ["Head", "First bold para.", "- one\n- two"]  # list items one per line


def test_pdf_and_docx(tmp_path):
    import docx

    (tmp_path / "a.pdf").write_bytes(_pdf_bytes("Peacekeepers left Mali in 2023."))
    d = docx.Document()
    d.add_heading("Report title", level=1)
    d.add_paragraph("The first paragraph of the report.")
    d.save(tmp_path / "b.docx")
    corpus = load_corpus(tmp_path)
    assert corpus.skipped == []
    pdf, word = corpus.documents
    assert "Peacekeepers left Mali in 2023." in pdf.text
    assert word.title == "Report title"
    assert word.text == "Report title\n\nThe first paragraph of the report."


def test_broken_documents_are_skipped_with_reasons(tmp_path):
    (tmp_path / "good.txt").write_text("A readable sentence.")
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02garbage")
    (tmp_path / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "broken.docx").write_bytes(b"PK not a zip")
    (tmp_path / "ignored.exe").write_bytes(b"MZ")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "nested.md").write_text("Nested text.")
    corpus = load_corpus(tmp_path)
    assert [d.path for d in corpus.documents] == ["good.txt", "sub/nested.md"]
    reasons = {s.path: s.reason for s in corpus.skipped}
    assert set(reasons) == {"empty.txt", "binary.txt", "latin.txt", "broken.pdf", "broken.docx", "ignored.exe"}
    assert "unsupported file type .exe" in reasons["ignored.exe"]  # every file shows up: indexed or skipped
    assert ("empty" in reasons["empty.txt"] or "no text" in reasons["empty.txt"]) and "binary" in reasons["binary.txt"]
    assert "UTF-8" in reasons["latin.txt"] and "PDF" in reasons["broken.pdf"]


def test_missing_corpus_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_corpus(tmp_path / "nope")


@pytest.mark.parametrize("title, usable", [
    ("paper.dvi", None), ("Microsoft Word - draft 3.docx", None), ("untitled", None), ("", None), ("  ", None),
    ("12", None), ("FOR IMMEDIATE RELEASE", None), ("News Release", None),
    ("Dynamo: Amazon's Highly Available Key-value Store", "Dynamo: Amazon's Highly Available Key-value Store"),
    ("In Search of an Understandable Consensus Algorithm", "In Search of an Understandable Consensus Algorithm"),
])
def test_junk_titles_are_ignored(title, usable):
    from quoteback.documents.text import usable_title

    assert usable_title(title) == usable


def test_a_junk_title_falls_back_to_the_first_heading(tmp_path):
    import docx

    document = docx.Document()
    document.core_properties.title = "Microsoft Word - report-final.docx"
    document.add_heading("Harbour Survey 2024", level=1)
    document.add_paragraph("The survey counted forty boats.")
    document.save(tmp_path / "r.docx")
    assert load_document(tmp_path / "r.docx").title == "Harbour Survey 2024"


def test_the_introduction_before_the_first_heading_has_no_section():
    """The FAQ's first three paragraphs come before its first heading (at character 960)."""
    doc = load_document(SEED, SEED.name)
    intro = doc.text.index("In recent years, Mali")
    assert doc.headings[0][0] > intro
    assert doc.section_at(intro) == [] and doc.section_label(intro) is None
    assert doc.section_label(doc.text.index("The Wagner Group is a Russian")) is not None

"""Word reader: paragraphs and tables in document order, headings, lists."""

import io

import docx
import pytest

from quoteback.documents.docx import read_docx
from quoteback.documents.model import DocumentError


def _build() -> bytes:
    document = docx.Document()
    document.core_properties.title = "Quarterly Report"
    document.add_heading("Results", level=1)
    document.add_paragraph("Before the table we explain the numbers.")
    table = document.add_table(rows=3, cols=2)
    for r, (a, b) in enumerate([("a", "b"), ("c", "d"), ("wide", "wide")]):
        table.cell(r, 0).text, table.cell(r, 1).text = a, b
    table.cell(2, 0).merge(table.cell(2, 1))
    table.cell(2, 0).text = "merged"
    table.cell(0, 1).add_paragraph("second line")
    document.add_paragraph("After the table comes the conclusion.")
    document.add_heading("Details", level=2)
    document.add_paragraph("first point", style="List Bullet")
    document.add_paragraph("second point", style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_table_between_paragraphs_in_order(tmp_path):
    data = _build()
    path = tmp_path / "r.docx"
    path.write_bytes(data)
    doc = read_docx(path, data)
    text = doc.text
    assert "a | b second line\nc | d\nmerged" in text
    assert text.index("Before the table") < text.index("a | b") < text.index("After the table")
    assert text.count("merged") == 1
    assert doc.title == "Quarterly Report"
    assert [(text[a:b], level) for a, b, level in doc.headings] == [("Results", 1), ("Details", 2)]
    assert "- first point\n- second point" in text


def test_broken_file_is_a_document_error(tmp_path):
    path = tmp_path / "bad.docx"
    path.write_bytes(b"not a zip")
    with pytest.raises(DocumentError):
        read_docx(path, path.read_bytes())

"""The PDF reader on generated PDFs that reproduce issue 25's cases: a vector figure's labels
between body lines, a figure label in heading-sized type, an author line under a title that the
running header repeats, a sentence running over a page break past a footnote, spaces before `)`
`,` `:` at a change of font, small capitals, run-in subheadings set a little larger."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from quoteback.documents import load_document

fpdf = pytest.importorskip("fpdf")
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")

_LEAD = ("Coarse-grained locks are acquired only rarely, so temporary lock server unavailability delays "
         "clients less. Clients can learn of lost locks at unlock time, and if a simple fixed-length lease "
         "is used, the protocol can be")
_REST = ("simple and efficient. The most important benefit of this scheme is that our client developers "
         "become responsible for the provisioning of the servers needed to support their load.")


def _text(pdf, x: float, y: float, text: str, size: float, style: str = "") -> float:
    """`text` with its baseline at y; returns where it ends (the next glyph touches it there)."""
    pdf.set_font("Helvetica", style, size)
    pdf.text(x, y, text)
    return x + pdf.get_string_width(text)


def _body(pdf, y: float, text: str, size: float = 10) -> float:
    pdf.set_font("Helvetica", size=size)
    pdf.set_xy(72, y)
    pdf.multi_cell(450, size * 1.3, text)
    return pdf.get_y()


def _figure_pdf(path: Path) -> Path:
    pdf = fpdf.FPDF(unit="pt", format="letter")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    y = _body(pdf, 72, "1 Introduction", 14) + 8
    y = _body(pdf, y, _LEAD) + 16
    # the figure: boxes and arrows drawn as vector graphics, with their labels as text
    pdf.rect(100, y, 120, 60)
    pdf.rect(330, y, 120, 60)
    pdf.line(220, y + 30, 330, y + 30)
    _text(pdf, 110, y + 14, "old master dies", 7)
    _text(pdf, 340, y + 14, "new master elected", 7)
    _text(pdf, 120, y + 40, "lease M1", 7)
    _text(pdf, 240, y + 24, "KeepAlives", 7)
    _text(pdf, 350, y + 48, "m master", 15)  # a label in heading-sized type
    _text(pdf, 120, y + 56, "3 C", 6)
    _text(pdf, 200, y + 84, "Figure 2: The role of the grace period in master fail-over", 10)
    _body(pdf, y + 100, _REST)
    pdf.output(str(path))
    return path


def test_a_vector_figures_labels_stay_out_of_the_sentence_around_it(tmp_path):
    doc = load_document(_figure_pdf(tmp_path / "figure.pdf"))
    assert "the protocol can be simple and efficient." in doc.text
    for label in ("old master", "new master elected", "lease M1", "KeepAlives", "m master", "3 C"):
        assert label not in doc.text, label
    assert "Figure 2: The role of the grace period in master fail-over" in doc.text
    assert [doc.text[a:b] for a, b, _ in doc.headings] == ["1 Introduction"]
    assert doc.section_label(doc.text.index("simple and efficient")) == "1 Introduction"


def _titled_pdf(path: Path) -> Path:
    pdf = fpdf.FPDF(unit="pt", format="letter")
    pdf.set_auto_page_break(False)
    for number in range(1, 4):
        pdf.add_page()
        _text(pdf, 72, 30, "SALTZER ET AL.", 9)
        _text(pdf, 220, 30, "End-to-End Arguments in System Design", 9)
        _text(pdf, 520, 30, str(number), 9)
        y = 120
        if number == 1:
            _text(pdf, 110, 60, "END-TO-END ARGUMENTS IN SYSTEM DESIGN", 18)  # in the top band
            _text(pdf, 170, 90, "J.H. Saltzer, D.P. Reed and D.D. Clark", 15)
            _text(pdf, 165, 118, "M.I.T. Laboratory for Computer Science", 15)
            y = 150
        topic = ["bit error recovery", "duplicate message suppression", "delivery acknowledgement"][number - 1]
        _body(pdf, y, f"Functions placed at low levels of a system, such as {topic}, may be redundant or of "
                      f"little value when compared with the cost of providing {topic} at that low level.", 11)
    pdf.output(str(path))
    return path


def test_the_title_is_not_the_author_line_and_reads_as_the_running_header_writes_it(tmp_path):
    doc = load_document(_titled_pdf(tmp_path / "titled.pdf"))
    assert doc.title == "End-to-End Arguments in System Design"
    heads = [doc.text[a:b] for a, b, _ in doc.headings]
    assert heads[0] == "END-TO-END ARGUMENTS IN SYSTEM DESIGN"
    assert not any("Saltzer" in h or "Laboratory" in h for h in heads), heads


def _footnote_pdf(path: Path) -> Path:
    pdf = fpdf.FPDF(unit="pt", format="letter")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    y = _body(pdf, 72, "Secure transmission of data", 13) + 8
    filler = "Another area in which an end-to-end argument can be applied is that of data encryption. " * 12
    _body(pdf, y, filler + "If the application performs end-to-end encryption, it obtains its required authentication check, it")
    _body(pdf, 720, "* For example, real time transmission of speech has tighter constraints on message delay than on "
                    "bit-error rate.", 8)
    pdf.add_page()
    _body(pdf, 72, "can handle key management to its satisfaction, and the data is never exposed outside the application.")
    pdf.output(str(path))
    return path


def test_a_sentence_goes_on_over_the_page_past_a_footnote(tmp_path):
    doc = load_document(_footnote_pdf(tmp_path / "footnote.pdf"))
    assert "authentication check, it can handle key management to its satisfaction" in doc.text
    assert "* For example, real time transmission" in doc.text  # the note is kept, after the paragraph
    assert doc.text.index("* For example") > doc.text.index("outside the application.")


def _spacing_pdf(path: Path) -> Path:
    pdf = fpdf.FPDF(unit="pt", format="letter")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    _text(pdf, 72, 60, "3 CATEGORIZATION OF INFORMATION", 13, "B")
    _body(pdf, 70, "This publication establishes security categories for both information and information systems.")
    _text(pdf, 72, 120, "Security Objectives", 11, "B")  # a run-in subheading, a little larger than the text
    x = _text(pdf, 72, 145, "C", 10)  # small capitals: the first letter full size, the rest smaller
    _text(pdf, x, 145, "ONFIDENTIALITY", 8)
    _body(pdf, 152, "A loss of confidentiality is the unauthorized disclosure of information.")
    _text(pdf, 72, 200, "Potential Impact on Organizations and Individuals", 11, "B")
    x = _text(pdf, 72, 225, "EXAMPLE 2", 8)
    x = _text(pdf, x, 225, ": The resulting security category is", 10)
    x = _text(pdf, x + 3, 225, "{(confidentiality,", 10)
    x = _text(pdf, x + 3, 225, "LOW", 8)
    x = _text(pdf, x, 225, "),", 10)
    x = _text(pdf, x + 3, 225, "(integrity,", 10)
    x = _text(pdf, x + 3, 225, "HIGH", 8)
    _text(pdf, x, 225, ")}.", 10)
    pdf.output(str(path))
    return path


def test_no_space_the_page_does_not_show_and_larger_run_in_subheadings(tmp_path):
    doc = load_document(_spacing_pdf(tmp_path / "spacing.pdf"))
    assert "{(confidentiality, LOW), (integrity, HIGH)}." in doc.text
    assert "EXAMPLE 2: The resulting" in doc.text
    assert "CONFIDENTIALITY" in doc.text and "C ONFIDENTIALITY" not in doc.text
    heads = [(doc.text[a:b], level) for a, b, level in doc.headings]
    assert heads == [("3 CATEGORIZATION OF INFORMATION", 1), ("Security Objectives", 2),
                     ("Potential Impact on Organizations and Individuals", 2)]
    assert doc.section_label(doc.text.index("EXAMPLE 2")) == \
        "3 CATEGORIZATION OF INFORMATION › Potential Impact on Organizations and Individuals"

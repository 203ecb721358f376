"""SEC filings are titled by their cover page: the registrant, the form and the period."""

from __future__ import annotations

import shutil

import pytest

from quoteback.documents import load_document
from quoteback.documents.filing import filing_title

COVER = """UNITED STATES SECURITIES AND EXCHANGE COMMISSION
Washington, D.C. 20549

FORM 10-K

ANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934
For the fiscal year ended December 2, 2022

Commission File Number: 0-15175

EXAMPLE SOFTWARE INC.

(Exact name of registrant as specified in its charter)

Delaware
"""


def test_a_10k_cover_names_company_form_and_year():
    assert filing_title(COVER) == "EXAMPLE SOFTWARE INC. — Form 10-K, for the fiscal year ended December 2, 2022"


def test_an_8k_is_dated_by_its_event_and_a_name_on_the_same_line_is_found():
    cover = ("FORM 8-K\n\nCURRENT REPORT\n\nDate of Report (Date of earliest event reported): May 26, 2023\n\n"
             "Example Foods, Inc. (Exact name of registrant as specified in its charter)\n")
    assert filing_title(cover) == "Example Foods, Inc. — Form 8-K, dated May 26, 2023"


def test_text_without_a_cover_page_has_no_filing_title():
    assert filing_title("Quarterly results\n\nRevenue grew 5% for the fiscal year ended June 30, 2023.") is None
    assert filing_title("x" * 30_000 + "\nACME\n(Exact name of registrant as specified in its charter)") is None  # past the cover


def test_the_filing_title_is_the_documents_title(tmp_path):
    path = tmp_path / "annual-report.txt"
    path.write_text(COVER + "\nItem 1. Business\n\nWe make software.\n", encoding="utf-8")
    doc = load_document(path)
    assert doc.title.startswith("EXAMPLE SOFTWARE INC. — Form 10-K")
    (tmp_path / "annual-report.txt.meta.json").write_text('{"title": "Our 10-K"}', encoding="utf-8")
    assert load_document(path).title == "Our 10-K"  # a sidecar still decides


def test_a_filings_cover_is_no_section_of_the_parts_after_it(tmp_path):
    # read as headings, the cover's large type put all of Parts I and II under "UNITED STATES
    # SECURITIES AND EXCHANGE COMMISSION": quotes were cited, and passages embedded, under it
    body = ("PART I\n\n# Item 7. Liquidity and Capital Resources\n\nCash provided by operating activities rose to "
            "$7.8 billion in 2022, funding capital spending.\n")
    (tmp_path / "10k.md").write_text("# " + COVER.replace("\nFORM 10-K", "\n# FORM 10-K") + "\n" + body)
    doc = load_document(tmp_path / "10k.md")
    assert doc.section_at(doc.text.index("Cash provided")) == ["Item 7. Liquidity and Capital Resources"]
    assert doc.section_label(doc.text.index("Delaware")) is None  # the cover itself: under no heading


def test_a_document_that_is_no_filing_keeps_its_first_headings(tmp_path):
    (tmp_path / "guide.md").write_text("# Securities and Exchange Commission guide\n\nPART I\n\n## Filing deadlines\n\n"
                                       "Annual reports are due within 60 days.\n")
    doc = load_document(tmp_path / "guide.md")
    assert doc.section_at(doc.text.index("Annual")) == ["Securities and Exchange Commission guide", "Filing deadlines"]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_a_press_release_naming_the_commission_pages_in_keeps_its_first_page_sections(tmp_path):
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pages = [[("Example Foods Reports Results", None),
              ("Quarterly Highlights", "Revenue grew 8 percent in the quarter on strong demand for snacks and drinks. " * 4),
              ("Segment Results", "Snacks grew faster than drinks in every region we serve this quarter. " * 4)],
             [("Guidance", "We now expect full-year revenue to grow 6 percent with steady margins. " * 4),
              ("Forward-Looking Statements", "See our Quarterly Report on Form 10-Q filed with the Securities and "
                                             "Exchange Commission for the risks. " * 3)]]
    for sections in pages:
        pdf.add_page()
        for heading, body in sections:
            pdf.set_font("helvetica", "B", 16 if body else 20)
            pdf.cell(0, 12, heading, new_x="LMARGIN", new_y="NEXT")
            if body:
                pdf.set_font("helvetica", size=11)
                pdf.multi_cell(0, 6, body)
    pdf.output(str(tmp_path / "release.pdf"))
    doc = load_document(tmp_path / "release.pdf")
    assert doc.section_at(doc.text.index("Revenue grew")) == ["Example Foods Reports Results"]

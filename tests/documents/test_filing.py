"""SEC filings are titled by their cover page: the registrant, the form and the period."""

from __future__ import annotations

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

"""Numeric tables in PDFs: each row keeps its figures and names them by their column headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from quoteback.documents import load_document
from quoteback.documents.pdf_statements import is_statement_title
from tests.documents.test_pdf import FONT

fpdf = pytest.importorskip("fpdf")

ROWS = [  # label, figures (None: a section row), indent
    ("Cash Flows from Investing Activities", None, 0),
    ("Purchases of property, plant and equipment (PP&E)", ["(1,577)", "(1,373)", "(1,420)"], 10),
    ("Proceeds from sale of PP&E and other assets", ["262", "49", "58"], 10),
    ("Acquisitions, net of cash acquired", ["13", "(2,023)", "(16)"], 10),
    ("Purchases of marketable securities and investments", ["(1,828)", "(2,152)", "(1,410)"], 10),
    ("Net cash provided by (used in) investing activities", ["222", "(3,086)", "(1,403)"], 0),
]
PROSE = ("In 2018 the company bought 1,577 million dollars of equipment, up from 1,373 in 2017; "
         "the board met 12 times and approved 3 acquisitions.")


def _statement_pdf(path: Path, notes: bool = False) -> Path:
    pdf = fpdf.FPDF(unit="pt", format="letter")
    pdf.set_auto_page_break(False)
    pdf.add_font("dejavu", "", FONT)
    pdf.add_page()
    pdf.set_font("dejavu", size=9)
    pdf.set_xy(56, 38)
    pdf.cell(300, 10, "Example Company and Subsidiaries")
    pdf.set_xy(56, 50)
    pdf.cell(300, 10, "Consolidated Statement of Cash Flows")
    pdf.set_xy(56, 62)
    pdf.cell(300, 10, "(Millions)")
    pdf.set_xy(360, 68)  # one header over all three years, too narrow to span them
    pdf.cell(185, 10, "Years ended December 31", align="C")
    for x, year in ((360, "2018"), (430, "2017"), (500, "2016")):
        pdf.set_xy(x, 80)
        pdf.cell(45, 10, year, align="R")
    y = 96
    for label, figures, indent in ROWS:
        pdf.set_xy(56 + indent, y)
        pdf.cell(260, 10, label)
        for x, figure in zip((360, 430, 500), figures or []):
            pdf.set_xy(x, y)
            pdf.cell(45, 10, figure, align="R")
        y += 12
    pdf.set_xy(56, y + 30)
    pdf.multi_cell(480, 12, PROSE)
    if notes:  # the notes after the statements: a heading of their own ends the statement's section
        pdf.add_page()
        pdf.set_xy(56, 50)
        pdf.cell(300, 10, "Notes to Consolidated Financial Statements")
        pdf.set_xy(56, 80)
        pdf.multi_cell(480, 12, "The company's accounting policies follow generally accepted principles. " * 3)
    pdf.output(str(path))
    return path


def test_statement_rows_carry_their_figures_and_column_headers(tmp_path):
    doc = load_document(_statement_pdf(tmp_path / "statement.pdf"))
    expected = "Purchases of property, plant and equipment (PP&E) | 2018: (1,577) | 2017: (1,373) | 2016: (1,420)"
    assert expected in doc.text, doc.text
    assert "Net cash provided by (used in) investing activities | 2018: 222 | 2017: (3,086) | 2016: (1,403)" in doc.text
    lines = doc.text.splitlines()
    assert "Cash Flows from Investing Activities" in lines  # a section row: no figures, no bar
    assert lines.index("Cash Flows from Investing Activities") < lines.index(expected)
    assert " ".join(PROSE.split()) in " ".join(doc.text.split())  # prose beside the table keeps its numbers in place
    assert "Years ended December 31" in lines  # common to every column: text above the rows, in no cell


def test_prose_with_numbers_is_no_table(tmp_path):
    pdf = fpdf.FPDF(unit="pt", format="letter")
    pdf.add_font("dejavu", "", FONT)
    pdf.add_page()
    pdf.set_font("dejavu", size=10)
    for _ in range(6):
        pdf.multi_cell(480, 13, PROSE)
    pdf.output(str(tmp_path / "prose.pdf"))
    doc = load_document(tmp_path / "prose.pdf")
    assert " | " not in doc.text and "2018:" not in doc.text


def test_a_statements_title_is_the_heading_its_rows_are_read_under(tmp_path):
    """A row alone does not say which statement, or whose, it belongs to: the title above the
    table (with the company line above it) is a heading, and the notes after it start their own."""
    doc = load_document(_statement_pdf(tmp_path / "statement.pdf", notes=True))
    row = doc.text.index("Purchases of property, plant and equipment (PP&E) | 2018")
    assert doc.section_at(row) == ["Example Company and Subsidiaries Consolidated Statement of Cash Flows"]
    notes = doc.text.index("The company's accounting policies")
    assert doc.section_at(notes) == ["Notes to Consolidated Financial Statements"]
    for start, end, _ in doc.headings:  # headings are slices of the text like every quote
        assert doc.text[start:end].strip()


@pytest.mark.parametrize("line, title", [
    ("CONSOLIDATED STATEMENTS OF CASH FLOWS (In thousands)", True),
    ("Consolidated Balance Shee t", True),  # a word poppler split: matched on its letters
    ("Condensed Consolidated Statements of Operations (Unaudited)", True),
    ("Consolidated Statements of Changes in Shareholders’ Equity", True),
    ("The consolidated statements of operations include the accounts of the company.", False),
    ("Cash Flows from Investing Activities", False),
    ("SQUARE, INC. CONSOLIDATED STATEMENTS OF CASH FLOWS", True),
    ("Consolidated Statements of Operations and Comprehensive Loss", True),
    ("Consolidated balance sheet as of March 31, 2021 and December 31,", False),  # a line of prose
])
def test_statement_titles(line, title):
    assert is_statement_title(line) is title


def test_a_header_over_a_group_of_columns_names_each_of_them(tmp_path):
    """A 10-Q's "Three Months Ended March 31," spans its 2021 and 2020 columns, "Nine Months
    Ended" the next two: each figure is named by its group and its year, not only the one the
    group's header happens to be centred over."""
    pdf = fpdf.FPDF(unit="pt", format="letter")
    pdf.set_auto_page_break(False)
    pdf.add_font("dejavu", "", FONT)
    pdf.add_page()
    pdf.set_font("dejavu", size=9)
    xs = (230, 290, 430, 490)  # the groups well apart: pdftotext keeps their headers as lines of their own
    for x, group in ((230, "Three Months Ended March 31,"), (430, "Nine Months Ended March 31,")):
        pdf.set_xy(x, 60)
        pdf.cell(105, 10, group, align="C")
    for x, year in zip(xs, ("2021", "2020", "2021", "2020")):
        pdf.set_xy(x, 72)
        pdf.cell(45, 10, year, align="R")
    y = 90
    for label, figures in (("Revenue", ("100", "90", "300", "280")), ("Cost of revenue", ("(40)", "(35)", "(120)", "(110)")),
                           ("Gross profit", ("60", "55", "180", "170")), ("Operating expenses", ("(20)", "(18)", "(61)", "(57)")),
                           ("Operating income", ("40", "37", "119", "113"))):
        pdf.set_xy(56, y)
        pdf.cell(200, 10, label)
        for x, figure in zip(xs, figures):
            pdf.set_xy(x, y)
            pdf.cell(45, 10, figure, align="R")
        y += 12
    pdf.output(str(tmp_path / "quarter.pdf"))
    doc = load_document(tmp_path / "quarter.pdf")
    assert ("Revenue | Three Months Ended March 31, 2021: 100 | Three Months Ended March 31, 2020: 90"
            " | Nine Months Ended March 31, 2021: 300 | Nine Months Ended March 31, 2020: 280") in doc.text, doc.text

"""Word boxes into line text: kerned-off last letters glued back, real spaces kept."""

from __future__ import annotations

import shutil
import pytest

from quoteback.documents import load_document
from quoteback.documents.pdf_words import join_words, vocabulary

fpdf = pytest.importorskip("fpdf")
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def _line(*pieces: tuple[str, float]) -> list[tuple[float, float, float, float, str]]:
    """Boxes 8.6 pt high, each piece's text 4.3 pt a letter wide, after the given gap."""
    words, x = [], 50.0
    for text, gap in pieces:
        x += gap
        words.append((x, 60.0, x + 4.3 * len(text), 68.6, text))
        x += 4.3 * len(text)
    return words


KNOWN = vocabulary([_line(*[(w, 2.0) for w in ("the balance sheet shows income and equity of the business liquidity " * 5).split()])])


def test_a_kerned_off_last_letter_that_makes_a_word_of_the_document_is_glued_back():
    # 3M's 10-K: "Consolidated Balance Shee t", "Item 1. Busines s." at 0.19 and 0.24 of the type size
    assert join_words(_line(("Consolidated", 0), ("Balance", 1.98), ("Shee", 1.98), ("t", 1.6)), KNOWN) == "Consolidated Balance Sheet"
    assert join_words(_line(("Item", 0), ("1.", 2.0), ("Busines", 2.0), ("s.", 2.08)), KNOWN) == "Item 1. Business."
    assert join_words(_line(("CONDITION", 0), ("AND", 2.0), ("LIQUIDI", 2.0), ("TY", 1.5)), KNOWN) == "CONDITION AND LIQUIDITY"


def test_a_letter_that_makes_no_word_or_stands_wide_apart_or_is_often_alone_stays_apart():
    assert join_words(_line(("Davis", 0), ("v.", 1.95), ("Smith", 1.95)), KNOWN) == "Davis v. Smith"  # no word "davisv"
    assert join_words(_line(("Balance", 0), ("Shee", 2.0), ("t", 5.7)), KNOWN) == "Balance Shee t"  # a tick box's wide space
    assert join_words(_line(("of", 0), ("a", 1.9), ("sheet", 1.9)), KNOWN) == "of a sheet"  # "a" is a word
    # a paper where "n" is a variable and "then" a word
    variables = vocabulary([_line(*[(w, 2.0) for w in ("then for all n nodes of n servers " * 6).split()])])
    assert join_words(_line(("for", 0), ("the", 2.0), ("n", 1.6), ("nodes", 2.0)), variables) == "for the n nodes"
    assert join_words(_line(("Balance", 0), ("Shee", 2.0), ("t", 1.6))) == "Balance Shee t"  # nothing known: as set


@needs_poppler
def test_a_pdf_heading_with_a_kerned_last_letter_reads_whole(tmp_path):
    pdf = fpdf.FPDF(unit="pt", format="letter")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 12)
    pdf.set_xy(72, 72)
    pdf.cell(pdf.get_string_width("Consolidated Balance Shee"), 14, "Consolidated Balance Shee")
    pdf.set_x(pdf.get_x() + 0.19 * 12)  # kerned off, as 3M's statements set it
    pdf.cell(10, 14, "t")
    pdf.set_font("helvetica", size=10)
    pdf.set_xy(72, 100)
    pdf.multi_cell(450, 12, "The balance sheet lists assets. A balance sheet is read with the notes. "
                            "Each sheet of the ledger is kept. The sheet closes the year. Davis v. Smith was settled.")
    pdf.output(str(tmp_path / "statement.pdf"))
    text = load_document(tmp_path / "statement.pdf").text
    assert "Consolidated Balance Sheet" in text, text
    assert "Davis v. Smith" in text, text

"""The PDF reader on generated PDFs: two columns, running header and footer, ligatures,
hyphenation, headings, page offsets; scanned pages OCR'd; the cleanup's invariants."""

from __future__ import annotations

import re
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import example, HealthCheck, given, settings
from hypothesis import strategies as st

from quoteback.documents import load_corpus, load_document
from quoteback.documents.pdf import NO_OCR, usable
from quoteback.documents.pdf_headings import CONTENTS_LEVEL, heading_level
from quoteback.documents.pdf_layout import assemble
from quoteback.documents.pdf_contents import is_toc_page
from quoteback.documents.pdf_lines import Block, Line, Page, clean_chars

fpdf = pytest.importorskip("fpdf")
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def _font() -> str | None:
    candidates = [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")]
    try:
        import matplotlib

        candidates.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
    except ImportError:
        pass
    return next((str(p) for p in candidates if p.exists()), None)


FONT = _font()
needs_font = pytest.mark.skipif(FONT is None, reason="no DejaVuSans.ttf for ligature glyphs")

# page -> (left column lines, right column lines); the first left line of page 1 is a heading
PAGES = [
    (["The left column begins with a complete",
      "sentence about the \ufb01rst \ufb02oor of the",
      "archive, which the clerks keep by incre-",
      "menting a ledger every single morning."],
     ["The right column talks about the of\ufb01ce",
      "and its ef\ufb01cient staff who walk beside",
      "the river"]),
    (["runs north past the mill to the harbour.",
      "Pelicans nest on the second page where",
      "nobody disturbs them at all."],
     ["Second page right column text closes",
      "this part of the story."]),
    (["Third page mentions lighthouses and",
      "the keepers who trim their lamps."],
     ["Nothing else happens on the final page",
      "of this small document."]),
]


def _two_column_pdf(path: Path) -> Path:
    pdf = fpdf.FPDF(unit="pt", format="letter")
    pdf.set_auto_page_break(False)
    pdf.add_font("dejavu", "", FONT)
    pdf.set_title("Chunk Size and the Archive")
    for number, (left, right) in enumerate(PAGES, start=1):
        pdf.add_page()
        pdf.set_font("dejavu", size=9)
        pdf.set_xy(72, 30)
        pdf.cell(300, 12, "Quoteback Test Journal Vol. 7")
        pdf.set_xy(290, 750)
        pdf.cell(40, 12, f"Page {number}")
        y = 90
        if number == 1:
            pdf.set_font("dejavu", size=13)
            pdf.set_xy(72, y)
            pdf.cell(220, 16, "2.5 Chunk Size")
            y += 28
        pdf.set_font("dejavu", size=10)
        for column_x, lines in ((72, left), (320, right)):
            line_y = y if column_x == 72 else 90
            for line in lines:
                pdf.set_xy(column_x, line_y)
                pdf.cell(220, 12, line)
                line_y += 12
    pdf.output(str(path))
    return path


@needs_poppler
@needs_font
def test_two_column_pdf_reads_like_the_page(tmp_path):
    doc = load_document(_two_column_pdf(tmp_path / "columns.pdf"))
    text = doc.text
    # running header and footer page numbers gone
    assert "Quoteback Test Journal" not in text and not re.search(r"Page \d", text)
    # ligatures expanded, hyphenation joined
    assert not re.search("[\ufb00-\ufb06]", text)
    assert "the first floor of the archive" in text
    assert "the office and its efficient staff" in text
    assert "keep by incrementing a ledger" in text
    # left column's sentence complete before the right column's starts
    assert text.index("every single morning.") < text.index("The right column")
    # the heading is its own block and recorded
    start, end, level = doc.headings[0]
    assert text[start:end] == "2.5 Chunk Size" and level == 2
    assert text[end:end + 2] == "\n\n" and (start == 0 or text[start - 2:start] == "\n\n")
    # a paragraph going on over the page break is one block spanning two pages
    joined = text.index("walk beside the river runs north past the mill")
    assert "\n\n" not in text[joined:text.index("harbour.")]
    assert doc.pages_of(joined, text.index("harbour.")) == [1, 2]
    # page offsets
    assert len(doc.pages) == 3 and doc.pages[0] == 0
    assert doc.page_at(text.index("Pelicans nest")) == 2
    assert doc.page_at(text.index("lighthouses")) == 3
    assert doc.page_at(text.index("The left column")) == 1
    assert doc.title == "Chunk Size and the Archive"  # metadata title, its words on the page


def _image_pdf(path: Path, sentences: list[str | None]) -> Path:
    """One page per sentence: None a page with a text layer, a string an image of the text only."""
    from PIL import Image, ImageDraw, ImageFont

    pdf = fpdf.FPDF(unit="pt", format="letter")
    for i, sentence in enumerate(sentences):
        pdf.add_page()
        if sentence is None:
            pdf.set_font("helvetica", size=12)
            pdf.set_xy(72, 72)
            pdf.cell(400, 14, "This cover page has an ordinary text layer.")
            continue
        image = Image.new("L", (2550, 3300), 255)  # letter at 300 dpi
        draw = ImageDraw.Draw(image)
        font = ImageFont.truetype(FONT, 48)
        draw.text((300, 400), sentence, fill=0, font=font)
        png = Path(tempfile.mkdtemp()) / f"scan-{i}.png"  # not beside the PDF: that may be a corpus folder
        image.save(png)
        pdf.image(str(png), x=0, y=0, w=612, h=792)
    pdf.output(str(path))
    return path


SCANNED = "The quick brown fox jumps over the lazy dog."


@needs_poppler
@needs_font
@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr not installed")
def test_image_only_page_is_ocrd_with_its_page_number(tmp_path):
    doc = load_document(_image_pdf(tmp_path / "scan.pdf", [None, SCANNED]))
    assert "This cover page has an ordinary text layer." in doc.text
    at = doc.text.find(SCANNED)
    assert at >= 0, doc.text
    assert doc.page_at(at) == 2 and len(doc.pages) == 2


@needs_poppler
@needs_font
def test_without_tesseract_a_scan_is_skipped_with_the_reason(tmp_path, monkeypatch):
    folder = tmp_path / "corpus"
    folder.mkdir()
    _image_pdf(folder / "scan.pdf", [SCANNED])
    _image_pdf(folder / "mixed.pdf", [None, SCANNED])
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "tesseract" else real_which(name, *a, **k))
    corpus = load_corpus(folder)
    assert {s.path: s.reason for s in corpus.skipped} == {"scan.pdf": NO_OCR}
    [mixed] = corpus.documents
    assert "ordinary text layer" in mixed.text and "fox" not in mixed.text
    assert any(n.path == "mixed.pdf" and "page 2" in n.message and "tesseract" in n.message for n in corpus.notices)


def test_garbage_text_layer_is_not_usable():
    assert usable("Incident response is a complex undertaking that requires planning and resources.")
    assert not usable("\ue000\ue001\ue002 \ue003\ue004 \ue005\ue006\ue007 \ue008\ue009")
    assert not usable("#$%& 1234 %%% ### 5678 (((( )))) 9999")
    assert not usable("xqzt bcdfg hjklmn pqrstv wxzq bcdf ghjk lmnp qrst vwxz")
    table_of_contents = "Executive Summary ..................................... 1\n1. Introduction ................ 3"
    assert usable(table_of_contents)


def test_clean_chars():
    assert clean_chars("\ufb01ne \ufb02ow e\ufb00ort o\ufb03ce ba\ufb04e \ufb05 \ufb06") == "fine flow effort office baffle ft st"
    assert clean_chars("a\u00a0b\u2009c\u00adde\u200b") == "a b cde"


# ---------------------------------------------------------------- invariants of the cleanup

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz\ufb01\ufb02", min_size=1, max_size=9)
_line_text = st.lists(_word, min_size=1, max_size=8).map(" ".join)
_title_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz\ufb01", min_size=3, max_size=9)
_heading = st.tuples(st.lists(st.integers(1, 9), min_size=1, max_size=3), st.lists(_title_word, min_size=1, max_size=4)).map(
    lambda t: ".".join(map(str, t[0])) + " " + " ".join(w.capitalize() for w in t[1]))
_block = st.one_of(
    st.tuples(st.just("heading"), _heading),
    st.tuples(st.just("para"), st.lists(st.one_of(_line_text, _line_text.map(lambda s: s + "-"), _line_text.map(lambda s: s + ".")),
                                        min_size=1, max_size=5)),
)


def _pages(spec: list[list[tuple]]) -> list[Page]:
    pages = []
    for page_spec in spec:
        page = Page(612, 792)
        y = 80.0
        for kind, content in page_spec:
            lines = [content] if kind == "heading" else content
            size = 12.0 if kind == "heading" else 10.0
            block = []
            for text in lines:
                block.append(Line(text, 72, y, 72 + 5 * len(text), y + size, size))
                y += size + 2
            page.blocks.append(Block(block))
            y += 10
        pages.append(page)
    return pages


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_block, min_size=0, max_size=5), min_size=1, max_size=4))
@example([[("heading", "1 Aaa"), ("heading", "1 Aaa Aaa Aaa")], [("para", ["a"]), ("heading", "2 Aaa Aaa Aaa")]])  # found by hypothesis
@example([[("heading", "1 Aaa"), ("heading", "1 Aaa Aaa Aaa Aaa")], [("heading", "1 Aaa"), ("heading", "2 Aaa Aaa Aaa Aaa")]])
def test_cleanup_invariants(spec):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = assemble(_pages(spec))
    text = result.text
    assert len(result.pages) == len(spec)
    assert result.pages == sorted(result.pages) and all(0 <= p <= len(text) for p in result.pages)
    assert not re.search("[\ufb00-\ufb06]", text) and "\n\n\n" not in text
    headings_written = [" ".join(clean_chars(c).split()) for page in spec for kind, c in page if kind == "heading"]
    seen = []
    for start, end, level in result.headings:
        span = text[start:end]
        assert span and span == span.strip() and "\n\n" not in span and level >= 1
        assert (start == 0 or text[start - 2:start] == "\n\n") and text[end:end + 2] in ("", "\n\n")
        seen.append(span)
    # every heading written (numbered, capitalised) comes out as a heading span equal to its text,
    # unless its number goes back (`1 Aaa` after `2 Bbb`): a numbered list in type of the same size
    last: tuple[int, ...] = ()
    for heading in headings_written:
        number = tuple(int(n) for n in heading.split(" ")[0].split("."))
        if number <= last:
            continue
        last = number
        if [re.sub(r"\d", "", h) for h in headings_written].count(re.sub(r"\d", "", heading)) > 1:
            continue  # the same line on several pages, page numbers aside, may rightly be taken for a running header
        assert any(s == heading or s.startswith(heading + " ") for s in seen), (heading, seen)


# ---------------------------------------------------------------- structure: headings, contents pages, tables

_BODY = ("Organizations should keep a record of every incident they handle, with the time it was noticed, "
         "the people who worked on it and the actions that were taken to contain it and recover from it.")


def _paragraph(pdf, y: float, text: str = _BODY, size: float = 10) -> float:
    pdf.set_font("Helvetica", size=size)
    pdf.set_xy(72, y)
    pdf.multi_cell(450, size * 1.3, text)
    return pdf.get_y() + 12


def _heading(pdf, y: float, number: str, title: str, size: float) -> float:
    pdf.set_font("Helvetica", "B", size)
    pdf.text(72, y + size, number)
    pdf.text(110, y + size, title)  # the number and the title as separate boxes, as many PDFs set them
    return y + size + 14


def _structured_pdf(path: Path) -> Path:
    pdf = fpdf.FPDF(unit="pt", format="letter")
    pdf.set_auto_page_break(False)
    pdf.add_page()  # a contents page
    pdf.set_font("Helvetica", "B", 16)
    pdf.text(72, 90, "Table of Contents")
    pdf.set_font("Helvetica", size=10)
    for i, (entry, page) in enumerate([("1 Introduction", 2), ("2 Handling an Incident", 2), ("2.1 Events and Incidents", 2),
                                       ("2.2 Incident Prioritization", 2)]):
        pdf.text(72, 120 + 16 * i, f"{entry} {'.' * 60} {page}")
    pdf.add_page()
    y = _heading(pdf, 72, "1", "Introduction", 14)
    y = _paragraph(pdf, y)
    y = _heading(pdf, y, "2", "Handling an Incident", 14)
    y = _paragraph(pdf, y)
    y = _heading(pdf, y, "2.1", "Events and Incidents", 12)
    y = _paragraph(pdf, y, "A computer security incident is a violation of computer security policies or standard practices. " * 2)
    y = _heading(pdf, y, "2.2", "Incident Prioritization", 12)
    y = _paragraph(pdf, y, "Table 1 lists the functional impact categories that an organization might use for its incidents.")
    pdf.set_font("Helvetica", size=9)
    rows = [("Category", "Definition"), ("None", "No effect to the ability to provide all services to all users"),
            ("Low", "Minimal effect; the organization can still provide all critical services"),
            ("Medium", "Organization has lost the ability to provide a critical service to a subset of users"),
            ("High", "Organization is no longer able to provide some critical services to any users")]
    for i, (left, right) in enumerate(rows):
        pdf.text(80, y + 10 + 15 * i, left)
        pdf.text(160, y + 10 + 15 * i, right)
    _paragraph(pdf, y + 15 * len(rows) + 20, "After the table the text goes on with an ordinary paragraph of prose.")
    pdf.output(str(path))
    return path


@needs_poppler
def test_structure_headings_contents_and_tables(tmp_path):
    doc = load_document(_structured_pdf(tmp_path / "structured.pdf"))
    heads = [(doc.text[a:b], level) for a, b, level in doc.headings]
    # contents lines are no headings; the body headings are found with their numbers and levels
    assert not any("..." in text or text.rstrip().endswith((" 2",)) for text, _ in heads), heads
    assert ("1 Introduction", 1) in heads and ("2 Handling an Incident", 1) in heads
    assert ("2.1 Events and Incidents", 2) in heads and ("2.2 Incident Prioritization", 2) in heads
    at = doc.text.index("A computer security incident is")
    assert doc.section_label(at) == "2 Handling an Incident › 2.1 Events and Incidents"
    # each heading is a block of its own
    for a, b, _ in doc.headings:
        assert (a == 0 or doc.text[a - 2:a] == "\n\n") and doc.text[b:b + 2] in ("", "\n\n")
    # the table: one row per line, cells joined with ` | `, as one block
    row = "Medium | Organization has lost the ability to provide a critical service to a subset of users"
    assert row in doc.text
    block = next(b for b in doc.text.split("\n\n") if row in b)
    assert block.splitlines()[0] == "Category | Definition" and len(block.splitlines()) == 5
    assert all(" | " in line for line in block.splitlines())
    assert doc.section_label(doc.text.index(row)).endswith("2.2 Incident Prioritization")
    # prose stays prose
    assert "After the table the text goes on with an ordinary paragraph of prose." in doc.text.split("\n\n")


def test_numbered_list_in_body_type_is_not_a_heading():
    lines = [("3.5 Incident Handling Checklist", 12.0), ("1. Determine whether an incident has occurred", 10.0),
             ("2. Prioritize handling the incident", 10.0), ("4 Coordination", 12.0)]
    page = Page(612, 792)
    y = 80.0
    for text, size in lines:
        page.blocks.append(Block([Line(text, 72, y, 72 + 5 * len(text), y + size, size)]))
        page.blocks.append(Block([Line(_BODY[:80], 72, y + 16, 500, y + 26, 10.0), Line(_BODY[80:150] + ".", 72, y + 28, 400, y + 38, 10.0)]))
        y += 60
    result = assemble([page])
    heads = [result.text[a:b] for a, b, _ in result.headings]
    assert heads == ["3.5 Incident Handling Checklist", "4 Coordination"]


def test_a_list_of_notes_a_figure_row_and_a_footnote_are_no_sections():
    """An index of numbered notes (no text between them) does not make the real notes after it
    "go back"; a number far past the last section (`49 Other accrued liabilities`, a figure beside
    its row label) and a numbered line in smaller type (a footnote) are no headings."""
    page = Page(612, 792)
    y = 60.0

    def put(text: str, size: float = 10.0, body: bool = False) -> None:
        nonlocal y
        page.blocks.append(Block([Line(text, 72, y, 72 + 5 * len(text), y + size, size)]))
        y += 16
        if body:
            page.blocks.append(Block([Line(_BODY[:80], 72, y, 500, y + 10, 10.0), Line(_BODY[80:150] + ".", 72, y + 12, 400, y + 22, 10.0)]))
            y += 34

    for text in ("1. Summary of Significant Accounting Policies", "2. Restructuring Charges", "3. Acquisitions"):
        put(text)
    put("Contents", body=True)
    put("1. Summary of Significant Accounting Policies", body=True)
    put("2. Restructuring Charges", body=True)
    put("49 Other accrued liabilities", body=True)
    put("3 Excludes the impact of currency", size=7.0, body=True)
    put("3. Acquisitions", body=True)
    result = assemble([page])
    heads = [(result.text[a:b], level) for a, b, level in result.headings]
    assert heads == [("Contents", CONTENTS_LEVEL), ("1. Summary of Significant Accounting Policies", 1),
                     ("2. Restructuring Charges", 1), ("3. Acquisitions", 1)]  # contents end at the next heading


def test_an_index_with_a_column_of_page_numbers_is_a_contents_page():
    """A 10-K's index has no title (its "Table of Contents" is a running link) and no leaders: its
    entries and a column of rising page numbers at the right make it a contents page, so its
    entries ("Notes to Consolidated Financial Statements") do not become sections of the pages
    after it. A statement's figures are no page numbers."""
    entries = ["Consolidated Statement of Cash Flows", "Notes to Consolidated Financial Statements",
               "Note 1. Significant Accounting Policies", "Note 2. Revenue", "Note 3. Acquisitions", "Note 4. Goodwill",
               "Note 5. Restructuring Actions", "Note 6. Supplemental Income Statement Information"]
    index = Page(612, 792)
    for i, (entry, number) in enumerate(zip(entries, (60, 61, 61, 71, 73, 76, 78, 80))):
        y = 80.0 + 12 * i
        index.blocks.append(Block([Line(entry, 125, y, 125 + 5 * len(entry), y + 9, 8.6)]))
        index.blocks.append(Block([Line(str(number), 536, y, 544, y + 9, 8.6)]))
    assert is_toc_page(index)
    statement = Page(612, 792)
    for i, (label, figure) in enumerate(zip(entries, (5363, 4869, 1488, 1544, 370, 967, 410, 334))):
        y = 80.0 + 12 * i
        statement.blocks.append(Block([Line(label, 56, y, 56 + 5 * len(label), y + 9, 8.6)]))
        statement.blocks.append(Block([Line(f"{figure:,}", 500, y, 530, y + 9, 8.6)]))
    assert not is_toc_page(statement)


def test_a_contents_page_keeps_the_documents_title():
    """A contents page's title line ("Contents") is a heading; the document's own title (its PDF
    metadata) stays its title. The contents loop once overwrote it."""
    contents = Page(612, 792)
    for i, (entry, number) in enumerate([("Contents", ""), ("1 Introduction", "3"), ("2 Design", "5"), ("3 Evaluation", "9")]):
        contents.blocks.append(Block([Line(f"{entry} ... {number}".rstrip(". ") if number else entry, 72, 80 + 14 * i, 400, 90 + 14 * i, 10.0)]))
    body = Page(612, 792)
    body.blocks.append(Block([Line("1 Introduction", 72, 80, 160, 92, 12.0)]))
    body.blocks.append(Block([Line(_BODY[:80], 72, 100, 500, 110, 10.0), Line(_BODY[80:150] + ".", 72, 112, 400, 122, 10.0)]))
    assert assemble([contents, body], title="A Study of Things").title == "A Study of Things"


def test_a_note_numbered_with_a_dash_is_a_section():
    assert heading_level(Line("Note 25 – Business segments", 72, 80, 220, 90, 10.0), 10.0, 1) == 1
    assert heading_level(Line("NOTE 1. Significant Accounting Policies", 72, 80, 260, 90, 10.0), 10.0, 1) == 1


def _footnoted_pdf(path: Path) -> Path:
    """A sentence with raised footnote marks (after a word, and after a comma-less name before a
    comma), an exponent after a number, and the footnote itself at the foot of the page."""
    pdf = fpdf.FPDF(unit="pt", format="letter")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    x, y = 72.0, 100.0

    def put(text: str, size: float = 10, rise: float = 0.0, space: bool = True) -> None:
        nonlocal x
        pdf.set_font("Helvetica", size=size)
        pdf.text(x, y - rise, text)
        x += pdf.get_string_width(text) + (pdf.get_string_width(" ") if space else 0)

    put("An incident is a violation", space=False)
    put("1", size=6, rise=4)
    put("of security policies and Information Systems", space=False)
    put("5", size=6, rise=4, space=False)
    put(", March 2006.")
    x, y = 72.0, 116.0
    put("The archive holds 10", space=False)
    put("6", size=6, rise=4)
    put("records in the basement of the library.")
    x, y = 72.0, 700.0
    put("1", size=6, rise=4)
    put("See the glossary for the terms used in this guide.", size=8)
    pdf.output(str(path))
    return path


@needs_poppler
def test_footnote_marks_are_dropped_but_exponents_kept(tmp_path):
    text = load_document(_footnoted_pdf(tmp_path / "notes.pdf")).text
    assert "a violation of security policies and Information Systems, March 2006." in text, text
    assert re.search(r"holds 10 ?6 records", text), text  # an exponent is no footnote mark
    assert "See the glossary" in text


def _encrypted_pdf(path: Path, user_password: str) -> Path:
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 10, "A lighthouse keeper trims the wick of the lamp every night before dusk.")
    pdf.set_encryption(owner_password="owner", user_password=user_password)
    pdf.output(str(path))
    return path


def test_a_password_protected_pdf_is_skipped_saying_what_to_do(tmp_path):
    from quoteback.documents.pdf import LOCKED

    _encrypted_pdf(tmp_path / "locked.pdf", "secret")
    corpus = load_corpus(tmp_path)
    assert corpus.documents == [] and [(s.path, s.reason) for s in corpus.skipped] == [("locked.pdf", LOCKED)]
    assert LOCKED.startswith("password-protected PDF: remove the password")


def test_a_pdf_encrypted_with_an_empty_password_is_read(tmp_path):
    doc = load_document(_encrypted_pdf(tmp_path / "open.pdf", ""))
    assert "lighthouse keeper trims the wick" in doc.text

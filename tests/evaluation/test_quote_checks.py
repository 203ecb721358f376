from quoteback.documents import Document
from quoteback.evaluation.quote_checks import QuoteChecks, normalise


def test_normalise_collapses_whitespace_and_case():
    assert normalise("  The\tQuick \n\n brown ") == "the quick brown"


def test_each_leftover_is_counted_with_an_example():
    header = "NIST SP 800-61 REV. 2 COMPUTER SECURITY"
    pages = [f"{header}\nText of page {i} is here and it goes on.\n{i}" for i in range(1, 6)]
    text = "\n\n".join(pages) + "\n\nThe ﬁle was incre-\nmented by bothachunkserverandaclientonthesamemachine."
    starts = [0]
    for page in pages[:-1]:
        starts.append(starts[-1] + len(page) + 2)
    doc = Document("n.pdf", "N", None, text, 0, "h", pages=starts, headings=[])
    checks = QuoteChecks()
    dirty = checks.check(doc, 0, len(pages[0]), doc.page_at(0), None)
    assert dirty == ["running header/footer"]
    tail = text.index("The ﬁle")
    assert set(checks.check(doc, tail, len(text), None, None)) == {"ligature", "hyphen break", "glued words", "no page"}
    clean = text.index("Text of page 2")
    assert checks.check(doc, clean, clean + 20, 2, None) == []
    assert checks.to_json()["quotes"] == 3 and checks.to_json()["ligature"] == 1
    assert checks.examples["running header/footer"] == header


def test_a_document_with_headings_needs_a_section():
    doc = Document("a.md", "A", None, "Intro\n\nBody text.", 0, "h", headings=[[0, 5, 1]])
    checks = QuoteChecks()
    assert checks.check(doc, 7, 17, None, None) == ["no section"]
    assert checks.check(doc, 7, 17, None, doc.section_label(7)) == []

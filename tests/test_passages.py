import re

from hypothesis import HealthCheck, given, settings, strategies as st

from quoteback.documents import Document, load_document
from quoteback.passages import Chunker, sentence_spans
from tests.conftest import SEED

WORDS = st.sampled_from("the Wagner group UN Mali troops mission Dr. U.S. e.g. 2023 security 3.5 forces".split())
SENTENCE = st.builds(
    lambda words, end: " ".join(words).capitalize() + end,
    st.lists(WORDS, min_size=1, max_size=30),
    st.sampled_from([".", "?", "!", ""]),
)
PARAGRAPH = st.builds(" ".join, st.lists(SENTENCE, min_size=1, max_size=12))
BLOCK = st.one_of(
    PARAGRAPH,
    st.builds(lambda s: "# " + s, SENTENCE),
    st.builds(lambda items: "\n".join("- " + i for i in items), st.lists(SENTENCE, min_size=1, max_size=4)),
    st.builds(lambda s: s.rstrip(".!") + "?", SENTENCE),
)
TEXT = st.builds(
    lambda header, blocks, seps: header + "".join(b + s for b, s in zip(blocks, seps)),
    st.sampled_from(["", " date 2023-12-12 ", "---\ntitle: T\n---\n"]),
    st.lists(BLOCK, min_size=1, max_size=15),
    st.lists(st.sampled_from(["\n\n", "\n \n\n", "\r\n\r\n", "\n"]), min_size=15, max_size=15),
)

ROW = st.builds(lambda label, a, b: f"{label} | 2019: {a:,} | 2018: {b:,}", st.sampled_from(["Net sales", "Cost of sales", "Total"]),
                st.integers(0, 99999), st.integers(0, 99999))
TABLE = st.builds(  # a statement as the PDF reader writes it: labels above, a group line among the rows
    lambda labels, rows, group: "\n\n".join(labels) + ("\n\n" if labels else "") + "\n".join(rows[:1] + group + rows[1:]),
    st.lists(st.sampled_from(["CONSOLIDATED STATEMENTS OF OPERATIONS", "(in millions)", "Years Ended December 31,",
                              "See accompanying notes."]), max_size=3),
    st.lists(ROW, min_size=2, max_size=12), st.lists(st.just("Operating expenses:"), max_size=1))
TEXT_WITH_TABLES = st.builds(lambda blocks, seps: "".join(b + s for b, s in zip(blocks, seps)),
                             st.lists(st.one_of(BLOCK, TABLE), min_size=1, max_size=10),
                             st.lists(st.sampled_from(["\n\n", "\n \n\n"]), min_size=10, max_size=10))


def _doc(text: str) -> Document:
    from quoteback.documents.text import text_metadata as _text_metadata

    _, date, body_start = _text_metadata(text, markdown=True)
    return Document("gen.md", "gen", date, text, body_start, "h")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(TEXT, TEXT_WITH_TABLES), st.integers(min_value=50, max_value=900))
def test_passages_are_exact_ordered_covering_slices(text, max_chars):
    doc = _doc(text)
    passages = Chunker(max_chars=max_chars, min_chars=40).split(doc)
    cursor = doc.body_start
    for p in passages:
        assert p.text == text[p.start : p.end]  # an exact slice
        assert p.start >= cursor  # ordered, no overlap
        assert text[cursor : p.start].strip() == ""  # nothing skipped between passages
        assert p.text == p.text.strip()
        assert p.sentences[0][0] == p.start and p.sentences[-1][1] == p.end
        cursor = p.end
    assert text[cursor:].strip() == ""  # the whole body is covered


@settings(max_examples=100, deadline=None)
@given(TEXT, st.integers(min_value=50, max_value=900))
def test_passages_never_cut_a_sentence(text, max_chars):
    doc = _doc(text)
    spans = sentence_spans(text, doc.body_start)
    starts = {a for a, _ in spans}
    ends = {b for _, b in spans}

    def overlong(pos: int) -> bool:  # only unpunctuated runs beyond the hard limit may be cut
        return any(a < pos < b and b - a > 4 * max_chars for a, b in spans)

    for p in Chunker(max_chars=max_chars, min_chars=40).split(doc):
        assert p.start in starts or overlong(p.start) or text[p.start - 1 : p.start] == "\n"
        assert p.end in ends or overlong(p.end) or text[p.end : p.end + 1] in ("\n", "\r")


def test_faq_question_stays_with_its_answer():
    doc = load_document(SEED, SEED.name)
    passages = Chunker().split(doc)
    questions = [line for line in doc.text.splitlines() if line.endswith("?")]
    assert len(questions) == 5
    for q in questions:
        (owner,) = [p for p in passages if q in p.text]
        after = owner.text.split(q, 1)[1].strip()
        assert len(after) > 100, f"question {q!r} was separated from its answer"
    assert all(p.text == doc.text[p.start : p.end] for p in passages)
    assert not any(p.text.startswith("date ") or "2023-12-12" in p.text for p in passages)


def test_long_paragraph_splits_on_sentences_only():
    sentences = [f"Sentence number {i} talks about the Wagner Group in Mali." for i in range(40)]
    text = " ".join(sentences)
    passages = Chunker(max_chars=300, min_chars=0).split(Document("x.txt", "x", None, text, 0, "h"))
    assert len(passages) > 5
    for p in passages:
        assert len(p.text) <= 300
        assert re.fullmatch(r"(Sentence number \d+ talks about the Wagner Group in Mali\. ?)+", p.text)


def test_a_long_paragraph_is_cut_into_even_pieces_not_a_full_one_and_a_short_tail():
    """The fewest pieces that fit, then the most even: a paragraph's last sentence is not left alone
    away from the sentences it follows from."""
    text = ("4.3.9 User. Contains the profile of users who sign in, with name, email and role. Users may be "
            "associated with proposals and blogs. However, they are not associated with ideas or votes, made "
            "by one-time users. 4.3.10 Ability. Defines the permissions for each user role. Roles fall into a "
            "hierarchy where those further down hold a subset of the permissions of those higher up. "
            "Admins are at the top, followed by moderators, artists and residents, in that order.")
    passages = Chunker(max_chars=400, min_chars=60).split(Document("x.txt", "x", None, text, 0, "h"))
    assert len(passages) == 2
    assert max(len(p.text) for p in passages) - min(len(p.text) for p in passages) < 150
    assert "Roles fall into a hierarchy" in passages[1].text and "Admins are at the top" in passages[1].text


def test_unpunctuated_run_is_split_at_whitespace():
    text = " ".join(["word"] * 2000)
    passages = Chunker(max_chars=200).split(Document("x.txt", "x", None, text, 0, "h"))
    assert all(len(p.text) <= 800 for p in passages) and len(passages) > 1
    assert all(text[p.start : p.end] == p.text for p in passages)


def test_a_recorded_heading_starts_the_passage_of_the_text_under_it():
    """PDF text often has no blank line before a heading: the reader's heading span cuts the block."""
    body = "The master keeps metadata in memory. " * 12
    text = body + "2.5 Chunk Size\nChunk size is one of the key design parameters. We chose 64 MB."
    start = text.index("2.5 Chunk Size")
    doc = Document("gfs.pdf", "GFS", None, text, 0, "h", headings=[[start, start + len("2.5 Chunk Size"), 2]])
    passages = Chunker(max_chars=700).split(doc)
    under = next(p for p in passages if "64 MB" in p.text)
    assert under.start == start and under.text.startswith("2.5 Chunk Size\nChunk size")
    assert all(doc.text[p.start : p.end] == p.text for p in passages)


def test_lines_waiting_above_a_heading_stay_in_their_own_section():
    """An unpunctuated line (a keyword list) would lead what follows it: a heading ends its section."""
    text = ("Keywords\n\ncomputer security incident; incident handling; incident response; information security\n\n"
            "Acknowledgments\n\nThe authors wish to thank their colleagues who reviewed drafts of this document.")
    spans = [(text.index(h), text.index(h) + len(h)) for h in ("Keywords", "Acknowledgments")]
    doc = Document("sp.pdf", "SP", None, text, 0, "h", headings=[[a, b, 1] for a, b in spans])
    passages = Chunker(max_chars=700).split(doc)
    assert [p.text.split("\n")[0] for p in passages] == ["Keywords", "Acknowledgments"]


def test_nested_headings_travel_together_with_the_text_under_them():
    text = "5 Authenticators\n\n5.1 Memorized Secrets\n\nA memorized secret is a secret value chosen by the subscriber."
    spans = [(text.index(h), text.index(h) + len(h)) for h in ("5 Authenticators", "5.1 Memorized Secrets")]
    doc = Document("sp.pdf", "SP", None, text, 0, "h", headings=[[a, b, 1] for a, b in spans])
    assert [p.text for p in Chunker(max_chars=700).split(doc)] == [text]


def test_table_rows_are_sentences_of_their_own():
    text = "Results of the survey.\n\nName | Role | Year\nAda | Engineer | 1843\nGrace | Admiral | 1952\n\nThe end of the report."
    doc = Document("t.docx", "T", None, text, 0, "h")
    passages = Chunker(max_chars=700).split(doc)
    rows = [text[a:b] for p in passages for a, b in p.sentences]
    assert "Ada | Engineer | 1843" in rows and "Grace | Admiral | 1952" in rows


def test_a_table_caption_leads_its_table():
    text = ("Rating incidents can be helpful in prioritizing limited resources.\n\nTable 3-2. Functional Impact Categories\n\n"
            "Category | Definition\nMedium | Organization has lost the ability to provide a critical service")
    doc = Document("n.pdf", "N", None, text, 0, "h")
    table = next(p for p in Chunker(max_chars=700, min_chars=0).split(doc) if "Medium |" in p.text)
    assert table.text.startswith("Table 3-2. Functional Impact Categories\n\nCategory | Definition")


STATEMENT = ("Net cash provided by operating activities rose in 2017.\n\nCONSOLIDATED STATEMENTS OF OPERATIONS\n\n"
             "(in millions, except per share data)\n\nYear Ended December 31,\n\n"
             "Net product sales | 2016: 94,665 | 2017: 118,573\nTotal net sales | 2016: 135,987 | 2017: 177,866\n"
             "Operating expenses:\nCost of sales | 2016: 88,265 | 2017: 111,934\nFulfillment | 2016: 17,619 | 2017: 25,249")


def test_a_statements_title_and_unit_lines_lead_its_first_rows():
    # alone, "CONSOLIDATED STATEMENTS OF OPERATIONS / (in millions...) / Year Ended December 31," was a
    # passage naming the statement with none of its figures: quoted first, it answered nothing
    doc = Document("a.pdf", "A", None, STATEMENT, 0, "h")
    passages = Chunker(max_chars=700, min_chars=0).split(doc)
    table = next(p for p in passages if "Net product sales" in p.text)
    assert table.text.startswith("CONSOLIDATED STATEMENTS OF OPERATIONS\n\n(in millions, except per share data)")
    assert not any(p.text.startswith("Net cash") and "CONSOLIDATED" in p.text for p in passages)  # a sentence above stays apart


def test_a_group_line_inside_a_table_is_a_row_of_it():
    doc = Document("a.pdf", "A", None, STATEMENT, 0, "h")
    rows = [STATEMENT[a:b] for p in Chunker(max_chars=700, min_chars=0).split(doc) for a, b in p.sentences]
    assert "Operating expenses:" in rows and "Cost of sales | 2016: 88,265 | 2017: 111,934" in rows

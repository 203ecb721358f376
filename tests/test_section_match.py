"""A question naming the section a passage sits in: the share, and what it adds to the ranking."""

import numpy as np
import pytest

from quoteback.build import IndexBuilder
from quoteback.fusion import Fusion, configurations
from quoteback.index import load_index
from quoteback.retrieval import Retriever
from quoteback.section_match import SectionMatch
from tests.test_retrieval import HashingEncoder

REPORT = """# Annual report of Acme

Acme makes anvils and sells them worldwide.

## Consolidated Statement of Cash Flows

Purchases of property, plant and equipment | 2018: (1,577) | 2017: (1,373)

## Risk Factors

Our capital expenditure plans for 2018 may change with demand for anvils.
"""


@pytest.fixture
def index(tmp_path, settings_for):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "report.md").write_text(REPORT)
    (corpus / "notes.txt").write_text("Capital expenditure in 2018 went to new anvil presses.")
    settings = settings_for(corpus)
    IndexBuilder(settings, HashingEncoder()).build()
    return load_index(settings.index)


def _passage(index, words: str) -> int:
    return next(i for i, p in enumerate(index.passages) if words in p.text)


def test_the_share_of_a_named_heading(index):
    rows, risks, intro, notes = (_passage(index, w) for w in ("Purchases of property", "Our capital", "makes anvils", "new anvil"))
    match = SectionMatch(index)
    question = "What was the 2018 capital expenditure in the cash flow statement?"
    share = dict(zip((rows, risks, intro, notes), match.share(question, np.array([rows, risks, intro, notes]))))
    # statement, cash and flow of "Consolidated Statement of Cash Flows" asked; "consolidated" not: most of it, not all,
    # and squared; one word of a two-word heading counts a quarter
    assert 0.3 < share[rows] < 1.0
    assert match.share("Which factors matter?", np.array([risks]))[0] == pytest.approx(0.25, abs=0.15)
    assert share[risks] == 0.0  # "Risk Factors": not named
    assert share[intro] == 0.0 and share[notes] == 0.0  # under the title only, and under no heading
    assert match.share("Which risk factors are there?", np.array([risks]))[0] == pytest.approx(1.0)
    # the document title is every passage's: it names no section
    assert match.share("What is in the annual report of Acme?", np.array([rows, risks])).tolist() == [0.0, 0.0]
    assert match.share("", np.array([rows])).tolist() == [0.0]


def test_a_named_section_lifts_its_passages_by_the_weight_times_the_share(index):
    question = "What was the 2018 capital expenditure in the cash flow statement?"
    plain = Fusion("hybrid", dense_weight=0.4, sentence_weight=0.3, coverage_weight=0.0)
    before = {h.passage_id: h.score for h in Retriever(index, HashingEncoder(), plain).search(question, k=10)}
    named = Retriever(index, HashingEncoder(), Fusion("hybrid", 0.4, 0.3, 0.0, heading_weight=0.5))
    after = named.search(question, k=10)
    shares = dict(zip((h.passage_id for h in after), named.sections.share(question, np.array([h.passage_id for h in after]))))
    assert set(before) == set(shares)
    for h in after:
        assert h.score == pytest.approx(before[h.passage_id] + 0.5 * shares[h.passage_id], abs=1e-6)
    rows = _passage(index, "Purchases of property")
    assert max(before, key=before.get) != rows  # the words of the question are elsewhere ...
    assert after[0].passage_id == rows  # ... the section it names holds the row


def test_the_weight_is_checked_and_the_plain_configurations_leave_it_out():
    with pytest.raises(ValueError):
        Fusion("hybrid", heading_weight=-0.1)
    named = configurations(Fusion(heading_weight=0.1))
    assert named["hybrid+sentences"].heading_weight == 0.1 and named["no-reader"].heading_weight == 0.1
    assert all(named[name].heading_weight == 0.0 for name in ("dense", "bm25", "rrf", "hybrid"))

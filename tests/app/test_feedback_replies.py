"""What the chat's clicks record (feedback_replies.Recorder), on a real index of the shipped corpus:
every field of the judgment, from the Answer the server kept, never from what a page sends."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from quoteback.app.feedback_replies import MAX_PICK, FeedbackError, Recorder, Replies, clean_comment
from quoteback.app.render import ANSWERS_CLASS, REPLY_CLASS, to_markdown
from quoteback.feedback.records import index_version
from quoteback.feedback.store import MAX_COMMENT, FeedbackStore
from tests.conftest import SEED

DOC = SEED.name
TEXT = SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def answerer(seed_ready):
    return seed_ready.answerer


@pytest.fixture(scope="module")
def minusma(answerer):
    return answerer.ask("What is MINUSMA?")


@pytest.fixture
def recorder(answerer, tmp_path):
    settings = answerer.settings
    return Recorder(FeedbackStore(tmp_path / "feedback.sqlite"), Replies(), lambda: answerer.index.documents,
                    lambda collection: index_version(settings))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _remember(recorder, answerer, question: str, history=(), where=()):
    answer = answerer.ask(question, history=list(history))
    return answer, recorder.replies.remember(answer, history, where)


def test_thumbs_up_records_the_first_quote_and_every_fact(recorder, answerer):
    answer, reply = _remember(recorder, answerer, "when was it set up?", history=["What is MINUSMA?"], where=["type=txt"])
    assert answer.quotes, "the follow-up should be answered from the FAQ"
    recorded = recorder.thumbs(reply, True, "alice")
    (row,) = recorder.store.list()
    first = answer.quotes[0]
    assert (recorded.id, recorded.judgment, row.judgment) == (row.id, "answers", "answers")
    assert (row.span.document, row.span.start, row.span.end) == (first.document, first.start, first.end)
    assert row.span.sha256 == _sha(TEXT[first.start : first.end])
    assert [(q.document, q.start, q.end, q.sha256) for q in row.quotes] == [
        (q.document, q.start, q.end, _sha(TEXT[q.start : q.end])) for q in answer.quotes]
    assert (row.question, row.history, row.where, row.collection) == ("when was it set up?", ("What is MINUSMA?",), ("type=txt",), "")
    assert (row.outcome, row.confidence, row.user) == (answer.outcome, pytest.approx(answer.confidence), "alice")
    assert row.index_version == index_version(answerer.settings) != ""
    assert row.time.endswith("Z") and "when was it set up?" in recorded.message


def test_thumbs_down_is_wrong_with_the_first_quote(recorder, answerer):
    answer, reply = _remember(recorder, answerer, "What is MINUSMA?")
    recorder.thumbs(reply, False)
    (row,) = recorder.store.list()
    assert row.judgment == "wrong" and (row.span.start, row.span.end) == (answer.quotes[0].start, answer.quotes[0].end)
    assert len(row.quotes) == len(answer.quotes) and row.user == ""


def test_thumbs_on_a_declined_reply(recorder, answerer):
    """Nothing quoted: 👍 agrees that no document answers (none), 👎 says one does (wrong, no passage)."""
    answer, reply = _remember(recorder, answerer, "What is the capital of France?")
    assert not answer.quotes
    recorder.thumbs(reply, True)
    recorder.thumbs(reply, False)
    up, down = recorder.store.list()
    assert (up.judgment, up.span, up.quotes, up.outcome) == ("none", None, (), "declined")
    assert (down.judgment, down.span) == ("wrong", None)


def test_this_answers_it_names_a_quote_by_its_place(recorder, answerer):
    answer, reply = _remember(recorder, answerer, "What is the Wagner Group?")
    last = len(answer.quotes) - 1
    recorder.answers(reply, last)
    (row,) = recorder.store.list()
    assert row.judgment == "answers" and (row.span.start, row.span.end) == (answer.quotes[last].start, answer.quotes[last].end)
    for bad in (len(answer.quotes), -1, "0"):
        with pytest.raises(FeedbackError):
            recorder.answers(reply, bad)
    assert recorder.store.count() == 1


def test_none_and_comment(recorder, answerer):
    _, reply = _remember(recorder, answerer, "What is MINUSMA?")
    recorder.none(reply, "bob", "  <script>alert(1)</script> not in these  ")
    recorder.comment(reply, "second thoughts", "bob")
    none, wrong = recorder.store.list()
    assert (none.judgment, none.span, none.comment) == ("none", None, "<script>alert(1)</script> not in these")
    assert (wrong.judgment, wrong.comment, wrong.user) == ("wrong", "second thoughts", "bob")
    with pytest.raises(FeedbackError, match="at most 500"):
        recorder.none(reply, "", "x" * (MAX_COMMENT + 1))
    with pytest.raises(FeedbackError, match="type a comment"):
        recorder.comment(reply, "   ")
    with pytest.raises(FeedbackError, match="control"):
        clean_comment("bell\x07")
    assert clean_comment("line one\n\tline two") == "line one\n\tline two"
    assert recorder.store.count() == 2  # refused ones store nothing


def test_unknown_and_forgotten_replies_are_refused(recorder, answerer):
    with pytest.raises(FeedbackError, match="no longer known"):
        recorder.thumbs("0123456789abcdef", True)
    with pytest.raises(FeedbackError, match="no longer known"):
        recorder.thumbs("../../etc", True)
    small = Replies(limit=2)
    answer = answerer.ask("What is MINUSMA?")
    first, *_ = [small.remember(answer) for _ in range(3)]
    assert small.get(first) is None and len(small) == 2


def test_a_picked_span_must_be_exactly_the_selected_text(recorder, answerer):
    _, reply = _remember(recorder, answerer, "What is MINUSMA?")
    phrase = "Russian private military company"
    start = TEXT.index(phrase)
    recorder.picked(reply, DOC, start - 1, start + len(phrase) + 1, TEXT[start - 1 : start + len(phrase) + 1], "carol")
    (row,) = recorder.store.list()
    assert TEXT[row.span.start : row.span.end] == phrase  # the white space at the edges trimmed
    assert row.span.sha256 == _sha(phrase) and row.user == "carol" and row.judgment == "answers"
    for args, message in [((DOC, start, start + 7, "Russiax"), "does not match"),
                          (("nope.txt", 0, 5, TEXT[:5]), "no document"),
                          ((DOC, 5, 5, ""), "select some"),
                          ((DOC, start - 1, start, " "), "white space"),
                          ((DOC, 0, MAX_PICK + 10, TEXT[: MAX_PICK + 10]), "at most")]:
        if args[2] > len(TEXT):
            continue
        with pytest.raises(FeedbackError, match=message):
            recorder.picked(reply, *args)
    assert recorder.store.count() == 1


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, len(TEXT) - 1), st.integers(1, 300))
def test_any_span_of_the_text_is_stored_as_its_trimmed_self(recorder, minusma, start, length):
    """Whatever is selected, the stored span's text is the selection without its edge white space."""
    end = min(len(TEXT), start + length)
    reply = recorder.replies.remember(minusma)
    selected = TEXT[start:end]
    if not selected.strip():
        with pytest.raises(FeedbackError):
            recorder.picked(reply, DOC, start, end, selected)
        return
    recorded = recorder.picked(reply, DOC, start, end, selected)
    row = recorder.store.list(1)[0]
    assert row.id == recorded.id and TEXT[row.span.start : row.span.end] == selected.strip()


def test_markdown_carries_the_reply_and_each_quotes_button(answerer):
    answer = answerer.ask("What is the Wagner Group?")
    shown = to_markdown(answer, "0123456789abcdef")
    assert f'class="{REPLY_CLASS}0123456789abcdef"' in shown
    for i in range(len(answer.quotes)):
        assert f'<button type="button" class="qb-answers {ANSWERS_CLASS}0123456789abcdef-{i}">This answers it</button>' in shown
    plain = to_markdown(answer)
    assert "qb-" not in plain and "<button" not in plain  # feedback off: no buttons, no marker
    declined = answerer.ask("What is the capital of France?")
    assert to_markdown(declined, "0123456789abcdef").endswith(f'<span class="{REPLY_CLASS}0123456789abcdef"></span>')

import re

import pytest

from quoteback.answer import is_follow_up, search_query, validate_question
from tests.conftest import SEED

SEED_TEXT = SEED.read_text(encoding="utf-8")
FAQ = [line for line in SEED_TEXT.splitlines() if line.endswith("?")]

VARIED = [
    "When did Wagner start operating in Mali?",
    "What is MINUSMA?",
    "Why are the peacekeepers leaving?",
    "Are there human rights concerns?",
    "Does Wagner replace the United Nations?",
    "what kind of training do they give the Malian army",
    "oversight mechanisms rule of law",
    "Syria Ukraine",
    "Mali security situation militant groups",
]


@pytest.mark.parametrize("question", FAQ)
def test_each_faq_question_quotes_its_own_answer_first(seed_ready, question):
    answer = seed_ready.answerer.ask(question)
    assert answer.answered
    top = answer.quotes[0]
    assert question in top.text
    answer_paragraph = SEED_TEXT.split(question, 1)[1].strip().split("\n\n")[0]
    assert answer_paragraph in top.text


def test_every_quote_is_an_exact_slice_of_the_file(seed_ready):
    for question in VARIED + FAQ:
        answer = seed_ready.answerer.ask(question)
        assert answer.answered, question
        for quote in answer.quotes:
            assert SEED_TEXT[quote.start : quote.end] == quote.text
            assert quote.document == SEED.name and quote.date == "2023-12-12"
            assert "date 2023-12-12" not in quote.text
            for a, b in quote.highlights:
                assert quote.start <= a < b <= quote.end
        scores = [q.score for q in answer.quotes]
        assert scores == sorted(scores, reverse=True)


def test_a_question_the_faq_does_not_answer_gets_no_direct_answer(seed_ready):
    """The FAQ names no one who runs Wagner: no quote is presented as the answer."""
    answer = seed_ready.answerer.ask("Who runs the Wagner Group?")
    assert answer.outcome in ("related", "declined") and not answer.answered


@pytest.mark.parametrize("question", [
    "What is the capital of France?",
    "How do I bake sourdough bread?",
    "Who won the 2018 FIFA World Cup?",
    "Explain quantum entanglement.",
])
def test_unrelated_questions_are_declined(seed_ready, question):
    answer = seed_ready.answerer.ask(question)
    assert not answer.answered and answer.quotes == []
    assert answer.message.startswith("The documents are not about this")


@pytest.mark.parametrize("bad", ["", "   \n\t", "x" * 100_000, "what\x00is\x07this", "?!..."])
def test_bad_questions_get_a_message(seed_ready, bad):
    assert validate_question(bad) is not None
    answer = seed_ready.answerer.ask(bad)
    assert not answer.valid and not answer.answered and answer.message


def test_follow_up_is_searched_with_the_topic(seed_ready):
    assert is_follow_up("why is it leaving?") and not is_follow_up("Why is the UN withdrawing its troops from Mali?")
    history = ["Tell me about the UN peacekeeping mission MINUSMA"]
    assert search_query("why is it leaving?", history) == f"{history[0]} why is it leaving?"
    assert search_query("What is the Wagner Group?", history) == "What is the Wagner Group?"
    answer = seed_ready.answerer.ask("why is it leaving?", history=history)
    assert answer.searched.startswith(history[0]) and "Searched for" in answer.message
    assert "Why is the UN withdrawing its troops from Mali?" in answer.quotes[0].text


def test_highlight_is_the_answering_sentence(seed_ready):
    answer = seed_ready.answerer.ask("When was MINUSMA established?")
    quote = answer.quotes[0]
    highlighted = [SEED_TEXT[a:b] for a, b in quote.highlights]
    assert any("established in 2013" in h for h in highlighted)
    assert all(re.match(r"[A-Z]", h) and h.rstrip()[-1] in ".!?" for h in highlighted)
    boundaries = {tuple(s) for p in seed_ready.answerer.index.passages for s in p.sentences}
    assert all(tuple(span) in boundaries for span in quote.highlights)  # whole sentences, never parts


def test_duplicate_and_overlapping_passages_are_quoted_once(tmp_path, settings_for, embedder):
    from quoteback.pipeline import open_answerer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = "The lighthouse on the northern cape was automated in 1987. Its keeper moved to the village."
    (corpus / "a.txt").write_text(text)
    (corpus / "b.txt").write_text(text)
    (corpus / "c.md").write_text("# Notes\n\nThe lighthouse on the northern cape was automated in 1987.")
    (corpus / "d.txt").write_text("Bakeries in the village open at dawn and sell rye bread.")
    answer = open_answerer(settings_for(corpus), embedder=embedder).answerer.ask("When was the lighthouse automated?")
    assert answer.answered
    lighthouse = [q for q in answer.quotes if "lighthouse" in q.text]
    assert len(lighthouse) == 1
    sources = {lighthouse[0].document} | {s.document for s in lighthouse[0].also_in}
    assert sources == {"a.txt", "b.txt", "c.md"}


def test_a_quote_that_announces_a_list_goes_on_to_the_list(tmp_path, settings_for, embedder):
    """The passage saying "listed below" is quoted with the passage after it (in its section):
    one exact slice across both, the list shown once, not promised and left out."""
    from quoteback.answer import announced
    from quoteback.pipeline import open_answerer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = ("# Attack vectors\n\nIncidents can occur in countless ways, so organizations should prepare for the common "
            "attack vectors. The attack vectors listed below are not a definitive classification of incidents; they "
            "are common methods of attack.\n\n"
            "* Web: An attack executed from a website or web-based application.\n"
            "* Email: An attack executed via an email message or attachment.\n\n"
            "# Holidays\n\nThe office is closed between the two holidays at the end of the year. Staff on call are "
            "listed in the rota.\n\n# Parking\n\nVisitors park behind the building.\n")
    (corpus / "guide.md").write_text(text)
    opened = open_answerer(settings_for(corpus), embedder=embedder)
    index = opened.answerer.index
    intro = next(i for i, p in enumerate(index.passages) if "listed below" in p.text)
    assert "Email:" not in index.passages[intro].text  # two passages: the test means something
    assert announced(index, intro) == index.passages[intro + 1]  # a passage is a value: a lazily read index gives a new object each time
    assert all(announced(index, i) is None for i in range(len(index.passages)) if i != intro)  # "listed in the rota" announces nothing

    answer = opened.answerer.ask("Which attack vectors are common?")
    quote = answer.quotes[0]
    source = index.documents[quote.document].text
    assert source[quote.start : quote.end] == quote.text
    assert "listed below" in quote.text and "Email: An attack executed via an email" in quote.text
    assert sum("Email: An attack" in q.text for q in answer.quotes) == 1


@pytest.mark.parametrize("follow_up", ["why is it leaving?", "and Russia?", "what about the coup?", "since when?", "when was it set up?"])
def test_a_follow_up_on_the_topic_is_searched_with_it(seed_ready, follow_up):
    answer = seed_ready.answerer.ask(follow_up, history=["Tell me about the UN peacekeeping mission MINUSMA"])
    assert answer.quotes and answer.outcome != "declined"


@pytest.mark.parametrize("off_topic", ["banana bread recipe", "football scores", "quantum chromodynamics lecture"])
def test_a_short_off_topic_message_after_a_question_is_declined(seed_ready, off_topic):
    """Searched with the earlier question it would come near the documents; its own words do not."""
    answer = seed_ready.answerer.ask(off_topic, history=["How many Wagner fighters are in Mali?"])
    assert answer.outcome == "declined" and answer.quotes == [] and answer.message.startswith("The documents are not about this")


def test_on_topic_unanswered_and_off_topic_questions_get_different_messages(seed_ready):
    """The FAQ is about Wagner in Mali but gives no death toll; it is not about baking at all."""
    on_topic = seed_ready.answerer.ask("How many Wagner fighters died in Mali in 2022?")
    off_topic = seed_ready.answerer.ask("banana bread recipe")
    assert on_topic.outcome == "related" and on_topic.quotes
    assert on_topic.message.startswith("The documents are about this but don't answer it directly")
    assert off_topic.outcome == "declined" and off_topic.message.startswith("The documents are not about this")


def test_a_declined_on_topic_question_says_the_documents_are_about_it(seed_ready):
    """With `related_from` raised, an unsure on-topic question is declined as such, not as off topic."""
    from dataclasses import replace

    from quoteback.answer import Answerer

    a = seed_ready.answerer
    strict = Answerer(a.index, a.embedder, replace(a.settings, related_from=0.99))
    answer = strict.ask("How many Wagner fighters died in Mali in 2022?")
    assert answer.outcome == "declined" and answer.message.startswith("The documents are about this but don't say it")


@pytest.mark.parametrize("question, language", [
    ("Warum ist die Wagner-Gruppe in Mali?", "German"),
    ("Pourquoi le groupe Wagner est-il au Mali ?", "French"),
    ("¿Por qué está el Grupo Wagner en Malí?", "Spanish"),
])
def test_a_question_in_another_language_gets_a_note_and_the_closest_passages(seed_ready, question, language):
    answer = seed_ready.answerer.ask(question)
    first = answer.message.splitlines()[0]
    assert language in first and "read as English" in first
    assert answer.quotes  # "Mali" and "Wagner" still find the FAQ: the note comes with what was found


@pytest.mark.parametrize("question", ["banana bread recipe", "Who is Prigozhin?", "What does MINUSMA do?", "Is Wagner in Mali?",
                                      "how many replicas does Dynamo store each key on?", "3M FY2018 capex", "Why?"])
def test_english_questions_get_no_language_note(question):
    from quoteback.question import language_note

    assert language_note(question) is None


def test_a_short_question_that_names_its_subject_is_no_follow_up():
    history = ["Why is the UN withdrawing its troops from Mali?"]
    assert not is_follow_up("What is MINUSMA?") and search_query("What is MINUSMA?", history) == "What is MINUSMA?"
    assert is_follow_up("since when?") and search_query("since when?", history) == f"{history[0]} since when?"
    assert search_query("why is it leaving?", ["why is it leaving?"]) == "why is it leaving?"  # asked again: searched once

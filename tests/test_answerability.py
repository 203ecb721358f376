import json

import numpy as np
import pytest

from quoteback.answerability import COEFFICIENTS, COEFFICIENTS_READER, NAMES, Calibrator, fit, reliability, type_missing, unmatched


def test_fit_is_deterministic_and_finds_the_telling_signal():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] + 0.3 * rng.normal(size=400) > 0).astype(float)
    w1, b1 = fit(x, y)
    w2, b2 = fit(x, y)
    assert np.array_equal(w1, w2) and b1 == b2
    assert w1[0] > 2 and abs(w1[1]) < 0.5 and abs(w1[2]) < 0.5


def test_reliability_table_compares_predicted_and_observed():
    rows = reliability([0.05, 0.15, 0.95, 0.97], [False, False, True, False])
    assert [r["bin"] for r in rows] == ["0.0–0.1", "0.1–0.2", "0.9–1.0"]
    assert rows[-1]["questions"] == 2 and rows[-1]["observed"] == 0.5 and rows[-1]["predicted"] == 0.96


@pytest.mark.parametrize("path", [COEFFICIENTS, COEFFICIENTS_READER])
def test_the_shipped_coefficients_match_the_signals(path):
    if not path.is_file():
        pytest.skip(f"{path.name} ships with a reader only")
    data = json.loads(path.read_text())
    assert data["signals"] == NAMES and len(data["weights"]) == len(NAMES)
    assert data["fitted_on"], "fitted by python -m quoteback.evaluation.calibrate, naming its sets"
    Calibrator.load(path)


def test_without_the_reader_its_signal_weighs_nothing():
    data = json.loads(COEFFICIENTS.read_text())
    assert data["weights"][NAMES.index("reader")] == 0.0


@pytest.mark.parametrize("question, sentence, missing", [
    ("How many fighters are there?", "About 1,000 fighters are deployed.", 0.0),
    ("How many fighters are there?", "Fighters are deployed in the north.", 1.0),
    ("When was the mission set up?", "It was established in 2013.", 0.0),
    ("Who founded it?", "it was founded long ago by a group.", 1.0),
    ("Why is the UN leaving?", "Because the situation is volatile.", 0.0),
])
def test_the_kind_of_answer_asked_for(question, sentence, missing):
    assert type_missing(question, sentence) == missing


PARAGRAPH = ("Rollo swore fealty to King Charles III of West Francia in 911 with 1,000 men. The treaty was not "
             "ratified until later. The Hervé family ruled the United Nations mission.")


@pytest.mark.parametrize("question, sentence, expected", [
    ("Who did Rollo swear fealty to?", "Rollo swore fealty to King Charles III", (0, 0, 0)),
    ("Who did Rollo not swear fealty to?", "Rollo swore fealty to King Charles III", (1, 0, 0)),  # a negation the sentence lacks
    ("Why was the treaty not ratified?", "The treaty was not ratified until later.", (0, 0, 0)),
    ("Who did Rollo not swear fealty to?", "Every lord swore fealty except Rollo", (0, 0, 0)),  # "except" negates too
    ("Did Rollo swear fealty or not?", "Rollo swore fealty to King Charles III", (0, 0, 0)),  # "or not" negates nothing
    ("Did Rollo not swear fealty to King Charles III?", "Rollo swore fealty to King Charles III", (0, 0, 0)),  # yes/no: same question
    ("What did Rollo swear in 912?", "Rollo swore fealty", (0, 1, 0)),  # a number the paragraph never gives
    ("What did Rollo swear in 911?", "Rollo swore fealty", (0, 0, 0)),
    ("Did Rollo have 1000 men?", "x", (0, 0, 0)),  # "1,000 men" in the paragraph
    ("Who did King Louis swear fealty to?", "Rollo swore fealty", (0, 0, 1)),  # a name it never mentions
    ("What did the Herve family rule?", "The Hervé family ruled", (0, 0, 0)),  # accents do not count
    ("What did the UN mission do?", "x", (0, 0, 0)),
    ("Who ruled the United Nations mission?", "x", (0, 0, 0)),
    ("What did the UN Security Council do?", "x", (0, 0, 1)),  # "Security Council" is not mentioned
])
def test_what_the_question_states_that_the_passage_does_not(question, sentence, expected):
    found = unmatched(question, PARAGRAPH.replace("United Nations", "UN") if "UN " in question else PARAGRAPH, sentence)
    assert (found["negation_unmatched"], found["number_unmatched"], found["name_unmatched"]) == expected


def test_three_outcomes_on_the_shipped_corpus(seed_ready):
    answerer = seed_ready.answerer
    answered = answerer.ask("What is MINUSMA?")
    assert answered.outcome == "answer" and answered.answered and answered.confidence >= answerer.settings.answer_from
    off_topic = answerer.ask("How do I bake sourdough bread?")
    assert off_topic.outcome == "declined" and not off_topic.quotes and not off_topic.answered
    unanswered = answerer.ask("How many Wagner fighters are in Mali?")  # on topic, the FAQ gives no number
    assert unanswered.outcome in ("related", "declined") and not unanswered.answered
    if unanswered.outcome == "related":
        assert unanswered.quotes and unanswered.message.startswith("The documents are about this but don't answer it directly")
    assert unanswered.confidence < answered.confidence
    changed = answerer.ask("When was MINUSMA not established?")  # the FAQ says when it was, not when it was not
    assert changed.confidence < answered.confidence and changed.signals.negation_unmatched == 1.0


def test_the_highlight_is_the_answering_sentence_not_the_heading(tmp_path, embedder, settings_for):
    from quoteback.pipeline import open_answerer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "vault.md").write_text(
        "# Station handbook\n\n## Osprey Vault Notes\n\nThe vault sits behind the radio room. "
        "The combination is known only to Dr. Amara Reyes and the station chief. It is changed every March.\n\n"
        "## Kitchen\n\nThe kitchen opens at six in the morning and closes at ten at night.\n")
    answer = open_answerer(settings_for(corpus), embedder=embedder).answerer.ask("Who knows the Osprey vault combination?")
    quote = answer.quotes[0]
    assert quote.section.startswith("Station handbook")  # the quote starts at or under the handbook heading
    marked = [quote.text[a - quote.start : b - quote.start] for a, b in quote.highlights]
    assert "The combination is known only to Dr. Amara Reyes and the station chief." in marked
    assert not {"Osprey Vault Notes", "Station handbook"} & set(marked)  # never a heading


def _marked(answer) -> list[str]:
    quote = answer.quotes[0]
    return [quote.text[a - quote.start : b - quote.start] for a, b in quote.highlights]


def _highlighted(tmp_path, embedder, settings_for, markdown: str, question: str) -> list[str]:
    """What the first quote highlights for `question`, asked of one markdown file (and an
    unrelated section after it, so the corpus has more than the answer)."""
    from quoteback.pipeline import open_answerer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "doc.md").write_text(markdown + "\n\n# Holidays\n\nThe office is closed between the two holidays at the end of the year.\n")
    return _marked(open_answerer(settings_for(corpus), embedder=embedder).answerer.ask(question))


def test_a_table_caption_is_not_the_highlight_when_a_row_answers(tmp_path, embedder, settings_for):
    marked = _highlighted(tmp_path, embedder, settings_for,
        "# Key-value store design\n\nTable 1: Summary of techniques used in the store and their advantages.\n\n"
        "| Problem | Technique | Advantage |\n|---|---|---|\n| Partitioning | Consistent hashing | Incremental scalability |\n"
        "| Handling temporary failures | Sloppy quorum and hinted handoff | High availability when replicas are down |\n"
        "| Membership | Gossip protocol | No central registry |\n\n"
        "# Operations\n\nThe store is deployed in three regions and upgraded every week.",
        "Which technique does the store use to deal with temporary failures?")
    assert any("Sloppy quorum and hinted handoff" in m for m in marked), marked
    assert not any(m.startswith("Table 1") for m in marked), marked


def test_a_sentence_followed_by_a_list_introduction_takes_the_list(tmp_path, embedder, settings_for):
    marked = " ".join(_highlighted(tmp_path, embedder, settings_for,
        "# Review speed\n\nReviews should be fast. In order to speed up reviews, a reviewer may approve a change while "
        "still leaving unresolved comments on it. This should be done when at least one of the following applies:\n\n"
        "* The reviewer is confident that the author will address all the remaining comments.\n"
        "* The remaining comments are minor, such as sorting imports.",
        "When is it fine to approve a change while still leaving unresolved comments?"))
    assert "leaving unresolved comments on it." in marked and "The remaining comments are minor" in marked, marked


def test_a_hedge_is_highlighted_with_the_however_that_turns_it(tmp_path, embedder, settings_for):
    marked = " ".join(_highlighted(tmp_path, embedder, settings_for,
        "# Harbour works\n\nWhat will the contractor do at the harbour?\n\nThe exact scope of the contractor's work at "
        "the harbour is not publicly disclosed. However, reports suggest that it is dredging the channel and rebuilding "
        "the north pier.",
        "What will the contractor do at the harbour?"))
    assert "dredging the channel" in marked, marked


def test_a_definition_asked_for_is_highlighted_alone(tmp_path, embedder, settings_for):
    marked = _highlighted(tmp_path, embedder, settings_for,
        "# The mission\n\nThe UN mission in the delta, known as DELTAMIS, was established in 2013 to guard the "
        "river ports. However, the ports have stayed unsafe, and the UN is now reducing its presence.",
        "What is DELTAMIS?")
    assert any("known as DELTAMIS" in m for m in marked) and not any("reducing its presence" in m for m in marked), marked


def test_a_setup_sentence_is_highlighted_with_the_next_one_that_points_back_at_it(tmp_path, embedder, settings_for):
    marked = " ".join(_highlighted(tmp_path, embedder, settings_for,
        "# Measurements\n\nIn a further experiment, how often the billing service had to retry a call was recorded "
        "for a week. During this week, 98.1% went through at once and 1.7% at the second attempt. The rest "
        "timed out.",
        "How often did the billing service actually have to retry a call?"))
    assert "98.1% went through at once" in marked, marked


def test_the_first_item_of_an_enumeration_is_highlighted_with_the_items_after_it(tmp_path, embedder, settings_for):
    marked = " ".join(_highlighted(tmp_path, embedder, settings_for,
        "# Reporting a pothole\n\nThere are two ways that residents may report a pothole. The first is by clicking "
        "“report a pothole” on the homepage of the city website. Another way is to phone the roads desk and read out "
        "the street name. Reports are reviewed every Monday.",
        "Where on the city website do I click to report a pothole?"))
    assert "The first is by clicking" in marked and "phone the roads desk" in marked, marked
    assert "reviewed every Monday" not in marked, marked


def test_a_definition_question_highlights_the_sentence_that_defines_the_term(tmp_path, embedder, settings_for):
    marked = _highlighted(tmp_path, embedder, settings_for,
        "# Complexity\n\nA particular type of complexity is **over-engineering**, where developers have made the code "
        "more generic than it needs to be. Reviewers should be especially vigilant about over-engineering. "
        "Encourage developers to solve the problem they know needs to be solved now.",
        "What does over-engineering mean when reviewing code?")
    assert any("more generic than it needs to be" in m for m in marked), marked


def test_a_table_row_holding_the_code_asked_about_is_an_answer_however_low_its_cosine(tmp_path, embedder, settings_for):
    """A row of codes and references embeds far from the question; it holds the code asked about
    verbatim: an exact lookup, quoted as the answer rather than declined for its low cosine."""
    from quoteback.pipeline import open_answerer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    refs = " | ".join(f"CIS CSC {i}, {i + 6} COBIT 5 DSS0{i % 9 + 1}.0{i % 7 + 1} ISA 62443-2-1:2009 4.3.{i} NIST SP 800-53 Rev. 4 AU-{i}, CA-{i}"
                      for i in range(1, 9))
    things = ["network", "physical environment", "personnel activity", "malicious code", "external service provider"]
    for i, thing in enumerate(things, 1):
        (corpus / f"core-{i}.txt").write_text(f"{refs} | DE.CM-{i}: The {thing} is monitored | {refs}\n")
    answerer = open_answerer(settings_for(corpus), embedder=embedder).answerer
    answer = answerer.ask("What outcome does subcategory DE.CM-3 of the framework core describe?")
    assert answer.quotes and "DE.CM-3:" in answer.quotes[0].text, answer.message
    # the calibrated score alone would not answer it (related or declined): the verbatim code decides
    assert answer.outcome == "answer" and answer.confidence < answerer.settings.answer_from, (answer.outcome, answer.confidence)

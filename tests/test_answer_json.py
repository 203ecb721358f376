"""The JSON contract of `quoteback ask --json` and `/ask`: outcome, confidence, page and section."""

import json

import jsonschema

SOURCE = {
    "type": "object",
    "required": ["document", "title", "date", "start", "end", "page", "section"],
    "properties": {
        "document": {"type": "string"}, "title": {"type": "string"}, "date": {"type": ["string", "null"]},
        "start": {"type": "integer", "minimum": 0}, "end": {"type": "integer", "minimum": 0},
        "page": {"type": ["integer", "null"], "minimum": 1}, "section": {"type": ["string", "null"]},
    },
}
QUOTE = {
    "type": "object",
    "required": ["text", "document", "title", "date", "start", "end", "score", "highlights", "also_in", "page", "pages", "section"],
    "properties": {
        **SOURCE["properties"],
        "text": {"type": "string", "minLength": 1},
        "score": {"type": "number"},
        "highlights": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}},
        "also_in": {"type": "array", "items": SOURCE},
        "pages": {"type": "array", "items": {"type": "integer", "minimum": 1}, "maxItems": 2},
    },
}
ANSWER = {
    "type": "object",
    "required": ["question", "valid", "answered", "outcome", "confidence", "quotes", "message", "searched"],
    "properties": {
        "question": {"type": "string"},
        "valid": {"type": "boolean"},
        "answered": {"type": "boolean"},
        "outcome": {"enum": ["answer", "related", "declined"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "quotes": {"type": "array", "items": QUOTE},
        "message": {"type": "string"},
        "searched": {"type": "string"},
    },
    "allOf": [
        {"if": {"properties": {"outcome": {"const": "answer"}}}, "then": {"properties": {"answered": {"const": True}, "quotes": {"minItems": 1}}}},
        {"if": {"properties": {"outcome": {"const": "related"}}}, "then": {"properties": {"answered": {"const": False}, "quotes": {"minItems": 1}}}},
        {"if": {"properties": {"outcome": {"const": "declined"}}}, "then": {"properties": {"answered": {"const": False}, "quotes": {"maxItems": 0}}}},
    ],
}


def test_answers_match_the_schema_with_section(seed_ready):
    for question in ("What is MINUSMA?", "How do I bake sourdough bread?", "How many Wagner fighters are in Mali?"):
        data = json.loads(json.dumps(seed_ready.answerer.ask(question).to_json()))
        jsonschema.validate(data, ANSWER)
    data = seed_ready.answerer.ask("What is MINUSMA?").to_json()
    assert data["quotes"][0]["section"] == "Why is the UN withdrawing its troops from Mali?"
    assert data["quotes"][0]["page"] is None and data["quotes"][0]["pages"] == []  # a text file has no pages


def test_pdf_quotes_carry_their_page(tmp_path, embedder, settings_for):
    from fpdf import FPDF

    from quoteback.pipeline import open_answerer

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for n, sentence in enumerate(["The harbour master keeps the tide tables in the blue cabinet.",
                                  "Lighthouse keepers trim the lamp wick every evening at dusk."], start=1):
        pdf.add_page()
        pdf.multi_cell(0, 8, f"Chapter {n}\n\n{sentence} " * 3)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    pdf.output(str(corpus / "harbour.pdf"))
    answer = open_answerer(settings_for(corpus), embedder=embedder).answerer.ask("When do keepers trim the lamp wick?")
    data = answer.to_json()
    jsonschema.validate(data, ANSWER)
    first = data["quotes"][0]
    assert "trim the lamp wick" in first["text"] and first["page"] == 2 and first["pages"] == [2]

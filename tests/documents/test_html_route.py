"""HTML main content: pages whose article the class-name rules used to throw away still give their
text, teaser streams beside an article stay out, and a fallback route is named in the build report."""

import importlib.util

import pytest

from quoteback.documents import load_corpus, load_document
from quoteback.documents.html import read_html

POST = ("The harbour survey counted forty boats, twelve of them older than the pier itself, "
        "and found that most owners repaint their hulls every second spring. ")
SIDEBAR = "".join(f'<li><a href="/archive/{i}">Archive month {i}</a></li>' for i in range(12))


def _page(body: str) -> bytes:
    return f"<html><head><title>Harbour notes</title></head><body>{body}</body></html>".encode()


def test_blog_posts_inside_a_widget_container_are_kept():
    """Blogger puts every post in `<div class="widget Blog">`: the element holding most of the page's
    text is the content, whatever its class says; the sidebar widgets still go."""
    page = _page(f'<div class="sidebar"><div class="widget BlogArchive"><ul>{SIDEBAR}</ul></div></div>'
                 f'<div class="widget Blog" id="Blog1"><h3>Harbour survey</h3><div class="post-body">{POST * 4}</div></div>')
    text = read_html(page).text
    assert POST.strip() in text and "Harbour survey" in text
    assert "Archive month" not in text


def test_a_widget_inside_the_content_container_still_goes():
    page = _page(f'<div id="share-buttons-wrapper"><p>{POST * 4}</p>'
                 f'<div class="widget-gallery"><p>{"Business news in pictures, a gallery caption. " * 3}</p></div></div>')
    text = read_html(page).text
    assert POST.strip() in text and "gallery caption" not in text


def test_a_section_named_after_its_heading_is_not_boilerplate():
    """Sphinx gives each section the slug of its heading as id (`sharing-...`, `related-work`)."""
    page = _page(f'<div class="body"><h1>Guide</h1><p>{POST}</p><div class="section" id="sharing-with-a-single-developer">'
                 f'<h2>Sharing with a single developer</h2><p>Push draft changes to your own test server first.</p></div></div>')
    text = read_html(page).text
    assert "Sharing with a single developer" in text and "Push draft changes" in text


def test_teaser_stream_beside_the_article_is_left_out():
    """No landmark and no boilerplate names: the densest block of prose is the article."""
    teasers = "".join(f'<li><a href="/s/{i}">Story number {i} headline</a> <span>A short teaser for story {i}</span></li>'
                      for i in range(10))
    page = _page(f'<div class="top"><div class="story"><h1>Harbour survey</h1>{f"<p>{POST}</p>" * 4}</div>'
                 f'<div class="more"><h2>More stories</h2><ul>{teasers}</ul></div></div>')
    text = read_html(page).text
    assert text.count(POST.strip()) == 4 and "Harbour survey" in text
    assert "teaser for story" not in text and "More stories" not in text


ASPNET = _page(f'<form id="aspnetForm" method="post" action="./page.aspx"><div class="page"><h1>Harbour survey</h1>'
               f'<p>{POST}</p><p>{POST}</p><p>Owners were asked about their moorings, their fees and their winters.</p></div></form>')


def test_a_page_whose_article_the_rules_drop_is_not_refused_and_the_route_is_reported(tmp_path):
    """An ASP.NET page wraps the whole body in a <form>, which the rules drop: the page falls back to
    another extraction instead of "no text to index", and the build report says which."""
    (tmp_path / "survey.html").write_bytes(ASPNET)
    corpus = load_corpus(tmp_path)
    assert not corpus.skipped
    assert POST.strip() in corpus.documents[0].text
    notes = [n.message for n in corpus.notices if n.path == "survey.html"]
    route = "trafilatura's extraction" if importlib.util.find_spec("trafilatura") else "whole visible text"
    assert len(notes) == 1 and "main-content rules kept 0 of the page's" in notes[0] and route in notes[0]


def test_whole_visible_text_when_no_extractor_finds_an_article(tmp_path):
    """A contact page whose only text is its footer: no extractor calls it content, so its visible
    text is indexed (hidden elements and scripts still left out) rather than the page refused."""
    page = _page('<footer><p>Harbour office, Quay Street 4. Open from eight to five.</p></footer>'
                 '<div style="display:none">secret draft</div><script>var x = 1;</script>')
    (tmp_path / "hours.html").write_bytes(page)
    with pytest.warns(UserWarning, match="whole visible text"):
        doc = load_document(tmp_path / "hours.html")
    assert doc.text == "Harbour office, Quay Street 4. Open from eight to five."


def test_an_ordinary_page_takes_the_rules_route_without_a_note(tmp_path):
    (tmp_path / "plain.html").write_bytes(_page(f"<main><h1>Harbour survey</h1><p>{POST}</p></main>"))
    corpus = load_corpus(tmp_path)
    assert corpus.documents and not corpus.notices


def test_a_resource_warning_while_a_file_is_read_is_not_its_notice(tmp_path, monkeypatch):
    """The garbage collector may report another object left open (an event loop) at any moment."""
    import warnings

    import quoteback.documents as documents

    real = documents.load_document

    def noisy(*args, **kwargs):
        warnings.warn("unclosed event loop <_UnixSelectorEventLoop>", ResourceWarning)
        return real(*args, **kwargs)

    monkeypatch.setattr(documents, "load_document", noisy)
    (tmp_path / "a.txt").write_text("A lighthouse keeper trims the wick every night.")
    corpus = documents.load_corpus(tmp_path)
    assert len(corpus.documents) == 1 and corpus.notices == []

"""HTML reader: main content only, tables as rows, headings with levels, RFC <pre> rebuilt."""

from quoteback.documents.html import read_html, tidy

PAGE = """<!DOCTYPE html><html><head><title>Otters of the River - Example Wiki</title>
<meta property="og:site_name" content="Example Wiki"><meta name="date" content="2021-03-04T10:00:00Z"></head>
<body>
<div id="cookie-banner">We use cookies to improve your experience. Accept all cookies</div>
<header><a href="/">Home</a> <a href="/about">About us</a></header>
<nav><ul><li><a href="/a">Main page</a></li><li><a href="/b">Random article</a></li><li><a href="/c">Donate now</a></li></ul></nav>
<main>
<h1>Otters of the River</h1>
<p>River otters are semiaquatic mammals that live along streams.<sup class="reference"><a href="#cite-1">[1]</a></sup></p>
<h2>Diet <span class="mw-editsection">[<a href="/edit">edit</a>]</span></h2>
<p>They eat fish, crayfish and frogs, hunting mostly at night.</p>
<table><tr><th>Prey</th><th>Share</th></tr><tr><td>Fish</td><td>60%</td></tr><tr><td>Crayfish</td><td colspan="2">25%</td></tr></table>
<h3>Seasonal changes</h3>
<ul><li>Winter: more fish</li><li>Summer: more frogs</li></ul>
<div class="navbox"><a href="/x1">Beaver</a> · <a href="/x2">Mink</a> · <a href="/x3">Weasel</a> · <a href="/x4">Badger</a> · <a href="/x5">Marten</a></div>
<h2>References</h2>
<ol class="references"><li id="cite-1">^ Smith, J. "Otters". Retrieved 2020-01-01.</li></ol>
</main>
<footer>Copyright 2021 Example Wiki. Privacy policy. Terms of use.</footer>
</body></html>"""


def test_main_content_without_boilerplate():
    doc = read_html(PAGE.encode())
    text = doc.text
    assert "River otters are semiaquatic mammals that live along streams." in text
    assert "Fish | Share: 60%" in text and "Prey | Share" in text and "Crayfish | Share: 25%" in text
    assert "- Winter: more fish\n- Summer: more frogs" in text
    for junk in ("cookies", "Main page", "Random article", "About us", "[edit]", "edit", "[1]", "Retrieved",
                 "Smith", "References", "Copyright", "Privacy", "Beaver", "Marten"):
        assert junk not in text, junk
    assert doc.title == "Otters of the River"
    assert doc.date == "2021-03-04"


def test_headings_with_levels_are_exact_spans():
    doc = read_html(PAGE.encode())
    found = [(doc.text[a:b], level) for a, b, level in doc.headings]
    assert found == [("Otters of the River", 1), ("Diet", 2), ("Seasonal changes", 3)]


def test_table_rows_in_document_order():
    text = read_html(PAGE.encode()).text
    assert text.index("hunting mostly at night") < text.index("Prey | Share") < text.index("Seasonal changes")


def test_link_dense_list_dropped_but_article_list_kept():
    links = "".join(f'<li><a href="/p{i}">Portal page number {i}</a></li>' for i in range(40))
    html = f"<html><body><article><h1>T</h1><p>{'Body text here. ' * 20}</p><ul>{links}</ul><ul><li>Plain item one</li><li>Plain item two</li></ul></article></body></html>"
    text = read_html(html.encode()).text
    assert "Portal page" not in text
    assert "- Plain item one" in text


def test_rfc_in_pre_loses_page_furniture_and_rebuilds_paragraphs():
    page1 = """
Abstract

   This draft describes a protocol for storing documents on a
   server that is hosted elsewhere.

4.  Versioning

   Each document has a version string that changes whenever the
   document changes, so that clients can make

Kooman                     Expires June 18, 2015                [Page 3]
"""
    page2 = """Internet-Draft              remoteStorage                  December 2014


   conditional requests safely.

4.1.  Details

   More text here.
"""
    html = f"<html><body><pre>{page1}</pre><!--NewPage--><pre class='newpage'>{page2}</pre></body></html>"
    doc = read_html(html.encode())
    assert "Page 3" not in doc.text and "Internet-Draft" not in doc.text and "Expires" not in doc.text
    assert "so that clients can make\nconditional requests safely." in doc.text
    headings = [(doc.text[a:b], level) for a, b, level in doc.headings]
    assert ("4. Versioning", 1) in headings and ("4.1. Details", 2) in headings


def test_code_pre_keeps_lines():
    html = "<html><body><main><p>" + "Intro text. " * 30 + "</p><pre>def f():\n    return 1\n</pre></main></body></html>"
    assert "def f():\n    return 1" in read_html(html.encode()).text


def test_tidy_kept_for_pdf_reader():
    assert tidy("a  \t b\n\n\n\nc ") == "a b\n\nc"

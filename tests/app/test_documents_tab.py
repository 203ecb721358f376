"""The Documents tab in a real Chromium against a real server: each Save writes only the files just
chosen, a second copy of a file's content is refused, the stale line accounts for every added
file, and removal asks first and goes to a trash the file can be restored from, by keyboard too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.app.helpers import app_page
from tests.app.test_chat import _client, _documents, _shot, browser, page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
TRASH = ".quoteback-trash"
HERON = "# Heron notes\n\nThe grey heron waits motionless in the shallows of the estuary.\n"


def _docx(path: Path, text: str) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Tide tables", 1)
    document.add_paragraph(text)
    document.save(path)
    return path


def _pdf(path: Path, text: str) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def _save(page, *paths: Path) -> str:
    """Choose these files (the box lists just them), press Save, and return the result once every
    file has its line."""
    page.locator("#upload input[type=file]").set_input_files([str(p) for p in paths])
    page.wait_for_function("(n) => document.querySelectorAll('#upload tr.file').length === n", arg=len(paths), timeout=10_000)
    page.get_by_role("button", name="Save to corpus").click()
    names = [p.name for p in paths]
    page.wait_for_function("(names) => names.every(n => document.querySelector('#rebuild-result').innerText.includes(n + ': '))",
                           arg=names, timeout=30_000)
    return page.locator("#rebuild-result").inner_text()


def _tab_to(page, label: str) -> None:
    """Press Tab until the button with this label has the keyboard focus."""
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.innerText") == label:
            return
    raise AssertionError(f"Tab never reached {label!r}")


def _pick(page, selector: str, typed: str) -> str:
    """Choose in a dropdown with the keyboard: type to filter, Enter."""
    choice = page.locator(f"{selector} input")
    choice.focus()
    choice.press_sequentially(typed)
    page.wait_for_function("(t) => { const o = document.querySelector('[role=option].active'); return o && o.innerText.includes(t) }",
                           arg=typed, timeout=10_000)  # the list filtered to what was typed, its first line highlighted
    choice.press("Enter")
    page.wait_for_selector("[role=option]", state="detached", timeout=5_000)  # the list closes on the choice
    return choice.input_value()


def test_each_save_writes_only_the_files_just_chosen(page, server, tmp_path):
    corpus = server["corpus"]
    before = {p.name for p in corpus.iterdir()}
    files = [tmp_path / "lighthouse-maintenance.md", _docx(tmp_path / "tide-tables.docx", "High water at the harbour is at noon."),
             _pdf(tmp_path / "fog-signals.pdf", "The fog horn sounds twice every minute in thick weather.")]
    files[0].write_text("# Lighthouse maintenance\n\nThe keeper cleans the lamp's lens every Tuesday morning.\n")
    _documents(page)
    for path in files:
        assert f"{path.name}: saved" in _save(page, path)
        page.wait_for_function("document.querySelectorAll('#upload tr.file').length === 0", timeout=10_000)  # the box empties
    assert {p.name for p in corpus.iterdir()} - before == {p.name for p in files}  # no lighthouse-maintenance-1.md
    copy = tmp_path / "lighthouse copy.md"
    copy.write_bytes(files[0].read_bytes())
    refused = _save(page, copy)
    assert "lighthouse copy.md: refused: the same content is already in the corpus as lighthouse-maintenance.md" in refused
    assert not (corpus / copy.name).exists()
    page.get_by_role("button", name="Rebuild index").click()
    page.wait_for_selector("text=Rebuilt:", timeout=180_000)
    quotes = _client(server).predict("When does the keeper clean the lamp's lens?", api_name="/ask")["quotes"]
    assert quotes and quotes[0]["document"] == "lighthouse-maintenance.md", quotes
    assert not [q["document"] for q in quotes if re.search(r"-\d+\.\w+$", q["document"])]  # no second copy cited


def test_the_stale_line_accounts_for_every_added_file(page, server, tmp_path):
    _documents(page)
    notes = []
    for i in range(7):
        notes.append(tmp_path / f"harbour-note-{i}.md")
        notes[-1].write_text(f"# Harbour note {i}\n\nBerth {i} is kept clear for the pilot boat number {i * 7}.\n")
    _save(page, *notes[:6])
    shown = None
    for batch in (notes[:6], notes[:7]):
        if shown:
            _save(page, notes[6])
        page.wait_for_function("(old) => { const t = document.querySelector('#index-status').innerText;"
                               " return t.includes('harbour-note-0') && t !== old }", arg=shown, timeout=10_000)
        shown = page.locator("#index-status").inner_text()
        found = re.search(r"(\d+) added: (.+?)(?: and (\d+) more)?(?:;|\s\(press)", shown)
        assert found, shown
        count, names, more = int(found.group(1)), found.group(2).split(", "), int(found.group(3) or 0)
        assert len(names) + more == count, shown  # "6 added:" listed 5 names
        assert more or {p.name for p in batch} <= set(names), shown
        _shot(page, f"documents-stale-{len(batch)}")


def test_removal_asks_first_and_the_trash_gives_the_file_back(page, server, tmp_path):
    note = server["corpus"] / "heron-notes.md"
    (tmp_path / note.name).write_text(HERON)
    _documents(page)
    assert "heron-notes.md: saved" in _save(page, tmp_path / note.name)
    assert _pick(page, "#remove-choice", "heron-notes") == "heron-notes.md"
    for answer in ("Cancel", "Move to trash"):
        page.get_by_role("button", name="Remove from corpus").focus()
        page.keyboard.press("Enter")
        page.wait_for_function("document.activeElement && document.activeElement.id === 'confirm-remove'", timeout=10_000)
        assert "Move heron-notes.md to the trash" in page.locator("#confirm-box").inner_text()
        assert note.read_text() == HERON  # nothing happens before the answer
        if answer == "Cancel":
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.innerText") == "Cancel"
        page.keyboard.press("Enter")
        page.wait_for_selector("#confirm-box", state="hidden", timeout=10_000)
    page.wait_for_selector("text=heron-notes.md: moved to the trash", timeout=30_000)
    [trashed] = (server["corpus"] / TRASH).glob("*/heron-notes.md")
    assert not note.exists() and trashed.read_text() == HERON
    assert _pick(page, "#trash-choice", "heron").startswith("heron-notes.md · removed ")
    _tab_to(page, "Restore")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=heron-notes.md: restored to the corpus folder", timeout=30_000)
    assert note.read_text() == HERON and not list((server["corpus"] / TRASH).glob("*/heron-notes.md"))
    # never restored over a file of the same name
    _pick(page, "#remove-choice", "heron-notes")
    page.get_by_role("button", name="Remove from corpus").click()
    page.get_by_role("button", name="Move to trash").click()
    page.wait_for_selector("text=heron-notes.md: moved to the trash", timeout=30_000)
    note.write_text("A newer heron note.")
    _pick(page, "#trash-choice", "heron")
    page.get_by_role("button", name="Restore").click()
    page.wait_for_selector("text=refused: a file named heron-notes.md is in the corpus folder now", timeout=30_000)
    assert note.read_text() == "A newer heron note." and len(list((server["corpus"] / TRASH).glob("*/heron-notes.md"))) == 1


@pytest.mark.parametrize("width", [1280, 390])
def test_the_documents_tab_at_desktop_and_phone_widths(browser, server, width):
    (server["corpus"] / f"plover-{width}.md").write_text(f"# Plover\n\nThe ringed plover {width} nests on shingle.\n")
    with app_page(browser, server["url"], width, 900) as page:
        _documents(page)
        _pick(page, "#remove-choice", f"plover-{width}")
        page.get_by_role("button", name="Remove from corpus").click()
        page.wait_for_selector("#confirm-remove", state="visible", timeout=10_000)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing off the side
        _shot(page, f"documents-confirm-{width}")
        page.get_by_role("button", name="Move to trash").click()
        page.wait_for_selector(f"text=plover-{width}.md: moved to the trash", timeout=30_000)
        page.locator("#trash-choice input").click()
        assert page.locator("[role=option]", has_text=f"plover-{width}.md").count() == 1
        page.wait_for_timeout(500)  # the list fades in: the screenshot shows it settled
        _shot(page, f"documents-trash-{width}")

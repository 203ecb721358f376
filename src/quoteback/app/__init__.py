"""The browser chat and the document view, on the same public pieces as the command line.

- `chat.py`           the Gradio app: Chat, Documents and Evaluate tabs, and `/ask`
- `service.py`        what the tabs call: answering, index status, uploads, rebuilds
- `documents_tab.py`, `evaluate_tab.py`   the two other tabs (`trash.py`: removed files, restorable;
  `eval_summary.py`: the evaluation's tables, explanations and trade-off plot)
- `render.py`         an answer as markdown for the chat and as text for the terminal
- `filter_row.py`     the chat's filter panel (documents, `--where` conditions) and "ask this document"
- `viewer.py`         `/view`: a document with the quote highlighted (`view_page.py`, `view_images.py`, `view_links.py`)
- `feedback_ui.py`    👍 / 👎 and "this answers it" under the replies (`feedback_replies.py`: what a click records;
  `feedback_pick.py`: "where is the answer?", a passage picked in the document view)
"""

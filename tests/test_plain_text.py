"""Text that came from a user reaches the page as plain text (st.text), never as Markdown or HTML.

The channels: an uploaded file's name and its keys and values (tests/test_sidebar_upload.py), a link's keys and
values (tests/test_page_link.py), and an exception's message, which may quote any of them (here).
"""

from __future__ import annotations

from bpviz.ui import boundary

from .apptest_util import open_page

PAYLOAD = "![x](http://127.0.0.1:9/p.png) # HEADING <b>bold</b> :red[red] $x^2$"
MARKUP = ("markdown", "caption", "error", "warning", "info", "success", "latex", "title", "header", "subheader")


def test_an_exception_quoting_user_text_is_shown_as_plain_text(monkeypatch):
    at = open_page("views/backward_pass.py")

    def broken(app):
        raise ValueError(PAYLOAD + "\nsecond line")

    monkeypatch.setattr(boundary, "compute", broken)
    at.run()
    assert not at.exception
    assert any("Something went wrong" in e.value for e in at.error)
    shown = [el.value for el in at.get("text")]
    assert any(s.startswith("ValueError: ![x](") and "\\nsecond line" in s for s in shown), shown
    for kind in MARKUP:
        assert not any("HEADING" in str(el.value) for el in at.get(kind)), kind

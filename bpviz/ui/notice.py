"""Messages about what the user's last action could not do, as plain text where that action's control is.

A message may quote the user's own input (a file name, a value from a file or a link), so it is drawn with
``st.text``: never read as Markdown or HTML. The warning look comes from CSS (:data:`STYLE`), not from Markdown.
"""

from __future__ import annotations

import streamlit as st

from .state import AppState

KEY_PREFIX = "message_"
# static CSS only: a message box looks like Streamlit's warning
STYLE = (f"[class*='st-key-{KEY_PREFIX}']{{background:#fffce7;border:1px solid #f3d56a;border-radius:0.5rem;"
         "padding:0.6rem 0.8rem}"
         f"[class*='st-key-{KEY_PREFIX}'] [data-testid='stText']{{white-space:pre-wrap;overflow-wrap:anywhere;"
         "font-family:inherit;color:#6d5200}")


def message_here(app: AppState, at: str) -> None:
    """The last action's message, if it belongs at the place ``at`` (see :data:`state.MESSAGE_PLACES`)."""
    if app.message and app.message_at == at:
        with st.container(key=KEY_PREFIX + at):
            st.text(app.message.text(app.lang))


def plain_box(key: str, *lines: str) -> None:
    """Lines of plain text (quoting a link, a file) in the message look."""
    with st.container(key=KEY_PREFIX + key):
        for line in lines:
            st.text(line)


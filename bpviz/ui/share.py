"""Sharing what is on the screen: the link (with Streamlit's copy button) and its QR code for the class to scan."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import segno
import streamlit as st

from ..i18n import t
from . import link
from .state import AppState

QR_ERROR = "m"  # medium error correction: still scans from the back of the room, off a projector
QR_SCALE, QR_BORDER = 10, 2  # pixels per module; quiet-zone modules
QR_PROJECTED_PX = 520
QR_MAX_BYTES = 2331  # the largest QR code (version 40) at error correction M


def url(app: AppState) -> str:
    """The full link to what ``app`` shows: the app's address, this page's path, and the state's query."""
    here = st.context.url or ""
    root = here[: len(here) - len(app.page)] if app.page and here.endswith(app.page) else here
    root = root if root.endswith("/") else root + "/"
    query = urlencode(link.to_query(app), safe=",:")
    return root + app.page + (f"?{query}" if query else "")


def qr(text: str) -> segno.QRCode:
    """The QR code of ``text`` (segno chooses the smallest version that holds it)."""
    return segno.make(text, error=QR_ERROR, micro=False)


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    qr(text).save(buffer, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return buffer.getvalue()


def fits_qr(text: str) -> bool:
    """Whether a QR code can hold ``text`` (at most 2,331 bytes at this error correction)."""
    return len(text.encode()) <= QR_MAX_BYTES


def panel(app: AppState) -> None:
    """The sidebar's share box: the link to copy, and a button for its QR code (made only when asked)."""
    address = url(app)
    if link.too_large(app):
        st.caption(t("This scenario is too large for a link ({n:,} samples): the link below opens this page and "
                     "step on the worked example, and says so. Share the scenario file instead (Scenario file, "
                     "below).", app.lang, n=app.scenario.n_samples))
    else:
        st.caption(t("Anyone who opens this link sees this page, this step and these numbers.", app.lang))
    st.code(address, language=None, wrap_lines=True)  # plain text, with Streamlit's copy button
    qr_button(app, address, key="share_qr")


def qr_button(app: AppState, address: str, key: str, compact: bool = False) -> None:
    """A button that projects the link's QR code, or why there is none (a link too long for a QR code);
    ``compact``: labelled "QR" (a narrow column of the presenter's row), the full name as its tooltip."""
    if fits_qr(address):
        name = t("Show the QR code", app.lang)
        if st.button(t("QR", app.lang) if compact else name, key=key, icon=":material/qr_code_2:", width="stretch",
                     help=name if compact else None):
            projected(address, app.lang)
        return
    why = t("This link is too long for a QR code ({n:,} characters; a QR code holds {max:,}): share the link itself.",
            app.lang, n=len(address), max=QR_MAX_BYTES)
    if compact:
        st.button(t("QR", app.lang), key=key, icon=":material/qr_code_2:", width="stretch", disabled=True, help=why)
    else:
        st.caption(why)


@st.dialog(" ", width="large")
def projected(address: str, lang: str) -> None:
    """The QR code, big enough to scan from the back of a lecture hall."""
    st.image(qr_png(address), width=QR_PROJECTED_PX)
    st.caption(t("Scan to open this view on your own device: the same page, step and numbers.", lang))
    st.code(address, language=None, wrap_lines=True)

"""The share box: the link shown is the state's link, and the QR code's limits are segno's."""

from __future__ import annotations

import io

import numpy as np
import pytest
import segno
from PIL import Image
from streamlit.testing.v1 import AppTest

from bpviz.config import validate
from bpviz.ui import link, share
from bpviz.ui.sidebar import SHARE_DRAWER
from bpviz.ui.state import AppState

from .apptest_util import many_samples

QR_VERSION_MAX = 40


def test_the_qr_limit_is_the_largest_qr_code_at_our_error_correction():
    """``fits_qr`` says yes exactly up to what segno can encode (URL characters force byte mode)."""
    largest = "a" * share.QR_MAX_BYTES
    assert share.fits_qr(largest) and not share.fits_qr(largest + "a")
    assert share.qr(largest).version == QR_VERSION_MAX
    with pytest.raises(segno.DataOverflowError):
        share.qr(largest + "a")


def test_a_typical_link_is_a_small_code_with_modules_large_enough_to_scan_off_a_projector():
    address = "https://bpviz.example.edu/backward?" + "s=" + link.pack({"weights": [[[0.45]]]}) + "&st=backward:w:0:0:0"
    code = share.qr(address)
    modules = code.symbol_size(scale=1, border=share.QR_BORDER)[0]
    assert code.version <= 6
    assert share.QR_PROJECTED_PX / modules >= 10  # px per module on the projected dialog
    png = share.qr_png(address)
    assert png.startswith(b"\x89PNG") and len(png) > 0


def test_the_share_box_shows_the_link_of_what_is_on_the_screen():
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.query_params.update({"d": "6", "st": "backward:w:0:0:0"})
    at.run()
    at.switch_page("views/backward_pass.py").run()
    assert not at.code  # the share drawer starts closed: nothing in it is drawn
    at.session_state[SHARE_DRAWER] = True  # the student opens it
    at.run()
    shown = [c.value for c in at.code if "?" in c.value]
    assert len(shown) == 1
    path, _, query = shown[0].partition("?")
    assert path.endswith("/backward")
    parts = dict(p.split("=", 1) for p in query.split("&"))
    back, warnings = link.from_query(parts)
    assert warnings == [] and back.decimals == 6 and back.steps["backward"].format() == "backward:w:0:0:0"


def test_the_projected_png_holds_exactly_the_modules_segno_makes_for_the_link():
    """Read the PNG back module by module (centre pixels) and compare with segno's matrix for the same text."""
    address = "http://lecture.example:8501/backward?s=1q6ZvoIA5gz9UAA&st=backward:w:0:0:0&d=6"
    img = np.asarray(Image.open(io.BytesIO(share.qr_png(address))).convert("L"))
    expected = np.array(segno.make(address, error=share.QR_ERROR, micro=False).matrix, dtype=bool)
    n = expected.shape[0]
    assert img.shape == ((n + 2 * share.QR_BORDER) * share.QR_SCALE,) * 2
    centres = (np.arange(n) + share.QR_BORDER) * share.QR_SCALE + share.QR_SCALE // 2
    dark = img[np.ix_(centres, centres)] < 128
    assert (dark == expected).all()
    quiet = np.ones_like(img, dtype=bool)
    b = share.QR_BORDER * share.QR_SCALE
    quiet[b:-b, b:-b] = False
    assert (img[quiet] > 128).all()  # a light quiet zone all round, as scanners need


def test_a_scenario_too_large_for_a_link_is_left_out_and_the_share_box_says_so():
    doc = many_samples(1000)
    app = AppState(scenario=validate(doc))
    assert link.too_large(app) and "s" not in link.to_query(app)
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.run()
    at.session_state["bpviz_app"].scenario = validate(doc)
    at.session_state[SHARE_DRAWER] = True
    at.run()
    assert any("too large for a link (1,000 samples)" in c.value for c in at.sidebar.caption)

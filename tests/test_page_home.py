"""AppTest: the home page."""

from .apptest_util import assert_clean, figures, open_page, texts


def test_home_explains_and_shows_seed():
    at = open_page()
    assert_clean(at)
    text = texts(at)
    assert "Backpropagation" in text and "chain rule" in text
    assert "0.7514" in text and "0.2984" in text
    assert len(figures(at)) == 1

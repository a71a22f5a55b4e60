"""End-to-end: the quiz in Chromium. While a step is a question its value is nowhere in the page's DOM (visible text,
the network's SVG, hover labels, tooltips, hidden elements, shadow roots); a right and a wrong answer; presentation
mode's reveal key. Takes assets/quiz_1280.png (a backward step hidden) and the pages after a check.

Expected numbers come from bpviz.walkthrough, never from the page itself.
"""

from __future__ import annotations

import re

import pytest

from bpviz import engine, numbers
from bpviz.config import preset
from bpviz.ids import StepId
from bpviz.ui import quiz as quiz_ui
from bpviz.walkthrough import build_walkthrough

from .browser import assert_healthy, f4, katex, screenshot, settle, wait_for

pytestmark = pytest.mark.e2e

SEED = preset("seed")
_TRACE = engine.forward(SEED)
WALK = build_walkthrough(SEED, _TRACE, engine.backward(SEED, _TRACE))
PAGE = {"forward": "forward", "loss": "forward", "backward": "backward", "update": "update"}
BOX = f".st-key-{quiz_ui.BOX_KEY}"

# every text node and every text-like attribute, in the document and in every shadow root (not style or script)
DOM_TEXT = """() => {
  const out = [];
  const attrs = ['aria-label', 'aria-valuetext', 'title', 'value', 'placeholder', 'alt', 'data-title'];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'STYLE' || el.tagName === 'SCRIPT') continue;
      for (const a of attrs) { const v = el.getAttribute(a); if (v) out.push(v); }
      if (el.value && typeof el.value === 'string') out.push(el.value);
      for (const n of el.childNodes) if (n.nodeType === 3 && n.textContent.trim()) out.push(n.textContent);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return out.join('\\n') + '\\n' + document.body.innerText;
}"""
SVG_TEXT = "() => [...document.querySelectorAll('svg text')].map(t => t.textContent).join('\\n')"


def forms(value: float) -> list[str]:
    """The value as the page would write it: 4 decimals (both minus signs) and in full."""
    return [numbers.text(value, 4), numbers.text(value, 4, minus=numbers.MINUS), numbers.exact(value)]


def found(value: float, text: str) -> list[str]:
    return [f for f in forms(value) if re.search(rf"(?<![\d.]){re.escape(f)}(?!\d)", text)]


def open_step(page, server_url: str, key: str, *extra: str) -> float:
    """Open the step ``key`` with the quiz on (a link, as an instructor shares it); returns its value."""
    sid = StepId.parse(key)
    query = "&".join(["quiz=1", f"st={key}", *extra])
    page.goto(f"{server_url}/{PAGE[sid.phase.value]}?{query}")
    wait_for(page, lambda: page.locator(BOX).count() == 1, "the quiz box", timeout=60)
    settle(page)
    return WALK.step(sid).value


# what the drawn figures would show on hover, and every other text they hold, read from Plotly's own copy of them
FIGURE_TEXT = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(gd => [
  ...gd.data.flatMap(tr => [tr.hovertext, tr.text, tr.hovertemplate, tr.customdata].flat()),
  ...(gd.layout.annotations || []).flatMap(a => [a.text, a.hovertext])]).filter(Boolean).join('\\n')"""


def hover_texts(page) -> str:
    """Every hover text of the network (and its other texts) as the browser holds them."""
    return page.evaluate(FIGURE_TEXT)


def answer(page, text: str) -> None:
    box = page.locator(f'{BOX} [data-testid="stTextInput"] input')
    box.fill(text)
    box.press("Enter")  # the form's first button: Check


def scroll_to_formula(page) -> None:
    """The step's title at the top of the screen: its formula, the quiz box and the network below it."""
    page.evaluate("""() => { const f = document.querySelector('.st-key-formula');
        const main = document.querySelector('[data-testid="stMain"]');
        main.scrollTop += f.getBoundingClientRect().top - 70; }""")
    page.wait_for_timeout(200)  # the scroll's repaint, not the app: nothing runs


@pytest.mark.parametrize("key", ["forward:out:1:0", "loss:total", "backward:w:1:0:0", "update:w:1:0:0"])
def test_the_hidden_value_is_not_in_the_dom(page_factory, server_url, key):
    page = page_factory(1280, 800)
    value = open_step(page, server_url, key)
    assert any(k.rstrip().endswith("=?") for k in katex(page)), katex(page)  # the formula ends in ?
    dom = page.evaluate(DOM_TEXT) + page.evaluate(SVG_TEXT)
    assert not found(value, dom), found(value, dom)
    assert not found(value, hover_texts(page))
    assert_healthy(page, server_url)
    page.locator(".st-key-quiz_skip button").first.click()
    wait_for(page, lambda: found(value, page.evaluate(DOM_TEXT)), "the value once skipped")


def test_a_right_and_a_wrong_answer(page_factory, server_url):
    page = page_factory(1280, 800)
    value = open_step(page, server_url, "backward:w:1:0:0")
    scroll_to_formula(page)
    screenshot(page, "quiz_1280.png")
    answer(page, f4(value).replace(".", ","))  # a decimal comma
    wait_for(page, lambda: page.locator('[data-testid="stAlertContentSuccess"]').count() == 1, "Right")
    settle(page)
    verdict = page.locator('[data-testid="stAlertContentSuccess"]').inner_text()
    assert verdict.startswith("Right") and f4(value) in verdict
    assert any(k.endswith(f"={f4(value)}") for k in katex(page))  # the formula ends in the value now
    assert "Backward pass 1/1" in page.locator('[data-testid="stSidebar"]').inner_text()
    assert_healthy(page, server_url)

    page.locator(".st-key-nav_backward_next button").click()  # w6: a new question
    w6 = WALK.step(StepId.parse("backward:w:1:0:1")).value
    wait_for(page, lambda: page.locator(f'{BOX} [data-testid="stTextInput"]').count() == 1, "the next question")
    settle(page)
    assert not found(w6, page.evaluate(DOM_TEXT))
    chain = WALK.step(StepId.parse("backward:w:1:0:1")).chain.product
    without_last = chain[0][1] * chain[1][1]  # ∂E/∂out_o1 · ∂out_o1/∂net_o1: the last factor left out
    answer(page, f4(without_last))
    wait_for(page, lambda: page.locator('[data-testid="stAlertContentWarning"]').count() == 1, "Not right")
    settle(page)
    verdict = page.locator('[data-testid="stAlertContentWarning"]').inner_text()
    assert verdict.startswith("Not right") and f4(w6) in verdict and repr(w6) in verdict
    box = page.locator(BOX).inner_text()
    assert f"Your answer: {f4(without_last)}" in box and "without the factor" in box
    assert "Backward pass 1/2" in page.locator('[data-testid="stSidebar"]').inner_text()
    scroll_to_formula(page)
    screenshot(page, "quiz_checked_1280.png")
    assert_healthy(page, server_url)


def test_presentation_mode_reveals_on_a_key(page_factory, server_url):
    page = page_factory(1280, 800)
    value = open_step(page, server_url, "backward:w:1:0:0", "present=1")
    assert not found(value, page.evaluate(DOM_TEXT) + page.evaluate(SVG_TEXT))
    size = page.locator(f'{BOX} [data-testid="stTextInput"] input').evaluate("e => getComputedStyle(e).fontSize")
    assert float(size.removesuffix("px")) >= 28  # large, for the back of the room
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press(quiz_ui.REVEAL_SHORTCUT.lower())
    wait_for(page, lambda: "Revealed" in page.locator(BOX).inner_text(), "the key to reveal the answer")
    settle(page)
    assert f4(value) in page.locator(BOX).inner_text()
    assert any(k.endswith(f"={f4(value)}") for k in katex(page))
    screenshot(page, "quiz_present_1280.png")
    assert_healthy(page, server_url)

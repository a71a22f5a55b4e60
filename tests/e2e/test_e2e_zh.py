"""End-to-end, in Chinese: the sidebar's language switch on every page, share links with ``lang=zh``, the browser's
language for a link without it, presentation mode's language button, CJK glyphs (not tofu) and the Chinese
screenshots in assets/ (``<page>_zh_1920.png``).

Expected numbers and texts come from bpviz.engine, bpviz.walkthrough and bpviz.i18n, never from the page itself.
Every browser context here has an explicit locale: what opens in which language depends on it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from bpviz.i18n import LANGUAGE_NAMES, LANGUAGE_SHORT, LANGUAGES, t
from bpviz.ids import Phase
from bpviz.walkthrough import build_walkthrough

from .browser import (
    PAGES,
    SEED,
    SEED_GRADS,
    SEED_TRACE,
    assert_healthy,
    go,
    katex,
    metrics,
    metrics_shown,
    nav_link,
    screenshot,
    scroll_to_top,
    settle,
    train_xor,
    wait_for,
)

pytestmark = pytest.mark.e2e

WALK_EN = build_walkthrough(SEED, SEED_TRACE, SEED_GRADS)
WALK_ZH = build_walkthrough(SEED, SEED_TRACE, SEED_GRADS, lang="zh")
BACKWARD = WALK_EN.indices((Phase.BACKWARD,))
W1 = next(i for i in BACKWARD if WALK_EN[i].title.endswith("gradient of w1"))  # a hidden weight: not the first step
W1_NUMBER = f"{BACKWARD.index(W1) + 1}/{len(BACKWARD)}"  # "7/12", as the step box counts
DE_DW1 = WALK_EN[W1].latex_numeric.rsplit("=", 1)[-1].strip()  # 0.000439
E_TOTAL = f"{SEED_TRACE.loss:.4f}"  # 0.2984
ZH_TITLE = {title: t(title, "zh") for _, title in PAGES}  # the nav titles, as bpviz.ui.navigation shows them
CJK_SAMPLE = "反向传播"
CJK = re.compile(r"[\u4e00-\u9fff]")
NUMBER = re.compile(r"[−-]?\d+(?:\.\d+)?")  # KaTeX's minus is U+2212


def test_expectations_come_from_the_library():
    """Guards the test's own arithmetic: the w1 step is a later one, the title translations exist."""
    assert (W1_NUMBER, DE_DW1, E_TOTAL) == ("7/12", "0.000439", "0.2984")
    assert ZH_TITLE["Backward pass"] == CJK_SAMPLE and ZH_TITLE["Home"] != "Home"
    assert all(zh != en and CJK.search(zh) for en, zh in ZH_TITLE.items())
    assert WALK_ZH[W1].title != WALK_EN[W1].title and "w1" in WALK_ZH[W1].title


# ---------------------------------------------------------------- reading and switching


def open_url(page, url: str, title: str) -> None:
    """Open ``url`` and wait for the page whose tab title is ``bpviz · title``."""
    page.goto(url)
    wait_for(page, lambda: page.title() == f"bpviz · {title}", f"the page {title!r}", timeout=60)
    settle(page)


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def step_box(page) -> str:
    """The step chooser's text ("7/12 · Backward: gradient of w1")."""
    return page.locator('[data-testid="stMain"] [data-testid="stSelectbox"] input').first.input_value()


def numbers(texts: list[str]) -> list[list[str]]:
    """The numbers in each text, in order (what must not change when only the language does)."""
    return [NUMBER.findall(text) for text in texts]


def shown(page) -> tuple[list[str], list[list[str]]]:
    """The metric values in page order, and the numbers of every formula."""
    return list(metrics(page).values()), numbers(katex(page))


def heading(page) -> str:
    """The page's title as drawn at the top of the main area (nothing on Home, which has no ## heading)."""
    h = page.locator('[data-testid="stMain"] :is(h2, h3)').first
    return h.inner_text() if h.count() else ""


def switch_language(page, lang: str, page_title: str, *, button: str | None = None) -> None:
    """Choose ``lang`` in the sidebar's radio (or click ``button``, presentation mode's), wait for the tab title of
    ``page_title`` in that language and for the URL to follow."""
    if button is None:
        page.locator(".st-key-sb_lang").get_by_text(LANGUAGE_NAMES[lang], exact=True).click()
    else:
        page.locator(f".st-key-{button} button:visible").click()  # with a help text, Streamlit keeps a hidden copy
    title = t(page_title, lang)
    wait_for(page, lambda: page.title() == f"bpviz · {title}", f"the tab title in {lang}: {title!r}")
    want = [lang] if lang == "zh" else None  # English is the en-US reader's own language: no lang in the link
    wait_for(page, lambda: query(page).get("lang") == want, f"lang={want} in the URL")
    settle(page)


def choose_step(page, number: str, title: str) -> None:
    page.locator(".st-key-nav_backward_step").click()
    page.get_by_role("option", name=f"{number} · {title}", exact=True).click()
    wait_for(page, lambda: step_box(page) == f"{number} · {title}", f"the step {title!r}")
    settle(page)


# ---------------------------------------------------------------- 1: the sidebar's language switch


def test_switch_to_chinese_and_back_keeps_the_step_and_the_numbers(page_factory, server_url):
    page = page_factory(1280, 800)
    open_url(page, server_url + "/backward", "Backward pass")
    choose_step(page, W1_NUMBER, WALK_EN[W1].title)
    formulas = katex(page)
    assert any(f.endswith(f"={DE_DW1}") for f in formulas), (DE_DW1, formulas)
    m = metrics_shown(page, "E total")
    assert m["E total"] == E_TOTAL, m
    before = shown(page)
    assert "lang" not in query(page)

    switch_language(page, "zh", "Backward pass")
    assert CJK_SAMPLE in heading(page), heading(page)
    assert step_box(page) == f"{W1_NUMBER} · {WALK_ZH[W1].title}"  # the same step, its title in Chinese
    zh_metrics = metrics_shown(page, t("E total", "zh"))
    assert zh_metrics[t("E total", "zh")] == E_TOTAL, zh_metrics
    assert "E total" not in zh_metrics
    assert shown(page) == before
    assert any(f.endswith(f"={DE_DW1}") for f in katex(page)), katex(page)
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert all(ZH_TITLE[title] in nav for _, title in PAGES), nav
    assert_healthy(page, server_url)

    switch_language(page, "en", "Backward pass")
    assert heading(page).startswith("Backward pass"), heading(page)
    assert step_box(page) == f"{W1_NUMBER} · {WALK_EN[W1].title}"
    assert metrics(page)["E total"] == E_TOTAL
    assert shown(page) == before
    assert_healthy(page, server_url)


def test_switch_on_every_page_keeps_the_numbers(page_factory, server_url):
    page = page_factory(1280, 800)
    open_url(page, server_url + "/", "Home")
    for path, title in PAGES:
        if path:
            go(page, server_url, path, title)
        before = shown(page)
        if title in ("Home", "Backward pass"):  # pages with the metrics row of the seed
            assert E_TOTAL in before[0], (title, before)
        english = heading(page)
        switch_language(page, "zh", title)
        chinese = heading(page)
        assert CJK.search(chinese) and chinese != english, (title, english, chinese)
        if path:  # Home's heading is the app's, not the page's name
            assert ZH_TITLE[title] in chinese, (title, chinese)
        link = nav_link(page, path).inner_text().strip()  # the icon's ligature ("home"), then the title
        assert link.endswith(ZH_TITLE[title]) and title not in link, link
        assert shown(page) == before, title
        assert page.url.split("?")[0] == f"{server_url}/{path}", page.url
        assert_healthy(page, server_url)
        switch_language(page, "en", title)
        assert shown(page) == before, title
        assert_healthy(page, server_url)


# ---------------------------------------------------------------- 2: share links and the browser's language


@pytest.mark.parametrize("path,title", [("", "Home"), ("backward", "Backward pass")], ids=["home", "backward"])
def test_a_link_with_lang_zh_opens_in_chinese_in_an_english_browser(page_factory, server_url, path, title):
    page = page_factory(1280, 800)
    open_url(page, f"{server_url}/{path}?lang=zh", ZH_TITLE[title])
    assert query(page).get("lang") == ["zh"]
    m = metrics_shown(page, t("E total", "zh"))
    assert m[t("E total", "zh")] == E_TOTAL, m
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert ZH_TITLE[title] in nav and title not in nav, nav
    if path:
        assert ZH_TITLE[title] in heading(page), heading(page)
    assert_healthy(page, server_url)


@pytest.mark.parametrize("locale,lang", [("zh-CN", "zh"), ("en-US", "en")])
def test_a_link_without_lang_opens_in_the_browsers_language(page_factory, server_url, locale, lang):
    page = page_factory(1280, 800, locale=locale)
    open_url(page, f"{server_url}/backward", t("Backward pass", lang))
    assert "lang" not in query(page)  # the reader's own language is not written into the link
    assert t("Backward pass", lang) in heading(page), heading(page)
    label = t("E total", lang)
    assert metrics_shown(page, label)[label] == E_TOTAL
    radio = page.locator(".st-key-sb_lang input[type=radio]")  # Streamlit's values: the options' indexes
    assert radio.evaluate_all("els => els.filter(e => e.checked).map(e => e.value)") == [str(LANGUAGES.index(lang))]
    assert_healthy(page, server_url)


# ---------------------------------------------------------------- 3: presentation mode's language button


def test_presentation_mode_button_switches_language_and_back(page_factory, server_url):
    page = page_factory(1280, 800)
    open_url(page, f"{server_url}/backward?present=1&st={WALK_EN[W1].id}", "Backward pass")
    button = page.locator(".st-key-present_lang button:visible")
    assert button.inner_text().strip().endswith(LANGUAGE_SHORT["zh"]), button.inner_text()
    assert step_box(page) == f"{W1_NUMBER} · {WALK_EN[W1].title}"
    before = numbers(katex(page))
    assert any(f.endswith(f"={DE_DW1}") for f in katex(page)), katex(page)

    switch_language(page, "zh", "Backward pass", button="present_lang")
    assert query(page).get("present") == ["1"]
    assert step_box(page) == f"{W1_NUMBER} · {WALK_ZH[W1].title}"
    assert numbers(katex(page)) == before
    assert button.inner_text().strip().endswith(LANGUAGE_SHORT["en"]), button.inner_text()
    assert page.locator(".st-key-present_off button:visible").inner_text().strip().endswith(t("Exit", "zh"))
    assert_healthy(page, server_url)

    switch_language(page, "en", "Backward pass", button="present_lang")
    assert query(page).get("present") == ["1"]
    assert step_box(page) == f"{W1_NUMBER} · {WALK_EN[W1].title}"
    assert numbers(katex(page)) == before
    assert button.inner_text().strip().endswith(LANGUAGE_SHORT["zh"]), button.inner_text()
    assert_healthy(page, server_url)


# ---------------------------------------------------------------- 4: glyphs, not boxes


# Each character drawn alone on a canvas in a given font, compared pixel for pixel with a code point no font has
# (U+10FFFD, private use): a missing glyph is drawn as that same .notdef box, so four CJK characters without a font
# come out identical to it and to each other. The two private-use code points calibrate the method (they must match).
GLYPHS_JS = """([font, chars]) => {
  const c = document.createElement('canvas'); c.width = 96; c.height = 96;
  const g = c.getContext('2d', {willReadFrequently: true});
  const draw = ch => { g.clearRect(0, 0, 96, 96); g.font = font; g.fillStyle = '#000'; g.textBaseline = 'top';
                       g.fillText(ch, 8, 8); return g.getImageData(0, 0, 96, 96).data.join(''); };
  const tofu = draw('\\u{10FFFD}');
  const drawn = [...chars].map(draw);
  return {calibrated: draw('\\u{10FFFC}') === tofu,
          glyphs: drawn.map(d => d !== tofu && /[1-9]/.test(d)),
          distinct: new Set(drawn).size};
}"""
# the width of an element's text in em: a CJK glyph is one em wide, a .notdef box about half of that
EMS_JS = """e => { const r = document.createRange(); r.selectNodeContents(e.querySelector('span') || e);
  return r.getBoundingClientRect().width / parseFloat(getComputedStyle(e).fontSize); }"""
NO_CJK_FONT = ("Chinese characters are drawn as boxes (tofu) in font {font!r}: {result}. Install a CJK font, e.g. "
               "apt-get install fonts-noto-cjk")


def test_chinese_glyphs_are_drawn_not_boxes(page_factory, server_url):
    page = page_factory(1280, 800, locale="zh-CN")
    open_url(page, f"{server_url}/backward", ZH_TITLE["Backward pass"])
    title = page.locator('[data-testid="stMain"] h2').first
    assert CJK_SAMPLE in title.inner_text()
    page_font = title.evaluate("e => { const s = getComputedStyle(e); return `${s.fontWeight} 32px ${s.fontFamily}`; }")
    for font in ("32px sans-serif", page_font):  # the generic family and the page title's own font stack
        result = page.evaluate(GLYPHS_JS, [font, CJK_SAMPLE])
        assert result["calibrated"], ("the tofu check cannot tell glyphs from boxes here", font, result)
        assert all(result["glyphs"]) and result["distinct"] == len(CJK_SAMPLE), NO_CJK_FONT.format(
            font=font, result=result)
    # and the heading as laid out: four CJK characters take about four em, not the width of four narrow boxes
    width = title.evaluate(EMS_JS)
    assert width >= 0.9 * len(CJK_SAMPLE), NO_CJK_FONT.format(font=page_font, result={"ems": width})


# ---------------------------------------------------------------- 5: the Chinese screenshots


def test_chinese_screenshots_at_1920(page_factory, server_url):
    page = page_factory(1920, 1080)
    open_url(page, f"{server_url}/?lang=zh", ZH_TITLE["Home"])
    assert metrics_shown(page, t("E total", "zh"))[t("E total", "zh")] == E_TOTAL
    scroll_to_top(page)
    assert_healthy(page, server_url)
    screenshot(page, "home_zh_1920.png")

    go(page, server_url, "backward", ZH_TITLE["Backward pass"])
    assert any(f.endswith(f"={WALK_EN[BACKWARD[0]].latex_numeric.rsplit('=', 1)[-1].strip()}") for f in katex(page))
    scroll_to_top(page)
    assert_healthy(page, server_url)
    screenshot(page, "backward_zh_1920.png")

    # training: the XOR 2-4-1 example from the sidebar, then Train (as test_e2e_pages.check_training)
    go(page, server_url, "training", ZH_TITLE["Training"])
    start = train_xor(page)
    labels = [t("Steps run", "zh"), t("E at start", "zh"), t("E at the end", "zh")]
    m = metrics_shown(page, *labels)
    assert m[labels[0]] == "1,000" and m[labels[1]] == f"{start:.4f}", m
    assert float(m[labels[2]]) < 0.1 * start, m
    assert query(page).get("lang") == ["zh"]
    scroll_to_top(page)
    assert_healthy(page, server_url)
    screenshot(page, "training_zh_1920.png")

"""AppTest: every page in Chinese (a link with lang=zh): no exception, and no English sentence anywhere a user reads
(text, labels, help, options, metric labels, chart titles, axes, legends and hovers, the live sliders' labels)."""

from __future__ import annotations

import gettext
import json
import re

import pytest
from google.protobuf.json_format import MessageToDict

from bpviz import i18n
from bpviz.builder import build_scenario
from bpviz.config import SEED_DOCUMENT, preset, preset_names
from bpviz.ids import StepId
from bpviz.ui.navigation import PAGES, spec_at
from bpviz.ui.sidebar import FILE_DRAWER
from bpviz.ui.state import PRESET_OPTION

from .apptest_util import assert_clean, latex, open_page, opened, texts

TEXT_FIELDS = {"label", "body", "help", "options", "placeholder", "caption", "text", "title", "name", "hovertemplate",
               "hovertext", "value", "ticktext", "formattedValue"}
NOT_TEXT = {"html", "code"}  # raw style blocks; code (a scenario file, a script) is code in any language
# formulas, inline code, LaTeX commands, and the title of a cited work (《…》, kept in its own language)
MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|`[^`]*`|\\[A-Za-z]+(\{[^}]*\})?|《[^》]*》", re.S)
ENGLISH = re.compile(r"(?<![\w\\])[A-Za-z][a-z]+(?:[ ,'-]+[A-Za-z][a-z]+){2,}")  # three or more words in a row


CODE = {"MSELoss()", "0.5 * MSELoss(reduction='sum')"}  # PyTorch code, passed through t() with the prose ones


@pytest.fixture(autouse=True)
def untranslated(monkeypatch):
    """Every text the app asked to translate into Chinese that the catalogue does not have (a t() of a string the
    extractor never saw): the tests below assert there is none, whatever kind of element shows it."""
    asked: list[str] = []
    real = i18n.catalogue("zh")

    class Recording:
        def gettext(self, text):
            if text not in real._catalog and text not in CODE:
                asked.append(text)
            return real.gettext(text)

        def ngettext(self, singular, plural, n):
            if (singular, 0) not in real._catalog:
                asked.append(singular)
            return real.ngettext(singular, plural, n)

    monkeypatch.setattr(i18n, "catalogue", lambda lang: Recording() if lang == "zh" else gettext.NullTranslations())
    yield asked
    assert not asked, f"asked to translate, not in the catalogue: {sorted(set(asked))[:10]}"


def _strings(value, key: str = ""):
    """Every string under a text-bearing key of a nested dict/list (proto or figure JSON); the names of a figure's
    annotations and shapes are handles for code, never drawn."""
    if isinstance(value, dict):
        for k, v in value.items():
            if key in ("annotations", "shapes") and k == "name":
                continue
            if k in ("json", "spec", "figure") and isinstance(v, str) and v[:1] in "{[":
                yield from _strings(json.loads(v), k)
            else:
                yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str) and key in TEXT_FIELDS:
        yield value


def readable(at) -> list[str]:
    out = []
    for node in at._tree:  # every element, nested ones too
        proto = getattr(node, "proto", None)
        if proto is None or node.type in NOT_TEXT:
            continue
        data = MessageToDict(proto)
        for drop in ("jsContent", "cssContent", "htmlContent"):
            data.pop(drop, None)
        out += list(_strings(data))
    for table in [*at.dataframe, *at.table]:  # their cells arrive as Arrow bytes: read them as a DataFrame
        out += [str(c) for c in table.value.columns] + [str(v) for v in table.value.to_numpy().ravel()]
    return out


def english_runs(strings: list[str]) -> list[str]:
    runs = []
    for s in strings:
        plain = MATH.sub(" ", re.sub(r"<[^>]+>", " ", s))  # formulas, code and tags are not sentences
        runs += ENGLISH.findall(plain)
    return runs


def test_the_detector_finds_english_and_spares_formulas():
    assert english_runs(["The error flows back"]) == ["The error flows back"]
    assert english_runs(["误差 $\\frac{\\partial E}{\\partial w_5}$ 反向传播", "net h1 = 0.3775", "E total"]) == []
    assert english_runs(["Matt Mazur 的博文《A Step by Step Backpropagation Example》"]) == []


@pytest.mark.parametrize("spec", PAGES, ids=lambda p: p.url_path or "home")
def test_every_page_reads_in_chinese(spec):
    at = opened({"lang": "zh"}, None if not spec.url_path else spec.path)
    assert_clean(at)
    runs = english_runs(readable(at))
    assert not runs, runs[:10]


def _numbers(at) -> list[str]:
    return re.findall(r"-?\d+\.\d{3,}", "\n".join(latex(at)) + "\n".join(m.value for m in at.metric))


def test_switching_language_keeps_the_step_and_the_numbers():
    at = open_page("views/backward_pass.py")
    at.selectbox(key="nav_backward_step").set_value(StepId.parse("backward:w:0:0:0")).run()  # w1
    before = _numbers(at)
    at.radio(key="sb_lang").set_value("zh").run()
    assert_clean(at)
    assert at.query_params["lang"] == ["zh"] or at.query_params["lang"] == "zh"
    assert at.selectbox(key="nav_backward_step").value == StepId.parse("backward:w:0:0:0")
    assert _numbers(at) == before and "0.0004" in "\n".join(before)
    assert "反向传播" in texts(at) + "".join(readable(at))
    at.radio(key="sb_lang").set_value("en").run()
    assert "lang" not in at.query_params and _numbers(at) == before


def test_presentation_mode_switches_language_with_one_click():
    at = opened({"present": "1"}, "views/backward_pass.py")
    at.button(key="present_lang").click().run()
    assert_clean(at)
    assert at.session_state["bpviz_app"].lang == "zh"
    assert at.button(key="present_lang").label == "EN"  # the way back, in its own language (short: a narrow button)
    assert "English" in at.button(key="present_lang").help


def test_a_link_without_lang_opens_in_the_readers_language():
    from bpviz.ui import link

    app, problems = link.from_query({}, default_lang="zh")
    assert app.lang == "zh" and not problems
    assert link.to_query(app, default_lang="zh") == {}  # the address bar stays short for that reader
    assert link.to_query(app)["lang"] == "zh"  # a share link names it
    english, _ = link.from_query({"lang": "en"}, default_lang="zh")
    assert english.lang == "en"


@pytest.mark.parametrize("name", [n for n in preset_names() if n != "seed"])
def test_every_page_of_every_example_reads_in_chinese(name):
    """Other activations and losses bring other sentences (softmax with cross-entropy, ReLU's kink, XOR)."""
    at = opened({"lang": "zh"})
    at.selectbox(key=PRESET_OPTION).set_value(name).run()
    for spec in PAGES:
        at.switch_page(spec.path).run()
        assert_clean(at)
        assert not english_runs(readable(at)), (spec.url_path, english_runs(readable(at))[:10])


@pytest.mark.parametrize("page", ["forward", "backward", "update"])
def test_every_step_reads_in_chinese(page):
    at = opened({"lang": "zh"}, spec_at(page).path)
    for i, step in enumerate(at.selectbox(key=f"nav_{page}_step").options):
        at.selectbox(key=f"nav_{page}_step").select_index(i).run()
        assert_clean(at)
        assert not english_runs(readable(at)), (step, english_runs(readable(at))[:10])


def _train(at, scenario, steps: int) -> None:
    at.session_state["bpviz_app"].scenario = scenario
    at.run()
    at.number_input(key="train_steps").set_value(steps).run()
    at.button(key="train_run").click().run()
    assert_clean(at)


def test_a_training_run_and_its_divergence_read_in_chinese():
    at = opened({"lang": "zh"}, spec_at("training").path)
    _train(at, preset("xor_2_2_1"), 200)
    assert not english_runs(readable(at)), english_runs(readable(at))[:10]
    diverging = build_scenario([2, 3, 1], ["relu", "identity"], "half_sse", init="xavier",
                               inputs=[[0, 0], [0, 1], [1, 0], [1, 1]], targets=[[0], [1], [1], [0]], learning_rate=5.0)
    _train(at, diverging, 1000)
    assert at.session_state["bpviz_app"].train_run.result.diverged
    shown = readable(at)
    assert not english_runs(shown), english_runs(shown)[:10]
    explanation = at.session_state["bpviz_app"].train_run.result.explain("zh")
    assert explanation in "\n".join(shown)  # the warning, and the hover on the loss curve's mark
    at.radio(key="sb_lang").set_value("en").run()  # the stored run explains itself in the language now read
    assert at.session_state["bpviz_app"].train_run.result.explain() in "\n".join(readable(at))


def test_problems_are_reported_in_chinese_with_the_field_as_in_the_json():
    """A damaged link, a bad upload: the reason in Chinese, the field path as in the JSON, the user's text as is."""
    link_at = opened({"lang": "zh", "s": "1@@damaged@@", "d": "99"})
    shown = readable(link_at)
    assert not english_runs(shown), english_runs(shown)[:10]
    assert any(s.startswith("d") and re.search(r"[\u4e00-\u9fff]", s) for s in shown), shown
    at = opened({"lang": "zh"})
    at.session_state[FILE_DRAWER] = True
    at.run()
    bad = {**SEED_DOCUMENT, "weights": [SEED_DOCUMENT["weights"][0], [[0.4, "abc"], [0.5, 0.55]]]}
    at.get("file_uploader")[0].set_value(("net one.json", json.dumps(bad).encode(), "application/json")).run()
    reason = [el.value for el in at.sidebar.get("text") if "net one.json" in el.value]
    assert reason and 'weights[1][0][1]' in reason[0] and not english_runs(reason), reason
    assert not english_runs([el.value for el in at.get("toast")])


def test_autoplay_reads_in_chinese_playing_paused_and_at_the_end():
    """Play and Pause, their tooltips (the speed in words, the last step's 'turn on Loop'), speed and Loop, and
    presentation mode's Play with its Space key."""
    from bpviz.ui import autoplay, link, navigation
    from bpviz.ui.computed import compute
    from bpviz.ui.state import AUTOPLAY_SPEED_OPTION, AppState

    _, final = navigation.walk(compute(AppState(scenario=preset("seed"))))[-1]

    at = opened({"lang": "zh"}, spec_at("forward").path)
    at.button(key=autoplay.PLAY_KEY).click().run()
    assert_clean(at)
    assert at.button(key=autoplay.PLAY_KEY).label == "暂停" and not english_runs(readable(at))
    assert at.selectbox(key=AUTOPLAY_SPEED_OPTION).format_func(1) == "每步 1 秒"
    last = opened({"lang": "zh", "st": final.format(), "present": "1", "o": link.pack({AUTOPLAY_SPEED_OPTION: 5})},
                  spec_at("update").path)
    assert_clean(last)
    assert at.session_state["bpviz_app"].playing and not last.session_state["bpviz_app"].playing
    assert last.button(key=autoplay.PLAY_KEY).label == "播放" and "循环" in last.button(key=autoplay.PLAY_KEY).help
    assert "空格键" in last.button(key=autoplay.PLAY_KEY).help and not english_runs(readable(last))


@pytest.mark.parametrize("page", ["forward", "backward", "update"])
def test_the_quiz_reads_in_chinese(page):
    """The quiz box: the question, a number it cannot read, a wrong answer with its hint, the score, in Chinese."""
    from bpviz.ui import quiz

    at = opened({"lang": "zh", "quiz": "1"}, spec_at(page).path)
    sid = at.session_state["bpviz_app"].steps[page]
    assert not english_runs(readable(at)), english_runs(readable(at))[:10]
    at.text_input(key=quiz.answer_key(sid)).input("abc")
    at.button(key="quiz_check").click().run()
    assert re.search(r"[\u4e00-\u9fff]", " ".join(el.value for el in at.get("text")))  # why, in Chinese
    at.text_input(key=quiz.answer_key(sid)).input("0")
    at.button(key="quiz_check").click().run()
    assert_clean(at)
    shown = readable(at)
    assert not english_runs(shown), english_runs(shown)[:10]
    assert any("不正确" in s for s in shown)
    if page == "backward":  # 0.7414 · 0.1868, the seed's ∂E/∂w5 without its last factor: a hint names it
        at.button(key="quiz_reset").click().run()
        at.text_input(key=quiz.answer_key(sid)).input("0.1385")
        at.button(key="quiz_check").click().run()
        shown = readable(at)
        assert any("少了因子" in s for s in shown) and not english_runs(shown), english_runs(shown)[:10]

"""The one app state: a serialisable :class:`AppState` under one session key, and every change to it as a named
function. Pages and widgets call these functions; nothing else writes the state.

Widgets are *bound* to the state, never the other way round: :func:`seed_widget` gives a widget its value from the
AppState on every run, and the widget's ``on_change`` callback hands the new value to a function here. So a page
switch (which drops widget state in Streamlit) loses nothing, and the AppState is the whole truth.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from .. import engine, explain
from ..builder import INITIALISERS
from ..config import (
    MAX_ABS_NUMBER,
    MAX_HIDDEN_LAYERS,
    MAX_LEARNING_RATE,
    MAX_NEURONS,
    MAX_SAMPLES,
    Scenario,
    ScenarioError,
    load_json,
    preset,
    preset_names,
    validate,
)
from ..datasets import DATASET_NAMES, with_dataset
from ..functions import ACTIVATION_NAMES, HIDDEN_ACTIVATIONS, LOSS_NAMES
from ..i18n import LANGUAGES, N_, Message, t
from ..ids import Neuron, ParamRef, Phase, StepId, parse_param
from ..quiz import QuizLog
from ..training import TrainResult

STATE_KEY = "bpviz_app"
LINK_KEY = "bpviz_link"  # the URL query this session last read or wrote (beside the state: a reset keeps it)
ACTED_KEY = "bpviz_acted"  # set by a widget's callback: this run answers the user's action, not a navigation
BIND_KEY = "bpviz_bindings"  # what binding widgets to the state remembers between runs (a Bindings)
ECHO_SECONDS = 2.0  # how long a browser may still report that old value (it is busy drawing the previous run)
_MISSING = object()
DEFAULT_DECIMALS = 4
MIN_DECIMALS, MAX_DECIMALS = 1, 8
UNDO_DEPTH = 50
SEED = "seed"
CURRENT_SAMPLES = N_("current samples")  # the training page's data choice that keeps the scenario's own samples
# (the value stays English in the state and in links; the training page shows it translated)

# option keys of the sidebar (they are also the widgets' keys)
PRESET_OPTION = "sb_preset"
SAMPLE_OPTION = "sb_sample"
# autoplay (bpviz/ui/autoplay.py): its speed (seconds per step) and Loop travel in a link; playing itself does not
AUTOPLAY_SPEEDS = (1, 2, 3, 5, 8)
AUTOPLAY_SPEED_OPTION, AUTOPLAY_LOOP_OPTION = "ap_speed", "ap_loop"


# ---------------------------------------------------------------- the state


@dataclass
class Handout:
    """The rendered worked solution (Markdown and LaTeX) and the state it was rendered for."""

    rendered_for: tuple
    documents: dict[str, str]


@dataclass
class TrainRun:
    """The last training run and the scenario (JSON) it started from."""

    result: TrainResult
    started_from: str


MESSAGE_PLACES = ("sidebar", "upload", "update", "builder", "training")


@dataclass
class AppState:
    """What is shown (scenario, step of each page, display options: :meth:`to_dict`), plus what only this session
    keeps (undo history, the last message, the prepared handout, the last training run)."""

    scenario: Scenario
    decimals: int = DEFAULT_DECIMALS
    lang: str = "en"
    steps: dict[str, StepId] = field(default_factory=dict)  # page -> step (stable across slider moves)
    options: dict[str, Any] = field(default_factory=dict)  # page-specific display options (see OPTION_RULES)
    present: bool = False  # presentation mode: type for the back of the room, sidebar collapsed
    quiz: bool = False  # predict, then reveal: a step's value stays hidden until answered (bpviz/ui/quiz.py)
    # session only (not shared)
    quiz_log: QuizLog = field(default_factory=QuizLog)  # this student's answers and score (a link opens none)
    history: list[Scenario] = field(default_factory=list)
    message: Message | None = None  # what the last action could not do (shown as plain text: it may quote the
    # user's input), translated when shown, so a language switch translates it too ...
    message_at: str = "sidebar"  # ... shown at this place (MESSAGE_PLACES), next to the control that caused it
    handout: Handout | None = None
    train_run: TrainRun | None = None
    page: str = ""  # the URL path of the page shown (the link's path; set by the entry script on every run)
    goto: str | None = None  # a page to switch to before the next run draws anything (Next across pages)
    link_problems: list[str] = field(default_factory=list)  # what the link this session opened could not use
    playing: bool = False  # autoplay is on (not in a link: a student opening a lecture's link does not start it)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.to_dict(),
            "decimals": self.decimals,
            "lang": self.lang,
            "steps": {page: sid.format() for page, sid in self.steps.items()},
            "options": dict(self.options),
            "present": self.present,
            "quiz": self.quiz,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppState:
        """Rebuild from :meth:`to_dict` output; the scenario goes through the one validator."""
        if not isinstance(data, dict):
            raise ScenarioError("(state)", Message(N_("expected an object")))
        decimals = data.get("decimals", DEFAULT_DECIMALS)
        if isinstance(decimals, bool) or not isinstance(decimals, int) or not 1 <= decimals <= 10:
            raise ScenarioError("decimals", Message(N_("expected a whole number from 1 to 10, got {got!r}"),
                                                    got=decimals))
        raw_steps = data.get("steps", {})
        if not isinstance(raw_steps, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                      for k, v in raw_steps.items()):
            raise ScenarioError("steps", Message(N_("expected an object of page names to step ids")))
        steps = {}
        for page, text in raw_steps.items():
            try:
                steps[page] = StepId.parse(text)
            except ValueError as exc:
                raise ScenarioError(f"steps.{page}", str(exc)) from None
        options = data.get("options", {})
        if not isinstance(options, dict):
            raise ScenarioError("options", Message(N_("expected an object")))
        options, problems = check_options(options)
        if problems:
            raise ScenarioError("options", problems[0])
        present, quiz = data.get("present", False), data.get("quiz", False)
        for name, flag in (("present", present), ("quiz", quiz)):
            if not isinstance(flag, bool):
                raise ScenarioError(name, Message(N_("expected true or false, got {got!r}"), got=flag))
        try:
            scenario = validate(data.get("scenario"))
        except ScenarioError as exc:  # name the field by its full path in the state
            path = "scenario" if exc.path == "(document)" else f"scenario.{exc.path}"
            raise ScenarioError(path, exc.message) from None
        return cls(scenario=scenario, decimals=decimals, lang=str(data.get("lang", "en")), steps=steps,
                   options=dict(options), present=present, quiz=quiz)

    @property
    def sample(self) -> int:
        """The sample every page shows (0-based), as chosen in the sidebar (1-based there, as students count)."""
        chosen = self.options.get(SAMPLE_OPTION, 1)
        if isinstance(chosen, bool) or not isinstance(chosen, int):
            return 0
        return min(max(chosen - 1, 0), self.scenario.n_samples - 1)

    def say(self, text: str, at: str = "sidebar", **values: object) -> None:
        """Show ``text`` (an English template marked with ``N_`` by the caller; translated, ``{placeholders}``
        filled) on the next run, at the place ``at`` (where the control that caused it is: the eye is there)."""
        if at not in MESSAGE_PLACES:
            raise ValueError(f"unknown message place {at!r}")
        self.message, self.message_at = Message(text, **values), at  # marked with N_ at each call of say


# ---------------------------------------------------------------- display options: every one the pages keep


def _whole(lo: int, hi: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _number(lo: float, hi: float) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and lo <= v <= hi


def _one_of(*choices: Any) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, (str, type(None))) and v in choices


def _neuron_text(v: Any) -> bool:
    try:
        return isinstance(v, str) and Neuron.parse(v) is not None
    except ValueError:
        return False


def _param_text(v: Any) -> bool:
    try:
        return isinstance(v, str) and len(v) <= 20 and parse_param(v) is not None
    except ValueError:
        return False


_FLAG = lambda v: isinstance(v, bool)  # noqa: E731
# option key (or key prefix ending in "_") -> whether a value is acceptable; a link cannot set anything else
OPTION_RULES: dict[str, Callable[[Any], bool]] = {
    PRESET_OPTION: _one_of(None, *preset_names()),
    SAMPLE_OPTION: _whole(1, MAX_SAMPLES),
    "sb_neuron": _neuron_text,
    "sb_value": lambda v: isinstance(v, str) and len(v) <= 16,
    "backward_gradcheck": _FLAG,
    "backward_grad_sizes": _FLAG,
    "bld_grad_sizes": _FLAG,
    "cg_mode": _one_of("whole", "one"),
    "cg_focus": _neuron_text,
    "cg_whole": _FLAG,
    "cg_step_full": _whole(0, 10_000),
    "cg_step_focus": _whole(0, 10_000),
    "train_steps": _whole(1, 10_000),
    "train_stop": _number(0.0, 1e6),
    "train_log": _FLAG,
    "train_data": _one_of(CURRENT_SAMPLES, *DATASET_NAMES),
    "train_land_x": _param_text,
    "train_land_y": _param_text,
    "train_land_at": _one_of("start", "end"),
    "bld_inputs": _whole(1, MAX_NEURONS),
    "bld_outputs": _whole(1, MAX_NEURONS),
    "bld_hidden": _whole(0, MAX_HIDDEN_LAYERS),
    "bld_out_act": _one_of(*ACTIVATION_NAMES),
    "bld_loss": _one_of(*LOSS_NAMES),
    "bld_init": _one_of(*INITIALISERS),
    "bld_seed": _whole(0, 10_000),
    "bld_lr": _number(0.001, MAX_LEARNING_RATE),
    "bld_n_": _whole(1, MAX_NEURONS),
    "bld_act_": _one_of(*HIDDEN_ACTIVATIONS),
    AUTOPLAY_SPEED_OPTION: lambda v: _whole(1, max(AUTOPLAY_SPEEDS))(v) and v in AUTOPLAY_SPEEDS,
    AUTOPLAY_LOOP_OPTION: _FLAG,
}


def _rule(key: str) -> Callable[[Any], bool] | None:
    if key in OPTION_RULES:
        return OPTION_RULES[key]
    prefix, _, index = key.rpartition("_")
    rule = OPTION_RULES.get(prefix + "_")
    return rule if rule is not None and index in {str(i) for i in range(MAX_HIDDEN_LAYERS)} else None


def check_options(options: dict[str, Any], lang: str = "en") -> tuple[dict[str, Any], list[str]]:
    """(the acceptable options, a sentence for each one left out): known keys with values their widgets take."""
    clean, problems = {}, []
    for key, value in options.items():
        rule = _rule(str(key))
        shown = str(key)[:40]
        if rule is None:
            problems.append(t("{key!r} is not a display option", lang, key=shown))
        elif not rule(value):
            problems.append(t("{key!r} cannot be {value}", lang, key=shown, value=json.dumps(value)[:40]))
        else:
            clean[str(key)] = value
    return clean, problems


def get() -> AppState:
    """The session's AppState, created once (guarded) from the seed example."""
    app = st.session_state.get(STATE_KEY)  # one lookup: called for every widget on every run
    if app is None:
        app = st.session_state[STATE_KEY] = AppState(scenario=preset(SEED))
    return app


@dataclass
class Bindings:
    """What binding widgets to the state remembers between runs, in one session-state entry (each lookup in
    st.session_state costs: seed_widget runs for every widget on every run)."""

    seeded: dict[str, tuple] = field(default_factory=dict)  # key -> (page, identity) of the run that last seeded it
    # key -> [(a value seed_widget assigned or replaced, when)]
    echo: dict[str, list[tuple[Any, float]]] = field(default_factory=dict)
    held: dict[str, Held] = field(default_factory=dict)  # in a reconnected tab's first run: key -> Held


def _bindings() -> Bindings:
    b = st.session_state.get(BIND_KEY)
    if b is None:
        b = st.session_state[BIND_KEY] = Bindings()
    return b


def open_link(read: Callable[[dict[str, str]], tuple[AppState, list[str]]]) -> AppState:
    """The session's AppState, from the URL's query when the session starts (a share link, F5, a reconnect after a
    server restart) or when the query changes under it (back/forward); ``read`` turns a query into a state."""
    query = st.query_params.to_dict()
    app = st.session_state.get(STATE_KEY)
    acted = st.session_state.pop(ACTED_KEY, False)
    if app is not None:
        _bindings().held = {}  # only a session's first run adopts a tab's values (that run may have been cut short)
    if app is not None and (not query or query == st.session_state.get(LINK_KEY) or acted):
        # the query is the one we wrote, or a page switch dropped it: nothing new. Or a widget changed: then the
        # browser sent whatever its address bar held, possibly still the link of two key presses ago (the URL we
        # wrote last run had not arrived); loading that would undo the press (→ ten presses kept 3)
        return app
    linked, problems = read(query)
    if app is None:
        _bindings().held = {key: Held(ids) for key, ids in _browser_held().items()}
    if app is not None:
        linked.history = [*app.history, app.scenario][-UNDO_DEPTH:]  # Undo reaches what was shown before
        linked.quiz_log = app.quiz_log  # the same student: back/forward keeps their answers
    linked.link_problems = problems
    st.session_state[STATE_KEY] = linked
    st.session_state[LINK_KEY] = query
    return linked


def write_link(query: dict[str, str]) -> None:
    """Make the URL's query ``query`` (what is shown), without a rerun and only when it changed."""
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
    st.session_state[LINK_KEY] = query


def dismiss_link_problems() -> None:
    get().link_problems = []


# ---------------------------------------------------------------- widgets bound to the state


def seed_widget(key: str, value: Any, identity: tuple | None = None) -> None:
    """Give a widget its value from the AppState before the widget is created.

    Why: after a page switch Streamlit still holds the old page's value under the key, but the widget on the new
    page has another identity and would start from its default. Assigning through the Session State API makes the
    new widget pick the value up. Widgets bound this way must hand their changes back to the AppState in an
    ``on_change`` callback (see :func:`bind_option`, :func:`on_widget`), or the next run would undo them.

    Each assignment also sends the value to the browser, which puts the widget back to it: a key press that
    arrived while the script ran would be undone there. So a caller that passes ``identity`` (what else the widget
    is created with: label, range, format) is assigned only when the value, the page or that identity changed, or
    Streamlit dropped the key (the widget was not drawn last run); without ``identity``, on every run.

    A value assigned here reaches the browser only with this run's output. Until it does, the browser still holds
    an older one and reports it with the next key press, as if the user had set it (two sliders for one weight: the
    sidebar's and the one beside the formula; ten presses 120 ms apart kept 3). :func:`_forward_widget` ignores
    such an echo: a value assigned or replaced here in the last ``ECHO_SECONDS``.
    """
    b = _bindings()
    mark = (get().page, identity)
    if key in b.held:  # a reconnected tab's value: the widget shows it, adopt_held() takes it over after the run
        b.held[key].value = value
        b.seeded[key] = mark
        return
    old = st.session_state.get(key, _MISSING)
    if identity is None or b.seeded.get(key) != mark or old != value:
        st.session_state[key] = value
        if old is not _MISSING and old != value:
            now = time.monotonic()
            b.echo[key] = [*_recent(key), (old, now), (value, now)]
    b.seeded[key] = mark


@dataclass
class Held:
    """A widget whose value a reconnected tab sent: what the state gives it, and how its change reaches the state."""

    ids: frozenset[str] = frozenset()  # the element ids the browser sent values for under this key
    value: Any = _MISSING
    change: Callable[..., None] | None = None
    args: tuple = ()
    click: bool = False  # a button: its callback runs when the tab's action was a click on it
    read: Callable[[Any], Any] | None = None  # a live slider: its value from what the widget holds (None: invalid)


def _browser_held() -> dict[str, frozenset[str]]:
    """The keys of the widget values the browser sent with this run, read before any widget is drawn.

    A tab whose server went away (a replica killed, a restart) keeps its page and reconnects to a new session: to
    another replica behind the proxy, or to the restarted server. Streamlit's frontend does not rerun then; the
    student's next action is the new session's first run. It carries the values of every widget on the tab, one of
    them just changed, but Streamlit runs no callbacks for widgets the session has never drawn, and the URL gives
    the state of the run before. Streamlit has no public way to see these values before the widgets are drawn; this
    reads their keys from the session state's private ``_new_widget_state`` (checked by tests/test_reconnect.py and
    the failover browser test, so a Streamlit upgrade that moves it fails there, not silently).
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.state.common import is_keyed_element_id, user_key_from_element_id

    ctx = get_script_run_ctx()
    states = ctx.session_state._state._new_widget_state.states if ctx is not None else {}
    held: dict[str, set[str]] = {}
    for wid in states:
        if is_keyed_element_id(wid):
            held.setdefault(user_key_from_element_id(wid), set()).add(wid)
    return {key: frozenset(ids) for key, ids in held.items()}


def _drawn_id(key: str) -> str | None:
    """The element id the widget with this key got in this run (private, like :func:`_browser_held`)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_state._state._key_id_mapper.get_id_from_key(key, None) if ctx is not None else None


def adopt_held() -> None:
    """After a reconnected tab's first run: a drawn widget whose value (the browser's) differs from the state's
    (the URL's) is the student's last action; hand it over as its callback would have, then draw the page again.

    Only a widget drawn with the very element id the browser sent is adopted: an id includes the page and the
    slider's range, and a widget the browser did not have shows its default, not a value of the student's (then
    the page is only drawn again, seeded from the state). Applied in a fixed order, the sliders beside the formula
    last: if the URL was a run behind and both twins of a parameter differ, the one at hand wins."""
    b = _bindings()
    held, b.held = b.held, {}
    changed = redraw = False
    for key in sorted(held, key=lambda k: (k.startswith("focus_"), k)):
        h = held[key]
        if h.change is None or key not in st.session_state:
            continue  # not drawn on this page, or not bound to the state
        if _drawn_id(key) not in h.ids:
            redraw = redraw or not h.click  # shown with its default: draw it again from the state
            continue
        if h.click and widget_value(key) is True:
            h.change(*h.args)
            changed = True
        elif not h.click and h.value is not _MISSING:
            value = h.read(widget_value(key)) if h.read is not None else widget_value(key)
            if value is not None and value != h.value:
                h.change(value, *h.args)
                changed = True
    if changed or redraw:
        st.rerun()


def _recent(key: str) -> list[tuple[Any, float]]:
    """The values a widget's browser copy may still hold (assigned, or replaced, in the last ECHO_SECONDS)."""
    now = time.monotonic()
    return [(v, at) for v, at in _bindings().echo.get(key, []) if now - at < ECHO_SECONDS]


def widget_value(key: str) -> Any:
    """The value a widget reported (read in its ``on_change`` callback)."""
    return st.session_state[key]


def on_widget(key: str, change: Callable[..., None], *args: Any) -> dict[str, Any]:
    """Widget kwargs that hand the widget's new value to ``change(value, *args)``."""
    held = _bindings().held
    if key in held:
        held[key].change, held[key].args = change, args
    return {"key": key, "on_change": _forward_widget, "args": (key, change, args)}


def hold_live(key: str, value: Any, change: Callable[..., None], args: tuple, read: Callable[[Any], Any]) -> None:
    """A live slider (``live_slider.py``) in a reconnected tab's first run: what :func:`seed_widget` and
    :func:`on_widget` note for Streamlit's widgets, and how to read its value from what the widget holds."""
    h = _bindings().held.get(key)
    if h is not None:
        h.value, h.change, h.args, h.read = value, change, args, read


def on_click(key: str, action: Callable[..., None], *args: Any) -> dict[str, Any]:
    """Button kwargs that run ``action(*args)`` on a click (also the first click of a reconnected tab)."""
    held = _bindings().held
    if key in held:
        held[key].change, held[key].args, held[key].click = action, args, True
    return {"key": key, "on_click": action, "args": args}


def _forward_widget(key: str, change: Callable[..., None], args: tuple) -> None:
    acted()
    if any(widget_value(key) == v for v, _ in _recent(key)):
        return  # the browser's copy from before seed_widget's last assignments, not the user's (see there)
    change(widget_value(key), *args)


def acted() -> None:
    """Mark this run as the answer to a user's action in a widget callback (see :func:`open_link`)."""
    st.session_state[ACTED_KEY] = True


def bind_option(app: AppState, key: str, default: Any) -> dict[str, Any]:
    """Widget kwargs for a page option kept in ``app.options[key]`` (seeded now, written back on change)."""
    seed_widget(key, app.options.get(key, default))
    return on_widget(key, set_option, key)


def set_option(value: Any, key: str) -> None:
    """Remember a display option (it survives page switches)."""
    get().options[key] = value


# ---------------------------------------------------------------- the scenario


def set_scenario(app: AppState, scenario: Scenario, *, preset_name: str | None = None) -> None:
    """Replace the scenario (apply, upload, preset, builder ...), keeping the old one for Undo.

    ``preset_name`` names the example now loaded (for the sidebar's Example box): "" for a network of the user's
    own (the box then says so), None to leave the box as it is.
    """
    app.history.append(app.scenario)
    del app.history[:-UNDO_DEPTH]
    app.scenario = scenario
    app.message = None
    if preset_name is not None:
        app.options[PRESET_OPTION] = preset_name or None


def example_shown(app: AppState) -> str | None:
    """What the sidebar's Example box names: the example chosen last; with none chosen (a fresh session, a link)
    the first example of the same shape (layers, activations, loss), else None ("your own network")."""
    if PRESET_OPTION in app.options:
        return app.options[PRESET_OPTION]
    return next((name for name in preset_names() if preset(name).architecture == app.scenario.architecture), None)


def _try_replace(app: AppState, **changes: Any) -> None:
    """Apply a change through the validator; on a bad value keep the last good state and say why."""
    try:
        app.scenario = app.scenario.replace(**changes)
        app.message = None
    except ScenarioError as exc:
        app.say(N_("Not applied: {error}"), error=exc)


def load_preset(name: str) -> None:
    """Load a built-in example (the sidebar's Example box names it; Undo remembers the network before)."""
    app = get()
    set_scenario(app, preset(name), preset_name=name)
    app.steps.clear()  # a new network: every page starts at its first step


def choose_preset(name: str | None) -> None:
    """The Example box: load the chosen example (None: the box was cleared, nothing to load)."""
    if name is not None:
        load_preset(name)


def reset() -> None:
    """Back to the seed example (Undo still remembers where we were)."""
    load_preset(SEED)


def reset_everything() -> None:
    """A fresh AppState (scenario, steps, options, display): the way out when the state itself has gone bad."""
    st.session_state[STATE_KEY] = AppState(scenario=preset(SEED))


def undo() -> None:
    app = get()
    if app.history:
        app.scenario = app.history.pop()
        app.message = None


def set_parameter(value: float, ref: ParamRef) -> None:
    """One weight or bias (a slider)."""
    app = get()
    W = [w.copy() for w in app.scenario.weights]
    B = [b.copy() for b in app.scenario.biases]
    ref.write(W, B, value)
    app.scenario = app.scenario.with_parameters(W, B)
    app.message = None


def set_sample_value(value: float, field_name: str, sample: int, k: int) -> None:
    """One input or target of one sample (a slider); ``field_name`` is "inputs" or "targets"."""
    app = get()
    arr = getattr(app.scenario, field_name).copy()
    arr[sample, k] = value
    _try_replace(app, **{field_name: arr if app.scenario.batched else arr[0]})


def set_learning_rate(value: float) -> None:
    _try_replace(get(), learning_rate=value)


def set_conventions(*, train_biases: bool | None = None, update_order: str | None = None) -> None:
    """The two update conventions (Conventions page); Undo remembers the scenario before."""
    app = get()
    changes = {k: v for k, v in (("train_biases", train_biases), ("update_order", update_order)) if v is not None}
    set_scenario(app, app.scenario.replace(**changes))


def set_lang(value: str) -> None:
    """The interface language (kept in the share link as ``lang``)."""
    get().lang = value if value in LANGUAGES else "en"


def set_present(value: bool) -> None:
    """Presentation mode on or off."""
    get().present = bool(value)


def set_quiz(value: bool) -> None:
    """The quiz on or off (kept in the share link as ``quiz``; the answers stay when it is switched off)."""
    get().quiz = bool(value)


def set_decimals(value: int) -> None:
    get().decimals = min(max(int(value), MIN_DECIMALS), MAX_DECIMALS)


def load_upload(name: str, data: bytes) -> None:
    """A scenario file from the uploader; a bad file keeps the current scenario and says why."""
    app = get()
    try:
        scenario = load_json(data)
    except ScenarioError as exc:
        app.say(N_("Could not load {name}: {error}. The current scenario is kept."), at="upload", name=name,
                error=exc)
        return
    set_scenario(app, scenario, preset_name="")


def apply_update() -> None:
    """One gradient-descent step on the current scenario (Undo brings the old one back)."""
    app = get()
    new = engine.step(app.scenario).after
    try:
        new = validate(new.to_dict())  # NaN, inf or |w| > 1e6 after a huge step: explain, do not apply
    except ScenarioError as exc:
        app.say(N_("The update was not applied: {error}. The learning rate is probably too large for these weights "
                   "(|w| may be at most {limit:g}); try a smaller η."), at="update", error=exc,
                limit=MAX_ABS_NUMBER)
        return
    set_scenario(app, new)


# ---------------------------------------------------------------- steps


def set_step(sid: StepId, page: str) -> None:
    get().steps[page] = sid


def go_to_page(path: str) -> None:
    """Switch to the page with this script on the next run (a callback cannot switch pages itself)."""
    get().goto = path


def take_goto() -> str | None:
    """The page :func:`go_to_page` asked for (its script), now to be switched to; None if none was asked for."""
    app = get()
    target, app.goto = app.goto, None
    return target


def set_playing(value: bool) -> None:
    """Autoplay on or off."""
    get().playing = bool(value)


def toggle_playing() -> None:
    """Play / Pause (its button, and Space in presentation mode)."""
    app = get()
    app.playing = not app.playing


def show_gradient_of(ref: ParamRef) -> None:
    """Move the backward page to this parameter's step (the matrix view links to it)."""
    set_step(StepId(Phase.BACKWARD, ref), "backward")


def move_counter(key: str, delta: int, n_max: int) -> None:
    """Prev / Next of a counter option kept in ``options[key]`` (0 … n_max)."""
    app = get()
    stored = app.options.get(key, 0)
    stored = stored if isinstance(stored, int) and not isinstance(stored, bool) else 0
    app.options[key] = min(max(stored + delta, 0), n_max)


# ---------------------------------------------------------------- the handout


def handout_key(app: AppState) -> tuple:
    return (app.scenario.to_json(indent=None), app.decimals, app.lang)


def prepare_handout() -> None:
    """Render the worked solution in both formats for the current state (only on request: it is every step)."""
    app = get()
    documents = {fmt: explain.render(app.scenario, fmt=fmt, decimals=app.decimals, lang=app.lang)
                 for fmt in explain.FORMATS}
    app.handout = Handout(handout_key(app), documents)


def current_handout(app: AppState) -> Handout | None:
    """The prepared handout, if it was prepared for the state shown now."""
    return app.handout if app.handout is not None and app.handout.rendered_for == handout_key(app) else None


# ---------------------------------------------------------------- training


def store_training(result: TrainResult) -> None:
    app = get()
    app.train_run = TrainRun(result, app.scenario.to_json())


def current_training(app: AppState) -> TrainResult | None:
    """The last run, if it started from the current scenario (a run from other weights or data is dropped, so
    'Continue from the trained weights' can never bring back a network trained on something else)."""
    run = app.train_run
    if run is not None and run.started_from != app.scenario.to_json():
        app.train_run = run = None
    return run.result if run is not None else None


def keep_trained() -> None:
    """Make the trained network the current scenario (Undo goes back)."""
    app = get()
    if app.train_run is not None:
        set_scenario(app, app.train_run.result.final)
        app.train_run = None


def use_dataset(name: str, option: str) -> None:
    """Replace the scenario's samples by a classic data set (or keep them: ``CURRENT_SAMPLES``)."""
    app = get()
    app.options[option] = name
    if name == CURRENT_SAMPLES:
        return
    try:
        set_scenario(app, with_dataset(app.scenario, name))
    except ScenarioError as exc:
        app.say(N_("Cannot use the {name} data set here: {error}. Load the XOR example in the Network builder for a "
                   "network with 2 inputs."), at="training", name=name, error=exc)
        app.options[option] = CURRENT_SAMPLES
    app.train_run = None


# ---------------------------------------------------------------- the builder


def fill_builder_form(form: dict[str, Any]) -> None:
    """Put values into the builder's form (its widgets' options)."""
    get().options.update(form)


def build_network(build: Callable[[], Scenario]) -> None:
    """Make the network ``build()`` returns the current one; a ScenarioError keeps the old one and says why."""
    app = get()
    try:
        scenario = build()
    except ScenarioError as exc:
        app.say(N_("Could not build this network: {error}"), at="builder", error=exc)
        return
    set_scenario(app, scenario, preset_name="")
    app.steps.clear()

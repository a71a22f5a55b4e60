"""Share links: the whole AppState in the URL (the page in its path, the rest in its query), short and safe.

Query keys (each left out when it holds its default, so the seed on the home page is the bare URL):

    s        the scenario, packed (below); left out for the seed
    big      instead of s, when the scenario is too large for a link: its number of samples (so whoever opens the
             link, or a student whose replica went away, is told that this is not their network)
    st       each page's step, "forward:net:1:0,backward:w:1:0:0" (the page follows from the phase)
    d        decimals
    o        display options, packed
    present  1 in presentation mode
    quiz     1 with the quiz on (predict, then reveal); the answers and the score are the session's own, never in a
             link: a student opening the instructor's link starts with every step hidden
    lang     the interface language

*Packed* is JSON, deflated with a fixed dictionary (the seed's own document, so a scenario close to the seed takes a
few bytes: the seed with w5 = 0.45 is 15 characters) and base64url-encoded, behind a version digit. The dictionary
of a version never changes, or old links would stop working.

Reading a link never raises: a part that cannot be read, or that the one validator refuses (a bad number, an unknown
field, a step this network does not have), gives one warning naming the part and the problem, and that part falls
back to its default; every other part is kept (the nearest valid state).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Mapping
from typing import Any

from ..config import MAX_SAMPLES, SEED_DOCUMENT, ScenarioError, parse_json, validate
from ..i18n import LANGUAGES, N_, t
from ..ids import Phase, StepId
from ..walkthrough import step_ids
from .state import DEFAULT_DECIMALS, MAX_DECIMALS, MIN_DECIMALS, AppState, check_options

VERSION = "1"
# version 1's dictionary: the seed's document as packed, compact JSON (frozen: never edit, add a version instead)
_DICTIONARY_V1 = json.dumps(SEED_DOCUMENT, separators=(",", ":")).encode()
assert _DICTIONARY_V1 == (
    b'{"layers":[2,2,2],"activations":["sigmoid","sigmoid"],"loss":"half_sse","weights":[[[0.15,0.2],[0.25,0.3]],'
    b'[[0.4,0.45],[0.5,0.55]]],"biases":[[0.35,0.35],[0.6,0.6]],"inputs":[0.05,0.1],"targets":[0.01,0.99],'
    b'"learning_rate":0.5,"train_biases":true,"update_order":"simultaneous"}'
), "the version 1 dictionary changed: old links would no longer open"
_SEED_DICT = validate(SEED_DOCUMENT).to_dict()
MAX_PACKED = 20_000  # characters of one packed part (a 6×8 network takes about 6,000)
QUERY_KEYS = ("s", "big", "st", "d", "o", "present", "quiz", "lang")
PAGE_OF_PHASE = {Phase.FORWARD: "forward", Phase.LOSS: "forward", Phase.BACKWARD: "backward", Phase.UPDATE: "update"}


class LinkError(ValueError):
    """A part of a link that cannot be read."""


def pack(value: Any) -> str:
    """JSON → deflate with the fixed dictionary → base64url, behind the version digit."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _DICTIONARY_V1)
    data = c.compress(json.dumps(value, separators=(",", ":")).encode()) + c.flush()
    return VERSION + base64.urlsafe_b64encode(data).decode().rstrip("=")


def unpack(text: str, lang: str = "en") -> Any:
    """The JSON value :func:`pack` packed; LinkError if the text is not such a value."""
    if not text.startswith(VERSION) or len(text) > MAX_PACKED:
        raise LinkError(t("not a bpviz link part (version {v}, at most {n:,} characters)", lang, v=VERSION,
                          n=MAX_PACKED))
    body = text[len(VERSION):]
    try:
        data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        d = zlib.decompressobj(-15, _DICTIONARY_V1)
        raw = d.decompress(data, MAX_PACKED * 20) + d.flush()
    except (binascii.Error, ValueError, zlib.error):
        raise LinkError(t("the text is damaged and cannot be unpacked", lang)) from None
    try:
        return parse_json(raw)
    except ScenarioError as exc:
        raise LinkError(exc.reason(lang)) from None


# ---------------------------------------------------------------- state → query


def packed_scenario(app: AppState) -> str | None:
    """The link's ``s`` part for ``app``'s scenario; None for the seed (the bare link shows it)."""
    doc = app.scenario.to_dict()
    return None if doc == _SEED_DICT else pack(doc)


def too_large(app: AppState) -> bool:
    """Whether the scenario is too large for a link (many samples): share the scenario file instead."""
    packed = packed_scenario(app)
    return packed is not None and len(packed) > MAX_PACKED


def to_query(app: AppState, default_lang: str = "en") -> dict[str, str]:
    """The query of the link to what ``app`` shows (the page is the URL's path); ``lang`` unless it is
    ``default_lang`` (a link without it opens in its reader's language)."""
    query: dict[str, str] = {}
    packed = packed_scenario(app)
    if packed is not None and len(packed) <= MAX_PACKED:
        query["s"] = packed
    elif packed is not None:  # too large: left out, and the link says so (the share box too)
        query["big"] = str(app.scenario.n_samples)
    if app.steps:
        query["st"] = ",".join(sid.format() for sid in app.steps.values())
    if app.decimals != DEFAULT_DECIMALS:
        query["d"] = str(app.decimals)
    if app.options:
        query["o"] = pack(app.options)
    if app.present:
        query["present"] = "1"
    if app.quiz:
        query["quiz"] = "1"
    if app.lang != default_lang:
        query["lang"] = app.lang
    return query


# ---------------------------------------------------------------- query → state


def from_query(query: Mapping[str, Any], default_lang: str = "en") -> tuple[AppState, list[str]]:
    """The AppState a link describes, and a warning for each part that could not be used (never raises); a link
    without ``lang`` is shown in ``default_lang`` (the reader's browser language)."""
    q = {k: (v[-1] if isinstance(v, list) and v else v) for k, v in query.items()}
    app = AppState(scenario=validate(SEED_DOCUMENT))
    lang = str(q.get("lang", default_lang))
    app.lang = lang if lang in LANGUAGES else "en"  # first: every warning below is in the link's language
    r = _Reader(app)
    if lang != app.lang:
        r.warn(N_("lang: unknown language {code!r}; choose one of {choices}"), code=_short(lang),
               choices=", ".join(LANGUAGES))
    for key in q:
        if key not in QUERY_KEYS:
            r.warn(N_("the part {key!r} is not part of a bpviz link and was ignored"), key=_short(key))
    if "s" in q:
        r.scenario(str(q["s"]))
    elif "big" in q:
        r.too_large(str(q["big"]))
    if "st" in q:
        r.steps(str(q["st"]))
    if "d" in q:
        r.decimals(str(q["d"]))
    if "o" in q:
        r.options(str(q["o"]))
    if "present" in q:
        app.present = str(q["present"]) == "1"
    if "quiz" in q:
        app.quiz = str(q["quiz"]) == "1"
    return app, r.warnings


def _whole(text: str, lo: int, hi: int) -> int | None:
    """The whole number ``text`` spells in plain digits, if it lies in [lo, hi]; else None (never raises).

    Not int() alone: it takes "²", " 5", "+5" and "5_0", and refuses 5,000 digits with an error."""
    return int(text) if text in {str(n) for n in range(lo, hi + 1)} else None


def _short(text: object, limit: int = 40) -> str:
    """A bounded piece of a link for a message (the message is shown as plain text)."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Reader:
    """Reads the parts of a link into ``app``, collecting a warning (in the app's language) for each bad one."""

    def __init__(self, app: AppState) -> None:
        self.app = app
        self.warnings: list[str] = []

    def warn(self, text: str, **values: object) -> None:
        """Add a warning: ``text`` is an English template marked with ``N_`` by the caller."""
        self.warnings.append(t(text, self.app.lang, **values))  # marked with N_ at each call in this module

    def scenario(self, text: str) -> None:
        try:
            self.app.scenario = validate(unpack(text, self.app.lang))
        except LinkError as exc:
            self.warn(N_("s (the scenario): {error}; showing the worked example instead"), error=str(exc))
        except ScenarioError as exc:
            field = "scenario" if exc.path == "(document)" else f"scenario.{exc.path}"
            self.warn(N_("s ({field}): {reason}; showing the worked example instead"), field=_short(field),
                      reason=_short(exc.reason(self.app.lang), 200))

    def too_large(self, text: str) -> None:
        """``big``: the view's scenario did not fit in the link; say so (the seed is shown), never silently."""
        n = _whole(text, 1, MAX_SAMPLES)
        if n is not None:
            self.warn(N_("big: this view's network ({n:,} samples) was too large for a link, so the link does not "
                         "hold it; showing the worked example instead. Load its scenario file again (Scenario file, "
                         "in the sidebar)."), n=n)
        else:
            self.warn(N_("big: this view's network was too large for a link, so the link does not hold it; showing "
                         "the worked example instead. Load its scenario file again (Scenario file, in the sidebar)."))

    def steps(self, text: str) -> None:
        known = step_ids(self.app.scenario.architecture)
        for part in text.split(",")[:len(PAGE_OF_PHASE)]:
            try:
                sid = StepId.parse(part)
            except ValueError:
                self.warn(N_("st: {step!r} is not a step; the page starts at its first step"), step=_short(part))
                continue
            if sid not in known:
                self.warn(N_("st: this network has no step {step}; the page starts at its first step"),
                          step=_short(part))
                continue
            self.app.steps[PAGE_OF_PHASE[sid.phase]] = sid

    def decimals(self, text: str) -> None:
        n = _whole(text, MIN_DECIMALS, MAX_DECIMALS)
        if n is not None:
            self.app.decimals = n
        else:
            self.warn(N_("d (decimals): expected a whole number from {lo} to {hi}, got {got!r}"), lo=MIN_DECIMALS,
                      hi=MAX_DECIMALS, got=_short(text))

    def options(self, text: str) -> None:
        try:
            options = unpack(text, self.app.lang)
        except LinkError as exc:
            self.warn(N_("o (display options): {error}; the defaults are used"), error=str(exc))
            return
        if not isinstance(options, dict):
            self.warn(N_("o (display options): expected an object; the defaults are used"))
            return
        self.app.options, problems = check_options(options, self.app.lang)
        for problem in problems:
            self.warn(N_("o: {problem}; its default is used"), problem=problem)

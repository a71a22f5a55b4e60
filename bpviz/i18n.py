"""The one translation function every user-facing string goes through: gettext catalogues managed with Babel.

English is the source language and the message id: ``t("Learning rate", lang)``. Chinese comes from the compiled
catalogue ``bpviz/locale/zh/LC_MESSAGES/bpviz.mo`` (source: ``bpviz.po`` beside it). The extractor sees every call
``t("…")``, ``tn("…", "…", n)`` and ``N_("…")`` whose first argument is a literal (a test rejects any other form);
``python -m bpviz.catalogue extract|update|compile`` keeps the catalogue in step (README, "Translations"). A
changed English text becomes a *fuzzy* entry on update, which a test rejects until it is translated again.

``N_`` marks a literal that is translated later, where the language is known (a page title in a table, the reason
in a validation error): ``Message(N_("expected {n} entries"), n=3).text(lang)``.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "zh")
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}  # each in its own language: how a reader finds theirs
LANGUAGE_SHORT = {"en": "EN", "zh": "中文"}  # the same where a button is narrow (presentation mode's row)
DOMAIN = "bpviz"
LOCALE_DIR = Path(__file__).parent / "locale"
KEYWORDS = {"t": None, "tn": (1, 2), "N_": None, "Nn_": (1, 2)}  # for Babel's extractor: the message argument(s)


@cache
def catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English and unknown languages: the source text itself)."""
    if lang == "en" or lang not in LANGUAGES:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])


def t(text: str, /, lang: str = "en", **values: object) -> str:
    """Translate ``text`` into ``lang`` and fill its ``{placeholders}`` from ``values``.

    ``text`` is positional-only, so a placeholder may itself be called ``{text}``.
    """
    translated = catalogue(lang).gettext(text)
    return translated.format(**values) if values else translated


def tn(singular: str, plural: str, n: int, /, lang: str = "en", **values: object) -> str:
    """The form of a counted message that fits ``n`` (``{n}`` is filled in): "1 sample" / "3 samples"."""
    return catalogue(lang).ngettext(singular, plural, n).format(n=n, **values)


def N_(text: str) -> str:  # noqa: N802 (gettext's name for it, which the extractor and readers know)
    """Mark ``text`` for the extractor; it is translated later, by ``t(text, lang)`` where the language is known."""
    return text


def Nn_(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802 (as N_, for a counted message)
    """Mark a counted message for the extractor: ``Message(Nn_("{n} entry", "{n} entries"), n=3)``."""
    return singular, plural


@dataclass(frozen=True, eq=False)
class Message:
    """A sentence translated where it is shown: a marked template (``N_``, or ``Nn_`` with a count ``n``) and the
    values for its placeholders."""

    template: str | tuple[str, str]
    values: dict[str, Any] = field(default_factory=dict)

    def __init__(self, template: str | tuple[str, str], /, **values: Any) -> None:
        object.__setattr__(self, "template", template)
        object.__setattr__(self, "values", values)

    def text(self, lang: str = "en") -> str:
        """The sentence in ``lang``; a value that can say itself in a language (a Message, a ScenarioError: a
        ``text(lang)`` method) is put in the same language."""
        values = {k: v.text(lang) if callable(getattr(v, "text", None)) else v for k, v in self.values.items()}
        if isinstance(self.template, tuple):  # counted (Nn_): the form that fits n
            return tn(*self.template, values.pop("n"), lang, **values)
        return t(self.template, lang, **values)

    def __str__(self) -> str:
        return self.text()


def pick_language(locale: str | None) -> str:
    """The interface language for a browser locale such as "zh-CN" or "en-GB": its language if we have it, else
    English."""
    code = (locale or "").replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else "en"

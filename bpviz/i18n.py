"""The one translation function every user-facing string goes through (the interface is English only)."""

from __future__ import annotations

LANGUAGES = ("en",)

# language -> {English source string: translation}. English needs no catalogue.
CATALOGUES: dict[str, dict[str, str]] = {"en": {}}


def t(text: str, /, lang: str = "en", **values: object) -> str:
    """Translate ``text`` into ``lang`` and fill its ``{placeholders}`` from ``values``.

    ``text`` is positional-only, so a placeholder may itself be called ``{text}``.
    """
    translated = CATALOGUES.get(lang, {}).get(text, text)
    return translated.format(**values) if values else translated

"""Keep the translation catalogues in step with the code: ``python -m bpviz.catalogue extract|update|compile``.

* ``extract``: every ``t("…")``, ``tn("…", "…", n)`` and ``N_("…")`` in ``bpviz/`` and ``views/`` into
  ``bpviz/locale/bpviz.pot`` (the keywords are :data:`bpviz.i18n.KEYWORDS`, the tests use the same);
* ``update``: merge the template into each language's ``bpviz.po`` (a new language is created): new English texts
  arrive untranslated, changed ones as *fuzzy*, removed ones as obsolete (``#~``); the tests reject all three;
* ``compile``: ``bpviz.po`` to the ``bpviz.mo`` the app reads.

A tool for developers (Babel is in the ``test`` extra), not imported by the app.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .i18n import DOMAIN, KEYWORDS, LANGUAGES, LOCALE_DIR

ROOT = LOCALE_DIR.parents[1]
SOURCES = ("bpviz", "views")
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"


def keyword_flags() -> list[str]:
    """``-k`` options for pybabel from :data:`KEYWORDS`."""
    return [f"-k{name}" if spec is None else f"-k{name}:{','.join(map(str, spec))}" for name, spec in KEYWORDS.items()]


def commands(action: str) -> list[list[str]]:
    """The pybabel command lines for ``action`` (run from the repository root)."""
    common = ["--no-wrap"]
    if action == "extract":
        return [["extract", "--no-default-keywords", *keyword_flags(), "--add-location=file", "--sort-by-file",
                 "--project=bpviz", "--copyright-holder=bpviz", "--charset=utf-8", *common,
                 "-o", str(TEMPLATE.relative_to(ROOT)), *SOURCES]]
    if action == "update":
        out = []
        for lang in LANGUAGES[1:]:
            exists = (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").exists()
            out.append([("update" if exists else "init"), "-i", str(TEMPLATE.relative_to(ROOT)),
                        "-d", str(LOCALE_DIR.relative_to(ROOT)), "-D", DOMAIN, "-l", lang, *common])
        return out
    if action == "compile":
        return [["compile", "-d", str(LOCALE_DIR.relative_to(ROOT)), "-D", DOMAIN, "--statistics"]]
    raise ValueError(f"unknown action {action!r}: extract, update or compile")


def main(argv: list[str] | None = None) -> int:
    from babel.messages.frontend import CommandLineInterface

    args = sys.argv[1:] if argv is None else argv
    actions = args or ["extract", "update", "compile"]
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        for action in actions:
            for command in commands(action):
                CommandLineInterface().run(["pybabel", *command])
    finally:
        os.chdir(here)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Translations: every user-facing string is extracted and translated into Chinese, the compiled catalogue is current,
and the translation calls are in a form the extractor can see."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

babel = pytest.importorskip("babel", reason="Babel (the test extra) manages the catalogues")
from babel.messages.extract import extract_from_dir  # noqa: E402
from babel.messages.mofile import read_mo  # noqa: E402
from babel.messages.pofile import read_po, write_po  # noqa: E402

from bpviz import i18n  # noqa: E402
from bpviz.catalogue import SOURCES  # noqa: E402
from bpviz.i18n import KEYWORDS, LANGUAGES, LOCALE_DIR, N_, Message, Nn_, pick_language, t, tn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRANSLATED = LANGUAGES[1:]


def extracted() -> dict[str, tuple[str, ...]]:
    """msgid -> (files), straight from the sources with the app's keywords (not from the .pot on disk)."""
    out: dict[str, tuple[str, ...]] = {}
    for source in SOURCES:
        for filename, _line, message, _comments, _context in extract_from_dir(
                ROOT / source, keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True):
            key = message if isinstance(message, str) else message[0]
            out[key] = (*out.get(key, ()), f"{source}/{filename}")
    return out


def po(lang: str):
    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po").open("rb") as f:
        return read_po(f)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_extracted_string_has_a_current_translation(lang):
    catalogue = po(lang)
    missing, empty, fuzzy = [], [], []
    for msgid, files in extracted().items():
        entry = catalogue.get(msgid)
        if entry is None:
            missing.append((msgid, files))
        elif entry.fuzzy:
            fuzzy.append(msgid)
        elif not (all(entry.string) if isinstance(entry.string, tuple) else entry.string):
            empty.append(msgid)
    assert not missing, f"not in the {lang} catalogue (run python -m bpviz.catalogue): {missing[:5]}"
    assert not fuzzy, f"fuzzy (the English changed; translate again): {fuzzy[:5]}"
    assert not empty, f"untranslated: {empty[:5]}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_no_obsolete_entries(lang):
    assert not po(lang).obsolete, f"obsolete entries (#~) in the {lang} catalogue: {list(po(lang).obsolete)[:5]}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_compiled_catalogue_is_current(lang):
    tupled = lambda x: tuple(x) if isinstance(x, list | tuple) else x  # noqa: E731 (plural entries)
    source = {tupled(m.id): tupled(m.string) for m in po(lang) if m.id and not m.fuzzy}
    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo").open("rb") as f:
        compiled = {tupled(m.id): tupled(m.string) for m in read_mo(f) if m.id}
    assert compiled == source, "run: python -m bpviz.catalogue compile"


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KEYWORDS:
            yield node


def python_files() -> list[Path]:
    return sorted(p for source in SOURCES for p in (ROOT / source).rglob("*.py"))


def test_translation_calls_take_a_literal_or_a_marked_value():
    """``t(f"…")``, ``t("a" + b)`` or ``t("…".format())`` would be invisible to the extractor; a variable is allowed
    (its literal is marked with N_ where it is defined)."""
    bad = []
    for path in python_files():
        if path == ROOT / "bpviz" / "i18n.py":  # the mechanism itself: Message passes on what was marked at its source
            continue
        for call in _calls(ast.parse(path.read_text())):
            n = 2 if call.func.id == "tn" else 1
            for arg in call.args[:n]:
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                        or isinstance(arg, ast.Name | ast.Attribute | ast.Subscript) and call.func.id == "t"):
                    bad.append(f"{path.relative_to(ROOT)}:{call.lineno}")
            if not call.args:
                bad.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not bad, bad


def test_sentences_translated_later_are_marked_where_they_are_written():
    """``Message(...)``, ``app.say(...)`` and a link reader's ``warn(...)`` translate later: their text must be an
    ``N_``/``Nn_`` call (or a name whose value was marked where it was defined), never a bare literal."""
    bad = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name not in ("Message", "say", "warn"):
                continue
            arg = node.args[0]
            marked = isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id in ("N_", "Nn_")
            if not (marked or isinstance(arg, ast.Name | ast.Attribute | ast.Subscript)):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, bad


def test_placeholders_survive_translation():
    """Each translation keeps its English text's {placeholders}: a lost one would raise or drop a number."""
    import string

    fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f is not None}  # noqa: E731
    for lang in TRANSLATED:
        for m in po(lang):
            if not m.id or not m.string:
                continue
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            for s in strings:
                assert fields(s) == fields(ids[-1]) | ({"n"} & fields(ids[0])), (m.id, s)


def test_english_is_the_source_and_chinese_comes_from_the_catalogue():
    assert t("Learning rate η") == "Learning rate η"
    assert t("Learning rate η", "zh") != "Learning rate η"
    assert t("no such message, never translated", "zh") == "no such message, never translated"
    assert t("Learning rate η", "xx") == "Learning rate η"  # an unknown language reads English


def test_counted_messages_have_plural_forms():
    assert tn("{n} sample", "{n} samples", 1) == "1 sample"
    assert tn("{n} sample", "{n} samples", 3) == "3 samples"
    assert "3" in tn("{n} sample", "{n} samples", 3, "zh")


def test_a_message_is_translated_where_it_is_shown():
    m = Message(N_("expected a finite number, got {value}"), value="'x'")
    assert m.text() == str(m) == "expected a finite number, got 'x'"
    assert "'x'" in m.text("zh") and m.text("zh") != m.text()


@pytest.mark.parametrize(("locale", "lang"), [
    ("zh-CN", "zh"), ("zh_TW", "zh"), ("ZH", "zh"), ("en-GB", "en"), ("de-DE", "en"), ("", "en"), (None, "en"),
])
def test_the_browser_language_picks_the_interface_language(locale, lang):
    assert pick_language(locale) == lang


def test_a_changed_english_text_comes_back_fuzzy_and_the_old_one_obsolete(tmp_path):
    """The workflow the tests rely on: ``python -m bpviz.catalogue update`` (its own pybabel options) marks an entry
    whose English changed as fuzzy, with the old translation kept to edit, and the old text as obsolete."""
    from babel.messages.frontend import CommandLineInterface

    from bpviz.catalogue import TEMPLATE, commands

    copy = tmp_path / "zh" / "LC_MESSAGES" / "bpviz.po"
    copy.parent.mkdir(parents=True)
    copy.write_bytes((LOCALE_DIR / "zh" / "LC_MESSAGES" / "bpviz.po").read_bytes())
    with TEMPLATE.open("rb") as f:
        template = read_po(f)
    old = template["Decimals shown"]
    template.delete("Decimals shown")
    template.add("Decimals shown on every page", locations=old.locations, flags=old.flags)  # reworded
    template.delete("Undo")  # gone from the code
    changed = tmp_path / "bpviz.pot"
    with changed.open("wb") as f:
        write_po(f, template)
    update = next(c for c in commands("update") if c[0] == "update")
    args = [a for a in update if a not in ("-i", "-d") and not a.endswith(("bpviz.pot", "locale"))]
    CommandLineInterface().run(["pybabel", *args, "-i", str(changed), "-d", str(tmp_path)])
    with copy.open("rb") as f:
        catalogue = read_po(f)
    entry = catalogue["Decimals shown on every page"]
    assert entry.fuzzy and entry.string == po("zh")["Decimals shown"].string
    assert "Undo" in catalogue.obsolete


def test_a_counted_message_takes_the_form_that_fits_its_count():
    assert Message(Nn_("expected {n} entry, got {count}", "expected {n} entries, got {count}"), n=1, count=2).text() \
        == "expected 1 entry, got 2"
    assert Message(Nn_("expected {n} entry, got {count}", "expected {n} entries, got {count}"), n=3, count=2).text() \
        == "expected 3 entries, got 2"


def test_validation_counts_read_right_in_both_languages():
    from bpviz.config import SEED_DOCUMENT, ScenarioError, validate

    with pytest.raises(ScenarioError) as err:
        validate({**SEED_DOCUMENT, "layers": [2, 1], "activations": ["sigmoid", "sigmoid"]})
    assert err.value.text() == "activations: expected 1 entry, got 2"
    assert err.value.text("zh").startswith("activations: ") and "1" in err.value.text("zh")


@pytest.mark.parametrize("document", [b'{"layers" [2]}', b'{"layers": [2] "loss": 1}', b"", b'{"a": 1,}', b'{} x'])
def test_json_syntax_errors_are_explained_in_the_readers_language(document):
    from bpviz.config import ScenarioError, load_json

    with pytest.raises(ScenarioError) as err:
        load_json(document)
    english, chinese = err.value.text(), err.value.text("zh")
    assert english.startswith("(document): invalid JSON: ") and " at line " in english
    assert re.search(r"[\u4e00-\u9fff]", chinese.split("：", 1)[-1]) and not re.search(r"[A-Z][a-z]+ing\b", chinese)

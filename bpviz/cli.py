"""Command line: ``bpviz compute`` (numbers as JSON), ``bpviz explain`` (the worked solution as a handout) and
``bpviz export torch`` (the scenario as a runnable PyTorch script).

Exit status and output (README, "Command line"):

- 0: the result, as strict JSON (RFC 8259: no NaN or Infinity), the handout or the script;
- 2: bad input (a document, a file, a flag): one line ``error: <field path>: <what was wrong>`` on stderr, control
  characters escaped and the user's own text clipped to 80 characters; never a traceback or a usage block;
- 3: computed, but a part of the result is beyond float64 or cannot be applied (a step that overflows, an updated
  document the validator refuses): that part is ``null`` and ``warnings`` lists why, one sentence each;
- 1: an internal error (a bug): one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import numpy as np

from . import engine, gradcheck, numbers
from .config import MAX_DOCUMENT_BYTES, Scenario, ScenarioError, clip, load_json, preset, preset_names, validate
from .export import TARGETS, torch_script
from .i18n import LANGUAGES, N_, Message, catalogue, t
from .naming import names_for
from .walkthrough import update_problem

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
EXIT_INCOMPLETE = 3


def _read_source(path: str) -> bytes:
    """Read at most MAX_DOCUMENT_BYTES + 1 bytes from a file or stdin ('-'), so a huge input cannot exhaust memory."""
    try:
        if path == "-":
            return sys.stdin.buffer.read(MAX_DOCUMENT_BYTES + 1)
        with open(path, "rb") as fh:
            return fh.read(MAX_DOCUMENT_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(path, Message(N_("no such file"))) from None
    except IsADirectoryError:
        raise ScenarioError(path, Message(N_("is a directory, not a JSON file"))) from None
    except OSError as exc:  # the system's own words (strerror) stay as they are
        raise ScenarioError(path, Message(N_("cannot read: {error}"), error=str(exc.strerror or exc))) from None


def load_scenario(path: str | None, preset_name: str | None) -> Scenario:
    """The scenario named on the command line: a preset, or a JSON file / stdin."""
    if preset_name is not None and path is not None:
        raise ScenarioError("FILE", Message(N_("give either a scenario file or --preset, not both")))
    if preset_name is not None:
        return preset(preset_name)
    if path is None:
        raise ScenarioError("FILE", Message(N_("give a scenario file, '-' for stdin, or --preset NAME")))
    return load_json(_read_source(path))


def _unbatch(arr: np.ndarray, batched: bool) -> Any:
    return arr.tolist() if batched else arr[0].tolist()


def compute(scenario: Scenario, lang: str = "en") -> dict[str, Any]:
    """Forward values, loss, gradients, the scenario after one step and the gradient check, as JSON-able data.

    ``forward.z`` and ``forward.a`` list the non-input layers (layer 1 .. L); with several samples each entry has a
    sample axis. Keys and codes stay English; sentences (``why``, why a part is missing) are in ``lang``.
    """
    trace = engine.forward(scenario)
    grads = engine.backward(scenario, trace)
    check = gradcheck.gradient_check(scenario, grads=grads)
    names = names_for(scenario.layers)
    b = scenario.batched
    return {
        "forward": {
            "z": [_unbatch(z, b) for z in trace.z[1:]],
            "a": [_unbatch(a, b) for a in trace.a[1:]],
            "outputs": _unbatch(trace.outputs, b),
        },
        "loss": trace.loss,
        "loss_per_output": trace.loss_per_output.tolist(),
        "gradients": {
            "weights": [g.tolist() for g in grads.dE_dW],
            "biases": [g.tolist() for g in grads.dE_db],
        },
        "updated": _updated(scenario, trace, names, lang),
        "gradient_check": {
            "max_relative_error": check.max_relative_error,
            "agrees": check.agrees,  # every gradient within the stated tolerance (README: "Gradient check")
            "explained": [{"parameter": names.param(ref), "reason": reason,
                           "why": gradcheck.verdict(check, i, lang)}
                          for i, (ref, reason) in enumerate(zip(check.refs, check.reasons)) if reason != "agree"],
        },
    }


class _Warned(dict):
    """A JSON object that also carries warnings for the ``warnings`` list (why a part is null)."""


def _updated(scenario: Scenario, trace, names, lang: str = "en") -> Any:
    """The scenario after one step, or why there is none (the step overflows, or the validator refuses it)."""
    update = engine.step(scenario, trace=trace)
    problem = update_problem(update, names, lang=lang)
    if problem is None:
        try:
            return validate(update.after.to_dict()).to_dict()
        except ScenarioError as exc:
            problem = t("the updated scenario is not valid: {error} (a smaller learning rate keeps it in range)",
                        lang, error=exc.text(lang))
    return _Warned(reason=problem)


def strict(data: Any, path: str = "", lang: str = "en") -> tuple[Any, list[str]]:
    """``data`` with every non-finite number (and every part that could not be computed) as null, and a warning
    naming each such place (in ``lang``; the places keep their JSON names): JSON as RFC 8259 has it."""
    if isinstance(data, _Warned):
        return None, [f"{path or '(result)'}: {data['reason']}"]
    if isinstance(data, float) and not math.isfinite(data):
        return None, [t("{path}: {value} (beyond float64)", lang, path=path,
                        value=numbers.non_finite(data, lang=lang))]
    if isinstance(data, dict):
        pairs = [(k, strict(v, f"{path}.{k}" if path else str(k), lang)) for k, v in data.items()]
        return {k: v for k, (v, _) in pairs}, [w for _, (_, ws) in pairs for w in ws]
    if isinstance(data, list):
        items = [strict(v, f"{path}[{i}]", lang) for i, v in enumerate(data)]
        warnings = [w for _, ws in items for w in ws]
        more = len(warnings) - MAX_WARNINGS
        return [v for v, _ in items], warnings[:MAX_WARNINGS] + (
            [t("{path}: and {n:,} more", lang, path=path, n=more)] if more > 0 else [])
    return data, []


MAX_WARNINGS = 20  # per list: a whole layer of overflowing numbers is one sentence, not a screenful


class _Parser(argparse.ArgumentParser):
    """argparse whose mistakes are one ``error:`` line and exit status 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {clip(message, None)} (bpviz --help)\n")


# argparse's own words, as Python 3.11's argparse spells them (its msgids), marked here so that the extractor puts
# them in our catalogue; _argparse_in lets argparse read their translations. A msgid another Python version words
# differently simply stays English. Only those a user of this command line can meet are listed.
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("ignored explicit argument %r"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
)


@contextmanager
def _argparse_in(lang: str) -> Iterator[None]:
    """A narrow adapter: while the parser is built and run, argparse's own words are in ``lang``.

    argparse translates through the module-level ``_`` and ``ngettext`` it imported from gettext (the "bpviz"
    catalogue is not its domain); for the duration of the block they read our catalogue instead, and are argparse's
    own again afterwards, also when argparse exits (help, an error). English leaves argparse untouched. The command
    line is a process of its own, so replacing a module attribute for a moment affects no other user.
    """
    if lang == "en":
        yield
        return
    words = catalogue(lang)
    saved = argparse._, argparse.ngettext
    argparse._ = lambda message: words.gettext(message) if isinstance(message, str) else message
    argparse.ngettext = words.ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


def _language(argv: list[str] | None) -> str:
    """The ``--lang`` of a command line, read before the parser is built so that its help is in that language
    (English when there is none or it is not one of LANGUAGES: the parser then says what is wrong)."""
    pre = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    pre.add_argument("--lang")
    try:
        known, _ = pre.parse_known_args(argv)
    except (argparse.ArgumentError, SystemExit):
        return "en"
    return known.lang if known.lang in LANGUAGES else "en"


def _add_lang(parser: argparse.ArgumentParser, lang: str, default: Any) -> None:
    """``--lang``, on the top-level parser (``default`` "en") and on each command (SUPPRESS: set only if given)."""
    parser.add_argument("--lang", choices=LANGUAGES, default=default,
                        help=t("language of the messages, warnings, the handout and the comments of an exported "
                               "script", lang))


def _parser(lang: str = "en") -> argparse.ArgumentParser:
    """The command line parser, its help in ``lang``; argparse's own words ("usage:", "options", its errors) are in
    ``lang`` while it is built and run inside :func:`_argparse_in`.

    ``--lang`` goes before or after the command: the command's copy sets it only when given (SUPPRESS), so it does
    not overwrite one given before the command with its default.
    """
    parser = _Parser(prog="bpviz", description=t("Backpropagation, step by step.", lang))
    _add_lang(parser, lang, "en")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("compute", t("print forward values, loss, gradients and the updated parameters as JSON", lang)),
        ("explain", t("print the complete worked solution (every step) as Markdown or LaTeX", lang)),
        ("export", t("print the scenario as a runnable script for another library (torch: PyTorch)", lang)),
    ):
        p = sub.add_parser(name, help=help_text)
        if name == "export":
            p.add_argument("target", choices=TARGETS, help=t("what to write: torch, a PyTorch script", lang))
        p.add_argument("file", nargs="?", help=t("scenario JSON file, or - for stdin", lang))
        p.add_argument("--preset", choices=preset_names(), help=t("use a built-in scenario instead of a file", lang))
        _add_lang(p, lang, argparse.SUPPRESS)
        if name == "explain":
            p.add_argument("--format", choices=("markdown", "latex"), default="markdown",
                           help=t("markdown, or latex for a complete LaTeX document (default: markdown)", lang))
            p.add_argument("--decimals", type=int, default=4, choices=range(1, 11), metavar="1..10",
                           help=t("decimal places of the numbers in the handout (default: 4)", lang))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bpviz`` console script; returns the exit status."""
    first = _language(argv)
    with _argparse_in(first):  # a bad flag: one error line and exit 2 (_Parser.error); --help: exit 0
        args = _parser(first).parse_args(argv)
    lang = args.lang
    status = 0
    try:
        scenario = load_scenario(args.file, args.preset)
        if args.command == "compute":
            with np.errstate(all="ignore"):  # nothing on stderr: what overflowed is in "warnings"
                result, warnings = strict(compute(scenario, lang), lang=lang)
            if warnings:
                result["warnings"], status = warnings, EXIT_INCOMPLETE
            out = json.dumps(result, indent=2, allow_nan=False)
        elif args.command == "export":
            out = torch_script(scenario, lang)
        else:
            from .explain import render

            out = render(scenario, fmt=args.format, decimals=args.decimals, lang=lang)
    except ScenarioError as exc:  # "error:" stays English in every language, as argparse's own: scripts look for it
        print(f"error: {exc.text(lang)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # never a traceback for a user: one line, and a distinct status
        error = f"{type(exc).__name__}: {clip(exc)}"
        print("error: " + t("internal error ({error}); please report it with your scenario file", lang, error=error),
              file=sys.stderr)
        return EXIT_INTERNAL
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())

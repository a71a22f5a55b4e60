"""The handout: the complete worked solution of a scenario (every walkthrough step) as Markdown or LaTeX.

Each step gives its title, the formula, the formula with the scenario's numbers, and the value; backward steps
also list every local derivative of the chain rule (general form, then with numbers). Markdown uses ``$...$`` /
``$$...$$`` maths; LaTeX is a complete ``article`` document (amsmath and xcolor).
"""

from __future__ import annotations

import re

from . import engine
from .config import ORDER_LABELS, Scenario
from .i18n import N_, t, tn
from .naming import SUBSCRIPTS, SUPERSCRIPTS
from .symbolic import format_number
from .walkthrough import PHASES, Step, build_walkthrough

FORMATS = ("markdown", "latex")

_PHASE_TITLES = {
    "forward": N_("Forward pass"),
    "loss": N_("Loss"),
    "backward": N_("Backward pass (chain rule)"),
    "update": N_("Update (gradient descent)"),
}
_CJK_FONTS = {"zh": "gbsn"}  # LaTeX: a language pdflatex can only set with the CJK package, and its font


def render(scenario: Scenario, fmt: str = "markdown", decimals: int = 4, lang: str = "en") -> str:
    """The worked solution of ``scenario`` as ``fmt`` ("markdown" or "latex") text, numbers to ``decimals`` places."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    trace = engine.forward(scenario)
    grads = engine.backward(scenario, trace)
    wt = build_walkthrough(scenario, trace, grads, decimals=decimals, lang=lang)
    summary = _summary(scenario, lang)
    sections: list[tuple[str, list[Step]]] = [(t(_PHASE_TITLES[p], lang), []) for p in PHASES]  # marked with N_ above
    for step in wt:
        sections[PHASES.index(step.phase)][1].append(step)
    writer = _markdown if fmt == "markdown" else _latex
    return writer(t("Backpropagation, worked step by step", lang), summary, sections, decimals, lang)


def _summary(sc: Scenario, lang: str) -> list[str]:
    """Plain-text lines describing the scenario (network, loss, learning rate, data)."""
    lines = [
        t("Layers: {layers}", lang, layers=" - ".join(map(str, sc.layers))),
        t("Activations: {acts}", lang, acts=", ".join(sc.activations)),
        t("Loss: {loss}", lang, loss=sc.loss),
        t("Learning rate: {lr}", lang, lr=format_number(sc.learning_rate, 6)),
        t("Biases trained: {yes}", lang, yes=t("yes", lang) if sc.train_biases else t("no", lang)),
        t("Update order: {order}", lang, order=t(ORDER_LABELS[sc.update_order], lang)),  # N_ in bpviz.config
    ]
    if sc.n_samples > 1:
        lines.append(tn("{n} sample; every step shows sample 1, gradients and updates use the mean over all "
                        "samples.", "{n} samples; every step shows sample 1, gradients and updates use the mean "
                        "over all samples.", sc.n_samples, lang))
    return lines


def _factor_lines(step: Step, decimals: int, lang: str = "en") -> list[tuple[str | None, list[str]]]:
    """[(path heading or None, [factor equations])] of a backward step (the same cells as the app's table)."""
    out = []
    for n, term in enumerate(step.factors, start=1):
        heading = f"{n}" if len(step.factors) > 1 else None
        out.append((heading, [" = ".join(f.cells(decimals, lang)) for f in term]))
    return out


# ---------------------------------------------------------------- Markdown


def _markdown(title: str, summary: list[str], sections, decimals: int, lang: str) -> str:
    out = [f"# {title}", ""]
    out += [f"- {line}" for line in summary] + [""]
    number = 0
    for heading, steps in sections:
        out += [f"## {heading}", ""]
        for step in steps:
            number += 1
            out += [f"### {number}. {step.title}", "", f"$$ {step.latex_symbolic} $$", ""]
            if step.latex_general:
                out += [f"$$ {step.latex_general} $$", ""]
            if step.latex_intermediate:
                out += [f"$$ {step.latex_intermediate} $$", ""]
            out += [f"$$ {step.latex_numeric} $$", ""]
            if step.factors:
                out += [t("Local derivatives (general form, then with numbers):", lang), ""]
                for path, eqs in _factor_lines(step, decimals, lang):
                    if path:
                        out += [f"*{t('Path {n}', lang, n=path)}*", ""]
                    out += [f"- $ {eq} $" for eq in eqs] + [""]
            out += [f"> {note}" for note in step.notes] + ([""] if step.notes else [])
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- LaTeX

_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
_PLAIN_SUPER = {v: k for k, v in SUPERSCRIPTS.items()}
_PLAIN_SUB = {v: k for k, v in SUBSCRIPTS.items()}
_UNICODE_RUN = re.compile(f"([{''.join(_PLAIN_SUPER)}]+)|([{''.join(_PLAIN_SUB)}]+)")


def _tex_text(text: str) -> str:
    """Plain text for a LaTeX document: special characters escaped, Unicode super/subscripts as maths."""
    escaped = "".join(_TEXT_ESCAPES.get(c, c) for c in text)

    def math(m: re.Match) -> str:
        if m.group(1):
            return "$^{" + "".join(_PLAIN_SUPER[c] for c in m.group(1)) + "}$"
        return "$_{" + "".join(_PLAIN_SUB[c] for c in m.group(2)) + "}$"

    escaped = _UNICODE_RUN.sub(math, escaped)
    return escaped.replace("·", r"$\cdot$").replace("→", r"$\to$").replace("−", "-")


def _display(latex: str) -> str:
    """A display equation (``aligned`` blocks from the chain rules work inside it, with amsmath)."""
    return "\\[\n" + latex + "\n\\]"


def _latex(title: str, summary: list[str], sections, decimals: int, lang: str) -> str:
    cjk = _CJK_FONTS.get(lang)  # Chinese text: pdflatex sets it inside a CJK environment (package CJKutf8)
    out = [
        r"\documentclass[10pt]{article}",
        r"\usepackage[utf8]{inputenc}",
        *([r"\usepackage{CJKutf8}"] if cjk else []),
        r"\usepackage{amsmath}",
        r"\usepackage{xcolor}",  # the paths of a hidden weight's chain, each in its colour
        r"\usepackage[margin=2cm]{geometry}",
        r"\allowdisplaybreaks",
        r"\setlength{\parindent}{0pt}",
        r"\title{" + _tex_text(title) + "}",
        r"\date{}",
        r"\begin{document}",
        *([r"\begin{CJK}{UTF8}{" + cjk + "}"] if cjk else []),
        r"\maketitle",
        r"\begin{itemize}",
    ]
    out += [r"\item " + _tex_text(line) for line in summary]
    out.append(r"\end{itemize}")
    number = 0
    for heading, steps in sections:
        out.append(r"\section*{" + _tex_text(heading) + "}")
        for step in steps:
            number += 1
            out.append(r"\subsection*{" + f"{number}. " + _tex_text(step.title) + "}")
            out.append(_display(step.latex_symbolic))
            if step.latex_general:
                out.append(_display(step.latex_general))
            if step.latex_intermediate:
                out.append(_display(step.latex_intermediate))
            out.append(_display(step.latex_numeric))
            if step.factors:
                out.append(_tex_text(t("Local derivatives (general form, then with numbers):", lang)))
                for path, eqs in _factor_lines(step, decimals, lang):
                    if path:
                        out.append(r"\textit{" + _tex_text(t("Path {n}", lang, n=path)) + "}")
                    out.append("\\begin{align*}\n" + " \\\\\n".join(eqs) + "\n\\end{align*}")
            for note in step.notes:
                out.append(r"\begin{quote}\small " + _tex_text(note) + r"\end{quote}")
    if cjk:
        out.append(r"\end{CJK}")
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"

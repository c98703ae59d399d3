"""One optimizer step, explained: the update equations with the run's own numbers substituted.

``explain(run, t)`` reads a recorded :class:`~optiviz.Run` (no simulation is re-run) and returns an
:class:`Explanation`: the optimizer's equations in the classic textbook presentation (LaTeX that
KaTeX, hence ``st.latex``, renders), each followed by the same expression with the values of step
``t`` substituted, once per coordinate (x and y). Every :class:`Line` also carries ``result``, the
float value of its left-hand side, computed from the recorded arrays in the kernel's own order of
operations, so the last line reproduces ``run.path[t]`` and the state lines ``run.state[...][t]``.

``notes(optimizer)`` is a short plain-language note on what to look for in the picture, true at every step;
``Explanation.step_note`` says what happened at step ``t`` itself, with that step's numbers.

No Streamlit and no Plotly here: strings and floats only.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

from . import optimizers
from ._engine import Run
from .optimizers._explain import Builder, Line, format_number
from .schedules import explain_lines

__all__ = ["Explanation", "Line", "explain", "format_number", "notes"]


@dataclass(frozen=True)
class Explanation:
    """The equations of step ``step`` of one run.

    ``title``: plain text ("Adam (AMSGrad) — step 3 of 50"). ``hyper``: LaTeX listing the symbols and
    the run's hyperparameter values. ``lines``: the equations in the order they are computed; the last
    one is the new position. ``note``: plain-language remarks that hold at every step (the optimizer's
    :func:`notes` plus any that concern the options in use). ``step_note``: what happened at this step,
    with its numbers ("At step 1 the bias corrections ...", "At step 40 ...").
    """

    title: str
    step: int
    hyper: str
    lines: list[Line] = field(default_factory=list)
    note: str = ""
    step_note: str = ""

    def line(self, key: str) -> Line:
        """The line computing ``key``; ``KeyError`` if this step has none."""
        for line in self.lines:
            if line.key == key:
                return line
        raise KeyError(key)



def _hyper_latex(run: Run) -> str:
    opt = run.spec.spec
    parts = []
    for param in opt.params:
        value = run.spec.hyper[param.name]
        if param.flag or not opt.listed(param.name, value):
            continue
        cycled = run.momentum is not None and param.name in ("betas", "momentum")
        if param.parts:
            parts.append(r",\ ".join(f"{part.symbol} = {format_number(v)}" for part, v in zip(param.parts, value,
                                                                                             strict=True))
                         + (r"\ (\beta_1\ \text{cycled by the schedule})" if cycled else ""))
            continue
        name = param.name.replace("_", "\\_")
        if run.spec.schedule is not None and param.name == "lr":
            name, symbol = r"lr, before the schedule", r"\eta_0"
        else:
            symbol = param.symbol
        name += ", cycled by the schedule" if cycled else ""
        parts.append(rf"{symbol} = {format_number(value)}\ (\text{{{name}}})")
    return r",\quad ".join(parts)


def _title(run: Run, t: int) -> str:
    h = run.spec.hyper
    opt = run.spec.spec
    options = list(opt.title_options(h))
    if h.get("weight_decay", 0.0) != 0.0 and not opt.decoupled(h):
        options.append("L2 weight decay")
    if h.get("eps_inside_sqrt", False):
        options.append("ε inside √")
    if not h.get("bias_correction", True):
        options.append("no bias correction")
    name = opt.title + (f" ({', '.join(options)})" if options else "")
    schedule = "" if run.spec.schedule is None else f", {run.spec.schedule.name}"
    return f"{name}{schedule} — step {t} of {run.steps_done}"


def _option_notes(run: Run) -> list[str]:
    h = run.spec.hyper
    opt = run.spec.spec
    out = []
    if h.get("weight_decay", 0.0) != 0.0 and not opt.decoupled(h):
        out.append("The recorded gradient is the surface's; L2 weight decay adds λθ to it before anything else, "
                   "so the g_t used below is the decayed one.")
    out += opt.option_notes(h)
    if h.get("eps_inside_sqrt", False):
        out.append("ε is inside the square root here (eps_inside_sqrt=True, optiviz's extension), "
                   "not added after it as PyTorch does.")
    return out


def explain(run: Run, step: int, noisy: bool = False) -> Explanation:
    """The update equations of ``run``'s optimizer at step ``step`` (1..``run.steps_done``), with that
    step's recorded numbers substituted per coordinate. ``noisy``: the simulation added gradient noise
    (``sim.scenario.noise > 0``), so the gradient line reads ``g_t = grad f + sigma xi_t``. ``ValueError``
    for a run with no completed step or a step out of range."""
    n = run.steps_done
    if n == 0:
        when = f" (it stopped at step {run.diverged_at}: {run.diverged_reason})" if run.diverged_at else ""
        raise ValueError(f"run has no completed steps to explain{when}")
    whole = isinstance(step, numbers.Integral) and not isinstance(step, bool)
    if not whole or not 1 <= int(step) <= n:
        raise ValueError(f"step must be a whole number from 1 to {n}, got {step!r}")
    t = int(step)
    builder = Builder(run, t, bool(noisy))
    opt = run.spec.spec
    opt.explain(builder)
    if run.spec.schedule is not None:  # the step's η (and cycled β₁) come first: the schedule sets them
        scheduled = [Line(key, label, formula, (f"{symbol} = {numbers} = {format_number(value)}",) * 2, (value, value))
                     for (key, label, formula, numbers, value), symbol in zip(
                         explain_lines(run.spec.schedule, run.spec.lr, t, run.lr, run.momentum),
                         (rf"\eta_{{{t}}}", rf"\beta_{{1,{t}}}"), strict=False)]
        builder.lines[:0] = scheduled
    note = " ".join([opt.notes, *_option_notes(run)])
    return Explanation(_title(run, t), t, _hyper_latex(run), builder.lines, note, opt.step_note(builder))


def notes(optimizer: str) -> str:
    """A short plain-language note on what to look for in the picture for ``optimizer``."""
    return optimizers.get(optimizer).notes

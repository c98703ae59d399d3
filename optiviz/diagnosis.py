"""What is unusual about a simulation's runs, in words a learner understands: why a run stopped (it ran off the
plot, overflowed, divided 0 by 0, took the root of a negative variance), why it never moved (the gradient at
its start is exactly 0), and why its effective step size is astronomically large where the gradient vanishes.

``diagnose(sim)`` returns :class:`Note` objects; runs with the same note share one. No Streamlit here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._engine import Run, Simulation

__all__ = ["Note", "diagnose", "fmt_value"]

#: An effective step size this many times the learning rate means its denominator is (nearly) 0.
HUGE_STEP_FACTOR = 1e3
#: What each optimizer's second moment is called in the notes, by its torch state name.
_SECOND_MOMENT = {"exp_avg_sq": "v̂_t (its running mean of g²)", "square_avg": "square_avg (its running mean of g²)",
                  "sum": "sum (of all its g²)"}


@dataclass(frozen=True)
class Note:
    """Something to say about one or more runs: ``runs`` (their indices in ``sim.runs``), ``level``
    ("warning" when a run stopped for a reason a setting can avoid, else "info") and ``text`` (Markdown that
    reads after the runs' names: "stays at its start: ...")."""

    runs: tuple[int, ...]
    level: str
    text: str
    details: tuple[str, ...] = ()  # per run, said after its name ("(up to 10⁹)"); empty for none

    def markdown(self, labels: list[str]) -> str:
        """The note after the runs' names (bold, each with its detail; "Each of A, B and C ..." for several)."""
        details = self.details or ("",) * len(self.runs)
        names = [f"**{labels[i]}**" + (f" ({d})" if d else "") for i, d in zip(self.runs, details, strict=True)]
        if len(names) == 1:
            return f"{names[0]} {self.text}"
        return f"Each of {', '.join(names[:-1])} and {names[-1]} {self.text}"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt_value(x: float) -> str:
    """4 significant digits; powers of ten as 5·10⁶, 10⁻⁸ (text, not LaTeX: the notes are Markdown)."""
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        return f"{x:.4g}"
    mantissa, exponent = f"{x:.2e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    power = "10" + str(int(exponent)).translate(_SUPERSCRIPT)
    return power if mantissa == "1" else f"-{power}" if mantissa == "-1" else f"{mantissa}·{power}"


def _point(p: np.ndarray) -> str:
    return f"({fmt_value(float(p[0]))}, {fmt_value(float(p[1]))})"


def _second_moment(run: Run) -> str:
    return next((words for name, words in _SECOND_MOMENT.items() if name in run.state), "its second moment")


def _undefined(run: Run, sim: Simulation) -> str | None:
    """On a typed function: the operation that is undefined (or infinite) where the run stopped, and where."""
    surface = sim.surface
    if not surface.expression or run.failure not in ("gradient", "loss"):
        return None
    point = run.path[-1] if run.failure == "gradient" else run.failed_position
    if point is None:
        return None
    problem = surface.undefined_at(float(point[0]), float(point[1]))
    if not problem:
        return None
    what = "its gradient" if run.failure == "gradient" else "f"
    return (f"stopped at step {run.diverged_at}: {what} is not defined at {_point(point)}, where the function "
            f"has {problem}. Your function is undefined there; a smaller learning rate, another start or a "
            "domain that avoids the point keeps the runs where it is defined.")


def _stopped(run: Run, sim: Simulation) -> tuple[str, str]:
    k, where = run.diverged_at, _point(run.path[-1])
    cause = run.stop_cause
    eta = run.spec.lr
    if cause == "escaped":
        if not sim.surface.minima:
            return "info", (f"left the saddle and ran far off the plot (over 50 plot widths away) at step {k}, and "
                            "was stopped there. On a surface with no minimum that is the goal: the sooner a run gets "
                            "away from the saddle, the better.")
        return "warning", (f"ran far off the plot at step {k}: its steps grew until it was over 50 plot widths away, "
                           f"so it was stopped there. A smaller learning rate than η = {fmt_value(eta)} keeps it on "
                           "the surface.")
    undefined = _undefined(run, sim)
    if undefined:
        return "warning", undefined
    if cause == "gradient":
        return "warning", (f"stopped at step {k}: the gradient at {where} is too large to hold in a float64 (over "
                           "1.8·10³⁰⁸). The run had gone where f is astronomically steep; a smaller learning rate "
                           "keeps it where f is tame.")
    if cause == "loss":
        return "warning", (f"stopped at step {k}: f at the point it reached is too large to hold in a float64 (over "
                           "1.8·10³⁰⁸). A smaller learning rate keeps it where f is tame.")
    if cause == "zero_division":
        return "warning", (f"divided by zero at step {k} and was stopped there. Its step divides by √ of "
                           f"{_second_moment(run)} plus ε, and with ε = 0 that is exactly 0 wherever the gradient "
                           "has been exactly 0 in a coordinate so far (at a minimum, on an axis of symmetry): 0/0 is "
                           "not a number (NaN), in torch.optim too. Any ε > 0 avoids it.")
    if cause == "negative_variance":
        return "warning", (f"took the square root of a negative number at step {k} and was stopped there. Centered "
                           "RMSProp divides by √(square_avg − grad_avg²), an estimate of the gradient's variance, "
                           "which rounding made slightly negative; torch.optim gives NaN here too. ε is added after "
                           "the root, so it does not help; the plain (not centered) RMSProp avoids it.")
    return "warning", (f"overflowed at step {k}: its steps grew until its numbers were larger than the largest "
                       "float64 (1.8·10³⁰⁸), so it was stopped there. A smaller learning rate than "
                       f"η = {fmt_value(eta)} avoids it.")


def _at_rest(run: Run, sim: Simulation) -> str | None:
    """Why a run that did every step never moved, or None if it moved."""
    if run.steps_done == 0 or np.any(run.update != 0.0):
        return None
    if run.spec.lr == 0.0:
        return "does not move: its learning rate is 0, so every step is 0."
    if np.all(run.grad == 0.0):
        start = run.path[0]
        on_minimum = any(math.hypot(start[0] - mx, start[1] - my) == 0.0 for mx, my in sim.surface.minima)
        if on_minimum:
            where = "the start is the global minimum, where f is flat"
        elif not sim.surface.minima:
            where = "the start is the saddle point: flat, but not a minimum. Gradient noise (σ > 0) pushes a run off it"
        else:
            where = "f is flat at the start, which is not a minimum. Gradient noise (σ > 0) pushes a run off it"
        return f"stays at its start: the gradient there is exactly 0 ({where}), so every step is 0."
    return "stays at its start: its steps are too small to change the position in float64."


#: Said of every run whose effective step size is huge; each run's own peak goes after its name.
HUGE_STEP = ("has an effective step size η/(√v + ε) that is huge where its second moment v (v̂_t, square_avg or "
             "sum) is (nearly) 0, which is where the gradient has been (nearly) 0, as at a minimum or a saddle "
             "point. It multiplies a first moment (or a gradient) that is (nearly) 0 there too, so the actual steps "
             "stay small; ε caps it at η/ε.")


def _huge_step(run: Run) -> str | None:
    """The run's peak effective step size, when it is over HUGE_STEP_FACTOR times its learning rate."""
    eps = run.spec.hyper.get("eps")
    if not eps or run.steps_done == 0 or not any(k in run.state for k in _SECOND_MOMENT):
        return None
    with np.errstate(invalid="ignore"):
        peak = float(np.nanmax(run.effective_lr)) if np.any(np.isfinite(run.effective_lr)) else math.nan
    lr = run.spec.lr
    if not (math.isfinite(peak) and lr > 0 and peak > HUGE_STEP_FACTOR * lr):
        return None
    return f"up to {fmt_value(peak)}; η/ε = {fmt_value(lr / eps)}"


def diagnose(sim: Simulation) -> list[Note]:
    """The notes on ``sim``'s runs, in the order of the runs; runs with the same text share a note."""
    found: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for i, run in enumerate(sim.runs):
        items = []
        if run.diverged_at is not None:
            items.append((*_stopped(run, sim), ""))
        elif (text := _at_rest(run, sim)) is not None:
            items.append(("info", text, ""))
        if (detail := _huge_step(run)) is not None:
            items.append(("info", HUGE_STEP, detail))
        for level, text, detail in items:
            found.setdefault((level, text), []).append((i, detail))
    return [Note(tuple(i for i, _ in runs), level, text, tuple(d for _, d in runs) if any(d for _, d in runs) else ())
            for (level, text), runs in found.items()]

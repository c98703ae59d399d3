"""What Explain's per-optimizer builders share: a step's lines, number formatting, the common equations.

Each optimizer module's ``explain(b)`` adds its lines to a :class:`Builder` (the gradient, L2 decay, its state,
the new position), and its ``step_note(b)`` says what happened at step ``b.t`` with that step's numbers, using
the helpers below. ``optiviz.explain`` puts the pieces together. No Streamlit and no Plotly here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Pair = tuple[float, float]


@dataclass(frozen=True)
class Line:
    """One equation of a step.

    ``key``: what the line computes, named as torch names it where it can (``"grad"``, ``"exp_avg"``,
    ``"exp_avg_sq"``, ``"max_exp_avg_sq"``, ``"m_hat"``, ``"v_hat"``/``"v_hat_max"``, ``"sum"``,
    ``"square_avg"``, ``"grad_avg"``, ``"momentum_buffer"``, ``"effective_lr"``, ``"param"``, ...).
    ``formula``: the general equation (LaTeX). ``values``: the same equation with step t's numbers
    substituted, for x and for y (LaTeX). ``result``: the value of the left-hand side, per coordinate.
    """

    key: str
    label: str
    formula: str
    values: tuple[str, str]
    result: Pair

    def latex(self) -> str:
        """The formula and both substituted rows as one aligned LaTeX block (for one ``st.latex`` call)."""
        return (
            r"\begin{aligned}"
            rf"&{self.formula} \\ \text{{x: }}\quad &{self.values[0]} \\ \text{{y: }}\quad &{self.values[1]}"
            r"\end{aligned}"
        )


# --------------------------------------------------------------------------------------------------
# Number formatting


def format_number(value: float, digits: int = 5) -> str:
    """``value`` as compact LaTeX: ``digits`` significant digits, ``m \\times 10^{k}`` when very small
    or very large, ``\\infty`` / ``\\text{NaN}`` for non-finite values."""
    x = float(value)
    if math.isnan(x):
        return r"\text{NaN}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    if x == 0.0:
        return "0"
    text = f"{x:.{digits}g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    power = rf"10^{{{int(exponent)}}}"
    if mantissa in ("1", "-1"):
        return power if mantissa == "1" else "-" + power
    return rf"{mantissa} \times {power}"


def p(text: str) -> str:
    """Parenthesised when it would read wrongly as a factor, a subtrahend or a base."""
    return f"({text})" if text.startswith("-") or r"\times" in text or text.startswith("10^") else text


def position_digits(before: float, after: float) -> int:
    """Enough significant digits that a small move of a position is visible (5 to 12)."""
    delta = abs(after - before)
    scale = max(abs(before), abs(after))
    if not (math.isfinite(delta) and math.isfinite(scale)) or delta == 0.0 or scale == 0.0:
        return 5
    return max(5, min(12, math.ceil(math.log10(scale / delta)) + 2))



# --------------------------------------------------------------------------------------------------
# Building lines


class Builder:
    """Collects the lines of step ``t`` of ``run``, in order."""

    def __init__(self, run: Any, t: int, noisy: bool) -> None:
        self.run = run
        self.t = t
        self.noisy = noisy
        self.h = run.hyper_at(t)  # a cycled momentum or β₁ as step t used it
        #: The learning rate of step t (the run's lr, or what a schedule made it).
        self.lr = float(run.lr[t - 1])
        self.lines: list[Line] = []

    def add(self, key: str, label: str, formula: str, lhs: str, rhs: Callable[[int], str], result: Pair,
            digits: int = 5) -> Pair:
        values = tuple(f"{lhs} = {rhs(k)} = {format_number(result[k], digits)}" for k in range(2))
        self.lines.append(Line(key, label, formula, (values[0], values[1]), (float(result[0]), float(result[1]))))
        return result

    def row(self, array, index: int) -> Pair:
        return float(array[index, 0]), float(array[index, 1])


def eps_root(inside: bool, v: str, eps: str = r"\epsilon") -> str:
    return rf"\sqrt{{{v} + {eps}}}" if inside else rf"\sqrt{{{v}}} + {eps}"


def gradient(b: Builder) -> Pair:
    t = b.t
    g = b.row(b.run.grad, t - 1)
    x, y = b.row(b.run.path, t - 1)
    point = rf"({format_number(x)},\ {format_number(y)})"
    noise = r" + \sigma\xi_t" if b.noisy else ""
    b.add("grad", "gradient" + (" (with the gradient noise)" if b.noisy else ""),
          rf"g_t = \nabla f(\theta_{{t-1}}){noise}", f"g_{{{t}}}",
          lambda k: rf"\partial_{'xy'[k]} f{point}{noise}", g)
    return g


def l2(b: Builder, g: Pair, theta: Pair) -> Pair:
    wd = b.h["weight_decay"]
    if wd == 0.0:
        return g
    t = b.t
    lam = format_number(wd)
    return b.add(
        "grad_l2", "L2 weight decay (added to the gradient)", r"g_t \leftarrow g_t + \lambda\,\theta_{t-1}",
        f"g_{{{t}}}", lambda k: rf"{format_number(g[k])} + {lam} \cdot {p(format_number(theta[k]))}",
        (g[0] + wd * theta[0], g[1] + wd * theta[1]),
    )


def step_line(b: Builder, theta: Pair, theta_sym: str, factor_sym: str, factor: Pair, direction_sym: str,
               direction: Pair, new: Pair, min_digits: int = 5) -> None:
    """``theta_t = theta_sym - factor_sym * direction_sym`` with ``new`` the kernel's result."""
    t = b.t
    digits = max(min_digits, *(position_digits(theta[k], new[k]) for k in range(2)))
    formula = rf"\theta_t = {theta_sym} - {factor_sym}\,{direction_sym}"

    def rhs(k: int) -> str:
        return (f"{format_number(theta[k], digits)} - {p(format_number(factor[k]))} \\cdot "
                f"{p(format_number(direction[k]))}")

    b.add("param", "new position", formula, rf"\theta_{{{t}}}", rhs, new, digits)



# --------------------------------------------------------------------------------------------------
# A note on the step explained, with its numbers

SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def txt(x: float) -> str:
    """A number in a note (plain text, not LaTeX): 3 significant digits (whole numbers up to 100,000 in full),
    a real minus sign, powers of ten as 2.5·10⁻⁸."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    rounded = abs(float(f"{x:.3g}"))
    if 1e3 <= rounded < 1e5:
        text = f"{round(x):,}"
    elif x == 0 or 1e-3 <= rounded < 1e3:
        text = f"{x:.3g}"
    else:
        mantissa, exponent = f"{x:.2e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        power = "10" + str(int(exponent)).translate(SUP)
        text = power if mantissa == "1" else f"-{power}" if mantissa == "-1" else f"{mantissa}·{power}"
    return "−" + text[1:] if text.startswith("-") else text


def xy(pair: Pair) -> str:
    return f"{txt(pair[0])} in x and {txt(pair[1])} in y"


def result(b: Builder, key: str) -> Pair:
    return next(line.result for line in b.lines if line.key == key)


def moved(b: Builder) -> str:
    """How far step t moved the position: "this step moved x by … and y by …"."""
    before, after = b.row(b.run.path, b.t - 1), b.row(b.run.path, b.t)
    return f"this step moved x by {txt(after[0] - before[0])} and y by {txt(after[1] - before[1])}"


def sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."



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

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field

from . import _optimizers
from ._engine import Run

__all__ = ["Explanation", "Line", "explain", "format_number", "notes"]

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


def _p(text: str) -> str:
    """Parenthesised when it would read wrongly as a factor, a subtrahend or a base."""
    return f"({text})" if text.startswith("-") or r"\times" in text or text.startswith("10^") else text


def _position_digits(before: float, after: float) -> int:
    """Enough significant digits that a small move of a position is visible (5 to 12)."""
    delta = abs(after - before)
    scale = max(abs(before), abs(after))
    if not (math.isfinite(delta) and math.isfinite(scale)) or delta == 0.0 or scale == 0.0:
        return 5
    return max(5, min(12, math.ceil(math.log10(scale / delta)) + 2))


# --------------------------------------------------------------------------------------------------
# Arithmetic exactly as the kernel does it (optiviz/_kernel.py)


def _lerp(a: float, b: float, w: float) -> float:
    if abs(w) < 0.5:
        return a + w * (b - a)
    return b - (b - a) * (1.0 - w)


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else math.nan


# --------------------------------------------------------------------------------------------------
# Building lines


class _Builder:
    """Collects the lines of step ``t`` of ``run``, in order."""

    def __init__(self, run: Run, t: int, noisy: bool) -> None:
        self.run = run
        self.t = t
        self.noisy = noisy
        self.h = run.spec.hyper
        self.lines: list[Line] = []

    def add(self, key: str, label: str, formula: str, lhs: str, rhs: Callable[[int], str], result: Pair,
            digits: int = 5) -> Pair:
        values = tuple(f"{lhs} = {rhs(k)} = {format_number(result[k], digits)}" for k in range(2))
        self.lines.append(Line(key, label, formula, (values[0], values[1]), (float(result[0]), float(result[1]))))
        return result

    def row(self, array, index: int) -> Pair:
        return float(array[index, 0]), float(array[index, 1])


def _eps_root(inside: bool, v: str, eps: str = r"\epsilon") -> str:
    return rf"\sqrt{{{v} + {eps}}}" if inside else rf"\sqrt{{{v}}} + {eps}"


def _gradient(b: _Builder) -> Pair:
    t = b.t
    g = b.row(b.run.grad, t - 1)
    x, y = b.row(b.run.path, t - 1)
    point = rf"({format_number(x)},\ {format_number(y)})"
    noise = r" + \sigma\xi_t" if b.noisy else ""
    b.add("grad", "gradient" + (" (with the gradient noise)" if b.noisy else ""),
          rf"g_t = \nabla f(\theta_{{t-1}}){noise}", f"g_{{{t}}}",
          lambda k: rf"\partial_{'xy'[k]} f{point}{noise}", g)
    return g


def _l2(b: _Builder, g: Pair, theta: Pair) -> Pair:
    wd = b.h["weight_decay"]
    if wd == 0.0:
        return g
    t = b.t
    lam = format_number(wd)
    return b.add(
        "grad_l2", "L2 weight decay (added to the gradient)", r"g_t \leftarrow g_t + \lambda\,\theta_{t-1}",
        f"g_{{{t}}}", lambda k: rf"{format_number(g[k])} + {lam} \cdot {_p(format_number(theta[k]))}",
        (g[0] + wd * theta[0], g[1] + wd * theta[1]),
    )


def _step_line(b: _Builder, theta: Pair, theta_sym: str, factor_sym: str, factor: Pair, direction_sym: str,
               direction: Pair, new: Pair, min_digits: int = 5) -> None:
    """``theta_t = theta_sym - factor_sym * direction_sym`` with ``new`` the kernel's result."""
    t = b.t
    digits = max(min_digits, *(_position_digits(theta[k], new[k]) for k in range(2)))
    formula = rf"\theta_t = {theta_sym} - {factor_sym}\,{direction_sym}"

    def rhs(k: int) -> str:
        return (f"{format_number(theta[k], digits)} - {_p(format_number(factor[k]))} \\cdot "
                f"{_p(format_number(direction[k]))}")

    b.add("param", "new position", formula, rf"\theta_{{{t}}}", rhs, new, digits)


# --------------------------------------------------------------------------------------------------
# Per optimizer


def _sgd(b: _Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, mu, tau, nesterov = h["lr"], h["momentum"], h["dampening"], h["nesterov"]
    theta = b.row(run.path, t - 1)
    d = _l2(b, _gradient(b), theta)
    direction_sym = "g_t"
    if mu != 0.0:
        rest = r"\mu\,b_{t-1} + (1 - \tau)\,g_t" if tau != 0.0 else r"\mu\,b_{t-1} + g_t"
        formula = rf"b_t = \begin{{cases}} g_1 & t = 1 \\ {rest} & t > 1 \end{{cases}}"
        if t == 1:
            buf = d
            b.add("momentum_buffer", "momentum buffer (first step: the gradient itself)", formula, "b_{1}",
                  lambda k: "g_{1}", buf)
        else:
            prev = b.row(run.state["momentum_buffer"], t - 1)
            buf = (prev[0] * mu + (1.0 - tau) * d[0], prev[1] * mu + (1.0 - tau) * d[1])
            m = format_number(mu)
            damp = format_number(1.0 - tau)

            def rhs(k: int) -> str:
                grad_term = (f"{damp} \\cdot {_p(format_number(d[k]))}" if tau != 0.0
                             else _p(format_number(d[k])))
                return f"{m} \\cdot {_p(format_number(prev[k]))} + {grad_term}"

            b.add("momentum_buffer", "momentum buffer", formula, f"b_{{{t}}}", rhs, buf)
        if nesterov:
            m, grad = format_number(mu), d
            d = b.add(
                "direction", "Nesterov look-ahead direction", r"d_t = g_t + \mu\,b_t", f"d_{{{t}}}",
                lambda k: f"{format_number(grad[k])} + {m} \\cdot {_p(format_number(buf[k]))}",
                (grad[0] + mu * buf[0], grad[1] + mu * buf[1]),
            )
            direction_sym = "d_t"
        else:
            d = buf
            direction_sym = "b_t"
    new = (theta[0] + (-lr) * d[0], theta[1] + (-lr) * d[1])
    _step_line(b, theta, r"\theta_{t-1}", r"\eta", (lr, lr), direction_sym, d, new)


def _adagrad(b: _Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, decay, eps, inside = h["lr"], h["lr_decay"], h["eps"], h["eps_inside_sqrt"]
    theta = b.row(run.path, t - 1)
    d = _l2(b, _gradient(b), theta)
    clr = lr / (1.0 + (float(t) - 1.0) * decay)
    lr_sym = r"\eta"
    if decay != 0.0:
        b.add("clr", "decayed learning rate", r"\eta'_t = \frac{\eta}{1 + (t - 1)\,\gamma}", f"\\eta'_{{{t}}}",
              lambda k: rf"\frac{{{format_number(lr)}}}{{1 + {t - 1} \cdot {format_number(decay)}}}", (clr, clr))
        lr_sym = r"\eta'_t"
    prev = b.row(run.state["sum"], t - 1)
    total = (prev[0] + d[0] * d[0], prev[1] + d[1] * d[1])
    formula = r"G_t = G_{t-1} + g_t^2" + (r",\quad G_0 = G_{\text{init}}" if t == 1 else "")
    b.add("sum", "sum of squared gradients", formula, f"G_{{{t}}}",
          lambda k: f"{format_number(prev[k])} + {_p(format_number(d[k]))}^2", total)
    eff = b.row(run.effective_lr, t - 1)
    e = format_number(eps)
    b.add("effective_lr", "effective step size", rf"\eta_t = \frac{{{lr_sym}}}{{{_eps_root(inside, 'G_t')}}}",
          f"\\eta_{{{t}}}",
          lambda k: rf"\frac{{{format_number(clr)}}}{{{_eps_root(inside, format_number(total[k]), e)}}}", eff)
    std = [(_sqrt(total[k] + eps) if inside else _sqrt(total[k]) + eps) for k in range(2)]
    new = tuple(theta[k] + ((-clr) * d[k]) / std[k] for k in range(2))
    _step_line(b, theta, r"\theta_{t-1}", r"\eta_t", eff, "g_t", d, new)


def _rmsprop(b: _Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, alpha, eps, mu = h["lr"], h["alpha"], h["eps"], h["momentum"]
    centered, inside = h["centered"], h["eps_inside_sqrt"]
    theta = b.row(run.path, t - 1)
    d = _l2(b, _gradient(b), theta)
    a, one_a, e = format_number(alpha), format_number(1.0 - alpha), format_number(eps)
    prev = b.row(run.state["square_avg"], t - 1)
    sq = tuple(prev[k] * alpha + ((1.0 - alpha) * d[k]) * d[k] for k in range(2))
    b.add("square_avg", "running average of squared gradients (no bias correction)",
          r"v_t = \alpha\,v_{t-1} + (1 - \alpha)\,g_t^2", f"v_{{{t}}}",
          lambda k: f"{a} \\cdot {_p(format_number(prev[k]))} + {one_a} \\cdot {_p(format_number(d[k]))}^2", sq)
    var, var_sym = sq, "v_t"
    if centered:
        gprev = b.row(run.state["grad_avg"], t - 1)
        gavg = tuple(_lerp(gprev[k], d[k], 1.0 - alpha) for k in range(2))
        b.add("grad_avg", "running average of gradients", r"\bar g_t = \alpha\,\bar g_{t-1} + (1 - \alpha)\,g_t",
              f"\\bar g_{{{t}}}",
              lambda k: f"{a} \\cdot {_p(format_number(gprev[k]))} + {one_a} \\cdot {_p(format_number(d[k]))}",
              gavg)
        var = tuple(sq[k] + (-gavg[k]) * gavg[k] for k in range(2))
        b.add("variance", "centered second moment (a variance estimate)", r"\tilde v_t = v_t - \bar g_t^2",
              f"\\tilde v_{{{t}}}",
              lambda k: f"{format_number(sq[k])} - {_p(format_number(gavg[k]))}^2", var)
        var_sym = r"\tilde v_t"
    eff = b.row(run.effective_lr, t - 1)
    b.add("effective_lr", "effective step size", rf"\eta_t = \frac{{\eta}}{{{_eps_root(inside, var_sym)}}}",
          f"\\eta_{{{t}}}",
          lambda k: rf"\frac{{{format_number(lr)}}}{{{_eps_root(inside, format_number(var[k]), e)}}}", eff)
    avg = [(_sqrt(var[k] + eps) if inside else _sqrt(var[k]) + eps) for k in range(2)]
    if mu > 0.0:
        bprev = b.row(run.state["momentum_buffer"], t - 1)
        buf = tuple(bprev[k] * mu + d[k] / avg[k] for k in range(2))
        m = format_number(mu)
        b.add("momentum_buffer", "momentum buffer (of normalised gradients)",
              rf"b_t = \mu\,b_{{t-1}} + \frac{{g_t}}{{{_eps_root(inside, var_sym)}}}", f"b_{{{t}}}",
              lambda k: (f"{m} \\cdot {_p(format_number(bprev[k]))} + "
                         rf"\frac{{{format_number(d[k])}}}{{{_eps_root(inside, format_number(var[k]), e)}}}"),
              buf)
        new = tuple(theta[k] + (-lr) * buf[k] for k in range(2))
        _step_line(b, theta, r"\theta_{t-1}", r"\eta", (lr, lr), "b_t", buf, new)
    else:
        new = tuple(theta[k] + ((-lr) * d[k]) / avg[k] for k in range(2))
        _step_line(b, theta, r"\theta_{t-1}", r"\eta_t", eff, "g_t", d, new)


def _adam(b: _Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, (beta1, beta2), eps, wd = h["lr"], h["betas"], h["eps"], h["weight_decay"]
    amsgrad, inside = h["amsgrad"], h["eps_inside_sqrt"]
    decoupled = run.optimizer == "adamw"
    theta = b.row(run.path, t - 1)
    g = _gradient(b)
    theta_sym, digits = r"\theta_{t-1}", 5
    if decoupled:
        if wd != 0.0:
            factor = format_number(1.0 - lr * wd, 12)
            digits = max(_position_digits(theta[k], theta[k] * (1.0 - lr * wd)) for k in range(2))
            before = theta
            theta = b.add(
                "decayed_param", "decoupled weight decay (applied to the parameters first)",
                r"\theta'_{t-1} = \theta_{t-1}\,(1 - \eta\lambda)", f"\\theta'_{{{t - 1}}}",
                lambda k: f"{format_number(before[k], digits)} \\cdot {factor}",
                (before[0] * (1.0 - lr * wd), before[1] * (1.0 - lr * wd)), digits,
            )
            theta_sym = r"\theta'_{t-1}"
        d = g
    else:
        d = _l2(b, g, theta)
    b1, one_b1 = format_number(beta1), format_number(1.0 - beta1)
    b2, one_b2 = format_number(beta2), format_number(1.0 - beta2)
    e = format_number(eps)
    m_prev = b.row(run.state["exp_avg"], t - 1)
    m = tuple(_lerp(m_prev[k], d[k], 1.0 - beta1) for k in range(2))
    b.add("exp_avg", "first moment (running mean of gradients)",
          r"m_t = \beta_1\,m_{t-1} + (1 - \beta_1)\,g_t", f"m_{{{t}}}",
          lambda k: f"{b1} \\cdot {_p(format_number(m_prev[k]))} + {one_b1} \\cdot {_p(format_number(d[k]))}", m)
    v_prev = b.row(run.state["exp_avg_sq"], t - 1)
    v = tuple(v_prev[k] * beta2 + ((1.0 - beta2) * d[k]) * d[k] for k in range(2))
    b.add("exp_avg_sq", "second moment (running mean of squared gradients)",
          r"v_t = \beta_2\,v_{t-1} + (1 - \beta_2)\,g_t^2", f"v_{{{t}}}",
          lambda k: f"{b2} \\cdot {_p(format_number(v_prev[k]))} + {one_b2} \\cdot {_p(format_number(d[k]))}^2",
          v)
    v_used, v_sym = v, "v_t"
    if amsgrad:
        x_prev = b.row(run.state["max_exp_avg_sq"], t - 1)
        v_used = tuple(x_prev[k] if x_prev[k] >= v[k] else v[k] for k in range(2))
        b.add("max_exp_avg_sq", "AMSGrad: largest second moment so far",
              r"v^{\max}_t = \max(v^{\max}_{t-1},\ v_t)", f"v^{{\\max}}_{{{t}}}",
              lambda k: rf"\max({format_number(x_prev[k])},\ {format_number(v[k])})", v_used)
        v_sym = r"v^{\max}_t"
    v_key = "v_hat_max" if amsgrad else "v_hat"
    if h["bias_correction"]:
        bc1, bc2 = 1.0 - beta1 ** float(t), 1.0 - beta2 ** float(t)
        m_hat = b.row(run.bias_corrected["m_hat"], t - 1)
        b.add("m_hat", "bias-corrected first moment", r"\hat m_t = \frac{m_t}{1 - \beta_1^t}", f"\\hat m_{{{t}}}",
              lambda k: rf"\frac{{{format_number(m[k])}}}{{1 - {b1}^{{{t}}}}}", m_hat)
        v_hat = b.row(run.bias_corrected[v_key], t - 1)
        b.add(v_key, "bias-corrected second moment", rf"\hat v_t = \frac{{{v_sym}}}{{1 - \beta_2^t}}",
              f"\\hat v_{{{t}}}", lambda k: rf"\frac{{{format_number(v_used[k])}}}{{1 - {b2}^{{{t}}}}}", v_hat)
        m_sym, v_hat_sym = r"\hat m_t", r"\hat v_t"
    else:  # bias_correction=False: the step uses m_t and v_t as they are
        bc1 = bc2 = 1.0
        m_hat, v_hat = m, v_used
        m_sym, v_hat_sym = "m_t", v_sym
    eff = b.row(run.effective_lr, t - 1)
    b.add("effective_lr", "effective step size", rf"\eta_t = \frac{{\eta}}{{{_eps_root(inside, v_hat_sym)}}}",
          f"\\eta_{{{t}}}",
          lambda k: rf"\frac{{{format_number(lr)}}}{{{_eps_root(inside, format_number(v_hat[k]), e)}}}", eff)
    step_size = lr / bc1
    bc2_sqrt = bc2**0.5
    denom = [(_sqrt(v_used[k] / bc2 + eps) if inside else _sqrt(v_used[k]) / bc2_sqrt + eps) for k in range(2)]
    new = tuple(theta[k] + ((-step_size) * m[k]) / denom[k] for k in range(2))
    _step_line(b, theta, theta_sym, r"\eta_t", eff, m_sym, m_hat, new, digits)


_BUILDERS: dict[int, Callable[[_Builder], None]] = {
    _optimizers.SGD: _sgd,
    _optimizers.ADAGRAD: _adagrad,
    _optimizers.RMSPROP: _rmsprop,
    _optimizers.ADAM: _adam,
}

# Symbol and hyperparameter name, per hyperparameter key (flags are described in the title).
_SYMBOLS = {
    "lr": (r"\eta", "lr"),
    "betas": (None, "betas"),
    "eps": (r"\epsilon", "eps"),
    "weight_decay": (r"\lambda", "weight\\_decay"),
    "momentum": (r"\mu", "momentum"),
    "dampening": (r"\tau", "dampening"),
    "alpha": (r"\alpha", "alpha"),
    "lr_decay": (r"\gamma", "lr\\_decay"),
    "initial_accumulator_value": (r"G_{\text{init}}", "initial\\_accumulator\\_value"),
}


def _hyper_latex(run: Run) -> str:
    h = run.spec.hyper
    parts = []
    for key, value in h.items():
        if isinstance(value, bool):
            continue
        if key == "betas":
            parts.append(rf"\beta_1 = {format_number(value[0])},\ \beta_2 = {format_number(value[1])}")
            continue
        if key in ("momentum", "dampening", "weight_decay", "lr_decay") and value == 0:
            if not (key == "weight_decay" and run.optimizer == "adamw"):
                continue
        symbol, name = _SYMBOLS[key]
        parts.append(rf"{symbol} = {format_number(value)}\ (\text{{{name}}})")
    return r",\quad ".join(parts)


def _title(run: Run, t: int) -> str:
    h = run.spec.hyper
    opt = run.optimizer
    options = []
    if opt == "sgd" and h["momentum"] != 0:
        options.append("Nesterov momentum" if h["nesterov"] else "momentum")
    if opt == "rmsprop":
        if h["centered"]:
            options.append("centered")
        if h["momentum"] > 0:
            options.append("momentum")
    if opt in ("adam", "adamw") and h["amsgrad"]:
        options.append("AMSGrad")
    if h.get("weight_decay", 0.0) != 0.0 and opt != "adamw":
        options.append("L2 weight decay")
    if h.get("eps_inside_sqrt", False):
        options.append("ε inside √")
    if not h.get("bias_correction", True):
        options.append("no bias correction")
    name = run.spec.spec.title + (f" ({', '.join(options)})" if options else "")
    return f"{name} — step {t} of {run.steps_done}"


def _option_notes(run: Run) -> list[str]:
    h = run.spec.hyper
    opt = run.optimizer
    out = []
    if h.get("weight_decay", 0.0) != 0.0 and opt != "adamw":
        out.append("The recorded gradient is the surface's; L2 weight decay adds λθ to it before anything else, "
                   "so the g_t used below is the decayed one.")
    if opt in ("adam", "adamw") and h["amsgrad"]:
        out.append("AMSGrad (as in PyTorch) keeps the largest raw v_t seen so far and bias-corrects that; "
                   "optax takes the maximum of the bias-corrected v̂_t instead.")
    if opt == "rmsprop" and h["centered"]:
        out.append("Centered RMSProp divides by the square root of v_t − ḡ_t²; rounding can make that slightly "
                   "negative, which gives NaN (as in PyTorch) and stops the run.")
    if h.get("eps_inside_sqrt", False):
        out.append("ε is inside the square root here (eps_inside_sqrt=True, optiviz's extension), "
                   "not added after it as PyTorch does.")
    if not h.get("bias_correction", True):
        out.append("This run has no bias correction (bias_correction=False, optiviz's extension, as in apex's "
                   "FusedAdam), so what is said above of step 1 does not hold: the step uses m_t and v_t as they "
                   "are. Both start at 0: under a steady gradient m_t is "
                   "(1 − β₁^t)·g and √v_t is √(1 − β₂^t)·|g|, so each coordinate moves by about "
                   "lr·(1 − β₁^t)/√(1 − β₂^t): 3.2·lr at step 1 with torch's betas (0.9, 0.999), not lr, and "
                   "still more than lr after a few hundred steps.")
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
    builder = _Builder(run, t, bool(noisy))
    _BUILDERS[run.spec.spec.oid](builder)
    note = " ".join([notes(run.optimizer), *_option_notes(run)])
    return Explanation(_title(run, t), t, _hyper_latex(run), builder.lines, note, _step_note(builder))


# --------------------------------------------------------------------------------------------------
# Plain-language notes

_EPS_CONVENTION = (
    "PyTorch adds ε after the square root, √v + ε; Keras and optax put it inside, √(v + ε), for "
    "RMSProp and AdaGrad (optiviz's eps_inside_sqrt=True), and then ε acts like a gradient scale of √ε, "
    "damping far more."
)

_NOTES = {
    "adam": (
        "Adam steps each coordinate by lr × m̂/√v̂, and the bias corrections make that ratio ±1 on the first "
        "step: the first steps are lr-sized and diagonal, whatever the gradient's size. While the gradient "
        "keeps its sign |m̂/√v̂| ≈ 1; where it flips sign m̂ averages out but v̂ does not, so the steps "
        "shrink. ε only matters when √v̂ is as small as ε (gradients near 1e-8): it then damps the step, so "
        "near-zero gradients give near-zero steps instead of lr-sized ones. PyTorch and the Adam paper add ε "
        "after the root (optax too; its eps_root goes inside); many tutorials write √(v̂ + ε), which with "
        "ε = 1e-8 damps every gradient below about 1e-4."
    ),
    "adamw": (
        "AdamW shrinks the parameters first, θ ← θ(1 − lr·λ), then takes a plain Adam step on the raw gradient. "
        "Adam's weight_decay instead adds λθ to the gradient, which is then divided by √v̂ like the rest: "
        "coordinates with large gradients are barely regularised. AdamW's pull toward the origin is the same "
        "relative shrink for every coordinate, so with λ > 0 a run does not come to rest exactly on a minimum "
        "away from the origin. Otherwise it behaves like Adam: lr-sized first steps, and |m̂/√v̂| ≈ 1 while the "
        "gradient keeps its sign."
    ),
    "rmsprop": (
        "Each coordinate's gradient is divided by the root of a running average of its squares, so steep and "
        "flat directions take steps of similar size, which helps in a ravine. There is no bias correction: v "
        "starts at 0, so v₁ = (1 − α)g² and the first step is lr·g/(√(1 − α)|g|), about 10·lr at α = 0.99; the "
        "steps shrink over the next ~1/(1 − α) steps as v fills up. Centered divides by a variance estimate "
        "instead (larger steps while gradients are consistent); momentum accumulates the normalised gradients. "
        + _EPS_CONVENTION
    ),
    "adagrad": (
        "AdaGrad divides by the root of the sum of all squared gradients so far; that sum only grows, so the "
        "effective step lr/(√G + ε) only shrinks, roughly as 1/√t under a steady gradient: it slows down even "
        "on a straight slope and can stall before the minimum. With the accumulator starting at 0 the first "
        "step is ≈ lr per coordinate (g/|g|); initial_accumulator_value (0.1 in Keras and optax) tempers it, "
        "and lr_decay shrinks the step further. " + _EPS_CONVENTION
    ),
    "sgd": (
        "Plain SGD steps lr × gradient: steep coordinates take big steps and flat ones tiny steps, so in a "
        "ravine it zig-zags across the steep walls and crawls along the floor, and it diverges once lr exceeds "
        "2 / (largest curvature). Momentum sums past gradients: across the ravine they alternate in sign and "
        "cancel, along it they add up to as much as 1/(1 − μ) times (10× at μ = 0.9), so the path is smoother "
        "and faster but overshoots. PyTorch's first momentum step is b₁ = g₁; Nesterov steps along g + μb, a "
        "look-ahead that reduces the overshoot. Dampening τ scales the new gradient by (1 − τ)."
    ),
}


def notes(optimizer: str) -> str:
    """A short plain-language note on what to look for in the picture for ``optimizer``."""
    return _NOTES[_optimizers.get(optimizer).name]


# --------------------------------------------------------------------------------------------------
# A note on the step explained, with its numbers

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _txt(x: float) -> str:
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
        power = "10" + str(int(exponent)).translate(_SUP)
        text = power if mantissa == "1" else f"-{power}" if mantissa == "-1" else f"{mantissa}·{power}"
    return "−" + text[1:] if text.startswith("-") else text


def _xy(pair: Pair) -> str:
    return f"{_txt(pair[0])} in x and {_txt(pair[1])} in y"


def _result(b: _Builder, key: str) -> Pair:
    return next(line.result for line in b.lines if line.key == key)


def _moved(b: _Builder) -> str:
    """How far step t moved the position: "this step moved x by … and y by …"."""
    before, after = b.row(b.run.path, b.t - 1), b.row(b.run.path, b.t)
    return f"this step moved x by {_txt(after[0] - before[0])} and y by {_txt(after[1] - before[1])}"


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."


def _step_note(b: _Builder) -> str:
    """What happened at step ``b.t`` of the run, said with that step's numbers: each number quoted is the step's
    own (from the lines just built, or from the recorded arrays). Step 1 gets what is special about a first step
    (the bias corrections, a state that starts at 0); a later step, what its state does by then."""
    return {"adam": _adam_step, "adamw": _adam_step, "rmsprop": _rmsprop_step, "adagrad": _adagrad_step,
            "sgd": _sgd_step}[b.run.optimizer](b)


def _adam_step(b: _Builder) -> str:
    t, h = b.t, b.h
    (beta1, beta2), eps, inside, lr = h["betas"], h["eps"], h["eps_inside_sqrt"], h["lr"]
    corrected = h.get("bias_correction", True)
    m_hat = _result(b, "m_hat" if corrected else "exp_avg")
    v_key = "max_exp_avg_sq" if h["amsgrad"] else "exp_avg_sq"
    v_hat = _result(b, ("v_hat_max" if h["amsgrad"] else "v_hat") if corrected else v_key)
    denom = [math.sqrt(v + eps) if inside else math.sqrt(v) + eps for v in v_hat]
    ratio = tuple(m / d if d else math.nan for m, d in zip(m_hat, denom, strict=True))
    if not corrected:
        ts, sub = str(t).translate(_SUP), str(t).translate(_SUB)
        root = "√(v + ε)" if inside else "√v + ε"
        weights = f"1 − β₁{ts} = {_txt(1.0 - beta1 ** float(t))} and 1 − β₂{ts} = {_txt(1.0 - beta2 ** float(t))}"
        return (f"At step {t} there is no bias correction: the update is lr × m{sub}/({root}) with m and v as they "
                f"are, whose weights sum to {weights}, so the ratio is {_xy(ratio)} (the corrections would multiply "
                f"it by √(1 − β₂{ts})/(1 − β₁{ts})); {_moved(b)}.")
    root = "√(v̂ + ε)" if inside else "√v̂ + ε"
    if t == 1:
        small = "g² is" if inside else "|g| is"
        return (f"At step 1 the bias corrections make m̂₁ = g₁ and v̂₁ = g₁² exactly, so m̂/({root}) is ±1 in each "
                f"coordinate unless {small} as small as ε: here it is {_xy(ratio)}, and the update is lr = "
                f"{_txt(lr)} times that, whatever the gradient's size.")
    ts, sub = str(t).translate(_SUP), str(t).translate(_SUB)
    bc1, bc2 = 1.0 - beta1 ** float(t), 1.0 - beta2 ** float(t)
    return (f"At step {t} the bias corrections divide m{sub} by 1 − β₁{ts} = {_txt(bc1)} and v{sub} by 1 − β₂{ts} = "
            f"{_txt(bc2)} (both tend to 1 as the steps go on, and the corrections fade). The update is lr × "
            f"m̂/({root}), with that ratio {_xy(ratio)}: ±1 is a full lr-sized step, and it is smaller where the "
            f"last {_txt(1 / (1 - beta1))} or so gradients cancel in sign, or are smaller than the older ones v̂ "
            f"still remembers (about {_txt(1 / (1 - beta2))} steps).")


def _rmsprop_step(b: _Builder) -> str:
    t, h = b.t, b.h
    alpha, inside = h["alpha"], h["eps_inside_sqrt"]
    v, eff = _result(b, "square_avg"), _result(b, "effective_lr")
    if t == 1:
        small = "v₁ is" if inside else "√v₁ is"
        ratio = "" if h["centered"] or alpha >= 1 else (
            f", so g₁/√v₁ is ±1/√(1 − α) = ±{_txt(1 / math.sqrt(1 - alpha))} unless {small} as small as ε, and the "
            "step that many times lr")
        return (f"At step 1 v starts from 0 and RMSProp has no bias correction: v₁ = (1 − α)·g₁² = {_xy(v)}{ratio}; "
                f"{_moved(b)}.")
    ts, sub = str(t).translate(_SUP), str(t).translate(_SUB)
    weight = 1.0 - alpha ** float(t)
    if not 0 < weight <= 1:  # alpha >= 1: v never takes in a gradient
        return f"At step {t} v{sub} = {_xy(v)}, and the effective step is {_xy(eff)}. " + _sentence(_moved(b))
    return (f"At step {t} v{sub} = {_xy(v)}. Its weights sum to 1 − α{ts} = {_txt(weight)} (no bias correction), so "
            f"it is that fraction of a full running average of g², and the effective step is about "
            f"1/√(1 − α{ts}) = {_txt(1 / math.sqrt(weight))} times what a full average would give: {_xy(eff)}. "
            + _sentence(_moved(b)))


def _adagrad_step(b: _Builder) -> str:
    t = b.t
    total, eff = _result(b, "sum"), _result(b, "effective_lr")
    if t == 1:
        start = b.h["initial_accumulator_value"]
        plain = (", so g₁/√G₁ is ±1 unless the gradient is as small as ε, and each coordinate moves by about lr"
                 if start == 0 else "")
        return (f"At step 1 G₁ = G_init + g₁² = {_xy(total)} (G_init = {_txt(start)}){plain}: the effective step "
                f"is {_xy(eff)}, and {_moved(b)}.")
    sub = str(t).translate(_SUB)
    first = b.row(b.run.effective_lr, 0)
    return (f"At step {t} G{sub} holds the sum of {t} squared gradients, {_xy(total)}, so the effective step "
            f"lr/(√G + ε) is {_xy(eff)}; it was {_xy(first)} at the first step, and it never grows. "
            + _sentence(_moved(b)))


def _sgd_step(b: _Builder) -> str:
    t, h = b.t, b.h
    g = _result(b, "grad_l2") if h["weight_decay"] else _result(b, "grad")
    mu, tau = h["momentum"], h["dampening"]
    sub = str(t).translate(_SUB)
    if mu == 0.0:
        return (f"At step {t} SGD steps against the gradient, lr × g{sub} with g{sub} = ({_txt(g[0])}, {_txt(g[1])}): "
                f"{_moved(b)}.")
    if t == 1:
        damp = ", with no dampening" if tau else ""
        return (f"At step 1 PyTorch starts the momentum buffer with the gradient itself, b₁ = g₁ = ({_txt(g[0])}, "
                f"{_txt(g[1])}){damp}, so the first step is plain SGD's: {_moved(b)}.")
    buf = _result(b, "momentum_buffer")
    times = [f"the gradient is 0 in {c}" if gk == 0 else f"{_txt(bk / gk)} times the gradient in {c}"
             for c, bk, gk in zip("xy", buf, g, strict=True)]
    steady = (f"a gradient that stayed the same would build it up to (1 − τ)/(1 − μ) = {_txt((1 - tau) / (1 - mu))} "
              "times, less (or the other sign) where the gradient has been changing" if mu < 1 else
              "with μ ≥ 1 it keeps every past gradient at full weight or more, so it grows without end")
    return (f"At step {t} the momentum buffer b{sub} = ({_txt(buf[0])}, {_txt(buf[1])}) is {times[0]} and {times[1]}: "
            f"{steady}. " + _sentence(_moved(b)))

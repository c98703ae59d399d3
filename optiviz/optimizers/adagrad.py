"""AdaGrad (torch.optim.Adagrad).

Per coordinate, at step t: L2; ``clr = lr / (1 + (t - 1) lr_decay)``; ``sum += g^2``;
``p -= clr g / (sqrt(sum) + eps)`` (``sqrt(sum + eps)`` with optiviz's ``eps_inside_sqrt=True``), in the order of
torch's ``_single_tensor_adagrad``.
"""

from __future__ import annotations

import math

import numpy as np

from surfaces._numba import jit

from . import _common as C
from . import _explain as E
from ._base import VECTOR, Optimizer, Param, at_least_zero, lr_column, sqrt, steps_column

PARAMS = (
    C.lr(1e-2),
    Param("lr_decay", 0.0, r"\gamma", "lr_decay", "lr_decay", "lr_t = lr / (1 + (t − 1) · lr_decay).", (0.0, 10.0),
          None, 1e-3, advanced=True),
    C.weight_decay(),
    Param("initial_accumulator_value", 0.0, r"G_{\text{init}}", "acc₀", "initial_accumulator_value",
          "Starting value of the sum of g².", (0.0, 100.0), None, 0.1, advanced=True),
    C.eps(1e-10),
    C.eps_inside_sqrt(),
)
STATE = (("sum", VECTOR),)


def check(h: dict) -> None:
    at_least_zero("Invalid learning rate: {}", h["lr"])
    at_least_zero("Invalid lr_decay value: {}", h["lr_decay"])
    at_least_zero("Invalid weight_decay value: {}", h["weight_decay"])
    at_least_zero("Invalid initial_accumulator_value value: {}", h["initial_accumulator_value"])
    at_least_zero("Invalid epsilon value: {}", h["eps"])


def pack(h: dict) -> tuple[float, ...]:
    return (h["lr_decay"], h["weight_decay"], h["initial_accumulator_value"], h["eps"], float(h["eps_inside_sqrt"]))


@jit
def init(hp, p, st):
    st[0] = hp[2]
    st[1] = hp[2]


@jit
def step(t, lr, hp, g, p, st):
    lr_decay, wd, eps, eps_inside = hp[0], hp[1], hp[3], hp[4] != 0.0
    clr = lr / (1.0 + (float(t) - 1.0) * lr_decay)
    for k in range(2):
        d = g[k]
        if wd != 0.0:
            d = d + wd * p[k]
        st[k] = st[k] + d * d
        std = math.sqrt(st[k] + eps) if eps_inside else math.sqrt(st[k]) + eps
        p[k] = p[k] + ((-clr) * d) / std


def divisor_moment(run) -> np.ndarray:
    return run.state["sum"][1:]


def effective_lr(run) -> np.ndarray:
    """``lr / (1 + (t-1) lr_decay) / (sqrt(sum) + eps)``."""
    h = run.spec.hyper
    clr = lr_column(run) / (1.0 + (steps_column(run) - 1.0) * h["lr_decay"])
    v = run.state["sum"][1:]
    with np.errstate(all="ignore"):
        return clr / (np.sqrt(v + h["eps"]) if h["eps_inside_sqrt"] else np.sqrt(v) + h["eps"])


def panels(run) -> tuple[list, list]:
    return [], [("sum", run.state["sum"][1:], "solid")]


def explain(b: E.Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, decay, eps, inside = b.lr, h["lr_decay"], h["eps"], h["eps_inside_sqrt"]
    theta = b.row(run.path, t - 1)
    d = E.l2(b, E.gradient(b), theta)
    clr = lr / (1.0 + (float(t) - 1.0) * decay)
    lr_sym = r"\eta"
    if decay != 0.0:
        b.add("clr", "decayed learning rate", r"\eta'_t = \frac{\eta}{1 + (t - 1)\,\gamma}", f"\\eta'_{{{t}}}",
              lambda k: rf"\frac{{{E.format_number(lr)}}}{{1 + {t - 1} \cdot {E.format_number(decay)}}}", (clr, clr))
        lr_sym = r"\eta'_t"
    prev = b.row(run.state["sum"], t - 1)
    total = (prev[0] + d[0] * d[0], prev[1] + d[1] * d[1])
    formula = r"G_t = G_{t-1} + g_t^2" + (r",\quad G_0 = G_{\text{init}}" if t == 1 else "")
    b.add("sum", "sum of squared gradients", formula, f"G_{{{t}}}",
          lambda k: f"{E.format_number(prev[k])} + {E.p(E.format_number(d[k]))}^2", total)
    eff = b.row(run.effective_lr, t - 1)
    e = E.format_number(eps)
    b.add("effective_lr", "effective step size", rf"\eta_t = \frac{{{lr_sym}}}{{{E.eps_root(inside, 'G_t')}}}",
          f"\\eta_{{{t}}}",
          lambda k: rf"\frac{{{E.format_number(clr)}}}{{{E.eps_root(inside, E.format_number(total[k]), e)}}}", eff)
    std = [(sqrt(total[k] + eps) if inside else sqrt(total[k]) + eps) for k in range(2)]
    new = tuple(theta[k] + ((-clr) * d[k]) / std[k] for k in range(2))
    E.step_line(b, theta, r"\theta_{t-1}", r"\eta_t", eff, "g_t", d, new)



def step_note(b: E.Builder) -> str:
    t = b.t
    total, eff = E.result(b, "sum"), E.result(b, "effective_lr")
    if t == 1:
        start = b.h["initial_accumulator_value"]
        plain = (", so g₁/√G₁ is ±1 unless the gradient is as small as ε, and each coordinate moves by about lr"
                 if start == 0 else "")
        return (f"At step 1 G₁ = G_init + g₁² = {E.xy(total)} (G_init = {E.txt(start)}){plain}: the effective step "
                f"is {E.xy(eff)}, and {E.moved(b)}.")
    sub = str(t).translate(E.SUB)
    first = b.row(b.run.effective_lr, 0)
    return (f"At step {t} G{sub} holds the sum of {t} squared gradients, {E.xy(total)}, so the effective step "
            f"lr/(√G + ε) is {E.xy(eff)}; it was {E.xy(first)} at the first step, and it never grows. "
            + E.sentence(E.moved(b)))


NOTES = (
        "AdaGrad divides by the root of the sum of all squared gradients so far; that sum only grows, so the "
        "effective step lr/(√G + ε) only shrinks, roughly as 1/√t under a steady gradient: it slows down even "
        "on a straight slope and can stall before the minimum. With the accumulator starting at 0 the first "
        "step is ≈ lr per coordinate (g/|g|); initial_accumulator_value (0.1 in Keras and optax) tempers it, "
        "and lr_decay shrinks the step further. " + C.EPS_CONVENTION
)

SPEC = Optimizer(
    "adagrad", "AdaGrad", "divides each coordinate's step by the root of all its squared gradients so far",
    PARAMS, STATE, check, pack, init, step, ("torch.optim", "Adagrad"),
    recommended_lr=C.surface_lr("adagrad"), divisor_moment=divisor_moment, effective_lr=effective_lr,
    panels=panels, explain=explain, notes=NOTES, step_note=step_note,
    look_for="an effective step that only shrinks, roughly as 1/√t: it can stall before the minimum",
)

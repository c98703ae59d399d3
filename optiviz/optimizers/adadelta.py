"""Adadelta (torch.optim.Adadelta): steps whose units come from a running mean of past squared steps.

Per coordinate, at step t (torch's ``_single_tensor_adadelta``, in its order of operations): L2;
``square_avg = rho square_avg + (1 - rho) g^2``; ``delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g``;
``acc_delta = rho acc_delta + (1 - rho) delta^2``; ``p -= lr delta``. torch's lr (1.0 by default) multiplies the
paper's update; acc_delta accumulates the update before lr.
"""

from __future__ import annotations

import math

import numpy as np

from surfaces._numba import jit

from . import _common as C
from . import _explain as E
from ._base import VECTOR, Optimizer, Param, at_least_zero, lr_column

PARAMS = (
    C.lr(1.0, "Learning rate η, multiplying the paper's update (torch default 1.0); log scale (1e-5 to 10)."),
    Param("rho", 0.9, r"\rho", "ρ", "rho (ρ)", "Decay of both running means, square_avg (of g²) and acc_delta (of "
          "the squared updates); torch default 0.9.", (0.0, 1.0), "beta"),
    C.eps(1e-6, "Added inside both square roots, √(acc_delta + ε) and √(square_avg + ε): √ε is the size of the "
              "first updates; log scale (1e-12 to 1)."),
    C.weight_decay(),
)
STATE = (("square_avg", VECTOR), ("acc_delta", VECTOR))


def check(h: dict) -> None:
    at_least_zero("Invalid learning rate: {}", h["lr"])
    if not 0.0 <= h["rho"] <= 1.0:
        raise ValueError(f"Invalid rho value: {h['rho']}")
    at_least_zero("Invalid epsilon value: {}", h["eps"])
    at_least_zero("Invalid weight_decay value: {}", h["weight_decay"])


def pack(h: dict) -> tuple[float, ...]:
    return (h["rho"], h["eps"], h["weight_decay"])


@jit
def init(hp, p, st):
    pass


@jit
def step(t, lr, hp, g, p, st):
    rho, eps, wd = hp[0], hp[1], hp[2]
    for k in range(2):
        d = g[k]
        if wd != 0.0:
            d = d + wd * p[k]
        st[k] = st[k] * rho + ((1.0 - rho) * d) * d
        std = math.sqrt(st[k] + eps)
        delta = (math.sqrt(st[2 + k] + eps) / std) * d
        st[2 + k] = st[2 + k] * rho + ((1.0 - rho) * delta) * delta
        p[k] = p[k] + (-lr) * delta


def used_gradient(run) -> np.ndarray:
    wd = run.spec.hyper["weight_decay"]
    return run.grad if wd == 0.0 else run.grad + wd * run.path[:-1]


def ratio(run) -> np.ndarray:
    """``sqrt(acc_delta_{t-1} + eps) / sqrt(square_avg_t + eps)`` per step ((n, 2)): what multiplies g_t."""
    eps = run.spec.hyper["eps"]
    st = run.state
    with np.errstate(all="ignore"):
        return np.sqrt(st["acc_delta"][:-1] + eps) / np.sqrt(st["square_avg"][1:] + eps)


def bias_corrected(run) -> dict[str, np.ndarray]:
    """``delta``: the update before lr, ``ratio * g``."""
    return {"delta": ratio(run) * used_gradient(run)}


def effective_lr(run) -> np.ndarray:
    """``lr sqrt(acc_delta_{t-1} + eps) / sqrt(square_avg_t + eps)``: what multiplies the gradient."""
    return lr_column(run) * ratio(run)


def panels(run) -> tuple[list, list]:
    st = run.state
    return ([("Δ_t (delta: the update before lr)", run.bias_corrected["delta"], "solid")],
            [("E[g²]_t (square_avg)", st["square_avg"][1:], "solid"),
             ("E[Δ²]_t (acc_delta)", st["acc_delta"][1:], "dash")])


def explain(b: E.Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, rho, eps = b.lr, h["rho"], h["eps"]
    theta = b.row(run.path, t - 1)
    d = E.l2(b, E.gradient(b), theta)
    r, one_r, e = E.format_number(rho), E.format_number(1.0 - rho), E.format_number(eps)
    s_prev = b.row(run.state["square_avg"], t - 1)
    s = tuple(s_prev[k] * rho + ((1.0 - rho) * d[k]) * d[k] for k in range(2))
    b.add("square_avg", "running mean of squared gradients", r"E[g^2]_t = \rho\,E[g^2]_{t-1} + (1 - \rho)\,g_t^2",
          f"E[g^2]_{{{t}}}",
          lambda k: f"{r} \\cdot {E.p(E.format_number(s_prev[k]))} + {one_r} \\cdot {E.p(E.format_number(d[k]))}^2", s)
    a_prev = b.row(run.state["acc_delta"], t - 1)
    delta = tuple((math.sqrt(a_prev[k] + eps) / math.sqrt(s[k] + eps)) * d[k] for k in range(2))
    b.add("delta", "update (units from the past updates' RMS over the gradients' RMS)",
          r"\Delta_t = \frac{\sqrt{E[\Delta^2]_{t-1} + \epsilon}}{\sqrt{E[g^2]_t + \epsilon}}\,g_t", rf"\Delta_{{{t}}}",
          lambda k: (rf"\frac{{\sqrt{{{E.format_number(a_prev[k])} + {e}}}}}{{\sqrt{{{E.format_number(s[k])} + {e}}}}}"
                     rf" \cdot {E.p(E.format_number(d[k]))}"), delta)
    a = tuple(a_prev[k] * rho + ((1.0 - rho) * delta[k]) * delta[k] for k in range(2))
    b.add("acc_delta", "running mean of squared updates",
          r"E[\Delta^2]_t = \rho\,E[\Delta^2]_{t-1} + (1 - \rho)\,\Delta_t^2", f"E[\\Delta^2]_{{{t}}}",
          lambda k: (f"{r} \\cdot {E.p(E.format_number(a_prev[k]))} + {one_r} \\cdot "
                     f"{E.p(E.format_number(delta[k]))}^2"), a)
    new = tuple(theta[k] + (-lr) * delta[k] for k in range(2))
    E.step_line(b, theta, r"\theta_{t-1}", r"\eta", (lr, lr), r"\Delta_t", delta, new)


def step_note(b: E.Builder) -> str:
    t, eps = b.t, b.h["eps"]
    delta, s = E.result(b, "delta"), E.result(b, "square_avg")
    sub = str(t).translate(E.SUB)
    if t == 1:
        return (f"At step 1 nothing has been accumulated: E[Δ²]₀ = 0, so the numerator is √ε = {E.txt(math.sqrt(eps))} "
                f"and Δ₁ = √ε·g₁/√((1 − ρ)g₁² + ε) = {E.xy(delta)}: about √(ε/(1 − ρ)) whatever the gradient's size, a "
                f"tiny first step; {E.moved(b)}.")
    return (f"At step {t} E[g²]{sub} = {E.xy(s)} and the update is Δ{sub} = {E.xy(delta)}: its size comes from the "
            f"past updates' RMS, so it can only grow by about a factor of 1/√ρ per step while the gradient's RMS "
            f"stays put. " + E.sentence(E.moved(b)))


NOTES = (
    "Adadelta divides the gradient by its running RMS, √(E[g²] + ε), and multiplies it by the RMS of the past "
    "updates, √(E[Δ²] + ε), so that the update has the units of the parameters and needs no learning rate "
    "(torch's lr, 1.0 by default, multiplies it). Both running means start at 0: the first updates are about "
    "√ε-sized whatever the gradient, and grow only as E[Δ²] remembers them, by about 1/√ρ per step at most, which "
    "makes Adadelta famously slow to start. ε is inside both roots (as in the paper, Keras and torch)."
)


def recommended_lr(surface) -> float:
    """torch's 1.0, which shows the famous slow start and still arrives; 3 on the wide bowls (Booth, Matyas, the
    quadratic), where 1.0 is still crawling at the end; less on the saddles, where the steps, once grown, run off."""
    return _LR.get(surface.name, 1.0)


_LR = {"booth": 3.0, "matyas": 3.0, "quadratic": 3.0, "saddle": 0.1, "monkey_saddle": 0.1, "noisy_saddle": 0.2}

SPEC = Optimizer(
    "adadelta", "Adadelta", "steps sized by the RMS of past steps over the RMS of gradients: no learning rate needed",
    PARAMS, STATE, check, pack, init, step, ("torch.optim", "Adadelta"),
    recommended_lr=recommended_lr, bias_corrected=bias_corrected, effective_lr=effective_lr, panels=panels,
    explain=explain, notes=NOTES, step_note=step_note,
    look_for="a crawl at first (steps of about √ε = 10⁻³ times lr) that speeds up as E[Δ²] builds on its own steps",
)

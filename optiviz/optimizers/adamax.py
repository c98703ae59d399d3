"""Adamax (torch.optim.Adamax): Adam with the infinity norm in place of the second moment.

Per coordinate, at step t: L2; ``exp_avg = lerp(exp_avg, g, 1 - beta1)``;
``exp_inf = max(beta2 exp_inf, |g| + eps)``; ``p -= (lr / (1 - beta1^t)) exp_avg / exp_inf``
(torch's ``_single_tensor_adamax``, in its order of operations). ε is inside the maximum, so exp_inf ≥ ε.
"""

from __future__ import annotations

import numpy as np

from surfaces._numba import jit

from . import _common as C
from . import _explain as E
from ._base import VECTOR, Optimizer, at_least_zero, check_betas, lerp, lr_column, steps_column

PARAMS = (
    C.lr(2e-3),
    C.betas((0.9, 0.999), ("Decay of the first moment m_t (momentum); torch default 0.9.",
                           "Decay of exp_inf, the running maximum of |g|; torch default 0.999.")),
    C.eps(1e-8, "Added to |g| inside the maximum, so exp_inf ≥ ε; log scale (1e-12 to 1)."),
    C.weight_decay(),
)
STATE = (("exp_avg", VECTOR), ("exp_inf", VECTOR))


def check(h: dict) -> None:
    at_least_zero("Invalid learning rate: {}", h["lr"])
    at_least_zero("Invalid epsilon value: {}", h["eps"])
    check_betas(h["betas"])
    at_least_zero("Invalid weight_decay value: {}", h["weight_decay"])


def pack(h: dict) -> tuple[float, ...]:
    return (*h["betas"], h["eps"], h["weight_decay"])


@jit
def init(hp, p, st):
    pass


@jit
def step(t, lr, hp, g, p, st):
    beta1, beta2, eps, wd = hp[0], hp[1], hp[2], hp[3]
    clr = lr / (1.0 - beta1 ** float(t))
    for k in range(2):
        d = g[k]
        if wd != 0.0:
            d = d + wd * p[k]
        st[k] = C.lerp(st[k], d, 1.0 - beta1)
        decayed = st[2 + k] * beta2
        norm = abs(d) + eps
        st[2 + k] = decayed if decayed >= norm or decayed != decayed else norm  # torch.maximum, NaN-propagating
        p[k] = p[k] + ((-clr) * st[k]) / st[2 + k]


def bias_corrected(run) -> dict[str, np.ndarray]:
    return {"m_hat": run.state["exp_avg"][1:] / (1.0 - C.power(run.spec.hyper["betas"][0], steps_column(run)))}


def divisor_moment(run) -> np.ndarray:
    """exp_inf, squared: the second moment the step's root would give (so that ε notes read as for Adam)."""
    return run.state["exp_inf"][1:] ** 2


def effective_lr(run) -> np.ndarray:
    """``lr / exp_inf``: what multiplies m̂_t."""
    with np.errstate(all="ignore"):
        return lr_column(run) / run.state["exp_inf"][1:]


def momentum(run) -> np.ndarray:
    return run.bias_corrected["m_hat"]


def panels(run) -> tuple[list, list]:
    return ([("m_t (exp_avg)", run.state["exp_avg"][1:], "solid"), ("m̂_t (bias-corrected)", run.bias_corrected["m_hat"],
                                                                   "dot")],
            [("u_t (exp_inf)", run.state["exp_inf"][1:], "solid")])


def explain(b: E.Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, (beta1, beta2), eps = b.lr, h["betas"], h["eps"]
    theta = b.row(run.path, t - 1)
    d = E.l2(b, E.gradient(b), theta)
    b1, one_b1 = E.format_number(beta1), E.format_number(1.0 - beta1)
    b2, e = E.format_number(beta2), E.format_number(eps)
    m_prev = b.row(run.state["exp_avg"], t - 1)
    m = tuple(lerp(m_prev[k], d[k], 1.0 - beta1) for k in range(2))
    b.add("exp_avg", "first moment (running mean of gradients)", r"m_t = \beta_1\,m_{t-1} + (1 - \beta_1)\,g_t",
          f"m_{{{t}}}",
          lambda k: f"{b1} \\cdot {E.p(E.format_number(m_prev[k]))} + {one_b1} \\cdot {E.p(E.format_number(d[k]))}", m)
    u_prev = b.row(run.state["exp_inf"], t - 1)
    u = tuple(max(u_prev[k] * beta2, abs(d[k]) + eps) for k in range(2))
    b.add("exp_inf", "infinity norm (a decaying maximum of |g|)", r"u_t = \max(\beta_2\,u_{t-1},\ |g_t| + \epsilon)",
          f"u_{{{t}}}",
          lambda k: rf"\max({b2} \cdot {E.p(E.format_number(u_prev[k]))},\ |{E.format_number(d[k])}| + {e})", u)
    bc1 = 1.0 - beta1 ** float(t)
    m_hat = b.row(run.bias_corrected["m_hat"], t - 1)
    b.add("m_hat", "bias-corrected first moment", r"\hat m_t = \frac{m_t}{1 - \beta_1^t}", f"\\hat m_{{{t}}}",
          lambda k: rf"\frac{{{E.format_number(m[k])}}}{{1 - {b1}^{{{t}}}}}", m_hat)
    eff = b.row(run.effective_lr, t - 1)
    b.add("effective_lr", "effective step size", r"\eta_t = \frac{\eta}{u_t}", f"\\eta_{{{t}}}",
          lambda k: rf"\frac{{{E.format_number(lr)}}}{{{E.format_number(u[k])}}}", eff)
    new = tuple(theta[k] + ((-(lr / bc1)) * m[k]) / u[k] for k in range(2))
    E.step_line(b, theta, r"\theta_{t-1}", r"\eta_t", eff, r"\hat m_t", m_hat, new)


def step_note(b: E.Builder) -> str:
    t = b.t
    u, m_hat = E.result(b, "exp_inf"), E.result(b, "m_hat")
    ratio = tuple(m / v if v else float("nan") for m, v in zip(m_hat, u, strict=True))
    if t == 1:
        return (f"At step 1 u₁ = |g₁| + ε and m̂₁ = g₁, so m̂/u is ±1 in each coordinate (here {E.xy(ratio)}) and "
                f"the step is lr-sized whatever the gradient's size; {E.moved(b)}.")
    sub = str(t).translate(E.SUB)
    return (f"At step {t} u{sub} = {E.xy(u)}: the largest recent |g|, decayed by β₂ per step, never an average, "
            f"so one large gradient keeps the steps small for about 1/(1 − β₂) steps. m̂/u is {E.xy(ratio)}. "
            + E.sentence(E.moved(b)))


NOTES = (
    "Adamax divides Adam's bias-corrected m̂ by u_t, a decaying maximum of |g| (the infinity norm), instead of "
    "√v̂. u needs no bias correction: it is |g₁| + ε at the first step and falls only by β₂ per step, so the "
    "steps stay lr-sized while the gradient keeps its sign, and a single large gradient shrinks the steps at "
    "once and for long. ε sits inside the maximum: u is never below ε."
)

SPEC = Optimizer(
    "adamax", "Adamax", "Adam with a decaying maximum of |g| (the infinity norm) in place of √v̂",
    PARAMS, STATE, check, pack, init, step, ("torch.optim", "Adamax"),
    recommended_lr=C.surface_lr("adam"), bias_corrected=bias_corrected, divisor_moment=divisor_moment,
    effective_lr=effective_lr, momentum=momentum, panels=panels, explain=explain, notes=NOTES, step_note=step_note,
    look_for="lr-sized steps like Adam's, but u_t remembers the largest |g|: after a steep patch the steps stay small",
)

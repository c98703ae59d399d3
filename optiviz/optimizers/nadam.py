"""NAdam (torch.optim.NAdam): Adam with Nesterov momentum and a warming-up momentum schedule.

Per coordinate, at step t (torch's ``_single_tensor_nadam``, in its order of operations): ``bc2 = 1 - beta2^t``;
weight decay (L2, or decoupled ``p *= 1 - lr weight_decay`` with ``decoupled_weight_decay``);
``mu_t = beta1 (1 - 0.5 * 0.96^(t momentum_decay))`` and ``mu_{t+1}`` likewise; ``mu_product *= mu_t``;
``exp_avg = lerp(exp_avg, g, 1 - beta1)``; ``exp_avg_sq = beta2 exp_avg_sq + (1 - beta2) g^2``;
``denom = sqrt(exp_avg_sq / bc2) + eps``; ``p += (-lr (1 - mu_t) / (1 - mu_product)) g / denom``, then
``p += (-lr mu_{t+1} / (1 - mu_product mu_{t+1})) exp_avg / denom``.

torch keeps ``mu_product`` in a 0-dim tensor of the default dtype (float32 unless the default is changed), so
each product is rounded to float32; the step does the same, so that float64 parameters agree to rounding.
"""

from __future__ import annotations

import math

import numpy as np

from surfaces._numba import jit

from . import _common as C
from . import _explain as E
from ._base import SCALAR, VECTOR, Optimizer, Param, at_least_zero, check_betas, lerp, sqrt, steps_column

PARAMS = (
    C.lr(2e-3),
    C.betas((0.9, 0.999), ("Decay of the first moment m_t; the momentum schedule μ_t warms up to β₁. torch "
                           "default 0.9.",
                           "Decay of the second moment v_t (RMS of gradients); torch default 0.999.")),
    C.eps(1e-8),
    C.weight_decay(0.0, "L2 penalty added to the gradient (decoupled_weight_decay: applied to the parameters)."),
    Param("momentum_decay", 4e-3, r"\psi", "ψ", "momentum_decay (ψ)",
          "How fast the momentum schedule μ_t = β₁(1 − ½·0.96^(tψ)) warms up from β₁/2 to β₁; torch default 4e-3 "
          "(about 500 steps to get most of the way).", (0.0, 1.0), None, 1e-3, advanced=True),
    C.flag("decoupled_weight_decay", "decoupled wd", "decoupled_weight_decay",
           "Apply weight_decay to the parameters, θ ← θ(1 − lr·λ), as AdamW does, instead of adding λθ to the "
           "gradient."),
)
STATE = (("exp_avg", VECTOR), ("exp_avg_sq", VECTOR), ("mu_product", SCALAR))


def check(h: dict) -> None:
    at_least_zero("Invalid learning rate: {}", h["lr"])
    at_least_zero("Invalid epsilon value: {}", h["eps"])
    check_betas(h["betas"])
    at_least_zero("Invalid weight_decay value: {}", h["weight_decay"])
    at_least_zero("Invalid momentum_decay value: {}", h["momentum_decay"])


def pack(h: dict) -> tuple[float, ...]:
    return (*h["betas"], h["eps"], h["weight_decay"], h["momentum_decay"], float(h["decoupled_weight_decay"]))


@jit
def init(hp, p, st):
    st[4] = 1.0  # mu_product starts at 1


@jit
def _f32(x):
    """``x`` rounded to float32, as a float64 (torch's float32 ``mu_product``)."""
    return np.float64(np.float32(x))


@jit
def step(t, lr, hp, g, p, st):
    beta1, beta2, eps, wd, psi, decoupled = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5] != 0.0
    tf = float(t)
    bc2 = 1.0 - beta2**tf
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (tf * psi)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((tf + 1.0) * psi)))
    # float32 * float32 is exact in float64, so one rounding gives float32's product
    st[4] = _f32(st[4] * _f32(mu))
    c_grad = (-lr * (1.0 - mu)) / (1.0 - st[4])
    c_avg = (-lr * mu_next) / (1.0 - st[4] * mu_next)
    for k in range(2):
        d = g[k]
        if wd != 0.0:
            if decoupled:
                p[k] = p[k] * (1.0 - lr * wd)
            else:
                d = d + wd * p[k]
        st[k] = C.lerp(st[k], d, 1.0 - beta1)
        st[2 + k] = st[2 + k] * beta2 + ((1.0 - beta2) * d) * d
        denom = math.sqrt(st[2 + k] / bc2) + eps
        p[k] = p[k] + (c_grad * d) / denom
        p[k] = p[k] + (c_avg * st[k]) / denom


def schedule(h: dict, t):
    """``mu_t`` for step(s) ``t`` (a number or an array)."""
    beta1, psi = h["betas"][0], h["momentum_decay"]
    return beta1 * (1.0 - 0.5 * C.power(0.96, t * psi))


def used_gradient(run) -> np.ndarray:
    """The gradient the step used: with L2, ``g + weight_decay * p``."""
    h = run.spec.hyper
    if h["weight_decay"] == 0.0 or h["decoupled_weight_decay"]:
        return run.grad
    return run.grad + h["weight_decay"] * run.path[:-1]


def coefficients(run) -> tuple[np.ndarray, np.ndarray]:
    """Per step ((n, 1) each): the weight of g_t and of m_t in the Nesterov blend m̄_t (without −lr)."""
    h = run.spec.hyper
    t = steps_column(run)
    mu, mu_next = schedule(h, t), schedule(h, t + 1.0)
    prod = run.state["mu_product"][1:, None]
    return (1.0 - mu) / (1.0 - prod), mu_next / (1.0 - prod * mu_next)


def bias_corrected(run) -> dict[str, np.ndarray]:
    """``m_bar``: the Nesterov blend the step divides by √v̂ + ε; ``v_hat``: exp_avg_sq over 1 − β₂^t."""
    a, b = coefficients(run)
    bc2 = 1.0 - C.power(run.spec.hyper["betas"][1], steps_column(run))
    return {"m_bar": a * used_gradient(run) + b * run.state["exp_avg"][1:], "v_hat": run.state["exp_avg_sq"][1:] / bc2}


def momentum(run) -> np.ndarray:
    return run.bias_corrected["m_bar"]


def panels(run) -> tuple[list, list]:
    st = run.state
    return ([("m_t (exp_avg)", st["exp_avg"][1:], "solid"), ("m̄_t (Nesterov blend of g_t and m_t)",
                                                            run.bias_corrected["m_bar"], "dot")],
            [("v_t (exp_avg_sq)", st["exp_avg_sq"][1:], "solid"), ("v̂_t (bias-corrected)",
                                                                   run.bias_corrected["v_hat"], "dot")])


def title_options(h: dict) -> list[str]:
    return ["decoupled wd"] if h["decoupled_weight_decay"] and h["weight_decay"] else []


def decoupled_decay(b: E.Builder, theta: E.Pair) -> tuple[E.Pair, str, int]:
    """The line of decoupled weight decay (AdamW's, NAdam's and RAdam's decoupled_weight_decay): the decayed
    position, its symbol, and the digits the new position needs to show the decay."""
    lr, wd, t = b.lr, b.h["weight_decay"], b.t
    factor = E.format_number(1.0 - lr * wd, 12)
    digits = max(E.position_digits(theta[k], theta[k] * (1.0 - lr * wd)) for k in range(2))
    before = theta
    theta = b.add("decayed_param", "decoupled weight decay (applied to the parameters first)",
                  r"\theta'_{t-1} = \theta_{t-1}\,(1 - \eta\lambda)", f"\\theta'_{{{t - 1}}}",
                  lambda k: f"{E.format_number(before[k], digits)} \\cdot {factor}",
                  (before[0] * (1.0 - lr * wd), before[1] * (1.0 - lr * wd)), digits)
    return theta, r"\theta'_{t-1}", digits


def moments(b: E.Builder, d: E.Pair) -> tuple[E.Pair, E.Pair]:
    """Adam's two moment lines (NAdam's and RAdam's are the same), from the gradient ``d`` the step uses."""
    h, t, run = b.h, b.t, b.run
    beta1, beta2 = h["betas"]
    b1, one_b1 = E.format_number(beta1), E.format_number(1.0 - beta1)
    b2, one_b2 = E.format_number(beta2), E.format_number(1.0 - beta2)
    m_prev = b.row(run.state["exp_avg"], t - 1)
    m = tuple(lerp(m_prev[k], d[k], 1.0 - beta1) for k in range(2))
    b.add("exp_avg", "first moment (running mean of gradients)", r"m_t = \beta_1\,m_{t-1} + (1 - \beta_1)\,g_t",
          f"m_{{{t}}}",
          lambda k: f"{b1} \\cdot {E.p(E.format_number(m_prev[k]))} + {one_b1} \\cdot {E.p(E.format_number(d[k]))}", m)
    v_prev = b.row(run.state["exp_avg_sq"], t - 1)
    v = tuple(v_prev[k] * beta2 + ((1.0 - beta2) * d[k]) * d[k] for k in range(2))
    b.add("exp_avg_sq", "second moment (running mean of squared gradients)",
          r"v_t = \beta_2\,v_{t-1} + (1 - \beta_2)\,g_t^2", f"v_{{{t}}}",
          lambda k: f"{b2} \\cdot {E.p(E.format_number(v_prev[k]))} + {one_b2} \\cdot {E.p(E.format_number(d[k]))}^2",
          v)
    return m, v


def weight_decay_lines(b: E.Builder) -> tuple[E.Pair, E.Pair, str, int]:
    """The gradient and the weight decay lines: (gradient used, position before the step, its symbol, digits)."""
    theta = b.row(b.run.path, b.t - 1)
    g = E.gradient(b)
    if b.h["decoupled_weight_decay"]:
        if b.h["weight_decay"] != 0.0:
            theta, sym, digits = decoupled_decay(b, theta)
            return g, theta, sym, digits
        return g, theta, r"\theta_{t-1}", 5
    return E.l2(b, g, theta), theta, r"\theta_{t-1}", 5


def explain(b: E.Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, (beta1, beta2), eps = b.lr, h["betas"], h["eps"]
    d, theta, theta_sym, digits = weight_decay_lines(b)
    mu, mu_next = schedule(h, float(t)), schedule(h, float(t) + 1.0)
    psi = E.format_number(h["momentum_decay"])
    b1 = E.format_number(beta1)
    b.add("mu", "momentum schedule (warms up from β₁/2 to β₁)", r"\mu_t = \beta_1\,(1 - \tfrac12\,0.96^{t\psi})",
          rf"\mu_{{{t}}}", lambda k: rf"{b1} \cdot (1 - 0.5 \cdot 0.96^{{{t} \cdot {psi}}})", (mu, mu))
    prev = float(run.state["mu_product"][t - 1])
    prod = float(run.state["mu_product"][t])
    b.add("mu_product", "product of the μ's so far (float32, as torch keeps it)",
          r"\Pi_t = \Pi_{t-1}\,\mu_t", rf"\Pi_{{{t}}}",
          lambda k: rf"{E.format_number(prev)} \cdot {E.format_number(mu)}", (prod, prod))
    m, v = moments(b, d)
    m_bar = b.row(run.bias_corrected["m_bar"], t - 1)
    mn = E.format_number(mu_next)
    b.add("m_bar", "Nesterov blend: this step's gradient and next step's momentum",
          r"\bar m_t = \frac{1 - \mu_t}{1 - \Pi_t}\,g_t + \frac{\mu_{t+1}}{1 - \Pi_t\,\mu_{t+1}}\,m_t",
          rf"\bar m_{{{t}}}",
          lambda k: (rf"\frac{{1 - {E.format_number(mu)}}}{{1 - {E.p(E.format_number(prod))}}} \cdot "
                     rf"{E.p(E.format_number(d[k]))} + \frac{{{mn}}}{{1 - {E.p(E.format_number(prod))} \cdot {mn}}}"
                     rf" \cdot {E.p(E.format_number(m[k]))}"), m_bar)
    v_hat = b.row(run.bias_corrected["v_hat"], t - 1)
    b2 = E.format_number(beta2)
    b.add("v_hat", "bias-corrected second moment", r"\hat v_t = \frac{v_t}{1 - \beta_2^t}", f"\\hat v_{{{t}}}",
          lambda k: rf"\frac{{{E.format_number(v[k])}}}{{1 - {b2}^{{{t}}}}}", v_hat)
    eff = b.row(run.effective_lr, t - 1)
    e = E.format_number(eps)
    b.add("effective_lr", "effective step size", r"\eta_t = \frac{\eta}{\sqrt{\hat v_t} + \epsilon}", f"\\eta_{{{t}}}",
          lambda k: rf"\frac{{{E.format_number(lr)}}}{{\sqrt{{{E.format_number(v_hat[k])}}} + {e}}}", eff)
    bc2 = 1.0 - beta2 ** float(t)
    c_grad, c_avg = (-lr * (1.0 - mu)) / (1.0 - prod), (-lr * mu_next) / (1.0 - prod * mu_next)
    new = []
    for k in range(2):
        denom = sqrt(v[k] / bc2) + eps
        q = theta[k] + (c_grad * d[k]) / denom
        new.append(q + (c_avg * m[k]) / denom)
    E.step_line(b, theta, theta_sym, r"\eta_t", eff, r"\bar m_t", m_bar, (new[0], new[1]), digits)


def step_note(b: E.Builder) -> str:
    t, h = b.t, b.h
    mu = E.result(b, "mu")[0]
    prod = E.result(b, "mu_product")[0]
    beta1 = h["betas"][0]
    sub = str(t).translate(E.SUB)
    if t == 1:
        m_bar = E.result(b, "m_bar")
        return (f"At step 1 μ₁ = {E.txt(mu)} (about β₁/2: the schedule starts at half the momentum) and Π₁ = μ₁ "
                f"(in float32), so the gradient's weight (1 − μ₁)/(1 − Π₁) is 1: m̄₁ = {E.xy(m_bar)}, g₁ plus a "
                f"look-ahead share of m₁, over √v̂₁ = |g₁|; {E.moved(b)}.")
    m_bar, eff = E.result(b, "m_bar"), E.result(b, "effective_lr")
    return (f"At step {t} the momentum schedule gives μ{sub} = {E.txt(mu)} (it warms up toward β₁ = {E.txt(beta1)}) "
            f"and Π{sub} = {E.txt(prod)}. The step follows m̄{sub} = {E.xy(m_bar)}: the current gradient weighted "
            f"by 1 − μ{sub} plus the momentum as it will be at the next step (Nesterov's look-ahead), divided by "
            f"√v̂ + ε, which gives an effective step size of {E.xy(eff)}. " + E.sentence(E.moved(b)))


NOTES = (
    "NAdam is Adam with Nesterov momentum: each step uses the momentum as it will be after this step (μ_{t+1}·m_t) "
    "plus the current gradient's own share (1 − μ_t)·g_t, so it reacts a step earlier than Adam where the "
    "gradient turns. Its momentum is scheduled: μ_t = β₁(1 − ½·0.96^(t·ψ)) starts at about β₁/2 and warms up "
    "toward β₁ over some hundreds of steps (ψ = momentum_decay), and the product Π_t of the μ's takes the place of "
    "Adam's 1 − β₁^t bias correction. torch keeps Π_t (mu_product) in float32."
)

SPEC = Optimizer(
    "nadam", "NAdam", "Adam with Nesterov momentum (a look-ahead step) and a momentum schedule warming up to β₁",
    PARAMS, STATE, check, pack, init, step, ("torch.optim", "NAdam"),
    recommended_lr=lambda surface: surface.lr["adam"], bias_corrected=bias_corrected, divisor_moment=C.v_hat,
    effective_lr=C.lr_over_root_v_hat, momentum=momentum, panels=panels, explain=explain, notes=NOTES,
    step_note=step_note,
    title_options=title_options, decoupled=lambda h: h["decoupled_weight_decay"],
    look_for="Adam's path, but turning earlier where the gradient turns: less overshoot in a curved valley",
)

"""RMSProp (torch.optim.RMSprop).

Per coordinate, at step t: L2; ``square_avg = alpha square_avg + (1 - alpha) g^2`` (no bias correction);
centered: ``grad_avg = lerp(grad_avg, g, 1 - alpha)``, ``avg = sqrt(square_avg - grad_avg^2) + eps``, else
``avg = sqrt(square_avg) + eps``; momentum > 0: ``b = momentum b + g / avg``, ``p -= lr b``; else
``p -= lr g / avg`` (torch's ``_single_tensor_rmsprop``, in its order of operations).
"""

from __future__ import annotations

import math

import numpy as np

from surfaces._numba import jit

from . import _common as C
from . import _explain as E
from ._base import VECTOR, Optimizer, Param, at_least_zero, lerp, lr_column, sqrt

PARAMS = (
    C.lr(1e-2),
    Param("alpha", 0.99, r"\alpha", "α", "alpha (α)", "Decay of square_avg, RMSProp's running mean of g²; torch "
          "default 0.99.", (0.0, 0.99999), "beta"),
    C.eps(1e-8),
    C.weight_decay(),
    Param("momentum", 0.0, r"\mu", "μ", "momentum (μ)", "Momentum on the scaled step g/(√v + ε).", (0.0, 0.99999),
          "beta", advanced=True),
    C.flag("centered", "centered", "centered", "Divide by the gradient's variance estimate instead."),
    C.eps_inside_sqrt(),
)
STATE = (("square_avg", VECTOR), ("grad_avg", VECTOR), ("momentum_buffer", VECTOR))


def check(h: dict) -> None:
    at_least_zero("Invalid learning rate: {}", h["lr"])
    at_least_zero("Invalid epsilon value: {}", h["eps"])
    at_least_zero("Invalid momentum value: {}", h["momentum"])
    at_least_zero("Invalid weight_decay value: {}", h["weight_decay"])
    at_least_zero("Invalid alpha value: {}", h["alpha"])


def pack(h: dict) -> tuple[float, ...]:
    return (h["alpha"], h["eps"], h["weight_decay"], h["momentum"], float(h["centered"]), float(h["eps_inside_sqrt"]))


def kept(h: dict) -> tuple[str, ...]:
    return ("square_avg",) + (("grad_avg",) if h["centered"] else ()) + (("momentum_buffer",) if h["momentum"] > 0
                                                                          else ())


@jit
def init(hp, p, st):
    pass


@jit
def step(t, lr, hp, g, p, st):
    alpha, eps, wd, momentum, centered, eps_inside = hp[0], hp[1], hp[2], hp[3], hp[4] != 0.0, hp[5] != 0.0
    for k in range(2):
        d = g[k]
        if wd != 0.0:
            d = d + wd * p[k]
        st[k] = st[k] * alpha + ((1.0 - alpha) * d) * d
        var = st[k]
        if centered:
            st[2 + k] = C.lerp(st[2 + k], d, 1.0 - alpha)
            var = st[k] + (-st[2 + k]) * st[2 + k]
        avg = np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps
        if momentum > 0.0:
            st[4 + k] = st[4 + k] * momentum + d / avg
            p[k] = p[k] + (-lr) * st[4 + k]
        else:
            p[k] = p[k] + ((-lr) * d) / avg


def divisor_moment(run) -> np.ndarray:
    sq = run.state["square_avg"][1:]
    with np.errstate(all="ignore"):
        return sq - run.state["grad_avg"][1:] ** 2 if run.spec.hyper["centered"] else sq


def effective_lr(run) -> np.ndarray:
    """``lr / (sqrt(square_avg [- grad_avg^2]) + eps)``."""
    h = run.spec.hyper
    sq = run.state["square_avg"][1:]
    with np.errstate(all="ignore"):
        if h["centered"]:
            ga = run.state["grad_avg"][1:]
            sq = sq - ga * ga
        return lr_column(run) / (np.sqrt(sq + h["eps"]) if h["eps_inside_sqrt"] else np.sqrt(sq) + h["eps"])


def momentum(run) -> np.ndarray | None:
    """The momentum buffer (centered RMSProp's grad_avg is a mean kept for the variance, not a momentum)."""
    return run.state["momentum_buffer"][1:] if "momentum_buffer" in run.state else None


def panels(run) -> tuple[list, list]:
    st = run.state
    first = [(name, st[name][1:], dash) for name, dash in (("momentum_buffer", "solid"), ("grad_avg", "dash"))
             if name in st]
    return first, [("square_avg", st["square_avg"][1:], "solid")]


def title_options(h: dict) -> list[str]:
    return ["centered"] * h["centered"] + ["momentum"] * (h["momentum"] > 0)


def option_notes(h: dict) -> list[str]:
    return ["Centered RMSProp divides by the square root of v_t − ḡ_t²; rounding can make that slightly negative, "
            "which gives NaN (as in PyTorch) and stops the run."] if h["centered"] else []


def explain(b: E.Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, alpha, eps, mu = b.lr, h["alpha"], h["eps"], h["momentum"]
    centered, inside = h["centered"], h["eps_inside_sqrt"]
    theta = b.row(run.path, t - 1)
    d = E.l2(b, E.gradient(b), theta)
    a, one_a, e = E.format_number(alpha), E.format_number(1.0 - alpha), E.format_number(eps)
    prev = b.row(run.state["square_avg"], t - 1)
    sq = tuple(prev[k] * alpha + ((1.0 - alpha) * d[k]) * d[k] for k in range(2))
    b.add("square_avg", "running average of squared gradients (no bias correction)",
          r"v_t = \alpha\,v_{t-1} + (1 - \alpha)\,g_t^2", f"v_{{{t}}}",
          lambda k: f"{a} \\cdot {E.p(E.format_number(prev[k]))} + {one_a} \\cdot {E.p(E.format_number(d[k]))}^2", sq)
    var, var_sym = sq, "v_t"
    if centered:
        gprev = b.row(run.state["grad_avg"], t - 1)
        gavg = tuple(lerp(gprev[k], d[k], 1.0 - alpha) for k in range(2))
        b.add("grad_avg", "running average of gradients", r"\bar g_t = \alpha\,\bar g_{t-1} + (1 - \alpha)\,g_t",
              f"\\bar g_{{{t}}}",
              lambda k: f"{a} \\cdot {E.p(E.format_number(gprev[k]))} + {one_a} \\cdot {E.p(E.format_number(d[k]))}",
              gavg)
        var = tuple(sq[k] + (-gavg[k]) * gavg[k] for k in range(2))
        b.add("variance", "centered second moment (a variance estimate)", r"\tilde v_t = v_t - \bar g_t^2",
              f"\\tilde v_{{{t}}}",
              lambda k: f"{E.format_number(sq[k])} - {E.p(E.format_number(gavg[k]))}^2", var)
        var_sym = r"\tilde v_t"
    eff = b.row(run.effective_lr, t - 1)
    b.add("effective_lr", "effective step size", rf"\eta_t = \frac{{\eta}}{{{E.eps_root(inside, var_sym)}}}",
          f"\\eta_{{{t}}}",
          lambda k: rf"\frac{{{E.format_number(lr)}}}{{{E.eps_root(inside, E.format_number(var[k]), e)}}}", eff)
    avg = [(sqrt(var[k] + eps) if inside else sqrt(var[k]) + eps) for k in range(2)]
    if mu > 0.0:
        bprev = b.row(run.state["momentum_buffer"], t - 1)
        buf = tuple(bprev[k] * mu + d[k] / avg[k] for k in range(2))
        m = E.format_number(mu)
        b.add("momentum_buffer", "momentum buffer (of normalised gradients)",
              rf"b_t = \mu\,b_{{t-1}} + \frac{{g_t}}{{{E.eps_root(inside, var_sym)}}}", f"b_{{{t}}}",
              lambda k: (f"{m} \\cdot {E.p(E.format_number(bprev[k]))} + "
                         rf"\frac{{{E.format_number(d[k])}}}{{{E.eps_root(inside, E.format_number(var[k]), e)}}}"),
              buf)
        new = tuple(theta[k] + (-lr) * buf[k] for k in range(2))
        E.step_line(b, theta, r"\theta_{t-1}", r"\eta", (lr, lr), "b_t", buf, new)
    else:
        new = tuple(theta[k] + ((-lr) * d[k]) / avg[k] for k in range(2))
        E.step_line(b, theta, r"\theta_{t-1}", r"\eta_t", eff, "g_t", d, new)



def step_note(b: E.Builder) -> str:
    t, h = b.t, b.h
    alpha, inside = h["alpha"], h["eps_inside_sqrt"]
    v, eff = E.result(b, "square_avg"), E.result(b, "effective_lr")
    if t == 1:
        small = "v₁ is" if inside else "√v₁ is"
        ratio = "" if h["centered"] or alpha >= 1 else (
            f", so g₁/√v₁ is ±1/√(1 − α) = ±{E.txt(1 / math.sqrt(1 - alpha))} unless {small} as small as ε, and the "
            "step that many times lr")
        return (f"At step 1 v starts from 0 and RMSProp has no bias correction: v₁ = (1 − α)·g₁² = {E.xy(v)}{ratio}; "
                f"{E.moved(b)}.")
    ts, sub = str(t).translate(E.SUP), str(t).translate(E.SUB)
    weight = 1.0 - alpha ** float(t)
    if not 0 < weight <= 1:  # alpha >= 1: v never takes in a gradient
        return f"At step {t} v{sub} = {E.xy(v)}, and the effective step is {E.xy(eff)}. " + E.sentence(E.moved(b))
    return (f"At step {t} v{sub} = {E.xy(v)}. Its weights sum to 1 − α{ts} = {E.txt(weight)} (no bias correction), so "
            f"it is that fraction of a full running average of g², and the effective step is about "
            f"1/√(1 − α{ts}) = {E.txt(1 / math.sqrt(weight))} times what a full average would give: {E.xy(eff)}. "
            + E.sentence(E.moved(b)))


NOTES = (
        "Each coordinate's gradient is divided by the root of a running average of its squares, so steep and "
        "flat directions take steps of similar size, which helps in a ravine. There is no bias correction: v "
        "starts at 0, so v₁ = (1 − α)g² and the first step is lr·g/(√(1 − α)|g|), about 10·lr at α = 0.99; the "
        "steps shrink over the next ~1/(1 − α) steps as v fills up. Centered divides by a variance estimate "
        "instead (larger steps while gradients are consistent); momentum accumulates the normalised gradients. "
        + C.EPS_CONVENTION
)

SPEC = Optimizer(
    "rmsprop", "RMSProp", "divides each coordinate's step by a running RMS of its gradients",
    PARAMS, STATE, check, pack, init, step, ("torch.optim", "RMSprop"),
    recommended_lr=C.surface_lr("rmsprop"), kept=kept, divisor_moment=divisor_moment, effective_lr=effective_lr,
    momentum=momentum, panels=panels, explain=explain, notes=NOTES, step_note=step_note,
    title_options=title_options, option_notes=option_notes, momentum_slot=3,
    look_for="steep and flat directions taking steps of similar size; large first steps (no bias correction)",
)

"""Prodigy (``prodigyopt.Prodigy``, package ``prodigyopt``): Adam whose step size d is learnt as it goes.

Prodigy estimates d, the distance from the start to the solution, and steps with ``dlr = d lr`` (lr is a
multiplier, default 1). At step t with k steps taken before (``Prodigy.step``, in its order of operations):
``beta3 = sqrt(beta2)`` when None; ``bc = sqrt(1 - beta2^(k+1)) / (1 - beta1^(k+1))`` with
``use_bias_correction``, else 1; ``dlr = d lr bc``; ``d_numerator *= beta3``; L2 (``g += wd p``) unless
``decouple``; ``delta = (d / d0) dlr <g, p0 - p>`` (p0: the start); ``exp_avg = beta1 exp_avg + d (1 - beta1) g``
(when beta1 > 0); ``exp_avg_sq = beta2 exp_avg_sq + d^2 (1 - beta2) g^2``;
``s = beta3 s + (d / d0) dlr g`` (``(d / d0) d g`` with ``safeguard_warmup``); ``d_denom = |s|_1``. If
d_denom is 0 the step ends there (no move, k unchanged). Else ``d_numerator += delta``,
``d_hat = d_coef d_numerator / d_denom``; ``d = max(d, d_hat)`` if d is still d0; ``d_max = max(d_max, d_hat)``;
``d = min(d_max, d growth_rate)``. Then, with the new d: ``denom = sqrt(exp_avg_sq) + d eps``; decoupled decay
``p += (-wd dlr) p``; ``p += (-dlr exp_avg) / denom`` (``p += (-dlr d g) / denom`` when beta1 = 0); ``k += 1``.

The scalars d, d_max, d_numerator, d_denom, d_hat and k live in the reference's ``param_groups`` (its
``state[p]`` holds exp_avg, exp_avg_sq, s and p0); optiviz records them per step like any state.
``fsdp_in_use`` and ``slice_p`` (sharded and sub-sampled statistics) are left at their defaults.
"""

from __future__ import annotations

import math

import numpy as np

from surfaces._numba import jit

from . import _common as C
from . import _explain as E
from ._base import SCALAR, VECTOR, Optimizer, Param

PARAMS = (
    C.lr(1.0, "A multiplier on Prodigy's own step size d (prodigyopt default 1: leave it unless the run is "
              "unstable). Log scale (1e-5 to 10)."),
    C.betas((0.9, 0.999), ("Decay of the first moment (Adam's β₁); 0 keeps no exp_avg. prodigyopt default 0.9.",
                           "Decay of the second moment; prodigyopt default 0.999.")),
    Param("beta3", None, r"\beta_3", "β₃", "beta3",
          "Decay of s and of d's numerator, the running sums d is estimated from. Empty (None, the default): "
          "√β₂.", (0.0, 0.99999), None, 0.001, advanced=True),
    C.eps(1e-8, "Added to the denominator √v + d·ε (scaled by d); log scale (1e-12 to 1)."),
    C.weight_decay(0.0, "Weight decay λ: decoupled (θ ← θ − λ·d·lr·θ) with decouple, else L2 added to the gradient."),
    C.flag("decouple", "L2 wd", "decouple", "AdamW-style decoupled weight decay (prodigyopt default True); off: "
           "L2, added to the gradient.", default=True),
    C.flag("use_bias_correction", "bias corr.", "use_bias_correction",
           "Adam's bias correction on the step, √(1 − β₂^t)/(1 − β₁^t) (prodigyopt default off)."),
    C.flag("safeguard_warmup", "safeguard", "safeguard_warmup",
           "Leave lr out of s's increments (s grows by (d/d0)·d·g): avoids a d too large while lr warms up."),
    Param("d0", 1e-6, r"d_0", "d₀", "d0 (d₀)", "The first estimate of d (prodigyopt default 1e-6): the first "
          "step is about d₀·lr, and d grows from there.", (1e-12, 1.0), "eps", advanced=True),
    Param("d_coef", 1.0, r"c_d", "d_coef", "d_coef", "A factor on each estimate of d (prodigyopt default 1; 0.5 "
          "or 2 also work): the preferred way to tune Prodigy.", (0.01, 100.0), None, 0.1, advanced=True),
    Param("growth_rate", math.inf, r"\gamma", "growth", "growth_rate", "The most d may grow per step, as a "
          "factor; 1.02 gives a warm-up. Empty (inf, prodigyopt's default): no limit.", (1.0, math.inf), None, 0.01,
          advanced=True),
)
STATE = (("exp_avg", VECTOR), ("exp_avg_sq", VECTOR), ("s", VECTOR), ("p0", VECTOR), ("d", SCALAR),
         ("d_max", SCALAR), ("d_numerator", SCALAR), ("d_denom", SCALAR), ("d_hat", SCALAR), ("k", SCALAR))


def check(h: dict) -> None:
    """prodigyopt's checks, in its order, with its messages."""
    if not 0.0 < h["d0"]:
        raise ValueError(f"Invalid d0 value: {h['d0']}")
    if not 0.0 < h["lr"]:
        raise ValueError(f"Invalid learning rate: {h['lr']}")
    if not 0.0 < h["eps"]:
        raise ValueError(f"Invalid epsilon value: {h['eps']}")
    for i, beta in enumerate(h["betas"]):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def beta3(h: dict) -> float:
    return math.sqrt(h["betas"][1]) if h["beta3"] is None else h["beta3"]


def pack(h: dict) -> tuple[float, ...]:
    # Slot 11: the exponent 0.5 of prodigyopt's ``(...)**0.5``, at run time (see radam.pack).
    return (*h["betas"], beta3(h), h["eps"], h["weight_decay"], float(h["decouple"]), float(h["use_bias_correction"]),
            float(h["safeguard_warmup"]), h["d0"], h["d_coef"], h["growth_rate"], 0.5)


@jit
def init(hp, p, st):
    st[6] = p[0]  # p0, the start
    st[7] = p[1]
    st[8] = hp[8]  # d = d0
    st[9] = hp[8]  # d_max = d0
    st[12] = hp[8]  # d_hat: no estimate yet


@jit
def step(t, lr, hp, g, p, st):
    beta1, beta2, beta3, eps, wd = hp[0], hp[1], hp[2], hp[3], hp[4]
    decouple, bias_corr, safeguard = hp[5] != 0.0, hp[6] != 0.0, hp[7] != 0.0
    d0, d_coef, growth_rate, half = hp[8], hp[9], hp[10], hp[11]
    k = st[13]
    d, d_max = st[8], st[9]
    bc = 1.0
    if bias_corr:
        bc = ((1.0 - beta2 ** (k + 1.0)) ** half) / (1.0 - beta1 ** (k + 1.0))
    dlr = d * lr * bc
    d_numerator = st[10] * beta3
    g0, g1 = g[0], g[1]
    if wd != 0.0 and not decouple:
        g0 = g0 + wd * p[0]
        g1 = g1 + wd * p[1]
    d_denom = 0.0
    delta = 0.0
    if lr > 0.0:
        ratio = d / d0
        dot = g0 * (st[6] - p[0]) + g1 * (st[7] - p[1])
        delta = 0.0 + ratio * dlr * dot
        w_m, w_v, w_s = d * (1.0 - beta1), d * d * (1.0 - beta2), ratio * d if safeguard else ratio * dlr
        for k2 in range(2):
            gk = g0 if k2 == 0 else g1
            if beta1 > 0.0:
                st[k2] = st[k2] * beta1 + w_m * gk
            st[2 + k2] = st[2 + k2] * beta2 + (w_v * gk) * gk
            st[4 + k2] = st[4 + k2] * beta3 + w_s * gk
        d_denom = 0.0 + (abs(st[4]) + abs(st[5]))
    if d_denom == 0.0:
        return  # no progress yet: the reference returns before moving (k unchanged)
    d_hat = d
    if lr > 0.0:
        numerator = d_numerator + delta
        d_hat = d_coef * numerator / d_denom
        if d == d0:
            d = d_hat if d_hat > d else d
        d_max = d_hat if d_hat > d_max else d_max
        grown = d * growth_rate
        d = grown if grown < d_max else d_max
        st[10] = numerator
    st[8], st[9], st[11], st[12] = d, d_max, d_denom, d_hat
    for k2 in range(2):
        denom = math.sqrt(st[2 + k2]) + d * eps
        if wd != 0.0 and decouple:
            p[k2] = p[k2] + (-wd * dlr) * p[k2]
        if beta1 > 0.0:
            p[k2] = p[k2] + (-dlr * st[k2]) / denom
        else:
            p[k2] = p[k2] + ((-dlr * d) * (g0 if k2 == 0 else g1)) / denom
    st[13] = k + 1.0


def kept(h: dict) -> tuple[str, ...]:
    names = tuple(name for name, _ in STATE)
    return names if h["betas"][0] > 0.0 else tuple(n for n in names if n != "exp_avg")


def dlr(run) -> np.ndarray:
    """d·lr·bc of each step ((n,)): the d before the step's update, as the step uses it."""
    h = run.spec.hyper
    beta1, beta2 = h["betas"]
    bc = 1.0
    if h["use_bias_correction"]:  # the C library's pow, as the reference's Python floats (numpy's ** 0.5: sqrt)
        k1 = run.state["k"][:-1] + 1.0
        bc = C.power(1.0 - C.power(beta2, k1), 0.5) / (1.0 - C.power(beta1, k1))
    return run.state["d"][:-1] * np.asarray(run.lr, dtype=np.float64) * bc


def effective_lr(run) -> np.ndarray:
    """What multiplies exp_avg in the step ((n, 2)): d·lr·bc / (√v + d·ε) (with β₁ = 0, d·lr·d/(√v + d·ε) on g)."""
    h = run.spec.hyper
    d = run.state["d"][1:, None]
    with np.errstate(all="ignore"):
        eff = dlr(run)[:, None] / (np.sqrt(run.state["exp_avg_sq"][1:]) + d * h["eps"])
        return eff * d if h["betas"][0] == 0.0 else eff


def momentum(run) -> np.ndarray | None:
    return run.state["exp_avg"][1:] if "exp_avg" in run.state else None


def _pair(values: np.ndarray) -> np.ndarray:
    return np.repeat(values[:, None], 2, axis=1)


def panels(run) -> tuple[list, list]:
    st = run.state
    first = [("m_t (exp_avg, scaled by d)", st["exp_avg"][1:], "solid")] if "exp_avg" in st else []
    first.append(("s_t (the sum d is estimated from)", st["s"][1:], "dash"))
    return (first, [("d (Prodigy's step size, learnt)", _pair(st["d"][1:]), "solid"),
                    ("d̂ (this step's estimate)", _pair(st["d_hat"][1:]), "dot"),
                    ("v_t (exp_avg_sq, scaled by d²)", st["exp_avg_sq"][1:], "dash")])


def title_options(h: dict) -> list[str]:
    out = []
    if h["weight_decay"] and h["decouple"]:
        out.append("decoupled wd")
    out += [w for key, w in (("use_bias_correction", "bias correction"), ("safeguard_warmup", "safeguard warm-up"))
            if h[key]]
    if h["growth_rate"] != math.inf:
        out.append(f"growth ≤ {h['growth_rate']:g}×")
    return out


def explain(b: E.Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, (beta1, beta2), eps, wd = b.lr, h["betas"], h["eps"], h["weight_decay"]
    b3, d0 = beta3(h), h["d0"]
    st = run.state
    theta = b.row(run.path, t - 1)
    g = E.gradient(b)
    d_ = E.l2(b, g, theta) if wd != 0.0 and not h["decouple"] else g
    d_prev, k = float(st["d"][t - 1]), float(st["k"][t - 1])
    step_dlr = float(dlr(run)[t - 1])
    bc_text = ""
    if h["use_bias_correction"]:
        b1t, b2t, kt = E.format_number(beta1), E.format_number(beta2), int(k) + 1
        bc_text = rf" \cdot \frac{{\sqrt{{1 - {b2t}^{{{kt}}}}}}}{{1 - {b1t}^{{{kt}}}}}"
    b.add("dlr", "the step size: d (as it was before this step) times lr"
          + (" and Adam's bias correction" if h["use_bias_correction"] else ""),
          r"\delta_t = d_{t-1}\,\eta" + (r"\,\frac{\sqrt{1 - \beta_2^{k+1}}}{1 - \beta_1^{k+1}}"
                                        if h["use_bias_correction"] else ""),
          rf"\delta_{{{t}}}", lambda i: rf"{E.format_number(d_prev)} \cdot {E.format_number(lr)}{bc_text}",
          (step_dlr, step_dlr))
    p0 = b.row(st["p0"], t - 1)
    dot = d_[0] * (p0[0] - theta[0]) + d_[1] * (p0[1] - theta[1])
    num_prev = float(st["d_numerator"][t - 1])
    numerator = float(st["d_numerator"][t])
    b3t, d0t = E.format_number(b3), E.format_number(d0)
    b.add("d_numerator", "numerator of d: how far the gradients have pointed back toward the start",
          r"N_t = \beta_3\,N_{t-1} + \frac{d_{t-1}}{d_0}\,\delta_t\,\langle g_t,\ \theta_0 - \theta_{t-1}\rangle",
          f"N_{{{t}}}",
          lambda i: (rf"{b3t} \cdot {E.p(E.format_number(num_prev))} + \frac{{{E.format_number(d_prev)}}}{{{d0t}}} "
                     rf"\cdot {E.p(E.format_number(step_dlr))} \cdot {E.p(E.format_number(dot))}"),
          (numerator, numerator))
    if beta1 > 0.0:
        m_prev = b.row(st["exp_avg"], t - 1)
        m = b.row(st["exp_avg"], t)
        b.add("exp_avg", "first moment, each gradient weighted by d",
              r"m_t = \beta_1\,m_{t-1} + d_{t-1}(1 - \beta_1)\,g_t", f"m_{{{t}}}",
              lambda i: (rf"{E.format_number(beta1)} \cdot {E.p(E.format_number(m_prev[i]))} + "
                         rf"{E.format_number(d_prev * (1.0 - beta1))} \cdot {E.p(E.format_number(d_[i]))}"), m)
    v_prev = b.row(st["exp_avg_sq"], t - 1)
    v = b.row(st["exp_avg_sq"], t)
    b.add("exp_avg_sq", "second moment, each squared gradient weighted by d²",
          r"v_t = \beta_2\,v_{t-1} + d_{t-1}^2(1 - \beta_2)\,g_t^2", f"v_{{{t}}}",
          lambda i: (rf"{E.format_number(beta2)} \cdot {E.p(E.format_number(v_prev[i]))} + "
                     rf"{E.format_number(d_prev * d_prev * (1.0 - beta2))} \cdot {E.p(E.format_number(d_[i]))}^2"), v)
    s_prev = b.row(st["s"], t - 1)
    s = b.row(st["s"], t)
    weight = (d_prev / d0) * d_prev if h["safeguard_warmup"] else (d_prev / d0) * step_dlr
    b.add("s", "the running sum of weighted gradients (d's denominator is its size)",
          (r"s_t = \beta_3\,s_{t-1} + \frac{d_{t-1}}{d_0}\,d_{t-1}\,g_t" if h["safeguard_warmup"]
           else r"s_t = \beta_3\,s_{t-1} + \frac{d_{t-1}}{d_0}\,\delta_t\,g_t"), f"s_{{{t}}}",
          lambda i: (rf"{b3t} \cdot {E.p(E.format_number(s_prev[i]))} + {E.p(E.format_number(weight))} \cdot "
                     rf"{E.p(E.format_number(d_[i]))}"), s)
    d_hat = float(st["d_hat"][t])
    den = float(st["d_denom"][t])
    b.add("d_hat", "this step's estimate of d",
          r"\hat d_t = c_d\,\frac{N_t}{\lVert s_t \rVert_1}", rf"\hat d_{{{t}}}",
          lambda i: (rf"{E.format_number(h['d_coef'])} \cdot \frac{{{E.format_number(numerator)}}}"
                     rf"{{{E.format_number(den)}}}"), (d_hat, d_hat))
    d_new = float(st["d"][t])
    d_max = float(st["d_max"][t])
    growth = r"\infty" if h["growth_rate"] == math.inf else E.format_number(h["growth_rate"])
    b.add("d", "d: never falls, grows to the largest estimate so far (at most growth_rate× per step)",
          r"d_t = \min(\max_{s \le t} \hat d_s,\ \gamma\,d_{t-1})", f"d_{{{t}}}",
          lambda i: rf"\min({E.format_number(d_max)},\ {growth} \cdot {E.format_number(d_prev)})", (d_new, d_new))
    eff = b.row(run.effective_lr, t - 1)
    e = E.format_number(eps)
    direction, direction_sym = (b.row(st["exp_avg"], t), "m_t") if beta1 > 0.0 else (d_, "g_t")
    times_d = "" if beta1 > 0.0 else r" \cdot " + E.format_number(d_new)
    b.add("effective_lr", "effective step size" + ("" if beta1 > 0.0 else " (β₁ = 0: on g_t, times d)"),
          r"\eta_t = \frac{\delta_t}{\sqrt{v_t} + d_t\,\epsilon}" if beta1 > 0.0
          else r"\eta_t = \frac{\delta_t\,d_t}{\sqrt{v_t} + d_t\,\epsilon}", f"\\eta_{{{t}}}",
          lambda i: (rf"\frac{{{E.format_number(step_dlr)}{times_d}}}"
                     rf"{{\sqrt{{{E.format_number(v[i])}}} + {E.format_number(d_new)} \cdot {e}}}"), eff)
    theta_sym, digits = r"\theta_{t-1}", 5
    if wd != 0.0 and h["decouple"]:
        before = theta
        factor = -wd * step_dlr
        decayed = tuple(before[i] + factor * before[i] for i in range(2))
        digits = max(E.position_digits(before[i], decayed[i]) for i in range(2))
        theta = b.add("decayed_param", "decoupled weight decay (applied to the parameters first)",
                      r"\theta'_{t-1} = \theta_{t-1} - \lambda\,\delta_t\,\theta_{t-1}", f"\\theta'_{{{t - 1}}}",
                      lambda i: (rf"{E.format_number(before[i], digits)} - {E.format_number(wd)} \cdot "
                                 rf"{E.p(E.format_number(step_dlr))} \cdot {E.p(E.format_number(before[i], digits))}"),
                      decayed, digits)
        theta_sym = r"\theta'_{t-1}"
    new = []
    for i in range(2):
        denom = math.sqrt(v[i]) + d_new * eps
        if beta1 > 0.0:
            new.append(theta[i] + (-step_dlr * direction[i]) / denom)
        else:
            new.append(theta[i] + ((-step_dlr * d_new) * d_[i]) / denom)
    if run.state["d_denom"][t] == 0.0:  # the reference skipped the step: no move
        new = list(b.row(run.path, t))
    E.step_line(b, theta, theta_sym, r"\eta_t", eff, direction_sym, direction, (new[0], new[1]), digits)


def step_note(b: E.Builder) -> str:
    t = b.t
    d, d_hat = E.result(b, "d")[0], E.result(b, "d_hat")[0]
    d0 = b.h["d0"]
    if t == 1:
        return (f"At step 1 the gradient has not moved the run yet, so the numerator is 0 and d̂₁ = 0: d stays at "
                f"d₀ = {E.txt(d0)} and the step is tiny (about d₀·lr per coordinate); {E.moved(b)}.")
    sub = str(t).translate(E.SUB)
    grew = d > float(b.run.state["d"][t - 1])
    return (f"At step {t} the estimate is d̂{sub} = {E.txt(d_hat)}, so d is {E.txt(d)}"
            + (" (it grew: the gradients still point back past the start, so the solution is further than d said). "
               if grew else " (it never falls). ") + E.sentence(E.moved(b)))


NOTES = (
    "Prodigy is Adam whose learning rate it learns: the step is d·lr·m/(√v + d·ε), with lr a multiplier (1) and d "
    "an estimate of the distance from the start to the solution. d starts at d₀ = 1e-6, so the first steps are "
    "tiny; each step d̂ = (how far the gradients have pointed back toward the start) / (the size of their running "
    "sum s) gives a new estimate, and d grows to the largest so far (never falls; at most growth_rate× per step). "
    "Watch d climb by orders of magnitude in the v panel, then level off as the run arrives."
)


def recommended_lr(surface) -> float:
    """prodigyopt's advice, lr 1 (d sets the step size); 0.1 on the saddles, which have no solution for d to
    measure the distance to: d grows without end there, and at lr 1 the run leaves the plot in some twenty steps."""
    return _LR.get(surface.name, 1.0)


_LR = {"saddle": 0.1, "monkey_saddle": 0.1, "noisy_saddle": 0.1}

SPEC = Optimizer(
    "prodigy", "Prodigy", "Adam with a learnt step size d (an estimate of the distance to the solution)",
    PARAMS, STATE, check, pack, init, step, ("prodigyopt", "Prodigy"), package="prodigyopt", reference_options={},
    recommended_lr=recommended_lr, kept=kept, effective_lr=effective_lr, momentum=momentum, panels=panels,
    explain=explain, notes=NOTES, step_note=step_note, title_options=title_options,
    decoupled=lambda h: h["decouple"],
    listed=lambda key, value: value is not None and value != math.inf and not (value == 0 and key == "weight_decay"),
    look_for="tiny first steps (d₀ = 1e-6), then d grows by orders of magnitude in a few dozen steps and the run "
             "takes off",
)

"""AdEMAMix (``pytorch_optimizer.AdEMAMix``, package ``pytorch-optimizer``): Adam plus a slow momentum.

Per coordinate, at step t (``AdEMAMix.step``'s single-tensor path, in its order of operations):
``bc1 = 1 - beta1^t``, ``bc2_sq = sqrt(1 - beta2^t)``; the warm-up (when ``t_alpha_beta3`` is a number T, else
``alpha_t = alpha``, ``beta3_t = beta3``): ``alpha_t = min(t alpha / T, alpha)``,
``beta3_t = min(exp(ln beta1 ln beta3 / ((1 - t/T) ln beta3 + (t/T) ln beta1)), beta3)``;
weight decay (L2 ``g += wd p``, or with ``weight_decouple`` ``p *= 1 - wd lr``, ``1 - wd`` with
``fixed_decay``); ``exp_avg = lerp(exp_avg, g, 1 - beta1)``; ``exp_avg_sq = beta2 exp_avg_sq + (1 - beta2) g^2``;
``exp_avg_slow = lerp(exp_avg_slow, g, 1 - beta3_t)``; ``denom = sqrt(exp_avg_sq) / bc2_sq + eps``;
``update = exp_avg / bc1 + alpha_t exp_avg_slow``; ``p += (-lr update) / denom``.

``cautious`` (a keyword the reference takes through ``**kwargs``): the fast momentum counts only in the
coordinates where it agrees in sign with the gradient, scaled by 2 / (agreeing + 1) (the parameter's size over
the count plus one), before the division by bc1. The slow momentum is not bias-corrected (the paper's choice:
it is meant to build up over thousands of steps).
"""

from __future__ import annotations

import math

import numpy as np

from surfaces._numba import jit

from . import _common as C
from . import _explain as E
from ._base import VECTOR, Optimizer, Param, lerp, sqrt, steps_column

PARAMS = (
    C.lr(1e-3),
    C.betas((0.9, 0.999, 0.9999), (
        "Decay of the fast momentum m₁ (Adam's); pytorch-optimizer default 0.9.",
        "Decay of the second moment v_t; default 0.999.",
        "Decay of the slow momentum m₂: it averages about 1/(1 − β₃) gradients (10,000 at the default 0.9999).")),
    C.weight_decay(0.0, "L2 penalty added to the gradient (weight_decouple: applied to the parameters)."),
    C.flag("weight_decouple", "decoupled wd", "weight_decouple",
           "Apply weight_decay to the parameters, θ ← θ(1 − lr·λ), as AdamW does, instead of adding λθ to the "
           "gradient."),
    C.flag("fixed_decay", "fixed decay", "fixed_decay",
           "With weight_decouple: θ ← θ(1 − λ), not scaled by the learning rate."),
    Param("alpha", 5.0, r"\alpha", "α", "alpha (α)",
          "Weight of the slow momentum m₂ against the fast one in the step; pytorch-optimizer default 5.",
          (0.0, 100.0), None, 0.5),
    Param("t_alpha_beta3", None, r"T_{\alpha\beta_3}", "T", "t_alpha_beta3",
          "Warm-up length in steps: α and β₃ grow from 0 and β₁ to their values over this many steps, so the slow "
          "momentum does not lean on its first few gradients. Empty (None, the default): no warm-up.",
          (1.0, 100000.0), None, 10.0, advanced=True),
    C.eps(1e-8),
    C.flag("cautious", "cautious", "cautious",
           "Cautious update: keep the fast momentum only where it agrees in sign with the gradient (rescaled), a "
           "keyword pytorch-optimizer takes."),
)
STATE = (("exp_avg", VECTOR), ("exp_avg_sq", VECTOR), ("exp_avg_slow", VECTOR))


def check(h: dict) -> None:
    """pytorch-optimizer's checks, in its order, with its messages (its negative lr error says
    "learning rate must be positive. (-1.0 > 0)")."""
    if h["lr"] < 0.0:
        raise ValueError(f"learning rate must be positive. ({h['lr']} > 0)")
    beta1, beta2, beta3 = h["betas"]
    for name, ok, bracket in (("beta1", 0.0 <= beta1 < 1.0, ")"), ("beta2", 0.0 <= beta2 < 1.0, ")"),
                              ("beta3", 0.0 <= beta3 <= 1.0, "]")):
        if not ok:
            raise ValueError(f"{name} must be in the range [0.0, 1.0{bracket}")
    for key in ("alpha", "t_alpha_beta3", "weight_decay", "eps"):
        if h[key] is not None and h[key] < 0.0:
            raise ValueError(f"{key} must be non-negative")
    if h["t_alpha_beta3"] == 0.0:  # the reference takes it, then divides by it at the first step
        raise ValueError("t_alpha_beta3 must be positive (a warm-up of 0 steps divides by zero); None: no warm-up")


def pack(h: dict) -> tuple[float, ...]:
    warmup = h["t_alpha_beta3"]
    return (*h["betas"], h["weight_decay"], float(h["weight_decouple"]), float(h["fixed_decay"]), h["alpha"],
            0.0 if warmup is None else 1.0, 0.0 if warmup is None else warmup, h["eps"], float(h["cautious"]))


@jit
def init(hp, p, st):
    pass


@jit
def step(t, lr, hp, g, p, st):
    beta1, beta2, beta3, wd = hp[0], hp[1], hp[2], hp[3]
    decouple, fixed, alpha, warm, big_t, eps, cautious = hp[4] != 0.0, hp[5] != 0.0, hp[6], hp[7] != 0.0, hp[8], \
        hp[9], hp[10] != 0.0
    tf = float(t)
    bc1 = 1.0 - math.pow(beta1, tf)
    bc2_sq = math.sqrt(1.0 - math.pow(beta2, tf))
    alpha_t = alpha
    beta3_t = beta3
    if warm:
        a = tf * alpha / big_t
        alpha_t = alpha if alpha < a else a  # Python's min(a, alpha)
        log_beta1, log_beta3 = math.log(beta1), math.log(beta3)
        b = math.exp(log_beta1 * log_beta3 / ((1.0 - tf / big_t) * log_beta3 + (tf / big_t) * log_beta1))
        beta3_t = beta3 if beta3 < b else b
    d0, d1 = g[0], g[1]
    if wd != 0.0:
        if decouple:
            factor = 1.0 - wd * (1.0 if fixed else lr) * 1.0
            p[0] = p[0] * factor
            p[1] = p[1] * factor
        elif wd > 0.0:
            d0 = d0 + wd * p[0]
            d1 = d1 + wd * p[1]
    scale0, scale1 = 1.0, 1.0
    for k in range(2):
        d = d0 if k == 0 else d1
        st[k] = C.lerp(st[k], d, 1.0 - beta1)
        st[2 + k] = st[2 + k] * beta2 + ((1.0 - beta2) * d) * d
        st[4 + k] = C.lerp(st[4 + k], d, 1.0 - beta3_t)
    if cautious:
        m0 = 1.0 if st[0] * d0 > 0.0 else 0.0
        m1 = 1.0 if st[1] * d1 > 0.0 else 0.0
        share = 2.0 / ((m0 + m1) + 1.0)
        scale0, scale1 = m0 * share, m1 * share
    for k in range(2):
        denom = math.sqrt(st[2 + k]) / bc2_sq + eps
        update = st[k] * (scale0 if k == 0 else scale1) if cautious else st[k]
        update = update / bc1
        update = update + alpha_t * st[4 + k]
        p[k] = p[k] + (-lr * update) / denom


def schedule(h: dict, t: float) -> tuple[float, float]:
    """(alpha_t, beta3_t) at step ``t``, in the reference's (and the kernel's) scalar arithmetic (math's log and
    exp, not numpy's vectorised ones, which can differ in the last bit)."""
    alpha, (beta1, _, beta3), big_t = h["alpha"], h["betas"], h["t_alpha_beta3"]
    if big_t is None:
        return alpha, beta3
    a = t * alpha / big_t
    log_beta1, log_beta3 = math.log(beta1), math.log(beta3)
    b = math.exp(log_beta1 * log_beta3 / ((1.0 - t / big_t) * log_beta3 + (t / big_t) * log_beta1))
    return (alpha if alpha < a else a), (beta3 if beta3 < b else b)


def schedules(run) -> tuple[np.ndarray, np.ndarray]:
    """alpha_t and beta3_t of every step, as (n, 1) columns."""
    values = np.array([schedule(run.spec.hyper, float(t)) for t in range(1, run.steps_done + 1)]).reshape(-1, 2)
    return values[:, :1], values[:, 1:]


def used_gradient(run) -> np.ndarray:
    h = run.spec.hyper
    if h["weight_decay"] > 0.0 and not h["weight_decouple"]:
        return run.grad + h["weight_decay"] * run.path[:-1]
    return run.grad


def cautious_scale(run) -> np.ndarray:
    """The factor on the fast momentum per coordinate ((n, 2)): 1 without ``cautious``."""
    m = run.state["exp_avg"][1:]
    if not run.spec.hyper["cautious"]:
        return np.ones_like(m)
    agree = (m * used_gradient(run) > 0.0).astype(float)
    return agree * (2.0 / (agree.sum(axis=1, keepdims=True) + 1.0))


def bias_corrected(run) -> dict[str, np.ndarray]:
    """``m_hat`` (fast momentum over 1 − β₁^t, with the cautious mask), ``v_hat``, and ``mix``: what the step
    divides by √v̂ + ε, m̂ + α_t·m₂."""
    h = run.spec.hyper
    t = steps_column(run)
    beta1, beta2, _ = h["betas"]
    st = run.state
    m_hat = st["exp_avg"][1:] * cautious_scale(run) / (1.0 - C.power(beta1, t))
    alpha_t, _ = schedules(run)
    return {"m_hat": m_hat, "v_hat": st["exp_avg_sq"][1:] / (1.0 - C.power(beta2, t)),
            "mix": m_hat + alpha_t * st["exp_avg_slow"][1:]}


def momentum(run) -> np.ndarray:
    return run.bias_corrected["mix"]


def panels(run) -> tuple[list, list]:
    st = run.state
    return ([("m₁ (exp_avg, fast)", st["exp_avg"][1:], "solid"), ("m₂ (exp_avg_slow)", st["exp_avg_slow"][1:], "dash"),
             ("m̂₁ + α·m₂ (the mix the step follows)", run.bias_corrected["mix"], "dot")],
            [("v_t (exp_avg_sq)", st["exp_avg_sq"][1:], "solid"),
             ("v̂_t (bias-corrected)", run.bias_corrected["v_hat"], "dot")])


def title_options(h: dict) -> list[str]:
    out = []
    if h["weight_decouple"] and h["weight_decay"]:
        out.append("fixed decay" if h["fixed_decay"] else "decoupled wd")
    if h["t_alpha_beta3"] is not None:
        out.append("warm-up")
    if h["cautious"]:
        out.append("cautious")
    return out


def explain(b: E.Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, (beta1, beta2, beta3), eps, wd = b.lr, h["betas"], h["eps"], h["weight_decay"]
    theta = b.row(run.path, t - 1)
    g = E.gradient(b)
    theta_sym, digits = r"\theta_{t-1}", 5
    if wd != 0.0 and h["weight_decouple"]:
        factor = 1.0 - wd * (1.0 if h["fixed_decay"] else lr) * 1.0
        digits = max(E.position_digits(theta[k], theta[k] * factor) for k in range(2))
        before = theta
        formula = (r"\theta'_{t-1} = \theta_{t-1}\,(1 - \lambda)" if h["fixed_decay"]
                   else r"\theta'_{t-1} = \theta_{t-1}\,(1 - \eta\lambda)")
        theta = b.add("decayed_param", "decoupled weight decay (applied to the parameters first)", formula,
                      f"\\theta'_{{{t - 1}}}",
                      lambda k: f"{E.format_number(before[k], digits)} \\cdot {E.format_number(factor, 12)}",
                      (before[0] * factor, before[1] * factor), digits)
        theta_sym = r"\theta'_{t-1}"
        d = g
    elif wd > 0.0:
        d = E.l2(b, g, theta)
    else:
        d = g
    tf = float(t)
    alpha_t, beta3_t = schedule(h, tf)
    if h["t_alpha_beta3"] is not None:
        big_t, a = E.format_number(h["t_alpha_beta3"]), E.format_number(h["alpha"])
        b.add("alpha_t", "warm-up of α (grows linearly to α over T steps)",
              r"\alpha_t = \min(t\,\alpha / T,\ \alpha)", rf"\alpha_{{{t}}}",
              lambda k: rf"\min({t} \cdot {a} / {big_t},\ {a})", (alpha_t, alpha_t))
        b1, b3 = E.format_number(beta1), E.format_number(beta3)
        b.add("beta3_t", "warm-up of β₃ (from β₁ to β₃ over T steps, evenly in the averaging length)",
              r"\beta_{3,t} = \min\Big(\exp\frac{\ln\beta_1 \ln\beta_3}{(1 - t/T)\ln\beta_3 + (t/T)\ln\beta_1},\ "
              r"\beta_3\Big)", rf"\beta_{{3,{t}}}",
              lambda k: (rf"\min\Big(\exp\frac{{\ln {b1} \ln {b3}}}{{(1 - {t}/{big_t})\ln {b3} + ({t}/{big_t})"
                         rf"\ln {b1}}},\ {b3}\Big)"), (beta3_t, beta3_t))
    b1, one_b1 = E.format_number(beta1), E.format_number(1.0 - beta1)
    b2, one_b2 = E.format_number(beta2), E.format_number(1.0 - beta2)
    m_prev = b.row(run.state["exp_avg"], t - 1)
    m = tuple(lerp(m_prev[k], d[k], 1.0 - beta1) for k in range(2))
    b.add("exp_avg", "fast momentum (Adam's first moment)", r"m_{1,t} = \beta_1\,m_{1,t-1} + (1 - \beta_1)\,g_t",
          f"m_{{1,{t}}}",
          lambda k: f"{b1} \\cdot {E.p(E.format_number(m_prev[k]))} + {one_b1} \\cdot {E.p(E.format_number(d[k]))}", m)
    v_prev = b.row(run.state["exp_avg_sq"], t - 1)
    v = tuple(v_prev[k] * beta2 + ((1.0 - beta2) * d[k]) * d[k] for k in range(2))
    b.add("exp_avg_sq", "second moment (running mean of squared gradients)",
          r"v_t = \beta_2\,v_{t-1} + (1 - \beta_2)\,g_t^2", f"v_{{{t}}}",
          lambda k: f"{b2} \\cdot {E.p(E.format_number(v_prev[k]))} + {one_b2} \\cdot {E.p(E.format_number(d[k]))}^2",
          v)
    s_prev = b.row(run.state["exp_avg_slow"], t - 1)
    s = tuple(lerp(s_prev[k], d[k], 1.0 - beta3_t) for k in range(2))
    b3t, one_b3t = E.format_number(beta3_t, 8), E.format_number(1.0 - beta3_t)
    b3_sym = r"\beta_{3,t}" if h["t_alpha_beta3"] is not None else r"\beta_3"
    b.add("exp_avg_slow", "slow momentum (averages about 1/(1 − β₃) gradients; no bias correction)",
          rf"m_{{2,t}} = {b3_sym}\,m_{{2,t-1}} + (1 - {b3_sym})\,g_t", f"m_{{2,{t}}}",
          lambda k: f"{b3t} \\cdot {E.p(E.format_number(s_prev[k]))} + {one_b3t} \\cdot {E.p(E.format_number(d[k]))}",
          s)
    scale = (1.0, 1.0)
    if h["cautious"]:
        agree = tuple(1.0 if m[k] * d[k] > 0.0 else 0.0 for k in range(2))
        share = 2.0 / ((agree[0] + agree[1]) + 1.0)
        scale = (agree[0] * share, agree[1] * share)
        b.add("cautious", "cautious mask: the fast momentum counts only where it agrees with g_t",
              r"c_t = [m_{1,t}\,g_t > 0] \cdot \frac{2}{\#\{\text{agreeing}\} + 1}", f"c_{{{t}}}",
              lambda k: (rf"[{E.p(E.format_number(m[k]))} \cdot {E.p(E.format_number(d[k]))} > 0] \cdot "
                         rf"\frac{{2}}{{{int(agree[0] + agree[1])} + 1}}"), scale)
    bc1 = 1.0 - math.pow(beta1, tf)
    m_hat = b.row(run.bias_corrected["m_hat"], t - 1)
    c_sym = r"c_t\,m_{1,t}" if h["cautious"] else "m_{1,t}"
    b.add("m_hat", "bias-corrected fast momentum", rf"\hat m_{{1,t}} = \frac{{{c_sym}}}{{1 - \beta_1^t}}",
          f"\\hat m_{{1,{t}}}", lambda k: rf"\frac{{{E.format_number(m[k] * scale[k])}}}{{1 - {b1}^{{{t}}}}}", m_hat)
    mix = b.row(run.bias_corrected["mix"], t - 1)
    a_sym = r"\alpha_t" if h["t_alpha_beta3"] is not None else r"\alpha"
    at = E.format_number(alpha_t)
    b.add("mix", "the mix the step follows: fast plus α times slow",
          rf"u_t = \hat m_{{1,t}} + {a_sym}\,m_{{2,t}}", f"u_{{{t}}}",
          lambda k: f"{E.format_number(m_hat[k])} + {at} \\cdot {E.p(E.format_number(s[k]))}", mix)
    v_hat = b.row(run.bias_corrected["v_hat"], t - 1)
    b.add("v_hat", "bias-corrected second moment", r"\hat v_t = \frac{v_t}{1 - \beta_2^t}", f"\\hat v_{{{t}}}",
          lambda k: rf"\frac{{{E.format_number(v[k])}}}{{1 - {b2}^{{{t}}}}}", v_hat)
    eff = b.row(run.effective_lr, t - 1)
    e = E.format_number(eps)
    b.add("effective_lr", "effective step size", r"\eta_t = \frac{\eta}{\sqrt{\hat v_t} + \epsilon}", f"\\eta_{{{t}}}",
          lambda k: rf"\frac{{{E.format_number(lr)}}}{{\sqrt{{{E.format_number(v_hat[k])}}} + {e}}}", eff)
    bc2_sq = math.sqrt(1.0 - math.pow(beta2, tf))
    new = []
    for k in range(2):
        denom = sqrt(v[k]) / bc2_sq + eps
        update = (m[k] * scale[k] if h["cautious"] else m[k]) / bc1
        update = update + alpha_t * s[k]
        new.append(theta[k] + (-lr * update) / denom)
    E.step_line(b, theta, theta_sym, r"\eta_t", eff, "u_t", mix, (new[0], new[1]), digits)


def step_note(b: E.Builder) -> str:
    t = b.t
    m_hat, s, mix = E.result(b, "m_hat"), E.result(b, "exp_avg_slow"), E.result(b, "mix")
    alpha_t = schedule(b.h, float(t))[0]
    if t == 1:
        return (f"At step 1 m̂₁ = g₁ as in Adam, while the slow momentum holds only (1 − β₃)·g₁ = {E.xy(s)}, so α·m₂ "
                f"adds little: the mix is {E.xy(mix)} and the step is Adam's, lr-sized; {E.moved(b)}.")
    sub = str(t).translate(E.SUB)
    share = [abs(alpha_t * s[k]) / (abs(m_hat[k]) + abs(alpha_t * s[k])) if (m_hat[k] or s[k]) else 0.0
             for k in range(2)]
    return (f"At step {t} the fast momentum m̂₁ is {E.xy(m_hat)} and α·m₂ is {E.xy(tuple(alpha_t * x for x in s))} "
            f"(α = {E.txt(alpha_t)}): the slow momentum makes {E.txt(100 * share[0])}% of the mix in x and "
            f"{E.txt(100 * share[1])}% in y, u{sub} = {E.xy(mix)}. " + E.sentence(E.moved(b)))


NOTES = (
    "AdEMAMix is Adam plus a second, slow momentum: the step follows m̂₁ + α·m₂, where m₁ is Adam's fast average of "
    "gradients (β₁ = 0.9) and m₂ a much slower one (β₃ = 0.9999, about 10,000 gradients, not bias-corrected), "
    "weighted by α = 5, over Adam's √v̂ + ε. At first m₂ is tiny and AdEMAMix is Adam; as m₂ builds up it keeps "
    "pushing the way the gradients have pointed for a long time, past small bumps and through a long valley, and "
    "it turns late. t_alpha_beta3 warms α and β₃ up over that many steps."
)

SPEC = Optimizer(
    "ademamix", "AdEMAMix", "Adam plus a slow momentum (β₃ = 0.9999) weighted by α: m̂₁ + α·m₂ over √v̂",
    PARAMS, STATE, check, pack, init, step, ("pytorch_optimizer", "AdEMAMix"), package="pytorch-optimizer",
    recommended_lr=C.surface_lr("adam"), bias_corrected=bias_corrected, divisor_moment=C.v_hat,
    effective_lr=C.lr_over_root_v_hat, momentum=momentum, panels=panels, explain=explain, notes=NOTES,
    step_note=step_note,
    title_options=title_options, decoupled=lambda h: h["weight_decouple"],
    listed=lambda key, value: value is not None and not (value == 0 and key == "weight_decay"),
    look_for="Adam at first; then the slow momentum builds up and carries the run on, overshooting where the "
             "valley turns",
)

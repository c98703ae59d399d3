"""RAdam (torch.optim.RAdam): Adam whose adaptive step is switched on, and rectified, once v_t is reliable.

Per coordinate, at step t (torch's ``_single_tensor_radam``, in its order of operations): weight decay (L2, or
decoupled ``p *= 1 - lr weight_decay``); ``exp_avg = lerp(exp_avg, g, 1 - beta1)``;
``exp_avg_sq = beta2 exp_avg_sq + (1 - beta2) g^2``; ``bc1 = 1 - beta1^t``, ``bc2 = 1 - beta2^t``;
``m_hat = exp_avg / bc1``; ``rho_inf = 2 / (1 - beta2) - 1``, ``rho_t = rho_inf - 2 t beta2^t / bc2`` (the
length of the approximated simple moving average). While ``rho_t <= 5``: ``p -= m_hat lr`` (SGD with
momentum); after: ``p -= m_hat lr (sqrt(bc2) / (sqrt(exp_avg_sq) + eps)) r_t`` with the rectification
``r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))``.

torch computes rho_t (a Python float) and does not store it; optiviz records it (``rho_t``) and whether the
rectified adaptive step applied (``rect_applied``, 1 or 0), scalars per step.
"""

from __future__ import annotations

import math

import numpy as np

from surfaces._numba import jit

from . import _common as C
from . import _explain as E
from . import nadam
from ._base import SCALAR, VECTOR, Optimizer, at_least_zero, check_betas, lr_column, steps_column

PARAMS = (
    C.lr(1e-3),
    C.betas((0.9, 0.999), ("Decay of the first moment m_t (momentum); torch default 0.9.",
                           "Decay of the second moment v_t; also sets when the rectification starts (ρ_t > 5: "
                           "step 6 at 0.999, later for smaller β₂). torch default 0.999.")),
    C.eps(1e-8),
    C.weight_decay(0.0, "L2 penalty added to the gradient (decoupled_weight_decay: applied to the parameters)."),
    C.flag("decoupled_weight_decay", "decoupled wd", "decoupled_weight_decay",
           "Apply weight_decay to the parameters, θ ← θ(1 − lr·λ), as AdamW does, instead of adding λθ to the "
           "gradient."),
)
STATE = (("exp_avg", VECTOR), ("exp_avg_sq", VECTOR), ("rho_t", SCALAR), ("rect_applied", SCALAR))
#: torch's threshold: the adaptive step applies where rho_t > 5.
THRESHOLD = 5.0


def check(h: dict) -> None:
    at_least_zero("Invalid learning rate: {}", h["lr"])
    at_least_zero("Invalid epsilon value: {}", h["eps"])
    check_betas(h["betas"])
    at_least_zero("Invalid weight_decay value: {}", h["weight_decay"])


def pack(h: dict) -> tuple[float, ...]:
    # Slot 5: the exponent 0.5 of torch's ``(...) ** 0.5`` (Python floats), given at run time so that the compiler
    # keeps pow() as CPython computes it (see adam.packer).
    return (*h["betas"], h["eps"], h["weight_decay"], float(h["decoupled_weight_decay"]), 0.5)


@jit
def init(hp, p, st):
    pass


@jit
def step(t, lr, hp, g, p, st):
    beta1, beta2, eps, wd, decoupled, half = hp[0], hp[1], hp[2], hp[3], hp[4] != 0.0, hp[5]
    tf = float(t)
    bc1 = 1.0 - beta1**tf
    bc2 = 1.0 - beta2**tf
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = rho_inf - 2.0 * tf * (beta2**tf) / bc2
    applied = rho_t > 5.0
    rect = 0.0
    bc2_sqrt = 0.0
    if applied:
        rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)) ** half
        bc2_sqrt = bc2**half
    st[4] = rho_t
    st[5] = 1.0 if applied else 0.0
    for k in range(2):
        d = g[k]
        if wd != 0.0:
            if decoupled:
                p[k] = p[k] * (1.0 - lr * wd)
            else:
                d = d + wd * p[k]
        st[k] = C.lerp(st[k], d, 1.0 - beta1)
        st[2 + k] = st[2 + k] * beta2 + ((1.0 - beta2) * d) * d
        m_hat = st[k] / bc1
        if applied:
            adaptive = (1.0 / (math.sqrt(st[2 + k]) + eps)) * bc2_sqrt  # torch: float / tensor = reciprocal * float
            p[k] = p[k] - ((m_hat * lr) * adaptive) * rect
        else:
            p[k] = p[k] - m_hat * lr


def rho(beta2: float, t):
    """torch's rho_t for step(s) ``t`` (float or array), in its order of operations."""
    power = C.power(beta2, t)
    bc2 = 1.0 - power
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    return rho_inf - 2.0 * t * power / bc2


def rectification(run) -> np.ndarray:
    """r_t per step ((n,)): 0 where the adaptive step did not apply."""
    beta2 = run.spec.hyper["betas"][1]
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = run.state["rho_t"][1:]
    on = run.state["rect_applied"][1:] != 0.0
    with np.errstate(all="ignore"):
        r = np.sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
    return np.where(on, r, 0.0)


def bias_corrected(run) -> dict[str, np.ndarray]:
    h = run.spec.hyper
    t = steps_column(run)
    beta1, beta2 = h["betas"]
    st = run.state
    return {"m_hat": st["exp_avg"][1:] / (1.0 - C.power(beta1, t)),
            "v_hat": st["exp_avg_sq"][1:] / (1.0 - C.power(beta2, t))}


def divisor_moment(run) -> np.ndarray:
    """v̂_t where the adaptive step applied; 1 elsewhere (the step then divides by nothing)."""
    on = run.state["rect_applied"][1:, None] != 0.0
    return np.where(on, run.bias_corrected["v_hat"], 1.0)


def effective_lr(run) -> np.ndarray:
    """What multiplies m̂_t: ``lr`` before the rectification applies, ``lr r_t √bc2 / (√v_t + eps)`` after."""
    h = run.spec.hyper
    bc2 = 1.0 - C.power(h["betas"][1], steps_column(run))
    on = run.state["rect_applied"][1:, None] != 0.0
    lr = lr_column(run)
    with np.errstate(all="ignore"):
        adaptive = lr * rectification(run)[:, None] * np.sqrt(bc2) / (np.sqrt(run.state["exp_avg_sq"][1:]) + h["eps"])
    return np.where(on, adaptive, np.broadcast_to(lr, adaptive.shape))


def momentum(run) -> np.ndarray:
    return run.bias_corrected["m_hat"]


def panels(run) -> tuple[list, list]:
    st = run.state
    r = np.repeat(rectification(run)[:, None], 2, axis=1)
    return ([("m_t (exp_avg)", st["exp_avg"][1:], "solid"), ("m̂_t (bias-corrected)", run.bias_corrected["m_hat"],
                                                            "dot")],
            [("v_t (exp_avg_sq)", st["exp_avg_sq"][1:], "solid"),
             ("v̂_t (bias-corrected)", run.bias_corrected["v_hat"], "dot"),
             ("r_t (rectification; 0 while ρ_t ≤ 5)", r, "dash")])


def explain(b: E.Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, (beta1, beta2), eps = b.lr, h["betas"], h["eps"]
    d, theta, theta_sym, digits = nadam.weight_decay_lines(b)
    m, v = nadam.moments(b, d)
    b1, b2 = E.format_number(beta1), E.format_number(beta2)
    bc2 = 1.0 - beta2 ** float(t)
    m_hat = b.row(run.bias_corrected["m_hat"], t - 1)
    b.add("m_hat", "bias-corrected first moment", r"\hat m_t = \frac{m_t}{1 - \beta_1^t}", f"\\hat m_{{{t}}}",
          lambda k: rf"\frac{{{E.format_number(m[k])}}}{{1 - {b1}^{{{t}}}}}", m_hat)
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = float(run.state["rho_t"][t])
    ri = E.format_number(rho_inf)
    b.add("rho_t", "length of the approximated moving average (ρ_∞ = 2/(1 − β₂) − 1)",
          r"\rho_t = \rho_\infty - \frac{2t\,\beta_2^t}{1 - \beta_2^t}", rf"\rho_{{{t}}}",
          lambda k: rf"{ri} - \frac{{2 \cdot {t} \cdot {b2}^{{{t}}}}}{{1 - {b2}^{{{t}}}}}", (rho_t, rho_t))
    applied = run.state["rect_applied"][t] != 0.0
    eff = b.row(run.effective_lr, t - 1)
    lr_text = E.format_number(lr)
    if applied:
        r = float(rectification(run)[t - 1])
        rt = E.format_number(rho_t)
        b.add("rect", "rectification (ρ_t > 5: the adaptive step applies)",
              r"r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\,\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\,\rho_t}}",
              f"r_{{{t}}}", lambda k: (rf"\sqrt{{\frac{{({rt} - 4)({rt} - 2) \cdot {ri}}}{{({ri} - 4)({ri} - 2) "
                                       rf"\cdot {rt}}}}}"), (r, r))
        v_hat = b.row(run.bias_corrected["v_hat"], t - 1)
        b.add("v_hat", "bias-corrected second moment", r"\hat v_t = \frac{v_t}{1 - \beta_2^t}", f"\\hat v_{{{t}}}",
              lambda k: rf"\frac{{{E.format_number(v[k])}}}{{1 - {b2}^{{{t}}}}}", v_hat)
        e = E.format_number(eps)
        rs = E.format_number(r)
        b.add("effective_lr", "effective step size (rectified adaptive)",
              r"\eta_t = \frac{\eta\,r_t}{\sqrt{\hat v_t} + \epsilon}", f"\\eta_{{{t}}}",
              lambda k: rf"\frac{{{lr_text} \cdot {rs}}}{{\sqrt{{{E.format_number(v_hat[k])}}} + {e}}}", eff)
        bc2_sqrt = bc2**0.5
        new = tuple(theta[k] - ((m_hat[k] * lr) * ((1.0 / (math.sqrt(v[k]) + eps)) * bc2_sqrt)) * r for k in range(2))
    else:
        b.add("effective_lr", "effective step size (ρ_t ≤ 5: no adaptive step yet, momentum SGD)",
              r"\eta_t = \eta", f"\\eta_{{{t}}}", lambda k: lr_text, eff)
        new = tuple(theta[k] - m_hat[k] * lr for k in range(2))
    E.step_line(b, theta, theta_sym, r"\eta_t", eff, r"\hat m_t", m_hat, new, digits)


def step_note(b: E.Builder) -> str:
    t, h = b.t, b.h
    rho_t = E.result(b, "rho_t")[0]
    m_hat = E.result(b, "m_hat")
    if "rect" not in [line.key for line in b.lines]:
        return (f"At step {t} ρ{str(t).translate(E.SUB)} = {E.txt(rho_t)} ≤ 5: too few squared gradients for a "
                f"trustworthy v̂, so RAdam takes a plain momentum step, lr × m̂ with m̂ = {E.xy(m_hat)} (not lr-sized "
                f"as Adam's would be: it scales with the gradient); {E.moved(b)}.")
    r = E.result(b, "rect")[0]
    eff = E.result(b, "effective_lr")
    sub = str(t).translate(E.SUB)
    return (f"At step {t} ρ{sub} = {E.txt(rho_t)} > 5, so the adaptive step applies, scaled by the rectification "
            f"r{sub} = {E.txt(r)} (it grows toward 1 as ρ_t approaches ρ_∞ = "
            f"{E.txt(2.0 / (1.0 - h['betas'][1]) - 1.0)}): the effective step size is {E.xy(eff)}. "
            + E.sentence(E.moved(b)))


NOTES = (
    "RAdam is Adam with a warm-up worked out from β₂: while ρ_t ≤ 5 (the first five steps at β₂ = 0.999) v̂ rests "
    "on too few gradients to be trusted, and the step is plain momentum SGD, lr·m̂, sized by the gradient. From "
    "then on it is Adam's step lr·m̂/(√v̂ + ε) times the rectification r_t, which starts small and grows toward 1, "
    "so the first adaptive steps are short. Watch the dashed r_t in the v panel switch on, and the effective step "
    "size jump from lr to the adaptive one."
)

def recommended_lr(surface) -> float:
    """An lr for both phases: the first five steps are lr × m̂ (momentum SGD, sized by the gradient), so Adam's lr
    throws a steep surface's run out at once; a tenth of Adam's elsewhere."""
    return _LR.get(surface.name, surface.lr["adam"] / 10.0)


_LR = {"rosenbrock": 1e-2, "beale": 1e-2, "himmelblau": 3e-2, "rastrigin": 1e-2, "ackley": 0.1, "booth": 0.1,
       "matyas": 0.1, "goldstein_price": 1e-5, "three_hump_camel": 1e-2, "six_hump_camel": 1e-2,
       "styblinski_tang": 3e-2, "levi": 1e-2, "quadratic": 0.1, "saddle": 1e-2, "monkey_saddle": 1e-2,
       "noisy_saddle": 1e-2}

SPEC = Optimizer(
    "radam", "RAdam", "Adam with a variance-rectified warm-up: momentum SGD until v̂ is reliable, then rectified Adam",
    PARAMS, STATE, check, pack, init, step, ("torch.optim", "RAdam"),
    recommended_lr=recommended_lr, bias_corrected=bias_corrected, divisor_moment=divisor_moment,
    effective_lr=effective_lr, momentum=momentum, panels=panels, explain=explain, notes=NOTES, step_note=step_note,
    title_options=nadam.title_options, decoupled=lambda h: h["decoupled_weight_decay"],
    look_for="the first steps are lr × m̂ (gradient-sized, possibly huge); then r_t switches on and Adam-like steps "
             "follow, short at first",
)

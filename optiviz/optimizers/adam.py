"""Adam (torch.optim.Adam), and the pieces AdamW (adamw.py) shares.

Per coordinate, at step t (``g`` the gradient; "L2" means ``g <- g + weight_decay * p`` when weight_decay != 0):
L2; ``exp_avg = lerp(exp_avg, g, 1 - beta1)``; ``exp_avg_sq = beta2 exp_avg_sq + (1 - beta2) g^2``;
``bc1 = 1 - beta1^t``, ``bc2 = 1 - beta2^t``; amsgrad: ``max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq)``
used in place of exp_avg_sq below; ``p -= (lr / bc1) exp_avg / (sqrt(exp_avg_sq) / sqrt(bc2) + eps)``.
AdamW: decoupled weight decay, ``p *= 1 - lr weight_decay`` first, no L2.

Two options of optiviz's own, at torch's behaviour by default: ``eps_inside_sqrt=True`` (``sqrt(v_hat + eps)``,
as Keras and optax) and ``bias_correction=False`` (``bc1 = bc2 = 1``, as apex's FusedAdam(bias_correction=False)).
Floating-point operations follow torch's ``_single_tensor_adam`` in order, so float64 results agree to rounding.
"""

from __future__ import annotations

import math

import numpy as np

from surfaces._numba import jit

from . import _common as C
from . import _explain as E
from ._base import VECTOR, Optimizer, at_least_zero, check_betas, lerp, lr_column, sqrt, steps_column

PARAMS = (
    C.lr(1e-3),
    C.betas((0.9, 0.999), ("Decay of the first moment m_t (momentum); torch default 0.9.",
                           "Decay of the second moment v_t (RMS of gradients); torch default 0.999.")),
    C.eps(1e-8),
    C.weight_decay(0.0, "L2 penalty added to the gradient (AdamW: decoupled, applied to the parameters)."),
    C.flag("amsgrad", "AMSGrad", "amsgrad", "Use the running maximum of v_t (AMSGrad)."),
    C.eps_inside_sqrt(),
    C.flag("bias_correction", "no bias correction", "bias correction",
           "Divide m_t by 1 − β₁^t and v_t by 1 − β₂^t (on in PyTorch and the Adam paper). Off: m̂ = m and v̂ = v, "
           "as apex's FusedAdam(bias_correction=False). Not a torch.optim option.", default=True, extension=True),
)
STATE = (("exp_avg", VECTOR), ("exp_avg_sq", VECTOR), ("max_exp_avg_sq", VECTOR))


def check(h: dict) -> None:
    at_least_zero("Invalid learning rate: {}", h["lr"])
    at_least_zero("Invalid epsilon value: {}", h["eps"])
    check_betas(h["betas"])
    at_least_zero("Invalid weight_decay value: {}", h["weight_decay"])


def packer(decoupled: bool):
    def pack(h: dict) -> tuple[float, ...]:
        b1, b2 = h["betas"]
        # Slot 6 is the exponent of torch's ``bias_correction2 ** 0.5``: given at run time so that the compiler
        # keeps pow() (as CPython computes it) instead of turning it into sqrt(), which differs by one ulp when
        # bias_correction2 is within a few ulps of 1.
        return (b1, b2, h["eps"], h["weight_decay"], float(h["amsgrad"]), float(decoupled), 0.5,
                float(h["bias_correction"]), float(h["eps_inside_sqrt"]))

    return pack


def kept(h: dict) -> tuple[str, ...]:
    return ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if h["amsgrad"] else ())


@jit
def init(hp, p, st):
    pass


@jit
def step(t, lr, hp, g, p, st):
    beta1, beta2, eps, wd = hp[0], hp[1], hp[2], hp[3]
    amsgrad, decoupled, eps_inside = hp[4] != 0.0, hp[5] != 0.0, hp[8] != 0.0
    tf = float(t)
    if hp[7] != 0.0:
        bc1 = 1.0 - beta1**tf
        bc2 = 1.0 - beta2**tf
    else:  # bias_correction=False: m_hat = m, v_hat = v (1.0 ** 0.5 and x / 1.0 are exact)
        bc1 = 1.0
        bc2 = 1.0
    step_size = lr / bc1
    bc2_sqrt = bc2 ** hp[6]  # hp[6] == 0.5, see packer
    for k in range(2):
        d = g[k]
        if wd != 0.0:
            if decoupled:
                p[k] = p[k] * (1.0 - lr * wd)
            else:
                d = d + wd * p[k]
        st[k] = C.lerp(st[k], d, 1.0 - beta1)
        st[2 + k] = st[2 + k] * beta2 + ((1.0 - beta2) * d) * d
        if amsgrad:
            if not st[4 + k] >= st[2 + k]:  # torch.maximum, NaN-propagating
                st[4 + k] = st[2 + k]
            v = st[4 + k]
        else:
            v = st[2 + k]
        denom = math.sqrt(v / bc2 + eps) if eps_inside else math.sqrt(v) / bc2_sqrt + eps
        p[k] = p[k] + ((-step_size) * st[k]) / denom


def bias_corrections(run) -> tuple[np.ndarray | float, np.ndarray | float]:
    """``(1 - beta1^t, 1 - beta2^t)`` per step ((n, 1) each), or ``(1.0, 1.0)`` with ``bias_correction=False``."""
    if not run.spec.hyper["bias_correction"]:
        return 1.0, 1.0
    beta1, beta2 = run.spec.hyper["betas"][:2]
    t = steps_column(run)
    return 1.0 - C.power(beta1, t), 1.0 - C.power(beta2, t)


def bias_corrected(run) -> dict[str, np.ndarray]:
    """``m_hat``, ``v_hat`` (and ``v_hat_max`` with AMSGrad): the moments over their bias corrections."""
    bc1, bc2 = bias_corrections(run)
    out = {"m_hat": run.state["exp_avg"][1:] / bc1, "v_hat": run.state["exp_avg_sq"][1:] / bc2}
    if "max_exp_avg_sq" in run.state:
        out["v_hat_max"] = run.state["max_exp_avg_sq"][1:] / bc2
    return out


def divisor_moment(run) -> np.ndarray:
    h = run.spec.hyper
    with np.errstate(all="ignore"):
        return run.state["max_exp_avg_sq" if h["amsgrad"] else "exp_avg_sq"][1:] / bias_corrections(run)[1]


def root(h: dict, v, bc2=1.0):
    """sqrt(v / bc2) + eps, or sqrt(v / bc2 + eps) with eps inside."""
    if h.get("eps_inside_sqrt", False):
        return np.sqrt(v / bc2 + h["eps"])
    return np.sqrt(v) / np.sqrt(bc2) + h["eps"]


def effective_lr(run) -> np.ndarray:
    """``lr / (sqrt(v_hat) + eps)`` (``v_hat = v`` with ``bias_correction=False``)."""
    h = run.spec.hyper
    with np.errstate(all="ignore"):
        v = run.state["max_exp_avg_sq" if h["amsgrad"] else "exp_avg_sq"][1:]
        return lr_column(run) / root(h, v, bias_corrections(run)[1])


def momentum(run) -> np.ndarray:
    """m̂_t (m_t without bias correction): what the step multiplies."""
    return run.bias_corrected["m_hat"]


def panels(run) -> tuple[list, list]:
    st = run.state
    # Without bias correction m̂ and v̂ are m and v themselves: no dotted line to draw over the solid one.
    hats = run.spec.hyper["bias_correction"]
    first = [("m_t (exp_avg)", st["exp_avg"][1:], "solid")]
    first += [("m̂_t (bias-corrected)", run.bias_corrected["m_hat"], "dot")] * hats
    second = [("v_t (exp_avg_sq)", st["exp_avg_sq"][1:], "solid")]
    second += [("v̂_t (bias-corrected)", run.bias_corrected["v_hat"], "dot")] * hats
    if "max_exp_avg_sq" in st:
        second.append(("max_exp_avg_sq (AMSGrad)", st["max_exp_avg_sq"][1:], "dash"))
    return first, second


def title_options(h: dict) -> list[str]:
    return ["AMSGrad"] if h["amsgrad"] else []


def option_notes(h: dict) -> list[str]:
    out = []
    if h["amsgrad"]:
        out.append("AMSGrad (as in PyTorch) keeps the largest raw v_t seen so far and bias-corrects that; "
                   "optax takes the maximum of the bias-corrected v̂_t instead.")
    if not h["bias_correction"]:
        out.append("This run has no bias correction (bias_correction=False, optiviz's extension, as in apex's "
                   "FusedAdam), so what is said above of step 1 does not hold: the step uses m_t and v_t as they "
                   "are. Both start at 0: under a steady gradient m_t is "
                   "(1 − β₁^t)·g and √v_t is √(1 − β₂^t)·|g|, so each coordinate moves by about "
                   "lr·(1 − β₁^t)/√(1 − β₂^t): 3.2·lr at step 1 with torch's betas (0.9, 0.999), not lr, and "
                   "still more than lr after a few hundred steps.")
    return out


def explain(b: E.Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, (beta1, beta2), eps, wd = b.lr, h["betas"], h["eps"], h["weight_decay"]
    amsgrad, inside = h["amsgrad"], h["eps_inside_sqrt"]
    decoupled = run.optimizer == "adamw"
    theta = b.row(run.path, t - 1)
    g = E.gradient(b)
    theta_sym, digits = r"\theta_{t-1}", 5
    if decoupled:
        if wd != 0.0:
            factor = E.format_number(1.0 - lr * wd, 12)
            digits = max(E.position_digits(theta[k], theta[k] * (1.0 - lr * wd)) for k in range(2))
            before = theta
            theta = b.add(
                "decayed_param", "decoupled weight decay (applied to the parameters first)",
                r"\theta'_{t-1} = \theta_{t-1}\,(1 - \eta\lambda)", f"\\theta'_{{{t - 1}}}",
                lambda k: f"{E.format_number(before[k], digits)} \\cdot {factor}",
                (before[0] * (1.0 - lr * wd), before[1] * (1.0 - lr * wd)), digits,
            )
            theta_sym = r"\theta'_{t-1}"
        d = g
    else:
        d = E.l2(b, g, theta)
    b1, one_b1 = E.format_number(beta1), E.format_number(1.0 - beta1)
    b2, one_b2 = E.format_number(beta2), E.format_number(1.0 - beta2)
    e = E.format_number(eps)
    m_prev = b.row(run.state["exp_avg"], t - 1)
    m = tuple(lerp(m_prev[k], d[k], 1.0 - beta1) for k in range(2))
    b.add("exp_avg", "first moment (running mean of gradients)",
          r"m_t = \beta_1\,m_{t-1} + (1 - \beta_1)\,g_t", f"m_{{{t}}}",
          lambda k: f"{b1} \\cdot {E.p(E.format_number(m_prev[k]))} + {one_b1} \\cdot {E.p(E.format_number(d[k]))}", m)
    v_prev = b.row(run.state["exp_avg_sq"], t - 1)
    v = tuple(v_prev[k] * beta2 + ((1.0 - beta2) * d[k]) * d[k] for k in range(2))
    b.add("exp_avg_sq", "second moment (running mean of squared gradients)",
          r"v_t = \beta_2\,v_{t-1} + (1 - \beta_2)\,g_t^2", f"v_{{{t}}}",
          lambda k: f"{b2} \\cdot {E.p(E.format_number(v_prev[k]))} + {one_b2} \\cdot {E.p(E.format_number(d[k]))}^2",
          v)
    v_used, v_sym = v, "v_t"
    if amsgrad:
        x_prev = b.row(run.state["max_exp_avg_sq"], t - 1)
        v_used = tuple(x_prev[k] if x_prev[k] >= v[k] else v[k] for k in range(2))
        b.add("max_exp_avg_sq", "AMSGrad: largest second moment so far",
              r"v^{\max}_t = \max(v^{\max}_{t-1},\ v_t)", f"v^{{\\max}}_{{{t}}}",
              lambda k: rf"\max({E.format_number(x_prev[k])},\ {E.format_number(v[k])})", v_used)
        v_sym = r"v^{\max}_t"
    v_key = "v_hat_max" if amsgrad else "v_hat"
    if h["bias_correction"]:
        bc1, bc2 = 1.0 - beta1 ** float(t), 1.0 - beta2 ** float(t)
        m_hat = b.row(run.bias_corrected["m_hat"], t - 1)
        b.add("m_hat", "bias-corrected first moment", r"\hat m_t = \frac{m_t}{1 - \beta_1^t}", f"\\hat m_{{{t}}}",
              lambda k: rf"\frac{{{E.format_number(m[k])}}}{{1 - {b1}^{{{t}}}}}", m_hat)
        v_hat = b.row(run.bias_corrected[v_key], t - 1)
        b.add(v_key, "bias-corrected second moment", rf"\hat v_t = \frac{{{v_sym}}}{{1 - \beta_2^t}}",
              f"\\hat v_{{{t}}}", lambda k: rf"\frac{{{E.format_number(v_used[k])}}}{{1 - {b2}^{{{t}}}}}", v_hat)
        m_sym, v_hat_sym = r"\hat m_t", r"\hat v_t"
    else:  # bias_correction=False: the step uses m_t and v_t as they are
        bc1 = bc2 = 1.0
        m_hat, v_hat = m, v_used
        m_sym, v_hat_sym = "m_t", v_sym
    eff = b.row(run.effective_lr, t - 1)
    b.add("effective_lr", "effective step size", rf"\eta_t = \frac{{\eta}}{{{E.eps_root(inside, v_hat_sym)}}}",
          f"\\eta_{{{t}}}",
          lambda k: rf"\frac{{{E.format_number(lr)}}}{{{E.eps_root(inside, E.format_number(v_hat[k]), e)}}}", eff)
    step_size = lr / bc1
    bc2_sqrt = bc2**0.5
    denom = [(sqrt(v_used[k] / bc2 + eps) if inside else sqrt(v_used[k]) / bc2_sqrt + eps) for k in range(2)]
    new = tuple(theta[k] + ((-step_size) * m[k]) / denom[k] for k in range(2))
    E.step_line(b, theta, theta_sym, r"\eta_t", eff, m_sym, m_hat, new, digits)


def step_note(b: E.Builder) -> str:
    t, h = b.t, b.h
    (beta1, beta2), eps, inside, lr = h["betas"], h["eps"], h["eps_inside_sqrt"], b.lr
    corrected = h.get("bias_correction", True)
    m_hat = E.result(b, "m_hat" if corrected else "exp_avg")
    v_key = "max_exp_avg_sq" if h["amsgrad"] else "exp_avg_sq"
    v_hat = E.result(b, ("v_hat_max" if h["amsgrad"] else "v_hat") if corrected else v_key)
    denom = [math.sqrt(v + eps) if inside else math.sqrt(v) + eps for v in v_hat]
    ratio = tuple(m / d if d else math.nan for m, d in zip(m_hat, denom, strict=True))
    if not corrected:
        ts, sub = str(t).translate(E.SUP), str(t).translate(E.SUB)
        root = "√(v + ε)" if inside else "√v + ε"
        weights = f"1 − β₁{ts} = {E.txt(1.0 - beta1 ** float(t))} and 1 − β₂{ts} = {E.txt(1.0 - beta2 ** float(t))}"
        return (f"At step {t} there is no bias correction: the update is lr × m{sub}/({root}) with m and v as they "
                f"are, whose weights sum to {weights}, so the ratio is {E.xy(ratio)} (the corrections would multiply "
                f"it by √(1 − β₂{ts})/(1 − β₁{ts})); {E.moved(b)}.")
    root = "√(v̂ + ε)" if inside else "√v̂ + ε"
    if t == 1:
        small = "g² is" if inside else "|g| is"
        return (f"At step 1 the bias corrections make m̂₁ = g₁ and v̂₁ = g₁² exactly, so m̂/({root}) is ±1 in each "
                f"coordinate unless {small} as small as ε: here it is {E.xy(ratio)}, and the update is lr = "
                f"{E.txt(lr)} times that, whatever the gradient's size.")
    ts, sub = str(t).translate(E.SUP), str(t).translate(E.SUB)
    bc1, bc2 = 1.0 - beta1 ** float(t), 1.0 - beta2 ** float(t)
    return (f"At step {t} the bias corrections divide m{sub} by 1 − β₁{ts} = {E.txt(bc1)} and v{sub} by 1 − β₂{ts} = "
            f"{E.txt(bc2)} (both tend to 1 as the steps go on, and the corrections fade). The update is lr × "
            f"m̂/({root}), with that ratio {E.xy(ratio)}: ±1 is a full lr-sized step, and it is smaller where the "
            f"last {E.txt(1 / (1 - beta1))} or so gradients cancel in sign, or are smaller than the older ones v̂ "
            f"still remembers (about {E.txt(1 / (1 - beta2))} steps).")


NOTES = (
        "Adam steps each coordinate by lr × m̂/√v̂, and the bias corrections make that ratio ±1 on the first "
        "step: the first steps are lr-sized and diagonal, whatever the gradient's size. While the gradient "
        "keeps its sign |m̂/√v̂| ≈ 1; where it flips sign m̂ averages out but v̂ does not, so the steps "
        "shrink. ε only matters when √v̂ is as small as ε (gradients near 1e-8): it then damps the step, so "
        "near-zero gradients give near-zero steps instead of lr-sized ones. PyTorch and the Adam paper add ε "
        "after the root (optax too; its eps_root goes inside); many tutorials write √(v̂ + ε), which with "
        "ε = 1e-8 damps every gradient below about 1e-4."
)

SPEC = Optimizer(
    "adam", "Adam", "momentum (m) plus RMSProp's per-coordinate scaling (v), both bias-corrected",
    PARAMS, STATE, check, packer(False), init, step, ("torch.optim", "Adam"),
    recommended_lr=C.surface_lr("adam"), kept=kept, bias_corrected=bias_corrected, divisor_moment=divisor_moment,
    effective_lr=effective_lr, momentum=momentum, panels=panels, explain=explain, notes=NOTES, step_note=step_note,
    title_options=title_options, option_notes=option_notes,
    look_for="lr-sized first steps whatever the gradient's size; m̂/√v̂ near ±1 while the gradient keeps its sign",
)

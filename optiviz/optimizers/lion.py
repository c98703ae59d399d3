"""Lion (``lion_pytorch.Lion``, package ``lion-pytorch``): the sign of an interpolated momentum, lr-sized.

Per coordinate, at step t (``lion_pytorch.lion_pytorch.update_fn``, in its order of operations):
``p *= 1 - lr wd`` (always: a factor of exactly 1 when wd = 0; with ``decoupled_weight_decay`` wd is first
divided by the lr the optimizer was built with, ``wd /= init_lr``, so the decay per step does not scale with
lr); ``c = exp_avg beta1 + (1 - beta1) g``; ``p += -lr sign(c)``; ``exp_avg = exp_avg beta2 + (1 - beta2) g``.

Every coordinate moves by exactly lr (or 0 where c is 0), whatever the gradient's size. Lion's defaults are
lr 1e-4, betas (0.9, 0.99), weight_decay 0. The reference checks its arguments with bare ``assert``\\ s
(``lr > 0.``, each beta in [0, 1]); optiviz raises ``ValueError`` saying what the assertion requires.
``use_triton`` (a GPU kernel of the same update) is left at False (``reference_options``).
"""

from __future__ import annotations

import numpy as np

from surfaces._numba import jit

from . import _common as C
from . import _explain as E
from ._base import VECTOR, Optimizer, lr_column

PARAMS = (
    C.lr(1e-4, "Learning rate η: the size of every coordinate's step (Lion moves by ±η); lion-pytorch default "
               "1e-4. Log scale (1e-5 to 10)."),
    C.betas((0.9, 0.99), ("Weight of the momentum m_{t-1} in c_t = β₁m + (1 − β₁)g, whose sign is the step; "
                          "lion-pytorch default 0.9.",
                          "Decay of the momentum m_t kept between steps; lion-pytorch default 0.99.")),
    C.weight_decay(0.0, "Decoupled weight decay: θ ← θ(1 − η·λ) before each step (with decoupled_weight_decay, "
                        "θ ← θ(1 − η·λ/η₀), η₀ the lr the run starts with)."),
    C.flag("decoupled_weight_decay", "wd/lr₀", "decoupled_weight_decay",
           "Divide weight_decay by the initial lr, so the decay per step is λ·η/η₀ (λ at the initial lr) rather "
           "than λ·η: lion-pytorch's option."),
)
STATE = (("exp_avg", VECTOR),)


def check(h: dict) -> None:
    # lion-pytorch asserts: ``assert lr > 0.``, ``assert all([0. <= beta <= 1. for beta in betas])``
    if not h["lr"] > 0.0:
        raise ValueError(f"Invalid learning rate: {h['lr']} (lion-pytorch asserts lr > 0.)")
    for i, beta in enumerate(h["betas"]):
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta} (lion-pytorch asserts 0. <= beta <= 1.)")


def pack(h: dict) -> tuple[float, ...]:
    # The lr the optimizer is built with (its ``_init_lr``) divides weight_decay with decoupled_weight_decay.
    return (*h["betas"], h["weight_decay"], float(h["decoupled_weight_decay"]), h["lr"])


@jit
def init(hp, p, st):
    pass


@jit
def _sgn(x):
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x  # 0, or NaN (propagates as torch.sgn's)


@jit
def step(t, lr, hp, g, p, st):
    beta1, beta2, wd, decoupled, init_lr = hp[0], hp[1], hp[2], hp[3] != 0.0, hp[4]
    if decoupled:
        wd = wd / init_lr
    for k in range(2):
        p[k] = p[k] * (1.0 - lr * wd)
        c = st[k] * beta1 + (1.0 - beta1) * g[k]
        p[k] = p[k] + (-lr) * _sgn(c)
        st[k] = st[k] * beta2 + (1.0 - beta2) * g[k]


def interpolation(run) -> np.ndarray:
    """c_t = β₁ m_{t-1} + (1 − β₁) g_t, whose sign is the step's direction ((n, 2))."""
    beta1 = run.spec.hyper["betas"][0]
    return run.state["exp_avg"][:-1] * beta1 + (1.0 - beta1) * run.grad


def bias_corrected(run) -> dict[str, np.ndarray]:
    """``c``: the interpolation; ``sign_c``: its sign, the direction of the step (−η·sign(c))."""
    c = interpolation(run)
    return {"c": c, "sign_c": np.sign(c)}


def effective_lr(run) -> np.ndarray:
    """η in every coordinate that moved (0 where c_t was 0): Lion's step is η·sign(c_t)."""
    return np.where(run.bias_corrected["sign_c"] != 0.0, lr_column(run), 0.0)


def momentum(run) -> np.ndarray:
    return run.state["exp_avg"][1:]


def panels(run) -> tuple[list, list]:
    """m_t and c_t; |c_t|, which Lion discards (the step is −η·sign(c_t): the effective step size row shows η)."""
    return ([("m_t (exp_avg)", run.state["exp_avg"][1:], "solid"),
             ("c_t = β₁m + (1 − β₁)g (its sign is the step)", run.bias_corrected["c"], "dot")],
            [("|c_t| (the size the sign throws away)", np.abs(run.bias_corrected["c"]), "solid")])


def _decay_factor(h: dict, lr: float) -> float:
    wd = h["weight_decay"] / h["lr"] if h["decoupled_weight_decay"] else h["weight_decay"]
    return 1.0 - lr * wd


def explain(b: E.Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, (beta1, beta2) = b.lr, h["betas"]
    theta = b.row(run.path, t - 1)
    g = E.gradient(b)
    theta_sym, digits = r"\theta_{t-1}", 5
    if h["weight_decay"] != 0.0:
        factor = _decay_factor(h, lr)
        digits = max(E.position_digits(theta[k], theta[k] * factor) for k in range(2))
        before = theta
        formula = (r"\theta'_{t-1} = \theta_{t-1}\,(1 - \eta\lambda/\eta_0)" if h["decoupled_weight_decay"]
                   else r"\theta'_{t-1} = \theta_{t-1}\,(1 - \eta\lambda)")
        theta = b.add("decayed_param", "weight decay (applied to the parameters first)", formula,
                      f"\\theta'_{{{t - 1}}}",
                      lambda k: f"{E.format_number(before[k], digits)} \\cdot {E.format_number(factor, 12)}",
                      (before[0] * factor, before[1] * factor), digits)
        theta_sym = r"\theta'_{t-1}"
    b1, one_b1 = E.format_number(beta1), E.format_number(1.0 - beta1)
    b2, one_b2 = E.format_number(beta2), E.format_number(1.0 - beta2)
    m_prev = b.row(run.state["exp_avg"], t - 1)
    c = tuple(m_prev[k] * beta1 + (1.0 - beta1) * g[k] for k in range(2))
    b.add("c", "interpolation of momentum and gradient (its sign is the step)",
          r"c_t = \beta_1\,m_{t-1} + (1 - \beta_1)\,g_t", f"c_{{{t}}}",
          lambda k: f"{b1} \\cdot {E.p(E.format_number(m_prev[k]))} + {one_b1} \\cdot {E.p(E.format_number(g[k]))}",
          c)
    sign = tuple(1.0 if x > 0 else -1.0 if x < 0 else 0.0 for x in c)
    b.add("sign_c", "the step's direction: only the sign of c_t", r"u_t = \operatorname{sign}(c_t)", f"u_{{{t}}}",
          lambda k: rf"\operatorname{{sign}}({E.format_number(c[k])})", sign)
    m = tuple(m_prev[k] * beta2 + (1.0 - beta2) * g[k] for k in range(2))
    b.add("exp_avg", "momentum kept for the next step (decays with β₂, not β₁)",
          r"m_t = \beta_2\,m_{t-1} + (1 - \beta_2)\,g_t", f"m_{{{t}}}",
          lambda k: f"{b2} \\cdot {E.p(E.format_number(m_prev[k]))} + {one_b2} \\cdot {E.p(E.format_number(g[k]))}",
          m)
    eff = b.row(run.effective_lr, t - 1)
    b.add("effective_lr", "effective step size (η in every coordinate that moves)", r"\eta_t = \eta",
          f"\\eta_{{{t}}}", lambda k: E.format_number(lr if sign[k] else 0.0), eff)
    new = tuple(theta[k] + (-lr) * sign[k] for k in range(2))
    E.step_line(b, theta, theta_sym, r"\eta", (lr, lr), r"u_t", sign, new, digits)


def step_note(b: E.Builder) -> str:
    t = b.t
    c, sign = E.result(b, "c"), E.result(b, "sign_c")
    if t == 1:
        return (f"At step 1 the momentum is 0, so c₁ = (1 − β₁)·g₁ = {E.xy(c)} and the step is −lr·sign(g₁): "
                f"lr in each coordinate against the gradient, whatever its size; {E.moved(b)}.")
    sub = str(t).translate(E.SUB)
    turned = [axis for k, axis in enumerate("xy") if sign[k] * E.result(b, "grad")[k] < 0]
    against = (f" In {' and '.join(turned)} the momentum outweighs the gradient, so Lion keeps moving the way it "
               "was going, uphill for now." if turned else "")
    return (f"At step {t} c{sub} = {E.xy(c)}: Lion keeps only its sign, so each coordinate moves by exactly lr."
            + against + " " + E.sentence(E.moved(b)))


NOTES = (
    "Lion (evolved sign momentum) moves every coordinate by exactly lr, in the direction of the sign of c_t, an "
    "interpolation of the kept momentum and the current gradient (β₁ = 0.9). The momentum kept for the next step "
    "decays more slowly (β₂ = 0.99), so c_t leans on the fresh gradient more than the momentum itself does. "
    "The gradient's size never matters: a flat plateau and a cliff give steps of the same length, which is why "
    "Lion wants an lr several times smaller than Adam's. Weight decay shrinks the parameters before the step."
)


def recommended_lr(surface) -> float:
    """A third of Adam's (the Lion paper's advice: 3 to 10 times smaller, as every step is lr-sized)."""
    return _LR.get(surface.name, surface.lr["adam"] / 3.0)


_LR: dict[str, float] = {}

SPEC = Optimizer(
    "lion", "Lion", "the sign of an interpolated momentum: every coordinate moves by exactly lr",
    PARAMS, STATE, check, pack, init, step, ("lion_pytorch", "Lion"), package="lion-pytorch",
    reference_options={"use_triton": False},
    recommended_lr=recommended_lr, bias_corrected=bias_corrected, effective_lr=effective_lr, momentum=momentum,
    panels=panels, explain=explain, notes=NOTES, step_note=step_note, decoupled=lambda h: True,
    title_options=lambda h: ["wd/lr₀"] if h["decoupled_weight_decay"] and h["weight_decay"] else [],
    look_for="steps of exactly lr in each coordinate (45° moves), the same on a plateau as on a cliff; it "
             "oscillates by ±lr about the minimum",
)

"""Rprop (torch.optim.Rprop): a step size per coordinate that grows while the gradient keeps its sign and
shrinks when it flips; only the gradient's sign is used.

Per coordinate, at step t (torch's ``_single_tensor_rprop``, in its order of operations): ``s = sign(g prev)``;
the factor is ``eta_plus`` where s > 0, ``eta_minus`` where s < 0, 1 where s = 0;
``step_size = clamp(step_size * factor, step_size_min, step_size_max)``; where the sign flipped the gradient is
taken as 0 (no move this step, and no sign to compare with next step); ``p -= sign(g) step_size``;
``prev = g``. ``step_size`` starts at lr (torch's ``full_like(grad, lr)``), the only use of lr: the init reads it
from the hyperparameter vector (``pack``), and later steps ignore the step's lr, as torch does.
"""

from __future__ import annotations

import numpy as np

from surfaces._numba import jit

from . import _explain as E
from ._base import VECTOR, Optimizer, Param, at_least_zero

PARAMS = (
    Param("lr", 1e-2, r"\eta", "lr", "lr (η)", "The initial step size of every coordinate (torch default 1e-2); "
          "Rprop uses it only at the start. Log scale (1e-5 to 10).", (1e-5, 10.0), "lr"),
    Param("etas", (0.5, 1.2), "", "η±", "etas", "", None, None, parts=(
        Param("eta_minus", 0.5, r"\eta^-", "η₋", "eta_minus (η₋)", "Factor on a coordinate's step size when its "
              "gradient flips sign, in (0, 1); torch default 0.5.", (0.01, 0.99), None, 0.01),
        Param("eta_plus", 1.2, r"\eta^+", "η₊", "eta_plus (η₊)", "Factor on a coordinate's step size while its "
              "gradient keeps its sign, > 1; torch default 1.2.", (1.01, 5.0), None, 0.01),
    )),
    Param("step_sizes", (1e-6, 50.0), "", "steps", "step_sizes", "", None, None, advanced=True, parts=(
        Param("step_size_min", 1e-6, r"\Delta_{\min}", "Δmin", "step_size_min (Δmin)", "The smallest step size; "
              "torch default 1e-6.", (0.0, 1.0), None, 1e-6, advanced=True),
        Param("step_size_max", 50.0, r"\Delta_{\max}", "Δmax", "step_size_max (Δmax)", "The largest step size; "
              "torch default 50.", (1e-6, 1000.0), None, 0.1, advanced=True),
    )),
)
STATE = (("prev", VECTOR), ("step_size", VECTOR))


def check(h: dict) -> None:
    at_least_zero("Invalid learning rate: {}", h["lr"])
    eta_minus, eta_plus = h["etas"]
    if not 0.0 < eta_minus < 1.0 < eta_plus:
        raise ValueError(f"Invalid eta values: {eta_minus}, {eta_plus}")


def pack(h: dict) -> tuple[float, ...]:
    return (*h["etas"], *h["step_sizes"], h["lr"])


@jit
def init(hp, p, st):
    st[2] = hp[4]  # step_size = lr, torch's full_like(grad, lr)
    st[3] = hp[4]


@jit
def _sign(x):
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x  # 0 (or NaN, which propagates)


@jit
def step(t, lr, hp, g, p, st):
    eta_minus, eta_plus, smin, smax = hp[0], hp[1], hp[2], hp[3]
    for k in range(2):
        s = _sign(g[k] * st[k])
        if s > 0.0:
            factor = eta_plus
        elif s < 0.0:
            factor = eta_minus
        elif s == 0.0:
            factor = 1.0
        else:
            factor = s  # NaN
        size = st[2 + k] * factor
        if size == size:  # torch.clamp, NaN-propagating: max with the minimum, then min with the maximum
            if size < smin:
                size = smin
            if size > smax:
                size = smax
        st[2 + k] = size
        d = 0.0 if factor == eta_minus else g[k]
        p[k] = p[k] + ((-1.0) * _sign(d)) * size
        st[k] = d


def flipped(run) -> np.ndarray:
    """Where the gradient flipped sign against the last one kept ((n, 2) bools): those steps do not move."""
    return run.grad * run.state["prev"][:-1] < 0.0


def effective_lr(run) -> np.ndarray:
    """The step size each coordinate moved by (|Δθ| = step_size, or 0 after a sign flip)."""
    return np.where(flipped(run), 0.0, run.state["step_size"][1:])


def panels(run) -> tuple[list, list]:
    st = run.state
    return ([("prev (g_t kept; 0 after a sign flip)", st["prev"][1:], "solid")],
            [("Δ_t (step_size)", st["step_size"][1:], "solid")])


def _factor_text(factor: float, eta_minus: str, eta_plus: str) -> str:
    return eta_plus if factor > 1.0 else eta_minus if factor < 1.0 else "1"


def explain(b: E.Builder) -> None:
    h, t, run = b.h, b.t, b.run
    eta_minus, eta_plus = h["etas"]
    smin, smax = h["step_sizes"]
    theta = b.row(run.path, t - 1)
    g = E.gradient(b)
    prev = b.row(run.state["prev"], t - 1)
    product = tuple(g[k] * prev[k] for k in range(2))
    factor = tuple(eta_plus if x > 0 else eta_minus if x < 0 else 1.0 for x in product)
    em, ep = E.format_number(eta_minus), E.format_number(eta_plus)
    b.add("factor", "sign agreement with the last gradient kept",
          r"f_t = \begin{cases} \eta^+ & g_t\,g_{t-1} > 0 \\ \eta^- & g_t\,g_{t-1} < 0 \\ 1 & \text{else} "
          r"\end{cases}", f"f_{{{t}}}",
          lambda k: (rf"\operatorname{{sign}}({E.p(E.format_number(g[k]))} \cdot {E.p(E.format_number(prev[k]))})"
                     rf" \to {_factor_text(factor[k], em, ep)}"), factor)
    size_prev = b.row(run.state["step_size"], t - 1)
    size = b.row(run.state["step_size"], t)
    lo, hi = E.format_number(smin), E.format_number(smax)
    b.add("step_size", "step size (clamped to [Δmin, Δmax])",
          r"\Delta_t = \operatorname{clamp}(\Delta_{t-1}\,f_t,\ \Delta_{\min},\ \Delta_{\max})", rf"\Delta_{{{t}}}",
          lambda k: (rf"\operatorname{{clamp}}({E.format_number(size_prev[k])} \cdot {E.format_number(factor[k])},\ "
                     rf"{lo},\ {hi})"), size)
    kept = tuple(0.0 if factor[k] == eta_minus else g[k] for k in range(2))
    b.add("prev", "gradient kept (0 where the sign flipped: no move, and nothing to compare next step)",
          r"g'_t = \begin{cases} 0 & f_t = \eta^- \\ g_t & \text{else} \end{cases}", f"g'_{{{t}}}",
          lambda k: "0" if factor[k] == eta_minus else E.format_number(g[k]), kept)
    sign = tuple(1.0 if x > 0 else -1.0 if x < 0 else 0.0 for x in kept)
    new = tuple(theta[k] + ((-1.0) * sign[k]) * size[k] for k in range(2))
    E.step_line(b, theta, r"\theta_{t-1}", r"\Delta_t", size, r"\operatorname{sign}(g'_t)", sign, new)


def step_note(b: E.Builder) -> str:
    t, h = b.t, b.h
    size = E.result(b, "step_size")
    factor = E.result(b, "factor")
    if t == 1:
        return (f"At step 1 there is no earlier gradient to compare with, so each step size stays at lr = "
                f"{E.txt(h['lr'])} (clamped: {E.xy(size)}) and each coordinate moves by "
                f"exactly that against its gradient's sign, whatever the gradient's size; {E.moved(b)}.")
    words = ["grew (same sign)" if f > 1 else "shrank (sign flipped: no move)" if f < 1 else "stayed"
             for f in factor]
    return (f"At step {t} the step size in x {words[0]} and in y {words[1]}: it is now {E.xy(size)}. Only the "
            f"gradient's sign matters, so a tiny gradient gets as large a step as a steep one. "
            + E.sentence(E.moved(b)))


NOTES = (
    "Rprop ignores the gradient's size: each coordinate moves by its own step size against the gradient's sign. "
    "The step size grows by η₊ (1.2) each step the sign stays the same and shrinks by η₋ (0.5) when it flips, "
    "within [Δmin, Δmax]; a step that flips the sign is not taken. lr is only the starting step size. It is made "
    "for full-batch gradients: with noisy ones the signs flip at random and the step sizes collapse."
)


def recommended_lr(surface) -> float:
    """torch's 1e-2 (the first step size: Rprop soon finds its own); 1e-3 on the noisy saddle, where the noise
    outweighs the gradient near the start, the signs flip at random and the step sizes collapse."""
    return _LR.get(surface.name, 1e-2)


_LR = {"noisy_saddle": 1e-3}

SPEC = Optimizer(
    "rprop", "Rprop", "a step size per coordinate: ×1.2 while the gradient keeps its sign, ×0.5 when it flips",
    PARAMS, STATE, check, pack, init, step, ("torch.optim", "Rprop"),
    recommended_lr=recommended_lr, effective_lr=effective_lr, panels=panels, explain=explain, notes=NOTES,
    step_note=step_note,
    look_for="axis-aligned steps that speed up geometrically along a steady slope and halve at each overshoot",
)

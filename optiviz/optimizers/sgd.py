"""SGD (torch.optim.SGD), with momentum, dampening, Nesterov and L2 weight decay.

Per coordinate, at step t: L2; with momentum ``b_1 = g``, ``b_t = momentum b_(t-1) + (1 - dampening) g``;
``d = g + momentum b_t`` (nesterov) or ``b_t``; without momentum ``d = g``; ``p -= lr d``
(torch's ``_single_tensor_sgd``, in its order of operations).
"""

from __future__ import annotations

import math

import numpy as np

from surfaces._numba import jit

from . import _common as C
from . import _explain as E
from ._base import VECTOR, Optimizer, Param, at_least_zero, lr_column

PARAMS = (
    C.lr(1e-3),
    Param("momentum", 0.0, r"\mu", "μ", "momentum (μ)", "Heavy-ball momentum; 0 is plain gradient descent.",
          (0.0, 0.99999), "beta"),
    Param("dampening", 0.0, r"\tau", "damp", "dampening",
          "Scales the new gradient in the momentum buffer by 1 − dampening.", (0.0, 1.0), None, 0.05, advanced=True),
    C.weight_decay(),
    C.flag("nesterov", "Nesterov", "nesterov", "Nesterov momentum (needs momentum > 0, dampening 0)."),
)
STATE = (("momentum_buffer", VECTOR),)


def check(h: dict) -> None:
    at_least_zero("Invalid learning rate: {}", h["lr"])
    at_least_zero("Invalid momentum value: {}", h["momentum"])
    at_least_zero("Invalid weight_decay value: {}", h["weight_decay"])
    if not math.isfinite(h["dampening"]):
        raise ValueError(f"Invalid dampening value: {h['dampening']}")
    if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")


def pack(h: dict) -> tuple[float, ...]:
    return (h["momentum"], h["dampening"], h["weight_decay"], float(h["nesterov"]))


def kept(h: dict) -> tuple[str, ...]:
    return ("momentum_buffer",) if h["momentum"] != 0 else ()


@jit
def init(hp, p, st):
    pass


@jit
def step(t, lr, hp, g, p, st):
    momentum, dampening, wd, nesterov = hp[0], hp[1], hp[2], hp[3] != 0.0
    for k in range(2):
        d = g[k]
        if wd != 0.0:
            d = d + wd * p[k]
        if momentum != 0.0:
            if t == 1:
                st[k] = d
            else:
                st[k] = st[k] * momentum + (1.0 - dampening) * d
            d = d + momentum * st[k] if nesterov else st[k]
        p[k] = p[k] + (-lr) * d


def effective_lr(run) -> np.ndarray:
    return np.repeat(lr_column(run), 2, axis=1)


def momentum(run) -> np.ndarray | None:
    return run.state["momentum_buffer"][1:] if "momentum_buffer" in run.state else None


def panels(run) -> tuple[list, list]:
    return ([("momentum_buffer", run.state["momentum_buffer"][1:], "solid")] if "momentum_buffer" in run.state
            else []), []


def title_options(h: dict) -> list[str]:
    return (["Nesterov momentum" if h["nesterov"] else "momentum"]) if h["momentum"] != 0 else []


def explain(b: E.Builder) -> None:
    h, t, run = b.h, b.t, b.run
    lr, mu, tau, nesterov = b.lr, h["momentum"], h["dampening"], h["nesterov"]
    theta = b.row(run.path, t - 1)
    d = E.l2(b, E.gradient(b), theta)
    direction_sym = "g_t"
    if mu != 0.0:
        rest = r"\mu\,b_{t-1} + (1 - \tau)\,g_t" if tau != 0.0 else r"\mu\,b_{t-1} + g_t"
        formula = rf"b_t = \begin{{cases}} g_1 & t = 1 \\ {rest} & t > 1 \end{{cases}}"
        if t == 1:
            buf = d
            b.add("momentum_buffer", "momentum buffer (first step: the gradient itself)", formula, "b_{1}",
                  lambda k: "g_{1}", buf)
        else:
            prev = b.row(run.state["momentum_buffer"], t - 1)
            buf = (prev[0] * mu + (1.0 - tau) * d[0], prev[1] * mu + (1.0 - tau) * d[1])
            m = E.format_number(mu)
            damp = E.format_number(1.0 - tau)

            def rhs(k: int) -> str:
                grad_term = (f"{damp} \\cdot {E.p(E.format_number(d[k]))}" if tau != 0.0
                             else E.p(E.format_number(d[k])))
                return f"{m} \\cdot {E.p(E.format_number(prev[k]))} + {grad_term}"

            b.add("momentum_buffer", "momentum buffer", formula, f"b_{{{t}}}", rhs, buf)
        if nesterov:
            m, grad = E.format_number(mu), d
            d = b.add(
                "direction", "Nesterov look-ahead direction", r"d_t = g_t + \mu\,b_t", f"d_{{{t}}}",
                lambda k: f"{E.format_number(grad[k])} + {m} \\cdot {E.p(E.format_number(buf[k]))}",
                (grad[0] + mu * buf[0], grad[1] + mu * buf[1]),
            )
            direction_sym = "d_t"
        else:
            d = buf
            direction_sym = "b_t"
    new = (theta[0] + (-lr) * d[0], theta[1] + (-lr) * d[1])
    E.step_line(b, theta, r"\theta_{t-1}", r"\eta", (lr, lr), direction_sym, d, new)



def step_note(b: E.Builder) -> str:
    t, h = b.t, b.h
    g = E.result(b, "grad_l2") if h["weight_decay"] else E.result(b, "grad")
    mu, tau = h["momentum"], h["dampening"]
    sub = str(t).translate(E.SUB)
    if mu == 0.0:
        return (f"At step {t} SGD steps against the gradient, lr × g{sub} with g{sub} = "
                f"({E.txt(g[0])}, {E.txt(g[1])}): {E.moved(b)}.")
    if t == 1:
        damp = ", with no dampening" if tau else ""
        return (f"At step 1 PyTorch starts the momentum buffer with the gradient itself, b₁ = g₁ = ({E.txt(g[0])}, "
                f"{E.txt(g[1])}){damp}, so the first step is plain SGD's: {E.moved(b)}.")
    buf = E.result(b, "momentum_buffer")
    times = [f"the gradient is 0 in {c}" if gk == 0 else f"{E.txt(bk / gk)} times the gradient in {c}"
             for c, bk, gk in zip("xy", buf, g, strict=True)]
    steady = (f"a gradient that stayed the same would build it up to (1 − τ)/(1 − μ) = {E.txt((1 - tau) / (1 - mu))} "
              "times, less (or the other sign) where the gradient has been changing" if mu < 1 else
              "with μ ≥ 1 it keeps every past gradient at full weight or more, so it grows without end")
    return (f"At step {t} the momentum buffer b{sub} = ({E.txt(buf[0])}, {E.txt(buf[1])}) is {times[0]} and "
            f"{times[1]}: {steady}. " + E.sentence(E.moved(b)))


NOTES = (
        "Plain SGD steps lr × gradient: steep coordinates take big steps and flat ones tiny steps, so in a "
        "ravine it zig-zags across the steep walls and crawls along the floor, and it diverges once lr exceeds "
        "2 / (largest curvature). Momentum sums past gradients: across the ravine they alternate in sign and "
        "cancel, along it they add up to as much as 1/(1 − μ) times (10× at μ = 0.9), so the path is smoother "
        "and faster but overshoots. PyTorch's first momentum step is b₁ = g₁; Nesterov steps along g + μb, a "
        "look-ahead that reduces the overshoot. Dampening τ scales the new gradient by (1 − τ)."
)

SPEC = Optimizer(
    "sgd", "SGD", "steps against the gradient, optionally with (Nesterov) momentum",
    PARAMS, STATE, check, pack, init, step, ("torch.optim", "SGD"),
    recommended_lr=C.surface_lr("sgd"), kept=kept, effective_lr=effective_lr, momentum=momentum, panels=panels,
    explain=explain, notes=NOTES, step_note=step_note, title_options=title_options, momentum_slot=0,
    look_for="steps in proportion to the gradient: zig-zags across a ravine and crawls along its floor",
)

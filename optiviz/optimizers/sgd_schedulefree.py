"""Schedule-Free SGD (schedulefree.SGDScheduleFreeReference): plain SGD on z, the path y between z and x, the
average of the z's; no learning-rate schedule.

As Schedule-Free AdamW (``adamw_schedulefree.py``, whose averaging this module shares), with SGD's step on z:
at step t the group's warmup and averaging weight (``scheduled_lr``, ``lr_max``, ``weight_sum``, ``ckp1``), then
per coordinate: L2 ``g += weight_decay · y``; ``z -= scheduled_lr g``; ``x = (1 − ckp1) x + ckp1 z``;
``y = momentum x + (1 − momentum) z``. The parameter holds y (the reference starts in train mode); optiviz's
path is y, and x and z are drawn beside it on the contour. Validation is the reference's, word for word, and a
negative or fractional warmup_steps is refused as for Schedule-Free AdamW.
"""

from __future__ import annotations

import numpy as np

from surfaces._numba import jit

from . import _common as C
from . import _explain as E
from . import adamw_schedulefree as A
from ._base import VECTOR, Optimizer, Param, at_least_zero

PARAMS = (
    C.lr(1.0, "The step of z, the base sequence: z ← z − lr·g (reference default 1.0); log scale (1e-5 to 10)."),
    Param("momentum", 0.9, r"\mu", "μ", "momentum (μ)", "Where the gradient is taken: y = μx + (1 − μ)z, between "
          "the average x and z; in (0, 1), reference default 0.9.", None, "beta"),
    C.weight_decay(0.0, "L2 penalty added to the gradient, at y."),
    *A.SCHEDULE_PARAMS,
)
STATE = (("z", VECTOR), ("x", VECTOR), *A.SCALARS)
FIRST_SCALAR = 4


def check(h: dict) -> None:
    at_least_zero("Invalid learning rate: {}", h["lr"])
    at_least_zero("Invalid weight_decay value: {}", h["weight_decay"])
    if not 0 < h["momentum"] < 1:
        raise ValueError(f"Momentum must be between 0 and 1 exclusive: {h['momentum']}")
    A.check_schedule(h)


def pack(h: dict) -> tuple[float, ...]:
    return (h["momentum"], h["weight_decay"], h["warmup_steps"], h["r"], h["weight_lr_power"])


@jit
def init(hp, p, st):
    A.init_points(p, st)
    st[FIRST_SCALAR + 1] = -1.0


@jit
def step(t, lr, hp, g, p, st):
    momentum, wd = hp[0], hp[1]
    lr_t, ckp1 = A.schedule(t, lr, hp[2], hp[3], hp[4], st, FIRST_SCALAR)
    for k in range(2):
        d = g[k]
        if wd != 0.0:
            d = d + wd * p[k]
        st[k] = st[k] + (-lr_t) * d
        st[2 + k] = st[2 + k] * (1.0 - ckp1) + ckp1 * st[k]
        p[k] = st[2 + k] * momentum + (1.0 - momentum) * st[k]


def effective_lr(run) -> np.ndarray:
    """What multiplies g in z's step: the warmup-scheduled lr."""
    return np.repeat(A.scheduled_lr(run), 2, axis=1)


def panels(run) -> tuple[list, list]:
    return A.average_panels(run), [A.weight_panel(run)]


def explain(b: E.Builder) -> None:
    h, t, run = b.h, b.t, b.run
    theta = b.row(run.path, t - 1)
    g = E.l2(b, E.gradient(b), theta)
    lr_t, ckp1 = A.average_lines(b)
    eff = b.row(run.effective_lr, t - 1)
    if not h["warmup_steps"]:
        b.add("effective_lr", "step size of z", r"\eta_t = \eta", f"\\eta_{{{t}}}",
              lambda k: E.format_number(b.lr), eff)
    z_prev = b.row(run.state["z"], t - 1)
    z = tuple(z_prev[k] + (-lr_t) * g[k] for k in range(2))
    b.add("z", "base sequence: a plain SGD step", r"z_t = z_{t-1} - \eta_t\,g_t", f"z_{{{t}}}",
          lambda k: (rf"{E.format_number(z_prev[k])} - {E.p(E.format_number(lr_t))} \cdot "
                     rf"{E.p(E.format_number(g[k]))}"), z)
    A.point_lines(b, z, ckp1, h["momentum"], r"\mu")


def step_note(b: E.Builder) -> str:
    return A.step_note(b, "μ")


NOTES = (
    "Schedule-Free SGD keeps three points. z takes plain gradient-descent steps, η·g; x is the average of all "
    "the z's (by default each weighs the same, c_t = 1/t), what Schedule-Free evaluates and returns; "
    "y = μx + (1 − μ)z, between them, is where the gradient is taken, and the path drawn. The average does what "
    "a decaying learning rate would, and μ gives y the inertia heavy-ball momentum would, without a momentum "
    "buffer. On the contour x (average, dotted) and z (dashed) are drawn beside the path, thin."
)


def recommended_lr(surface) -> float:
    """SGD's lr, but on Rosenbrock 3e-3, where plain SGD escapes within three steps and Schedule-Free SGD, its
    path y held back toward the average, reaches the valley's floor (it too escapes from 6e-3)."""
    return _LR.get(surface.name, surface.lr["sgd"])


_LR = {"rosenbrock": 3e-3}

SPEC = Optimizer(
    "sgd_schedulefree", "Schedule-Free SGD",
    "SGD without a schedule: y, where gradients are taken, between z (SGD's step) and x (their average)",
    PARAMS, STATE, check, pack, init, step, ("schedulefree", "SGDScheduleFreeReference"), package="schedulefree",
    reference_options={}, train_mode=True, recommended_lr=recommended_lr, effective_lr=effective_lr,
    panels=panels, explain=explain, notes=NOTES, step_note=step_note, title_options=A.title_options,
    listed=A.listed, companions=A.companions,
    look_for="z takes SGD's steps (thin dashes) and x averages them (dotted); the path y, between, settles "
             "without any lr decay",
)

"""Schedule-Free AdamW (schedulefree.AdamWScheduleFreeReference): three points, no learning-rate schedule.

The reference (Defazio et al., "The Road Less Scheduled", 2024; package ``schedulefree`` 1.4.1) keeps, per
parameter, z (the base sequence: Adam's step without momentum), x (a weighted running average of the z's:
what Schedule-Free evaluates and returns) and y = β₁x + (1 − β₁)z, where the gradient is taken. In train mode
(``opt.train()``, which the reference needs before it steps) the parameter holds y: optiviz's path is y, and z
and x are drawn beside it on the contour (``companions``).

At step t (k = t − 1), group-wide, in the reference's order: the warmup ``sched = t / warmup_steps`` while
k < warmup_steps, else 1; ``scheduled_lr = lr sched``; ``lr_max = max(scheduled_lr, lr_max)`` (−1 at first);
``weight = t^r lr_max^weight_lr_power``; ``weight_sum += weight``; ``ckp1 = weight / weight_sum`` (0 if the
sum is 0); ``bc2 = 1 − beta2^t``. Per coordinate: weight decay ``z -= scheduled_lr weight_decay · y`` (· z
with decay_at_z); ``exp_avg_sq = beta2 exp_avg_sq + (1 − beta2) g²``; ``z -= scheduled_lr g / (sqrt(exp_avg_sq /
bc2) + eps)``; ``x = (1 − ckp1) x + ckp1 z``; ``y = beta1 x + (1 − beta1) z``.

``lr`` is the base learning rate (a schedule, when there is one, sets it per step); warmup_steps scales it
inside the step, as the reference does. The group scalars weight_sum, lr_max and scheduled_lr are recorded as
the reference keeps them (in ``param_groups``); ckp1, the averaging weight c_t, as it computes it. The
reference validates nothing; optiviz refuses what torch.optim.AdamW would, in its words, and a negative or
fractional warmup_steps.
"""

from __future__ import annotations

import math

import numpy as np

from surfaces._numba import jit

from . import _common as C
from . import _explain as E
from ._base import OPTIONAL_TERMS, SCALAR, VECTOR, Optimizer, Param, at_least_zero, check_betas, sqrt

_ADAM = (
    C.lr(0.0025, "The step of z, the base sequence (reference default 0.0025); log scale (1e-5 to 10)."),
    C.betas((0.9, 0.999), ("Where the gradient is taken: y = β₁x + (1 − β₁)z, between the average x and z. Plays "
                           "momentum's role; reference default 0.9.",
                           "Decay of the second moment v_t; reference default 0.999.")),
    C.eps(1e-8),
    C.weight_decay(0.0, "Decoupled weight decay: z shrinks by lr·λ·y each step (by lr·λ·z with decay_at_z)."),
)
#: The averaging's options (Schedule-Free SGD has the same).
SCHEDULE_PARAMS = (
    Param("warmup_steps", 0.0, r"T_{\mathrm{w}}", "warmup", "warmup_steps",
          "Linear warmup of the learning rate over this many steps (0: none). The average x weights each z by "
          "lr_max^weight_lr_power, so early, small-lr steps count for little.", (0.0, 10_000.0), None, 1.0,
          advanced=True),
    Param("r", 0.0, "r", "r", "r", "Polynomial weighting of the average: step t weighs t^r (0: a plain average "
          "of the z's).", (0.0, 10.0), None, 0.5, advanced=True),
    Param("weight_lr_power", 2.0, "p", "lr power", "weight_lr_power",
          "Each z's weight in the average is lr_max^p (matters during warmup; 0: no lr weighting). Reference "
          "default 2.", (0.0, 10.0), None, 0.5, advanced=True),
)
PARAMS = (*_ADAM, *SCHEDULE_PARAMS, C.flag(
    "decay_at_z", "decay at z", "decay_at_z", "Weight decay computed at z (z -= lr·λ·z) instead of at y."))
#: The group's scalars (the reference's names, in its param_groups) and the averaging weight c_t.
SCALARS = (("weight_sum", SCALAR), ("lr_max", SCALAR), ("scheduled_lr", SCALAR), ("ckp1", SCALAR))
STATE = (("z", VECTOR), ("x", VECTOR), ("exp_avg_sq", VECTOR), *SCALARS)
#: First slot of the scalars in STATE.
FIRST_SCALAR = 6
#: Hyperparameters that add nothing at 0: Explain does not list them then.
QUIET = (*OPTIONAL_TERMS, "warmup_steps", "r")


def check_schedule(h: dict) -> None:
    w = h["warmup_steps"]
    if not (w >= 0 and float(w).is_integer()):
        raise ValueError(f"Invalid warmup_steps value: {w} (a whole number of steps, 0 or more)")


def check(h: dict) -> None:
    at_least_zero("Invalid learning rate: {}", h["lr"])
    at_least_zero("Invalid epsilon value: {}", h["eps"])
    check_betas(h["betas"])
    at_least_zero("Invalid weight_decay value: {}", h["weight_decay"])
    check_schedule(h)


def pack(h: dict) -> tuple[float, ...]:
    return (*h["betas"], h["eps"], h["weight_decay"], h["warmup_steps"], h["r"], h["weight_lr_power"],
            float(h["decay_at_z"]))


@jit
def init_points(p, st):
    """z = x = the start (the reference's clones of p); lr_max = −1, as the reference's group starts it."""
    st[0] = p[0]
    st[1] = p[1]
    st[2] = p[0]
    st[3] = p[1]


@jit
def schedule(t, lr, warmup, r, power, st, s):
    """The group's step: the warmup-scheduled lr and the averaging weight ckp1, kept in st[s..s+3] (weight_sum,
    lr_max, scheduled_lr, ckp1), in the reference's Python-float order of operations."""
    tf = float(t)
    sched = tf / warmup if tf - 1.0 < warmup else 1.0
    lr_t = lr * sched
    lr_max = st[s + 1] if st[s + 1] > lr_t else lr_t  # Python's max(lr, lr_max)
    weight = (tf**r) * (lr_max**power)
    weight_sum = st[s] + weight
    ckp1 = weight / weight_sum if weight_sum != 0.0 else 0.0  # the reference's ZeroDivisionError -> 0
    st[s] = weight_sum
    st[s + 1] = lr_max
    st[s + 2] = lr_t
    st[s + 3] = ckp1
    return lr_t, ckp1


@jit
def init(hp, p, st):
    init_points(p, st)
    st[FIRST_SCALAR + 1] = -1.0


@jit
def step(t, lr, hp, g, p, st):
    beta1, beta2, eps, wd, at_z = hp[0], hp[1], hp[2], hp[3], hp[7] != 0.0
    lr_t, ckp1 = schedule(t, lr, hp[4], hp[5], hp[6], st, FIRST_SCALAR)
    bc2 = 1.0 - beta2 ** float(t)
    for k in range(2):
        if wd != 0.0:
            st[k] = st[k] + (-(lr_t * wd)) * (st[k] if at_z else p[k])
        st[4 + k] = st[4 + k] * beta2 + ((1.0 - beta2) * g[k]) * g[k]
        denom = math.sqrt(st[4 + k] / bc2) + eps
        st[k] = st[k] + ((-lr_t) * g[k]) / denom
        st[2 + k] = st[2 + k] * (1.0 - ckp1) + ckp1 * st[k]
        p[k] = st[2 + k] * beta1 + (1.0 - beta1) * st[k]


def bias_corrected(run) -> dict[str, np.ndarray]:
    bc2 = 1.0 - run.spec.hyper["betas"][1] ** np.arange(1, run.steps_done + 1, dtype=np.float64)[:, None]
    return {"v_hat": run.state["exp_avg_sq"][1:] / bc2}


def scheduled_lr(run) -> np.ndarray:
    """The warmup-scheduled learning rate of each step, as an (n, 1) column."""
    return run.state["scheduled_lr"][1:, None]


def effective_lr(run) -> np.ndarray:
    """What multiplies g in z's step: ``scheduled_lr / (sqrt(v̂_t) + eps)``."""
    return C.lr_over_root_v_hat(run, scheduled_lr(run))


def companions(run) -> list[tuple[str, np.ndarray]]:
    """x, the average Schedule-Free returns, and z, the base sequence, beside the path y ((n+1, 2) each)."""
    return [("x (average)", run.state["x"]), ("z", run.state["z"])]


def average_panels(run) -> list:
    return [("z_t (base sequence)", run.state["z"][1:], "solid"), ("x_t (average)", run.state["x"][1:], "dot")]


def weight_panel(run) -> tuple:
    ckp1 = run.state["ckp1"][1:]
    return ("c_t (weight of z_t in the average)", np.repeat(ckp1[:, None], 2, axis=1), "dash")


def panels(run) -> tuple[list, list]:
    return (average_panels(run),
            [("v_t (exp_avg_sq)", run.state["exp_avg_sq"][1:], "solid"),
             ("v̂_t (bias-corrected)", run.bias_corrected["v_hat"], "dot"), weight_panel(run)])


def average_lines(b: E.Builder) -> tuple[float, float]:
    """Explain's lines of the group's step: the warmup-scheduled lr (with warmup), the weight, its running sum
    and the averaging weight c_t. Returns (scheduled lr, c_t) as recorded."""
    h, t, run = b.h, b.t, b.run
    lr_t = float(run.state["scheduled_lr"][t])
    warmup = h["warmup_steps"]
    if warmup:
        on = t - 1 < warmup
        b.add("scheduled_lr", "learning rate after the warmup" + (" (warming up)" if on else " (warmed up)"),
              r"\eta_t = \eta\,\min(1,\ t / T_{\mathrm{w}})", rf"\eta_{{{t}}}",
              lambda k: rf"{E.format_number(b.lr)} \cdot {E.format_number(t / warmup) if on else '1'}", (lr_t, lr_t))
    lr_max = float(run.state["lr_max"][t])
    weight = (float(t) ** h["r"]) * (lr_max ** h["weight_lr_power"])
    r_text, p_text = E.format_number(h["r"]), E.format_number(h["weight_lr_power"])
    b.add("weight", "weight of z_t in the average (η_max: the largest η_t so far)",
          r"w_t = t^{\,r}\,\eta_{\max}^{\,p}", f"w_{{{t}}}",
          lambda k: rf"{t}^{{{r_text}}} \cdot {E.p(E.format_number(lr_max))}^{{{p_text}}}", (weight, weight))
    prev = float(run.state["weight_sum"][t - 1])
    total = float(run.state["weight_sum"][t])
    b.add("weight_sum", "sum of the weights so far", r"W_t = W_{t-1} + w_t", f"W_{{{t}}}",
          lambda k: rf"{E.format_number(prev)} + {E.format_number(weight)}", (total, total))
    ckp1 = float(run.state["ckp1"][t])
    b.add("ckp1", "share of z_t in the average x_t", r"c_t = \frac{w_t}{W_t}", f"c_{{{t}}}",
          lambda k: rf"\frac{{{E.format_number(weight)}}}{{{E.format_number(total)}}}", (ckp1, ckp1))
    return lr_t, ckp1


def point_lines(b: E.Builder, z: E.Pair, ckp1: float, interpolation: float, symbol: str) -> None:
    """The average x_t and the new position y_t (the last line: where the next gradient is taken)."""
    t, run = b.t, b.run
    x_prev = b.row(run.state["x"], t - 1)
    x = tuple(x_prev[k] * (1.0 - ckp1) + ckp1 * z[k] for k in range(2))
    c, one_c = E.format_number(ckp1), E.format_number(1.0 - ckp1)
    b.add("x", "the average of the z's (what Schedule-Free evaluates and returns)",
          r"x_t = (1 - c_t)\,x_{t-1} + c_t\,z_t", f"x_{{{t}}}",
          lambda k: rf"{one_c} \cdot {E.p(E.format_number(x_prev[k]))} + {c} \cdot {E.p(E.format_number(z[k]))}", x)
    y_prev = b.row(run.path, t - 1)
    y = tuple(x[k] * interpolation + (1.0 - interpolation) * z[k] for k in range(2))
    digits = max(5, *(E.position_digits(y_prev[k], y[k]) for k in range(2)))
    m, one_m = E.format_number(interpolation), E.format_number(1.0 - interpolation)
    b.add("param", "new position y_t, between x_t and z_t (where the next gradient is taken)",
          rf"y_t = {symbol}\,x_t + (1 - {symbol})\,z_t", f"y_{{{t}}}",
          lambda k: (rf"{m} \cdot {E.p(E.format_number(x[k], digits))} + {one_m} \cdot "
                     rf"{E.p(E.format_number(z[k], digits))}"), y, digits)


def explain(b: E.Builder) -> None:
    h, t, run = b.h, b.t, b.run
    (beta1, beta2), eps, wd = h["betas"], h["eps"], h["weight_decay"]
    g = E.gradient(b)
    lr_t, ckp1 = average_lines(b)
    z = b.row(run.state["z"], t - 1)
    if wd != 0.0:
        at = b.row(run.state["z"], t - 1) if h["decay_at_z"] else b.row(run.path, t - 1)
        sym = "z" if h["decay_at_z"] else "y"
        lam = E.format_number(lr_t * wd)
        z0 = z
        z = tuple(z0[k] + (-(lr_t * wd)) * at[k] for k in range(2))
        b.add("z_decay", f"decoupled weight decay (at {sym})", rf"z_{{t-1}} \leftarrow z_{{t-1}} - \eta_t\,\lambda\,"
              rf"{sym}_{{t-1}}", f"z_{{{t - 1}}}",
              lambda k: rf"{E.format_number(z0[k])} - {lam} \cdot {E.p(E.format_number(at[k]))}", z)
    v_prev = b.row(run.state["exp_avg_sq"], t - 1)
    v = tuple(v_prev[k] * beta2 + ((1.0 - beta2) * g[k]) * g[k] for k in range(2))
    b2, one_b2 = E.format_number(beta2), E.format_number(1.0 - beta2)
    b.add("exp_avg_sq", "second moment (running mean of squared gradients)",
          r"v_t = \beta_2\,v_{t-1} + (1 - \beta_2)\,g_t^2", f"v_{{{t}}}",
          lambda k: f"{b2} \\cdot {E.p(E.format_number(v_prev[k]))} + {one_b2} \\cdot {E.p(E.format_number(g[k]))}^2",
          v)
    bc2 = 1.0 - beta2 ** float(t)
    denom = tuple(sqrt(v[k] / bc2) + eps for k in range(2))
    eff = b.row(run.effective_lr, t - 1)
    e, lr_text = E.format_number(eps), E.format_number(lr_t)
    b.add("effective_lr", "effective step size of z", r"\eta'_t = \frac{\eta_t}{\sqrt{v_t / (1 - \beta_2^t)} + "
          r"\epsilon}", f"\\eta'_{{{t}}}",
          lambda k: rf"\frac{{{lr_text}}}{{\sqrt{{{E.format_number(v[k])} / (1 - {b2}^{{{t}}})}} + {e}}}", eff)
    z_prev = z
    z = tuple(z_prev[k] + ((-lr_t) * g[k]) / denom[k] for k in range(2))
    b.add("z", "base sequence: Adam's step without momentum", r"z_t = z_{t-1} - \eta'_t\,g_t", f"z_{{{t}}}",
          lambda k: (rf"{E.format_number(z_prev[k])} - {E.p(E.format_number(eff[k]))} \cdot "
                     rf"{E.p(E.format_number(g[k]))}"), z)
    point_lines(b, z, ckp1, beta1, r"\beta_1")


def step_note(b: E.Builder, name: str = "β₁") -> str:
    t, run = b.t, b.run
    ckp1 = E.result(b, "ckp1")[0]
    z, x, y = E.result(b, "z"), E.result(b, "x"), E.result(b, "param")
    if t == 1:
        return (f"At step 1 the average holds one point (c₁ = {E.txt(ckp1)}), so x₁ = z₁ = y₁ = {E.xy(y)}: the "
                f"first step is the base step alone; {E.moved(b)}.")
    gap = tuple(z[k] - x[k] for k in range(2))
    share = E.txt(1.0 / ckp1) if ckp1 else "∞"
    return (f"At step {t} z_t got weight c = {E.txt(ckp1)} in the average (about 1/{share}), so x moved that share "
            f"of the way to z; z − x is now {E.xy(gap)}, and y sits {name} = {E.txt(_interpolation(run))} of the way "
            f"from z to x. " + E.sentence(E.moved(b)))


def _interpolation(run) -> float:
    h = run.spec.hyper
    return h["betas"][0] if "betas" in h else h["momentum"]


def listed(key: str, value) -> bool:
    return not (value == 0 and key in QUIET)


NOTES = (
    "Schedule-Free AdamW keeps three points. z takes Adam's step without momentum, η_t·g/(√v̂ + ε); x is the "
    "average of all the z's (by default each weighs the same, c_t = 1/t), what Schedule-Free evaluates and "
    "returns; y = β₁x + (1 − β₁)z, between them, is where the gradient is taken, and the path drawn. The "
    "average does what a decaying learning rate would (no schedule is needed), and β₁ gives y the inertia "
    "momentum would. On the contour x (average, dotted) and z (dashed) are drawn beside the path, thin: "
    "z runs ahead, x lags behind, y follows x closely."
)


def title_options(h: dict) -> list[str]:
    out = [f"warmup {int(h['warmup_steps'])}"] if h["warmup_steps"] else []
    return out + (["decay at z"] if h.get("decay_at_z") and h["weight_decay"] else [])


SPEC = Optimizer(
    "adamw_schedulefree", "Schedule-Free AdamW",
    "AdamW without a schedule: y, where gradients are taken, between z (Adam's step) and x (their average)",
    PARAMS, STATE, check, pack, init, step, ("schedulefree", "AdamWScheduleFreeReference"), package="schedulefree",
    reference_options={}, train_mode=True, recommended_lr=C.surface_lr("adam"), bias_corrected=bias_corrected,
    divisor_moment=C.v_hat, effective_lr=effective_lr, panels=panels, explain=explain, notes=NOTES,
    step_note=step_note, title_options=title_options, listed=listed, decoupled=lambda h: True,
    companions=companions,
    look_for="the path y trails between z (thin dashes, running ahead) and their average x (dotted), which settles "
             "without any lr decay",
)

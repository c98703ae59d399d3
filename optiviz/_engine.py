"""simulate(): validated scenarios in, numpy arrays out."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

import surfaces
from surfaces import Surface

from . import optimizers as _optimizers
from . import schedules as _schedules
from ._kernel import ESCAPED, NON_FINITE, NON_FINITE_GRAD, NON_FINITE_LOSS, simulate_kernel

MAX_STEPS = 100_000


class RunSpec:
    """One optimizer with its hyperparameters, validated as torch.optim validates them.

    ``RunSpec("adam", lr=1e-2, betas=(0.9, 0.999))``: unspecified hyperparameters take
    torch's defaults; a bad value raises ``ValueError`` with torch's message. Immutable
    and hashable (usable as a cache key); ``hyper`` is the complete settings dict.
    ``schedule``: an :class:`optiviz.Schedule` (torch's scheduler, stepped after every step), or None.
    """

    __slots__ = ("_items", "optimizer", "schedule")

    def __init__(self, optimizer: str, schedule: _schedules.Schedule | None = None, **hyper: Any) -> None:
        spec = _optimizers.get(optimizer)
        values = spec.resolve(hyper)
        if schedule is not None:
            if not isinstance(schedule, _schedules.Schedule):
                raise ValueError(f"schedule must be an optiviz.Schedule or None, got {schedule!r}")
            _schedules.check_run(schedule, values)
            if schedule.cycles_momentum and spec.momentum_slot is None:
                raise ValueError(f"{schedule.name} cycles the momentum, which optiviz does not yet do for "
                                 f"{spec.title}: set cycle_momentum=False")
        object.__setattr__(self, "optimizer", spec.name)
        object.__setattr__(self, "_items", tuple(values.items()))
        object.__setattr__(self, "schedule", schedule)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("RunSpec is immutable; use .replace(...)")

    def __reduce__(self):
        return (_runspec, (self.optimizer, self._items, self.schedule))

    @property
    def spec(self) -> _optimizers.Optimizer:
        return _optimizers.OPTIMIZERS[self.optimizer]

    @property
    def hyper(self) -> dict[str, Any]:
        """Every hyperparameter (defaults included), in torch's order."""
        return dict(self._items)

    @property
    def lr(self) -> float:
        return self.hyper["lr"]

    @property
    def torch_hyper(self) -> dict[str, Any]:
        """The hyperparameters torch.optim takes (optiviz's own extensions left out)."""
        return {k: v for k, v in self._items if k not in self.spec.extensions}

    @property
    def extensions(self) -> dict[str, Any]:
        """optiviz's own options that are set away from torch's behaviour (``eps_inside_sqrt=True``,
        ``bias_correction=False``): a run with any cannot be reproduced with torch.optim."""
        defaults = self.spec.defaults
        return {k: v for k, v in self._items if k in self.spec.extensions and v != defaults[k]}

    def replace(self, **changes: Any) -> RunSpec:
        """A copy with some hyperparameters (or the ``schedule``) changed (validated again)."""
        return RunSpec(self.optimizer, **{"schedule": self.schedule, **self.hyper, **changes})

    def changed(self) -> dict[str, Any]:
        """The hyperparameters that differ from torch's defaults."""
        defaults = self.spec.defaults
        return {k: v for k, v in self._items if v != defaults[k]}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunSpec) and (self.optimizer, self._items, self.schedule) == (
            other.optimizer, other._items, other.schedule)

    def __hash__(self) -> int:
        return hash((self.optimizer, self._items, self.schedule))

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self._items)
        schedule = "" if self.schedule is None else f", schedule={self.schedule!r}"
        return f"RunSpec({self.optimizer!r}{args}{schedule})"


def _runspec(optimizer: str, items: tuple, schedule=None) -> RunSpec:
    return RunSpec(optimizer, schedule=schedule, **dict(items))


def _finite_pair(name: str, value: Any) -> tuple[float, float]:
    try:
        x, y = value
        x, y = float(x), float(y)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be two finite numbers (x, y), got {value!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"{name} must be two finite numbers (x, y), got ({x}, {y})")
    return x, y


def _steps(value: Any) -> int:
    whole = (
        isinstance(value, numbers.Real) and not isinstance(value, bool)
        and math.isfinite(value) and value == int(value)
    )
    if not (whole and 1 <= int(value) <= MAX_STEPS):
        raise ValueError(f"steps must be a whole number from 1 to {MAX_STEPS:,}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Scenario:
    """A complete, validated, hashable description of a simulation.

    Build one with :meth:`create` (which validates and fills defaults); ``noise`` is
    the gradient-noise sigma actually used (the surface's default when not given).
    """

    surface: Surface
    runs: tuple[RunSpec, ...]
    start: tuple[float, float]
    steps: int
    noise: float
    seed: int

    @classmethod
    def create(
        cls,
        surface: str | Surface,
        runs: Iterable[RunSpec],
        start: Sequence[float] | None = None,
        steps: int = 500,
        noise: float | None = None,
        seed: int = 0,
    ) -> Scenario:
        surf = surfaces.get(surface)
        runs = tuple(runs)
        if not runs:
            raise ValueError("runs must contain at least one RunSpec")
        for run in runs:
            if not isinstance(run, RunSpec):
                raise ValueError(f"runs must be RunSpec objects, got {run!r}")
        steps = _steps(steps)
        for run in runs:
            if run.schedule is not None:  # what torch refuses only over these steps (OneCycleLR's total_steps)
                _schedules.check_run(run.schedule, run.hyper, steps)
        start = surf.start if start is None else _finite_pair("start", start)
        if noise is None:
            noise = surf.noise
        if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not (
            math.isfinite(noise) and noise >= 0
        ):
            raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
        return cls(surf, runs, start, steps, float(noise), int(seed))

    @property
    def key(self) -> tuple:
        """Everything that determines the result, as plain hashable values (a cache key)."""
        runs = tuple((r.optimizer, r._items, r.schedule and _schedules.format_schedule(r.schedule)) for r in self.runs)
        return (self.surface.name, self.surface.params, runs, self.start, self.steps, self.noise, self.seed)

    def noise_array(self) -> np.ndarray:
        """sigma * xi with xi ~ N(0, I) of shape (steps, 2) from ``default_rng(seed)``; (0, 2) without noise."""
        if self.noise == 0.0:
            return np.zeros((0, 2))
        xi = np.random.default_rng(self.seed).standard_normal((self.steps, 2))
        with np.errstate(over="ignore"):  # a huge sigma overflows: the kernel stops that run, quietly
            return self.noise * xi


class Run:
    """The record of one optimizer's run: every position, loss, gradient and state buffer.

    Recorded by the kernel: ``path`` (n+1, 2), ``loss`` (n+1,), ``grad`` (n, 2) and
    ``state`` (the reference's buffer names -> (n+1, 2) for a vector, (n+1,) for a scalar; row 0 the
    initial state), ``lr`` (n,), the learning rate of each step, and ``momentum`` (n,), the momentum or β₁ of
    each step where a schedule cycles it (None otherwise). Derived
    here from those, exactly as the optimizer computes them: ``update``,
    ``bias_corrected`` and ``effective_lr`` (each (n, 2), row i describing step i+1).
    """

    def __init__(self, spec: RunSpec, path, loss, grad, state, diverged_at, diverged_reason, failure=None,
                 failed_grad=None, lr=None, momentum=None, failed_position=None):
        self.spec = spec
        #: The learning rate of each step ((n,): row i for step i + 1).
        self.lr: np.ndarray = np.full(grad.shape[0], spec.lr) if lr is None else lr
        #: The momentum (or β₁) of each step ((n,)) where a schedule (OneCycleLR, CyclicLR) cycles it, else None.
        self.momentum: np.ndarray | None = momentum
        self.path: np.ndarray = path
        self.loss: np.ndarray = loss
        self.grad: np.ndarray = grad
        self.state: dict[str, np.ndarray] = state
        self.diverged_at: int | None = diverged_at
        #: None, "non-finite" (overflow to inf/NaN) or "escaped" (left the escape box).
        self.diverged_reason: str | None = diverged_reason
        #: What failed at step ``diverged_at``: "gradient" (the gradient at the position was not finite),
        #: "step" (the position or the state it made), "box" (it left the escape box) or "loss" (f at the new
        #: position); None if the run did every step.
        self.failure: str | None = failure
        #: The gradient step ``diverged_at`` received (noise included), where it was finite.
        self.failed_grad: np.ndarray | None = failed_grad
        #: Where step ``diverged_at`` went when f there was not finite (failure "loss"); None otherwise.
        self.failed_position: np.ndarray | None = failed_position

    @property
    def optimizer(self) -> str:
        return self.spec.optimizer

    @cached_property
    def stop_cause(self) -> str | None:
        """Why the run stopped early: "escaped", "gradient" (not finite at the position), "loss" (f not finite
        at the new position), "zero_division" (a denominator of exactly 0: eps = 0 where the second moment is 0),
        "negative_variance" (centered RMSProp's square_avg − grad_avg² below 0, by rounding) or "overflow";
        None if it ran every step."""
        if self.failure in (None, "box", "gradient", "loss"):
            return {None: None, "box": "escaped", "gradient": "gradient", "loss": "loss"}[self.failure]
        return _step_failure(self) or "overflow"

    @property
    def stop_reason(self) -> str | None:
        """Why the run stopped early, in a few plain words (None if it ran every step)."""
        return _STOP_WORDS[self.stop_cause] if self.stop_cause else None

    @property
    def steps_done(self) -> int:
        return self.grad.shape[0]

    @cached_property
    def update(self) -> np.ndarray:
        """The change of position made by each step: ``path[t] - path[t-1]``."""
        return np.diff(self.path, axis=0)

    @cached_property
    def bias_corrected(self) -> dict[str, np.ndarray]:
        """The optimizer's bias-corrected moments ((n, 2) each): Adam's ``m_hat``, ``v_hat`` (and ``v_hat_max``
        with AMSGrad), what the step divides and multiplies. With ``bias_correction=False`` they are the stored
        moments themselves. Empty for an optimizer without bias correction."""
        return self.spec.spec.bias_corrected(self)

    def divisor_moment(self) -> np.ndarray | None:
        """The second moment each step divides by, under its root ((n, 2): v̂_t, or AMSGrad's maximum over
        bc2; RMSProp's square_avg, minus grad_avg² when centered; AdaGrad's sum), or None (SGD)."""
        return self.spec.spec.divisor_moment(self)

    @cached_property
    def effective_lr(self) -> np.ndarray:
        """The per-coordinate step size the optimizer applied at each step ((n, 2)): what multiplies the
        (bias-corrected) first moment or the gradient. Adam: ``lr / (sqrt(v_hat) + eps)``; RMSProp:
        ``lr / (sqrt(square_avg [- grad_avg^2]) + eps)``; AdaGrad: ``lr / (1 + (t-1) lr_decay) / (sqrt(sum) +
        eps)``; SGD: ``lr``; each optimizer's module says what it is for it."""
        derive = self.spec.spec.effective_lr
        if derive is None:
            return np.repeat(self.lr[:, None], 2, axis=1)
        return derive(self)

    def hyper_at(self, t: int) -> dict[str, Any]:
        """The hyperparameters step ``t`` (1..n) used: ``spec.hyper`` with the cycled momentum or β₁ of that step
        where a schedule cycles it."""
        h = self.spec.hyper
        if self.momentum is None:
            return h
        value = float(self.momentum[t - 1])
        key = _schedules.momentum_key(h)
        h[key] = (value, *h[key][1:]) if key == "betas" else value
        return h

    @cached_property
    def first_moment(self) -> np.ndarray | None:
        """The first moment the step multiplies ((n, 2)): Adam's m̂_t, SGD's or RMSProp's momentum buffer; None
        where there is none."""
        return self.spec.spec.momentum(self)

    @cached_property
    def eps_dominated(self) -> np.ndarray:
        """Where ε is most of the effective step size's denominator ((n, 2) bools): √v < ε (v < ε with
        ``eps_inside_sqrt``), v being the second moment the step divides by (v̂_t, square_avg, sum). There
        η_t is close to η/ε (η/√ε): a second moment of (nearly) 0, as where the gradient has been 0. All False
        for an optimizer without a second moment (SGD) or without an ε."""
        v = self.divisor_moment()
        h = self.spec.hyper
        if v is None or "eps" not in h:
            return np.zeros((self.steps_done, 2), dtype=bool)
        with np.errstate(invalid="ignore"):
            if h.get("eps_inside_sqrt", False):
                return v < h["eps"]
            return np.sqrt(v) < h["eps"]

    def distance_to(self, points: Sequence[tuple[float, float]]) -> np.ndarray:
        """Euclidean distance from every position to the nearest of ``points`` ((n+1,), NaN if none)."""
        if not points:
            return np.full(self.path.shape[0], np.nan)
        pts = np.asarray(points, dtype=np.float64)
        d = np.linalg.norm(self.path[:, None, :] - pts[None, :, :], axis=2)
        return d.min(axis=1)

    def __repr__(self) -> str:
        end = "" if self.diverged_at is None else f", diverged_at={self.diverged_at} ({self.diverged_reason})"
        return f"Run({self.spec!r}, steps_done={self.steps_done}{end})"


@dataclass(frozen=True)
class Simulation:
    """The result of :func:`simulate`: the scenario and one :class:`Run` per RunSpec, in order."""

    scenario: Scenario
    runs: tuple[Run, ...]

    @property
    def surface(self) -> Surface:
        return self.scenario.surface


def _run_one(scenario: Scenario, spec: RunSpec, noise: np.ndarray) -> Run:
    surf = scenario.surface
    steps = scenario.steps
    opt = spec.spec
    hyper = spec.hyper
    layout = opt.layout(hyper)
    hp = opt.hp_array(hyper)
    moms, slot = np.zeros(0), 0
    if spec.schedule is None:
        lrs = np.full(steps, spec.lr)
    else:
        lrs, cycled = _schedules.series(spec.schedule, hyper, steps)
        if cycled is not None:
            moms, slot = cycled, opt.momentum_slot
            key = _schedules.momentum_key(hyper)
            # the buffers the reference keeps are the ones its first step's momentum makes
            layout = opt.layout({**hyper, key: (moms[0], *hyper[key][1:]) if key == "betas" else moms[0]})
    path = np.empty((steps + 1, 2))
    loss = np.empty(steps + 1)
    grads = np.empty((steps, 2))
    state = np.empty((steps + 1, max(1, sum(kind for _, kind in opt.state))))
    n, status = simulate_kernel(
        np.int64(surf.sid), surf.param_array, np.int64(_optimizers.oid(opt.name)), hp,
        float(scenario.start[0]), float(scenario.start[1]), noise, lrs, moms, np.int64(slot),
        _schedules.plateau_array(spec.schedule), np.int64(steps),
        np.array(surf.escape_box, dtype=np.float64), path, loss, grads, state,
    )
    n, status = int(n), int(status)
    # Copies, so that a diverged run does not pin its full-length buffers in memory.
    trim = (lambda a: a[: n + 1].copy()) if n < steps else (lambda a: a)
    failure = {0: None, NON_FINITE: "step", ESCAPED: "box", NON_FINITE_GRAD: "gradient", NON_FINITE_LOSS: "loss"}
    # Views of the kernel's record where the run did every step (copying each buffer out of the wide record
    # took as long as the run); copies where it stopped early, so that it does not pin the full-length record.
    keep = (lambda a: a) if n == steps else np.ascontiguousarray
    buffers = {name: keep(state[: n + 1, slot: slot + kind] if kind == _optimizers.VECTOR else state[: n + 1, slot])
               for name, slot, kind in layout}
    return Run(
        spec,
        trim(path),
        trim(loss),
        grads[:n].copy() if n < steps else grads,
        buffers,
        None if status == 0 else n + 1,
        None if status == 0 else "escaped" if status == ESCAPED else "non-finite",
        failure[status],
        grads[n].copy() if status not in (0, NON_FINITE_GRAD) else None,
        lrs[:n].copy() if n < steps else lrs,
        None if not moms.shape[0] else moms[:n].copy() if n < steps else moms,
        path[n + 1].copy() if status == NON_FINITE_LOSS else None,
    )


_STOP_WORDS = {
    "escaped": "ran far off the plot",
    "gradient": "met a gradient too large to hold in a float64",
    "loss": "reached a point where f is too large to hold in a float64",
    "zero_division": "divided by zero (ε = 0)",
    "negative_variance": "took the square root of a negative variance",
    "overflow": "overflowed: its numbers grew past the largest float64",
}


def _step_failure(run: Run) -> str | None:
    """"zero_division" or "negative_variance" when that is what made the failed step's position or state
    non-finite, from the last recorded state and the gradient the step received (the kernel's arithmetic);
    None otherwise (an overflow). Only Adam's, AdamW's, RMSProp's and AdaGrad's denominators are examined."""
    g, st, h = run.failed_grad, run.state, run.spec.hyper
    if g is None:
        return None
    wd = h.get("weight_decay", 0.0)
    with np.errstate(all="ignore"):
        decoupled = run.spec.spec.decoupled(h)  # its weight decay scales the position, not the gradient
        d = g + wd * run.path[-1] if wd != 0.0 and not decoupled else g
        if run.optimizer in ("adam", "adamw"):
            b2 = h["betas"][1]
            v = st["exp_avg_sq"][-1] * b2 + ((1.0 - b2) * d) * d
            if "max_exp_avg_sq" in st:
                v = np.maximum(st["max_exp_avg_sq"][-1], v)
            denominator = v
        elif run.optimizer == "rmsprop":
            alpha = h["alpha"]
            denominator = st["square_avg"][-1] * alpha + ((1.0 - alpha) * d) * d
            if "grad_avg" in st:
                a, w = st["grad_avg"][-1], 1.0 - alpha  # the kernel's lerp: its formula turns at w = 0.5
                ga = a + w * (d - a) if abs(w) < 0.5 else d - (d - a) * (1.0 - w)
                denominator = denominator + (-ga) * ga
                if np.any(denominator < 0):
                    return "negative_variance"
        elif run.optimizer == "adagrad":
            denominator = st["sum"][-1] + d * d
        else:
            return None
        if h.get("eps") == 0.0 and np.any(denominator == 0.0):
            return "zero_division"
    return None


def run_scenario(scenario: Scenario) -> Simulation:
    """Run every RunSpec of ``scenario`` (one shared noise sequence) and return the records."""
    noise = np.ascontiguousarray(scenario.noise_array(), dtype=np.float64)
    return Simulation(scenario, tuple(_run_one(scenario, spec, noise) for spec in scenario.runs))


def simulate(
    surface: str | Surface,
    runs: Iterable[RunSpec],
    start: Sequence[float] | None = None,
    steps: int = 500,
    noise: float | None = None,
    seed: int = 0,
) -> Simulation:
    """Run optimizers side by side on a surface from the same start.

    ``surface``: a name from ``surfaces.names()`` or a surface object. ``start``: (x, y),
    the surface's default start when None. ``steps``: 1..100,000. ``noise``: sigma of the
    Gaussian gradient noise (None: the surface's default, non-zero only for
    ``noisy_saddle``), drawn once from ``numpy.random.default_rng(seed)`` and shared by
    every run. A run that produces a non-finite value or leaves the escape box (the
    domain scaled 100 times about its centre) stops there: its ``diverged_at`` is the
    step that failed and its arrays end at the step before.
    """
    return run_scenario(Scenario.create(surface, runs, start, steps, noise, seed))


def default_runs(surface: str | Surface, optimizers: Iterable[str] = ("adam", "rmsprop", "adagrad", "sgd")):
    """RunSpecs for ``optimizers`` with the surface's recommended learning rates (torch defaults otherwise)."""
    surf = surfaces.get(surface)
    return tuple(RunSpec(name, lr=_optimizers.get(name).recommended_lr(surf)) for name in optimizers)


def warmup() -> None:
    """Compile (or load from the on-disk cache) every kernel signature the app uses."""
    sim = simulate("rosenbrock", (*default_runs("rosenbrock"), RunSpec("adamw")), steps=2, noise=0.1)
    for run in sim.runs:  # the derived series: their powers β^t are compiled too (optimizers._common.power)
        run.effective_lr  # noqa: B018
    sim.surface.values(np.linspace(-1.0, 1.0, 3), np.linspace(-1.0, 1.0, 3))
    sim.surface.value(0.0, 0.0)
    sim.surface.grad(0.0, 0.0)

"""Learning-rate schedules: torch.optim.lr_scheduler's, with its class names, keywords, messages and arithmetic.

``Schedule("CosineAnnealingLR", T_max=500, eta_min=1e-3)`` describes a scheduler; a run takes one
(``RunSpec("adam", lr=0.1, schedule=...)``) and is stepped as torch's are in the usual loop: the scheduler's
``step()`` once after every optimizer step. :func:`series` gives the learning rate (and, where OneCycleLR or
CyclicLR cycle it, the momentum or β₁) of every step.

The values are torch's to the last bit: the schedulers below are torch's own code (torch 2.13,
``torch/optim/lr_scheduler.py``), cut down to one parameter group of plain floats and run on a stand-in for the
optimizer (``_Group``), the chainable forms where torch uses them (``get_lr``) and its closed forms where
SequentialLR calls them. ReduceLROnPlateau reads the loss after each step, so it runs inside the kernel
(:func:`plateau_array` packs its settings; ``optiviz._kernel`` has the same logic as torch's ``step``).

Where torch accepts a value that cannot make a schedule (a T_max of 0 or below, which torch divides by;
milestones out of order), optiviz refuses it with its own message; torch's own messages otherwise.
"""

from __future__ import annotations

import itertools
import math
import numbers
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

_REQUIRED = object()

#: Each scheduler's keywords and defaults (torch's), in torch's order; ``_REQUIRED`` where torch has none.
KEYWORDS: Mapping[str, dict[str, Any]] = {
    "StepLR": {"step_size": _REQUIRED, "gamma": 0.1},
    "MultiStepLR": {"milestones": _REQUIRED, "gamma": 0.1},
    "ConstantLR": {"factor": 1.0 / 3, "total_iters": 5},
    "LinearLR": {"start_factor": 1.0 / 3, "end_factor": 1.0, "total_iters": 5},
    "ExponentialLR": {"gamma": _REQUIRED},
    "SequentialLR": {"schedulers": _REQUIRED, "milestones": _REQUIRED},
    "PolynomialLR": {"total_iters": 5, "power": 1.0},
    "CosineAnnealingLR": {"T_max": _REQUIRED, "eta_min": 0.0},
    "ReduceLROnPlateau": {"mode": "min", "factor": 0.1, "patience": 10, "threshold": 1e-4, "threshold_mode": "rel",
                          "cooldown": 0, "min_lr": 0.0, "eps": 1e-8},
    "CyclicLR": {"base_lr": _REQUIRED, "max_lr": _REQUIRED, "step_size_up": 2000, "step_size_down": None,
                 "mode": "triangular", "gamma": 1.0, "cycle_momentum": True, "base_momentum": 0.8,
                 "max_momentum": 0.9},
    "CosineAnnealingWarmRestarts": {"T_0": _REQUIRED, "T_mult": 1, "eta_min": 0.0},
    "OneCycleLR": {"max_lr": _REQUIRED, "total_steps": None, "epochs": None, "steps_per_epoch": None,
                   "pct_start": 0.3, "anneal_strategy": "cos", "cycle_momentum": True, "base_momentum": 0.85,
                   "max_momentum": 0.95, "div_factor": 25.0, "final_div_factor": 1e4, "three_phase": False},
}

#: Keywords that are whole numbers (a float with a whole value is taken as one), lists of whole numbers,
#: flags and words; every other keyword is a float.
_INTS = {"step_size", "total_iters", "T_max", "patience", "cooldown", "step_size_up", "step_size_down", "T_0",
         "T_mult", "total_steps", "epochs", "steps_per_epoch"}
_INT_LISTS = {"milestones"}
_FLAGS = {"cycle_momentum", "three_phase"}
_WORDS = {"mode", "threshold_mode", "anneal_strategy"}

#: The schedulers that cycle the momentum (or β₁) when ``cycle_momentum`` is on.
CYCLING = ("OneCycleLR", "CyclicLR")


class Schedule:
    """One torch scheduler: its class name and keywords (``Schedule("StepLR", step_size=100, gamma=0.5)``).

    Validated on creation, with torch's messages (and optiviz's where torch has none); immutable and hashable.
    ``SequentialLR`` takes ``schedulers``, a list of Schedules, and ``milestones``.
    """

    __slots__ = ("_items", "name")

    def __init__(self, name: str, **kwargs: Any) -> None:
        if name not in KEYWORDS:
            raise ValueError(f"Unknown schedule {name!r}; valid schedules: {', '.join(KEYWORDS)}")
        known = KEYWORDS[name]
        unknown = [k for k in kwargs if k not in known]
        if unknown:
            raise ValueError(f"{name} got an unexpected keyword argument {unknown[0]!r}; valid: {', '.join(known)}")
        values = {}
        for key, default in known.items():
            if key not in kwargs:
                if default is _REQUIRED:
                    raise ValueError(f"{name} needs {key}")
                values[key] = default
            else:
                values[key] = _coerce(name, key, kwargs[key])
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "_items", tuple(values.items()))
        _check(self)
        _build(self, _Group(1.0, {"betas": (0.9, 0.999), "momentum": 0.9}))  # torch's checks at construction

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Schedule is immutable; use .replace(...)")

    def __reduce__(self):
        return (_schedule, (self.name, self._items))

    @property
    def kwargs(self) -> dict[str, Any]:
        """Every keyword (defaults included), in torch's order; lists as tuples."""
        return dict(self._items)

    def changed(self) -> dict[str, Any]:
        """The keywords set away from torch's defaults (required ones always)."""
        known = KEYWORDS[self.name]
        return {k: v for k, v in self._items if known[k] is _REQUIRED or v != known[k]}

    def replace(self, **changes: Any) -> Schedule:
        return Schedule(self.name, **{**self.kwargs, **changes})

    @property
    def cycles_momentum(self) -> bool:
        """Whether it sets the momentum (or β₁) too: OneCycleLR and CyclicLR with cycle_momentum, or a
        SequentialLR of one."""
        if self.name == "SequentialLR":
            return any(child.cycles_momentum for child in self.kwargs["schedulers"])
        return self.name in CYCLING and self.kwargs["cycle_momentum"]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schedule) and (self.name, self._items) == (other.name, other._items)

    def __hash__(self) -> int:
        return hash((self.name, self._items))

    def __repr__(self) -> str:
        return f"Schedule({self.name!r}{''.join(f', {k}={_repr(v)}' for k, v in self.changed().items())})"


def _repr(value: Any) -> str:
    return f"[{', '.join(_repr(v) for v in value)}]" if isinstance(value, tuple) else repr(value)


def _schedule(name: str, items: tuple) -> Schedule:
    return Schedule(name, **dict(items))


def _coerce(name: str, key: str, value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if key == "schedulers":
        if isinstance(value, Schedule) or not isinstance(value, (list, tuple)) or not all(
                isinstance(s, Schedule) for s in value):
            raise ValueError(f"{name}: schedulers must be a list of Schedules, got {value!r}")
        return tuple(value)
    if key in _INT_LISTS:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{name}: {key} must be a list of whole numbers, got {value!r}")
        return tuple(_whole(name, key, v) for v in value)
    if value is None and KEYWORDS[name][key] is None:
        return None
    if key in _FLAGS:
        if isinstance(value, bool) or (isinstance(value, numbers.Integral) and value in (0, 1)):
            return bool(value)
        raise ValueError(f"{name}: {key} must be True or False, got {value!r}")
    if key in _WORDS:
        if not isinstance(value, str):
            raise ValueError(f"{name}: {key} must be a word, got {value!r}")
        return value
    if key in _INTS:
        return _whole(name, key, value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}: {key} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name}: {key} must be a finite number, got {value!r}")
    return float(value)


def _whole(name: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or (
            value != int(value)):
        raise ValueError(f"{name}: {key} must be a whole number, got {value!r}")
    return int(value)


def _check(s: Schedule) -> None:
    """optiviz's checks where torch has none (values torch divides by, or reads as sorted)."""
    h = s.kwargs
    positive = {"StepLR": "step_size", "CosineAnnealingLR": "T_max", "PolynomialLR": "total_iters",
                "LinearLR": "total_iters"}
    key = positive.get(s.name)
    if key and h[key] <= 0:
        raise ValueError(f"{s.name}: {key} must be a positive whole number, got {h[key]}")
    if s.name == "ConstantLR" and h["factor"] == 0:  # torch divides by it at total_iters
        raise ValueError("ConstantLR: factor must be above 0 (torch divides by it at total_iters), got 0.0")
    if s.name in ("MultiStepLR", "SequentialLR"):
        milestones = h["milestones"]
        if any(b <= a for a, b in itertools.pairwise(milestones)):
            raise ValueError(f"{s.name}: milestones must be increasing, got {list(milestones)}")
        if milestones and milestones[0] < 0:
            raise ValueError(f"{s.name}: milestones must be 0 or more, got {list(milestones)}")
    if s.name == "ReduceLROnPlateau":
        if h["patience"] < 0 or h["cooldown"] < 0:
            raise ValueError(f"ReduceLROnPlateau: patience and cooldown must be 0 or more, got {h['patience']} and "
                             f"{h['cooldown']}")
    if s.name == "CyclicLR" and (h["step_size_up"] <= 0 or (h["step_size_down"] or 1) <= 0):
        raise ValueError("CyclicLR: step_size_up and step_size_down must be positive whole numbers")
    if s.name == "SequentialLR":
        for child in h["schedulers"]:
            if child.name == "SequentialLR":
                raise ValueError("SequentialLR: a SequentialLR inside a SequentialLR is not supported")


# ---- torch's schedulers, on one parameter group of floats -------------------------------------------------------


class _Group:
    """The optimizer as a scheduler sees it: one ``param_groups`` entry, and the keys of its ``defaults``."""

    def __init__(self, lr: float, hyper: Mapping[str, Any]) -> None:
        group = {"lr": lr}
        for key in ("betas", "momentum"):
            if key in hyper:
                group[key] = hyper[key]
        self.param_groups = [group]
        self.defaults = dict(hyper)

    @property
    def group(self) -> dict:
        return self.param_groups[0]


class _LRScheduler:
    _is_initial = False

    def __init__(self, optimizer: _Group, last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        group = optimizer.group
        group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"]]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def _lrs(self) -> list[float]:
        return [self.optimizer.group["lr"]]

    def step(self) -> None:
        self._step_count += 1
        self._update_lr()

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            values = self._get_closed_form_lr() if hasattr(self, "_get_closed_form_lr") else self.get_lr()
        self.optimizer.group["lr"] = values[0]


class _StepLR(_LRScheduler):
    def __init__(self, optimizer, step_size, gamma=0.1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [self.optimizer.group["lr"] * self.gamma]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class _MultiStepLR(_LRScheduler):
    def __init__(self, optimizer, milestones, gamma=0.1):
        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(optimizer)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._lrs()
        return [self.optimizer.group["lr"] * self.gamma ** self.milestones[self.last_epoch]]

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch) for base_lr in self.base_lrs]


class _ConstantLR(_LRScheduler):
    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5):
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer)

    def get_lr(self):
        if self.last_epoch == 0:
            return [self.optimizer.group["lr"] * self.factor]
        if self.last_epoch != self.total_iters:
            return self._lrs()
        return [self.optimizer.group["lr"] * (1.0 / self.factor)]

    def _get_closed_form_lr(self):
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base_lr in self.base_lrs]


class _LinearLR(_LRScheduler):
    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer)

    def get_lr(self):
        if self.last_epoch == 0:
            return [self.optimizer.group["lr"] * self.start_factor]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._lrs()
        return [self.optimizer.group["lr"] * (1.0 + (self.end_factor - self.start_factor) / (
            self.total_iters * self.start_factor + (self.last_epoch - 1) * (self.end_factor - self.start_factor)))]

    def _get_closed_form_lr(self):
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor)
                           * min(self.total_iters, self.last_epoch) / self.total_iters) for base_lr in self.base_lrs]


class _ExponentialLR(_LRScheduler):
    def __init__(self, optimizer, gamma):
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self):
        if self._is_initial:
            return self._lrs()
        return [self.optimizer.group["lr"] * self.gamma]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class _PolynomialLR(_LRScheduler):
    def __init__(self, optimizer, total_iters=5, power=1.0):
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer)

    def get_lr(self):
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._lrs()
        decay_factor = ((1.0 - self.last_epoch / self.total_iters)
                        / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [self.optimizer.group["lr"] * decay_factor]

    def _get_closed_form_lr(self):
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for base_lr in self.base_lrs]


class _CosineAnnealingLR(_LRScheduler):
    def __init__(self, optimizer, T_max, eta_min=0.0):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def get_lr(self):
        lr = self.optimizer.group["lr"]
        if self._is_initial:
            return self._lrs()
        if self._step_count == 1 and self.last_epoch > 0:
            return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(self.last_epoch * math.pi / self.T_max))
                    / 2 for base_lr in self.base_lrs]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [lr + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                    for base_lr in self.base_lrs]
        return [(1 + math.cos(math.pi * self.last_epoch / self.T_max))
                / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max)) * (lr - self.eta_min) + self.eta_min]

    def _get_closed_form_lr(self):
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class _SequentialLR(_LRScheduler):
    def __init__(self, optimizer, schedulers, milestones):
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler, but got no scheduler.")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more than the number of "
                f"milestone points, but got number of schedulers {len(schedulers)} and the number of milestones to "
                f"be equal to {len(milestones)}")
        self._schedulers, self._milestones = schedulers, list(milestones)
        self.last_epoch = 0
        self.optimizer = optimizer
        optimizer.group["lr"] = optimizer.group["initial_lr"]
        for s in schedulers:  # torch's recursive_undo (no nesting here)
            s.last_epoch -= 1
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()

    def step(self):
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()


class _CyclicLR(_LRScheduler):
    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, cycle_momentum=True, base_momentum=0.8, max_momentum=0.9):
        group = optimizer.group
        group["lr"] = base_lr
        self.max_lrs = [max_lr]
        self.total_size, self.step_ratio = _cyclic_sizes(step_size_up, step_size_down)
        if mode not in ["triangular", "triangular2", "exp_range"]:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode, self.gamma = mode, gamma
        self.scale_mode = "iterations" if mode == "exp_range" else "cycle"
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            _check_cycling(optimizer)
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums, self.max_momentums = [base_momentum], [max_momentum]
            _set_momentum(group, self.use_beta1, max_momentum)
            group["max_momentum"], group["base_momentum"] = max_momentum, base_momentum
        super().__init__(optimizer)
        self.base_lrs = [base_lr]

    def scale_fn(self, x):
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / 2.0 ** (x - 1)
        return self.gamma**x

    def get_lr(self):
        cycle, scale_factor = _cyclic_position(self.last_epoch, self.total_size, self.step_ratio)
        lrs = []
        for base_lr, max_lr in zip(self.base_lrs, self.max_lrs, strict=True):
            base_height = (max_lr - base_lr) * scale_factor
            if self.scale_mode == "cycle":
                lr = base_lr + base_height * self.scale_fn(cycle)
            else:
                lr = base_lr + base_height * self.scale_fn(self.last_epoch)
            lrs.append(lr)
        if self.cycle_momentum:
            base_momentum, max_momentum = self.base_momentums[0], self.max_momentums[0]
            base_height = (max_momentum - base_momentum) * scale_factor
            if self.scale_mode == "cycle":
                momentum = max_momentum - base_height * self.scale_fn(cycle)
            else:
                momentum = max_momentum - base_height * self.scale_fn(self.last_epoch)
            _set_momentum(self.optimizer.group, self.use_beta1, momentum)
        return lrs


def _cyclic_sizes(step_size_up, step_size_down) -> tuple[float, float]:
    """CyclicLR's cycle length and the share of it spent going up (torch's ``total_size``, ``step_ratio``)."""
    step_size_up = float(step_size_up)
    step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
    total_size = step_size_up + step_size_down
    return total_size, step_size_up / total_size


def _cyclic_position(last_epoch: int, total_size: float, step_ratio: float) -> tuple[int, float]:
    """Where CyclicLR is at ``last_epoch``: the cycle (from 1) and the height in it (0 at base_lr, 1 at max_lr)."""
    cycle = math.floor(1 + last_epoch / total_size)
    x = 1.0 + last_epoch / total_size - cycle
    if x <= step_ratio:
        return cycle, x / step_ratio
    return cycle, (x - 1) / (step_ratio - 1)


class _CosineAnnealingWarmRestarts(_LRScheduler):
    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0):
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        self.T_0 = self.T_i = T_0
        self.T_mult, self.eta_min = T_mult, eta_min
        self.T_cur = -1
        super().__init__(optimizer)

    def get_lr(self):
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self):
        if self.last_epoch < 0:
            epoch = 0
            self.T_i, self.T_cur = self.T_0, epoch  # torch's explicit-epoch branch, for epoch 0 < T_0
        else:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        self.last_epoch = math.floor(epoch)
        self.optimizer.group["lr"] = self.get_lr()[0]


class _OneCycleLR(_LRScheduler):
    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False):
        if total_steps is not None:
            if total_steps <= 0 or not isinstance(total_steps, int):
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        self._schedule_phases = _onecycle_phases(self.total_steps, pct_start, three_phase)
        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._anneal_func_type = anneal_strategy
        group = optimizer.group
        group["initial_lr"] = max_lr / div_factor
        group["max_lr"] = max_lr
        group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            _check_cycling(optimizer)
            self.use_beta1 = "betas" in optimizer.defaults
            _set_momentum(group, self.use_beta1, max_momentum)
            group["max_momentum"], group["base_momentum"] = max_momentum, base_momentum
        super().__init__(optimizer)

    def _anneal_func(self, start, end, pct):
        if self._anneal_func_type == "cos":
            cos_out = math.cos(math.pi * pct) + 1
            return end + (start - end) / 2.0 * cos_out
        return (end - start) * pct + start

    def get_lr(self):
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(f"Tried to step {step_num} times. The specified number of total steps is "
                             f"{self.total_steps}")
        group = self.optimizer.group
        phase, pct = _phase_at(self._schedule_phases, step_num)
        computed_lr = self._anneal_func(group[phase["start_lr"]], group[phase["end_lr"]], pct)
        if self.cycle_momentum:
            computed_momentum = self._anneal_func(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
            _set_momentum(group, self.use_beta1, computed_momentum)
        return [computed_lr]


def _onecycle_phases(total_steps: int, pct_start: float, three_phase: bool) -> list[dict]:
    """OneCycleLR's phases as torch lists them: where each ends, and the group's keys it anneals between."""
    up = {"end_step": float(pct_start * total_steps) - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
          "start_momentum": "max_momentum", "end_momentum": "base_momentum"}
    if three_phase:
        return [up,
                {"end_step": float(2 * pct_start * total_steps) - 2, "start_lr": "max_lr", "end_lr": "initial_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": total_steps - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"}]
    return [up, {"end_step": total_steps - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"}]


def _phase_at(phases: list[dict], step_num: int) -> tuple[dict, float]:
    """The phase OneCycleLR is in at ``step_num``, and how far into it (torch's ``pct``)."""
    start_step = 0.0
    for i, phase in enumerate(phases):
        end_step = phase["end_step"]
        if step_num <= end_step or i == len(phases) - 1:
            return phase, (step_num - start_step) / (end_step - start_step)
        start_step = phase["end_step"]
    raise AssertionError("unreachable")


def _check_cycling(optimizer: _Group) -> None:
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")


def _set_momentum(group: dict, use_beta1: bool, value: float) -> None:
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


_CLASSES = {
    "StepLR": _StepLR, "MultiStepLR": _MultiStepLR, "ConstantLR": _ConstantLR, "LinearLR": _LinearLR,
    "ExponentialLR": _ExponentialLR, "PolynomialLR": _PolynomialLR, "CosineAnnealingLR": _CosineAnnealingLR,
    "CyclicLR": _CyclicLR, "CosineAnnealingWarmRestarts": _CosineAnnealingWarmRestarts, "OneCycleLR": _OneCycleLR,
}


def _build(schedule: Schedule, optimizer: _Group):
    h = schedule.kwargs
    if schedule.name == "ReduceLROnPlateau":
        _plateau_checks(h)
        return None
    if schedule.name == "SequentialLR":
        for i, child in enumerate(h["schedulers"]):
            if child.name == "ReduceLROnPlateau":
                raise ValueError(
                    "SequentialLR does not support `ReduceLROnPlateau` scheduler as it requires additional kwargs to "
                    f"be specified when calling `step`, but got one at index {i} in the given schedulers sequence.")
        children = [_build(child, optimizer) for child in h["schedulers"]]
        return _SequentialLR(optimizer, children, h["milestones"])
    return _CLASSES[schedule.name](optimizer, **h)


def _plateau_checks(h: dict) -> None:
    if h["factor"] >= 1.0:
        raise ValueError("Factor should be < 1.0.")
    if h["mode"] not in {"min", "max"}:
        raise ValueError("mode " + h["mode"] + " is unknown!")
    if h["threshold_mode"] not in {"rel", "abs"}:
        raise ValueError("threshold mode " + h["threshold_mode"] + " is unknown!")


def momentum_key(hyper: Mapping[str, Any]) -> str | None:
    """The hyperparameter a cycling schedule sets on this optimizer (torch's rule): ``betas`` (its β₁) where the
    optimizer has betas, else ``momentum``, else None (and the schedule refuses it)."""
    return "betas" if "betas" in hyper else "momentum" if "momentum" in hyper else None


def check_run(schedule: Schedule, hyper: Mapping[str, Any], steps: int | None = None) -> None:
    """What torch would refuse for this schedule on this optimizer (and, given ``steps``, over that many
    steps): a cycling schedule on an optimizer without momentum or betas, OneCycleLR's total steps."""
    _series(schedule, *_series_key(hyper), steps if steps is not None else 1)


def series(schedule: Schedule, hyper: Mapping[str, Any], steps: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The learning rate of steps 1..``steps`` ((steps,)) under ``schedule``, starting from ``hyper["lr"]``, and
    the momentum (or β₁) of each step where the schedule cycles it (None otherwise): what torch's optimizer
    reads from its param group at each ``step()`` with the scheduler stepped after each. ReduceLROnPlateau's
    depends on the losses: its series here is the starting lr, which the kernel lowers. Fresh arrays (the
    kernel writes a plateau's rates into them)."""
    lrs, moms = _series(schedule, *_series_key(hyper), steps)
    return lrs.copy(), None if moms is None else moms.copy()


def _series_key(hyper: Mapping[str, Any]) -> tuple:
    """What of the hyperparameters a scheduler reads: the lr, and the betas or momentum it may cycle."""
    return hyper["lr"], hyper.get("betas"), hyper.get("momentum")


@lru_cache(maxsize=64)
def _series(schedule: Schedule, lr: float, betas: tuple | None, momentum: float | None, steps: int
            ) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`series`, remembered (read-only): the sidebar, the scenario's checks and the simulation all ask for
    the same run's rates on every rerun, at up to 10,000 Python scheduler steps (~15 ms) each time."""
    hyper = {"lr": lr, **({"betas": betas} if betas is not None else {}),
             **({"momentum": momentum} if momentum is not None else {})}
    optimizer = _Group(lr, hyper)
    scheduler = _build(schedule, optimizer)
    key = momentum_key(hyper) if schedule.cycles_momentum else None
    group = optimizer.group
    lrs = np.empty(steps)
    moms = np.empty(steps) if key else None
    for t in range(steps):
        lrs[t] = group["lr"]
        if moms is not None:
            moms[t] = group["betas"][0] if key == "betas" else group["momentum"]
        if scheduler is not None:
            scheduler.step()  # after every optimizer step, the last one too (OneCycleLR refuses too many)
    lrs.flags.writeable = False
    if moms is not None:
        moms.flags.writeable = False
    return lrs, moms


#: ReduceLROnPlateau's settings as the kernel reads them: mode (0 min, 1 max), threshold_mode (0 rel, 1 abs),
#: factor, patience, threshold, cooldown, min_lr, eps.
PLATEAU_SIZE = 8


def plateau_array(schedule: Schedule | None) -> np.ndarray:
    """ReduceLROnPlateau's settings for the kernel ((8,)), or an empty array for any other schedule."""
    if schedule is None or schedule.name != "ReduceLROnPlateau":
        return np.zeros(0)
    h = schedule.kwargs
    return np.array([h["mode"] == "max", h["threshold_mode"] == "abs", h["factor"], h["patience"], h["threshold"],
                     h["cooldown"], h["min_lr"], h["eps"]], dtype=np.float64)


# ---- text: the command line and the links -----------------------------------------------------------------------

#: Limits on a schedule's text (a link can hold anything): its length and its nesting.
MAX_TEXT = 600
MAX_DEPTH = 4


def format_schedule(schedule: Schedule) -> str:
    """``CosineAnnealingLR(T_max=500,eta_min=0.001)``: the keywords away from torch's defaults (and the required
    ones), as :func:`parse_schedule` reads them."""
    return f"{schedule.name}({','.join(f'{k}={_format(v)}' for k, v in schedule.changed().items())})"


def _format(value: Any) -> str:
    if isinstance(value, Schedule):
        return format_schedule(value)
    if isinstance(value, tuple):
        return f"[{','.join(_format(v) for v in value)}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    return value if isinstance(value, str) else repr(value)


def parse_schedule(text: str) -> Schedule | None:
    """``"CosineAnnealingLR(T_max=500)"`` -> ``Schedule("CosineAnnealingLR", T_max=500)``; ``"none"`` (or an
    empty text) -> None. ``ValueError`` saying what is wrong, and where, otherwise."""
    text = text.strip()
    if text.lower() in ("", "none"):
        return None
    if len(text) > MAX_TEXT:
        raise ValueError(f"schedule: at most {MAX_TEXT} characters, got {len(text)}")
    parser = _Parser(text)
    value = parser.schedule(0)
    parser.end()
    return value


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.i = text, 0

    def fail(self, what: str):
        near = self.text[self.i: self.i + 20] or "the end"
        raise ValueError(f"schedule: {what} at character {self.i + 1} ({near!r}) of {self.text[:80]!r}")

    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in " \t\r\n":
            self.i += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.i] if self.i < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            self.fail(f"expected {char!r}")
        self.i += 1

    def word(self) -> str:
        self.skip()
        start = self.i
        while self.i < len(self.text) and (self.text[self.i].isascii() and (self.text[self.i].isalnum() or
                                                                             self.text[self.i] in "_.+-")):
            self.i += 1
        if self.i == start:
            self.fail("expected a name or a number")
        return self.text[start: self.i]

    def schedule(self, depth: int) -> Schedule:
        if depth >= MAX_DEPTH:
            self.fail("too deeply nested")
        name = self.word()
        if name not in KEYWORDS:
            raise ValueError(f"Unknown schedule {name!r}; valid schedules: {', '.join(KEYWORDS)}")
        self.expect("(")
        kwargs: dict[str, Any] = {}
        while self.peek() != ")":
            key = self.word()
            if key not in KEYWORDS[name]:
                raise ValueError(f"{name} got an unexpected keyword argument {key!r}; valid: "
                                 f"{', '.join(KEYWORDS[name])}")
            self.expect("=")
            kwargs[key] = self.value(depth)
            if self.peek() == ",":
                self.i += 1
            elif self.peek() != ")":
                self.fail("expected ',' or ')'")
        self.i += 1
        return Schedule(name, **kwargs)

    def value(self, depth: int) -> Any:
        if self.peek() == "[":
            self.i += 1
            items = []
            while self.peek() != "]":
                items.append(self.value(depth + 1))
                if self.peek() == ",":
                    self.i += 1
                elif self.peek() != "]":
                    self.fail("expected ',' or ']'")
            self.i += 1
            return items
        start = self.i
        token = self.word()
        if self.peek() == "(":
            self.i = start
            return self.schedule(depth + 1)
        low = token.lower()
        if low in ("true", "false"):
            return low == "true"
        if low == "none":
            return None
        try:
            number = float(token)
        except ValueError:
            return token  # a word: mode=min, anneal_strategy=cos
        return int(number) if number == int(number) and "." not in token and "e" not in low else number

    def end(self) -> None:
        if self.peek():
            self.fail("unexpected text after the schedule")


# ---- the app's controls ------------------------------------------------------------------------------------------

#: How the app shows each keyword: (label, help, kind, range or choices). kind: "int", "float", "word", "flag",
#: "list" (whole numbers, "30, 60") or "schedules" (SequentialLR's, in the text form of :func:`parse_schedule`).
FIELDS: Mapping[str, tuple[str, str, str, Any]] = {
    "step_size": ("step_size", "Multiply the lr by γ every step_size steps.", "int", (1, 100_000)),
    "gamma": ("gamma (γ)", "The factor the lr is multiplied by (CyclicLR's exp_range: per step).", "float",
              (0.0, 10.0)),
    "milestones": ("milestones", "Steps at which the lr changes, in increasing order: 300, 600.", "list", None),
    "factor": ("factor", "ConstantLR: the lr is multiplied by it until total_iters; ReduceLROnPlateau: by it at "
               "each plateau.", "float", (0.0, 1.0)),
    "total_iters": ("total_iters", "Steps until the schedule reaches its end value.", "int", (1, 100_000)),
    "start_factor": ("start_factor", "The lr's factor at step 1 (a warm-up from start_factor · lr).", "float",
                     (0.0, 1.0)),
    "end_factor": ("end_factor", "The lr's factor from total_iters on.", "float", (0.0, 1.0)),
    "schedulers": ("schedulers", "The schedules one after another, in the command line's form: "
                   "LinearLR(start_factor=0.1,total_iters=100), CosineAnnealingLR(T_max=900).", "schedules", None),
    "power": ("power", "The exponent of the polynomial decay (1: linear).", "float", (0.0, 100.0)),
    "T_max": ("T_max", "Steps of half a cosine, from the lr down to eta_min.", "int", (1, 100_000)),
    "eta_min": ("eta_min", "The smallest lr of the cosine.", "float", (0.0, 10.0)),
    "mode": ("mode", "ReduceLROnPlateau: min (the loss should fall) or max; CyclicLR: triangular, triangular2 "
             "(halved each cycle) or exp_range (times γ per step).", "word",
             ("min", "max", "triangular", "triangular2", "exp_range")),
    "patience": ("patience", "Steps without improvement before the lr is cut.", "int", (0, 100_000)),
    "threshold": ("threshold", "How much better the loss must get to count as an improvement.", "float",
                  (0.0, 1e6)),
    "threshold_mode": ("threshold_mode", "rel: better by a factor (1 − threshold); abs: by threshold.", "word",
                       ("rel", "abs")),
    "cooldown": ("cooldown", "Steps after a cut before improvements are counted again.", "int", (0, 100_000)),
    "min_lr": ("min_lr", "The lr is never cut below it.", "float", (0.0, 10.0)),
    "eps": ("eps", "A cut smaller than eps is not made.", "float", (0.0, 1.0)),
    "base_lr": ("base_lr", "The lowest lr of the cycle (it replaces the run's lr).", "float", (0.0, 10.0)),
    "max_lr": ("max_lr", "The highest lr of the cycle.", "float", (0.0, 10.0)),
    "step_size_up": ("step_size_up", "Steps from base_lr up to max_lr.", "int", (1, 100_000)),
    "step_size_down": ("step_size_down", "Steps from max_lr back down (empty: as step_size_up).", "int",
                       (1, 100_000)),
    "cycle_momentum": ("cycle_momentum", "Cycle the momentum (Adam's β₁) against the lr, between base_momentum "
                       "and max_momentum, as torch does by default.", "flag", None),
    "base_momentum": ("base_momentum", "The momentum (β₁) where the lr is highest.", "float", (0.0, 1.0)),
    "max_momentum": ("max_momentum", "The momentum (β₁) where the lr is lowest.", "float", (0.0, 1.0)),
    "T_0": ("T_0", "Steps until the first restart.", "int", (1, 100_000)),
    "T_mult": ("T_mult", "Each period is T_mult times the one before.", "int", (1, 100)),
    "total_steps": ("total_steps", "Steps of the whole cycle (at least the run's steps).", "int", (1, 100_000)),
    "epochs": ("epochs", "With steps_per_epoch, in place of total_steps.", "int", (1, 100_000)),
    "steps_per_epoch": ("steps_per_epoch", "With epochs, in place of total_steps.", "int", (1, 100_000)),
    "pct_start": ("pct_start", "The part of the cycle spent raising the lr.", "float", (0.0, 1.0)),
    "anneal_strategy": ("anneal_strategy", "cos or linear.", "word", ("cos", "linear")),
    "div_factor": ("div_factor", "The cycle starts at max_lr / div_factor.", "float", (1.0, 1e6)),
    "final_div_factor": ("final_div_factor", "It ends at max_lr / (div_factor · final_div_factor).", "float",
                         (1.0, 1e9)),
    "three_phase": ("three_phase", "Up, back down to the start, then the final annealing.", "flag", None),
}

#: One line on each schedule, under the app's schedule menu.
SUMMARIES: Mapping[str, str] = {
    "StepLR": "the lr times γ every step_size steps",
    "MultiStepLR": "the lr times γ at each milestone",
    "ConstantLR": "the lr times factor until total_iters, then the lr",
    "LinearLR": "from start_factor · lr to end_factor · lr in a straight line over total_iters steps (a warm-up)",
    "ExponentialLR": "the lr times γ at every step",
    "SequentialLR": "one schedule after another, switching at the milestones (a warm-up, then a decay)",
    "PolynomialLR": "the lr down to 0 over total_iters steps, as (1 − t/total_iters)^power",
    "CosineAnnealingLR": "half a cosine from the lr down to eta_min over T_max steps",
    "ReduceLROnPlateau": "the lr times factor whenever the loss has not improved for patience steps",
    "CyclicLR": "the lr up and down between base_lr and max_lr (and the momentum against it)",
    "CosineAnnealingWarmRestarts": "cosine from the lr to eta_min, restarting every T_0 (· T_mult) steps",
    "OneCycleLR": "up from max_lr/div_factor to max_lr, then down far below it (the momentum against it)",
}


def suggested(name: str, lr: float, steps: int) -> Schedule:
    """``name`` with settings that make sense for a run of ``steps`` steps at ``lr``: its decay spread over the
    run, a warm-up of a tenth of it, a cycle from lr/10 to lr."""
    tenth = max(1, steps // 10)
    rounded = float(f"{lr:.3g}")
    kwargs: dict[str, Any] = {
        "StepLR": {"step_size": max(1, steps // 4), "gamma": 0.5},
        "MultiStepLR": {"milestones": [max(1, steps // 2), max(2, 3 * steps // 4)], "gamma": 0.1},
        "ConstantLR": {"factor": 1.0 / 3, "total_iters": tenth},
        "LinearLR": {"start_factor": 0.1, "end_factor": 1.0, "total_iters": tenth},
        "ExponentialLR": {"gamma": float(f"{0.01 ** (1.0 / steps):.4g}")},
        "SequentialLR": {"schedulers": [Schedule("LinearLR", start_factor=0.1, total_iters=tenth),
                                        Schedule("CosineAnnealingLR", T_max=max(1, steps - tenth))],
                         "milestones": [tenth]},
        "PolynomialLR": {"total_iters": steps, "power": 1.0},
        "CosineAnnealingLR": {"T_max": steps, "eta_min": 0.0},
        "ReduceLROnPlateau": {"patience": 10},
        "CyclicLR": {"base_lr": float(f"{lr / 10:.3g}"), "max_lr": rounded, "step_size_up": max(1, steps // 8)},
        "CosineAnnealingWarmRestarts": {"T_0": max(1, steps // 5), "T_mult": 1, "eta_min": 0.0},
        "OneCycleLR": {"max_lr": rounded, "total_steps": steps},
    }[name]
    return Schedule(name, **kwargs)


# ---- Explain: the schedule's formula at a step, with its numbers -------------------------------------------------

def _num(x: float) -> str:
    from .optimizers._explain import format_number

    return format_number(float(x))


def _anneal(strategy: str, start: str, end: str, pct: str) -> str:
    if strategy == "cos":
        return rf"{end} + \frac{{{start} - {end}}}{{2}}\,(1 + \cos(\pi \cdot {pct}))"
    return rf"{start} + ({end} - {start}) \cdot {pct}"


def _onecycle_at(h: dict, e: int) -> tuple[int, int, dict, float]:
    """OneCycleLR at ``last_epoch`` ``e``: the phase's number (from 0), how many there are, the phase, its pct."""
    total = h["total_steps"] if h["total_steps"] is not None else h["epochs"] * h["steps_per_epoch"]
    phases = _onecycle_phases(total, h["pct_start"], h["three_phase"])
    phase, pct = _phase_at(phases, e)
    return phases.index(phase), len(phases), phase, pct


def _cyclic_at(h: dict, e: int) -> tuple[int, float]:
    return _cyclic_position(e, *_cyclic_sizes(h["step_size_up"], h["step_size_down"]))


def explain_lines(schedule: Schedule, lr0: float, t: int, lrs: np.ndarray, moms: np.ndarray | None
                  ) -> list[tuple[str, str, str, str, float]]:
    """Explain's lines for the schedule at step ``t`` (1..n): ``(key, label, formula, substituted, value)`` for
    η_t, and for the momentum or β₁ where the schedule cycles it. ``lr0``: the run's lr; ``lrs``/``moms``: the
    run's recorded rates (the values shown are those, which torch computes in its own (often recursive) way; the
    formulas are torch's closed forms, equal to them to rounding)."""
    e = t - 1  # the scheduler's last_epoch when step t is taken
    lr = float(lrs[t - 1])
    lines = [("lr_t", f"learning rate of step {t} ({schedule.name})", *_lr_formula(schedule, lr0, e, lrs, t), lr)]
    if moms is not None:
        lines.append(("momentum_t", f"momentum (β₁) of step {t} ({schedule.name} cycles it against η)",
                      *_momentum_formula(schedule, e), float(moms[t - 1])))
    return lines


def _lr_formula(s: Schedule, lr0: float, e: int, lrs: np.ndarray, t: int) -> tuple[str, str]:
    h, n = s.kwargs, _num
    if s.name == "SequentialLR":
        idx = bisect_right(h["milestones"], e)
        local = e - h["milestones"][idx - 1] if idx > 0 else e
        child = h["schedulers"][idx]
        formula, numbers = _lr_formula(child, lr0, local, lrs, t)
        return (rf"\text{{{child.name}, from step {h['milestones'][idx - 1] + 1 if idx else 1}}}:\ {formula}",
                numbers)
    if s.name == "StepLR":
        return (r"\eta_t = \eta\,\gamma^{\lfloor (t-1)/\text{step\_size} \rfloor}",
                rf"{n(lr0)} \cdot {n(h['gamma'])}^{{\lfloor {e}/{h['step_size']} \rfloor}}")
    if s.name == "MultiStepLR":
        k = bisect_right(sorted(h["milestones"]), e)
        return (r"\eta_t = \eta\,\gamma^{\#\{\text{milestones} \le t-1\}}", rf"{n(lr0)} \cdot {n(h['gamma'])}^{{{k}}}")
    if s.name == "ConstantLR":
        if e < h["total_iters"]:
            return r"\eta_t = \eta \cdot \text{factor}\quad (t - 1 < \text{total\_iters})", \
                rf"{n(lr0)} \cdot {n(h['factor'])}"
        return r"\eta_t = \eta\quad (t - 1 \ge \text{total\_iters})", n(lr0)
    if s.name == "LinearLR":
        return (r"\eta_t = \eta\,\big(s + (e - s)\,\tfrac{\min(t-1,\,T)}{T}\big)",
                rf"{n(lr0)} \cdot ({n(h['start_factor'])} + ({n(h['end_factor'])} - {n(h['start_factor'])}) "
                rf"\cdot \tfrac{{{min(e, h['total_iters'])}}}{{{h['total_iters']}}})")
    if s.name == "ExponentialLR":
        return r"\eta_t = \eta\,\gamma^{t-1}", rf"{n(lr0)} \cdot {n(h['gamma'])}^{{{e}}}"
    if s.name == "PolynomialLR":
        return (r"\eta_t = \eta\,\big(1 - \tfrac{\min(t-1,\,T)}{T}\big)^{p}",
                rf"{n(lr0)} \cdot (1 - \tfrac{{{min(e, h['total_iters'])}}}{{{h['total_iters']}}})^{{{n(h['power'])}}}")
    if s.name == "CosineAnnealingLR":
        return (r"\eta_t = \eta_{\min} + (\eta - \eta_{\min})\,\frac{1 + \cos(\pi\,(t-1)/T_{\max})}{2}",
                rf"{n(h['eta_min'])} + ({n(lr0)} - {n(h['eta_min'])}) \cdot "
                rf"\frac{{1 + \cos(\pi \cdot {e}/{h['T_max']})}}{{2}}")
    if s.name == "CosineAnnealingWarmRestarts":
        t_cur, t_i = e, h["T_0"]
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= h["T_mult"]
        return (r"\eta_t = \eta_{\min} + (\eta - \eta_{\min})\,\frac{1 + \cos(\pi\,T_{cur}/T_i)}{2}",
                rf"{n(h['eta_min'])} + ({n(lr0)} - {n(h['eta_min'])}) \cdot \frac{{1 + \cos(\pi \cdot {t_cur}/{t_i})}}"
                r"{2}")
    if s.name == "OneCycleLR":
        i, count, phase, pct = _onecycle_at(h, e)
        initial = h["max_lr"] / h["div_factor"]
        values = {"initial": initial, "max": h["max_lr"], "min": initial / h["final_div_factor"]}
        a, b = (phase[key].removesuffix("_lr") for key in ("start_lr", "end_lr"))
        return (rf"\text{{phase {i + 1} of {count}}}:\ \eta_t = "
                + _anneal(h["anneal_strategy"], rf"\eta_{{\text{{{a}}}}}", rf"\eta_{{\text{{{b}}}}}", r"\text{pct}"),
                _anneal(h["anneal_strategy"], n(values[a]), n(values[b]), n(pct)))
    if s.name == "CyclicLR":
        cycle, height = _cyclic_at(h, e)
        scale = {"triangular": "1", "triangular2": rf"2^{{-({cycle} - 1)}}",
                 "exp_range": rf"{n(h['gamma'])}^{{{e}}}"}[h["mode"]]
        return (r"\eta_t = \text{base\_lr} + (\text{max\_lr} - \text{base\_lr}) \cdot h_t \cdot \text{scale}",
                rf"{n(h['base_lr'])} + ({n(h['max_lr'])} - {n(h['base_lr'])}) \cdot {n(height)} \cdot {scale}")
    if s.name == "ReduceLROnPlateau":
        cuts = int(np.count_nonzero(np.diff(lrs[:t]) < 0))
        return (r"\eta_t = \max(\eta \cdot \text{factor}^{k},\ \text{min\_lr}),\ k = \text{cuts so far}",
                rf"\max({n(lr0)} \cdot {n(h['factor'])}^{{{cuts}}},\ {n(h['min_lr'])})")
    raise AssertionError(s.name)


def _momentum_formula(s: Schedule, e: int) -> tuple[str, str]:
    h, n = s.kwargs, _num
    if s.name == "SequentialLR":
        idx = bisect_right(h["milestones"], e)
        return _momentum_formula(h["schedulers"][idx], e - h["milestones"][idx - 1] if idx > 0 else e)
    if s.name == "OneCycleLR":
        _, _, phase, pct = _onecycle_at(h, e)
        a, b = (phase[key].removesuffix("_momentum") for key in ("start_momentum", "end_momentum"))
        values = {"max": h["max_momentum"], "base": h["base_momentum"]}
        return (r"\beta_{1,t} = " + _anneal(h["anneal_strategy"], rf"m_{{\text{{{a}}}}}", rf"m_{{\text{{{b}}}}}",
                                                r"\text{pct}"),
                _anneal(h["anneal_strategy"], n(values[a]), n(values[b]), n(pct)))
    _, height = _cyclic_at(h, e)
    return (r"\beta_{1,t} = m_{\max} - (m_{\max} - m_{\text{base}}) \cdot h_t \cdot \text{scale}",
            rf"{n(h['max_momentum'])} - ({n(h['max_momentum'])} - {n(h['base_momentum'])}) \cdot {n(height)}"
            + ("" if h["mode"] == "triangular" else r" \cdot \text{scale}"))

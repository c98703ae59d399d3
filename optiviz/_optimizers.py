"""The optimizers: torch.optim's hyperparameters, defaults, validation and state names.

Each optimizer is described by data (an :class:`OptimizerSpec`); the arithmetic
lives in one compiled kernel (``_kernel.py``). Everything a user passes is
checked here, once, with PyTorch's own messages, before any compiled loop runs.

Update rules, per coordinate, at step t (``g`` is the gradient the step receives;
"L2" means ``g <- g + weight_decay * p`` when weight_decay != 0):

sgd
    L2; with momentum: ``b_1 = g``, ``b_t = momentum b_{t-1} + (1 - dampening) g``;
    ``d = g + momentum b_t`` (nesterov) or ``b_t``; without momentum ``d = g``; ``p -= lr d``.
adagrad
    L2; ``clr = lr / (1 + (t - 1) lr_decay)``; ``sum += g^2``;
    ``p -= clr g / (sqrt(sum) + eps)``.
rmsprop
    L2; ``square_avg = alpha square_avg + (1 - alpha) g^2`` (no bias correction);
    centered: ``grad_avg = lerp(grad_avg, g, 1 - alpha)``, ``avg = sqrt(square_avg - grad_avg^2) + eps``,
    else ``avg = sqrt(square_avg) + eps``; momentum > 0: ``b = momentum b + g / avg``, ``p -= lr b``;
    else ``p -= lr g / avg``.
adam
    L2; ``exp_avg = lerp(exp_avg, g, 1 - beta1)``; ``exp_avg_sq = beta2 exp_avg_sq + (1 - beta2) g^2``;
    ``bc1 = 1 - beta1^t``, ``bc2 = 1 - beta2^t``; amsgrad: ``max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq)``
    used in place of exp_avg_sq below; ``p -= (lr / bc1) exp_avg / (sqrt(exp_avg_sq) / sqrt(bc2) + eps)``.
adamw
    adam with decoupled weight decay: ``p *= 1 - lr weight_decay`` first, no L2.

Two deliberate extensions, neither torch.optim's (nothing handed to torch carries them), both at torch's
behaviour by default:

- ``eps_inside_sqrt=True`` (adam, adamw, rmsprop, adagrad) puts epsilon inside the square root, as Keras,
  optax and many tutorials do: ``sqrt(v_hat + eps)``, ``sqrt(square_avg + eps)``, ``sqrt(sum + eps)`` in
  place of torch's ``sqrt(.) + eps``.
- ``bias_correction=False`` (adam, adamw; the name apex's FusedAdam and DeepSpeed's Adam use) drops Adam's
  bias corrections: ``bc1 = bc2 = 1``, so ``m_hat = exp_avg`` and ``v_hat = exp_avg_sq`` and the step is
  ``p -= lr exp_avg / (sqrt(exp_avg_sq) + eps)``, what the Adam paper's section 3 warns against.

Floating-point operations follow torch's ``_single_tensor_*`` functions in order
(``lerp`` switches formula at weight 0.5 as ATen's does, ``addcdiv`` computes
``(value * t1) / t2``), so float64 results agree with torch.optim to rounding.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

# Optimizer ids understood by the kernel.
SGD, ADAGRAD, RMSPROP, ADAM = 0, 1, 2, 3
#: Length of the hyperparameter vector the kernel receives.
HP_SIZE = 10
#: Slot of the ``eps_inside_sqrt`` flag in that vector (every optimizer that has an eps).
EPS_INSIDE = 9
#: Slot of Adam's ``bias_correction`` flag in that vector (``_adam_pack`` fills slots 0 to 8).
BIAS_CORRECTION = 8
#: optiviz's own options, not torch.optim's (left out of anything handed to torch).
EXTENSIONS = ("eps_inside_sqrt", "bias_correction")
#: Number of state slots the kernel records.
STATE_SLOTS = 3


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _number(optimizer: str, name: str, value: Any) -> float:
    if isinstance(value, np.generic):
        value = value.item()
    if not _is_real(value):
        raise ValueError(f"{optimizer}: {name} must be a number, got {value!r}")
    return value


def _flag(optimizer: str, name: str, value: Any) -> bool:
    if isinstance(value, np.bool_):
        value = bool(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{optimizer}: {name} must be True or False, got {value!r}")


def _at_least_zero(message: str, value: float) -> None:
    # ``not 0 <= v`` (not ``v < 0``) so that NaN is rejected too, with torch's wording.
    if not 0.0 <= value:
        raise ValueError(message.format(value))


@dataclass(frozen=True)
class OptimizerSpec:
    """What optiviz knows about one optimizer: torch's names, defaults and checks."""

    name: str
    title: str
    oid: int
    defaults: Mapping[str, Any]
    check: Callable[[dict], None]
    pack: Callable[[dict], tuple[float, ...]]
    slots: Callable[[dict], tuple[tuple[int, str], ...]]
    summary: str

    def resolve(self, hyper: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults filled in, types coerced and values validated (torch's messages)."""
        unknown = [k for k in hyper if k not in self.defaults]
        if unknown:
            raise ValueError(
                f"{self.name} got an unexpected hyperparameter {unknown[0]!r}; "
                f"valid: {', '.join(self.defaults)}"
            )
        values: dict[str, Any] = {}
        for key, default in self.defaults.items():
            raw = hyper.get(key, default)
            if isinstance(default, bool):
                values[key] = _flag(self.name, key, raw)
            elif isinstance(default, tuple):
                if isinstance(raw, (str, bytes)) or not hasattr(raw, "__len__") or len(raw) != len(default):
                    raise ValueError(f"{self.name}: {key} must be a pair of numbers, got {raw!r}")
                values[key] = tuple(_number(self.name, key, v) for v in raw)
            else:
                values[key] = _number(self.name, key, raw)
        self.check(values)  # on the values as given, so messages print them as torch would
        return {
            k: (v if isinstance(v, bool) else tuple(float(x) for x in v) if isinstance(v, tuple) else float(v))
            for k, v in values.items()
        }

    def hp_array(self, values: Mapping[str, Any]) -> np.ndarray:
        hp = np.zeros(HP_SIZE, dtype=np.float64)
        packed = self.pack(dict(values))
        hp[: len(packed)] = packed
        hp[EPS_INSIDE] = float(values.get("eps_inside_sqrt", False))
        return hp

    def state_names(self, values: Mapping[str, Any]) -> tuple[tuple[int, str], ...]:
        """(kernel slot, torch state name) for the buffers torch keeps with these settings."""
        return self.slots(dict(values))


def _check_sgd(h: dict) -> None:
    _at_least_zero("Invalid learning rate: {}", h["lr"])
    _at_least_zero("Invalid momentum value: {}", h["momentum"])
    _at_least_zero("Invalid weight_decay value: {}", h["weight_decay"])
    if not math.isfinite(h["dampening"]):
        raise ValueError(f"Invalid dampening value: {h['dampening']}")
    if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")


def _check_adagrad(h: dict) -> None:
    _at_least_zero("Invalid learning rate: {}", h["lr"])
    _at_least_zero("Invalid lr_decay value: {}", h["lr_decay"])
    _at_least_zero("Invalid weight_decay value: {}", h["weight_decay"])
    _at_least_zero("Invalid initial_accumulator_value value: {}", h["initial_accumulator_value"])
    _at_least_zero("Invalid epsilon value: {}", h["eps"])


def _check_rmsprop(h: dict) -> None:
    _at_least_zero("Invalid learning rate: {}", h["lr"])
    _at_least_zero("Invalid epsilon value: {}", h["eps"])
    _at_least_zero("Invalid momentum value: {}", h["momentum"])
    _at_least_zero("Invalid weight_decay value: {}", h["weight_decay"])
    _at_least_zero("Invalid alpha value: {}", h["alpha"])


def _check_adam(h: dict) -> None:
    _at_least_zero("Invalid learning rate: {}", h["lr"])
    _at_least_zero("Invalid epsilon value: {}", h["eps"])
    beta1, beta2 = h["betas"]
    if not 0.0 <= beta1 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {beta1}")
    if not 0.0 <= beta2 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
    _at_least_zero("Invalid weight_decay value: {}", h["weight_decay"])


def _adam_slots(h: dict) -> tuple[tuple[int, str], ...]:
    return ((0, "exp_avg"), (1, "exp_avg_sq")) + (((2, "max_exp_avg_sq"),) if h["amsgrad"] else ())


def _adam_pack(decoupled: bool) -> Callable[[dict], tuple[float, ...]]:
    def pack(h: dict) -> tuple[float, ...]:
        b1, b2 = h["betas"]
        # The last slot is the exponent of torch's ``bias_correction2 ** 0.5``: given at run time so that
        # the compiler keeps pow() (as CPython computes it) instead of turning it into sqrt(), which
        # differs by one ulp when bias_correction2 is within a few ulps of 1.
        return (h["lr"], b1, b2, h["eps"], h["weight_decay"], float(h["amsgrad"]), float(decoupled), 0.5,
                float(h["bias_correction"]))  # slot BIAS_CORRECTION

    return pack


_ADAM_DEFAULTS = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False,
                  "eps_inside_sqrt": False, "bias_correction": True}

OPTIMIZERS: Mapping[str, OptimizerSpec] = MappingProxyType({
    "adam": OptimizerSpec(
        "adam", "Adam", ADAM, MappingProxyType(_ADAM_DEFAULTS), _check_adam, _adam_pack(False), _adam_slots,
        "momentum (m) plus RMSProp's per-coordinate scaling (v), both bias-corrected",
    ),
    "adamw": OptimizerSpec(
        "adamw", "AdamW", ADAM, MappingProxyType({**_ADAM_DEFAULTS, "weight_decay": 1e-2}), _check_adam,
        _adam_pack(True), _adam_slots,
        "Adam with weight decay applied to the parameters directly (decoupled), not to the gradient",
    ),
    "rmsprop": OptimizerSpec(
        "rmsprop", "RMSProp", RMSPROP,
        MappingProxyType({"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
                          "centered": False, "eps_inside_sqrt": False}),
        _check_rmsprop,
        lambda h: (h["lr"], h["alpha"], h["eps"], h["weight_decay"], h["momentum"], float(h["centered"])),
        lambda h: ((0, "square_avg"),) + (((1, "grad_avg"),) if h["centered"] else ())
        + (((2, "momentum_buffer"),) if h["momentum"] > 0 else ()),
        "divides each coordinate's step by a running RMS of its gradients",
    ),
    "adagrad": OptimizerSpec(
        "adagrad", "AdaGrad", ADAGRAD,
        MappingProxyType({"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0,
                          "eps": 1e-10, "eps_inside_sqrt": False}),
        _check_adagrad,
        lambda h: (h["lr"], h["lr_decay"], h["weight_decay"], h["initial_accumulator_value"], h["eps"]),
        lambda h: ((0, "sum"),),
        "divides each coordinate's step by the root of all its squared gradients so far",
    ),
    "sgd": OptimizerSpec(
        "sgd", "SGD", SGD,
        MappingProxyType({"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0,
                          "nesterov": False}),
        _check_sgd,
        lambda h: (h["lr"], h["momentum"], h["dampening"], h["weight_decay"], float(h["nesterov"])),
        lambda h: ((0, "momentum_buffer"),) if h["momentum"] != 0 else (),
        "steps against the gradient, optionally with (Nesterov) momentum",
    ),
})


def get(name: str) -> OptimizerSpec:
    """The optimizer called ``name``; ``ValueError`` naming the valid ones otherwise."""
    spec = OPTIMIZERS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ValueError(f"Unknown optimizer {name!r}; valid optimizers: {', '.join(OPTIMIZERS)}")
    return spec

"""Pieces several optimizer modules share: compiled helpers and hyperparameters described once."""

from __future__ import annotations

import numpy as np

from surfaces._numba import jit

from ._base import Param, lr_column


@jit
def lerp(a, b, w):
    """ATen's scalar lerp (torch's ``exp_avg.lerp_``): the formula changes at |w| = 0.5."""
    if abs(w) < 0.5:
        return a + w * (b - a)
    return b - (b - a) * (1.0 - w)


@jit
def _power(bases, exponents):
    n = max(bases.shape[0], exponents.shape[0])
    out = np.empty(n)
    for i in range(n):
        out[i] = bases[i % bases.shape[0]] ** exponents[i % exponents.shape[0]]
    return out


def power(base, exponent) -> np.ndarray | float:
    """``base ** exponent`` elementwise (numbers or arrays of one shape, or one of them a number), computed as the
    kernels compute it: by the C library's pow. numpy's own ``**`` on arrays is vectorised (AVX-512 on some
    machines) and differs from it in the last bit at some exponents, which a derived series such as m̂_t would
    carry into Explain's positions. Used for every β^t of the derived series."""
    shape = np.broadcast_shapes(np.shape(base), np.shape(exponent))
    bases = np.ascontiguousarray(np.asarray(base, dtype=np.float64).ravel())
    exponents = np.ascontiguousarray(np.asarray(exponent, dtype=np.float64).ravel())
    if bases.size == 0 or exponents.size == 0:
        return np.zeros(shape)
    out = _power(bases, exponents)
    return float(out[0]) if shape == () else out.reshape(shape)


def v_hat(run) -> np.ndarray:
    """The divisor moment of an optimizer whose step divides by √v̂ + ε (its ``bias_corrected["v_hat"]``)."""
    return run.bias_corrected["v_hat"]


def lr_over_root_v_hat(run, lr: np.ndarray | None = None) -> np.ndarray:
    """``lr / (√v̂ + ε)`` per step and coordinate: the effective step size of such an optimizer (``lr``: each
    step's rate as an (n, 1) column, the run's by default)."""
    lr = lr_column(run) if lr is None else lr
    with np.errstate(all="ignore"):
        return lr / (np.sqrt(run.bias_corrected["v_hat"]) + run.spec.hyper["eps"])


def lr(default: float, help: str = "Learning rate η, on a log scale (1e-5 to 10).") -> Param:
    return Param("lr", default, r"\eta", "lr", "lr (η)", help, (1e-5, 10.0), "lr")


def eps(default: float, help: str = "Added to the denominator √v + ε, on a log scale (1e-12 to 1).") -> Param:
    return Param("eps", default, r"\epsilon", "ε", "eps (ε)", help, (1e-12, 1.0), "eps")


def weight_decay(default: float = 0.0, help: str = "L2 penalty added to the gradient.") -> Param:
    return Param("weight_decay", default, r"\lambda", "wd", "weight_decay", help, (0.0, 10.0), None, 1e-3,
                 advanced=True)


def betas(default: tuple[float, ...], helps: tuple[str, ...]) -> Param:
    subs = "₁₂₃"
    parts = tuple(
        Param(f"beta{i + 1}", d, rf"\beta_{i + 1}", f"β{subs[i]}", f"beta{i + 1} (β{subs[i]})", h, None, "beta")
        for i, (d, h) in enumerate(zip(default, helps, strict=True)))
    return Param("betas", default, "", "β", "betas", "", None, None, parts=parts)


def flag(name: str, short: str, label: str, help: str, default: bool = False, extension: bool = False) -> Param:
    return Param(name, default, "", short, label, help, advanced=True, extension=extension)


def eps_inside_sqrt() -> Param:
    return flag("eps_inside_sqrt", "ε inside √", "ε inside the square root",
                "√(v + ε) as Keras, optax and many tutorials write it, instead of PyTorch's and the Adam paper's "
                "√v + ε. Not a torch.optim option.", extension=True)


def recommended(table: dict[str, float], default: float):
    """A recommended-learning-rate rule from a table per surface name, ``default`` elsewhere."""
    return lambda surface: table.get(surface.name, default)


def surface_lr(name: str):
    """The rule of the first optimizers: the learning rate the surface's own table gives ``name``."""
    return lambda surface: surface.lr[name]


#: Where ε goes, for the notes of RMSProp and AdaGrad.
EPS_CONVENTION = (
    "PyTorch adds ε after the square root, √v + ε; Keras and optax put it inside, √(v + ε), for "
    "RMSProp and AdaGrad (optiviz's eps_inside_sqrt=True), and then ε acts like a gradient scale of √ε, "
    "damping far more."
)

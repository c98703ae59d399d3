"""Plain-Python reference for torch.optim's arithmetic, used by the parity tests.

Nothing here imports the engine: this module is an independent second implementation
that the engine (``optiviz.simulate``) is checked against, and that is itself checked
against ``torch.optim`` by ``run_torch`` below.

Each optimizer is written per coordinate with Python floats (IEEE float64), replaying
the operations of torch's ``_single_tensor_*`` functions (torch/optim/sgd.py, adagrad.py,
rmsprop.py, adam.py) in the same order, with ATen's scalar formulas for the fused ops:

- ``t.add(x, alpha=a)``            -> ``t + a * x``
- ``t.mul(a)``                      -> ``t * a``
- ``t.addcmul(t1, t2, value=v)``    -> ``t + (v * t1) * t2``
- ``t.addcdiv(t1, t2, value=v)``    -> ``t + (v * t1) / t2``
- ``t.lerp(end, w)`` (scalar ``w``) -> ``t + w * (end - t)`` if ``|w| < 0.5``
  else ``end - (end - t) * (1 - w)``
- ``torch.maximum`` propagates NaN.

Step counts are Python floats (torch keeps ``step`` in a float tensor and reads it with
``.item()``), so bias corrections are ``1 - beta ** float(step)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "DEFAULTS",
    "STATE_KEYS",
    "RefRun",
    "full_hyper",
    "noise_array",
    "reference_run",
    "run_torch",
    "state_keys",
    "torch_class",
]

# torch's defaults, word for word (torch/optim/*.py signatures; AdamW's weight_decay is 1e-2).
# Plus optiviz's two extensions, never handed to torch: ``eps_inside_sqrt`` (epsilon inside the square root,
# the Keras/optax convention) and Adam's ``bias_correction`` (False drops both corrections, as apex's
# FusedAdam(bias_correction=False) does: bias_correction1 = bias_correction2 = 1).
DEFAULTS: dict[str, dict[str, object]] = {
    "sgd": dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False),
    "adagrad": dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                    eps_inside_sqrt=False),
    "rmsprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                    eps_inside_sqrt=False),
    "adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, eps_inside_sqrt=False,
                 bias_correction=True),
    "adamw": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, eps_inside_sqrt=False,
                  bias_correction=True),
}
#: The extensions, each with the value that is torch's behaviour.
EXTENSIONS = {"eps_inside_sqrt": False, "bias_correction": True}

STATE_KEYS = {
    "sgd": ("momentum_buffer",),
    "adagrad": ("sum",),
    "rmsprop": ("square_avg", "grad_avg", "momentum_buffer"),
    "adam": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
    "adamw": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
}


def full_hyper(optimizer: str, hyper: dict | None = None) -> dict:
    """torch's defaults for ``optimizer`` overridden by ``hyper`` (unknown names raise KeyError)."""
    name = optimizer.lower()
    out = dict(DEFAULTS[name])
    for key, value in (hyper or {}).items():
        if key not in out:
            raise KeyError(f"{key!r} is not a hyperparameter of {name}")
        out[key] = value
    if "betas" in out:
        out["betas"] = tuple(float(b) for b in out["betas"])
    return out


def state_keys(optimizer: str, hyper: dict | None = None) -> tuple[str, ...]:
    """The state buffers the engine reports for this optimizer and these hyperparameters."""
    name = optimizer.lower()
    h = full_hyper(name, hyper)
    if name == "sgd":
        return ("momentum_buffer",) if h["momentum"] != 0 else ()
    if name == "adagrad":
        return ("sum",)
    if name == "rmsprop":
        keys = ["square_avg"]
        if h["centered"]:
            keys.append("grad_avg")
        if h["momentum"] > 0:
            keys.append("momentum_buffer")
        return tuple(keys)
    keys = ["exp_avg", "exp_avg_sq"]
    if h["amsgrad"]:
        keys.append("max_exp_avg_sq")
    return tuple(keys)


def noise_array(sigma: float, seed: int | None, steps: int) -> np.ndarray:
    """The additive gradient noise of a simulation: ``sigma * xi`` with
    ``xi = default_rng(seed).standard_normal((steps, 2))`` drawn once and shared by all runs."""
    xi = np.random.default_rng(seed).standard_normal((steps, 2))
    with np.errstate(over="ignore"):  # a huge sigma overflows to inf: that run diverges, quietly
        return float(sigma) * xi


# ---------------------------------------------------------------------------------------------
# ATen scalar ops
#
# Two flavours. ``_Ops`` evaluates ATen's scalar formulas exactly as written in the ATen source
# (every product rounded, then the sum): this is what a Numba kernel without ``fastmath`` computes.
# ``_FusedOps`` fuses ``a + b * c`` into one correctly rounded ``fma`` wherever ATen's CPU kernels are
# compiled with FMA contraction (``add`` with alpha, ``addcmul``, ``lerp``; not ``addcdiv``, whose
# product is divided first). The PyTorch 2.13 CPU wheel does contract them (checked against it op by
# op), and its ``sqrt`` (MKL VML) is off by one ulp for ~1% of inputs, so no plain float64
# implementation can match torch bit for bit: the parity tests compare with a relative tolerance.


def _sqrt(x: float) -> float:
    # torch.sqrt gives NaN for negatives (centered RMSprop can hit one by rounding); math.sqrt raises.
    if x != x or x < 0.0:
        return math.nan
    return math.sqrt(x)


def _maximum(a: float, b: float) -> float:
    # torch.maximum propagates NaN.
    if a != a or b != b:
        return math.nan
    return a if a >= b else b


class _Ops:
    sqrt = staticmethod(_sqrt)
    maximum = staticmethod(_maximum)

    @staticmethod
    def add(s: float, x: float, alpha: float) -> float:  # s.add(x, alpha=alpha)
        return s + alpha * x

    @staticmethod
    def addcmul(s: float, t1: float, t2: float, value: float) -> float:
        return s + (value * t1) * t2

    @staticmethod
    def addcdiv(s: float, t1: float, t2: float, value: float) -> float:
        return s + (value * t1) / t2

    @staticmethod
    def lerp(a: float, b: float, w: float) -> float:
        if abs(w) < 0.5:
            return a + w * (b - a)
        return b - (b - a) * (1.0 - w)


def _load_fma():
    try:
        import ctypes
        import ctypes.util

        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        f = libm.fma
        f.restype = ctypes.c_double
        f.argtypes = [ctypes.c_double, ctypes.c_double, ctypes.c_double]
        return f
    except (OSError, AttributeError):  # pragma: no cover - non-glibc platforms
        from fractions import Fraction

        def f(a: float, b: float, c: float) -> float:
            if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
                return a * b + c
            return float(Fraction(a) * Fraction(b) + Fraction(c))

        return f


class _FusedOps(_Ops):
    _fma = staticmethod(_load_fma())

    @staticmethod
    def add(s: float, x: float, alpha: float) -> float:
        return _FusedOps._fma(alpha, x, s)

    @staticmethod
    def addcmul(s: float, t1: float, t2: float, value: float) -> float:
        return _FusedOps._fma(value * t1, t2, s)

    @staticmethod
    def lerp(a: float, b: float, w: float) -> float:
        if abs(w) < 0.5:
            return _FusedOps._fma(w, b - a, a)
        return _FusedOps._fma(-(b - a), 1.0 - w, b)


# ---------------------------------------------------------------------------------------------
# One coordinate, one step. ``st`` is the state dict of one coordinate (floats), mutated in place.


def _init_state(name: str, h: dict) -> dict:
    if name == "sgd":
        return {"momentum_buffer": None}
    if name == "adagrad":
        return {"sum": float(h["initial_accumulator_value"])}
    if name == "rmsprop":
        return {"square_avg": 0.0, "grad_avg": 0.0, "momentum_buffer": 0.0}
    return {"exp_avg": 0.0, "exp_avg_sq": 0.0, "max_exp_avg_sq": 0.0}


def _step_sgd(o, p: float, g: float, st: dict, step: float, h: dict) -> float:
    wd, momentum, dampening = float(h["weight_decay"]), float(h["momentum"]), float(h["dampening"])
    lr = float(h["lr"])
    if wd != 0:
        g = o.add(g, p, wd)
    if momentum != 0:
        buf = st["momentum_buffer"]
        if buf is None:
            buf = g  # grad.detach().clone()
        else:
            buf = o.add(buf * momentum, g, 1 - dampening)
        st["momentum_buffer"] = buf
        if h["nesterov"]:
            g = o.add(g, buf, momentum)
        else:
            g = buf
    return o.add(p, g, -lr)


def _step_adagrad(o, p: float, g: float, st: dict, step: float, h: dict) -> float:
    lr, lr_decay, wd, eps = float(h["lr"]), float(h["lr_decay"]), float(h["weight_decay"]), float(h["eps"])
    if wd != 0:
        g = o.add(g, p, wd)
    clr = lr / (1 + (step - 1) * lr_decay)
    st["sum"] = o.addcmul(st["sum"], g, g, 1)
    std = o.sqrt(st["sum"] + eps) if h["eps_inside_sqrt"] else o.sqrt(st["sum"]) + eps
    return o.addcdiv(p, g, std, -clr)


def _step_rmsprop(o, p: float, g: float, st: dict, step: float, h: dict) -> float:
    lr, alpha, eps = float(h["lr"]), float(h["alpha"]), float(h["eps"])
    wd, momentum = float(h["weight_decay"]), float(h["momentum"])
    if wd != 0:
        g = o.add(g, p, wd)
    st["square_avg"] = o.addcmul(st["square_avg"] * alpha, g, g, 1 - alpha)
    var = st["square_avg"]
    if h["centered"]:
        st["grad_avg"] = o.lerp(st["grad_avg"], g, 1 - alpha)
        ga = st["grad_avg"]
        var = o.addcmul(st["square_avg"], ga, ga, -1)
    avg = o.sqrt(var + eps) if h["eps_inside_sqrt"] else o.sqrt(var) + eps
    if momentum > 0:
        st["momentum_buffer"] = o.addcdiv(st["momentum_buffer"] * momentum, g, avg, 1)
        return o.add(p, st["momentum_buffer"], -lr)
    return o.addcdiv(p, g, avg, -lr)


def _step_adam(o, p: float, g: float, st: dict, step: float, h: dict, decoupled: bool) -> float:
    lr, eps, wd = float(h["lr"]), float(h["eps"]), float(h["weight_decay"])
    beta1, beta2 = (float(b) for b in h["betas"])
    if wd != 0:
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = o.add(g, p, wd)
    st["exp_avg"] = o.lerp(st["exp_avg"], g, 1 - beta1)
    st["exp_avg_sq"] = o.addcmul(st["exp_avg_sq"] * beta2, g, g, 1 - beta2)
    if h["bias_correction"]:
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
    else:  # optiviz's extension (apex's FusedAdam(bias_correction=False)): no correction at all
        bias_correction1 = 1.0
        bias_correction2 = 1.0
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    if h["amsgrad"]:
        st["max_exp_avg_sq"] = o.maximum(st["max_exp_avg_sq"], st["exp_avg_sq"])
    v = st["max_exp_avg_sq"] if h["amsgrad"] else st["exp_avg_sq"]
    if h["eps_inside_sqrt"]:  # optiviz's extension: m_hat / sqrt(v_hat + eps)
        denom = o.sqrt(v / bias_correction2 + eps)
    else:
        denom = o.sqrt(v) / bias_correction2_sqrt + eps
    return o.addcdiv(p, st["exp_avg"], denom, -step_size)


def _step(o, name: str, p: float, g: float, st: dict, step: float, h: dict) -> float:
    if name == "sgd":
        return _step_sgd(o, p, g, st, step, h)
    if name == "adagrad":
        return _step_adagrad(o, p, g, st, step, h)
    if name == "rmsprop":
        return _step_rmsprop(o, p, g, st, step, h)
    if name == "adam":
        return _step_adam(o, p, g, st, step, h, decoupled=False)
    if name == "adamw":
        return _step_adam(o, p, g, st, step, h, decoupled=True)
    raise KeyError(name)


# ---------------------------------------------------------------------------------------------
# A whole run


@dataclass
class RefRun:
    path: np.ndarray  # (n+1, 2)
    loss: np.ndarray  # (n+1,)
    grad: np.ndarray  # (n, 2), before weight decay
    state: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (n+1, 2)
    diverged_at: int | None = None
    diverged_reason: str | None = None  # None, "non-finite" or "escaped"


def _finite(*xs: float) -> bool:
    return all(math.isfinite(x) for x in xs)


def _escape_box(surface) -> tuple[float, float, float, float] | None:
    domain = getattr(surface, "domain", None)
    if domain is None:
        return None
    (x0, x1), (y0, y1) = domain
    return (0.5 * (x0 + x1), 0.5 * (y0 + y1), 100.0 * 0.5 * (x1 - x0), 100.0 * 0.5 * (y1 - y0))


def reference_run(
    surface,
    optimizer: str,
    hyper: dict | None,
    start: tuple[float, float],
    steps: int,
    noise: np.ndarray | None = None,
    box: tuple[float, float, float, float] | str | None = "domain",
    fused: bool = False,
    grads: np.ndarray | None = None,
) -> RefRun:
    """Run ``optimizer`` (torch name, lower case) with ``hyper`` (torch names; defaults filled in)
    on ``surface`` (anything with ``grad(x, y) -> (gx, gy)`` and ``value(x, y) -> float``).

    ``noise`` is the additive gradient noise, shape ``(steps, 2)`` (see ``noise_array``): the
    gradient step ``t + 1`` receives is ``surface.grad(*path[t]) + noise[t]``.

    Divergence: step ``t`` diverges when the gradient it receives, the new position, any state
    value or the new loss is not finite, or the new position leaves the escape box (centre of
    the domain +- 100 half-widths; ``box=(cx, cy, hx, hy)`` overrides it, ``box=None`` disables
    it). The arrays then end at step ``t - 1`` and ``diverged_at = t``.

    ``grads`` (shape ``(k, 2)``, noise included) replays recorded gradients: step ``t <= k``
    receives ``grads[t - 1]`` instead of computing one, later steps compute their own. Replaying
    an engine run's ``grad`` compares the optimizer arithmetic alone (open loop), so that rounding
    differences are not amplified by a chaotic surface.

    ``fused=False`` evaluates ATen's scalar formulas as written (what the engine computes);
    ``fused=True`` contracts them into ``fma`` as torch's CPU build does (see ``_FusedOps``).
    """
    o = _FusedOps if fused else _Ops
    name = optimizer.lower()
    h = full_hyper(name, hyper)
    keys = state_keys(name, h)
    if isinstance(box, str):
        box = _escape_box(surface)

    px, py = float(start[0]), float(start[1])
    sx, sy = _init_state(name, h), _init_state(name, h)

    def state_row() -> dict[str, tuple[float, float]]:
        return {k: (0.0 if sx[k] is None else sx[k], 0.0 if sy[k] is None else sy[k]) for k in keys}

    path = [(px, py)]
    loss = [float(surface.value(px, py))]
    recorded: list[tuple[float, float]] = []
    states = {k: [v] for k, v in state_row().items()}
    diverged_at = None
    reason = None

    for t in range(1, int(steps) + 1):
        if grads is not None and t <= len(grads):
            gx, gy = float(grads[t - 1][0]), float(grads[t - 1][1])
        else:
            gx, gy = surface.grad(px, py)
            gx, gy = float(gx), float(gy)
            if noise is not None:
                gx = gx + float(noise[t - 1, 0])
                gy = gy + float(noise[t - 1, 1])
        if not _finite(gx, gy):
            diverged_at, reason = t, "non-finite"
            break
        step = float(t)
        st_x, st_y = dict(sx), dict(sy)
        nx = _step(o, name, px, gx, st_x, step, h)
        ny = _step(o, name, py, gy, st_y, step, h)
        row = {k: (st_x[k], st_y[k]) for k in keys}
        if not _finite(nx, ny, *(c for pair in row.values() for c in pair)):
            diverged_at, reason = t, "non-finite"
            break
        if box is not None:
            cx, cy, hx, hy = box
            if abs(nx - cx) > hx or abs(ny - cy) > hy:
                diverged_at, reason = t, "escaped"
                break
        value = float(surface.value(nx, ny))
        if not _finite(value):
            diverged_at, reason = t, "non-finite"
            break
        px, py, sx, sy = nx, ny, st_x, st_y
        path.append((px, py))
        loss.append(value)
        recorded.append((gx, gy))
        for k in keys:
            states[k].append(row[k])

    return RefRun(
        path=np.array(path, dtype=np.float64).reshape(-1, 2),
        loss=np.array(loss, dtype=np.float64),
        grad=np.array(recorded, dtype=np.float64).reshape(-1, 2),
        state={k: np.array(v, dtype=np.float64).reshape(-1, 2) for k, v in states.items()},
        diverged_at=diverged_at,
        diverged_reason=reason,
    )


# ---------------------------------------------------------------------------------------------
# torch.optim itself


def torch_class(torch, name: str):
    """torch.optim's class for an optimizer name."""
    return {
        "sgd": torch.optim.SGD,
        "adagrad": torch.optim.Adagrad,
        "rmsprop": torch.optim.RMSprop,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
    }[name]


def _torch_optimizer(torch, name: str, params, h: dict):
    for key, torch_value in EXTENSIONS.items():
        if h.get(key, torch_value) != torch_value:
            raise ValueError(f"{key}={h[key]} is optiviz's extension; torch.optim has no such option")
    kw = {k: v for k, v in h.items() if k not in EXTENSIONS}
    cls = torch_class(torch, name)
    for k, v in kw.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            kw[k] = float(v)
    return cls(params, foreach=False, **kw)


def run_torch(optimizer: str, hyper: dict | None, start, grads) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Replay ``grads`` (shape ``(n, 2)``, before weight decay) through ``torch.optim``
    (float64 parameter of shape ``(2,)``, ``foreach=False``), assigning ``grads[t]`` to
    ``p.grad`` before step ``t + 1``. Returns ``(path (n+1, 2), {state name: (n+1, 2)})`` with
    row 0 the start and the initial state (zeros where torch has no buffer yet)."""
    import torch

    name = optimizer.lower()
    h = full_hyper(name, hyper)
    keys = state_keys(name, h)
    grads = np.asarray(grads, dtype=np.float64).reshape(-1, 2)
    p = torch.tensor([float(start[0]), float(start[1])], dtype=torch.float64)
    opt = _torch_optimizer(torch, name, [p], h)

    def snapshot() -> dict[str, np.ndarray]:
        st = opt.state[p]
        out = {}
        for k in keys:
            v = st.get(k)
            out[k] = np.zeros(2) if v is None else v.detach().numpy().astype(np.float64).copy()
        return out

    path = [p.detach().numpy().copy()]
    snaps = [snapshot()]
    # Adagrad creates its 'sum' at construction; everything else is lazily created by step 1.
    if name == "adagrad":
        snaps[0] = {"sum": np.full(2, float(h["initial_accumulator_value"]))}
    with torch.no_grad():
        for g in grads:
            p.grad = torch.tensor(g, dtype=torch.float64)
            opt.step()
            path.append(p.detach().numpy().copy())
            snaps.append(snapshot())
    return (
        np.array(path, dtype=np.float64).reshape(-1, 2),
        {k: np.array([s[k] for s in snaps], dtype=np.float64).reshape(-1, 2) for k in keys},
    )

"""What every optimizer module declares: its hyperparameters, its state, its checks and its hooks.

An optimizer is one module of this package (``adam.py``, ``lion.py``...) that ends with ``SPEC =
Optimizer(...)``, and one line in ``__init__.py``'s registry. The module owns everything about it:

- its hyperparameters (:class:`Param`: default, the app's range and slider grid, symbol, labels, help), from
  which the sidebar, the links' ranges, run labels and the command line's help are generated;
- its validation, with the reference's own messages (``check``);
- its state (:class:`Optimizer.state`: the reference's buffer names, each a vector (x, y) or a scalar);
- the jitted ``init`` and ``step`` that the single kernel calls through a short id dispatch
  (``_dispatch.py``); ``step`` takes the step's learning rate as an argument;
- what is derived from the record (bias-corrected moments, the effective step size, the panels' series);
- its Explain equations, symbols and notes; its reference class (for the PyTorch script and the tests);
  its recommended learning rate per surface.

``init(hp, p, st)`` fills the flat state vector ``st`` (zeros on entry) from the hyperparameter vector
``hp`` and the start ``p``; ``step(t, lr, hp, g, p, st)`` takes step ``t`` (1, 2, ...) with learning rate
``lr`` and gradient ``g``, updating the position ``p`` (2,) and ``st`` in place. Both are compiled with
:func:`surfaces._numba.jit` and must keep to float64 arithmetic on these arrays (one compiled signature).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the engine imports this package, not the other way round
    from .._engine import Run

#: Length of the hyperparameter vector the kernel passes to ``init`` and ``step``.
HP_SIZE = 16
#: Length of the flat state vector (a vector buffer takes two slots, a scalar one).
STATE_SIZE = 24
VECTOR, SCALAR = 2, 1
#: Hyperparameters that add a term only when non-zero: Explain does not list them at 0.
OPTIONAL_TERMS = ("momentum", "dampening", "weight_decay", "lr_decay")


@dataclass(frozen=True)
class Param:
    """One hyperparameter: torch's (or the reference's) name and default, and how the app shows it.

    ``grid``: the slider it is set with (``"lr"``, ``"beta"``, ``"eps"``: the grids of ``optiviz.controls``;
    None: a number box with ``step``). ``range``: the values the app accepts (links, number boxes); None for
    a flag. ``advanced``: under the run's "More options". ``extension``: optiviz's own option, not the
    reference's (left out of anything handed to it). ``parts``: for a tuple (``betas``), one Param per
    component, each with its own widget key as ``name``.
    """

    name: str
    default: Any
    symbol: str = ""  # LaTeX, in Explain's list of hyperparameters
    short: str = ""  # in a run's label: "wd 0.1", "AMSGrad"
    label: str = ""  # the widget's label
    help: str = ""
    range: tuple[float, float] | None = None
    grid: str | None = None
    step: float | None = None
    advanced: bool = False
    extension: bool = False
    parts: tuple[Param, ...] = ()

    @property
    def flag(self) -> bool:
        return isinstance(self.default, bool)

    @property
    def optional(self) -> bool:
        """A number whose reference default is None (AdEMAMix's t_alpha_beta3, Prodigy's beta3): None is a
        value, meaning what the help says (no warm-up, √β₂...)."""
        return self.default is None

    @property
    def blank(self) -> bool:
        """Whether the sidebar shows the default as an empty number box: None, or an infinite default (Prodigy's
        growth_rate=inf: "no limit"), which a number box cannot show. The help says what empty means."""
        return self.default is None or (is_real(self.default) and math.isinf(self.default))


def is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _number(optimizer: str, name: str, value: Any) -> float:
    if isinstance(value, np.generic):
        value = value.item()
    if not is_real(value):
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


def at_least_zero(message: str, value: float) -> None:
    """torch's ``if not 0.0 <= value: raise ValueError(message)`` (NaN is refused too)."""
    if not 0.0 <= value:
        raise ValueError(message.format(value))


def check_betas(betas: tuple[float, ...]) -> None:
    """torch's check of Adam-like betas: each in [0, 1)."""
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, tuple):
        return tuple(float(x) for x in value)
    return float(value)


@dataclass(frozen=True)
class Optimizer:
    """Everything optiviz knows about one optimizer (see the package's docstring)."""

    name: str
    title: str
    summary: str  # one line under the optimizer's menu
    params: tuple[Param, ...]
    #: The state the kernel keeps: (reference's buffer name, VECTOR or SCALAR), in slot order.
    state: tuple[tuple[str, int], ...]
    check: Callable[[dict], None]
    #: The hyperparameter vector ``init`` and ``step`` read (``lr`` is passed to ``step`` separately).
    pack: Callable[[dict], tuple[float, ...]]
    init: Any  # jitted init(hp, p, st)
    step: Any  # jitted step(t, lr, hp, g, p, st)
    #: Module and class of the reference implementation (``("torch.optim", "Adam")``), and the pip package it
    #: comes from when that is not torch.
    reference: tuple[str, str]
    package: str | None = None
    #: Keywords the reference class is built with besides the hyperparameters (torch's single-tensor path).
    reference_options: Mapping[str, Any] = field(default_factory=lambda: {"foreach": False})
    #: Whether the reference must be put in train mode (``opt.train()``, Schedule-Free's) before it steps.
    train_mode: bool = False
    #: The recommended learning rate on a surface (surfaces.Surface -> float).
    recommended_lr: Callable[[Any], float] = lambda surface: 1e-3
    #: The buffers the reference keeps with these settings (default: every buffer of ``state``).
    kept: Callable[[dict], tuple[str, ...]] | None = None
    #: Derived series, each ``(Run) -> ...`` (see ``optiviz.Run``): the bias-corrected moments, the second
    #: moment the step divides by, the effective step size ((n, 2)), the momentum the arrows draw.
    bias_corrected: Callable[[Run], dict[str, np.ndarray]] = lambda run: {}
    divisor_moment: Callable[[Run], np.ndarray | None] = lambda run: None
    effective_lr: Callable[[Run], np.ndarray] | None = None
    momentum: Callable[[Run], np.ndarray | None] = lambda run: None
    #: The moment panels' series: ([first-moment-like (label, values (n, 2), dash)], [second-moment-like]).
    panels: Callable[[Run], tuple[list, list]] = lambda run: ([], [])
    #: Points the optimizer keeps besides the path, drawn beside it on the contour with their heads at the step
    #: shown: [(label, (n+1, 2) positions)] (Schedule-Free's average x and base sequence z).
    companions: Callable[[Run], list[tuple[str, np.ndarray]]] = lambda run: []
    #: Explain: the builder of a step's lines, the note on what to look for, the note on one step, the options
    #: named in the title, and notes on the options set.
    explain: Callable[[Any], None] | None = None
    notes: str = ""
    step_note: Callable[[Any], str] = lambda b: ""
    title_options: Callable[[dict], list[str]] = lambda h: []
    option_notes: Callable[[dict], list[str]] = lambda h: []
    #: Whether ``hyper[key]`` is worth listing in Explain (default: all but optional terms set to 0).
    listed: Callable[[str, Any], bool] = lambda key, value: (
        value is not None and not (value == 0 and key in OPTIONAL_TERMS))
    #: Whether weight_decay is decoupled (shrinks the parameters) rather than L2 (added to the gradient).
    decoupled: Callable[[dict], bool] = lambda h: False
    #: A note under the optimizer's menu: what to look for in the default comparison.
    look_for: str = ""
    #: Where in the hyperparameter vector the momentum (or β₁) sits that OneCycleLR and CyclicLR set at every
    #: step (``step`` reads it afresh each step); None: this optimizer's cannot be cycled.
    momentum_slot: int | None = None
    defaults: Mapping[str, Any] = field(init=False)
    extensions: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "defaults", MappingProxyType({p.name: p.default for p in self.params}))
        object.__setattr__(self, "extensions", tuple(p.name for p in self.params if p.extension))
        size = sum(kind for _, kind in self.state)
        if size > STATE_SIZE:
            raise ValueError(f"{self.name}: state of {size} slots exceeds STATE_SIZE = {STATE_SIZE}")

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def widgets(self) -> tuple[tuple[Param, str, int | None], ...]:
        """Every widget of the run's controls in the sidebar's order (the main ones, then "More options"): the
        Param it sets (a component's for a tuple), the hyperparameter's name, and the component's index."""
        out = []
        for advanced in (False, True):
            for param in self.params:
                if param.advanced == advanced:
                    out += ([(part, param.name, i) for i, part in enumerate(param.parts)] if param.parts
                            else [(param, param.name, None)])
        return tuple(out)

    def widget(self, key: str) -> tuple[Param, str, int | None]:
        """The widget called ``key`` (``lr``, ``beta1``...); ``KeyError`` if this optimizer has none."""
        for entry in self.widgets():
            if entry[0].name == key:
                return entry
        raise KeyError(key)

    def resolve(self, hyper: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults filled in, types coerced and values validated (the reference's messages)."""
        unknown = [k for k in hyper if k not in self.defaults]
        if unknown:
            raise ValueError(
                f"{self.name} got an unexpected hyperparameter {unknown[0]!r}; "
                f"valid: {', '.join(self.defaults)}"
            )
        values: dict[str, Any] = {}
        for key, default in self.defaults.items():
            raw = hyper.get(key, default)
            if default is None and raw is None:
                values[key] = None  # the reference's default None ("no warm-up", "√β₂"...)
            elif isinstance(default, bool):
                values[key] = _flag(self.name, key, raw)
            elif isinstance(default, tuple):
                if isinstance(raw, (str, bytes)) or not hasattr(raw, "__len__") or len(raw) != len(default):
                    words = {2: "a pair", 3: "three"}.get(len(default), f"{len(default)}")
                    raise ValueError(f"{self.name}: {key} must be {words} of numbers, got {raw!r}")
                values[key] = tuple(_number(self.name, key, v) for v in raw)
            else:
                values[key] = _number(self.name, key, raw)
        self.check(values)  # on the values as given, so messages print them as the reference would
        return {k: _plain(v) for k, v in values.items()}

    def hp_array(self, values: Mapping[str, Any]) -> np.ndarray:
        hp = np.zeros(HP_SIZE, dtype=np.float64)
        packed = self.pack(dict(values))
        hp[: len(packed)] = packed
        return hp

    def layout(self, values: Mapping[str, Any]) -> tuple[tuple[str, int, int], ...]:
        """(buffer name, first slot, VECTOR or SCALAR) of the buffers the reference keeps with these settings."""
        kept = set(self.kept(dict(values))) if self.kept else None
        out, slot = [], 0
        for name, kind in self.state:
            if kept is None or name in kept:
                out.append((name, slot, kind))
            slot += kind
        return tuple(out)


def lerp(a: float, b: float, w: float) -> float:
    """ATen's scalar lerp (``exp_avg.lerp_``): the formula changes at |w| = 0.5. Plain Python, for Explain."""
    if abs(w) < 0.5:
        return a + w * (b - a)
    return b - (b - a) * (1.0 - w)


def sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else math.nan


def steps_column(run: Run) -> np.ndarray:
    """t = 1..n as an (n, 1) float column."""
    return np.arange(1, run.steps_done + 1, dtype=np.float64)[:, None]


def lr_column(run: Run) -> np.ndarray:
    """The learning rate of each step as an (n, 1) column."""
    return np.asarray(run.lr, dtype=np.float64)[:, None]

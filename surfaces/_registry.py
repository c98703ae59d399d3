"""The registered loss surfaces: metadata around the compiled kernels in ``_kernels``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from . import _expr
from . import _kernels as K

Point = tuple[float, float]
Domain = tuple[tuple[float, float], tuple[float, float]]

#: How far outside its domain a run may go before it counts as escaped: the
#: escape box is the domain scaled by this factor about its centre.
ESCAPE_FACTOR = 100.0


@dataclass(frozen=True, eq=False)
class Surface:
    """A two-dimensional loss surface f(x, y) with an analytic gradient.

    ``value`` and ``grad`` evaluate the compiled kernels; ``sid`` and ``params``
    are what the optimizer kernel receives (the surface's integer id and its
    parameter vector). ``lr`` maps each optimizer to a learning rate that draws a
    readable picture from ``start`` in about a thousand steps; ``noise`` is the
    gradient-noise sigma used when a simulation does not set one.
    """

    name: str
    title: str
    latex: str
    domain: Domain
    minima: tuple[Point, ...]
    min_value: float | None
    start: Point
    lr: Mapping[str, float]
    sid: int
    params: tuple[float, ...] = (0.0, 0.0, 0.0)
    noise: float = 0.0
    description: str = ""
    parameters: Mapping[str, float] = field(default_factory=dict)
    #: A typed function's text (``from_expression``); empty for the built-in surfaces.
    expression: str = ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Surface) and (self.name, self.params) == (other.name, other.params)

    def __hash__(self) -> int:
        return hash((self.name, self.params))

    def __reduce__(self):
        if self.expression:  # a typed function is rebuilt from its text
            minimum = self.minima[0] if self.minima else None
            return (from_expression, (self.expression, self.domain, minimum, self.start))
        # By name (and parameters): the registry rebuilds the same surface on unpickling.
        return (get, (self.name,), None, None, None) if not self.parameters else (_rebuild, (self.name,
                                                                                           dict(self.parameters)))

    def value(self, x: float, y: float) -> float:
        """f(x, y)."""
        return K.value(self.sid, float(x), float(y), self.param_array)

    def grad(self, x: float, y: float) -> tuple[float, float]:
        """(df/dx, df/dy) at (x, y), analytic."""
        return K.grad(self.sid, float(x), float(y), self.param_array)

    def values(self, xs, ys) -> np.ndarray:
        """f on the grid ``xs`` x ``ys`` as a ``(len(ys), len(xs))`` array (rows are y)."""
        xs = np.ascontiguousarray(xs, dtype=np.float64)
        ys = np.ascontiguousarray(ys, dtype=np.float64)
        out = np.empty((ys.shape[0], xs.shape[0]), dtype=np.float64)
        K.value_grid(self.sid, xs, ys, self.param_array, out)
        return out

    def undefined_at(self, x: float, y: float) -> str:
        """On a typed function: what is undefined or infinite in f or its gradient at (x, y), naming the
        operation ("the log of a negative number in log(x) (log of -0.5)"); "" where all is defined (and always
        on a built-in surface)."""
        if not self.expression:
            return ""
        return _expr.evaluate(_expr.parse(self.expression), x, y)[3]

    @property
    def param_array(self) -> np.ndarray:
        return np.array(self.params, dtype=np.float64)

    @property
    def escape_box(self) -> tuple[float, float, float, float]:
        """(x_min, x_max, y_min, y_max) of the domain scaled by ``ESCAPE_FACTOR`` about its centre."""
        (x0, x1), (y0, y1) = self.domain
        cx, cy = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
        hx, hy = ESCAPE_FACTOR * 0.5 * (x1 - x0), ESCAPE_FACTOR * 0.5 * (y1 - y0)
        return (cx - hx, cx + hx, cy - hy, cy + hy)


#: The learning rates a recommendation may take, in every decade: the app's lr slider steps through the same
#: values (optiviz.controls.LR_GRID is built from these).
LR_MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)


def _lr_at_most(value: float) -> float:
    """The largest learning rate of the slider's grid not above ``value`` (a recommendation computed from a
    parameter, rounded down so that it stays on the stable side and reads as typed: 0.25, not 0.266667)."""
    exponent = math.floor(math.log10(value))
    candidates = [m * 10.0**e for e in (exponent - 1, exponent) for m in LR_MANTISSAS]
    return float(f"{max(c for c in candidates if c <= value * (1 + 1e-12)):.3g}")


def _lr(adam, rmsprop, adagrad, sgd, adamw=None):
    return MappingProxyType(
        {"adam": adam, "adamw": adam if adamw is None else adamw, "rmsprop": rmsprop, "adagrad": adagrad, "sgd": sgd}
    )


# To double precision (the gradient's roots by mpmath at 40 digits): with the usual six decimals, the distance
# to the nearest minimum on the loss chart would level off at ~5e-7 however close a run came.
_HIMMELBLAU_MINIMA = ((3.0, 2.0), (-2.805118086952745, 3.131312518250573), (-3.779310253377747, -3.2831859912861696),
                      (3.5844283403304917, -1.8481265269644036))

_SURFACES: dict[str, Surface] = {}


def _register(surface: Surface) -> None:
    _SURFACES[surface.name] = surface


_register(Surface(
    "rosenbrock", "Rosenbrock", r"f(x,y) = (1-x)^2 + 100\,(y-x^2)^2",
    ((-2.0, 2.0), (-1.0, 3.0)), ((1.0, 1.0),), 0.0, (-1.5, 2.0), _lr(0.05, 5e-3, 1.0, 1e-3), K.ROSENBROCK,
    description="A long, curved, flat-bottomed valley: easy to find, hard to follow to (1, 1).",
))
_register(Surface(
    "beale", "Beale",
    r"\begin{aligned}f(x,y) = &(1.5-x+xy)^2 + (2.25-x+xy^2)^2\\ &+ (2.625-x+xy^3)^2\end{aligned}",
    ((-4.5, 4.5), (-4.5, 4.5)), ((3.0, 0.5),), 0.0, (1.0, 1.5), _lr(0.1, 5e-3, 1.0, 1e-2), K.BEALE,
    description="Flat plateaus and steep walls: gradients range over six decades.",
))
_register(Surface(
    "himmelblau", "Himmelblau", r"f(x,y) = (x^2+y-11)^2 + (x+y^2-7)^2",
    ((-5.0, 5.0), (-5.0, 5.0)), _HIMMELBLAU_MINIMA, 0.0, (0.0, 0.0), _lr(0.1, 0.05, 1.0, 5e-3), K.HIMMELBLAU,
    description="Four equal minima: which one an optimizer picks depends on its path.",
))
_register(Surface(
    "rastrigin", "Rastrigin", r"f(x,y) = 20 + \sum_{i} \left(x_i^2 - 10\cos(2\pi x_i)\right)",
    ((-5.12, 5.12), (-5.12, 5.12)), ((0.0, 0.0),), 0.0, (3.3, -2.6), _lr(0.1, 0.05, 1.0, 2e-3), K.RASTRIGIN,
    description="A bowl covered in local minima: most optimizers stop in the nearest one.",
))
_register(Surface(
    "ackley", "Ackley",
    r"f(x,y) = -20e^{-0.2\sqrt{(x^2+y^2)/2}} - e^{(\cos 2\pi x + \cos 2\pi y)/2} + e + 20",
    ((-5.0, 5.0), (-5.0, 5.0)), ((0.0, 0.0),), 0.0, (3.2, 2.4), _lr(0.1, 0.05, 1.0, 0.05), K.ACKLEY,
    description="A nearly flat, rippled plain with one deep funnel at the origin. From this start Adam, RMSProp "
                "and SGD stop in the nearest ripple (f ≈ 8); AdaGrad, whose first steps are as long as its lr "
                "(1), jumps the ripples into the funnel.",
))
_register(Surface(
    "booth", "Booth", r"f(x,y) = (x+2y-7)^2 + (2x+y-5)^2",
    ((-10.0, 10.0), (-10.0, 10.0)), ((1.0, 3.0),), 0.0, (-8.0, -8.0), _lr(0.2, 0.05, 3.0, 0.02), K.BOOTH,
    description="A plain quadratic bowl, tilted: every method should get there.",
))
_register(Surface(
    "matyas", "Matyas", r"f(x,y) = 0.26\,(x^2+y^2) - 0.48\,xy",
    ((-10.0, 10.0), (-10.0, 10.0)), ((0.0, 0.0),), 0.0, (8.0, -6.0), _lr(0.2, 0.05, 3.0, 0.5), K.MATYAS,
    description="A shallow bowl with a diagonal valley (condition number 25).",
))
_register(Surface(
    "goldstein_price", "Goldstein-Price",
    r"\begin{aligned}f(x,y) = &\left[1+(x+y+1)^2(19-14x+3x^2-14y+6xy+3y^2)\right]\\"
    r"&\times\left[30+(2x-3y)^2(18-32x+12x^2+48y-36xy+27y^2)\right]\end{aligned}",
    ((-2.0, 2.0), (-2.0, 2.0)), ((0.0, -1.0),), 3.0, (-1.5, -1.5), _lr(0.02, 5e-3, 0.3, 1e-5), K.GOLDSTEIN_PRICE,
    description="Values from 3 to a million: SGD needs a step 2,000 times smaller than Adam's, yet from this "
                "start only SGD reaches the global minimum (f = 3); the others settle at f = 30.",
))
_register(Surface(
    "three_hump_camel", "Three-hump camel", r"f(x,y) = 2x^2 - 1.05x^4 + \tfrac{x^6}{6} + xy + y^2",
    ((-5.0, 5.0), (-5.0, 5.0)), ((0.0, 0.0),), 0.0, (-3.5, 4.0), _lr(0.1, 0.05, 1.0, 2e-3), K.THREE_HUMP_CAMEL,
    description="One global and two local minima in a steep sextic bowl.",
))
_register(Surface(
    "six_hump_camel", "Six-hump camel",
    r"f(x,y) = \left(4-2.1x^2+\tfrac{x^4}{3}\right)x^2 + xy + (-4+4y^2)\,y^2",
    # Minima and f* to double precision (the gradient's root by mpmath at 40 digits): with the usual 7-8 digits,
    # f − f* and the distance on the loss chart would level off at ~5e-8 and ~3e-8 however close a run came.
    ((-3.0, 3.0), (-2.0, 2.0)),
    ((0.08984201310031806, -0.7126564030207396), (-0.08984201310031806, 0.7126564030207396)), -1.0316284534898774,
    (-2.5, 1.5), _lr(0.05, 0.02, 0.5, 2e-3), K.SIX_HUMP_CAMEL,
    description="Six local minima, two of them global.",
))
_register(Surface(
    "styblinski_tang", "Styblinski-Tang", r"f(x,y) = \tfrac{1}{2}\sum_{i}\left(x_i^4 - 16x_i^2 + 5x_i\right)",
    # To double precision, as for the six-hump camel (4x³ − 32x + 5 = 0 by mpmath; the usual -78.332331 is 4e-7
    # above the true minimum).
    ((-5.0, 5.0), (-5.0, 5.0)), ((-2.903534027771177, -2.903534027771177),), -78.33233140754282, (4.5, 4.5),
    _lr(0.1, 0.05, 1.0, 5e-3), K.STYBLINSKI_TANG,
    description="Four basins of different depth: only one is the global minimum.",
))
_register(Surface(
    "levi", "Lévi N.13",
    r"\begin{aligned}f(x,y) = &\sin^2 3\pi x + (x-1)^2\left(1+\sin^2 3\pi y\right)\\"
    r" &+ (y-1)^2\left(1+\sin^2 2\pi y\right)\end{aligned}",
    ((-10.0, 10.0), (-10.0, 10.0)), ((1.0, 1.0),), 0.0, (-4.0, 6.0), _lr(0.1, 0.05, 1.0, 2e-3), K.LEVI,
    description="A bowl around (1, 1) under steep ripples. From this start Adam and RMSProp stop in ripples on "
                "the way, SGD ends up bouncing between three points, and AdaGrad, whose first steps are as long "
                "as its lr, gets nearest (f ≈ 2.2).",
))
_register(Surface(
    "saddle", "Saddle", r"f(x,y) = x^2 - y^2",
    ((-2.0, 2.0), (-2.0, 2.0)), (), None, (-1.8, 1e-3), _lr(0.01, 0.01, 0.1, 0.01), K.SADDLE,
    description="A saddle point at the origin: from near the x-axis, who escapes first?",
))
_register(Surface(
    "monkey_saddle", "Monkey saddle", r"f(x,y) = x^3 - 3xy^2",
    ((-2.0, 2.0), (-2.0, 2.0)), (), None, (1.5, 0.3), _lr(0.01, 0.01, 0.1, 0.01), K.MONKEY_SADDLE,
    description="A degenerate saddle (zero Hessian at the origin) with three ways down.",
))
_register(Surface(
    "noisy_saddle", "Noisy saddle", r"f(x,y) = x^2 - y^2,\quad g = \nabla f + \sigma\,\xi,\ \xi\sim\mathcal{N}(0, I)",
    ((-2.0, 2.0), (-2.0, 2.0)), (), None, (-1.8, 0.0), _lr(0.01, 0.01, 0.1, 0.01), K.SADDLE, noise=0.1,
    description="The saddle with gradient noise: noise is what pushes a run off the ridge.",
))

QUADRATIC_DEFAULTS = MappingProxyType({"kappa": 20.0, "angle": 0.0})
_QUADRATIC_LAMBDA_MIN = 0.2  # f = 0.1 u^2 + 2 v^2 at kappa = 20 (REFERENCE.md's bowl)


def _quadratic(kappa: float = 20.0, angle: float = 0.0) -> Surface:
    """0.5 (lam_min u^2 + kappa lam_min v^2) with (u, v) the coordinates rotated by ``angle`` degrees."""
    kappa, angle = float(kappa), float(angle)
    if not (math.isfinite(kappa) and 1.0 <= kappa <= 1e6):
        raise ValueError(f"quadratic: kappa must be a number in [1, 1e6], got {kappa}")
    if not (math.isfinite(angle) and -180.0 <= angle <= 180.0):
        raise ValueError(f"quadratic: angle must be in degrees within [-180, 180], got {angle}")
    l1, l2 = _QUADRATIC_LAMBDA_MIN, _QUADRATIC_LAMBDA_MIN * kappa
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    # H = R diag(l1, l2) R^T with u along (c, s) and v along (-s, c).
    h11 = l1 * c * c + l2 * s * s
    h12 = (l1 - l2) * c * s
    h22 = l1 * s * s + l2 * c * c
    return Surface(
        "quadratic", "Quadratic bowl",
        rf"f = \tfrac12\left(\lambda u^2 + \kappa\lambda v^2\right),\ \kappa={kappa:g},\ "
        rf"\text{{rotated }}{angle:g}^\circ",
        ((-6.0, 6.0), (-6.0, 6.0)), ((0.0, 0.0),), 0.0, (-5.0, -2.0),
        _lr(0.1, 0.05, 1.0, _lr_at_most(0.4 * 20.0 / kappa)),
        K.QUADRATIC, params=(h11, h12, h22),
        description=(f"An ill-conditioned bowl: curvature λ = {l1:g} along u and κλ = {l2:g} along v, its axes "
                     f"(u is x turned by {angle:g}°). Gradient descent is stable only for lr < 2/(κλ) = {2 / l2:.3g}."),
        parameters=MappingProxyType({"kappa": kappa, "angle": angle}),
    )


_PARAMETRIC = {"quadratic": _quadratic}


def _rebuild(name: str, params: dict[str, float]) -> Surface:
    return get(name, **params)


def names() -> list[str]:
    """The registered surface names, in display order."""
    order = list(_SURFACES)
    order.insert(order.index("saddle"), "quadratic")
    return order


#: The name a typed function's surface has (its text is ``Surface.expression``).
EXPRESSION_NAME = "expr"
#: The largest coordinate a typed function's domain may reach.
MAX_COORDINATE = 1e6


def _domain(domain) -> Domain:
    try:
        (x0, x1), (y0, y1) = domain
        x0, x1, y0, y1 = (float(v) for v in (x0, x1, y0, y1))
    except (TypeError, ValueError):
        raise _expr.ExpressionError(f"the domain must be ((x_min, x_max), (y_min, y_max)), got {domain!r}") from None
    for lo, hi, axis in ((x0, x1, "x"), (y0, y1, "y")):
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise _expr.ExpressionError(f"the {axis} range must be finite, got {lo:g} to {hi:g}")
        if not lo < hi:
            raise _expr.ExpressionError(f"the {axis} range is empty: {lo:g} to {hi:g} (the first must be smaller)")
        if max(abs(lo), abs(hi)) > MAX_COORDINATE:
            raise _expr.ExpressionError(f"the {axis} range must stay within ±{MAX_COORDINATE:g}, got {lo:g} to {hi:g}")
        if hi - lo < 1e-6 * max(1.0, abs(lo), abs(hi)):
            raise _expr.ExpressionError(f"the {axis} range {lo:g} to {hi:g} is too narrow to draw")
    return (x0, x1), (y0, y1)


def _point(name: str, point, domain: Domain) -> Point:
    try:
        x, y = (float(v) for v in point)
    except (TypeError, ValueError):
        raise _expr.ExpressionError(f"the {name} must be two numbers (x, y), got {point!r}") from None
    (x0, x1), (y0, y1) = domain
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        raise _expr.ExpressionError(f"the {name} ({x:g}, {y:g}) is outside the domain")
    return x, y


def _default_start(tree, domain: Domain) -> Point:
    """A quarter in from the left and down from the top, or, where f or its gradient is not defined there, the
    first point of a grid over the domain where they are (the domain's corner region first)."""
    (x0, x1), (y0, y1) = domain
    fractions = [(0.25, 0.75), (0.75, 0.75), (0.25, 0.25), (0.75, 0.25), (0.5, 0.9), (0.9, 0.5)]
    fractions += [(i / 8, j / 8) for j in range(7, 0, -1) for i in range(1, 8)]
    for fx, fy in fractions:
        point = (x0 + fx * (x1 - x0), y0 + fy * (y1 - y0))
        if all(math.isfinite(v) for v in _expr.evaluate(tree, *point)[:3]):
            return point
    return x0 + 0.25 * (x1 - x0), y0 + 0.75 * (y1 - y0)


def from_expression(text: str, domain=((-2.0, 2.0), (-2.0, 2.0)), minimum=None, start=None) -> Surface:
    """A surface of your own: f(x, y) typed as text (``"x**2 + 10*sin(y)"``, ``"(1-x)^2 + 100*(y-x^2)^2"``),
    over ``domain`` ((x_min, x_max), (y_min, y_max)); ``minimum``: a known global minimum (x, y), optional;
    ``start``: where runs start (default: a quarter in from the left, a quarter down from the top, or the first
    point of a grid where f and its gradient are defined).

    It works everywhere a built-in surface does, with an exact gradient (forward-mode, in the one compiled
    kernel: nothing is compiled per function). Raises :class:`ExpressionError` (a ``ValueError``) saying what is
    wrong and at which character; the grammar and its limits are in ``surfaces._expr``."""
    tree = _expr.parse(text)
    domain = _domain(domain)
    program = _expr.compile_program(tree)
    (x0, x1), (y0, y1) = domain
    start = _default_start(tree, domain) if start is None else _point("start", start, domain)
    minima: tuple[Point, ...] = ()
    min_value = None
    if minimum is not None:
        point = _point("minimum", minimum, domain)
        value = _expr.evaluate(tree, *point)[0]
        if not math.isfinite(value):
            raise _expr.ExpressionError(f"f is not defined at the minimum ({point[0]:g}, {point[1]:g})")
        minima, min_value = (point,), value
    width = max(x1 - x0, y1 - y0)
    # Step sizes that cross the domain in a few hundred steps: Adam's and AdaGrad's first steps are about lr,
    # RMSProp's about 10 lr; SGD's are lr times the slope: a hundredth of the domain at the start, and at most
    # a twentieth where the domain is steepest (9 x 9 points), so that a flat start does not make it fly.
    slopes = [math.hypot(g[1], g[2]) for g in (_expr.evaluate(tree, x0 + i * (x1 - x0) / 8, y0 + j * (y1 - y0) / 8)
                                               for i in range(9) for j in range(9))
              if math.isfinite(g[1]) and math.isfinite(g[2])]
    g = _expr.evaluate(tree, *start)
    slope = math.hypot(g[1], g[2]) if math.isfinite(g[1]) and math.isfinite(g[2]) else 0.0
    steepest = max(slopes, default=0.0)
    sgd = min(0.01 * width / slope if slope > 0.0 else math.inf,
              0.05 * width / steepest if steepest > 0.0 else math.inf)
    sgd = _lr_at_most(sgd if math.isfinite(sgd) else 1e-3 * width)
    rates = _lr(_lr_at_most(width / 200.0), _lr_at_most(width / 2000.0), _lr_at_most(width / 20.0), sgd)
    return Surface(
        EXPRESSION_NAME, "Your function", "f(x,y) = " + _expr.to_latex(tree), domain, minima, min_value, start,
        rates, K.EXPRESSION, params=tuple(float(v) for v in program), description=f"Typed: {text.strip()}",
        expression=text.strip(),
    )


def get(name: str | Surface, **params: float) -> Surface:
    """The surface called ``name``; ``quadratic`` takes ``kappa`` (condition number) and ``angle`` (degrees)."""
    if isinstance(name, Surface):
        return name
    if name in _PARAMETRIC:
        factory = _PARAMETRIC[name]
        unknown = set(params) - set(QUADRATIC_DEFAULTS)
        if unknown:
            raise ValueError(f"{name}: unknown parameter(s) {sorted(unknown)}; valid: {sorted(QUADRATIC_DEFAULTS)}")
        return factory(**params)
    if name not in _SURFACES:
        raise ValueError(f"Unknown surface {name!r}; valid surfaces: {', '.join(names())}")
    if params:
        raise ValueError(f"{name} takes no parameters, got {sorted(params)}")
    return _SURFACES[name]

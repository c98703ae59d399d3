"""Plotly figures of a :class:`~optiviz.Simulation`: arrays in, figure out (never runs an optimizer).

The builders assemble plain, JSON-ready figure dicts and wrap them in :class:`SpecFigure`,
a ``go.Figure`` that hands that dict over as it is. Building them through plotly's validating
objects costs far more per redraw; the dicts cost a few milliseconds, and the tests validate
every spec with plotly's own classes (:meth:`SpecFigure.validated`).

The trajectory figure keeps its payload small: the contour and every full series are sent once,
as float32 (long paths thinned, long series reduced to their envelope), and what moves with the
step being shown (heads, trails, arrows, cursors) is drawn by the chart component from every
step's position, sent compact (:mod:`optiviz._codec`).
"""

from __future__ import annotations

import copy
import math
import re
import textwrap
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _codec
from ._engine import Run, Simulation
from ._layouts import (
    FOCUS_NARROW_BELOW,
    NARROW_BELOW,
    STACK_KEY_SHIFT,
    focus_stack,
    legend_lines,
    loss_grid,
    narrow_loss_patch,
    narrow_meta,
    narrow_schedule_patch,
    narrow_stack,
    schedule_grid,
    trajectory_grid,
)
from ._plotly import convert_to_base64, go
from ._surface_image import SurfaceGrid, surface_grid
from .diagnosis import HUGE_STEP_FACTOR, fmt_value
from .optimizers import OPTIMIZERS

__all__ = [
    "PALETTE",
    "SpecFigure",
    "SurfaceGrid",
    "create_loss_figure",
    "create_schedule_figure",
    "create_surface3d_figure",
    "create_trajectory_figure",
    "default_labels",
    "moment_series",
    "optimizer_color",
    "run_colors",
    "run_dashes",
    "surface_grid",
    "trail_steps",
    "unique_labels",
]

#: The runs' colours: each registered optimizer's own (OPTIMIZER_COLORS: the first five's, then the others' in the
#: registry's order); any left over for optimizers without one.
#: Each light enough that a second run's darker shade stands apart (contrast >= 2.5, tested).
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#db2777", "#b45309",
           "#64748b", "#65a30d", "#8b5cf6", "#e11d48", "#0d9488", "#ca8a04", "#c026d3", "#6366f1")
#: A run's full path on the contour: its width (on a white halo 3 px wider) and opacity; its head's size.
PATH_WIDTH = 2.5
PATH_OPACITY = 0.9
HEAD_SIZE = 11
#: Where paths share one line, each run's line is this much wider than the next run's, drawn under it, so that
#: every colour shows as a stripe along the shared line (at most MAX_STACKED_WIDTH wide).
STACK_STEP = 2.0
MAX_STACKED_WIDTH = 12.0
#: The focus (classroom) layout draws paths, heads and the lines' stacking this much bolder.
FOCUS_SCALE = 1.6
FOCUS_HEAD_SIZE = 17
MAX_SERIES_POINTS = 1000
#: Points in all the moment panels' series together: with eight runs each series gets half of
#: MAX_SERIES_POINTS, which keeps the figure under its 1 MB bound at 10,000 steps.
SERIES_POINTS_BUDGET = 40_000
MAX_PATH_POINTS = 4000  # and every point where the path turns (see _path_rows)
#: Samples per side of the 3D view's surface: 121 (the contour grid's every third sample, ~180 KB of figure)
#: draws the narrow valleys (Rosenbrock's, on log height) smoothly, where 73 draws saw teeth along their walls.
MAX_SURFACE3D_SIDE = 121
#: The 3D surface's colours, by height: the contour's light scale, a little deeper, so that shading and height
#: read on it and the runs' colours stand out.
SURFACE3D_SCALE = [[0.0, "#fdf8e7"], [0.3, "#e8eef5"], [0.65, "#cfd9e5"], [1.0, "#b3c0d1"]]
# The figures carry their own light style: the app's chart component (optiviz.chart) applies no theme.
_FONT = {"family": "Source Sans Pro, Inter, system-ui, sans-serif", "size": 12, "color": "#1e293b"}


class SpecFigure(go.Figure):
    """A ``go.Figure`` carrying a prebuilt, JSON-ready figure dict (``spec``).

    ``to_dict()``/``to_plotly_json()`` return the spec itself (``plotly.io.to_json``, and so
    ``optiviz.chart.figure_json``, and ``write_html`` go through them); :meth:`validated` builds the
    equivalent fully validated ``go.Figure``.
    """

    def __init__(self, spec: dict[str, Any]):
        super().__init__()
        self._spec = spec

    @classmethod
    def from_arrays(cls, spec: dict[str, Any]) -> SpecFigure:
        """Wrap a freshly built spec, turning its numpy arrays into plotly's base64 typed arrays first
        (in place; only the traces hold arrays). Wrapping an already converted
        spec again (``SpecFigure(spec)``) costs nothing."""
        convert_to_base64(spec["data"])
        return cls(spec)

    @property
    def spec(self) -> dict[str, Any]:
        return self._spec

    def to_dict(self) -> dict[str, Any]:
        return self._spec

    def to_plotly_json(self) -> dict[str, Any]:
        return self._spec

    def unpacked(self) -> dict[str, Any]:
        """The figure as the chart component hands it to Plotly: packed arrays (:mod:`optiviz._codec`)
        unpacked, and each run's path filled in from the playback's positions (the 3D view's too)."""
        spec = copy.deepcopy(self._spec)
        for trace in spec["data"]:
            for key in ("x", "y"):
                if _codec.is_packed(trace.get(key)):
                    trace[key] = _codec.unpack(trace[key]).tolist()
        meta = spec["layout"].get("meta", {})
        if playback := meta.get("optivizPlayback"):
            positions = _codec.decode(playback["positions"])
            for i, run in enumerate(playback["runs"]):
                for trace in (run["line"], run["halo"]):
                    spec["data"][trace].update(x=positions[2 * i].tolist(), y=positions[2 * i + 1].tolist())
        if playback := meta.get("optivizPlayback3d"):
            positions = _codec.decode(playback["positions"])
            listed = lambda a: np.where(np.isfinite(a), a, None).tolist()  # noqa: E731 (NaN: a break)
            for i, run in enumerate(playback["runs"]):
                x, y, z = (positions[4 * i + c] for c in range(3))
                spec["data"][run["line"]].update(x=listed(x), y=listed(y), z=listed(z))
        return spec

    def validated(self) -> go.Figure:
        """The unpacked figure through plotly's validators (raises on any invalid property)."""
        return go.Figure(self.unpacked())


#: Each optimizer's colour, the same in every view and link (an optimizer not listed takes a palette colour
#: by its name).
_FIRST = ("adam", "rmsprop", "adagrad", "sgd", "adamw")  # blue, red, green, purple, orange
OPTIMIZER_COLORS = dict(zip((*_FIRST, *(name for name in OPTIMIZERS if name not in _FIRST)), PALETTE, strict=False))
#: The shades of the 2nd, 3rd... run of one optimizer: towards black (negative) or white (positive). The second
#: is far from the first (a contrast ratio over 2.5 for every optimizer's colour), and repeats are dashed too
#: (RUN_DASHES).
_SHADES = (0.0, -0.6, 0.45, -0.3, 0.25, -0.8, 0.65, -0.45)
#: The line pattern of the 1st, 2nd, 3rd... run of one optimizer: in the paths, the loss chart and the legend.
RUN_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")


def _mix(hex_color: str, amount: float) -> str:
    rgb = [int(hex_color[k:k + 2], 16) for k in (1, 3, 5)]
    target = 255 if amount > 0 else 0
    return "#" + "".join(f"{round(c + (target - c) * abs(amount)):02x}" for c in rgb)


def optimizer_color(optimizer: str) -> str:
    """``optimizer``'s colour in every view."""
    if optimizer in OPTIMIZER_COLORS:
        return OPTIMIZER_COLORS[optimizer]
    spare = PALETTE[len(OPTIMIZER_COLORS):] or PALETTE
    return spare[sum(map(ord, optimizer)) % len(spare)]


def run_colors(optimizers: Sequence[str]) -> list[str]:
    """The colour of each run, by its optimizer: the first run of an optimizer gets the optimizer's colour,
    a second one a darker shade of it, a third a lighter one, and so on, in the order given."""
    seen: dict[str, int] = {}
    out = []
    for name in optimizers:
        k = seen.get(name, 0)
        seen[name] = k + 1
        out.append(_mix(optimizer_color(name), _SHADES[k % len(_SHADES)]))
    return out


def run_dashes(optimizers: Sequence[str]) -> list[str]:
    """The line pattern of each run, by its optimizer: solid for the first run of an optimizer, dashed for a
    second one, dotted for a third, and so on (RUN_DASHES), in the order given."""
    seen: dict[str, int] = {}
    out = []
    for name in optimizers:
        k = seen.get(name, 0)
        seen[name] = k + 1
        out.append(RUN_DASHES[k % len(RUN_DASHES)])
    return out


def _dashes(sim: Simulation, dashes: Sequence[str] | None) -> list[str]:
    if dashes is None:
        return run_dashes([run.spec.optimizer for run in sim.runs])
    if len(dashes) != len(sim.runs):
        raise ValueError(f"dashes: expected {len(sim.runs)}, got {len(dashes)}")
    return list(dashes)


def _colors(sim: Simulation, colors: Sequence[str] | None) -> list[str]:
    if colors is None:
        return run_colors([run.spec.optimizer for run in sim.runs])
    if len(colors) != len(sim.runs):
        raise ValueError(f"colors: expected {len(sim.runs)}, got {len(colors)}")
    return list(colors)


def unique_labels(labels: Sequence[str], numbers: Sequence[int] | None = None) -> list[str]:
    """The labels, with a number added to repeats so that every run has its own legend entry: the run's own
    number where ``numbers`` gives them (the app's sidebar numbers its runs 1, 2, ...: a copy of run 1 that
    is run 5 is "#5" there too), else "#2", "#3"... by occurrence."""
    seen: dict[str, int] = {}
    out = []
    for k, label in enumerate(labels):
        seen[label] = seen.get(label, 0) + 1
        number = seen[label] if numbers is None else numbers[k]
        out.append(label if seen[label] == 1 else f"{label} #{number}")
    return out


def default_labels(sim: Simulation) -> list[str]:
    """"Adam", "RMSProp", ... with "#2", "#3" for repeated optimizers."""
    return unique_labels([run.spec.spec.title for run in sim.runs])


def _f32(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def _stride(n: int, limit: int) -> int:
    return max(1, math.ceil(n / limit))


def _path_rows(path: np.ndarray, limit: int) -> np.ndarray:
    """Which rows of a long path to draw: every k-th (at most ~``limit``), the last, and every point where
    the path turns by more than 15 degrees. Every k-th alone would draw a zig-zag across a valley, SGD's
    signature, as a smooth curve (the quadratic at 4,000 steps); the turns keep it, and a smooth stretch
    still costs only the k-th points."""
    n = path.shape[0]
    if n <= limit:
        return np.arange(n)
    step = np.diff(path, axis=0)
    before, after = step[:-1], step[1:]
    # A step of 0 gives NaN (no turn); steps so short that the product of their lengths underflows give ±inf,
    # whose sign is the dot product's (-inf: a turn back).
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        cos = np.einsum("ij,ij->i", before, after) / (np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1))
    turns = np.flatnonzero(cos < math.cos(math.radians(15))) + 1
    return np.unique(np.concatenate([np.arange(0, n, _stride(n, limit)), turns, [n - 1]]))


def _text_position(point: np.ndarray, domain) -> str:
    """Where a label goes next to ``point`` so that it stays inside the plot: above it unless the point is
    in the top fifth of the domain, and to its right, centred or to its left as the point lies in the left,
    middle or right third (a label centred on a point near an edge is cut off by the axis)."""
    (x0, x1), (y0, y1) = domain
    u, v = (point[0] - x0) / (x1 - x0), (point[1] - y0) / (y1 - y0)
    vertical = "bottom" if v > 0.8 else "top"
    horizontal = "right" if u < 1 / 3 else "left" if u > 2 / 3 else "center"
    return f"{vertical} {horizontal}"


def _envelope(values: np.ndarray, limit: int) -> tuple[np.ndarray | None, np.ndarray]:
    """At most ``limit`` points of a series over consecutive steps that keep its shape: all of it when it
    fits, else each bucket of k steps reduced to its smallest and largest value, in step order. (Every k-th
    value would hide an oscillation from one step to the next, which is what too large a step causes.)
    The first and the last value are always kept. Returns ``(indices, values)``; ``indices`` is None when
    nothing was dropped. A bucket with no finite value keeps a NaN, so the line breaks there as it would
    unreduced."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n <= limit:
        return None, values
    k = math.ceil(2 * n / (limit - 2))
    m = -(-n // k)
    buckets = np.full(m * k, np.nan)
    buckets[:n] = values
    buckets = buckets.reshape(m, k)
    finite = np.isfinite(buckets)
    i_lo = np.where(finite, buckets, np.inf).argmin(axis=1)  # 0 in a bucket with nothing finite
    i_hi = np.where(finite, buckets, -np.inf).argmax(axis=1)
    picks = (np.arange(m)[:, None] * k + np.stack([i_lo, i_hi], axis=1)).ravel()
    indices = np.unique(np.concatenate([[0], picks, [n - 1]]))
    out = values[indices]
    return indices, np.where(np.isfinite(out), out, np.nan)


def _series_x(indices: np.ndarray | None, first_step: int) -> dict:
    """The x of a series over steps: ``x0``/``dx`` when it holds every step, else the steps it kept."""
    if indices is None:
        return {"x0": first_step, "dx": 1}
    return {"x": _codec.pack(indices + first_step)}


def moment_series(run: Run) -> list[list[tuple[str, np.ndarray, str]]]:
    """For the three panel rows (first moment, second moment, effective step size): a list of
    (name, (n, 2) series, dash) with row i of a series describing step i + 1; each optimizer's module says what
    its first two rows hold (a scalar of its state is drawn the same in x and y)."""
    first, second = run.spec.spec.panels(run)
    first = first or [("g_t (gradient; no first moment kept)", run.grad, "dot")]
    return [first, second, [("effective step size", run.effective_lr, "solid")]]


#: The arrows drawn at a run's position, in drawing order (the widest under the others): the step actually
#: taken, x_{t+1} − x_t; the step its momentum would give at its learning rate, −η·m; and the step the gradient
#: would give, −η·∇f. One scale for all (ARROW_CAP, _arrow_scale).
ARROW_KINDS = ("update", "−momentum", "−∇f")
#: Each kind's line and head: solid, dashed, dotted; a filled head, an open one, a wide open one. Where two
#: coincide (SGD steps along −η·∇f, Adam along nearly −η·m̂ where |g| ≈ 1) the wide translucent solid one shows
#: under the others.
_ARROW_STYLE = {
    "update": ({"width": 4, "dash": "solid"}, "arrow", 13, 0.6),
    "−momentum": ({"width": 2, "dash": "dash"}, "arrow-open", 11, 1.0),
    "−∇f": ({"width": 2, "dash": "dot"}, "arrow-wide-open", 11, 1.0),
}
#: Each of a run's companions (Schedule-Free's average x and base sequence z: ``Optimizer.companions``), in
#: order: its thin line's pattern and its head's symbol, in the run's colour.
COMPANION_STYLES = (("dot", "diamond"), ("dash", "square"), ("dashdot", "triangle-up"))
COMPANION_WIDTH = 1.5
COMPANION_HEAD_SIZE = 8
#: The longest arrow drawn, as a share of the contour's larger side: a longer one (or one that would leave the
#: plot) is cut there and ends in a double head.
ARROW_CAP = 0.25


def trail_steps(n: int) -> int:
    """How many steps back a run's trail reaches at the step being shown: a fortieth of the run, at least 8."""
    return max(8, math.ceil(n / 40))


def _arrow_vectors(run: Run) -> dict[str, np.ndarray | None]:
    """Per kind, each step's arrow as a displacement ((n, 2)), or None where the optimizer has no such thing:
    the update x_{t+1} − x_t, and −η·m and −η·∇f, the steps the momentum and the gradient would give at the run's
    learning rate η (plain SGD's update is −η·∇f; SGD's with momentum −η·m)."""
    lr = run.lr[:, None]
    momentum = run.first_moment
    return {"update": run.update, "−momentum": None if momentum is None else -lr * momentum, "−∇f": -lr * run.grad}


def _typical_step(run: Run) -> float:
    """The length of the run's steps that carry it: half of its path's length is in steps at least this long (a
    length-weighted median, blind to the thousands of tiny steps of a run that has arrived); 0 if it never moved."""
    with np.errstate(invalid="ignore"):
        length = np.hypot(run.update[:, 0], run.update[:, 1])
    length = np.sort(length[np.isfinite(length) & (length > 0)])
    if not length.size:
        return 0.0
    covered = np.cumsum(length)
    return float(length[min(np.searchsorted(covered, covered[-1] / 2), length.size - 1)])


def _arrow_scale(sim: Simulation, cap: float) -> float:
    """The one magnification of every arrow in a figure: the largest power of ten, at least 1, at which the
    typical step (:func:`_typical_step`) of the typical run (the median over the runs that moved) is no longer
    than ``cap``, so that it is drawn between a tenth of ``cap`` and ``cap`` long."""
    typical = [t for t in map(_typical_step, sim.runs) if t > 0]
    if not typical:
        return 1.0
    return 10.0 ** max(0, math.floor(math.log10(cap / float(np.median(typical)))))


#: Bits of an arrow's angle and of log10 of its length: 0.35°, and 0.4% of a length (lengths are kept over 7
#: decades, from a millionth of the longest drawn to ten times it).
ARROW_BITS = 10


def _polar_columns(vectors: np.ndarray | None, longest: float) -> list[_codec.Column]:
    """A vector field as two columns: its angle, and log10 of its length (NaN where it is 0 or not finite: no
    arrow), each of ARROW_BITS bits. ``longest`` is the longest arrow drawn, in the vectors' units: lengths
    are kept from 1e-6 of it (shorter ones, far under a pixel, as that) to 10 times it (longer ones, cut
    where they are drawn anyway, as that)."""
    if vectors is None or vectors.size == 0:
        return [_codec.column(np.zeros(0), ARROW_BITS), _codec.column(np.zeros(0), ARROW_BITS)]
    with np.errstate(all="ignore"):
        length = np.log10(np.hypot(vectors[:, 0], vectors[:, 1]))
        angle = np.arctan2(vectors[:, 1], vectors[:, 0])
    top = math.log10(longest)
    lo, hi = top - 6, top + 1
    length = np.where(np.isfinite(length), np.clip(length, lo, hi), np.nan)
    return [_codec.column(np.where(np.isfinite(length), angle, np.nan), ARROW_BITS, -math.pi, math.pi),
            _codec.column(length, ARROW_BITS, lo, hi)]


_OVERLAP_CELLS = 160  # the grid (per side of the domain) on which paths are compared


def _path_cells(path: np.ndarray, domain) -> np.ndarray:
    """The cells of an _OVERLAP_CELLS-square grid over ``domain`` that a path's line crosses (flat indices),
    segments sampled every half cell; points outside the domain or not finite are left out."""
    (x0, x1), (y0, y1) = domain
    n = _OVERLAP_CELLS
    p = path[_path_rows(path, 2000)]
    with np.errstate(all="ignore"):
        q = (p - [x0, y0]) / [x1 - x0, y1 - y0] * n
    q = q[np.isfinite(q).all(axis=1) & (np.abs(q) < 10 * n).all(axis=1)]
    if len(q) < 2:
        pts = q
    else:
        d = np.diff(q, axis=0)
        k = np.clip(np.ceil(2 * np.abs(d).max(axis=1)), 1, 4 * n).astype(int)
        seg = np.repeat(np.arange(len(d)), k)
        frac = (np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)) / np.repeat(k, k)
        pts = np.concatenate([q[seg] + d[seg] * frac[:, None], q[-1:]])
    cells = np.floor(pts).astype(int)
    cells = cells[((cells >= 0) & (cells < n)).all(axis=1)]
    return np.unique(cells[:, 0] * n + cells[:, 1])


def shared_lines(paths: Sequence[np.ndarray], domain, share: float = 0.5) -> list[int]:
    """For each path, how many of the paths after it share its line: most (``share``) of the one path's cells lie
    next to (within a cell of) the other's, either way round. Booth's default runs all share one line."""
    n = _OVERLAP_CELLS
    cells = [_path_cells(p, domain) for p in paths]
    near = []
    for c in cells:
        grid = np.zeros((n + 2, n + 2), dtype=bool)
        grid[c // n + 1, c % n + 1] = True
        wide = np.zeros_like(grid)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                wide |= np.roll(np.roll(grid, dx, axis=0), dy, axis=1)
        near.append(wide[1:-1, 1:-1].ravel())

    def on(a: int, b: int) -> bool:  # most of a's line lies along b's
        return cells[a].size > 0 and bool(near[b][cells[a]].mean() >= share)

    return [sum(on(i, j) or on(j, i) for j in range(i + 1, len(paths))) for i in range(len(paths))]


def path_widths(shared: Sequence[int], base: float = PATH_WIDTH, step: float = STACK_STEP,
                most: float = MAX_STACKED_WIDTH) -> list[float]:
    """Each run's line width: ``base``, and ``step`` more for each later run that shares its line (those are
    drawn on top of it, thinner), so that each colour shows as a stripe; the steps shrink so that no line is
    wider than ``most``."""
    deepest = max(shared, default=0)
    if deepest:
        step = min(step, (most - base) / deepest)
    return [round(float(base + step * k), 2) for k in shared]


def create_trajectory_figure(
    sim: Simulation,
    *,
    labels: Sequence[str] | None = None,
    colors: Sequence[str] | None = None,
    grid=None,
    arrows: bool = False,
    moments: bool = True,
    height: int = 720,
    focus: bool = False,
    dashes: Sequence[str] | None = None,
) -> SpecFigure:
    """The contour with every run's path, played back step by step, and (``moments``) the state panels in sync.

    Left: the surface's contour (log levels where values span decades), its global minima, the
    start, each run's full path (bold, on a white halo) with a head and a trail at the step being shown, and a
    cross where a run stopped. Right, when ``moments``: for each coordinate, every run's first moment, second moment
    and effective step size against the step, with a cursor at the step being shown, a key to the line styles
    above them and notes in them (what a run keeps not, where ε makes the step huge); a first moment that
    oscillates from step to step is drawn as a band, and ▲/▼ mark where one leaves its panel. ``arrows`` adds, at
    each head, the step actually taken, −η·m and −η·∇f, all at one stated scale (ARROW_KINDS, _arrow_scale).
    ``grid`` is :func:`surface_grid`'s result, to reuse across redraws.

    ``focus``: the classroom layout, a large contour (sized by the chart component to the screen's height), its
    legend under it, the moment panels below it, and bold paths and heads. ``dashes``: each run's line pattern
    (:func:`run_dashes` of the runs' optimizers by default: repeats of an optimizer are dashed). Where runs'
    paths share one line, earlier runs are drawn wider, under later ones (:func:`path_widths`).

    There are no Plotly frames: the figure's ``layout.meta.optivizPlayback`` carries every step's position
    (and the arrows' vectors), compact (:mod:`optiviz._codec`), and the chart component draws any step from
    them: which traces are each run's head, trail and arrows, and which are the panels' cursors.
    """
    labels = list(labels) if labels is not None else default_labels(sim)
    colors = _colors(sim, colors)
    dashes = _dashes(sim, dashes)
    if len(labels) != len(sim.runs):
        raise ValueError(f"labels: expected {len(sim.runs)}, got {len(labels)}")
    surface = sim.surface
    scale = FOCUS_SCALE if focus else 1.0
    widths = path_widths(shared_lines([run.path for run in sim.runs], surface.domain), base=PATH_WIDTH * scale,
                         step=STACK_STEP * scale, most=MAX_STACKED_WIDTH * scale)
    grid = grid if grid is not None else surface_grid(surface)
    (x0, x1), (y0, y1) = surface.domain
    layout_template, refs = trajectory_grid(moments)
    layout = copy.deepcopy(layout_template)
    longest = max(run.steps_done for run in sim.runs)

    layout["images"] = [{
        "source": grid.png, "xref": "x", "yref": "y", "x": x0, "y": y1, "sizex": x1 - x0, "sizey": y1 - y0,
        "sizing": "stretch", "layer": "below",
    }]
    # Hover values and click-to-start anywhere on the contour: an invisible heatmap. One image however
    # fine its grid, where a grid of invisible markers would cost an SVG node per point on every redraw.
    data: list[dict] = [{
        "type": "heatmap", "x": _f32(grid.hx), "y": _f32(grid.hy), "z": _f32(grid.hf), "opacity": 0,
        "showscale": False, "hoverongaps": False, "name": "surface", "showlegend": False,
        "hovertemplate": "(%{x:.3g}, %{y:.3g})<br>f = %{z:.4g}<br><i>click to start here</i><extra></extra>",
    }]
    if surface.minima:
        mx, my = zip(*surface.minima, strict=True)
        data.append({
            "type": "scatter", "x": list(mx), "y": list(my), "mode": "markers", "name": "global minimum",
            "marker": {"symbol": "star", "size": 15, "color": "#facc15", "line": {"color": "#1e293b", "width": 1}},
            "hovertemplate": f"global minimum (%{{x:.4g}}, %{{y:.4g}})<br>f = {surface.min_value:.6g}<extra></extra>",
        })
    sx, sy = sim.scenario.start
    data.append({
        "type": "scatter", "x": [sx], "y": [sy], "mode": "markers", "name": "start", "showlegend": False,
        "cliponaxis": False,  # whole at a corner of the domain (Plotly still hides it when zoomed away)
        "marker": {"symbol": "circle-open", "size": 13, "color": "#0f172a", "line": {"width": 2}},
        "hovertemplate": "start (%{x:.4g}, %{y:.4g})<extra></extra>",
    })

    played: list[dict] = []
    positions: list[_codec.Column] = []
    vectors: list[_codec.Column] = []
    span = max(x1 - x0, y1 - y0)
    cap = ARROW_CAP * span
    arrow_scale = _arrow_scale(sim, cap)
    # Paths are drawn from every step's position (the playback's), which the chart component fills in, each on
    # a white halo, so that it stands out on any contour and where it crosses another. Every halo goes under
    # every line: a later run's halo would otherwise hide the wider line of an earlier run that it shares.
    halos = []
    for i, label in enumerate(labels):
        data.append({
            "type": "scatter", "mode": "lines", "name": f"{label} halo", "legendgroup": f"run{i}",
            "showlegend": False, "hoverinfo": "skip", "line": {"color": "white", "width": widths[i] + 3 * scale},
            "opacity": 0.9,
        })
        halos.append(len(data) - 1)
    companion_columns: list[_codec.Column] = []
    companion_labels: list[str] = []
    for i, run in enumerate(sim.runs):
        c, label, n = colors[i], labels[i], run.steps_done
        halo = halos[i]
        data.append({
            "type": "scatter", "mode": "lines", "name": label, "legendgroup": f"run{i}",
            "line": {"color": c, "width": widths[i], "dash": dashes[i]}, "opacity": PATH_OPACITY,
            "hovertemplate": f"{label}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
        })
        line = len(data) - 1
        if run.diverged_at is not None:
            data.append({
                "type": "scatter", "x": [float(run.path[-1, 0])], "y": [float(run.path[-1, 1])],
                "mode": "markers+text", "legendgroup": f"run{i}", "showlegend": False, "name": f"{label} stopped",
                "marker": {"symbol": "x-thin", "size": 16, "line": {"color": c, "width": 3}},
                "text": [f"{label}: stopped at step {run.diverged_at}"],
                "textposition": _text_position(run.path[-1], surface.domain),
                "textfont": {"color": c, "size": 11},
                "hovertemplate": f"{label} {run.stop_reason} at step {run.diverged_at}<extra></extra>",
            })
        companions = _add_companions(data, run, i, label, c, scale, companion_columns)
        companion_labels += [data[e["line"]]["name"] for e in companions]
        start = [float(run.path[0, 0])], [float(run.path[0, 1])]
        data.append({
            "type": "scatter", "mode": "lines", "line": {"color": c, "width": (PATH_WIDTH + 2) * scale},
            "legendgroup": f"run{i}",
            "showlegend": False, "hoverinfo": "skip", "name": f"{label} trail", "x": start[0], "y": start[1],
        })
        data.append({
            "type": "scatter", "mode": "markers", "legendgroup": f"run{i}", "showlegend": False,
            # (the chart draws heads that meet as rings, larger under smaller, so that each colour shows)
            "name": f"{label} now", "marker": {"size": FOCUS_HEAD_SIZE if focus else HEAD_SIZE, "color": c,
                                                 "line": {"color": "white", "width": 1.5 * scale}},
            "hovertemplate": f"{label}<br>step %{{customdata}}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
            "x": start[0], "y": start[1], "customdata": [0],
        })
        entry = {"n": n, "line": line, "halo": halo, "trail": len(data) - 2, "head": len(data) - 1, "arrows": None}
        if companions:
            entry["companions"] = companions
        positions += [_codec.column(run.path[:, 0]), _codec.column(run.path[:, 1])]
        if arrows:
            entry["arrows"] = []
            for kind, field in _arrow_vectors(run).items():
                line_style, symbol, size, opacity = _ARROW_STYLE[kind]
                data.append({
                    "type": "scatter", "mode": "lines+markers", "legendgroup": f"run{i}", "showlegend": False,
                    "name": f"{label} {kind}", "hoverinfo": "skip", "x": [None] * 3, "y": [None] * 3,
                    "line": {"color": c, **line_style}, "opacity": opacity,
                    # at the arrow's end a head; a second one before it where the arrow is cut (the chart sets
                    # the sizes at each step)
                    "marker": {"symbol": ["circle", symbol, symbol], "size": [0, 0, size], "angleref": "previous",
                               "color": c, "line": {"color": c, "width": 1.5}},
                })
                entry["arrows"].append(len(data) - 1)
                vectors += _polar_columns(field, cap / arrow_scale)
        played.append(entry)

    cursors: list[int] = []
    if moments:
        cursors = _add_moment_panels(data, layout, refs, sim, labels, colors, longest)

    # Equal scales, so angles are true: gradients meet the contour lines at right angles, a bowl rotated
    # by 30 degrees looks rotated by 30 degrees.
    layout["xaxis"].update(range=[x0, x1], autorange=False, title={"text": "x"}, showgrid=False, zeroline=False,
                           constrain="domain")
    layout["yaxis"].update(range=[y0, y1], autorange=False, title={"text": "y"}, showgrid=False, zeroline=False,
                           scaleanchor="x", scaleratio=1, constrain="domain",
                           constraintoward="top")  # the square at the top of its column, by the play controls
    layout.update(
        # the legend under the plots: at the top, Plotly's toolbar (shown on hover, always on touch) covered it
        height=height, margin={"l": 50, "r": 20, "t": 30, "b": 104}, font=_FONT,
        hovermode="closest", clickmode="event", dragmode="zoom",
        # Plotly.react keeps the user's zoom and legend choices while this stays the same: the surface.
        uirevision=f"{surface.name}:{sorted(surface.parameters.items())}",
        # each entry's line thin and long enough to show its pattern (dashed repeats), however wide the path is
        legend={"orientation": "h", "yanchor": "bottom", "y": 0, "yref": "container", "xanchor": "left", "x": 0,
                "itemsizing": "constant", "itemwidth": 40},
    )
    playback = {
        "n": longest, "trail": trail_steps(longest), "runs": played, "cursors": cursors,
        "positions": _codec.encode(positions), "span": 0.08 * span,
    }
    if companion_columns:
        playback["companions"] = _codec.encode(companion_columns)
    if arrows:
        playback["vectors"] = _codec.encode(vectors)
        playback["arrows"] = {"scale": arrow_scale, "cap": cap, "box": [x0, x1, y0, y1]}
        _add_arrow_key(layout, sim, arrow_scale, cap, surface.domain)
    # The legend's entries: the minimum's star, and every run.
    entries = (["global minimum"] if surface.minima else []) + labels + companion_labels
    narrow, narrow_square = narrow_stack(moments, legend_lines(entries, 280))
    narrow = _key_lifted(narrow, layout)
    below = FOCUS_NARROW_BELOW if focus else NARROW_BELOW
    layout["meta"] = {"optivizPlayback": playback, **narrow_meta(narrow, narrow_square, below)}
    if focus:
        patch, square = focus_stack(moments, legend_lines(entries, 480))
        patch = _key_lifted(patch, layout)
        layout = _merged(layout, patch)
        layout["meta"]["optivizSquare"] = dict(square)
    return SpecFigure.from_arrays({"data": data, "layout": layout})


def _add_companions(data: list, run: Run, i: int, label: str, color: str, scale: float,
                    columns: list[_codec.Column]) -> list[dict]:
    """The thin lines and heads of the points ``run``'s optimizer keeps beside its path (``Optimizer.companions``),
    over the run's line and under its trail and head (and after it in the legend); their every step's position
    goes into ``columns`` for the playback, which fills in the lines and moves the heads. Returns the playback's
    entries: each line's and head's trace and its first column."""
    entries = []
    for (name, points), (dash, symbol) in zip(run.spec.spec.companions(run), COMPANION_STYLES, strict=False):
        full = f"{label}: {name}"
        data.append({
            "type": "scatter", "mode": "lines", "name": full, "legendgroup": f"run{i}",
            "line": {"color": color, "width": COMPANION_WIDTH * scale, "dash": dash}, "opacity": PATH_OPACITY,
            "hovertemplate": f"{full}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
        })
        start = [float(points[0, 0])], [float(points[0, 1])]
        data.append({
            "type": "scatter", "mode": "markers", "legendgroup": f"run{i}", "showlegend": False,
            "name": f"{full} now", "x": start[0], "y": start[1], "customdata": [0],
            "marker": {"symbol": symbol, "size": COMPANION_HEAD_SIZE * scale, "color": color,
                       "line": {"color": "white", "width": 1.0 * scale}},
            "hovertemplate": f"{full}<br>step %{{customdata}}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
        })
        entries.append({"line": len(data) - 2, "head": len(data) - 1, "col": len(columns)})
        columns += [_codec.column(points[:, 0]), _codec.column(points[:, 1])]
    return entries


def _key_lifted(patch: dict, layout: dict) -> dict:
    """A stack's ``patch`` with the moment key lifted above the panel titles, which the stacks lift clear of the
    panels' top tick labels (the patch's annotations are the six titles; the key comes after them)."""
    titles = patch.get("annotations", [])
    rest = layout.get("annotations", [])[len(titles):]
    if not titles or not any(a.get("name") == "moment key" for a in rest):
        return patch
    lifted = [{"yshift": STACK_KEY_SHIFT} if a.get("name") == "moment key" else {} for a in rest]
    return {**patch, "annotations": [*titles, *lifted]}


def _merged(base, patch):
    """``patch`` merged into ``base`` as the chart component merges a narrow-screen patch: objects key by key,
    lists item by item."""
    if isinstance(patch, list) and isinstance(base, list):
        return [_merged(item, patch[k]) if k < len(patch) else item for k, item in enumerate(base)]
    if isinstance(patch, dict) and isinstance(base, dict):
        return {**base, **{k: _merged(base.get(k), v) for k, v in patch.items()}}
    return copy.deepcopy(patch)


def _add_arrow_key(layout: dict, sim: Simulation, scale: float, cap: float, domain) -> None:
    """What the arrows are and their one scale, in the contour's corner that the paths leave most free."""
    fields = [_arrow_vectors(run) for run in sim.runs]
    (x0, x1), (y0, y1) = domain
    cut = False  # whether any arrow is drawn cut: longer than ``cap``, or ending off the plot
    for run, field in zip(sim.runs, fields, strict=True):
        start = run.path[:-1]
        for vectors in field.values():
            if vectors is None or not vectors.size:
                continue
            with np.errstate(invalid="ignore", over="ignore"):
                end = start + scale * vectors
                inside = (start[:, 0] >= x0) & (start[:, 0] <= x1) & (start[:, 1] >= y0) & (start[:, 1] <= y1)
                off = (end[:, 0] < x0) | (end[:, 0] > x1) | (end[:, 1] < y0) | (end[:, 1] > y1)
                cut = cut or bool(np.any(scale * np.hypot(vectors[:, 0], vectors[:, 1]) > cap)
                                  or np.any(inside & off))
    lines = [f"arrows ×{fmt_value(scale)}, one scale:" if scale != 1 else "arrows at true length:",
             "—— step x<sub>t+1</sub> − x<sub>t</sub>"]
    if any(field["−momentum"] is not None for field in fields):
        lines.append("– – −η·m (momentum)")
    lines.append("····· −η·∇f (gradient)")
    if cut:
        lines.append("double head: cut short")
    points = [((run.path[:, 0] - x0) / (x1 - x0), (run.path[:, 1] - y0) / (y1 - y0)) for run in sim.runs]
    x, y, xanchor, yanchor = _quiet_corner(points, (0.35, 0.22))
    layout.setdefault("annotations", []).append({
        "text": "<br>".join(lines), "showarrow": False, "align": "left", "name": "arrow key",
        "xref": "x domain", "yref": "y domain", "x": x, "y": y, "xanchor": xanchor, "yanchor": yanchor,
        "font": {"size": 10.5, "color": "#1e293b"}, "bgcolor": "rgba(255, 255, 255, 0.85)", "borderpad": 3,
    })


def _add_moment_panels(data, layout, refs, sim: Simulation, labels, colors, longest: int) -> list[int]:
    """The six moment panels: every run's series (an oscillating first moment as a band with its mean),
    markers where a first moment leaves its panel, notes where a run keeps no such state or ε makes the
    effective step huge, and the line-style key above them. Returns the indices of their step cursors."""
    count = 2 * sum(len(series) for run in sim.runs if run.steps_done for series in moment_series(run))
    limit = max(MAX_SERIES_POINTS // 4, min(MAX_SERIES_POINTS, SERIES_POINTS_BUDGET // max(count, 1)))
    # First every panel's series (reduced as drawn), for its range; then the traces.
    panels: dict[tuple[int, int], list[tuple[int, str, str, np.ndarray, np.ndarray | None, np.ndarray]]] = {}
    for i, run in enumerate(sim.runs):
        if run.steps_done == 0:
            continue
        for r, series in enumerate(moment_series(run)):
            for name, arr, dash in series:
                for j in range(2):
                    values = arr[:, j]
                    if r > 0:  # log axes: non-positive values are not drawn
                        values = np.where(values > 0, values, np.nan)
                    kept, reduced = _envelope(values, limit)
                    panels.setdefault((r, j), []).append((i, name, dash, values, kept, reduced))
    styles: set[str] = set()
    bands: set[int] = set()
    cursors = []
    for r in range(3):
        for j in range(2):
            ref = refs[r][j]
            xa = layout["xaxis" + ref["xaxis"][1:]]
            ya = layout["yaxis" + ref["yaxis"][1:]]
            drawn = panels.get((r, j), [])
            chunks = [reduced[np.isfinite(reduced)] for *_, reduced in drawn]
            y_lo, y_hi = _fix_range(ya, *_panel_range(chunks, robust=r == 0), log=r > 0)
            xa.update(range=[0, max(1, longest)], autorange=False, showticklabels=r == 2)
            if r == 2:
                xa["title"] = {"text": "step"}
            for i, name, dash, values, kept, reduced in drawn:
                styles.add(dash)
                c, label = colors[i], labels[i]
                line = {
                    "type": "scatter", **_series_x(kept, 1), "mode": "lines",
                    "y": _codec.pack(reduced, scale="asinh" if r == 0 else "log"),
                    "legendgroup": f"run{i}", "showlegend": False, "name": f"{label} {name}",
                    "line": {"color": c, "width": 1.6 if dash == "solid" else 1.2, "dash": dash},
                    "hovertemplate": f"{label}<br>{name} ({'xy'[j]})<br>step %{{x}}: %{{y:.4g}}<extra></extra>",
                    **ref,
                }
                if r == 0 and _oscillates(values, y_hi - y_lo):
                    bucket = _add_band(data, values, line, c)
                    bands.add(bucket)
                data.append(line)
                if r == 0:
                    _add_clip_marks(data, line, kept, reduced, y_lo, y_hi, c)
            data.append({
                "type": "scatter", "mode": "lines", "line": {"color": "#0f172a", "width": 1}, "opacity": 0.5,
                "showlegend": False, "hoverinfo": "skip", "name": "current step", "x": [0, 0], "y": [y_lo, y_hi],
                **ref,
            })
            cursors.append(len(data) - 1)
            _add_panel_note(layout, ref, _panel_note(sim, r, j, labels, colors, drawn), drawn, ya["range"],
                            ya.get("type") == "log", max(1, longest))
    _add_moment_key(layout, refs, styles, sim, bands)
    return cursors


#: A first-moment series whose direction flips on more than this share of its steps (each flip larger than
#: OSCILLATION_SIZE of its panel's height) is drawn as a band, its range over a few steps, with a line for its
#: mean: drawn as a line, an oscillation from step to step fills its panel and hides every other line there.
OSCILLATING_SHARE = 0.3
OSCILLATION_SIZE = 0.02
#: About this many buckets across a band.
BAND_BUCKETS = 100


def _oscillates(values: np.ndarray, height: float) -> bool:
    """Whether ``values`` flips direction (up, down, up...) on more than OSCILLATING_SHARE of its steps by
    more than OSCILLATION_SIZE of ``height``."""
    d = np.diff(values)
    if d.size < 2:
        return False
    with np.errstate(invalid="ignore"):
        flips = (d[1:] * d[:-1] < 0) & (np.minimum(np.abs(d[1:]), np.abs(d[:-1])) > OSCILLATION_SIZE * height)
    return int(np.count_nonzero(flips)) > OSCILLATING_SHARE * values.size


def _bucket_stats(values: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``values`` (step 1 first) in buckets of k steps: k, each bucket's middle step, smallest, largest and
    mean value (buckets with nothing finite left out)."""
    n = values.size
    k = max(1, math.ceil(n / BAND_BUCKETS))
    m = -(-n // k)
    padded = np.full(m * k, np.nan)
    padded[:n] = values
    buckets = padded.reshape(m, k)
    finite = np.isfinite(buckets).any(axis=1)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a bucket of NaN, left out below
        lo, hi, mean = np.nanmin(buckets, axis=1), np.nanmax(buckets, axis=1), np.nanmean(buckets, axis=1)
    first = np.arange(m) * k + 1
    middle = np.minimum(first + (k - 1) / 2, n)
    return k, middle[finite], lo[finite], hi[finite], mean[finite]


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[k:k + 2], 16) for k in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _add_band(data: list, values: np.ndarray, line: dict, color: str) -> int:
    """Draw the oscillating series ``line`` as a band (its range in each bucket of k steps, translucent) with a
    line for its mean there, in its own dash; the series itself stays, unseen, for exact values on hover.
    Returns k."""
    k, x, lo, hi, mean = _bucket_stats(values)
    ref = {key: line[key] for key in ("xaxis", "yaxis")}
    name = line["name"]
    data.append({
        "type": "scatter", "mode": "lines", "x": _f32(np.concatenate([x, x[::-1]])),
        "y": _f32(np.concatenate([hi, lo[::-1]])), "fill": "toself", "fillcolor": _rgba(color, 0.2),
        "line": {"width": 0, "color": color}, "hoverinfo": "skip", "legendgroup": line["legendgroup"],
        "showlegend": False, "name": f"{name} range", **ref,
    })
    data.append({
        "type": "scatter", "mode": "lines", "x": _f32(x), "y": _f32(mean), "legendgroup": line["legendgroup"],
        "showlegend": False, "name": f"{name} mean", "line": {"color": color, "width": 1.3,
                                                             "dash": line["line"]["dash"]},
        "hovertemplate": f"{name}<br>mean of {k} steps around %{{x:.0f}}: %{{y:.4g}}<extra></extra>", **ref,
    })
    line["line"] = {**line["line"], "color": "rgba(0, 0, 0, 0)"}
    line["hoverlabel"] = {"bgcolor": color}
    return k


def _add_clip_marks(data: list, line: dict, kept, values: np.ndarray, y_lo: float, y_hi: float, color: str):
    """A triangle at the panel's edge at each step where the series ``line`` (``values`` at ``kept``) is beyond
    it: ▲ above the top, ▼ below the bottom; hovering one gives the value. Drawn as text, and there even when
    empty, so that a slider that sends a value past the edge changes data, not the figure's structure (the chart
    then updates in place)."""
    steps = (np.arange(values.size) if kept is None else kept) + 1
    with np.errstate(invalid="ignore"):
        above, below = values > y_hi, values < y_lo
    out = above | below
    inset = 0.04 * (y_hi - y_lo)
    data.append({
        "type": "scatter", "mode": "text", "x": steps[out].tolist(),
        "y": np.where(above[out], y_hi - inset, y_lo + inset).tolist(),
        "text": np.where(above[out], "▲", "▼").tolist(), "textfont": {"color": color, "size": 9},
        "customdata": [float(f"{v:.6g}") for v in values[out]], "legendgroup": line["legendgroup"],
        "showlegend": False,
        "name": f"{line['name']} beyond the edge",
        "hovertemplate": (line["hovertemplate"].split("<br>step")[0]
                          + "<br>step %{x}: %{customdata:.4g}, beyond the panel's edge<extra></extra>"),
        "xaxis": line["xaxis"], "yaxis": line["yaxis"],
    })


#: Characters in a line of a panel's note: a panel is ~130 px wide at its narrowest.
NOTE_CHARS = 22


def _note_lines(text: str, names: dict[str, str]) -> list[str]:
    """``text`` in lines of at most NOTE_CHARS, each of ``names`` (name: colour) in it in its colour. A name is
    never broken across lines."""
    lines = textwrap.wrap(text, NOTE_CHARS, break_long_words=False, break_on_hyphens=False)
    lines = [line.replace("\u00a0", " ") for line in lines]
    if not names:
        return lines
    keys = sorted((name.replace("\u00a0", " ") for name in names), key=len, reverse=True)
    colour = {name.replace("\u00a0", " "): c for name, c in names.items()}
    pattern = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, keys)) + r")(?!\w)")
    return [pattern.sub(lambda m: f'<span style="color:{colour[m.group(1)]}">{m.group(1)}</span>', line)
            for line in lines]


def _run_names(sim: Simulation, runs: Sequence[int], labels, colors) -> dict[str, str]:
    """What a note calls ``runs`` (name: colour, in order): an optimizer's name where every run of it is among
    them ("SGD"), else each run's label ("SGD (lr 0.15)", where the other SGD keeps a momentum). Spaces in a
    name are unbreakable."""
    titles = [run.spec.spec.title for run in sim.runs]
    out: dict[str, str] = {}
    for i in runs:
        every = all(k in runs for k, title in enumerate(titles) if title == titles[i])
        out.setdefault((titles[i] if every else labels[i]).replace(" ", "\u00a0"), colors[i])
    return out


def _listed(names: Sequence[str]) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _panel_note(sim: Simulation, r: int, j: int, labels, colors, drawn) -> list[str]:
    """Lines of a note for panel row ``r`` (first moment, second moment, effective step), coordinate ``j``: which
    runs keep no such state (the first moment's in the x panel only: it is the same in both), which have nothing
    to draw on the log axis, where ε makes η_t huge."""
    ran = [i for i, run in enumerate(sim.runs) if run.steps_done]
    lines: list[str] = []
    if r == 0:
        plain = [i for i in ran if moment_series(sim.runs[i])[0][0][0].startswith("g_t")]
        if plain and j == 0:
            names = _run_names(sim, plain, labels, colors)
            text = (f"{_listed(names)} keeps no m_t: its dotted line is g_t" if len(names) == 1 else
                    f"{_listed(names)} keep no m_t: their dotted lines are g_t")
            lines += _note_lines(text, names)
    elif r == 1:
        none = [i for i in ran if not moment_series(sim.runs[i])[1]]
        if none:
            names = _run_names(sim, none, labels, colors)
            lines += _note_lines(f"{_listed(names)} {'keeps' if len(names) == 1 else 'keep'} no v_t", names)
        zero = sorted({i for i, _, _, values, _, _ in drawn if not np.isfinite(values).any()})
        if zero:
            names = _run_names(sim, zero, labels, colors)
            lines += _note_lines(f"v_t = 0 for {_listed(names)}: a log axis has no 0", names)
    else:
        found: dict[str, list[tuple[int, str]]] = {}
        for i in ran:
            if (note := _huge_step_note(sim.runs[i], j)) is not None:
                found.setdefault(note[0], []).append((i, note[1]))
        for when, runs in found.items():
            # a number for each run: each named on its own (its label where another run has its optimizer)
            names = {name: colors[i] for i, _ in runs for name in _run_names(sim, [i], labels, colors)}
            caps = ", ".join(f"{name} {cap}" for name, (_, cap) in zip(names, runs, strict=True))
            lines += _note_lines(f"{when}: {caps}", names)
    return lines


def _huge_step_note(run: Run, j: int) -> tuple[str, str] | None:
    """Where ε makes the run's effective step size in coordinate ``j`` huge (over diagnosis.HUGE_STEP_FACTOR
    times η): ("v = 0 at every step, so η_t ≈ η/ε", "5·10⁶"), or None."""
    eps = run.spec.hyper.get("eps")
    lr = run.spec.lr
    if not eps or not lr > 0:
        return None
    with np.errstate(invalid="ignore"):
        huge = run.eps_dominated[:, j] & (run.effective_lr[:, j] > HUGE_STEP_FACTOR * lr)
    steps = np.flatnonzero(huge) + 1
    if steps.size == 0:
        return None
    n = run.steps_done
    if steps.size == n:
        when = "at every step"
    elif steps[-1] == steps.size:
        when = "at step 1" if steps.size == 1 else f"in steps 1–{steps.size:,}"
    else:
        when = f"at {steps.size:,} of {n:,} steps"
    v = run.divisor_moment()
    exact = v is not None and bool(np.all(v[steps - 1, j] == 0))
    if run.spec.hyper.get("eps_inside_sqrt", False):
        return f"v {'=' if exact else '≈'} 0 {when}, so η_t ≈ η/√ε", fmt_value(lr / math.sqrt(eps))
    return f"v {'=' if exact else '≈'} 0 {when}, so η_t ≈ η/ε", fmt_value(lr / eps)


def _quiet_corner(points: list[tuple[np.ndarray, np.ndarray]], box: tuple[float, float]
                  ) -> tuple[float, float, str, str]:
    """Where in a panel (u, v in 0..1) a box of ``box`` (width, height) covers the fewest of ``points`` (each a
    pair of u and v arrays): a corner, or halfway up a side; (x, y, xanchor, yanchor). The right side goes first
    where it is a tie (the first steps, at the left, are the busy ones), then the top."""
    u = np.concatenate([p[0] for p in points]) if points else np.empty(0)
    v = np.concatenate([p[1] for p in points]) if points else np.empty(0)
    w, h = box
    best = None
    for x, xanchor in ((1.0, "right"), (0.0, "left")):
        across = (u >= 1 - w) if x == 1.0 else (u <= w)
        for y, yanchor in ((1.0, "top"), (0.0, "bottom"), (0.5, "middle")):
            up = (v >= 1 - h) if y == 1.0 else (v <= h) if y == 0.0 else (np.abs(v - 0.5) <= h / 2)
            covered = int(np.count_nonzero(across & up))
            if best is None or covered < best[0]:
                best = (covered, (x, y, xanchor, yanchor))
    return best[1]


def _note_box(lines: list[str]) -> tuple[float, float]:
    """The share of a panel's width and height that a note of ``lines`` covers (a panel is ~140 px square)."""
    visible = max(len(re.sub(r"<[^>]+>", "", line)) for line in lines)
    return min(1.0, 1.05 * visible / NOTE_CHARS), min(1.0, 0.09 * len(lines) + 0.04)


def _add_panel_note(layout: dict, ref: dict, lines: list[str], drawn, axis_range, log: bool, last_step: int) -> None:
    """The note's ``lines`` inside the panel at ``ref`` (its y axis's range ``axis_range``, in log10 if ``log``),
    in its quietest corner."""
    if not lines:
        return
    lo, hi = axis_range
    points = []
    for _, _, _, _, kept, reduced in drawn:
        steps = (np.arange(reduced.size) if kept is None else kept) + 1
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.log10(reduced) if log else reduced
        ok = np.isfinite(y)
        points.append((steps[ok] / last_step, (y[ok] - lo) / (hi - lo)))
    x, y, xanchor, yanchor = _quiet_corner(points, _note_box(lines))
    layout.setdefault("annotations", []).append({
        "text": "<br>".join(lines), "showarrow": False, "align": xanchor,
        "xref": f"{ref['xaxis']} domain", "yref": f"{ref['yaxis']} domain", "x": x, "y": y,
        "xanchor": xanchor, "yanchor": yanchor, "font": {"size": 10, "color": "#334155"},
        "bgcolor": "rgba(255, 255, 255, 0.8)", "borderpad": 2, "name": "panel note",
    })


#: How the key names a dotted or dashed series, by the start of its label; any other by its label's first word.
_KEY_NAMES = (("m̂", "m̂_t, v̂_t (bias-corrected)"), ("v̂", "m̂_t, v̂_t (bias-corrected)"), ("g_t", "g_t where no m_t"),
              ("max_exp", "AMSGrad's max"), ("grad_avg", "grad_avg (centered)"))


def _key_names(labels: list[str], most: int = 3) -> list[str]:
    """The key's names of these series' labels, each once, in order; at most ``most`` (then "…")."""
    names: list[str] = []
    for label in labels:
        name = next((text for start, text in _KEY_NAMES if label.startswith(start)), label.split(" (")[0])
        if name not in names:
            names.append(name)
    return names[:most] + ["…"] * (len(names) > most)


def _add_moment_key(layout: dict, refs, styles: set[str], sim: Simulation, bands: set[int]) -> None:
    """Which line style is which, right above the panels (only the styles drawn)."""
    if not styles:
        return
    drawn = [(name, dash) for run in sim.runs if run.steps_done for series in moment_series(run)[:2]
             for name, _, dash in series]
    lines = ["—— state torch.optim keeps; η_t"]
    if "dot" in styles and (dotted := _key_names([n for n, d in drawn if d == "dot"])):
        lines.append("····· " + "; ".join(dotted))
    if "dash" in styles and (dashed := _key_names([n for n, d in drawn if d == "dash"])):
        lines.append("– – – " + "; ".join(dashed))
    if bands:
        k = max(bands)
        lines.append(f"▒ oscillating: its range and mean per {k} steps" if k > 1 else "▒ oscillating: its range")
    if len(lines) > 3:  # three fit above the panels: the dashed one goes beside a shorter solid one
        lines[0:1] = ["—— kept state; η_t   " + lines.pop(2)]
    ref = refs[0][0]
    layout.setdefault("annotations", []).append({
        "text": "<br>".join(lines), "showarrow": False, "align": "left", "name": "moment key",
        "xref": f"{ref['xaxis']} domain", "yref": f"{ref['yaxis']} domain", "x": 0, "y": 1, "xanchor": "left",
        "yanchor": "bottom", "yshift": 17, "font": {"size": 10.5, "color": "#334155"},
    })


def _nice_step(span: float) -> float:
    """The smallest of 1, 2, 2.5 and 5 times a power of ten that is at least ``span``."""
    power = 10.0 ** math.floor(math.log10(span))
    return next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= span)


def _fix_range(axis: dict, lo: float, hi: float, *, log: bool) -> tuple[float, float]:
    """Give ``axis`` a fixed range that holds [lo, hi] with a small margin (log scale if ``log`` and lo > 0),
    so that redraws never autorange (the app's chart updates data in place and keeps ranges as they are).

    The ends are rounded outwards (to quarter decades on log axes, to a tenth of a round span on linear
    ones): a slider that changes the data a little leaves the axes alone, which is calmer to watch and spares
    the chart relaying them out. Returns the range in data units."""
    if log and lo > 0:
        a, b = math.log10(lo), math.log10(hi)
        pad = 0.03 * (b - a) + 0.02
        a, b = math.floor((a - pad) * 4) / 4, math.ceil((b + pad) * 4) / 4
        axis.update(type="log", range=[a, b], autorange=False, exponentformat="power")
        return 10.0**a, 10.0**b
    if lo == hi:
        lo, hi = lo - 1.0, hi + 1.0
    pad = 0.02 * (hi - lo)
    step = _nice_step((hi - lo + 2 * pad) / 10)
    y_lo, y_hi = math.floor((lo - pad) / step) * step, math.ceil((hi + pad) / step) * step
    axis.update(range=[y_lo, y_hi], autorange=False)
    return y_lo, y_hi


def _panel_range(chunks: list[np.ndarray], robust: bool) -> tuple[float, float]:
    """The y-range of a panel: all values, or (``robust``) the 1st to 99th percentile, so that the first
    steps' transients (a huge first gradient, say) do not flatten everything after them."""
    values = np.concatenate(chunks) if chunks else np.empty(0)
    if values.size == 0:
        return (0.0, 1.0)
    if robust:
        lo, hi = np.percentile(values, [1, 99])
        return float(min(lo, 0.0)), float(max(hi, 0.0))
    return float(values.min()), float(values.max())


def create_loss_figure(sim: Simulation, *, labels: Sequence[str] | None = None,
                       colors: Sequence[str] | None = None, height: int = 330,
                       dashes: Sequence[str] | None = None) -> SpecFigure:
    """Loss against step (log scale of f − f* where the minimum is known) and distance to the nearest minimum.
    ``dashes``: each run's line pattern, as in :func:`create_trajectory_figure`."""
    labels = list(labels) if labels is not None else default_labels(sim)
    colors = _colors(sim, colors)
    dashes = _dashes(sim, dashes)
    surface = sim.surface
    has_min = surface.min_value is not None
    layout = copy.deepcopy(loss_grid(has_min))
    data = []
    seen: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    exact: list[tuple[int, str, int]] = []  # (run, axis suffix, first step) where the value is 0 exactly
    for i, run in enumerate(sim.runs):
        loss = run.loss
        if has_min:
            gap = loss - surface.min_value
            loss = np.where(gap > 0, gap, np.nan)
            exact += [(i, "", int(s)) for s in np.flatnonzero(gap <= 0)[:1]]
        kept, loss = _envelope(loss, MAX_SERIES_POINTS + 1)
        seen[0].append(loss[np.isfinite(loss)])
        common = {"type": "scatter", "mode": "lines", "name": labels[i], "legendgroup": f"run{i}",
                  "line": {"color": colors[i], "width": 1.8, "dash": dashes[i]},
                  "hovertemplate": f"{labels[i]}<br>step %{{x}}: %{{y:.4g}}<extra></extra>"}
        data.append({**common, **_series_x(kept, 0), "y": _codec.pack(loss, scale="log" if has_min else "asinh")})
        if has_min:
            distance = run.distance_to(surface.minima)
            exact += [(i, "2", int(s)) for s in np.flatnonzero(distance == 0)[:1]]
            kept, dist = _envelope(distance, MAX_SERIES_POINTS + 1)
            seen[1].append(dist[np.isfinite(dist) & (dist > 0)])
            data.append({**common, **_series_x(kept, 0), "y": _codec.pack(dist, scale="log"), "showlegend": False,
                         "xaxis": "x2",
                         "yaxis": "y2"})
    ranges = _step_axes(layout, sim, seen, log=(has_min, has_min))
    # A run that lands exactly on the minimum (f − f* or the distance is 0 in float64) has nothing to draw
    # there on a log scale, and its line just stops: a marker on the panel's floor says why.
    what = {"": "f(x_t) − f* ≤ 0 in float64", "2": "exactly on the minimum"}
    data += [{
        "type": "scatter", "mode": "markers", "x": [step], "y": [ranges[axis][0]], "xaxis": f"x{axis}",
        "yaxis": f"y{axis}", "name": f"{labels[i]} exact", "legendgroup": f"run{i}", "showlegend": False,
        "cliponaxis": False, "marker": {"symbol": "triangle-down", "size": 10, "color": colors[i],
                                        "line": {"color": "white", "width": 1}},
        "hovertemplate": f"{labels[i]}<br>step {step}: {what[axis]}, the first time<br>"
                         "(a log scale has no place for 0)<extra></extra>",
    } for i, axis, step in exact]
    cursors = _step_cursors(data, ranges)
    layout.update(height=height, margin={"l": 50, "r": 20, "t": 40, "b": 40}, font=_FONT,
                  legend={"orientation": "h", "y": -0.3})
    layout["meta"] = {"optivizCursors": cursors, **(narrow_meta(narrow_loss_patch()) if has_min else {})}
    return SpecFigure.from_arrays({"data": data, "layout": layout})


def _step_axes(layout: dict, sim: Simulation, seen, log: tuple[bool, bool]) -> dict[str, tuple[float, float]]:
    """The axes of a chart of panels over the steps (the loss chart, the schedule chart): every x axis from step
    0 to the last, titled "step"; each y axis fixed to the values its panel draws (``seen[0]`` the first panel's,
    ``seen[1]`` the second's; ``log`` each one's scale). Returns each panel's (bottom, top) in data units, by
    axis suffix ("", "2")."""
    last_step = max(1, max(run.steps_done for run in sim.runs))
    ranges = {}
    for key in [k for k in layout if k.startswith(("xaxis", "yaxis"))]:
        if key.startswith("xaxis"):
            layout[key].update(title={"text": "step"}, range=[0, last_step], autorange=False)
        else:
            first = key == "yaxis"
            ranges[key[5:]] = _fix_range(layout[key], *_panel_range(seen[0 if first else 1], robust=False),
                                         log=log[0 if first else 1])
    return ranges


def _step_cursors(data: list, ranges: dict[str, tuple[float, float]]) -> list[int]:
    """The step being shown in the trajectory chart, as a line across each panel (``ranges``: ``_step_axes``'s),
    which the chart component moves; returns their trace indices."""
    cursors = []
    for axis, (bottom, top) in ranges.items():
        data.append({
            "type": "scatter", "mode": "lines", "line": {"color": "#0f172a", "width": 1}, "opacity": 0.5,
            "showlegend": False, "hoverinfo": "skip", "name": "current step", "x": [0, 0],
            "y": [bottom, top], "xaxis": f"x{axis}", "yaxis": f"y{axis}",
        })
        cursors.append(len(data) - 1)
    return cursors


def create_schedule_figure(sim: Simulation, *, labels: Sequence[str] | None = None,
                           colors: Sequence[str] | None = None, height: int = 300,
                           dashes: Sequence[str] | None = None) -> SpecFigure | None:
    """The learning rate of every step (log scale), and beside it the momentum or β₁ of every step where a
    schedule cycles it (OneCycleLR, CyclicLR), with the step cursor the chart component moves. Every run is
    drawn (a run without a schedule as its flat lr), so the scheduled ones read against it; None where no run
    has a schedule."""
    if all(run.spec.schedule is None for run in sim.runs):
        return None
    labels = list(labels) if labels is not None else default_labels(sim)
    colors = _colors(sim, colors)
    dashes = _dashes(sim, dashes)
    cycled = any(run.momentum is not None for run in sim.runs)
    layout = copy.deepcopy(schedule_grid(cycled))
    data: list[dict] = []
    seen: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    for i, run in enumerate(sim.runs):
        if run.steps_done == 0:
            continue
        common = {"type": "scatter", "mode": "lines", "name": labels[i], "legendgroup": f"run{i}",
                  "line": {"color": colors[i], "width": 1.8, "dash": dashes[i]}}
        lr = np.where(run.lr > 0, run.lr, np.nan)
        kept, reduced = _envelope(lr, MAX_SERIES_POINTS + 1)
        seen[0].append(reduced[np.isfinite(reduced)])
        what = "η_t" if run.spec.schedule is not None else "η (no schedule)"
        data.append({**common, **_series_x(kept, 1), "y": _codec.pack(reduced, scale="log"),
                     "hovertemplate": f"{labels[i]}<br>{what} at step %{{x}}: %{{y:.4g}}<extra></extra>"})
        if run.momentum is not None:
            kept, reduced = _envelope(run.momentum, MAX_SERIES_POINTS + 1)
            seen[1].append(reduced[np.isfinite(reduced)])
            name = "β₁" if "betas" in run.spec.hyper else "momentum"
            data.append({**common, **_series_x(kept, 1), "y": _codec.pack(reduced), "showlegend": False,
                         "xaxis": "x2", "yaxis": "y2",
                         "hovertemplate": f"{labels[i]}<br>{name} at step %{{x}}: %{{y:.4g}}<extra></extra>"})
    cursors = _step_cursors(data, _step_axes(layout, sim, seen, log=(True, False)))
    layout.update(height=height, margin={"l": 50, "r": 20, "t": 40, "b": 40}, font=_FONT,
                  legend={"orientation": "h", "y": -0.35})
    layout["meta"] = {"optivizCursors": cursors, "optivizNoPreview": True,
                      **(narrow_meta(narrow_schedule_patch()) if cycled else {})}
    return SpecFigure.from_arrays({"data": data, "layout": layout})


#: How far above the surface the 3D view draws the paths: a fraction of the surface's height range (on
#: top of where the drawn surface is under each point; a path exactly on it would sink into it).
LIFT_3D = 0.025
_LN10 = math.log(10.0)
#: The 3D view's camera at first: from the front (y towards the back, x to the right), a little from the right
#: and above, so that a valley running along x or y shows its floor.
CAMERA_3D = {"eye": {"x": 0.75, "y": -1.55, "z": 0.95}, "center": {"x": 0, "y": 0, "z": -0.12}}


def drawn_height(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, px, py) -> np.ndarray:
    """The height of the surface as drawn (``z[j, i]`` at ``(xs[i], ys[j])``, a grid of triangles) under the
    points ``(px, py)``, NaN outside the grid. WebGL draws each cell as two triangles along one diagonal or
    the other; this is the higher of the two (and of the bilinear patch), so that a point above it is above
    the surface whichever diagonal is drawn."""
    px, py = np.asarray(px, dtype=np.float64), np.asarray(py, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    inside = (px >= xs[0]) & (px <= xs[-1]) & (py >= ys[0]) & (py <= ys[-1])
    qx, qy = np.where(inside, px, xs[0]), np.where(inside, py, ys[0])
    i = np.clip(np.searchsorted(xs, qx, side="right") - 1, 0, len(xs) - 2)
    j = np.clip(np.searchsorted(ys, qy, side="right") - 1, 0, len(ys) - 2)
    u = (qx - xs[i]) / (xs[i + 1] - xs[i])
    v = (qy - ys[j]) / (ys[j + 1] - ys[j])
    z00, z10, z01, z11 = z[j, i], z[j, i + 1], z[j + 1, i], z[j + 1, i + 1]
    with np.errstate(invalid="ignore"):  # a typed function's undefined cells (NaN, ±inf) stay undefined
        bilinear = z00 * (1 - u) * (1 - v) + z10 * u * (1 - v) + z01 * (1 - u) * v + z11 * u * v
        main = np.where(u >= v, z00 + u * (z10 - z00) + v * (z11 - z10), z00 + v * (z01 - z00) + u * (z11 - z01))
        anti = np.where(u + v <= 1, z00 + u * (z10 - z00) + v * (z01 - z00),
                        z11 + (1 - u) * (z01 - z11) + (1 - v) * (z10 - z11))
        return np.where(inside, np.maximum(np.maximum(bilinear, main), anti), np.nan)


def _min_pooled(z: np.ndarray, k: int) -> np.ndarray:
    """Every k-th sample of ``z``, each the lowest of the k x k samples around it. A valley narrower than the
    coarse grid (Rosenbrock's, beyond its minimum) then keeps its floor in every row of samples, where the
    samples alone would come near it in some rows and miss it in others: a row of teeth."""
    if k == 1:
        return z.copy()
    h = k // 2
    padded = np.pad(z, h, mode="edge")
    n, m = z.shape
    return np.min([padded[h + dj: h + dj + n: k, h + di: h + di + m: k]
                   for dj in range(-h, k - h) for di in range(-h, k - h)], axis=0)


def _draped(path: np.ndarray, z: np.ndarray, surface_under, lift: float, cell: float,
            limit: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """A path drawn in 3D (``path`` (n, 2), heights ``z`` (n,)), with points added along each segment whose straight
    line would pass under the surface: there the line follows the surface (``surface_under`` of points, plus
    ``lift``) instead. Returns the drawn points (m, 3) and, for each step, the index of its point among them.
    A segment gets up to one added point per ``cell`` of its length (at most 32, fewer where the added points
    would exceed ``limit``)."""
    n = len(path)
    xyz = np.column_stack([path, z])
    if n < 2:
        return xyz, np.arange(n)
    a, b = xyz[:-1], xyz[1:]
    ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    length = np.where(ok, np.hypot(*(b[:, :2] - a[:, :2]).T), 0.0)
    pieces = np.clip(np.ceil(length / cell), 1, 32).astype(np.int64)
    if (pieces - 1).sum() > limit:
        pieces = np.maximum(1, np.floor(pieces * limit / (pieces - 1).sum())).astype(np.int64)
    seg = np.repeat(np.arange(n - 1), pieces - 1)
    if seg.size == 0:
        return xyz, np.arange(n)
    first = np.cumsum(pieces - 1) - (pieces - 1)  # where each segment's added points start in `seg`
    frac = (np.arange(seg.size) - first[seg] + 1) / pieces[seg]
    mid = a[seg] + frac[:, None] * (b[seg] - a[seg])
    floor = surface_under(mid[:, :2]) + lift
    below = np.isfinite(floor) & (mid[:, 2] < floor)
    dips = np.zeros(n - 1, dtype=bool)
    dips[seg[below]] = True
    keep = dips[seg]  # every added point of a segment that dips somewhere, so that it bends smoothly
    mid[:, 2] = np.where(np.isfinite(floor), np.maximum(mid[:, 2], floor), mid[:, 2])
    keys = np.concatenate([np.arange(n, dtype=np.float64), seg[keep] + frac[keep]])
    order = np.argsort(keys, kind="stable")
    points = np.concatenate([xyz, mid[keep]])[order]
    at = np.empty(len(keys), dtype=np.int64)
    at[order] = np.arange(len(keys))
    return points, at[:n]


def create_surface3d_figure(sim: Simulation, *, labels: Sequence[str] | None = None,
                            colors: Sequence[str] | None = None, grid=None, height: int = 600) -> SpecFigure:
    """The surface in 3D, translucent, with every run's path above it, played back with the contour's step.

    Heights are f, or log10(f − f_min + d) where the contour's levels are logarithmic (``grid.log_scaled``).
    Each run's path is drawn at the height of f along it, lifted by LIFT_3D of the height range above the
    surface as drawn (:func:`drawn_height`), so that it is never hidden in it: the full path in a light
    shade, and, at the step the chart shows, a bold trail and a head. A ring marks the start,
    gold diamonds the global minima, a cross where a run stopped. ``grid``: :func:`surface_grid`'s result
    (its every k-th sample, at most MAX_SURFACE3D_SIDE a side, is drawn).

    Like the trajectory figure there are no Plotly frames: ``layout.meta.optivizPlayback3d`` carries every
    step's position and lifted height (:mod:`optiviz._codec`), and the chart component fills in the full
    paths from it and draws the heads and trails at the step the trajectory chart shows.
    """
    labels = list(labels) if labels is not None else default_labels(sim)
    colors = _colors(sim, colors)
    if len(labels) != len(sim.runs):
        raise ValueError(f"labels: expected {len(sim.runs)}, got {len(labels)}")
    surface = sim.surface
    grid = grid if grid is not None else surface_grid(surface, MAX_SURFACE3D_SIDE)
    k = _stride(len(grid.xs), MAX_SURFACE3D_SIDE)
    xs, ys = grid.xs[::k].astype(np.float64), grid.ys[::k].astype(np.float64)
    z = _min_pooled(grid.z.astype(np.float64), k)
    floor = float(np.nanpercentile(z, 2)) if grid.log_scaled else None

    def shaped(heights):
        """On log heights, a narrow valley's floor is as deep as the samples happen to come near its bottom:
        drawn as it is, a row of spikes. Heights level off smoothly at the lowest 2% of the samples (the
        floor's depth is the loss chart's to show), the surface's and the paths' alike."""
        heights = np.asarray(heights, dtype=np.float64)
        if floor is None:
            return heights
        with np.errstate(all="ignore"):
            return np.logaddexp(heights * _LN10, floor * _LN10) / _LN10  # log10(10**h + 10**floor)

    z = shaped(z)
    (x0, x1), (y0, y1) = surface.domain
    zmin, zmax = float(np.nanmin(z)), float(np.nanmax(z))
    lift = LIFT_3D * ((zmax - zmin) or 1.0)
    cell = max(xs[1] - xs[0], ys[1] - ys[0])  # a path's segments bend over the surface at this spacing
    z_title = "log₁₀(f − f_min)" if grid.log_scaled else "f"

    def surface_under(points: np.ndarray) -> np.ndarray:
        return drawn_height(xs, ys, z, points[:, 0], points[:, 1])

    def lifted(points: np.ndarray, values) -> np.ndarray:
        """Heights to draw ``points`` at: f's (on the surface's scale) or the drawn surface's, whichever is
        higher, plus the lift; NaN outside the domain or where f is not finite."""
        under = surface_under(points)
        own = np.clip(shaped(grid.height(values)), zmin, zmax)
        return np.where(np.isfinite(own) & np.isfinite(under), np.maximum(own, under) + lift, np.nan)

    data: list[dict] = [{
        "type": "surface", "x": _f32(xs), "y": _f32(ys), "z": _f32(z), "name": "surface",
        "colorscale": SURFACE3D_SCALE, "showscale": False, "opacity": 0.8, "cmin": zmin, "cmax": zmax,
        # No contour lines on it, not even the one under the pointer: each costs a pass over the grid at every
        # draw, and the contour beside it has them.
        "contours": {c: {"highlight": False} for c in "xyz"},
        "lighting": {"ambient": 0.75, "diffuse": 0.6, "specular": 0.05, "roughness": 0.9},
        # (≈ on log heights: they level off at the floor)
        "hovertemplate": f"(%{{x:.3g}}, %{{y:.3g}})<br>{z_title} {'≈' if floor is not None else '='} %{{z:.3g}}"
                         "<extra></extra>",
    }]
    if surface.minima:
        minima = np.array(surface.minima, dtype=np.float64)
        mz = lifted(minima, np.full(len(minima), surface.min_value))
        data.append({
            "type": "scatter3d", "mode": "markers", "name": "global minimum", "x": minima[:, 0].tolist(),
            "y": minima[:, 1].tolist(), "z": np.where(np.isfinite(mz), mz, None).tolist(),
            "marker": {"symbol": "diamond", "size": 7, "color": "#facc15", "line": {"color": "#1e293b", "width": 2}},
            "hovertemplate": f"global minimum (%{{x:.4g}}, %{{y:.4g}})<br>f = {surface.min_value:.6g}<extra></extra>",
        })
    start = np.array([sim.scenario.start], dtype=np.float64)
    sz = lifted(start, surface.values(start[:, 0], start[:, 1]).ravel())
    data.append({
        "type": "scatter3d", "mode": "markers", "name": "start", "showlegend": False,
        "x": [float(start[0, 0])], "y": [float(start[0, 1])], "z": [float(sz[0]) if np.isfinite(sz[0]) else None],
        "marker": {"symbol": "circle-open", "size": 11, "color": "#0f172a", "line": {"width": 3, "color": "#0f172a"}},
        "hovertemplate": "start (%{x:.4g}, %{y:.4g})<extra></extra>",
    })

    longest = max(run.steps_done for run in sim.runs)
    played: list[dict] = []
    positions: list[_codec.Column] = []
    for i, run in enumerate(sim.runs):
        c, label, n = colors[i], labels[i], run.steps_done
        pz = lifted(run.path, run.loss)
        drawn, at = _draped(run.path, pz, surface_under, lift, cell)
        group = f"run{i}"
        # the full path (filled in from the playback's positions by the chart component), in a lighter shade
        # (no white halo as on the contour: in 3D it costs as much as the path at every step drawn, and the
        # light surface is no busy background)
        data.append({"type": "scatter3d", "mode": "lines", "name": label, "legendgroup": group,
                     "line": {"color": _mix(c, 0.3), "width": 4},
                     "hovertemplate": f"{label}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>"})
        line = len(data) - 1
        shown = np.flatnonzero(np.isfinite(pz))
        if run.diverged_at is not None and shown.size:  # at its last point inside the domain
            q = shown[-1]
            data.append({
                "type": "scatter3d", "mode": "markers", "name": f"{label} stopped", "legendgroup": group,
                "showlegend": False, "x": [float(run.path[q, 0])], "y": [float(run.path[q, 1])], "z": [float(pz[q])],
                "marker": {"symbol": "x", "size": 8, "color": c},
                "hovertemplate": f"{label} {run.stop_reason} at step {run.diverged_at}<extra></extra>",
            })
        first = [float(run.path[0, 0])], [float(run.path[0, 1])], [float(pz[0]) if np.isfinite(pz[0]) else None]
        data.append({"type": "scatter3d", "mode": "lines", "name": f"{label} trail", "legendgroup": group,
                     "showlegend": False, "hoverinfo": "skip", "line": {"color": c, "width": 10},
                     "x": first[0], "y": first[1], "z": first[2]})
        data.append({"type": "scatter3d", "mode": "markers", "name": f"{label} now", "legendgroup": group,
                     "showlegend": False, "x": first[0], "y": first[1], "z": first[2], "customdata": [0],
                     "marker": {"size": 7, "color": c, "line": {"color": "white", "width": 2}},
                     "hovertemplate": f"{label}<br>step %{{customdata}}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>"})
        played.append({"n": n, "line": line, "trail": len(data) - 2, "head": len(data) - 1})
        positions += [_codec.column(drawn[:, 0]), _codec.column(drawn[:, 1]), _codec.column(drawn[:, 2]),
                      _codec.Column(at.astype(np.float64), 0.0, float(_codec.INTEGER_TOP), 24)]

    axis = {"showspikes": False, "backgroundcolor": "#f8fafc", "showbackground": True, "gridcolor": "#e2e8f0",
            "nticks": 6}
    layout = {
        "height": height, "margin": {"l": 0, "r": 0, "t": 10, "b": 0}, "font": _FONT,
        "scene": {"xaxis": {**axis, "title": {"text": "x"}, "range": [x0, x1]},
                  "yaxis": {**axis, "title": {"text": "y"}, "range": [y0, y1]},
                  "zaxis": {**axis, "title": {"text": z_title}, "range": [zmin, zmax + 2 * lift]},
                  "aspectmode": "manual",
                  "aspectratio": {"x": 1.0, "y": (y1 - y0) / (x1 - x0), "z": 0.6},
                  "camera": copy.deepcopy(CAMERA_3D)},
        # Plotly.react keeps the user's camera while this stays the same: the surface.
        "uirevision": f"{surface.name}:{sorted(surface.parameters.items())}",
        # under the scene: at the top, the modebar covers its right end whenever the pointer is on the chart
        "legend": {"orientation": "h", "x": 0, "y": 0, "yanchor": "top"},
        "meta": {"optivizPlayback3d": {"n": longest, "trail": trail_steps(longest), "runs": played,
                                       "positions": _codec.encode(positions),
                                       "span": 0.08 * max(x1 - x0, y1 - y0)},
                 # on a phone, shorter, and the camera further back so that the axes' labels fit
                 **narrow_meta({"height": 440, "scene": {"camera": {"eye": {
                     k: 1.3 * v for k, v in CAMERA_3D["eye"].items()}}}})},
    }
    return SpecFigure.from_arrays({"data": data, "layout": layout})

"""Previews for the sliders of the run being edited: that run simulated at every value on each slider's grid.

While one of the run's grid sliders (η, β₁, β₂, α, μ, ε) is dragged, the page draws the path (and the loss
curve) for the value under the pointer, before the slider is released. The sliders snap to their grids, so
every value the pointer can reach is simulated here, by the engine, exactly: a preview is the run a release
at that value produces, thinned for drawing and packed (:mod:`optiviz._codec`).

No Streamlit and no Plotly here: arrays in, a JSON-ready dict out.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import _codec
from . import controls as C
from ._engine import RunSpec, Scenario, run_scenario
from .schedules import format_schedule

__all__ = ["LOSS_POINTS", "PATH_POINTS", "family", "preview_loss", "preview_path", "previewed", "previews"]

#: Points of a previewed path and of its loss curve (the budget: under 250 KB for Adam's four sliders).
PATH_POINTS = 160
LOSS_POINTS = 96
#: Bits of a previewed point: 1/65,536 of three domain widths, far under a pixel.
BITS = 16

#: The slider grids named by ``Param.grid``.
_GRIDS = {"lr": C.LR_GRID, "beta": C.BETA_GRID, "eps": C.EPS_GRID}


def previewed(spec: RunSpec) -> list[str]:
    """The sliders a run of ``spec``'s optimizer has a preview for (every widget on a grid), in the sidebar's
    order."""
    return [param.name for param, _, _ in spec.spec.widgets() if param.grid]


def _with(spec: RunSpec, name: str, value: float) -> RunSpec | None:
    """``spec`` with one slider at ``value``; None where the optimizer refuses the combination."""
    _, hyper_name, index = spec.spec.widget(name)
    try:
        if index is not None:
            parts = list(spec.hyper[hyper_name])
            parts[index] = value
            return spec.replace(**{hyper_name: tuple(parts)})
        return spec.replace(**{hyper_name: value})
    except ValueError:
        return None


def _slider_value(spec: RunSpec, name: str) -> float:
    _, hyper_name, index = spec.spec.widget(name)
    value = spec.hyper[hyper_name]
    return value if index is None else value[index]


def _rows(n: int, limit: int) -> np.ndarray:
    """``limit`` steps of 0..n, evenly spread, both ends included."""
    return np.unique(np.round(np.linspace(0, n, min(limit, n + 1))).astype(np.int64))


def family(scenario: Scenario, spec: RunSpec, name: str, *, path_points: int = PATH_POINTS,
           loss_points: int = LOSS_POINTS) -> dict:
    """``spec``'s run on ``scenario``'s surface (start, steps, noise, seed) at every value of slider ``name``.

    ``{"label", "values": [grid value, ...], "paths": packed, "losses": packed, "loss": "log" | "linear"}``:
    for each value of the slider's grid, in order, three columns in ``paths`` (the steps kept, x, y) and two in
    ``losses`` (the steps kept, the loss as drawn: log10(f − f*) where the surface has a known minimum, else f).
    A value torch
    refuses has empty columns. x and y outside three domain widths around the domain are dropped (the line
    breaks there). It depends on ``spec`` without that slider's value (:func:`family_key`): releasing η leaves
    η's family as it is.
    """
    surface = scenario.surface
    (x0, x1), (y0, y1) = surface.domain
    box = (x0 - (x1 - x0), x1 + (x1 - x0), y0 - (y1 - y0), y1 + (y1 - y0))
    has_min = surface.min_value is not None
    param = spec.spec.widget(name)[0]
    grid, label = _GRIDS[param.grid], param.label
    values = list(grid)
    specs = [_with(spec, name, v) for v in values]
    valid = [s for s in specs if s is not None]
    sim = run_scenario(replace(scenario, runs=tuple(valid))) if valid else None
    runs = iter(sim.runs if sim else ())
    whole = lambda rows: _codec.Column(rows.astype(float), 0.0, float(_codec.INTEGER_TOP), 24)  # noqa: E731
    path_cols: list[_codec.Column] = []
    losses: list[tuple[np.ndarray, np.ndarray] | None] = []
    for one in specs:
        if one is None:
            path_cols += [whole(np.zeros(0)), _codec.column(np.zeros(0), BITS), _codec.column(np.zeros(0), BITS)]
            losses.append(None)
            continue
        run = next(runs)
        rows = _rows(run.steps_done, path_points)
        path_cols += [whole(rows), _codec.Column(run.path[rows, 0], box[0], box[1], BITS),
                      _codec.Column(run.path[rows, 1], box[2], box[3], BITS)]
        kept = _rows(run.steps_done, loss_points)
        loss = run.loss[kept] - surface.min_value if has_min else run.loss[kept]
        with np.errstate(divide="ignore", invalid="ignore"):
            losses.append((kept, np.where(loss > 0, np.log10(loss), np.nan) if has_min else loss))
    finite = np.concatenate([v[np.isfinite(v)] for _, v in filter(None, losses)] or [np.zeros(0)])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    hi = hi if hi > lo else lo + 1.0
    loss_cols = []
    for item in losses:
        kept, shown = item if item is not None else (np.zeros(0), np.zeros(0))
        loss_cols += [whole(kept), _codec.Column(shown, lo, hi, BITS)]
    return {"label": label, "values": values, "paths": _codec.encode(path_cols), "losses": _codec.encode(loss_cols),
            "loss": "log" if has_min else "linear"}


def family_key(scenario: Scenario, spec: RunSpec, name: str) -> tuple:
    """What :func:`family` depends on: the scenario without its runs, and ``spec`` without slider ``name``'s
    value (a hashable cache key)."""
    hyper = dict(spec.hyper)
    _, hyper_name, index = spec.spec.widget(name)
    if index is not None:
        hyper[hyper_name] = tuple(v for i, v in enumerate(hyper[hyper_name]) if i != index)
    else:
        hyper.pop(hyper_name)
    surface, params, _runs, *rest = scenario.key
    schedule = spec.schedule and format_schedule(spec.schedule)
    return (surface, params, *rest, spec.optimizer, tuple(hyper.items()), schedule, name)


def previews(scenario: Scenario, index: int, families=family) -> dict:
    """The previews of run ``index`` of ``scenario``: ``{"run": index, "params": {name: family, ...}}``, each
    family also holding ``"current"`` (the slider's value now) and ``"options"`` (the values the slider offers:
    its grid, and the current value where a link or a recommendation put it between grid values).
    ``families`` builds one family (``family``'s signature; the app passes a cached one)."""
    spec = scenario.runs[index]
    params = {}
    for name in previewed(spec):
        current = _slider_value(spec, name)
        made = families(scenario, spec, name)
        params[name] = {**made, "current": current, "options": sorted({*made["values"], current})}
    return {"run": index, "params": params}


def preview_path(previews_: dict, name: str, value: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(steps, x, y) of the previewed path at slider ``name`` = ``value``, decoded (for the tests)."""
    entry = previews_["params"][name]
    k = list(entry["values"]).index(value)
    steps, x, y = _codec.decode(entry["paths"])[3 * k: 3 * k + 3]
    return None if steps.size == 0 else (steps.astype(int), x, y)


def preview_loss(previews_: dict, name: str, value: float) -> tuple[np.ndarray, np.ndarray] | None:
    """(steps, loss) of the previewed loss curve, decoded (the loss as drawn: f − f*, or f)."""
    entry = previews_["params"][name]
    k = list(entry["values"]).index(value)
    steps, values = _codec.decode(entry["losses"])[2 * k: 2 * k + 2]
    if steps.size == 0:
        return None
    return steps.astype(int), (10.0**values if entry["loss"] == "log" else values)


def preview_bytes(previews_: dict) -> int:
    """Bytes of the packed paths and losses (as sent, base64)."""
    return sum(len(e["paths"]["b64"]) + len(e["losses"]["b64"]) for e in previews_["params"].values())

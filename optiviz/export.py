"""Serialising a :class:`~optiviz.Simulation`: JSON and CSV with every recorded array."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ._engine import Simulation


def settings(sim: Simulation) -> dict[str, Any]:
    """The scenario that produced ``sim``, as plain JSON-ready values."""
    sc = sim.scenario
    return {
        "surface": sc.surface.name,
        "surface_params": dict(sc.surface.parameters),
        "start": list(sc.start),
        "steps": sc.steps,
        "noise": sc.noise,
        "seed": sc.seed,
        "runs": [{"optimizer": r.optimizer, **_jsonable(r.hyper)} for r in sc.runs],
    }


def _jsonable(hyper: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in hyper.items()}


def to_dict(sim: Simulation) -> dict[str, Any]:
    """Settings plus, per run, positions, losses, gradients and every state buffer per step."""
    return {
        "settings": settings(sim),
        "runs": [
            {
                "optimizer": run.optimizer,
                "hyper": _jsonable(run.spec.hyper),
                "steps_done": run.steps_done,
                "diverged_at": run.diverged_at,
                "diverged_reason": run.diverged_reason,
                "path": run.path.tolist(),
                "loss": run.loss.tolist(),
                "grad": run.grad.tolist(),
                "state": {name: arr.tolist() for name, arr in run.state.items()},
            }
            for run in sim.runs
        ],
    }


def to_json(sim: Simulation) -> str:
    return json.dumps(to_dict(sim), allow_nan=False)


def to_csv(sim: Simulation) -> str:
    """One row per run and step (0..n): position, loss, the gradient step t+1 received, and each
    state buffer after step t. Columns a run does not have are left empty."""
    state_names: list[str] = []
    for run in sim.runs:
        state_names += [n for n in run.state if n not in state_names]
    header = ["run", "optimizer", "step", "x", "y", "loss", "grad_x", "grad_y"]
    header += [f"{n}_{c}" for n in state_names for c in "xy"]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for i, run in enumerate(sim.runs):
        n = run.steps_done
        path, loss, grad = run.path.tolist(), run.loss.tolist(), run.grad.tolist()
        states = [run.state[name].tolist() if name in run.state else None for name in state_names]
        for t in range(n + 1):
            row: list[Any] = [i, run.optimizer, t, *path[t], loss[t]]
            row += grad[t] if t < n else ["", ""]
            for arr in states:
                row += ["", ""] if arr is None else arr[t]
            w.writerow(row)
    return out.getvalue()

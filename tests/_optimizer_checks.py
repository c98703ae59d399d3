"""Checks every optimizer beyond the first five must pass, shared by the test files of each family
(``test_torch_optimizers.py``, ``test_package_optimizers.py``, ``test_schedulefree.py``): Explain reproducing the
recorded run, the notes, the PyTorch script replaying the runs, recommended learning rates that go somewhere, and
the sidebar drawing each optimizer's controls."""

from __future__ import annotations

import math

import pytest
from _apptest import open_app
from test_explain import _check_latex, _parse
from test_export import _close, _run_script

import optiviz
import surfaces
from optiviz.explain import Explanation, explain, notes

#: The surfaces Explain is checked on, and those the recommended learning rates are run on.
EXPLAIN_SURFACES = ("rosenbrock", "beale", "booth", "himmelblau")
LR_SURFACES = ("rosenbrock", "beale", "himmelblau", "rastrigin", "booth", "quadratic", "saddle", "noisy_saddle",
               "matyas", "goldstein_price")


def simulate_cases(surface: str, cases, steps: int = 60) -> optiviz.Simulation:
    """``cases`` ((optimizer, hyperparameters besides lr), ...) at their recommended lr on ``surface``."""
    surf = surfaces.get(surface)
    runs = [optiviz.RunSpec(name, lr=optiviz.optimizers.get(name).recommended_lr(surf), **hyper)
            for name, hyper in cases]
    return optiviz.simulate(surf, runs, steps=steps)


def check_explain(run: optiviz.Run, t: int) -> Explanation:
    """Step ``t``'s Explain: every line with a recorded counterpart equals it, the substituted numbers read back as
    the results, the LaTeX is well formed, the last line is the recorded position exactly (the kernel's
    arithmetic), and the step note speaks of step t in plain text. Returns it for checks of its own."""
    name = run.optimizer
    ex = explain(run, t)
    for line in ex.lines:
        for k in range(2):
            value = line.result[k]
            assert isinstance(value, float) and math.isfinite(value), (name, line.key, t)
            if line.key in run.state:
                arr = run.state[line.key]
                want = arr[t] if arr.ndim == 1 else arr[t, k]
                assert value == pytest.approx(want, rel=1e-12, abs=1e-300), (name, line.key, t, k)
            if line.key == "effective_lr":
                assert value == pytest.approx(run.effective_lr[t - 1, k], rel=1e-12), (name, t, k)
            shown = line.values[k].rsplit(" = ", 1)[1]
            assert _parse(shown) == pytest.approx(value, rel=5e-5, abs=1e-300), (name, line.key)
            _check_latex(line.values[k])
        _check_latex(line.formula)
    _check_latex(ex.hyper)
    assert ex.lines[0].key == "grad" and ex.lines[-1].key == "param", (name, [line.key for line in ex.lines])
    assert ex.lines[-1].result == (run.path[t, 0], run.path[t, 1]), (run.spec, t)
    assert ex.step_note.startswith(f"At step {t} "), ex.step_note
    assert "\\" not in ex.step_note and "$" not in ex.step_note
    return ex


def check_notes(name: str) -> None:
    spec = optiviz.optimizers.get(name)
    assert spec.look_for and "\n" not in spec.look_for
    run = optiviz.simulate("booth", [optiviz.RunSpec(name, lr=0.01)], steps=2).runs[0]
    assert explain(run, 1).note.startswith(notes(name))


def check_script_reproduces(sim: optiviz.Simulation, script: str, tmp_path) -> None:
    """The PyTorch ``script`` of ``sim`` run: each run ends where optiviz's did, to rounding."""
    got = _run_script(script, tmp_path)
    for i, run in enumerate(sim.runs):
        line = got[i + 1]
        assert line["name"] == run.optimizer and run.diverged_at is None
        assert _close(line["final"], run.path[-1]), (i, line["final"], run.path[-1].tolist())


def check_recommended_lr(surface: str, names, escapes=frozenset()) -> None:
    """At the recommended lr each runs the app's 1000 steps (or, where ``(surface, name)`` is in ``escapes``, runs
    off a saddle after a while, as it should: a saddle is unbounded below) and ends lower than it started."""
    surf = surfaces.get(surface)
    sim = optiviz.simulate(surf, [optiviz.RunSpec(name, lr=optiviz.optimizers.get(name).recommended_lr(surf))
                                  for name in names], steps=1000)
    for name, run in zip(names, sim.runs, strict=True):
        if (surface, name) in escapes:
            assert run.diverged_reason == "escaped" and run.steps_done >= 30, (name, run)
        else:
            assert run.diverged_at is None, (name, run)
        assert run.loss[-1] < run.loss[0], (name, run.loss[-1], run.loss[0])


def check_sidebar_controls(name: str) -> None:
    """A link's run of ``name``, edited in the sidebar: its optimizer picked and a widget for every Param."""
    at = open_app({"run": [name, "adam"], "surface": "booth"})
    at.radio(key="edit_run").set_value(0)
    at.run()
    assert not at.exception
    spec = optiviz.optimizers.get(name)
    keys = {w.key for kind in (at.select_slider, at.number_input, at.checkbox) for w in kind}
    for param, _, _ in spec.widgets():
        assert f"r0.{param.name}" in keys, (param.name, sorted(k for k in keys if k.startswith("r0.")))
    assert at.selectbox(key="r0.optimizer").value == name
    assert not at.error

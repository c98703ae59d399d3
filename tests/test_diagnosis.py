"""Numerical edge cases: every way a run can stop or stand still is said in words, and extreme settings on
every surface never crash or warn (``pyproject.toml`` turns any RuntimeWarning into an error)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import optiviz
import surfaces
from optiviz import RunSpec, export, figures
from optiviz._engine import Run
from optiviz.diagnosis import Note, diagnose
from optiviz.explain import explain
from optiviz.summary import summarize

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _notes(sim) -> dict[int, list[Note]]:
    by_run: dict[int, list[Note]] = {}
    for note in diagnose(sim):
        for i in note.runs:
            by_run.setdefault(i, []).append(note)
    return by_run


# ------------------------------------------------------------------------------------- why a run stopped


@pytest.mark.parametrize("spec", [RunSpec("adam", lr=0.05, eps=0.0), RunSpec("adamw", lr=0.05, eps=0.0),
                                  RunSpec("rmsprop", eps=0.0), RunSpec("adagrad", eps=0.0),
                                  RunSpec("adam", lr=0.05, eps=0.0, amsgrad=True),
                                  RunSpec("rmsprop", eps=0.0, eps_inside_sqrt=True)])
def test_eps_zero_at_a_zero_gradient_divides_zero_by_zero_and_says_so(spec):
    """At the minimum the gradient is exactly 0, so the second moment is 0 and, with ε = 0, the first step is
    0/0 = NaN: torch.optim gives NaN too. (Numba's default error model raised ZeroDivisionError from the
    kernel instead.)"""
    (run,) = optiviz.simulate("rosenbrock", [spec], start=(1.0, 1.0), steps=50).runs
    assert run.diverged_at == 1 and run.diverged_reason == "non-finite" and run.stop_cause == "zero_division"
    assert run.stop_reason == "divided by zero (ε = 0)"
    (note,) = diagnose(optiviz.simulate("rosenbrock", [spec], start=(1.0, 1.0), steps=50))
    assert note.level == "warning" and "divided by zero at step 1" in note.text and "Any ε > 0 avoids it" in note.text


def test_centered_rmsprop_with_alpha_zero_has_a_variance_of_exactly_zero():
    (run,) = optiviz.simulate("beale", [RunSpec("rmsprop", alpha=0.0, centered=True, eps=0.0)], steps=20).runs
    assert run.diverged_at == 1 and run.stop_cause == "zero_division"


def test_a_negative_variance_estimate_is_named():
    """square_avg − grad_avg² below 0 by rounding: square_avg 1 and grad_avg 1 + 2⁻⁵², α = 0.5, a gradient of
    1 + 2⁻⁵²: the kernel's arithmetic gives −2.2e-16."""
    g = 1.0 + 2.0**-52
    spec = RunSpec("rmsprop", alpha=0.5, centered=True)
    run = Run(spec, np.zeros((1, 2)), np.zeros(1), np.zeros((0, 2)),
              {"square_avg": np.ones((1, 2)), "grad_avg": np.full((1, 2), g)}, 1, "non-finite", "step", np.full(2, g))
    assert run.stop_cause == "negative_variance"
    assert run.stop_reason == "took the square root of a negative variance"


def test_an_overflow_and_a_run_off_the_plot_are_told_apart():
    sim = optiviz.simulate("rosenbrock", [RunSpec("sgd", lr=1e308), RunSpec("sgd", lr=0.01)], steps=100)
    overflow, escaped = sim.runs
    assert (overflow.stop_cause, escaped.stop_cause) == ("overflow", "escaped")
    notes = _notes(sim)
    assert "overflowed at step 1" in notes[0][0].text and "smaller learning rate" in notes[0][0].text
    assert "ran far off the plot at step 4" in notes[1][0].text and "η = 0.01" in notes[1][0].text
    assert notes[0][0].level == notes[1][0].level == "warning"


def test_a_gradient_too_large_to_hold_stops_the_run_before_the_step():
    """Noise of σ = 1e308 makes the gradient itself infinite (seed 3: the first ξ is (2.04, −2.56))."""
    (run,) = optiviz.simulate("booth", [RunSpec("adam")], steps=20, noise=1e308, seed=3).runs
    assert run.failure == "gradient" and run.stop_cause == "gradient" and run.failed_grad is None
    (note,) = diagnose(optiviz.simulate("booth", [RunSpec("adam")], steps=20, noise=1e308, seed=3))
    assert "gradient at" in note.text and "too large to hold in a float64" in note.text


def test_f_too_large_at_the_new_point_is_named():
    run = Run(RunSpec("sgd"), np.zeros((3, 2)), np.zeros(3), np.zeros((2, 2)), {}, 3, "non-finite", "loss",
              np.ones(2))
    assert run.stop_cause == "loss" and "f is too large" in run.stop_reason


def test_leaving_a_saddle_is_the_goal_not_a_fault():
    sim = optiviz.simulate("saddle", optiviz.default_runs("saddle"), steps=3000)
    (escaped,) = [n for n in diagnose(sim) if "ran far off the plot" in n.text]
    assert escaped.level == "info" and "that is the goal" in escaped.text and "learning rate" not in escaped.text


# ----------------------------------------------------------------------- runs that stand still, huge steps


@pytest.mark.parametrize(("surface", "start", "where"), [
    ("rosenbrock", (1.0, 1.0), "the start is the global minimum"),
    ("ackley", (0.0, 0.0), "the start is the global minimum"),  # a kink, whose subgradient 0 is used
    ("saddle", (0.0, 0.0), "the start is the saddle point"),
    ("monkey_saddle", (0.0, 0.0), "the start is the saddle point"),
    ("six_hump_camel", (0.0, 0.0), "f is flat at the start, which is not a minimum"),
])
def test_a_start_where_the_gradient_is_exactly_zero_is_explained(surface, start, where):
    sim = optiviz.simulate(surface, optiviz.default_runs(surface), start=start, steps=100, noise=0.0)
    assert all(not np.any(run.update) for run in sim.runs)
    (still,) = [n for n in diagnose(sim) if n.text.startswith("stays at its start")]
    assert still.runs == (0, 1, 2, 3) and where in still.text and "exactly 0" in still.text
    assert still.markdown(["A", "B", "C", "D"]).startswith("Each of **A**, **B**, **C** and **D** stays at its start")


def test_at_a_minimum_the_effective_step_of_1e9_is_explained():
    """AdaGrad at a minimum: sum = 0, so its effective step is η/(0 + ε) = 1/1e-10 = 1e10. One note for every
    run it applies to, each run's own peak after its name."""
    sim = optiviz.simulate("rosenbrock", optiviz.default_runs("rosenbrock"), start=(1.0, 1.0), steps=100)
    (huge,) = [n for n in diagnose(sim) if "effective step size" in n.text]
    assert huge.runs == (0, 1, 2), "SGD has no second moment: its effective step is η"
    assert huge.details == ("up to 5·10⁶; η/ε = 5·10⁶", "up to 5·10⁵; η/ε = 5·10⁵", "up to 10¹⁰; η/ε = 10¹⁰")
    assert "(v̂_t, square_avg or sum)" in huge.text and "ε caps it at η/ε" in huge.text
    assert huge.markdown(["A", "R", "G", "S"]).startswith(
        "Each of **A** (up to 5·10⁶; η/ε = 5·10⁶), **R** (up to 5·10⁵; η/ε = 5·10⁵) and **G** (up to 10¹⁰; η/ε = "
        "10¹⁰) has an effective step size")
    assert np.nanmax(sim.runs[2].effective_lr) == 1e10


def test_a_learning_rate_of_zero_and_steps_below_one_ulp_are_told_apart():
    sim = optiviz.simulate("rosenbrock", [RunSpec("sgd", lr=0.0), RunSpec("sgd", lr=1e-30)], steps=20)
    notes = _notes(sim)
    assert "its learning rate is 0" in notes[0][0].text
    assert "too small to change the position" in notes[1][0].text


def test_ordinary_runs_get_no_note():
    assert diagnose(optiviz.simulate("rosenbrock", optiviz.default_runs("rosenbrock"), steps=1000)) == []


def test_the_app_explains_a_start_on_the_minimum():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["start"] = "1,1"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    infos = [i.value for i in at.info]
    assert any(i.startswith("Each of **Adam (lr 0.05)**") and "stays at its start" in i for i in infos), infos
    assert any(i.startswith("Each of **Adam (lr 0.05)** (up to 5·10⁶; η/ε = 5·10⁶)") and "**AdaGrad (lr 1)** (up "
               "to 10¹⁰; η/ε = 10¹⁰) has an effective step size" in i for i in infos), infos


# --------------------------------------------------------------------- every optimizer, surface, extreme

EXTREMES = (
    RunSpec("adam", lr=10.0, betas=(0.0, 0.0), eps=1e-12, weight_decay=10.0, amsgrad=True),
    RunSpec("adam", lr=1e-5, betas=(0.99999, 0.99999), eps=1.0),
    RunSpec("adam", lr=1.0, eps=0.0),
    RunSpec("adamw", lr=10.0, weight_decay=10.0, eps_inside_sqrt=True),
    RunSpec("rmsprop", lr=10.0, alpha=0.0, centered=True, momentum=0.99999, eps=1e-12),
    RunSpec("rmsprop", lr=1e-5, alpha=0.99999, eps=0.0, eps_inside_sqrt=True),
    RunSpec("adagrad", lr=10.0, lr_decay=10.0, eps=0.0),
    RunSpec("adagrad", lr=1e-5, initial_accumulator_value=100.0, eps=1.0, eps_inside_sqrt=True),
    RunSpec("sgd", lr=10.0, momentum=0.99999, nesterov=True),
    RunSpec("sgd", lr=1e-5, momentum=0.9, dampening=1.0, weight_decay=10.0),
)


def _starts(surface: surfaces.Surface) -> list[tuple[float, float]]:
    corner = (surface.domain[0][1], surface.domain[1][1])
    return [surface.start, corner, surface.minima[0] if surface.minima else (0.0, 0.0)]


@pytest.mark.parametrize("name", surfaces.names())
def test_extreme_settings_on_every_surface_never_crash_or_warn(name):
    surface = surfaces.get(name)
    for start in _starts(surface):
        for noise in (0.0, 2.0):
            sim = optiviz.simulate(surface, EXTREMES, start=start, steps=10_000, noise=noise, seed=3)
            labels = figures.default_labels(sim)
            colors = figures.run_colors([run.spec.optimizer for run in sim.runs])
            figures.create_trajectory_figure(sim, labels=labels, colors=colors, arrows=True)
            figures.create_loss_figure(sim, labels=labels, colors=colors)
            summarize(sim, labels)
            notes = _notes(sim)
            for i, run in enumerate(sim.runs):
                for t in {1, run.steps_done // 2 or 1, run.steps_done} if run.steps_done else ():
                    explain(run, t, noisy=noise > 0)
                if run.diverged_at is not None or (run.steps_done and not np.any(run.update)):
                    assert notes.get(i), f"{name} from {start}, σ={noise}: {run!r} stopped or stood still unexplained"
    figures.create_surface3d_figure(sim, labels=labels, colors=colors)
    for write in (export.to_csv, export.to_json, export.to_torch_script):
        assert write(sim)

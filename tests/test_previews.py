"""Previews: each slider's family of runs is the engine's runs at every grid value, and it fits its budget."""

import json

import numpy as np
import pytest

import optiviz
import surfaces
from optiviz import chart, figures, previews
from optiviz import controls as C
from optiviz._engine import RunSpec, Scenario


def _scenario(surface="rosenbrock", runs=None, steps=300, noise=0.0):
    runs = tuple(runs) if runs is not None else optiviz.default_runs(surface)
    return optiviz.simulate(surface, runs, steps=steps, noise=noise).scenario


def _box_quantum(surface):
    """A previewed coordinate's resolution: three domain widths over 16 bits."""
    (x0, x1), (y0, y1) = surface.domain
    return 3 * (x1 - x0) / (2**16 - 2), 3 * (y1 - y0) / (2**16 - 2)


def _released(scenario: Scenario, k: int, name: str, value: float):
    """Run ``k`` of ``scenario`` as a release of slider ``name`` at ``value`` makes it."""
    spec = scenario.runs[k]
    if name in ("beta1", "beta2"):
        b1, b2 = spec.hyper["betas"]
        spec = spec.replace(betas=(value, b2) if name == "beta1" else (b1, value))
    else:
        spec = spec.replace(**{name: value})
    runs = list(scenario.runs)
    runs[k] = spec
    return optiviz.simulate(scenario.surface, runs, steps=scenario.steps, noise=scenario.noise,
                            seed=scenario.seed, start=scenario.start).runs[k]


@pytest.mark.parametrize(("surface", "k", "noise"), [
    ("rosenbrock", 0, 0.0),  # Adam: lr, beta1, beta2, eps
    ("rosenbrock", 1, 0.3),  # RMSProp: lr, alpha, momentum, eps; with noise, the same draws as the release
    ("beale", 3, 0.0),  # SGD: lr, momentum
    ("ackley", 2, 0.0),  # AdaGrad: lr, eps
])
def test_every_preview_is_the_run_a_release_at_that_value_produces(surface, k, noise):
    scenario = _scenario(surface, noise=noise)
    made = previews.previews(scenario, k)
    assert list(made["params"]) == previews.previewed(scenario.runs[k])
    qx, qy = _box_quantum(scenario.surface)
    (x0, x1), (y0, y1) = scenario.surface.domain
    for name, entry in made["params"].items():
        values = entry["values"]
        for value in (values[0], values[len(values) // 3], values[-1]):
            run = _released(scenario, k, name, value)
            steps, x, y = previews.preview_path(made, name, value)
            assert steps[0] == 0 and steps[-1] == run.steps_done and len(steps) <= previews.PATH_POINTS
            assert np.all(np.diff(steps) > 0)
            expected = run.path[steps]
            # far outside the domain (three widths around it) a coordinate is missing: the line breaks there
            for got, want, lo, hi, q in ((x, expected[:, 0], x0, x1, qx), (y, expected[:, 1], y0, y1, qy)):
                inside = (want >= 2 * lo - hi) & (want <= 2 * hi - lo)
                np.testing.assert_allclose(got[inside], want[inside], rtol=0, atol=q)
                assert np.isnan(got[~inside]).all()
            loss_steps, loss = previews.preview_loss(made, name, value)
            assert loss_steps[-1] == run.steps_done and len(loss_steps) <= previews.LOSS_POINTS
            drawn = run.loss[loss_steps] - scenario.surface.min_value
            ok = np.isfinite(loss) & (drawn > 0)
            np.testing.assert_allclose(np.log10(loss[ok]), np.log10(drawn[ok]), rtol=0, atol=1e-3)


def test_a_family_does_not_depend_on_its_own_sliders_value():
    """Releasing η leaves η's family as it was (the app's cache keeps it); any other change makes a new one."""
    scenario = _scenario()
    adam = scenario.runs[0]
    moved = adam.replace(lr=0.3)
    assert previews.family_key(scenario, adam, "lr") == previews.family_key(scenario, moved, "lr")
    assert previews.family(scenario, adam, "lr") == previews.family(scenario, moved, "lr")
    assert previews.family_key(scenario, adam, "beta1") != previews.family_key(scenario, moved, "beta1")
    other = adam.replace(betas=(0.5, 0.999))
    assert previews.family_key(scenario, adam, "beta1") == previews.family_key(scenario, other, "beta1")
    assert previews.family_key(scenario, adam, "beta2") != previews.family_key(scenario, other, "beta2")
    noisier = _scenario(noise=0.2)
    assert previews.family_key(scenario, adam, "lr") != previews.family_key(noisier, adam, "lr")


def test_values_torch_refuses_have_no_preview():
    """Nesterov needs momentum > 0: the momentum slider's 0 has no run to preview, the rest do."""
    scenario = _scenario("quadratic", runs=[RunSpec("sgd", lr=0.05, momentum=0.9, nesterov=True)])
    made = previews.previews(scenario, 0)
    assert previews.preview_path(made, "momentum", 0.0) is None
    assert previews.preview_loss(made, "momentum", 0.0) is None
    assert previews.preview_path(made, "momentum", 0.5) is not None


def test_the_options_are_the_sliders_own():
    """The page maps a slider's position to a value through ``options``: the grid, plus the current value where
    it lies between grid values (as the sidebar's slider offers it)."""
    scenario = _scenario(runs=[RunSpec("adam", lr=0.0123)])
    entry = previews.previews(scenario, 0)["params"]["lr"]
    assert entry["current"] == 0.0123 and entry["values"] == list(C.LR_GRID)
    assert entry["options"] == sorted([*C.LR_GRID, 0.0123])
    on_grid = previews.previews(_scenario(runs=[RunSpec("adam", lr=0.01)]), 0)["params"]["lr"]
    assert on_grid["options"] == list(C.LR_GRID)


def _sent(made: dict) -> int:
    return len(json.dumps(made))


@pytest.mark.parametrize("name", surfaces.names())
def test_previews_fit_their_budget_at_the_defaults(name):
    """At the defaults (1,000 steps, the surface's noise), the edited run's previews add at most 250 KB."""
    surf = surfaces.get(name)
    scenario = _scenario(name, steps=1000, noise=surf.noise)
    for k in range(len(scenario.runs)):
        assert _sent(previews.previews(scenario, k)) <= 250_000


_RUNS = ("adam", "rmsprop", "adagrad", "sgd", "adamw", "adam", "rmsprop", "sgd")


def _payload(name: str, count: int) -> tuple[int, int, int]:
    """Bytes sent for ``count`` runs of 10,000 steps on ``name`` with arrows and moments: trajectory, loss, and
    the largest of run 0's and run 1's previews."""
    surf = surfaces.get(name)
    runs = [RunSpec(o, lr=surf.lr[o]) for o in _RUNS[:count]]
    sim = optiviz.simulate(name, runs, steps=10_000, noise=surf.noise)
    traj = chart.figure_json(figures.create_trajectory_figure(sim, arrows=True, moments=True))
    loss = chart.figure_json(figures.create_loss_figure(sim))
    shown = max(_sent(previews.previews(sim.scenario, k)) for k in range(min(count, 2)))
    return len(traj), len(loss), shown


@pytest.mark.parametrize("name", surfaces.names())
def test_the_page_stays_under_one_megabyte_at_10000_steps_and_8_runs(name):
    traj, loss, shown = _payload(name, 8)
    assert traj + loss + shown < 1_000_000, (traj, loss, shown)


def test_the_payload_grows_with_the_runs_so_eight_is_the_bound():
    """On the heaviest surface, every run count from 1 to 8 (the bound above holds for fewer runs too)."""
    totals = [sum(_payload("ackley", count)) for count in range(1, 9)]
    assert totals == sorted(totals) and totals[-1] < 1_000_000, totals

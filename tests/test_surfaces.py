"""Every surface: analytic gradient against central differences, known minima, metadata."""

import math

import numpy as np
import pytest

import surfaces

NAMES = surfaces.names()
EXPECTED = {
    "rosenbrock", "beale", "himmelblau", "rastrigin", "ackley", "booth", "matyas", "goldstein_price",
    "three_hump_camel", "six_hump_camel", "styblinski_tang", "levi", "quadratic", "saddle", "monkey_saddle",
    "noisy_saddle",
}
VARIANTS = [(n, {}) for n in NAMES] + [("quadratic", {"kappa": 50.0, "angle": 30.0}),
                                        ("quadratic", {"kappa": 1.0, "angle": -75.0})]


def test_registry_lists_every_required_surface():
    assert set(NAMES) == EXPECTED
    assert len(NAMES) == len(set(NAMES))


def test_unknown_surface_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"Unknown surface 'nope'; valid surfaces: rosenbrock, beale"):
        surfaces.get("nope")


@pytest.mark.parametrize("params", [{"kappa": 0.5}, {"kappa": math.nan}, {"angle": 400.0}, {"bogus": 1.0}])
def test_quadratic_rejects_bad_parameters(params):
    with pytest.raises(ValueError, match="quadratic"):
        surfaces.get("quadratic", **params)


@pytest.mark.parametrize(("name", "params"), VARIANTS, ids=lambda v: str(v))
def test_metadata_is_complete(name, params):
    s = surfaces.get(name, **params)
    assert s.name == name and s.title and s.latex
    (x0, x1), (y0, y1) = s.domain
    assert x0 < x1 and y0 < y1
    assert x0 <= s.start[0] <= x1 and y0 <= s.start[1] <= y1
    for opt in ("adam", "adamw", "rmsprop", "adagrad", "sgd"):
        assert s.lr[opt] > 0
    if s.min_value is None:
        assert s.minima == ()
    for mx, my in s.minima:
        assert x0 <= mx <= x1 and y0 <= my <= y1


@pytest.mark.parametrize(("name", "params"), VARIANTS, ids=lambda v: str(v))
def test_gradient_matches_central_differences(name, params):
    s = surfaces.get(name, **params)
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    (x0, x1), (y0, y1) = s.domain
    pts = np.column_stack([rng.uniform(x0, x1, 200), rng.uniform(y0, y1, 200)])
    for x, y in pts:
        hx, hy = 1e-6 * max(1.0, abs(x)), 1e-6 * max(1.0, abs(y))
        fd = ((s.value(x + hx, y) - s.value(x - hx, y)) / (2 * hx),
              (s.value(x, y + hy) - s.value(x, y - hy)) / (2 * hy))
        g = s.grad(x, y)
        # Central differences carry ~h^2 f''' truncation and ~eps |f| / h rounding error.
        scale = max(1.0, abs(s.value(x, y)) * 1e-4, abs(g[0]), abs(g[1]))
        assert g == pytest.approx(fd, rel=2e-5, abs=2e-5 * scale), (name, x, y)


@pytest.mark.parametrize(("name", "params"), [v for v in VARIANTS if v[0] not in ("saddle", "monkey_saddle",
                                                                                  "noisy_saddle")])
def test_known_minima(name, params):
    s = surfaces.get(name, **params)
    assert s.minima
    # To double precision: the loss chart plots f − f* and the distance to the nearest minimum on log scales
    # down to ~1e-16, where minima rounded to the usual 6-8 digits showed a floor that is not there.
    for mx, my in s.minima:
        assert s.value(mx, my) == pytest.approx(s.min_value, abs=4e-16 * max(1.0, abs(s.min_value)))
        gx, gy = s.grad(mx, my)
        assert math.hypot(gx, gy) < 1e-12
    # No point of a fine grid over the domain lies below the global minimum.
    (x0, x1), (y0, y1) = s.domain
    grid = s.values(np.linspace(x0, x1, 301), np.linspace(y0, y1, 301))
    assert grid.min() >= s.min_value - 1e-9


def test_values_grid_matches_pointwise():
    s = surfaces.get("beale")
    xs, ys = np.linspace(-1, 2, 7), np.linspace(0, 3, 5)
    grid = s.values(xs, ys)
    assert grid.shape == (5, 7)
    assert grid[3, 2] == s.value(xs[2], ys[3])


def test_saddles_are_unbounded_and_noisy_saddle_has_noise():
    for name in ("saddle", "monkey_saddle", "noisy_saddle"):
        s = surfaces.get(name)
        assert s.min_value is None and s.minima == ()
    assert surfaces.get("noisy_saddle").noise > 0
    assert surfaces.get("saddle").noise == 0


def test_ackley_gradient_is_defined_at_its_minimum():
    assert surfaces.get("ackley").grad(0.0, 0.0) == (0.0, 0.0)


def test_rotated_quadratic_has_the_requested_condition_number():
    s = surfaces.get("quadratic", kappa=50.0, angle=30.0)
    h11, h12, h22 = s.params
    eig = np.linalg.eigvalsh([[h11, h12], [h12, h22]])
    assert eig[1] / eig[0] == pytest.approx(50.0)


def test_the_quadratic_names_its_symbols_and_the_bound_it_states_holds():
    s = surfaces.get("quadratic", kappa=50.0, angle=30.0)
    assert "λ = 0.2 along u" in s.description and "κλ = 10 along v" in s.description
    assert "turned by 30°" in s.description and "lr < 2/(κλ) = 0.2." in s.description
    import optiviz

    below, above = optiviz.simulate(s, [optiviz.RunSpec("sgd", lr=0.19), optiviz.RunSpec("sgd", lr=0.21)],
                                    start=s.start, steps=2000).runs
    assert below.loss[-1] < 1e-12 * below.loss[0]  # converges below the bound
    assert above.diverged_at is not None or above.loss[-1] > above.loss[0]  # not above it


def test_goldstein_prices_description_is_what_its_defaults_do():
    import optiviz

    s = surfaces.get("goldstein_price")
    assert s.lr["adam"] / s.lr["sgd"] == pytest.approx(2000) and "2,000 times smaller" in s.description
    runs = optiviz.simulate(s, optiviz.default_runs(s), start=s.start, steps=1000).runs
    final = {run.optimizer: run.loss[-1] for run in runs}
    assert final["sgd"] == pytest.approx(3.0, abs=0.05)
    assert all(final[o] == pytest.approx(30.0, abs=0.01) for o in ("adam", "rmsprop", "adagrad"))


def _default_runs(name, steps=1000):
    import optiviz

    s = surfaces.get(name)
    return s, {run.optimizer: run for run in optiviz.simulate(s, optiviz.default_runs(s), start=s.start,
                                                                steps=steps).runs}


def _stays_within(run, size):
    """Over its last 100 steps the run keeps inside a box of ``size`` (RMSProp and SGD jitter in place)."""
    return np.ptp(run.path[-100:], axis=0).max() < size


def test_ackleys_description_is_what_its_defaults_do():
    s, runs = _default_runs("ackley")
    assert "Adam, RMSProp and SGD stop in the nearest ripple (f ≈ 8)" in s.description
    for o in ("adam", "rmsprop", "sgd"):
        # ripples 1 apart: jittering in one of them is staying there
        assert _stays_within(runs[o], 0.25) and 7.5 < runs[o].loss[-1] < 8.5 and np.hypot(*runs[o].path[-1]) > 3
    assert s.lr["adagrad"] == 1.0 and "(1)" in s.description
    assert runs["adagrad"].loss[-1] < 0.1 and np.hypot(*runs["adagrad"].path[-1]) < 0.05  # in the funnel


def test_levis_description_is_what_its_defaults_do():
    s, runs = _default_runs("levi")
    assert "Adam and RMSProp stop in ripples" in s.description and "f ≈ 2.2" in s.description
    assert _stays_within(runs["adam"], 0.1) and _stays_within(runs["rmsprop"], 0.1)  # ripples 1/3 apart
    sgd = runs["sgd"].path
    # a cycle of three points (drifting by less than 1e-6 a round), each a good step from the others
    assert np.allclose(sgd[-3:], sgd[-6:-3], rtol=0, atol=1e-6) and np.allclose(sgd[-3:], sgd[-30:-27], atol=1e-4)
    assert min(np.hypot(*(sgd[i] - sgd[j])) for i, j in ((-1, -2), (-2, -3), (-1, -3))) > 0.1
    final = {o: run.loss[-1] for o, run in runs.items()}
    assert final["adagrad"] == pytest.approx(2.2, abs=0.05) and min(final, key=final.get) == "adagrad"

"""Property tests (hypothesis): invariances of the optimizers and contracts of the engine.

- the engine equals the plain-Python reference on random optimizers, hyperparameters, surfaces,
  starts, step counts and noise (divergence included);
- Adam is invariant to scaling the loss (exactly, for powers of two with eps scaled along; nearly,
  with a fixed eps), checked through the reference on any surface and through the engine with the
  quadratic bowl's per-axis curvature;
- lr = 0 never moves; SGD without momentum is plain gradient descent;
- the noise is seeded, drawn once and shared by every run of a simulation;
- diverging runs stop quietly (no RuntimeWarning).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from _reference import noise_array, reference_run, state_keys
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optiviz
import surfaces

RTOL = 1e-9
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(SETTINGS, max_examples=150)

SURFACE_NAMES = [n for n in surfaces.names() if n != "quadratic"]


def assert_close(got, want, what: str, rtol: float = RTOL) -> None:
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if want.size == 0:
        return
    err = np.max(np.abs(got - want))
    scale = max(1.0, float(np.max(np.abs(want))))
    assert err <= rtol * scale, f"{what}: max |diff| = {err:.3e} > {rtol:g} * {scale:.3g}"


# --------------------------------------------------------------------------------------------
# Strategies

unit = st.floats(0.0, 1.0, allow_nan=False)
small_decay = st.one_of(st.just(0.0), st.floats(1e-4, 0.5))
positive_eps = st.floats(1e-12, 1e-2)
log_lr = st.floats(-5.0, 0.5).map(lambda e: 10.0**e)


@st.composite
def hyperparameters(draw, optimizer: str, eps=positive_eps) -> dict:
    """Valid torch hyperparameters for ``optimizer`` (lr excluded), every option reachable."""
    if optimizer == "sgd":
        momentum = draw(st.one_of(st.just(0.0), st.floats(0.0, 0.99)))
        nesterov = momentum > 0 and draw(st.booleans())
        dampening = 0.0 if nesterov else draw(st.one_of(st.just(0.0), unit))
        return dict(momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=draw(small_decay))
    if optimizer == "adagrad":
        return dict(
            lr_decay=draw(st.one_of(st.just(0.0), st.floats(0.0, 0.1))),
            weight_decay=draw(small_decay),
            initial_accumulator_value=draw(st.one_of(st.just(0.0), st.floats(0.0, 2.0))),
            eps=draw(eps),
        )
    if optimizer == "rmsprop":
        return dict(
            alpha=draw(st.floats(0.0, 0.999)),
            eps=draw(eps),
            weight_decay=draw(small_decay),
            momentum=draw(st.one_of(st.just(0.0), st.floats(0.0, 0.95))),
            centered=draw(st.booleans()),
        )
    return dict(
        betas=(draw(st.floats(0.0, 0.999)), draw(st.floats(0.0, 0.9999))),
        eps=draw(eps),
        weight_decay=draw(small_decay),
        amsgrad=draw(st.booleans()),
    )


@st.composite
def run_specs(draw, eps=positive_eps, lr=log_lr) -> optiviz.RunSpec:
    optimizer = draw(st.sampled_from(["sgd", "adagrad", "rmsprop", "adam", "adamw"]))
    return optiviz.RunSpec(optimizer, lr=draw(lr), **draw(hyperparameters(optimizer, eps=eps)))


@st.composite
def surface_and_start(draw):
    name = draw(st.sampled_from([*SURFACE_NAMES, "quadratic"]))
    if name == "quadratic":
        surf = surfaces.get("quadratic", kappa=draw(st.floats(1.0, 1e3)), angle=draw(st.floats(-180.0, 180.0)))
    else:
        surf = surfaces.get(name)
    (x0, x1), (y0, y1) = surf.domain
    start = (draw(st.floats(x0, x1)), draw(st.floats(y0, y1)))
    return surf, start


# --------------------------------------------------------------------------------------------
# The engine against the reference, on anything


@FUZZ
@given(
    where=surface_and_start(),
    specs=st.lists(run_specs(), min_size=1, max_size=3),
    steps=st.integers(1, 80),
    sigma=st.sampled_from([0.0, 0.0, 0.1, 2.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_engine_equals_reference_on_random_scenarios(where, specs, steps, sigma, seed):
    """Open loop: the reference replays the gradients the engine recorded (so that a chaotic
    surface cannot amplify an ulp into a visible difference), then takes over at the step where
    the engine stopped and must stop there too; separately, each recorded gradient must be the
    surface's gradient at the recorded position plus that step's noise."""
    surf, start = where
    sim = optiviz.simulate(surf, specs, start=start, steps=steps, noise=sigma, seed=seed)
    noise = noise_array(sigma, seed, steps) if sigma != 0 else None
    for spec, run in zip(specs, sim.runs, strict=True):
        n = run.grad.shape[0]
        exact = np.array([surf.grad(*p) for p in run.path[:n]], dtype=np.float64).reshape(n, 2)
        if noise is not None:
            exact = exact + noise[:n]
        assert_close(run.grad, exact, "grad vs surface.grad(path) + noise")
        ref = reference_run(surf, spec.optimizer, spec.hyper, start, steps, noise=noise, grads=run.grad)
        assert run.diverged_at == ref.diverged_at, spec
        assert set(run.state) == set(state_keys(spec.optimizer, spec.hyper))
        assert_close(run.path, ref.path, "path")
        assert_close(run.loss, ref.loss, "loss")
        assert_close(run.grad, ref.grad, "grad")
        for key, series in ref.state.items():
            assert_close(run.state[key], series, f"state[{key!r}]")


# --------------------------------------------------------------------------------------------
# Adam is invariant to the scale of the loss


class Scaled:
    """``c * f`` for a surface ``f`` (what the reference needs: value, grad, domain)."""

    def __init__(self, base, c: float) -> None:
        self.base, self.c, self.domain = base, c, base.domain

    def value(self, x: float, y: float) -> float:
        return self.c * self.base.value(x, y)

    def grad(self, x: float, y: float) -> tuple[float, float]:
        gx, gy = self.base.grad(x, y)
        return self.c * gx, self.c * gy


STARTS = {"rosenbrock": (-1.5, 2.0), "beale": (1.0, 1.5), "himmelblau": (0.0, 0.0), "booth": (-8.0, -8.0)}


@SETTINGS
@given(
    name=st.sampled_from(sorted(STARTS)),
    k=st.integers(-30, 30),
    optimizer=st.sampled_from(["adam", "adamw"]),
    lr=st.floats(1e-3, 0.1),
    amsgrad=st.booleans(),
    betas=st.tuples(st.floats(0.0, 0.99), st.floats(0.5, 0.9999)),
)
def test_adam_path_is_exactly_invariant_to_power_of_two_loss_scaling(name, k, optimizer, lr, amsgrad, betas):
    """c f with eps c, c = 2**k: every intermediate is scaled by a power of two, so the path is
    bit for bit the same, exp_avg is scaled by c and exp_avg_sq by c**2 (reference)."""
    c = 2.0**k
    base = surfaces.get(name)
    hyper = dict(lr=lr, betas=betas, eps=1e-8, amsgrad=amsgrad, weight_decay=0.0)
    ref = reference_run(base, optimizer, hyper, STARTS[name], 100, box=None)
    scaled = reference_run(Scaled(base, c), optimizer, dict(hyper, eps=1e-8 * c), STARTS[name], 100, box=None)
    assert scaled.diverged_at == ref.diverged_at
    np.testing.assert_array_equal(scaled.path, ref.path)
    np.testing.assert_array_equal(scaled.state["exp_avg"], c * ref.state["exp_avg"])
    np.testing.assert_array_equal(scaled.state["exp_avg_sq"], (c * c) * ref.state["exp_avg_sq"])


@SETTINGS
@given(
    name=st.sampled_from(sorted(STARTS)),
    log_c=st.floats(-2.0, 2.0),
    lr=st.floats(1e-3, 0.05),
    amsgrad=st.booleans(),
)
def test_adam_path_is_nearly_unchanged_when_the_loss_is_scaled(name, log_c, lr, amsgrad):
    """Any c in [0.01, 100] with torch's default eps: only eps breaks the invariance (reference)."""
    c = 10.0**log_c
    base = surfaces.get(name)
    hyper = dict(lr=lr, amsgrad=amsgrad)
    ref = reference_run(base, "adam", hyper, STARTS[name], 200)
    scaled = reference_run(Scaled(base, c), "adam", hyper, STARTS[name], 200)
    assert ref.diverged_at is None and scaled.diverged_at is None
    assert_close(scaled.path, ref.path, "path", rtol=1e-5)


@SETTINGS
@given(
    k=st.integers(0, 12),
    x=st.floats(0.5, 5.5).flatmap(lambda v: st.sampled_from([v, -v])),
    y=st.floats(0.5, 5.5).flatmap(lambda v: st.sampled_from([v, -v])),
    optimizer=st.sampled_from(["adam", "adamw"]),
    lr=st.floats(1e-3, 0.1),
    amsgrad=st.booleans(),
)
def test_engine_adam_is_exactly_invariant_to_per_axis_curvature(k, x, y, optimizer, lr, amsgrad):
    """Axis-aligned quadratic bowl, kappa = 2**k scales the y-gradient by a power of two; Adam
    with eps=0 and no weight decay then takes bit for bit the same path (engine)."""
    runs = [optiviz.RunSpec(optimizer, lr=lr, eps=0.0, weight_decay=0.0, amsgrad=amsgrad)]
    base = optiviz.simulate(surfaces.get("quadratic", kappa=1.0, angle=0.0), runs, start=(x, y), steps=150)
    bent = optiviz.simulate(surfaces.get("quadratic", kappa=2.0**k, angle=0.0), runs, start=(x, y), steps=150)
    a, b = base.runs[0], bent.runs[0]
    assert a.diverged_at == b.diverged_at
    np.testing.assert_array_equal(b.path, a.path)
    np.testing.assert_array_equal(b.state["exp_avg"][:, 0], a.state["exp_avg"][:, 0])
    np.testing.assert_array_equal(b.state["exp_avg"][:, 1], 2.0**k * a.state["exp_avg"][:, 1])


@SETTINGS
@given(kappa=st.floats(1.0, 1e3), lr=st.floats(5e-3, 0.05), amsgrad=st.booleans())
def test_engine_adam_path_nearly_unchanged_by_curvature(kappa, lr, amsgrad):
    """Any kappa with torch's default eps: the x path is identical, the y path moves by eps only."""
    runs = [optiviz.RunSpec("adam", lr=lr, amsgrad=amsgrad)]
    a = optiviz.simulate(surfaces.get("quadratic", kappa=1.0), runs, start=(-5.0, -2.0), steps=200).runs[0]
    b = optiviz.simulate(surfaces.get("quadratic", kappa=kappa), runs, start=(-5.0, -2.0), steps=200).runs[0]
    assert a.diverged_at is None and b.diverged_at is None
    np.testing.assert_array_equal(b.path[:, 0], a.path[:, 0])
    assert_close(b.path, a.path, "path", rtol=1e-5)


# --------------------------------------------------------------------------------------------
# lr = 0 never moves; SGD without momentum is gradient descent


@SETTINGS
@given(
    where=surface_and_start(),
    spec=run_specs(lr=st.just(0.0)),
    sigma=st.sampled_from([0.0, 0.5]),
    seed=st.integers(0, 1000),
)
def test_zero_learning_rate_never_moves(where, spec, sigma, seed):
    surf, start = where
    run = optiviz.simulate(surf, [spec], start=start, steps=50, noise=sigma, seed=seed).runs[0]
    if run.diverged_at is not None:
        # Only a non-finite gradient or state can stop a run that does not move (e.g. centered
        # RMSprop's sqrt of a rounding-negative number, as in torch); never the escape box.
        assert getattr(run, "diverged_reason", "non-finite") == "non-finite"
    assert np.all(run.path == np.array(start)), spec
    assert np.all(run.loss == run.loss[0])


@SETTINGS
@given(
    where=surface_and_start(),
    lr=log_lr,
    dampening=st.one_of(st.just(0.0), unit),
    weight_decay=small_decay,
    sigma=st.sampled_from([0.0, 0.3]),
    seed=st.integers(0, 1000),
)
def test_sgd_without_momentum_is_gradient_descent(where, lr, dampening, weight_decay, sigma, seed):
    """p_{t+1} = p_t - lr (g_t + wd p_t), bit for bit; dampening is ignored without momentum."""
    surf, start = where
    spec = optiviz.RunSpec("sgd", lr=lr, momentum=0.0, dampening=dampening, weight_decay=weight_decay)
    run = optiviz.simulate(surf, [spec], start=start, steps=60, noise=sigma, seed=seed).runs[0]
    assert run.state == {}
    p, g = run.path[:-1], run.grad
    d = g + weight_decay * p if weight_decay != 0 else g
    np.testing.assert_array_equal(run.path[1:], p - lr * d)


# --------------------------------------------------------------------------------------------
# Noise: seeded, drawn once, shared


@SETTINGS
@given(
    specs=st.lists(run_specs(lr=st.floats(1e-4, 1e-2)), min_size=2, max_size=4),
    sigma=st.floats(0.01, 3.0),
    seed=st.integers(0, 2**32 - 1),
    name=st.sampled_from(["rosenbrock", "saddle", "noisy_saddle", "himmelblau", "rastrigin"]),
)
def test_noise_is_seeded_and_shared_by_every_run(specs, sigma, seed, name):
    steps = 40
    surf = surfaces.get(name)
    sim = optiviz.simulate(name, specs, start=surf.start, steps=steps, noise=sigma, seed=seed)
    again = optiviz.simulate(name, specs, start=surf.start, steps=steps, noise=sigma, seed=seed)
    noise = sigma * np.random.default_rng(seed).standard_normal((steps, 2))
    for run, twin in zip(sim.runs, again.runs, strict=True):
        np.testing.assert_array_equal(run.path, twin.path)
        np.testing.assert_array_equal(run.grad, twin.grad)
        assert run.diverged_at == twin.diverged_at
        for key in run.state:
            np.testing.assert_array_equal(run.state[key], twin.state[key])
        # Step t+1 received grad(path[t]) + sigma * xi[t]: every run the same xi.
        for t in range(run.grad.shape[0]):
            gx, gy = surf.grad(*run.path[t])
            assert (run.grad[t, 0], run.grad[t, 1]) == (gx + noise[t, 0], gy + noise[t, 1]), (t, run.spec)
    # A different seed, different noise (a still run, so that both record every step).
    still = [optiviz.RunSpec("sgd", lr=0.0)]
    a = optiviz.simulate(name, still, start=surf.start, steps=steps, noise=sigma, seed=seed).runs[0]
    b = optiviz.simulate(name, still, start=surf.start, steps=steps, noise=sigma, seed=seed + 1).runs[0]
    assert a.grad.shape == b.grad.shape == (steps, 2)
    assert not np.array_equal(a.grad, b.grad)


def test_default_noise_only_on_noisy_saddle():
    spec = [optiviz.RunSpec("sgd", lr=1e-2)]
    for name in surfaces.names():
        surf = surfaces.get(name)
        default = optiviz.simulate(name, spec, start=surf.start, steps=20, noise=None, seed=5).runs[0]
        zero = optiviz.simulate(name, spec, start=surf.start, steps=20, noise=0.0, seed=5).runs[0]
        if name == "noisy_saddle":
            assert not np.array_equal(default.grad, zero.grad)
            # the residual is sigma * xi for one sigma > 0
            xi = np.random.default_rng(5).standard_normal((20, 2))
            exact = np.array([surf.grad(*p) for p in default.path[:-1]])
            ratio = (default.grad - exact) / xi
            assert np.all(ratio > 0) and np.allclose(ratio, ratio[0, 0], rtol=1e-6, atol=0)
        else:
            np.testing.assert_array_equal(default.path, zero.path)
            np.testing.assert_array_equal(default.grad, zero.grad)


def test_noiseless_saddle_start_on_the_ridge_stays_there_noisy_one_leaves():
    spec = [optiviz.RunSpec("adam", lr=1e-2)]
    quiet = optiviz.simulate("saddle", spec, start=(-1.8, 0.0), steps=300, noise=0.0).runs[0]
    assert np.all(quiet.path[:, 1] == 0.0)
    noisy = optiviz.simulate("noisy_saddle", spec, start=(-1.8, 0.0), steps=300, seed=0).runs[0]
    assert np.max(np.abs(noisy.path[:, 1])) > 0.1


# --------------------------------------------------------------------------------------------
# Divergence is quiet


@SETTINGS
@given(
    name=st.sampled_from(["rosenbrock", "beale", "goldstein_price", "saddle", "monkey_saddle", "styblinski_tang"]),
    spec=run_specs(lr=st.floats(0.5, 1e3)),
    steps=st.integers(1, 300),
    sigma=st.sampled_from([0.0, 10.0]),
)
def test_diverging_runs_raise_no_warning(name, spec, steps, sigma):
    surf = surfaces.get(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            sim = optiviz.simulate(
                name, [spec, optiviz.RunSpec("sgd", lr=0.0)], start=surf.start, steps=steps, noise=sigma, seed=0
            )
    run, still = sim.runs
    assert still.diverged_at is None and still.path.shape == (steps + 1, 2)
    n = run.grad.shape[0]
    assert run.path.shape == (n + 1, 2) and run.loss.shape == (n + 1,)
    if run.diverged_at is not None:
        assert run.diverged_at == n + 1
    else:
        assert n == steps
    for arr in (run.path, run.loss, run.grad, *run.state.values()):
        assert np.all(np.isfinite(arr))
    (x0, x1), (y0, y1) = surf.domain
    cx, cy, hx, hy = (x0 + x1) / 2, (y0 + y1) / 2, 50 * (x1 - x0), 50 * (y1 - y0)
    assert np.all(np.abs(run.path[:, 0] - cx) <= hx) and np.all(np.abs(run.path[:, 1] - cy) <= hy)


def test_sgd_on_rosenbrock_overflows_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = optiviz.simulate("rosenbrock", [optiviz.RunSpec("sgd", lr=1e-2)], start=(-1.5, 2.0), steps=500).runs[0]
    assert run.diverged_at is not None and run.diverged_at < 50
    assert run.path.shape == (run.diverged_at, 2)
    assert math.isfinite(run.loss[-1])


@pytest.mark.parametrize("sigma", [1e308, 1e200])
def test_overflowing_noise_diverges_quietly(sigma):
    """A finite but huge sigma: sigma * xi (or g * g) overflows; the run stops, without a warning."""
    specs = [optiviz.RunSpec("sgd", lr=1e-3), optiviz.RunSpec("adam", lr=0.1)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim = optiviz.simulate("quadratic", specs, start=(1.0, 1.0), steps=100, noise=sigma, seed=0)
    for run in sim.runs:
        assert run.diverged_at is not None
        assert getattr(run, "diverged_reason", "non-finite") in ("non-finite", "escaped")
        assert run.path.shape == (run.diverged_at, 2)


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad", "rmsprop", "adam", "adamw"])
def test_reference_lr_zero_sanity(optimizer):
    """The reference itself: lr = 0 leaves the start untouched (guards the helper, not the engine)."""
    ref = reference_run(surfaces.get("beale"), optimizer, dict(lr=0.0), (1.0, 1.5), 20)
    assert ref.diverged_at is None
    assert np.all(ref.path == np.array([1.0, 1.5]))

"""Parity: the engine against the plain-Python reference (always) and against torch.optim (when installed).

Every optimizer option is crossed with several surfaces over 300 steps. Positions, losses,
gradients and every state buffer must agree within 1e-9 of the series' scale. The reference
(tests/_reference.py) replays torch's ``_single_tensor_*`` arithmetic op by op; torch is fed the
gradients the engine recorded (``run.grad``), assigned to ``p.grad``, so that both see the same
inputs and only the optimizer arithmetic is compared.

Why a tolerance rather than bit equality with torch: the torch 2.13 CPU wheel contracts
``add(alpha=)``, ``addcmul`` and ``lerp`` into fused multiply-adds and its ``sqrt`` (MKL VML) is
not correctly rounded, so a plain float64 implementation differs from it by an ulp here and there.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from _reference import noise_array, reference_run, run_torch, state_keys

import optiviz
import surfaces

STEPS = 300
RTOL = 1e-9


def assert_close(got, want, what: str) -> None:
    """Every element of ``got`` within ``RTOL`` of the series' scale (``max(1, max|want|)``)."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if want.size == 0:
        return
    assert np.all(np.isfinite(got)), f"{what}: non-finite values recorded"
    err = np.max(np.abs(got - want))
    scale = max(1.0, float(np.max(np.abs(want))))
    if not err <= RTOL * scale:
        row = int(np.argmax(np.max(np.abs(got - want).reshape(len(got), -1), axis=1)))
        raise AssertionError(
            f"{what}: max |diff| = {err:.3e} > {RTOL:g} * {scale:.3g}; first worst row {row}: "
            f"got {got[row]!r}, want {want[row]!r}"
        )


# --------------------------------------------------------------------------------------------
# The table: every optimizer and every option. ``lr_scale`` multiplies the surface's learning rate
# for that optimizer (momentum makes SGD's effective step ~10x larger).

CONFIGS: list[tuple[str, str, dict, float]] = [
    ("sgd", "plain", {}, 1.0),
    ("sgd", "momentum", dict(momentum=0.9), 0.1),
    ("sgd", "dampening", dict(momentum=0.9, dampening=0.5), 0.1),
    ("sgd", "nesterov", dict(momentum=0.9, nesterov=True), 0.1),
    ("sgd", "weight_decay", dict(weight_decay=0.1), 1.0),
    ("sgd", "momentum_weight_decay", dict(momentum=0.5, weight_decay=0.05), 0.1),
    ("adagrad", "default", {}, 1.0),
    ("adagrad", "lr_decay", dict(lr_decay=0.01), 1.0),
    ("adagrad", "weight_decay", dict(weight_decay=0.1), 1.0),
    ("adagrad", "initial_accumulator_value", dict(initial_accumulator_value=0.5), 1.0),
    ("adagrad", "eps", dict(eps=1e-3), 1.0),
    ("rmsprop", "plain", {}, 1.0),
    ("rmsprop", "centered", dict(centered=True), 1.0),
    ("rmsprop", "momentum", dict(momentum=0.9), 1.0),
    ("rmsprop", "weight_decay", dict(weight_decay=0.1), 1.0),
    ("rmsprop", "alpha", dict(alpha=0.9), 1.0),
    ("rmsprop", "eps", dict(eps=1e-4), 1.0),
    # alpha < 0.5: grad_avg's lerp weight 1 - alpha >= 0.5 takes ATen's other lerp branch.
    ("rmsprop", "centered_momentum_alpha_lt_half", dict(centered=True, momentum=0.5, alpha=0.3), 0.3),
    ("adam", "default", {}, 1.0),
    ("adam", "amsgrad", dict(amsgrad=True), 1.0),
    ("adam", "weight_decay", dict(weight_decay=0.1), 1.0),
    # beta1 < 0.5: exp_avg's lerp weight 1 - beta1 >= 0.5 takes ATen's other lerp branch.
    ("adam", "beta1_lt_half", dict(betas=(0.3, 0.9)), 1.0),
    ("adam", "eps", dict(eps=1e-3), 1.0),
    ("adam", "amsgrad_weight_decay", dict(amsgrad=True, weight_decay=0.05), 1.0),
    ("adamw", "default", {}, 1.0),
    ("adamw", "weight_decay", dict(weight_decay=0.5), 1.0),
    ("adamw", "amsgrad_weight_decay", dict(amsgrad=True, weight_decay=0.1), 1.0),
    ("adamw", "betas_eps", dict(betas=(0.4, 0.99), eps=1e-6), 1.0),
    # optiviz's extension (the Keras/optax convention): epsilon inside the square root. Compared with
    # the reference only; torch.optim has no such option.
    ("adagrad", "eps_inside_sqrt", dict(eps_inside_sqrt=True, eps=1e-3), 1.0),
    ("rmsprop", "eps_inside_sqrt_centered", dict(eps_inside_sqrt=True, centered=True, eps=1e-4), 1.0),
    ("adam", "eps_inside_sqrt_amsgrad", dict(eps_inside_sqrt=True, amsgrad=True, eps=1e-3), 1.0),
    ("adamw", "eps_inside_sqrt", dict(eps_inside_sqrt=True), 1.0),
    # optiviz's other extension: Adam without bias correction (apex's FusedAdam(bias_correction=False)).
    # Its early steps are up to ~6x lr (v starts at 0 and is not scaled up), hence the smaller lr.
    ("adam", "no_bias_correction", dict(bias_correction=False), 0.3),
    ("adam", "no_bias_correction_amsgrad_eps_inside_sqrt",
     dict(bias_correction=False, amsgrad=True, eps_inside_sqrt=True, eps=1e-3), 0.3),
    ("adamw", "no_bias_correction", dict(bias_correction=False, weight_decay=0.1), 0.3),
    ("adamw", "no_bias_correction_beta1_lt_half", dict(bias_correction=False, betas=(0.4, 0.9)), 0.3),
]


def _torch_has(opt: str, hyper: dict) -> bool:
    """Whether torch.optim has these settings (no optiviz extension set away from torch's behaviour)."""
    return not optiviz.RunSpec(opt, **hyper).extensions


def _lrs(sgd, adagrad, rmsprop, adam):
    return dict(sgd=sgd, adagrad=adagrad, rmsprop=rmsprop, adam=adam, adamw=adam)


# id -> (surface factory, start, noise sigma (None: the surface's default), seed, learning rates)
SURFACES = {
    "rosenbrock": (lambda: surfaces.get("rosenbrock"), (-1.5, 2.0), 0.0, 0, _lrs(1e-3, 0.5, 3e-3, 2e-2)),
    "beale": (lambda: surfaces.get("beale"), (1.0, 1.5), 0.0, 0, _lrs(1e-2, 0.5, 5e-3, 5e-2)),
    "himmelblau": (lambda: surfaces.get("himmelblau"), (0.0, 0.0), 0.0, 0, _lrs(5e-3, 0.5, 2e-2, 5e-2)),
    "quadratic_rotated": (
        lambda: surfaces.get("quadratic", kappa=20.0, angle=30.0),
        (-5.0, -2.0),
        0.0,
        0,
        _lrs(0.1, 0.5, 2e-2, 5e-2),
    ),
    "saddle": (lambda: surfaces.get("saddle"), (-1.8, 1e-3), 0.0, 0, _lrs(1e-2, 0.1, 1e-2, 1e-2)),
    "noisy_saddle": (lambda: surfaces.get("noisy_saddle"), (-1.8, 0.0), None, 1, _lrs(1e-2, 0.1, 1e-2, 1e-2)),
    "rosenbrock_noise": (lambda: surfaces.get("rosenbrock"), (-1.5, 2.0), 0.5, 7, _lrs(1e-3, 0.5, 3e-3, 2e-2)),
}

CASES = [pytest.param(sid, opt, cid, id=f"{sid}-{opt}-{cid}") for sid in SURFACES for opt, cid, _, _ in CONFIGS]
TORCH_CASES = [
    pytest.param(sid, opt, cid, id=f"{sid}-{opt}-{cid}")
    for sid in SURFACES
    for opt, cid, hyper, _ in CONFIGS
    if _torch_has(opt, hyper)
]

_CONFIG = {(opt, cid): (hyper, scale) for opt, cid, hyper, scale in CONFIGS}


def _spec(sid: str, opt: str, cid: str) -> optiviz.RunSpec:
    hyper, scale = _CONFIG[(opt, cid)]
    return optiviz.RunSpec(opt, lr=SURFACES[sid][4][opt] * scale, **hyper)


@functools.cache
def _simulation(sid: str):
    """All configurations on one surface in one simulation (they share the noise)."""
    factory, start, noise, seed, _ = SURFACES[sid]
    specs = [_spec(sid, opt, cid) for opt, cid, _, _ in CONFIGS]
    return optiviz.simulate(factory(), specs, start=start, steps=STEPS, noise=noise, seed=seed)


def _engine_run(sid: str, opt: str, cid: str):
    sim = _simulation(sid)
    index = [(o, c) for o, c, _, _ in CONFIGS].index((opt, cid))
    run = sim.runs[index]
    assert run.optimizer == opt
    return sim, run


def _sigma(sim, sid: str) -> float:
    noise = SURFACES[sid][2]
    return sim.surface.noise if noise is None else noise


@functools.cache
def _reference(sid: str, opt: str, cid: str):
    sim, run = _engine_run(sid, opt, cid)
    _, start, _, seed, _ = SURFACES[sid]
    sigma = _sigma(sim, sid)
    noise = noise_array(sigma, seed, STEPS) if sigma != 0 else None
    return reference_run(sim.surface, opt, run.spec.hyper, start, STEPS, noise=noise)


def test_table_covers_every_optimizer_and_option():
    covered: dict[str, set[str]] = {}
    for opt, _, hyper, _ in CONFIGS:
        covered.setdefault(opt, set()).update(hyper)
    assert set(covered) == {"sgd", "adagrad", "rmsprop", "adam", "adamw"}
    for opt, keys in covered.items():
        assert keys | {"lr"} == set(optiviz.RunSpec(opt).hyper), opt


@pytest.mark.parametrize(("sid", "opt", "cid"), CASES)
def test_engine_matches_reference(sid, opt, cid):
    _, run = _engine_run(sid, opt, cid)
    ref = _reference(sid, opt, cid)
    assert run.diverged_at is None, f"{sid} {run.spec}: diverged at {run.diverged_at}"
    assert ref.diverged_at is None
    assert run.path.shape == (STEPS + 1, 2)
    assert run.loss.shape == (STEPS + 1,)
    assert run.grad.shape == (STEPS, 2)
    assert set(run.state) == set(state_keys(opt, run.spec.hyper))
    assert_close(run.path, ref.path, "path")
    assert_close(run.loss, ref.loss, "loss")
    assert_close(run.grad, ref.grad, "grad")
    for key, series in ref.state.items():
        assert run.state[key].shape == (STEPS + 1, 2), key
        assert_close(run.state[key], series, f"state[{key!r}]")


@pytest.mark.parametrize(("sid", "opt", "cid"), TORCH_CASES)
def test_engine_matches_torch(sid, opt, cid):
    pytest.importorskip("torch")
    _, run = _engine_run(sid, opt, cid)
    path, state = run_torch(opt, run.spec.hyper, run.path[0], run.grad)
    assert_close(run.path, path, "path vs torch")
    assert set(run.state) == set(state)
    for key, series in state.items():
        assert_close(run.state[key], series, f"state[{key!r}] vs torch")


@pytest.mark.parametrize(("sid", "opt", "cid"), CASES)
def test_engine_follows_torchs_op_order_bit_for_bit(sid, opt, cid):
    """Stricter than parity (and not a user-facing promise): replaying the engine's gradients, the
    reference, which evaluates torch's ``_single_tensor_*`` ops in torch's order with ATen's scalar
    formulas, reproduces the engine's positions and buffers exactly. A 1e-9 tolerance cannot see
    an op-order slip (e.g. the wrong lerp branch); this can."""
    sim, run = _engine_run(sid, opt, cid)
    ref = reference_run(sim.surface, opt, run.spec.hyper, run.path[0], STEPS, grads=run.grad)
    np.testing.assert_array_equal(run.path, ref.path)
    for key, series in ref.state.items():
        np.testing.assert_array_equal(run.state[key], series, err_msg=key)


@pytest.mark.parametrize(("beta2", "first"), [(0.5, 53), (0.6, 72), (0.995, 69)])
def test_adam_bias_correction2_sqrt_is_a_power_as_in_torch(beta2, first):
    """torch computes ``bias_correction2 ** 0.5`` with Python's float power (libm ``pow``), which
    differs by an ulp from ``sqrt(bias_correction2)`` when bias_correction2 is within a few ulps
    of 1 (beta2 = 0.5 at step 53: pow gives 1.0, sqrt 0.9999999999999999). A compiled ``x ** 0.5``
    with a constant exponent is turned into ``sqrt`` by LLVM, so the exponent must not be a
    compile-time constant for the engine to follow torch here."""
    surf = surfaces.get("quadratic", kappa=1.0)
    spec = optiviz.RunSpec("adam", lr=1e-2, betas=(0.9, beta2))
    run = optiviz.simulate(surf, [spec], start=(1e-3, 2e-3), steps=first + 5).runs[0]
    ref = reference_run(surf, "adam", spec.hyper, (1e-3, 2e-3), first + 5, grads=run.grad)
    differs = np.nonzero(np.any(run.path != ref.path, axis=1))[0]
    assert differs.size == 0, f"engine's path differs from torch's op order from step {differs[0]} on"


# --------------------------------------------------------------------------------------------
# Diverging runs: same step, same lengths, same arrays up to there.

DIVERGING = [
    # (surface, start, spec, noise sigma, expected reason)
    # SGD on Rosenbrock (REFERENCE.md: overflows for lr >= ~2e-3 without a box; here it leaves the box first).
    pytest.param("rosenbrock", (-1.5, 2.0), optiviz.RunSpec("sgd", lr=5e-3), 0.0, "escaped", id="rosenbrock-sgd"),
    pytest.param(
        "beale",
        (1.0, 1.5),
        optiviz.RunSpec("sgd", lr=1e-2, momentum=0.9),
        0.0,
        "escaped",
        id="beale-sgd-momentum",
    ),
    pytest.param(
        "goldstein_price", (-1.0, 1.5), optiviz.RunSpec("sgd", lr=1e-2), 0.0, "escaped", id="goldstein_price-sgd"
    ),
    # The saddle is unbounded below: fast runs leave the escape box.
    pytest.param("saddle", (0.5, 0.5), optiviz.RunSpec("sgd", lr=0.5), 0.0, "escaped", id="saddle-sgd"),
    pytest.param(
        "saddle",
        (0.5, 0.5),
        optiviz.RunSpec("adam", lr=5.0, amsgrad=True),
        0.0,
        "escaped",
        id="saddle-adam-amsgrad",
    ),
    pytest.param(
        "noisy_saddle",
        (-1.8, 0.0),
        optiviz.RunSpec("rmsprop", lr=0.3, momentum=0.9, centered=True),
        0.5,
        "escaped",
        id="noisy_saddle-rmsprop",
    ),
    # Non-finite position: one step of size 1e308 * 155 overflows.
    pytest.param("rosenbrock", (-1.5, 2.0), optiviz.RunSpec("sgd", lr=1e308), 0.0, "non-finite", id="sgd-overflow"),
    # Non-finite state while the position stays finite: g*g overflows exp_avg_sq.
    pytest.param("quadratic", (1.0, 1.0), optiviz.RunSpec("adam", lr=0.1), 2e155, "non-finite", id="adam-v-overflow"),
    # Centered RMSprop takes the sqrt of a rounding-negative square_avg - grad_avg**2 (NaN, as torch can):
    # with lr = 0 the gradient is constant and the variance estimate sinks below rounding.
    pytest.param(
        "rosenbrock",
        (-1.5, 2.0),
        optiviz.RunSpec("rmsprop", lr=0.0, alpha=0.5, centered=True),
        0.0,
        "non-finite",
        id="rmsprop-centered-nan",
    ),
]


@pytest.mark.parametrize(("name", "start", "spec", "sigma", "reason"), DIVERGING)
def test_diverging_runs_match_reference_and_torch(name, start, spec, sigma, reason):
    steps = 200
    sim = optiviz.simulate(name, [spec], start=start, steps=steps, noise=sigma, seed=3)
    run = sim.runs[0]
    noise = noise_array(sigma, 3, steps) if sigma != 0 else None
    ref = reference_run(sim.surface, spec.optimizer, spec.hyper, start, steps, noise=noise)

    assert ref.diverged_at is not None and ref.diverged_reason == reason
    assert run.diverged_at == ref.diverged_at
    if hasattr(run, "diverged_reason"):
        assert run.diverged_reason == reason
    t = run.diverged_at
    assert 1 <= t <= steps
    assert run.path.shape == (t, 2)  # rows 0 .. t-1
    assert run.loss.shape == (t,)
    assert run.grad.shape == (t - 1, 2)
    assert set(run.state) == set(state_keys(spec.optimizer, spec.hyper))
    for key in run.state:
        assert run.state[key].shape == (t, 2), key
    for arr in (run.path, run.loss, run.grad, *run.state.values()):
        assert np.all(np.isfinite(arr))

    assert_close(run.path, ref.path, "path")
    assert_close(run.loss, ref.loss, "loss")
    assert_close(run.grad, ref.grad, "grad")
    for key, series in ref.state.items():
        assert_close(run.state[key], series, f"state[{key!r}]")

    try:
        import torch  # noqa: F401
    except ImportError:
        return
    path, state = run_torch(spec.optimizer, spec.hyper, start, run.grad)
    assert_close(run.path, path, "path vs torch")
    for key, series in state.items():
        assert_close(run.state[key], series, f"state[{key!r}] vs torch")


def test_a_diverging_run_does_not_stop_the_others():
    runs = [optiviz.RunSpec("sgd", lr=5e-3), optiviz.RunSpec("adam", lr=2e-2), optiviz.RunSpec("sgd", lr=1e-3)]
    sim = optiviz.simulate("rosenbrock", runs, start=(-1.5, 2.0), steps=STEPS, noise=0.0)
    assert sim.runs[0].diverged_at is not None
    for run in sim.runs[1:]:
        assert run.diverged_at is None
        assert run.path.shape == (STEPS + 1, 2)
        ref = reference_run(sim.surface, run.optimizer, run.spec.hyper, (-1.5, 2.0), STEPS)
        assert_close(run.path, ref.path, "path")


def test_reference_replays_torch_exactly_on_its_own_gradients():
    """The reference alone against torch (no engine involved), on gradients it computes itself."""
    pytest.importorskip("torch")
    surf = surfaces.get("beale")
    for opt, _, hyper, scale in CONFIGS:
        if not _torch_has(opt, hyper):
            continue  # optiviz's extensions: torch.optim has no such option
        h = dict(hyper, lr=SURFACES["beale"][4][opt] * scale)
        ref = reference_run(surf, opt, h, (1.0, 1.5), 100)
        path, state = run_torch(opt, h, (1.0, 1.5), ref.grad)
        assert_close(ref.path, path, f"{opt} {hyper} path")
        for key, series in state.items():
            assert_close(ref.state[key], series, f"{opt} {hyper} state[{key!r}]")

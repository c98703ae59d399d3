"""The engine's contract beyond parity: shapes, divergence, noise, one compiled signature, the CLI."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

import optiviz
import surfaces
from optiviz._kernel import simulate_kernel
from optiviz._text import format_run, parse_run

ALL_RUNS = [
    optiviz.RunSpec("adam", lr=0.05),
    optiviz.RunSpec("adamw", lr=0.05, amsgrad=True),
    optiviz.RunSpec("rmsprop", lr=0.01, centered=True, momentum=0.5),
    optiviz.RunSpec("adagrad", lr=0.5),
    optiviz.RunSpec("sgd", lr=1e-3, momentum=0.9, nesterov=True),
    optiviz.RunSpec("sgd", lr=1e-3),
    optiviz.RunSpec("adam", lr=0.01, bias_correction=False),
]


def test_shapes_and_state_names():
    sim = optiviz.simulate("rosenbrock", ALL_RUNS, start=(-1.5, 2.0), steps=50)
    expected = [
        {"exp_avg", "exp_avg_sq"},
        {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
        {"square_avg", "grad_avg", "momentum_buffer"},
        {"sum"},
        {"momentum_buffer"},
        set(),
        {"exp_avg", "exp_avg_sq"},
    ]
    for run, names in zip(sim.runs, expected, strict=True):
        assert run.diverged_at is None
        assert run.path.shape == (51, 2) and run.loss.shape == (51,) and run.grad.shape == (50, 2)
        assert set(run.state) == names
        for arr in run.state.values():
            assert arr.shape == (51, 2)
        assert tuple(run.path[0]) == (-1.5, 2.0)
        assert run.update.shape == run.effective_lr.shape == (50, 2)
        np.testing.assert_array_equal(run.loss, [sim.surface.value(x, y) for x, y in run.path])
    # Without noise, row t of grad is the surface's gradient at path[t].
    run = sim.runs[0]
    np.testing.assert_array_equal(run.grad[7], sim.surface.grad(*run.path[7]))


def test_derived_series_follow_the_optimizer():
    sim = optiviz.simulate("beale", [optiviz.RunSpec("adam", lr=0.1, betas=(0.8, 0.99), eps=1e-6)], steps=30)
    run = sim.runs[0]
    t = np.arange(1, 31)[:, None]
    m_hat = run.state["exp_avg"][1:] / (1 - 0.8**t)
    np.testing.assert_allclose(run.bias_corrected["m_hat"], m_hat, rtol=1e-15)
    # The update equals -effective_lr * m_hat, per coordinate.
    np.testing.assert_allclose(run.update, -run.effective_lr * run.bias_corrected["m_hat"], rtol=1e-12, atol=1e-15)
    sgd = optiviz.simulate("beale", [optiviz.RunSpec("sgd", lr=0.01)], steps=5).runs[0]
    np.testing.assert_allclose(sgd.update, -0.01 * sgd.grad, rtol=1e-15)


def test_sgd_on_rosenbrock_overflows_and_stops_cleanly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim = optiviz.simulate("rosenbrock", [optiviz.RunSpec("sgd", lr=0.01), optiviz.RunSpec("adam", lr=0.05)],
                               start=(-1.5, 2.0), steps=300)
        bad, good = sim.runs
        _ = bad.effective_lr, bad.update, bad.distance_to(sim.surface.minima)
    assert bad.diverged_at is not None and bad.diverged_at <= 20
    assert bad.diverged_reason in ("escaped", "non-finite")
    n = bad.diverged_at - 1
    assert bad.path.shape == (n + 1, 2) and bad.grad.shape == (n, 2) and bad.steps_done == n
    assert np.isfinite(bad.path).all() and np.isfinite(bad.loss).all()
    assert good.diverged_at is None and good.steps_done == 300


def test_escaping_run_stops_inside_the_box():
    sim = optiviz.simulate("saddle", [optiviz.RunSpec("sgd", lr=1.5)], start=(0.5, 0.5), steps=1000)
    run = sim.runs[0]
    assert run.diverged_reason == "escaped"
    lo_x, hi_x, lo_y, hi_y = sim.surface.escape_box
    assert (lo_x <= run.path[:, 0]).all() and (run.path[:, 0] <= hi_x).all()
    assert (lo_y <= run.path[:, 1]).all() and (run.path[:, 1] <= hi_y).all()


def test_noise_is_shared_between_runs_and_reproducible():
    runs = [optiviz.RunSpec("sgd", lr=0.0), optiviz.RunSpec("adam", lr=0.0)]
    a = optiviz.simulate("saddle", runs, start=(0.3, 0.0), steps=40, noise=0.5, seed=7)
    b = optiviz.simulate("saddle", runs, start=(0.3, 0.0), steps=40, noise=0.5, seed=7)
    c = optiviz.simulate("saddle", runs, start=(0.3, 0.0), steps=40, noise=0.5, seed=8)
    xi = np.random.default_rng(7).standard_normal((40, 2))
    clean = np.array(surfaces.get("saddle").grad(0.3, 0.0))
    np.testing.assert_array_equal(a.runs[0].grad, clean + 0.5 * xi)  # lr=0: every step at the start
    np.testing.assert_array_equal(a.runs[0].grad, a.runs[1].grad)
    np.testing.assert_array_equal(a.runs[0].grad, b.runs[0].grad)
    assert not np.array_equal(a.runs[0].grad, c.runs[0].grad)


def test_noisy_saddle_has_noise_by_default_and_noise_zero_turns_it_off():
    run = [optiviz.RunSpec("adam", lr=0.01)]
    noisy = optiviz.simulate("noisy_saddle", run, steps=100)
    assert noisy.scenario.noise > 0
    assert np.abs(noisy.runs[0].path[:, 1]).max() > 0  # pushed off the ridge
    quiet = optiviz.simulate("noisy_saddle", run, steps=100, noise=0.0)
    assert (quiet.runs[0].path[:, 1] == 0).all()  # on the x-axis without noise


def test_one_compiled_signature_serves_every_mix():
    mixes = [
        ("rosenbrock", ALL_RUNS, (-1.5, 2), 20, 0.0),
        ("quadratic", ALL_RUNS, (3, -1), 17, 0.2),
        ("noisy_saddle", ALL_RUNS, (-1, 0.0), 5, None),
        (surfaces.get("quadratic", kappa=7, angle=20), [optiviz.RunSpec("sgd", lr=1)], (1.0, 2.0), 3, 0),
        ("himmelblau", [optiviz.RunSpec("adagrad", lr=1, initial_accumulator_value=1)], (0, 0), 4, 1),
    ]
    for name, runs, start, steps, noise in mixes:
        optiviz.simulate(name, runs, start=start, steps=steps, noise=noise)
    assert len(simulate_kernel.signatures) == 1


def test_every_optimizer_steps_through_one_dispatch_signature():
    """Each optimizer's init and step are compiled once, called through the id dispatch with fixed types: a new
    optimizer adds no signature to the kernel or to the dispatch."""
    from optiviz.optimizers import _dispatch

    runs = [optiviz.RunSpec(name) for name in optiviz.OPTIMIZERS]
    optiviz.simulate("rosenbrock", runs, steps=3)
    optiviz.simulate("noisy_saddle", runs, steps=3, noise=0.1)
    assert len(simulate_kernel.signatures) == 1
    # Loaded from Numba's cache, the callees are inside the kernel's code and compiled for no signature at all.
    assert len(_dispatch.step.signatures) <= 1 and len(_dispatch.init.signatures) <= 1
    for spec in optiviz.OPTIMIZERS.values():
        assert len(spec.step.signatures) <= 1 and len(spec.init.signatures) <= 1, spec.name


def test_kernel_options():
    assert simulate_kernel.targetoptions.get("parallel", False) is False
    assert simulate_kernel.targetoptions.get("fastmath", False) in (False, set())
    assert simulate_kernel._cache.__class__.__name__ != "NullCache"  # cache=True


@pytest.mark.parametrize("text", [
    "adam", "adam:lr=0.01,betas=0.9/0.999", "sgd:lr=0.0001,momentum=0.9,nesterov=true",
    "rmsprop:centered=true,alpha=0.9", "adagrad:lr_decay=0.01", "adamw:weight_decay=0.1,amsgrad=true",
    "adam:bias_correction=false,eps_inside_sqrt=true",
])
def test_run_text_round_trip(text):
    spec = parse_run(text)
    assert parse_run(format_run(spec)) == spec
    assert parse_run(format_run(spec, full=True)) == spec


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "optiviz", *args], capture_output=True, text=True, timeout=300)


def test_cli_json_matches_the_api():
    r = _cli("simulate", "--surface", "rosenbrock", "--run", "adam:lr=0.01,betas=0.9/0.999",
             "--run", "sgd:lr=1e-4,momentum=0.9", "--start=-1.5,2", "--steps", "50", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    sim = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adam", lr=0.01), optiviz.RunSpec("sgd", lr=1e-4,
                           momentum=0.9)], start=(-1.5, 2), steps=50)
    assert data["settings"]["surface"] == "rosenbrock" and data["settings"]["steps"] == 50
    for got, run in zip(data["runs"], sim.runs, strict=True):
        np.testing.assert_array_equal(got["path"], run.path)
        np.testing.assert_array_equal(got["grad"], run.grad)
        assert set(got["state"]) == set(run.state)
        for name, arr in run.state.items():
            np.testing.assert_array_equal(got["state"][name], arr)


def test_cli_csv():
    r = _cli("simulate", "--surface", "quadratic:kappa=10,angle=30", "--run", "sgd:lr=0.1,nesterov=true,momentum=0.5",
             "--run", "adagrad", "--steps", "10", "--noise", "0.1", "--seed", "3", "--format", "csv")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].startswith("run,optimizer,settings,step,x,y,loss,grad_x,grad_y,lr,momentum_buffer_x")
    assert len(lines) == 1 + 2 * 11
    assert lines[1].startswith('1,sgd,"sgd:lr=0.1,momentum=0.5,nesterov=true",0,')
    assert lines[-1].startswith("2,adagrad,adagrad,10,")


@pytest.mark.parametrize(("args", "message"), [
    (["--surface", "nope", "--run", "adam"], "Unknown surface 'nope'"),
    (["--surface", "beale", "--run", "adamx"], "Unknown optimizer 'adamx'"),
    (["--surface", "beale", "--run", "adam:lr=-1"], "Invalid learning rate: -1.0"),
    (["--surface", "beale", "--run", "adam:betas=1/0.9"], "Invalid beta parameter at index 0: 1.0"),
    (["--surface", "beale", "--run", "adam:betas=0.9"], "betas must be 2 numbers"),
    (["--surface", "beale", "--run", "sgd:nesterov=true"], "Nesterov momentum requires a momentum and zero"),
    (["--surface", "beale", "--run", "sgd:nesterov=maybe"], "nesterov must be true or false"),
    (["--surface", "beale", "--run", "adam:lr=abc"], "lr must be a number"),
    (["--surface", "beale", "--run", "adam", "--steps", "0"], "steps must be a whole number from 1 to 100,000"),
    (["--surface", "beale", "--run", "adam", "--steps", "x"], "argument --steps"),
    (["--surface", "beale", "--run", "adam", "--start=1"], "argument --start"),
    (["--surface", "beale", "--run", "adam", "--start=nan,0"], "start must be two finite numbers"),
    (["--surface", "beale", "--run", "adam", "--noise", "-1"], "noise must be a finite number >= 0"),
    (["--surface", "beale"], "--run"),
])
def test_cli_bad_arguments_give_one_line_and_exit_2(args, message):
    r = _cli("simulate", *args)
    assert r.returncode == 2
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert message in r.stderr


def test_cli_help_explains_every_option():
    r = _cli("simulate", "--help")
    assert r.returncode == 0
    for opt in ("--surface", "--run", "--start", "--steps", "--noise", "--seed", "--format", "nesterov", "betas"):
        assert opt in r.stdout


@pytest.mark.parametrize("spec", [
    optiviz.RunSpec("adam", lr=0.1, eps=1e-2, eps_inside_sqrt=True),
    optiviz.RunSpec("rmsprop", lr=0.01, eps=1e-2, eps_inside_sqrt=True),
    optiviz.RunSpec("adagrad", lr=0.5, eps=1e-2, eps_inside_sqrt=True),
])
def test_eps_inside_the_square_root(spec):
    inside = optiviz.simulate("beale", [spec], steps=50).runs[0]
    outside = optiviz.simulate("beale", [spec.replace(eps_inside_sqrt=False)], steps=50).runs[0]
    assert not np.array_equal(inside.path, outside.path)
    first = inside.bias_corrected.get("m_hat", inside.grad)
    np.testing.assert_allclose(inside.update, -inside.effective_lr * first, rtol=1e-12, atol=1e-15)
    assert "eps_inside_sqrt" not in spec.torch_hyper and spec.hyper["eps_inside_sqrt"] is True


def test_stop_reason_in_words():
    sim = optiviz.simulate("rosenbrock", [optiviz.RunSpec("sgd", lr=0.01), optiviz.RunSpec("sgd", lr=1e308),
                                          optiviz.RunSpec("adam", lr=0.05)], steps=100)
    escaped, overflowed, fine = sim.runs
    assert escaped.diverged_reason == "escaped" and escaped.failure == "box" and escaped.stop_cause == "escaped"
    assert escaped.stop_reason == "ran far off the plot"
    assert overflowed.diverged_reason == "non-finite" and overflowed.failure == "step"
    assert overflowed.stop_cause == "overflow"
    assert overflowed.stop_reason == "overflowed: its numbers grew past the largest float64"
    assert fine.stop_reason is None and fine.stop_cause is None and fine.failure is None


@pytest.mark.parametrize("spec", [
    optiviz.RunSpec("adam", lr=0.05, bias_correction=False),
    optiviz.RunSpec("adamw", lr=0.05, bias_correction=False, amsgrad=True, weight_decay=0.0),
    optiviz.RunSpec("adam", lr=0.05, bias_correction=False, eps_inside_sqrt=True, eps=1e-4),
])
def test_without_bias_correction(spec):
    """m_hat = m and v_hat = v: the step is lr * exp_avg / (sqrt(exp_avg_sq) + eps), and the first one is
    lr (1 - beta1) / sqrt(1 - beta2), about 3.16 lr at torch's betas, not lr."""
    run = optiviz.simulate("beale", [spec], steps=50).runs[0]
    corrected = optiviz.simulate("beale", [spec.replace(bias_correction=True)], steps=50).runs[0]
    assert not np.array_equal(run.path, corrected.path)
    np.testing.assert_array_equal(run.bias_corrected["m_hat"], run.state["exp_avg"][1:])
    v = run.state["max_exp_avg_sq" if spec.hyper["amsgrad"] else "exp_avg_sq"][1:]
    np.testing.assert_array_equal(run.bias_corrected["v_hat_max" if spec.hyper["amsgrad"] else "v_hat"], v)
    np.testing.assert_allclose(run.update, -run.effective_lr * run.bias_corrected["m_hat"], rtol=1e-12, atol=1e-15)
    if spec.optimizer == "adam" and not spec.hyper["eps_inside_sqrt"]:
        # the first step, where |g| >> eps: lr * 0.1 g / (sqrt(0.001) |g|) per coordinate
        np.testing.assert_allclose(np.abs(run.update[0]), 0.05 * 0.1 / np.sqrt(0.001), rtol=1e-6)
        np.testing.assert_allclose(np.abs(corrected.update[0]), 0.05, rtol=1e-6)
    assert "bias_correction" not in spec.torch_hyper and spec.extensions["bias_correction"] is False
    assert spec.replace(bias_correction=True).extensions == {k: v for k, v in spec.extensions.items()
                                                             if k != "bias_correction"}

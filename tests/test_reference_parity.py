"""Every optimizer against its reference implementation, fed the gradients optiviz recorded.

``tests/test_parity.py`` holds the first five (SGD, AdaGrad, RMSProp, Adam, AdamW) to a plain-Python second
implementation as well, bit for bit; this file covers every optimizer the registry has beyond them, each
against the class its module names as its reference (``torch.optim.Adamax``, ``lion_pytorch.Lion``...), in
float64: every position and state buffer within 1e-9 of the series' scale over 300 steps, on the seven parity
surface cases, for every option in the table below.

To add an optimizer: its rows in ``CASES`` (every hyperparameter set away from its default somewhere), and,
where the reference keeps a buffer somewhere other than ``optimizer.state[p][name]``, a reader in ``READERS``.
A reference package that is not installed skips its tests, saying so.
"""

from __future__ import annotations

import contextlib
import functools
import io

import numpy as np
import pytest
from test_parity import STEPS, SURFACES, assert_close

import optiviz
import surfaces
from optiviz import optimizers

#: The first five, covered by test_parity.py.
CORE = ("adam", "adamw", "rmsprop", "adagrad", "sgd")

#: (optimizer, case id, hyperparameters, lr scale on the optimizer's recommended lr for the surface)
CASES: list[tuple[str, str, dict, float]] = [
    ("adamax", "default", {}, 1.0),
    ("adamax", "weight_decay", dict(weight_decay=0.1), 1.0),
    ("adamax", "betas_eps", dict(betas=(0.3, 0.9), eps=1e-3), 1.0),
    ("nadam", "default", {}, 1.0),
    ("nadam", "weight_decay", dict(weight_decay=0.1), 1.0),
    ("nadam", "decoupled", dict(weight_decay=0.1, decoupled_weight_decay=True), 1.0),
    ("nadam", "betas_eps_psi", dict(betas=(0.3, 0.9), eps=1e-3, momentum_decay=0.05), 1.0),
    ("radam", "default", {}, 1.0),
    ("radam", "weight_decay", dict(weight_decay=0.1), 1.0),
    ("radam", "decoupled", dict(weight_decay=0.1, decoupled_weight_decay=True), 1.0),
    ("radam", "betas_eps", dict(betas=(0.5, 0.99), eps=1e-3), 0.3),
    ("adadelta", "default", {}, 1.0),
    ("adadelta", "rho_eps_wd", dict(rho=0.5, eps=1e-3, weight_decay=0.1), 1.0),
    ("adadelta", "lr", {}, 0.1),
    ("rprop", "default", {}, 1.0),
    ("rprop", "etas_step_sizes", dict(etas=(0.3, 1.5), step_sizes=(1e-3, 0.5)), 1.0),
    ("rprop", "lr", {}, 0.1),
    ("adamw_schedulefree", "default", {}, 1.0),
    ("adamw_schedulefree", "weight_decay", dict(weight_decay=0.1), 1.0),
    ("adamw_schedulefree", "decay_at_z", dict(weight_decay=0.1, decay_at_z=True), 1.0),
    ("adamw_schedulefree", "betas_eps", dict(betas=(0.5, 0.99), eps=1e-3), 1.0),
    ("adamw_schedulefree", "warmup", dict(warmup_steps=20, weight_lr_power=1.0), 1.0),
    ("adamw_schedulefree", "r", dict(r=1.0, weight_lr_power=0.0), 1.0),
    ("sgd_schedulefree", "default", {}, 1.0),
    ("sgd_schedulefree", "weight_decay_momentum", dict(weight_decay=0.1, momentum=0.8), 1.0),
    ("sgd_schedulefree", "warmup", dict(warmup_steps=20, weight_lr_power=1.0), 1.0),
    ("sgd_schedulefree", "r", dict(r=1.0, weight_lr_power=0.0), 1.0),
    ("lion", "default", {}, 1.0),
    ("lion", "betas_wd", dict(betas=(0.5, 0.9), weight_decay=0.1), 1.0),
    ("lion", "decoupled", dict(weight_decay=1e-3, decoupled_weight_decay=True), 1.0),
    ("ademamix", "default", {}, 1.0),
    ("ademamix", "weight_decay", dict(weight_decay=0.1), 1.0),
    ("ademamix", "decouple", dict(weight_decay=0.1, weight_decouple=True), 1.0),
    ("ademamix", "fixed_decay", dict(weight_decay=1e-3, weight_decouple=True, fixed_decay=True), 1.0),
    ("ademamix", "warmup", dict(t_alpha_beta3=100.0, alpha=2.0, betas=(0.8, 0.99, 0.999)), 1.0),
    ("ademamix", "cautious_eps", dict(cautious=True, eps=1e-3), 1.0),
    ("prodigy", "default", {}, 1.0),
    ("prodigy", "l2_bias_correction", dict(weight_decay=0.1, decouple=False, use_bias_correction=True), 1.0),
    ("prodigy", "decoupled_safeguard", dict(weight_decay=0.1, safeguard_warmup=True, eps=1e-6), 1.0),
    ("prodigy", "beta3_d0_coef_growth", dict(beta3=0.9, d0=1e-4, d_coef=0.5, growth_rate=1.05), 1.0),
    ("prodigy", "betas", dict(betas=(0.0, 0.99)), 0.5),
]

#: (surface, optimizer) where the reference itself runs out of the escape box before STEPS with some case's
#: settings (Rprop's step sizes grow by eta_plus per step down the saddle's slope, at any lr; Prodigy's d, the
#: distance to a solution the saddle does not have, grows without end): there every step up to the escape is
#: compared, and the run must have got some way first.
ESCAPES = {("saddle", "rprop"), ("saddle", "prodigy"), ("noisy_saddle", "prodigy")}
MIN_STEPS_BEFORE_ESCAPE = 30


def _read_state(opt, p) -> dict:
    return {k: v for k, v in opt.state[p].items() if k != "step"}


def _read_radam(opt, p) -> dict:
    """RAdam's state, with rho_t and whether the rectified step applied, by torch's formula (torch computes them
    in the step from its step count and does not keep them)."""
    state = _read_state(opt, p)
    step = opt.state[p]["step"].item()
    beta2 = opt.param_groups[0]["betas"][1]
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2**step) / (1 - beta2**step)
    return {**state, "rho_t": rho_t, "rect_applied": float(rho_t > 5.0)}


def _read_schedulefree(opt, p) -> dict:
    """Schedule-Free's state (z, x, exp_avg_sq; its y is the parameter), its group's scalars (weight_sum, lr_max,
    scheduled_lr, kept in param_groups) and the averaging weight ckp1 it computed, by its formula."""
    group = opt.param_groups[0]
    k = group["k"]  # the steps taken: the step just taken computed its weight with k + 1 before counting it
    weight = (k ** group["r"]) * (group["lr_max"] ** group["weight_lr_power"])
    scalars = {key: group[key] for key in ("weight_sum", "lr_max", "scheduled_lr")}
    return {**_read_state(opt, p), **scalars, "ckp1": weight / group["weight_sum"] if group["weight_sum"] else 0.0}


def _read_prodigy(opt, p) -> dict:
    """Prodigy's state: exp_avg, exp_avg_sq, s and p0 in ``state[p]`` (p0 a 0-dim zero where the start is (0, 0)),
    and its scalars d, d_max, d_numerator, d_denom, d_hat and the step count k in ``param_groups[0]``."""
    state = _read_state(opt, p)
    state["p0"] = state["p0"].expand(2)
    group = opt.param_groups[0]
    return {**state, **{key: float(group[key]) for key in ("d", "d_max", "d_numerator", "d_denom", "d_hat", "k")}}


#: How to read a reference's state where it is not all in ``optimizer.state[p]`` (optimizer -> reader).
READERS: dict = {"radam": _read_radam, "adamw_schedulefree": _read_schedulefree,
                 "sgd_schedulefree": _read_schedulefree, "prodigy": _read_prodigy}


def _reference_class(name: str):
    module, cls = optimizers.get(name).reference
    package = optimizers.get(name).package or "torch"
    mod = pytest.importorskip(module, reason=f"{name}'s reference needs the {package} package")
    return getattr(mod, cls)


def run_reference(name: str, hyper: dict, start, grads: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The reference optimizer fed ``grads`` from ``start``: its positions and its state after every step
    (row 0: the state before the first step, as optiviz records it)."""
    torch = pytest.importorskip("torch")
    spec = optimizers.get(name)
    cls = _reference_class(name)
    kwargs = {k: v for k, v in hyper.items() if k not in spec.extensions}
    p = torch.tensor(np.asarray(start, dtype=np.float64), dtype=torch.float64)
    opt = cls([p], **kwargs, **spec.reference_options)
    if spec.train_mode:
        with contextlib.redirect_stdout(io.StringIO()):  # Schedule-Free AdamW prints "Switching to train mode"
            opt.train()
    read = READERS.get(name, _read_state)
    path = [p.detach().numpy().copy()]
    states: dict[str, list] = {}
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        path.append(p.detach().numpy().copy())
        for key, value in read(opt, p).items():
            states.setdefault(key, []).append(np.asarray(value.detach() if torch.is_tensor(value) else value,
                                                         dtype=np.float64).copy())
    return np.array(path), {k: np.array(v) for k, v in states.items()}


def _spec(sid: str, name: str, cid: str) -> optiviz.RunSpec:
    hyper, scale = _CONFIG[(name, cid)]
    factory = SURFACES[sid][0]
    return optiviz.RunSpec(name, lr=optimizers.get(name).recommended_lr(factory()) * scale, **hyper)


_CONFIG = {(name, cid): (hyper, scale) for name, cid, hyper, scale in CASES}


@functools.cache
def _simulation(sid: str):
    factory, start, noise, seed, _ = SURFACES[sid]
    specs = [_spec(sid, name, cid) for name, cid, _, _ in CASES]
    return optiviz.simulate(factory(), specs, start=start, steps=STEPS, noise=noise, seed=seed)


def test_every_optimizer_beyond_the_first_five_has_cases_for_every_option():
    covered: dict[str, set[str]] = {}
    for name, _, hyper, _ in CASES:
        covered.setdefault(name, set()).update(hyper)
    assert set(covered) == set(optimizers.OPTIMIZERS) - set(CORE)
    for name, keys in covered.items():
        assert keys | {"lr"} == set(optimizers.get(name).defaults), name


@pytest.mark.parametrize(("sid", "name", "cid"), [
    pytest.param(sid, name, cid, id=f"{sid}-{name}-{cid}") for sid in SURFACES for name, cid, _, _ in CASES])
def test_engine_matches_reference(sid, name, cid):
    sim = _simulation(sid)
    run = sim.runs[[(n, c) for n, c, _, _ in CASES].index((name, cid))]
    assert run.optimizer == name
    if (sid, name) in ESCAPES and run.diverged_at is not None:
        assert run.diverged_reason == "escaped" and run.steps_done >= MIN_STEPS_BEFORE_ESCAPE, run
    else:
        assert run.diverged_at is None, f"{sid} {run.spec}: diverged at {run.diverged_at}"
        assert run.path.shape == (STEPS + 1, 2)
    path, states = run_reference(name, run.spec.hyper, run.path[0], run.grad)
    assert_close(run.path, path, "path vs reference")
    for key, series in states.items():
        if key not in run.state:
            continue  # a reference's own bookkeeping optiviz does not show (its step count...)
        ours = run.state[key][1:]
        assert_close(ours, series.reshape(ours.shape), f"state[{key!r}] vs reference")
    missing = set(run.state) - set(states)
    assert not missing, f"state {sorted(missing)} not found in the reference's"


def test_state_layout_is_the_references_names_vectors_and_scalars():
    for name in set(optimizers.OPTIMIZERS) - set(CORE):
        spec = optimizers.get(name)
        lr = spec.recommended_lr(surfaces.get("rosenbrock"))  # torch's defaults, but an lr that keeps to the plot
        run = optiviz.simulate("rosenbrock", [optiviz.RunSpec(name, lr=lr)], steps=5).runs[0]
        for buffer, _, kind in spec.layout(run.spec.hyper):
            want = (6, 2) if kind == optimizers.VECTOR else (6,)
            assert run.state[buffer].shape == want, (name, buffer)

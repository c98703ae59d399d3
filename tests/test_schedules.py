"""Learning-rate schedules against torch.optim.lr_scheduler: the learning rates and momenta, bit for bit; every
position and state buffer of Adam, AdamW, SGD with momentum, RMSProp and AdaGrad within 1e-9 of torch.optim
driven by the torch scheduler (fed the gradients optiviz recorded), on the seven parity surface cases, for every
scheduler with options away from their defaults; torch's messages (and optiviz's where torch has none)."""

from __future__ import annotations

import functools
import math
import pickle
import warnings

import numpy as np
import pytest
from test_parity import STEPS, SURFACES, assert_close

import optiviz
from optiviz import Schedule
from optiviz.schedules import KEYWORDS, series

S = Schedule

#: (case id, schedule): every scheduler, every keyword away from its default somewhere. Sized for STEPS = 300.
SCHEDULES = [
    ("step", lambda lr: S("StepLR", step_size=40, gamma=0.5)),
    ("multistep", lambda lr: S("MultiStepLR", milestones=[30, 100, 220], gamma=0.3)),
    ("constant", lambda lr: S("ConstantLR", factor=0.25, total_iters=60)),
    ("linear", lambda lr: S("LinearLR", start_factor=0.05, end_factor=0.8, total_iters=80)),
    ("exponential", lambda lr: S("ExponentialLR", gamma=0.99)),
    ("polynomial", lambda lr: S("PolynomialLR", total_iters=250, power=2.0)),
    ("cosine", lambda lr: S("CosineAnnealingLR", T_max=120, eta_min=lr / 100)),
    ("warm_restarts", lambda lr: S("CosineAnnealingWarmRestarts", T_0=25, T_mult=2, eta_min=lr / 100)),
    ("onecycle", lambda lr: S("OneCycleLR", max_lr=2 * lr, total_steps=300)),
    ("onecycle_options", lambda lr: S("OneCycleLR", max_lr=2 * lr, epochs=10, steps_per_epoch=31, pct_start=0.2,
                                      anneal_strategy="linear", base_momentum=0.7, max_momentum=0.9,
                                      div_factor=10.0, final_div_factor=100.0, three_phase=True)),
    ("onecycle_lr_only", lambda lr: S("OneCycleLR", max_lr=2 * lr, total_steps=310, cycle_momentum=False)),
    ("cyclic", lambda lr: S("CyclicLR", base_lr=lr / 10, max_lr=2 * lr, step_size_up=30)),
    ("cyclic_options", lambda lr: S("CyclicLR", base_lr=lr / 10, max_lr=2 * lr, step_size_up=20, step_size_down=45,
                                    mode="triangular2", base_momentum=0.6, max_momentum=0.95)),
    ("cyclic_exp_range", lambda lr: S("CyclicLR", base_lr=lr / 10, max_lr=2 * lr, step_size_up=25, mode="exp_range",
                                      gamma=0.995, cycle_momentum=False)),
    ("sequential", lambda lr: S("SequentialLR", schedulers=[S("LinearLR", start_factor=0.1, total_iters=50),
                                                            S("CosineAnnealingLR", T_max=250)], milestones=[50])),
    ("sequential_three", lambda lr: S("SequentialLR", schedulers=[S("ConstantLR", factor=0.5, total_iters=20),
                                                                  S("CosineAnnealingWarmRestarts", T_0=40),
                                                                  S("MultiStepLR", milestones=[20, 60])],
                                      milestones=[30, 150])),
    ("plateau", lambda lr: S("ReduceLROnPlateau", factor=0.5, patience=5, threshold=1e-3, cooldown=3,
                             min_lr=lr / 1000)),
    ("plateau_abs", lambda lr: S("ReduceLROnPlateau", factor=0.3, patience=2, threshold=1e-4, threshold_mode="abs",
                                 eps=1e-12)),
    ("plateau_max", lambda lr: S("ReduceLROnPlateau", mode="max", factor=0.2, patience=8)),
]

#: (optimizer, hyperparameters besides lr, scale on test_parity's lr for the surface: momentum makes SGD's steps
#: about ten times larger)
OPTIMIZERS = [("adam", {}, 1.0), ("adamw", {"weight_decay": 0.1}, 1.0), ("sgd", {"momentum": 0.9}, 0.1),
              ("rmsprop", {"momentum": 0.5}, 1.0), ("adagrad", {"lr_decay": 0.01}, 1.0)]
#: Surfaces without a minimum, which a run may leave (the escape box) before STEPS: steps up to there are
#: compared, and the run must have got some way first.
SADDLES = ("saddle", "noisy_saddle")
MIN_STEPS_BEFORE_ESCAPE = 30


def _specs(sid: str) -> list[tuple[str, str, optiviz.RunSpec]]:
    out = []
    lrs = SURFACES[sid][4]
    for name, hyper, scale in OPTIMIZERS:
        for cid, make in SCHEDULES:
            schedule = make(lrs[name] * scale)
            if name == "adagrad" and schedule.cycles_momentum:
                continue  # AdaGrad has no momentum to cycle: torch refuses it (test below)
            out.append((name, cid, optiviz.RunSpec(name, lr=lrs[name] * scale, schedule=schedule, **hyper)))
    return out


@functools.cache
def _simulation(sid: str):
    factory, start, noise, seed, _ = SURFACES[sid]
    return optiviz.simulate(factory(), [spec for _, _, spec in _specs(sid)], start=start, steps=STEPS,
                            noise=noise, seed=seed)


def _torch_scheduler(torch, opt, schedule: Schedule):
    kwargs = dict(schedule.kwargs)
    if schedule.name == "SequentialLR":
        kwargs["schedulers"] = [_torch_scheduler(torch, opt, child) for child in kwargs["schedulers"]]
    for key in ("milestones",):
        if key in kwargs:
            kwargs[key] = list(kwargs[key])
    return getattr(torch.optim.lr_scheduler, schedule.name)(opt, **kwargs)


_STATE = {"adam": ("exp_avg", "exp_avg_sq"), "adamw": ("exp_avg", "exp_avg_sq"), "sgd": ("momentum_buffer",),
          "rmsprop": ("square_avg", "momentum_buffer"), "adagrad": ("sum",)}


def run_torch_scheduled(run) -> dict[str, np.ndarray]:
    """torch.optim with the torch scheduler, fed the run's recorded gradients (and, for ReduceLROnPlateau, the
    recorded loss after each step): positions, state, and the lr and momentum each step read."""
    torch = pytest.importorskip("torch")
    spec = run.spec
    p = torch.tensor(run.path[0].copy(), dtype=torch.float64)
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
           "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad}[spec.optimizer]
    opt = cls([p], foreach=False, **spec.torch_hyper)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = _torch_scheduler(torch, opt, spec.schedule)
    out: dict[str, list] = {"path": [], "lr": [], "momentum": []}
    for t, g in enumerate(run.grad, start=1):
        group = opt.param_groups[0]
        out["lr"].append(group["lr"])
        out["momentum"].append(group["betas"][0] if "betas" in group else group.get("momentum", 0.0))
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        out["path"].append(p.detach().numpy().copy())
        for key in _STATE[spec.optimizer]:
            if key in opt.state[p]:
                out.setdefault(key, []).append(opt.state[p][key].detach().numpy().copy())
        if spec.schedule.name == "ReduceLROnPlateau":
            scheduler.step(float(run.loss[t]))
        else:
            scheduler.step()
    return {k: np.array(v) for k, v in out.items()}


CASES = [pytest.param(sid, name, cid, id=f"{sid}-{name}-{cid}") for sid in SURFACES
         for name, cid, _ in _specs("rosenbrock")]


@pytest.mark.parametrize(("sid", "name", "cid"), CASES)
def test_engine_matches_torch_with_its_scheduler(sid, name, cid):
    sim = _simulation(sid)
    run = sim.runs[[(n, c) for n, c, _ in _specs(sid)].index((name, cid))]
    if sid in SADDLES and run.diverged_at is not None:
        assert run.diverged_reason == "escaped" and run.steps_done >= MIN_STEPS_BEFORE_ESCAPE, run
    else:
        assert run.diverged_at is None, f"{sid} {run.spec}: diverged at {run.diverged_at}"
    want = run_torch_scheduled(run)
    np.testing.assert_array_equal(run.lr, want["lr"])  # the rates themselves, bit for bit
    if run.spec.schedule.cycles_momentum:
        np.testing.assert_array_equal(run.momentum, want["momentum"])
    else:
        assert run.momentum is None
    assert_close(run.path[1:], want["path"], "path vs torch")
    for key in _STATE[name]:
        if key in want:
            assert_close(run.state[key][1:], want[key], f"state[{key!r}] vs torch")
        else:
            assert key not in run.state


def test_the_cases_cover_every_scheduler_and_keyword():
    covered: dict[str, set] = {}

    def walk(schedule):
        covered.setdefault(schedule.name, set()).update(schedule.changed())
        for child in schedule.kwargs.get("schedulers", ()):
            walk(child)

    for _, make in SCHEDULES:
        walk(make(0.01))
    assert set(covered) == set(KEYWORDS)
    for name, keys in covered.items():
        assert keys == set(KEYWORDS[name]), (name, set(KEYWORDS[name]) - keys)


def test_the_schedules_change_the_runs():
    """A schedule that cannot fail to move the lr: the scheduled runs differ from the constant ones."""
    sim = _simulation("rosenbrock")
    plain = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adam", lr=SURFACES["rosenbrock"][4]["adam"])],
                             start=SURFACES["rosenbrock"][1], steps=STEPS).runs[0]
    moved: dict[str, bool] = {}
    for (name, cid, _), run in zip(_specs("rosenbrock"), sim.runs, strict=True):
        moved[cid] = moved.get(cid, False) or len(set(run.lr)) > 1  # a plateau need not come on every run
        if name == "adam":
            assert not np.array_equal(run.path, plain.path), cid
    assert all(moved.values()), [cid for cid, m in moved.items() if not m]


def test_onecycle_cycles_adams_beta1_and_its_bias_correction():
    lr = 0.01
    run = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adam", lr=lr, schedule=S("OneCycleLR", max_lr=0.02,
                                                                                     total_steps=100))],
                           steps=100).runs[0]
    assert run.momentum[0] == 0.95 and min(run.momentum) == pytest.approx(0.85, abs=1e-3)
    assert run.hyper_at(1)["betas"] == (0.95, 0.999) and run.spec.hyper["betas"] == (0.9, 0.999)
    t = np.arange(1, 101)
    np.testing.assert_allclose(run.bias_corrected["m_hat"], run.state["exp_avg"][1:] /
                               (1 - run.momentum ** t)[:, None], rtol=1e-15)


@pytest.mark.parametrize(("schedule", "hyper", "message"), [
    (S("OneCycleLR", max_lr=0.1, total_steps=50), {"optimizer": "adagrad"},
     "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"),
    (S("CyclicLR", base_lr=0.01, max_lr=0.1), {"optimizer": "adagrad"},
     "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"),
])
def test_a_schedule_that_needs_momentum_on_a_run_without_it(schedule, hyper, message):
    with pytest.raises(ValueError, match=_escape(message)):
        optiviz.RunSpec(hyper["optimizer"], schedule=schedule)
    optiviz.RunSpec("adagrad", schedule=schedule.replace(cycle_momentum=False))  # the lr alone is fine


def _escape(text: str) -> str:
    import re
    return re.escape(text)


@pytest.mark.parametrize(("name", "kwargs", "message"), [
    ("ConstantLR", {"factor": 1.5}, "Constant multiplicative factor expected to be between 0 and 1."),
    ("LinearLR", {"start_factor": 0.0}, "Starting multiplicative factor expected to be greater than 0 and less or "
                                        "equal to 1."),
    ("LinearLR", {"end_factor": 1.5}, "Ending multiplicative factor expected to be between 0 and 1."),
    ("CosineAnnealingWarmRestarts", {"T_0": 0}, "Expected positive integer T_0, but got 0"),
    ("CosineAnnealingWarmRestarts", {"T_0": 5, "T_mult": 0}, "Expected integer T_mult >= 1, but got 0"),
    ("OneCycleLR", {"max_lr": 0.1}, "You must define either total_steps OR (epochs AND steps_per_epoch)"),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": -3}, "Expected positive integer total_steps, but got -3"),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 10, "pct_start": 1.5},
     "Expected float between 0 and 1 pct_start, but got 1.5"),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 10, "anneal_strategy": "cubic"},
     "anneal_strategy must be one of 'cos' or 'linear', instead got cubic"),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "mode": "square"}, "mode is invalid and scale_fn is None"),
    ("ReduceLROnPlateau", {"factor": 1.0}, "Factor should be < 1.0."),
    ("ReduceLROnPlateau", {"mode": "lowest"}, "mode lowest is unknown!"),
    ("ReduceLROnPlateau", {"threshold_mode": "pct"}, "threshold mode pct is unknown!"),
    ("SequentialLR", {"schedulers": [S("StepLR", step_size=5)], "milestones": [3]},
     "Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone "
     "points, but got number of schedulers 1 and the number of milestones to be equal to 1"),
    ("SequentialLR", {"schedulers": [S("StepLR", step_size=5), S("ReduceLROnPlateau")], "milestones": [3]},
     "SequentialLR does not support `ReduceLROnPlateau` scheduler as it requires additional kwargs to be "
     "specified when calling `step`, but got one at index 1 in the given schedulers sequence."),
])
def test_torchs_messages(name, kwargs, message):
    with pytest.raises(ValueError, match=_escape(message)):
        S(name, **kwargs)
    torch = pytest.importorskip("torch")  # and torch says the same
    opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
    if name == "SequentialLR":
        kwargs = {**kwargs, "schedulers": [_torch_scheduler(torch, opt, s) for s in kwargs["schedulers"]]}
    with pytest.raises(ValueError, match=_escape(message)), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(torch.optim.lr_scheduler, name)(opt, **kwargs)


@pytest.mark.parametrize(("name", "kwargs", "message"), [
    ("CosineAnnealingLR", {"T_max": -5}, "CosineAnnealingLR: T_max must be a positive whole number, got -5"),
    ("CosineAnnealingLR", {"T_max": 0}, "CosineAnnealingLR: T_max must be a positive whole number, got 0"),
    ("CosineAnnealingLR", {"T_max": 2.5}, "CosineAnnealingLR: T_max must be a whole number, got 2.5"),
    ("StepLR", {"step_size": 0}, "StepLR: step_size must be a positive whole number, got 0"),
    ("MultiStepLR", {"milestones": [50, 20]}, "MultiStepLR: milestones must be increasing, got [50, 20]"),
    ("SequentialLR", {"schedulers": [S("StepLR", step_size=5), S("ExponentialLR", gamma=0.9)],
                      "milestones": [-1]}, "SequentialLR: milestones must be 0 or more, got [-1]"),
    ("PolynomialLR", {"total_iters": 0}, "PolynomialLR: total_iters must be a positive whole number, got 0"),
    ("ConstantLR", {"factor": 0.0}, "ConstantLR: factor must be above 0"),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 0}, "CyclicLR: step_size_up and step_size_down"),
    ("ExponentialLR", {}, "ExponentialLR needs gamma"),
    ("ExponentialLR", {"gamma": math.nan}, "ExponentialLR: gamma must be a finite number, got nan"),
    ("ExponentialLR", {"gamma": 0.9, "step_size": 3}, "ExponentialLR got an unexpected keyword argument "
                                                       "'step_size'; valid: gamma"),
    ("CosineLR", {}, "Unknown schedule 'CosineLR'; valid schedules: StepLR, MultiStepLR"),
    ("ReduceLROnPlateau", {"patience": -1}, "ReduceLROnPlateau: patience and cooldown must be 0 or more"),
])
def test_optivizs_messages_where_torch_has_none(name, kwargs, message):
    with pytest.raises(ValueError, match=_escape(message)):
        S(name, **kwargs)


def test_onecycle_refuses_more_steps_than_its_total_as_torch_does():
    spec = optiviz.RunSpec("adam", schedule=S("OneCycleLR", max_lr=0.1, total_steps=50))
    optiviz.simulate("rosenbrock", [spec], steps=50)
    with pytest.raises(ValueError, match=_escape("Tried to step 51 times. The specified number of total steps is 50")):
        optiviz.simulate("rosenbrock", [spec], steps=51)


def test_a_cycling_schedule_on_an_optimizer_optiviz_cannot_cycle_yet_says_so():
    with pytest.raises(ValueError, match="optiviz does not yet do for Adamax: set cycle_momentum=False"):
        optiviz.RunSpec("adamax", schedule=S("OneCycleLR", max_lr=0.1, total_steps=50))
    run = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adamax", schedule=S("CosineAnnealingLR", T_max=20))],
                           steps=20).runs[0]
    assert run.lr[0] == 2e-3 and run.lr[-1] < run.lr[0]


def test_a_schedule_is_part_of_the_runs_identity():
    a = optiviz.RunSpec("adam", lr=0.1, schedule=S("StepLR", step_size=10))
    b = optiviz.RunSpec("adam", lr=0.1, schedule=S("StepLR", step_size=10))
    assert a == b and hash(a) == hash(b) and a != optiviz.RunSpec("adam", lr=0.1)
    assert pickle.loads(pickle.dumps(a)) == a
    assert a.replace(lr=0.2).schedule == a.schedule and a.replace(schedule=None).schedule is None
    assert repr(a) .endswith("schedule=Schedule('StepLR', step_size=10))")
    assert S("MultiStepLR", milestones=[5.0, 10]).kwargs["milestones"] == (5, 10)


def test_without_a_schedule_the_lr_is_constant_and_the_momentum_none():
    run = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adam", lr=0.05)], steps=20).runs[0]
    assert np.all(run.lr == 0.05) and run.momentum is None


def test_series_is_the_lr_each_step_reads():
    lrs, moms = series(S("StepLR", step_size=2, gamma=0.5), {"lr": 1.0}, 6)
    assert list(lrs) == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25] and moms is None


# ---- text, links, the command line, CSV/JSON and the PyTorch script -----------------------------------------

TEXTS = [
    "adam:lr=0.1,schedule=CosineAnnealingLR(T_max=500)",
    "adam:lr=0.1,schedule=SequentialLR(schedulers=[LinearLR(start_factor=0.1,total_iters=50),"
    "CosineAnnealingLR(T_max=450)],milestones=[50])",
    "sgd:lr=0.01,momentum=0.9,schedule=OneCycleLR(max_lr=0.1,total_steps=1000,anneal_strategy='linear')",
    "rmsprop:schedule=ReduceLROnPlateau(mode=max,threshold_mode=abs,patience=3)",
    "adagrad:lr=0.5,lr_decay=0.01,schedule=CyclicLR(base_lr=0.01,max_lr=0.5,cycle_momentum=false)",
    "adam:schedule=MultiStepLR(milestones=[10,20],gamma=0.5),betas=0.8/0.99",
]


@pytest.mark.parametrize("text", TEXTS)
def test_run_text_round_trips(text):
    from optiviz._text import format_run, parse_run

    spec = parse_run(text.replace("'", ""))
    assert spec.schedule is not None
    assert parse_run(format_run(spec)) == spec
    assert parse_run(format_run(spec, full=True)) == spec


def test_a_link_carries_the_schedule():
    from optiviz import share

    spec = parse_run_text(TEXTS[1])
    view = share.View(runs=(spec,))
    query = share.view_to_query(view)
    back, problems = share.parse_view(query)
    assert not problems and back.runs == (spec,)


def parse_run_text(text):
    from optiviz._text import parse_run

    return parse_run(text)


@pytest.mark.parametrize(("text", "message"), [
    ("adam:schedule=CosineAnnealingLR(T_max=-5)", "T_max must be a positive whole number, got -5"),
    ("adam:schedule=MultiStepLR(milestones=[50,20])", "milestones must be increasing, got [50, 20]"),
    ("adagrad:schedule=OneCycleLR(max_lr=0.1,total_steps=10)", "optimizer must support momentum or beta1"),
    ("adam:schedule=CosineAnnealingLR(T_max=5", "expected ',' or ')' at character"),
    ("adam:schedule=Cosine(T_max=5)", "Unknown schedule 'Cosine'"),
    ("adam:schedule=StepLR(step_size=__import__('os'))", "Unknown schedule '__import__'"),
    ("adam:schedule=" + "SequentialLR(schedulers=[" * 20, "too deeply nested"),
    ("adam:schedule=" + "x" * 1000, "at most 600 characters"),
])
def test_bad_schedule_text_says_what_is_wrong(text, message):
    from optiviz._text import parse_run

    with pytest.raises(ValueError, match=_escape(message)):
        parse_run(text)


def test_a_bad_schedule_in_a_link_is_reported_and_the_other_runs_go_on():
    from optiviz import share

    view, problems = share.parse_view({"run": ["adam:lr=0.1,schedule=CosineAnnealingLR(T_max=-5)", "sgd:lr=0.01"]})
    assert [r.optimizer for r in view.runs] == ["sgd"]
    assert any("T_max must be a positive whole number" in p for p in problems), problems


def _mixed_simulation():
    runs = [optiviz.RunSpec("adam", lr=0.05, schedule=S("SequentialLR", schedulers=[
                S("LinearLR", start_factor=0.1, total_iters=20), S("CosineAnnealingLR", T_max=80)], milestones=[20])),
            optiviz.RunSpec("sgd", lr=1e-3, momentum=0.9, schedule=S("OneCycleLR", max_lr=2e-3, total_steps=100)),
            optiviz.RunSpec("rmsprop", lr=3e-3, schedule=S("ReduceLROnPlateau", patience=3, factor=0.5,
                                                           threshold=0.01)),
            optiviz.RunSpec("adagrad", lr=0.5)]
    return optiviz.simulate("rosenbrock", runs, steps=100)


def test_csv_and_json_carry_the_lr_and_momentum_of_every_step():
    import csv
    import io
    import json

    from optiviz import export

    sim = _mixed_simulation()
    rows = list(csv.DictReader(io.StringIO(export.to_csv(sim))))
    for number, run in enumerate(sim.runs, start=1):
        mine = [r for r in rows if r["run"] == str(number)]
        assert [float(r["lr"]) for r in mine[:-1]] == run.lr.tolist() and mine[-1]["lr"] == ""
        if run.momentum is not None:
            assert [float(r["momentum"]) for r in mine[:-1]] == run.momentum.tolist()
        else:
            assert all(r["momentum"] == "" for r in mine)
    data = json.loads(export.to_json(sim))
    assert data["runs"][0]["lr"] == sim.runs[0].lr.tolist()
    assert data["runs"][1]["momentum"] == sim.runs[1].momentum.tolist()
    assert data["runs"][3]["schedule"] is None and data["runs"][3]["momentum"] is None
    assert data["settings"]["runs"][0]["schedule"]["schedulers"][1] == {"name": "CosineAnnealingLR", "T_max": 80,
                                                                         "eta_min": 0.0}
    assert len(set(sim.runs[2].lr)) > 1  # the plateau came on


def test_cli_takes_a_schedule(capsys):
    import json

    from optiviz._cli import main

    main(["simulate", "--surface", "rosenbrock", "--run", TEXTS[1], "--steps", "60"])
    data = json.loads(capsys.readouterr().out)
    want = optiviz.simulate("rosenbrock", [parse_run_text(TEXTS[1])], steps=60).runs[0]
    assert data["runs"][0]["lr"] == want.lr.tolist()
    assert data["runs"][0]["path"] == want.path.tolist()


def test_torch_script_builds_and_steps_the_scheduler(tmp_path):
    pytest.importorskip("torch")
    import subprocess
    import sys

    from optiviz import export

    sim = _mixed_simulation()
    src = export.to_torch_script(sim)
    assert "torch.optim.lr_scheduler.SequentialLR(opt, schedulers=[torch.optim.lr_scheduler.LinearLR(" in src
    script = tmp_path / "replay.py"
    script.write_text(src)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True).stdout
    finals = [line.split("= (")[1].rstrip(")").split(", ") for line in out.splitlines()]
    for run, (x, y) in zip(sim.runs, finals, strict=True):
        np.testing.assert_allclose([float(x), float(y)], run.path[-1], rtol=1e-9, atol=1e-12)


def test_schedules_add_no_kernel_signature():
    """The rates, the cycled momenta and ReduceLROnPlateau's settings reach the kernel as float64 arrays (empty
    where unused), as the noise does: scheduled runs of every kind go through its one compiled signature."""
    from optiviz._kernel import simulate_kernel

    runs = [optiviz.RunSpec("adam", lr=0.01, schedule=make(0.01)) for _, make in SCHEDULES]
    optiviz.simulate("rosenbrock", [*runs, optiviz.RunSpec("sgd", lr=1e-3)], steps=300)
    optiviz.simulate("noisy_saddle", runs[:3], steps=300, noise=0.1)
    assert len(simulate_kernel.signatures) == 1


# ---- the app: the picker, the chart, Explain ------------------------------------------------------------------

def test_explain_starts_with_the_schedules_rate_and_its_formula():
    from test_explain import _check_latex

    from optiviz.explain import explain
    from optiviz.optimizers._explain import format_number

    specs = [optiviz.RunSpec("adam", lr=0.01, schedule=make(0.01)) for _, make in SCHEDULES]
    specs.append(optiviz.RunSpec("sgd", lr=1e-3, momentum=0.9, schedule=S("CyclicLR", base_lr=1e-4, max_lr=1e-3,
                                                                           step_size_up=20)))
    sim = optiviz.simulate("booth", specs, start=(-8.0, -8.0), steps=300, noise=0.5)
    for run in sim.runs:
        for t in (1, 2, 31, 150, 300):
            ex = explain(run, t)
            first = ex.lines[0]
            assert first.key == "lr_t" and first.result == (run.lr[t - 1], run.lr[t - 1]), (run.spec, t)
            assert first.values[0].endswith(f"= {format_number(run.lr[t - 1])}")
            _check_latex(first.formula)
            _check_latex(first.values[0])
            assert run.spec.schedule.name in ex.title
            assert r"\eta_0 = " in ex.hyper and "before the schedule" in ex.hyper
            assert ("cycled by the schedule" in ex.hyper) == (run.momentum is not None)
            if run.momentum is not None:
                second = ex.lines[1]
                assert second.key == "momentum_t" and second.result[0] == run.momentum[t - 1]
                _check_latex(second.formula)
                _check_latex(second.values[0])
            assert ex.lines[-1].result == (run.path[t, 0], run.path[t, 1])  # the kernel's arithmetic, with η_t


def test_schedule_figure_draws_each_runs_rate_and_the_cycled_momentum():
    from optiviz import figures

    plain = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adam", lr=0.01)], steps=50)
    assert figures.create_schedule_figure(plain) is None
    sim = _mixed_simulation()
    fig = figures.create_schedule_figure(sim, labels=["a", "b", "c", "d"]).unpacked()
    lines = [tr for tr in fig["data"] if tr.get("name") != "current step"]
    lr_lines = [tr for tr in lines if tr.get("yaxis", "y") == "y"]
    assert [tr["name"] for tr in lr_lines] == ["a", "b", "c", "d"]  # every run, a plain one as its flat η
    for tr, run in zip(lr_lines, sim.runs, strict=True):
        np.testing.assert_allclose(tr["y"], run.lr, rtol=1e-6)
    momentum = [tr for tr in lines if tr.get("yaxis") == "y2"]
    assert [tr["name"] for tr in momentum] == ["b"]  # only SGD's OneCycleLR cycles
    np.testing.assert_allclose(momentum[0]["y"], sim.runs[1].momentum, rtol=1e-6)
    assert fig["layout"]["yaxis"]["type"] == "log"
    meta = fig["layout"]["meta"]
    assert len(meta["optivizCursors"]) == 2 and meta["optivizNoPreview"] is True


def test_the_sidebar_schedule_picker_fills_in_settings_for_the_run():
    from _apptest import chart_elements, open_app

    from optiviz._text import parse_run

    at = open_app()
    assert len(chart_elements(at)) == 2  # no schedule: no schedule chart
    at.selectbox(key="r0.schedule").set_value("CosineAnnealingLR").run()
    assert not at.exception and not at.error
    assert at.number_input(key="r0.sched.T_max").value == 1000  # the run's steps
    run = parse_run(at.query_params["run"][0])
    assert run.schedule == S("CosineAnnealingLR", T_max=1000)
    assert len(chart_elements(at)) == 3  # the schedule chart under the contour
    at.number_input(key="r0.sched.T_max").set_value(400).run()
    assert parse_run(at.query_params["run"][0]).schedule == S("CosineAnnealingLR", T_max=400)
    # SequentialLR's schedulers are written as on the command line
    at.selectbox(key="r0.schedule").set_value("SequentialLR").run()
    assert at.text_area(key="r0.sched.schedulers").value == (
        "LinearLR(start_factor=0.1,total_iters=100),\nCosineAnnealingLR(T_max=900)")
    at.text_area(key="r0.sched.schedulers").set_value("LinearLR(start_factor=0.2,total_iters=100), "
                                                      "ExponentialLR(gamma=0.99)").run()
    assert parse_run(at.query_params["run"][0]).schedule == S("SequentialLR", schedulers=[
        S("LinearLR", start_factor=0.2, total_iters=100), S("ExponentialLR", gamma=0.99)], milestones=[100])
    # torch's refusal skips that run only: AdaGrad (run 3) cannot have its momentum cycled
    at.radio(key="edit_run").set_value(2).run()
    at.selectbox(key="r2.schedule").set_value("OneCycleLR").run()
    assert any("optimizer must support momentum or beta1" in e.value for e in at.error)
    assert [parse_run(r).optimizer for r in at.query_params["run"]] == ["adam", "rmsprop", "sgd"]
    at.checkbox(key="r2.sched.cycle_momentum").uncheck().run()
    assert not at.error and len(at.query_params["run"]) == 4
    # a run made longer than its OneCycleLR's cycle says what to set
    at.slider(key="steps").set_value(2000).run()
    assert any("set total_steps to at least the run's 2,000 steps" in e.value for e in at.error)


def test_a_link_with_a_schedule_opens_with_its_settings_in_the_sidebar():
    from _apptest import open_app

    at = open_app({"run": [TEXTS[1], "sgd:lr=0.001"], "steps": "500"})
    assert at.selectbox(key="r0.schedule").value == "SequentialLR"
    assert at.text_input(key="r0.sched.milestones").value == "50"
    assert at.session_state["r1.schedule"] == "none"  # the other run's controls are not shown, its state kept


def test_run_labels_name_the_schedule_and_the_rate_it_starts_from():
    from optiviz.ui import run_label

    assert run_label(optiviz.RunSpec("adam", lr=0.2, schedule=S("StepLR", step_size=3))) == "Adam (lr 0.2 StepLR)"
    # OneCycleLR and CyclicLR set the lr themselves: the label gives their max_lr, not the run's lr
    assert run_label(optiviz.RunSpec("adam", lr=0.2, schedule=S("OneCycleLR", max_lr=0.3, total_steps=9))) == (
        "Adam (OneCycleLR max_lr 0.3)")
    assert run_label(optiviz.RunSpec("sgd", lr=0.2, momentum=0.9, schedule=S(
        "CyclicLR", base_lr=0.01, max_lr=0.5))).startswith("SGD (CyclicLR max_lr 0.5")

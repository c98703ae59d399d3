"""Schedule-Free AdamW and SGD (the ``schedulefree`` package's reference classes): Explain, their own state (z,
x, the group's weight_sum, lr_max, scheduled_lr and the averaging weight ckp1), the warmup, validation, links,
the command line, CSV/JSON, the PyTorch script (which puts the reference in train mode), recommended learning
rates, the sidebar and the contour's x and z beside the path. Parity with the reference itself is in
test_reference_parity.py."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from _optimizer_checks import (
    EXPLAIN_SURFACES,
    LR_SURFACES,
    check_explain,
    check_notes,
    check_recommended_lr,
    check_script_reproduces,
    check_sidebar_controls,
    simulate_cases,
)

import optiviz
import surfaces
from optiviz import export, figures, share
from optiviz._text import format_run, parse_run
from optiviz.explain import explain

NAMES = ("adamw_schedulefree", "sgd_schedulefree")

#: (optimizer, hyperparameters other than lr), every option somewhere.
CASES = [
    ("adamw_schedulefree", {}),
    ("adamw_schedulefree", {"weight_decay": 0.1, "eps": 1e-3, "betas": (0.5, 0.99)}),
    ("adamw_schedulefree", {"weight_decay": 0.1, "decay_at_z": True, "warmup_steps": 8, "weight_lr_power": 1.0}),
    ("adamw_schedulefree", {"r": 1.0, "weight_lr_power": 0.0}),
    ("sgd_schedulefree", {}),
    ("sgd_schedulefree", {"weight_decay": 0.1, "momentum": 0.8}),
    ("sgd_schedulefree", {"warmup_steps": 8, "r": 0.5}),
]


@pytest.mark.parametrize("surface", EXPLAIN_SURFACES)
def test_explain_reproduces_the_recorded_run(surface):
    sim = simulate_cases(surface, CASES)
    for (name, hyper), run in zip(CASES, sim.runs, strict=True):
        n = run.steps_done
        assert n >= 10, (surface, name, hyper, run)
        for t in sorted({1, 2, 3, 5, 8, 9, n // 2, n}):
            keys = [line.key for line in check_explain(run, t).lines]
            assert {"z", "x", "ckp1", "weight_sum"} <= set(keys)
            assert ("scheduled_lr" in keys) == bool(hyper.get("warmup_steps")), (name, hyper, keys)


@pytest.mark.parametrize("name", NAMES)
def test_notes_and_look_for(name):
    check_notes(name)


@pytest.mark.parametrize("name", NAMES)
def test_the_path_is_y_between_the_average_x_and_z(name):
    """y = β₁x + (1 − β₁)z at every step (momentum for SGD), x starts at z (c₁ = 1) and, by default, is the plain
    mean of z₁..z_t (c_t = 1/t); every point starts at the start."""
    run = optiviz.simulate("beale", [optiviz.RunSpec(name, lr=0.01)], steps=200).runs[0]
    h = run.spec.hyper
    mix = h["betas"][0] if "betas" in h else h["momentum"]
    z, x = run.state["z"], run.state["x"]
    assert np.all(z[0] == run.path[0]) and np.all(x[0] == run.path[0])
    np.testing.assert_allclose(run.path[1:], x[1:] * mix + (1 - mix) * z[1:], rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(x[1], z[1])
    np.testing.assert_allclose(run.state["ckp1"][1:], 1.0 / np.arange(1, 201), rtol=1e-13)
    np.testing.assert_allclose(x[1:], np.cumsum(z[1:], axis=0) / np.arange(1, 201)[:, None], rtol=1e-9, atol=1e-12)
    assert run.state["lr_max"][0] == -1.0 and np.all(run.state["lr_max"][1:] == 0.01)  # the reference's group


@pytest.mark.parametrize("name", NAMES)
def test_warmup_scales_the_lr_and_the_average_weighs_by_lr_max(name):
    run = optiviz.simulate("booth", [optiviz.RunSpec(name, lr=0.02, warmup_steps=10)], steps=30).runs[0]
    t = np.arange(1, 31, dtype=np.float64)
    want = np.where(t - 1 < 10, 0.02 * (t / 10), 0.02)
    np.testing.assert_array_equal(run.state["scheduled_lr"][1:], want)
    np.testing.assert_array_equal(run.state["lr_max"][1:], want)  # rising: the largest so far is this step's
    np.testing.assert_allclose(run.state["weight_sum"][1:], np.cumsum(want**2), rtol=1e-12)
    np.testing.assert_allclose(run.state["ckp1"][1:], want**2 / np.cumsum(want**2), rtol=1e-12)
    assert "warmup 10" in explain(run, 3).title


@pytest.mark.parametrize(("name", "hyper", "message"), [
    ("sgd_schedulefree", {"lr": -1.0}, "Invalid learning rate: -1.0"),
    ("sgd_schedulefree", {"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
    ("sgd_schedulefree", {"momentum": 0.0}, "Momentum must be between 0 and 1 exclusive: 0.0"),
    ("sgd_schedulefree", {"momentum": 1.0}, "Momentum must be between 0 and 1 exclusive: 1.0"),
    ("sgd_schedulefree", {"warmup_steps": -1}, "Invalid warmup_steps value: -1"),
    ("adamw_schedulefree", {"lr": -1.0}, "Invalid learning rate: -1.0"),
    ("adamw_schedulefree", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("adamw_schedulefree", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    ("adamw_schedulefree", {"weight_decay": -1.0}, "Invalid weight_decay value: -1.0"),
    ("adamw_schedulefree", {"warmup_steps": 2.5}, "Invalid warmup_steps value: 2.5"),
])
def test_validation_messages(name, hyper, message):
    """SGD's are the reference's own (AdamW's reference checks nothing: torch.optim.AdamW's words)."""
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        optiviz.RunSpec(name, **hyper)
    if name == "sgd_schedulefree" and "warmup_steps" not in hyper:
        schedulefree = pytest.importorskip("schedulefree", reason="the reference needs the schedulefree package")
        torch = pytest.importorskip("torch")
        with pytest.raises(ValueError, match=message):
            schedulefree.SGDScheduleFreeReference([torch.zeros(2, dtype=torch.float64)], **hyper)


@pytest.mark.parametrize("text", [
    "adamw_schedulefree:lr=0.01,betas=0.8/0.99,eps=1e-06,weight_decay=0.1,warmup_steps=20,r=1,weight_lr_power=1,"
    "decay_at_z=true",
    "sgd_schedulefree:lr=0.003,momentum=0.8,weight_decay=0.01,warmup_steps=5,r=0.5,weight_lr_power=0",
])
def test_run_text_and_link_round_trip(text):
    spec = parse_run(text)
    assert parse_run(format_run(spec)) == spec and parse_run(format_run(spec, full=True)) == spec
    view = share.View(surface="booth", runs=(spec, optiviz.RunSpec("adam", lr=0.2)))
    query = share.view_to_query(view)
    parsed, messages = share.parse_view({k: v if isinstance(v, list) else [v] for k, v in query.items()})
    assert messages == [] and parsed == view.resolved()


def test_cli_json_matches_the_api():
    runs = ["adamw_schedulefree:lr=0.05", "sgd_schedulefree:lr=0.01,warmup_steps=5"]
    r = subprocess.run([sys.executable, "-m", "optiviz", "simulate", "--surface", "beale", *(
        a for run in runs for a in ("--run", run)), "--steps", "40", "--format", "json"],
        capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    sim = optiviz.simulate("beale", [parse_run(t) for t in runs], steps=40)
    for got, run in zip(data["runs"], sim.runs, strict=True):
        np.testing.assert_array_equal(got["path"], run.path)
        assert set(got["state"]) == set(run.state) >= {"z", "x", "weight_sum", "ckp1"}
        for name, arr in run.state.items():
            np.testing.assert_array_equal(got["state"][name], arr)


def test_csv_has_columns_for_z_x_and_the_scalars():
    sim = optiviz.simulate("beale", [optiviz.RunSpec(name) for name in NAMES], steps=5)
    header = export.to_csv(sim).splitlines()[0].split(",")
    assert {"z_x", "z_y", "x_x", "x_y", "ckp1", "weight_sum", "scheduled_lr"} <= set(header)


def test_torch_script_puts_the_reference_in_train_mode_and_reproduces_the_runs(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("schedulefree", reason="the reference needs the schedulefree package")
    sim = optiviz.simulate("beale", [optiviz.RunSpec(name, lr=optiviz.optimizers.get(name).recommended_lr(
        surfaces.get("beale")), **hyper) for name, hyper in CASES], steps=300)
    script = export.to_torch_script(sim)
    assert "import schedulefree  # pip install schedulefree" in script
    assert "schedulefree.AdamWScheduleFreeReference, train_mode=True," in script
    assert "schedulefree.SGDScheduleFreeReference, train_mode=True," in script
    assert "opt.train()" in script
    check_script_reproduces(sim, script, tmp_path)


@pytest.mark.parametrize("surface", LR_SURFACES)
def test_recommended_lr_gives_a_run_that_goes_somewhere(surface):
    check_recommended_lr(surface, NAMES)  # none of them leaves even a saddle's plot in 1000 steps


def test_on_rosenbrock_schedule_free_sgd_survives_the_lr_where_sgd_escapes():
    surf = surfaces.get("rosenbrock")
    lr = optiviz.optimizers.get("sgd_schedulefree").recommended_lr(surf)
    sim = optiviz.simulate(surf, [optiviz.RunSpec("sgd", lr=lr), optiviz.RunSpec("sgd_schedulefree", lr=lr)],
                           steps=1000)
    assert sim.runs[0].diverged_reason == "escaped"
    assert sim.runs[1].diverged_at is None and sim.runs[1].loss[-1] < 0.2


def test_the_contour_draws_x_and_z_beside_the_path_with_heads_the_playback_moves():
    """Each Schedule-Free run gets two thin lines (x, z) in its colour, dashed unlike the path, and a head for
    each, named in the legend's hover; the playback carries their every step and names their traces."""
    from optiviz import _codec

    sim = optiviz.simulate("beale", [optiviz.RunSpec("adam", lr=0.05), optiviz.RunSpec("adamw_schedulefree",
                                                                                       lr=0.05)], steps=100)
    fig = figures.create_trajectory_figure(sim)
    spec = fig.spec
    pb = spec["layout"]["meta"]["optivizPlayback"]
    assert "companions" not in pb["runs"][0] or not pb["runs"][0]["companions"]
    entries = pb["runs"][1]["companions"]
    assert [spec["data"][e["line"]]["name"] for e in entries] == [
        "Schedule-Free AdamW: x (average)", "Schedule-Free AdamW: z"]
    color = spec["data"][pb["runs"][1]["line"]]["line"]["color"]
    columns = _codec.decode(pb["companions"])
    run = sim.runs[1]
    for e, (label, points) in zip(entries, optiviz.optimizers.get("adamw_schedulefree").companions(run),
                                  strict=True):
        line, head = spec["data"][e["line"]], spec["data"][e["head"]]
        assert line["line"]["color"] == color and line["line"]["dash"] not in ("solid", None)
        assert line["line"]["width"] < spec["data"][pb["runs"][1]["line"]]["line"]["width"]
        assert head["marker"]["color"] == color and head["name"].endswith(f"{label} now")
        np.testing.assert_allclose(columns[e["col"]], points[:, 0], rtol=0, atol=1e-5)
        np.testing.assert_allclose(columns[e["col"] + 1], points[:, 1], rtol=0, atol=1e-5)
    fig.validated()


@pytest.mark.parametrize("name", NAMES)
def test_sidebar_draws_the_optimizers_controls(name):
    check_sidebar_controls(name)

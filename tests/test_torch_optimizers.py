"""NAdam, RAdam, Adadelta and Rprop (torch.optim's): Explain, their own state (NAdam's float32 mu_product, RAdam's
rectification, Rprop's step sizes), torch's validation messages, links, the command line, CSV/JSON, the PyTorch
script, recommended learning rates and the sidebar. Parity with torch itself is in test_reference_parity.py."""

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
from optiviz import export, share
from optiviz._text import format_run, parse_run
from optiviz.explain import explain
from optiviz.optimizers import radam

NAMES = ("nadam", "radam", "adadelta", "rprop")

#: (optimizer, hyperparameters other than lr), every option somewhere.
CASES = [
    ("nadam", {}),
    ("nadam", {"weight_decay": 0.1}),
    ("nadam", {"weight_decay": 0.1, "decoupled_weight_decay": True, "momentum_decay": 0.02, "betas": (0.5, 0.99)}),
    ("radam", {}),
    ("radam", {"weight_decay": 0.1, "eps": 1e-3}),
    ("radam", {"weight_decay": 0.1, "decoupled_weight_decay": True, "betas": (0.8, 0.99)}),
    ("adadelta", {}),
    ("adadelta", {"rho": 0.5, "eps": 1e-3, "weight_decay": 0.1}),
    ("rprop", {}),
    ("rprop", {"etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}),
]


def _case_id(case):
    name, hyper = case
    return name + "".join(f"-{k}={v}" for k, v in hyper.items())


@pytest.mark.parametrize("surface", EXPLAIN_SURFACES)
def test_explain_reproduces_the_recorded_run(surface):
    sim = simulate_cases(surface, CASES)
    for (name, hyper), run in zip(CASES, sim.runs, strict=True):
        n = run.steps_done
        assert n >= 10, (surface, name, hyper, run)
        for t in sorted({1, 2, 3, 5, 6, 7, n // 2, n}):
            check_explain(run, t)


@pytest.mark.parametrize("name", NAMES)
def test_notes_and_look_for(name):
    check_notes(name)


def test_radam_rectification_switches_on_where_torch_says():
    """rho_t and rect_applied by torch's formula; momentum SGD (lr × m̂) for the first five steps at β₂ = 0.999,
    the rectified adaptive step after; the panels' r_t is 0 before, in (0, 1) after; Explain follows."""
    sim = optiviz.simulate("booth", [optiviz.RunSpec("radam", lr=0.01), optiviz.RunSpec("radam", lr=0.01,
                                                                                          betas=(0.9, 0.8))], steps=40)
    for run in sim.runs:
        beta2 = run.spec.hyper["betas"][1]
        t = np.arange(1, run.steps_done + 1, dtype=np.float64)
        rho_t = [2 / (1 - beta2) - 1 - 2 * s * (beta2**s) / (1 - beta2**s) for s in t.tolist()]  # torch's floats
        np.testing.assert_array_equal(run.state["rho_t"][1:], rho_t)
        np.testing.assert_array_equal(run.state["rect_applied"][1:], np.array(rho_t) > 5.0)
        first = int(np.argmax(run.state["rect_applied"][1:])) + 1
        r = radam.rectification(run)
        assert np.all(r[: first - 1] == 0.0) and np.all((r[first - 1:] > 0) & (r[first - 1:] < 1))
        panel = dict((label.split(" ")[0], arr) for label, arr, _ in run.spec.spec.panels(run)[1])["r_t"]
        np.testing.assert_array_equal(panel, np.repeat(r[:, None], 2, axis=1))
        m_hat = run.bias_corrected["m_hat"]
        np.testing.assert_allclose(run.update[: first - 1], -run.spec.lr * m_hat[: first - 1], rtol=1e-12)
        assert "rect" not in [line.key for line in explain(run, first - 1).lines]
        assert "rect" in [line.key for line in explain(run, first).lines]
        assert "≤ 5" in explain(run, first - 1).step_note and "> 5" in explain(run, first).step_note
    assert int(np.argmax(sim.runs[0].state["rect_applied"][1:])) + 1 == 6  # step 6 at torch's β₂ = 0.999
    assert int(np.argmax(sim.runs[1].state["rect_applied"][1:])) + 1 == 7  # later at β₂ = 0.8


def test_nadam_mu_product_is_rounded_to_float32_as_torch_keeps_it():
    run = optiviz.simulate("beale", [optiviz.RunSpec("nadam", lr=0.05)], steps=200).runs[0]
    prod = run.state["mu_product"]
    assert prod.shape == (201,) and prod[0] == 1.0
    np.testing.assert_array_equal(prod, prod.astype(np.float32).astype(np.float64))
    h = run.spec.hyper
    mu = h["betas"][0] * (1.0 - 0.5 * 0.96 ** (np.arange(1, 201) * h["momentum_decay"]))
    normal = prod[1:] > np.finfo(np.float32).tiny  # float32's subnormals keep fewer digits
    assert normal.sum() > 50
    np.testing.assert_allclose(prod[1:][normal], np.cumprod(mu)[normal], rtol=1e-5)


def test_rprop_step_size_starts_at_lr_and_moves_by_sign():
    run = optiviz.simulate("booth", [optiviz.RunSpec("rprop", lr=0.03)], steps=50).runs[0]
    assert np.all(run.state["step_size"][0] == 0.03)
    np.testing.assert_allclose(np.abs(run.update), run.effective_lr, rtol=1e-12, atol=1e-15)  # position rounding
    np.testing.assert_allclose(run.update[0], -0.03 * np.sign(run.grad[0]), rtol=1e-12)
    flips = run.grad[1:] * run.state["prev"][1:-1] < 0
    assert flips.any()  # the run overshoots the minimum somewhere: no move there
    assert np.all(run.update[1:][flips] == 0.0)


@pytest.mark.parametrize(("name", "hyper"), [
    ("nadam", {"lr": -1.0}), ("nadam", {"eps": -1.0}), ("nadam", {"betas": (1.0, 0.999)}),
    ("nadam", {"betas": (0.9, -0.1)}), ("nadam", {"weight_decay": -0.1}), ("nadam", {"momentum_decay": -0.1}),
    ("radam", {"lr": -1.0}), ("radam", {"eps": -1.0}), ("radam", {"betas": (0.9, 1.5)}),
    ("radam", {"weight_decay": -1.0}),
    ("adadelta", {"lr": -1.0}), ("adadelta", {"rho": 1.5}), ("adadelta", {"rho": -0.1}), ("adadelta", {"eps": -1.0}),
    ("adadelta", {"weight_decay": -1.0}),
    ("rprop", {"lr": -1.0}), ("rprop", {"etas": (1.5, 1.2)}), ("rprop", {"etas": (0.5, 0.9)}),
    ("rprop", {"etas": (0.0, 1.2)}),
])
def test_validation_messages_are_torchs(name, hyper):
    torch = pytest.importorskip("torch")
    _, cls = optiviz.optimizers.get(name).reference
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, cls)([torch.zeros(2, dtype=torch.float64)], **hyper)
    with pytest.raises(ValueError) as ours:
        optiviz.RunSpec(name, **hyper)
    assert str(theirs.value) in str(ours.value)


@pytest.mark.parametrize("text", [
    "nadam:lr=0.01,betas=0.8/0.99,momentum_decay=0.01,weight_decay=0.1,decoupled_weight_decay=true",
    "radam:lr=0.003,betas=0.9/0.99,eps=1e-06,decoupled_weight_decay=true,weight_decay=0.01",
    "adadelta:lr=3,rho=0.95,eps=1e-05,weight_decay=0.001",
    "rprop:lr=0.001,etas=0.4/1.3,step_sizes=1e-05/10",
])
def test_run_text_and_link_round_trip(text):
    spec = parse_run(text)
    assert parse_run(format_run(spec)) == spec and parse_run(format_run(spec, full=True)) == spec
    view = share.View(surface="booth", runs=(spec, optiviz.RunSpec("adam", lr=0.2)))
    query = share.view_to_query(view)
    parsed, messages = share.parse_view({k: v if isinstance(v, list) else [v] for k, v in query.items()})
    assert messages == [] and parsed == view.resolved()


def test_cli_json_matches_the_api():
    runs = ["nadam:lr=0.05", "radam:lr=0.01", "adadelta", "rprop:etas=0.4/1.3"]
    r = subprocess.run([sys.executable, "-m", "optiviz", "simulate", "--surface", "beale", *(
        a for run in runs for a in ("--run", run)), "--steps", "40", "--format", "json"],
        capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    sim = optiviz.simulate("beale", [parse_run(t) for t in runs], steps=40)
    for got, run in zip(data["runs"], sim.runs, strict=True):
        np.testing.assert_array_equal(got["path"], run.path)
        assert set(got["state"]) == set(run.state)
        for name, arr in run.state.items():
            np.testing.assert_array_equal(got["state"][name], arr)


def test_csv_has_a_column_per_scalar_state():
    sim = optiviz.simulate("beale", [optiviz.RunSpec("nadam"), optiviz.RunSpec("radam"), optiviz.RunSpec("rprop")],
                           steps=5)
    header = export.to_csv(sim).splitlines()[0].split(",")
    assert "mu_product" in header and "rho_t" in header and "step_size_x" in header


def test_torch_script_reproduces_the_runs(tmp_path):
    pytest.importorskip("torch")
    sim = optiviz.simulate("beale", [optiviz.RunSpec(name, lr=optiviz.optimizers.get(name).recommended_lr(
        surfaces.get("beale")), **hyper) for name, hyper in CASES], steps=300)
    script = export.to_torch_script(sim)
    for cls in ("NAdam", "RAdam", "Adadelta", "Rprop"):
        assert f"torch.optim.{cls}(" in script or f"torch.optim.{cls}," in script
    check_script_reproduces(sim, script, tmp_path)


#: (surface, optimizer) whose default run leaves the plot, as it should: a saddle is unbounded below.
ESCAPES = {("saddle", "rprop"), ("monkey_saddle", "rprop"), ("saddle", "adadelta")}


@pytest.mark.parametrize("surface", LR_SURFACES)
def test_recommended_lr_gives_a_run_that_goes_somewhere(surface):
    check_recommended_lr(surface, NAMES, ESCAPES)


@pytest.mark.parametrize("name", NAMES)
def test_sidebar_draws_the_optimizers_controls(name):
    check_sidebar_controls(name)

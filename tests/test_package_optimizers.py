"""Lion, AdEMAMix and Prodigy (from lion-pytorch, pytorch-optimizer and prodigyopt): Explain, their own state
(Lion's lr-sized sign steps, AdEMAMix's slow momentum and warm-up, Prodigy's d), the references' validation
messages, defaults of None and of inf through links, run text, JSON and the PyTorch script, the command line,
CSV, recommended learning rates and the sidebar. Parity with the references is in test_reference_parity.py;
tests that need a reference package skip, saying which, where it is not installed."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from _apptest import open_app
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
from optiviz.optimizers import ademamix, lion

NAMES = ("lion", "ademamix", "prodigy")

#: (optimizer, hyperparameters other than lr), every option somewhere.
CASES = [
    ("lion", {}),
    ("lion", {"weight_decay": 0.1, "betas": (0.5, 0.9)}),
    ("lion", {"weight_decay": 1e-3, "decoupled_weight_decay": True}),
    ("ademamix", {}),
    ("ademamix", {"weight_decay": 0.1, "eps": 1e-3, "cautious": True}),
    ("ademamix", {"weight_decay": 0.01, "weight_decouple": True, "t_alpha_beta3": 50.0, "alpha": 2.0,
                  "betas": (0.8, 0.99, 0.999)}),
    ("ademamix", {"weight_decay": 1e-3, "weight_decouple": True, "fixed_decay": True}),
    ("prodigy", {}),
    ("prodigy", {"weight_decay": 0.1, "decouple": False, "use_bias_correction": True, "beta3": 0.9}),
    ("prodigy", {"weight_decay": 0.1, "safeguard_warmup": True, "d0": 1e-4, "d_coef": 0.5, "growth_rate": 1.05}),
    ("prodigy", {"betas": (0.0, 0.99), "eps": 1e-6}),
]


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


def test_lion_moves_every_coordinate_by_exactly_lr():
    """Without weight decay each step is ±lr per coordinate (sign of c_t = β₁m + (1 − β₁)g, not of g); the
    effective step size is lr; the panels show m_t, c_t and |c_t|."""
    run = optiviz.simulate("rosenbrock", [optiviz.RunSpec("lion", lr=0.01)], steps=300).runs[0]
    np.testing.assert_allclose(np.abs(run.update), 0.01, rtol=1e-9)
    c = lion.interpolation(run)
    np.testing.assert_allclose(run.update, -0.01 * np.sign(c), rtol=1e-9)
    assert np.any(np.sign(c) != np.sign(run.grad))  # the momentum wins against the gradient somewhere
    assert np.all(run.effective_lr == 0.01)
    first, second = run.spec.spec.panels(run)
    assert [label.split(" ")[0] for label, _, _ in first] == ["m_t", "c_t"]
    np.testing.assert_array_equal(second[0][1], np.abs(c))


def test_ademamix_slow_momentum_and_warmup():
    """exp_avg_slow follows β₃ (0.9999: it holds about t·1e-4 of the gradients after t steps); with
    t_alpha_beta3 the schedule is the reference's (α_t linear, β₃_t from β₁ to β₃) and reaches α and β₃ at T."""
    runs = optiviz.simulate("booth", [optiviz.RunSpec("ademamix", lr=0.1),
                                      optiviz.RunSpec("ademamix", lr=0.1, t_alpha_beta3=40.0)], steps=80).runs
    plain, warm = runs
    g = plain.grad[0]
    np.testing.assert_allclose(plain.state["exp_avg_slow"][1], 1e-4 * g, rtol=1e-9)
    ref = pytest.importorskip("pytorch_optimizer", reason="the schedule's reference needs pytorch-optimizer")
    alpha_t, beta3_t = ademamix.schedules(warm)
    for step in (1, 10, 40, 80):
        assert alpha_t[step - 1, 0] == ref.AdEMAMix.schedule_alpha(40.0, step, 5.0)
        assert beta3_t[step - 1, 0] == ref.AdEMAMix.schedule_beta3(40.0, step, 0.9, 0.9999)
    assert alpha_t[39, 0] == 5.0 and beta3_t[-1, 0] == 0.9999
    keys = [line.key for line in explain(warm, 3).lines]
    assert "alpha_t" in keys and "beta3_t" in keys
    assert "alpha_t" not in [line.key for line in explain(plain, 3).lines]
    assert "warm-up" in explain(warm, 3).title


def test_prodigy_d_grows_from_d0_and_never_falls():
    """d starts at d0, stays there at step 1 (the numerator is 0), grows by orders of magnitude and never falls;
    the panels show d over time (a scalar series, the same in x and y); p0 is the start; k counts the steps."""
    run = optiviz.simulate("rosenbrock", [optiviz.RunSpec("prodigy")], steps=300).runs[0]
    d = run.state["d"]
    assert d.shape == (301,) and d[0] == 1e-6 and d[1] == 1e-6
    assert np.all(np.diff(d) >= 0) and d[-1] > 1e3 * d[0]
    np.testing.assert_array_equal(run.state["d_max"] >= d, True)
    np.testing.assert_array_equal(run.state["p0"], np.broadcast_to(run.path[0], (301, 2)))
    np.testing.assert_array_equal(run.state["k"], np.arange(301))
    second = run.spec.spec.panels(run)[1]
    label, series, _ = second[0]
    assert label.startswith("d ") and series.shape == (300, 2)
    np.testing.assert_array_equal(series[:, 0], d[1:])
    # growth_rate caps d's growth once d has left d0 (the first estimate replaces d0 whole, as in the reference)
    capped = optiviz.simulate("rosenbrock", [optiviz.RunSpec("prodigy", growth_rate=1.02)], steps=300).runs[0]
    cd = capped.state["d"]
    left = int(np.argmax(cd > cd[0]))
    assert 0 < left < 10 and np.all(cd[left + 1:] <= cd[left:-1] * 1.02 * (1 + 1e-15))
    assert cd[-1] < d[-1]
    no_m = optiviz.simulate("rosenbrock", [optiviz.RunSpec("prodigy", betas=(0.0, 0.999))], steps=5).runs[0]
    assert "exp_avg" not in no_m.state  # the reference keeps no exp_avg when beta1 = 0


def test_prodigy_zero_gradient_skips_the_step_as_the_reference_does():
    """At a stationary start the reference returns before moving (d_denom = 0) and k stays 0."""
    run = optiviz.simulate("booth", [optiviz.RunSpec("prodigy")], start=(1.0, 3.0), steps=5).runs[0]
    assert np.all(run.path == run.path[0]) and np.all(run.state["k"] == 0) and np.all(run.state["d"] == 1e-6)


#: (optimizer, hyperparameters) the reference refuses, with the message it gives.
BAD = [
    ("ademamix", {"lr": -1.0}), ("ademamix", {"betas": (1.0, 0.999, 0.9999)}),
    ("ademamix", {"betas": (0.9, 1.0, 0.9999)}), ("ademamix", {"betas": (0.9, 0.999, 1.5)}),
    ("ademamix", {"alpha": -1.0}), ("ademamix", {"t_alpha_beta3": -1.0}), ("ademamix", {"weight_decay": -0.1}),
    ("ademamix", {"eps": -1.0}),
    ("prodigy", {"d0": 0.0}), ("prodigy", {"lr": 0.0}), ("prodigy", {"lr": -1.0}), ("prodigy", {"eps": 0.0}),
    ("prodigy", {"betas": (1.0, 0.999)}), ("prodigy", {"betas": (0.9, -0.1)}),
]


@pytest.mark.parametrize(("name", "hyper"), BAD)
def test_validation_messages_are_the_references(name, hyper):
    torch = pytest.importorskip("torch")
    module, cls = optiviz.optimizers.get(name).reference
    mod = pytest.importorskip(module, reason=f"needs {optiviz.optimizers.get(name).package}")
    with pytest.raises(Exception) as theirs:  # pytorch-optimizer's NegativeLRError is not a ValueError
        getattr(mod, cls)([torch.zeros(2, dtype=torch.float64)], **hyper)
    with pytest.raises(ValueError) as ours:
        optiviz.RunSpec(name, **hyper)
    assert str(theirs.value) in str(ours.value)


@pytest.mark.parametrize("hyper", [{"lr": 0.0}, {"lr": -1e-3}, {"betas": (1.5, 0.99)}, {"betas": (0.9, -0.1)}])
def test_lion_refuses_what_lion_pytorch_asserts(hyper):
    """lion-pytorch checks with bare asserts (lr > 0, betas in [0, 1]); optiviz says what they require."""
    torch = pytest.importorskip("torch")
    mod = pytest.importorskip("lion_pytorch", reason="needs lion-pytorch")
    with pytest.raises(AssertionError):
        mod.Lion([torch.zeros(2, dtype=torch.float64)], **hyper)
    with pytest.raises(ValueError, match="lion-pytorch asserts"):
        optiviz.RunSpec("lion", **hyper)
    optiviz.RunSpec("lion", betas=(1.0, 0.0))  # the bounds themselves are accepted, as lion-pytorch accepts them


def test_ademamix_refuses_a_warmup_of_zero_steps():
    with pytest.raises(ValueError, match="t_alpha_beta3 must be positive"):
        optiviz.RunSpec("ademamix", t_alpha_beta3=0.0)


def test_defaults_of_none_and_inf():
    """None where the reference's default is None (a number or None, nothing else); inf kept as inf."""
    spec = optiviz.RunSpec("ademamix")
    assert spec.hyper["t_alpha_beta3"] is None and "t_alpha_beta3" not in spec.changed()
    assert optiviz.RunSpec("ademamix", t_alpha_beta3=100).hyper["t_alpha_beta3"] == 100.0
    assert optiviz.RunSpec("ademamix", t_alpha_beta3=100.0).replace(t_alpha_beta3=None) == spec
    with pytest.raises(ValueError, match="must be a number"):
        optiviz.RunSpec("ademamix", t_alpha_beta3="none")
    with pytest.raises(ValueError, match="must be a number"):
        optiviz.RunSpec("prodigy", d0=None)
    p = optiviz.RunSpec("prodigy")
    assert p.hyper["beta3"] is None and p.hyper["growth_rate"] == math.inf
    assert format_run(p, full=True).endswith("growth_rate=inf") and "beta3=none" in format_run(p, full=True)
    assert format_run(p) == "prodigy"
    ex = explain(optiviz.simulate("booth", [p], steps=3).runs[0], 2)
    assert "beta3" not in ex.hyper and "growth" not in ex.hyper  # None and inf are not listed as numbers


@pytest.mark.parametrize("text", [
    "lion:lr=0.003,betas=0.8/0.95,weight_decay=0.1,decoupled_weight_decay=true",
    "ademamix:lr=0.05,betas=0.8/0.99/0.999,alpha=3,t_alpha_beta3=200,weight_decay=0.01,weight_decouple=true,"
    "fixed_decay=true,eps=1e-06,cautious=true",
    "ademamix:lr=0.05,t_alpha_beta3=none",
    "prodigy:lr=0.5,beta3=0.99,weight_decay=0.01,decouple=false,use_bias_correction=true,safeguard_warmup=true,"
    "d0=1e-05,d_coef=2,growth_rate=1.02",
    "prodigy:growth_rate=inf,beta3=none",
    "prodigy:growth_rate=inf,beta3=0.9",
])
def test_run_text_and_link_round_trip(text):
    spec = parse_run(text)
    assert parse_run(format_run(spec)) == spec and parse_run(format_run(spec, full=True)) == spec
    view = share.View(surface="booth", runs=(spec, optiviz.RunSpec("adam", lr=0.2)))
    query = share.view_to_query(view)
    parsed, messages = share.parse_view({k: v if isinstance(v, list) else [v] for k, v in query.items()})
    assert messages == [] and parsed == view.resolved()


def test_link_ranges_take_none_and_inf_and_refuse_what_is_outside():
    for run in ("ademamix:t_alpha_beta3=none", "prodigy:growth_rate=inf,beta3=none", "prodigy:growth_rate=1"):
        parsed, messages = share.parse_view({"run": [run]})
        assert messages == [] and parsed.runs == (parse_run(run),), (run, messages)
    _, messages = share.parse_view({"run": ["prodigy:growth_rate=0.5"]})
    assert "growth_rate=0.5 is outside the app's range, 1 to inf" in messages[0]
    _, messages = share.parse_view({"run": ["ademamix:t_alpha_beta3=1e9"]})
    assert "t_alpha_beta3=1e+09 is outside the app's range" in messages[0]


def test_cli_json_matches_the_api():
    runs = ["lion:lr=0.01", "ademamix:lr=0.05,t_alpha_beta3=100", "prodigy", "prodigy:beta3=0.9,growth_rate=1.1"]
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
    assert data["runs"][2]["hyper"]["growth_rate"] == "inf" and data["runs"][2]["hyper"]["beta3"] is None
    assert data["runs"][1]["hyper"]["t_alpha_beta3"] == 100.0


def test_csv_has_a_column_per_scalar_state():
    sim = optiviz.simulate("beale", [optiviz.RunSpec("lion"), optiviz.RunSpec("ademamix"),
                                     optiviz.RunSpec("prodigy")], steps=5)
    header = export.to_csv(sim).splitlines()[0].split(",")
    for column in ("exp_avg_slow_x", "d", "d_hat", "d_numerator", "s_y", "k"):
        assert column in header


def test_html_export_describes_none_and_inf():
    sim = optiviz.simulate("beale", [optiviz.RunSpec("prodigy"), optiviz.RunSpec("ademamix")], steps=5)
    page = export.to_html(sim)
    assert "growth_rate=inf" in page and "t_alpha_beta3=None" in page


def test_torch_script_reproduces_the_runs(tmp_path):
    pytest.importorskip("torch")
    for module, package in (("lion_pytorch", "lion-pytorch"), ("pytorch_optimizer", "pytorch-optimizer"),
                            ("prodigyopt", "prodigyopt")):
        pytest.importorskip(module, reason=f"the script imports {package}")
    sim = optiviz.simulate("beale", [optiviz.RunSpec(name, lr=optiviz.optimizers.get(name).recommended_lr(
        surfaces.get("beale")), **hyper) for name, hyper in CASES], steps=300)
    script = export.to_torch_script(sim)
    for line in ("import lion_pytorch  # pip install lion-pytorch",
                 "import pytorch_optimizer  # pip install pytorch-optimizer",
                 "import prodigyopt  # pip install prodigyopt"):
        assert line in script
    assert "growth_rate=float('inf')" in script and "t_alpha_beta3=None" in script and "use_triton=False" in script
    check_script_reproduces(sim, script, tmp_path)


#: (surface, optimizer) whose default run leaves the plot, as it should: Prodigy's d measures the distance to a
#: solution a saddle does not have, and grows without end.
ESCAPES = {("saddle", "prodigy"), ("noisy_saddle", "prodigy")}


@pytest.mark.parametrize("surface", LR_SURFACES)
def test_recommended_lr_gives_a_run_that_goes_somewhere(surface):
    check_recommended_lr(surface, NAMES, ESCAPES)


@pytest.mark.parametrize("name", NAMES)
def test_sidebar_draws_the_optimizers_controls(name):
    check_sidebar_controls(name)


def _link_run(at) -> str:
    value = at.query_params["run"]
    return value if isinstance(value, str) else value[0]


@pytest.mark.parametrize(("name", "key", "value"), [("ademamix", "t_alpha_beta3", 100.0), ("prodigy", "beta3", 0.9)])
def test_sidebar_empty_box_means_none(name, key, value):
    """A hyperparameter whose reference default is None: its box starts empty (None), takes a number, and empty
    again means None, with no complaint under the box; the help says what None means."""
    at = open_app({"run": [name], "surface": "booth"})
    at.radio(key="edit_run").set_value(0)
    at.run()
    box = at.number_input(key=f"r0.{key}")
    assert box.value is None and "None" in box.help
    box.set_value(value).run()
    assert not at.exception and at.number_input(key=f"r0.{key}").value == value
    assert f"{key}={value!r}" in _link_run(at)
    at.number_input(key=f"r0.{key}").set_value(None).run()
    assert not at.exception and at.number_input(key=f"r0.{key}").value is None
    assert key not in _link_run(at)
    assert not [c for c in at.caption if "takes a number" in c.value]


def test_sidebar_growth_rate_inf():
    """Prodigy's growth_rate=inf (no limit) is an empty box (a number box cannot show inf; its placeholder and
    help say so); a number limits d's growth and goes into the link; emptied, it is inf again."""
    at = open_app({"run": ["prodigy:growth_rate=inf"], "surface": "booth"})
    at.radio(key="edit_run").set_value(0)
    at.run()
    box = at.number_input(key="r0.growth_rate")
    assert box.value is None and "inf" in box.help
    box.set_value(1.05).run()
    assert not at.exception and "growth_rate=1.05" in _link_run(at)
    at.number_input(key="r0.growth_rate").set_value(None).run()
    assert not at.exception and "growth_rate" not in _link_run(at)
    assert not [c for c in at.caption if "takes a number" in c.value]

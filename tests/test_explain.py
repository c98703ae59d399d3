"""explain(): the substituted equations reproduce the engine's recorded arrays, line by line.

Every line's ``result`` is checked twice: against the recorded arrays (state rows, bias-corrected
moments, effective_lr, path), and against a plain-Python recomputation of the displayed equation from
the displayed inputs (the hyperparameters and the results of earlier lines).
"""

import glob
import json
import math
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import optiviz
import surfaces
from optiviz.explain import Explanation, Line, explain, format_number, notes

# (optimizer, hyperparameters other than lr); lr is the surface's recommended one.
CASES = [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "dampening": 0.5}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("sgd", {"weight_decay": 0.1}),
    ("sgd", {"momentum": 0.5, "nesterov": True, "weight_decay": 0.05}),
    ("adagrad", {}),
    ("adagrad", {"lr_decay": 0.05}),
    ("adagrad", {"initial_accumulator_value": 0.1}),
    ("adagrad", {"weight_decay": 0.1}),
    ("adagrad", {"eps_inside_sqrt": True, "lr_decay": 0.01}),
    ("rmsprop", {}),
    ("rmsprop", {"centered": True}),
    ("rmsprop", {"momentum": 0.5}),
    ("rmsprop", {"centered": True, "momentum": 0.5}),
    ("rmsprop", {"weight_decay": 0.1}),
    ("rmsprop", {"eps_inside_sqrt": True}),
    ("rmsprop", {"eps_inside_sqrt": True, "centered": True, "momentum": 0.3, "alpha": 0.9}),
    ("adam", {}),
    ("adam", {"amsgrad": True}),
    ("adam", {"weight_decay": 0.1}),
    ("adam", {"eps_inside_sqrt": True}),
    ("adam", {"amsgrad": True, "eps_inside_sqrt": True, "betas": (0.8, 0.99)}),
    ("adamw", {}),
    ("adamw", {"amsgrad": True}),
    ("adamw", {"weight_decay": 0.0}),
    ("adamw", {"weight_decay": 0.1, "eps_inside_sqrt": True}),
    ("adam", {"bias_correction": False}),
    ("adam", {"bias_correction": False, "eps_inside_sqrt": True, "weight_decay": 0.1}),
    ("adamw", {"bias_correction": False, "amsgrad": True}),
]
# (surface, start): default starts, plus one next to a minimum where gradients are ~1e-6 and ε matters.
SURFACES = [("rosenbrock", None), ("beale", None), ("booth", None), ("matyas", (3e-6, -1e-6))]
STEPS = 50


def _case_id(case):
    name, hyper = case
    return name + "".join(f"-{k}={v}" for k, v in hyper.items())


@pytest.fixture(scope="module", params=SURFACES, ids=[name for name, _ in SURFACES])
def simulation(request):
    name, start = request.param
    surf = surfaces.get(name)
    runs = [optiviz.RunSpec(opt, lr=surf.lr[opt], **hyper) for opt, hyper in CASES]
    return optiviz.simulate(name, runs, start=start, steps=STEPS)


def _steps_to_check(run):
    n = run.steps_done
    return sorted({1, 2, 3, max(1, n // 2), n} & set(range(1, n + 1)))


# ---------------------------------------------------------------------------------------------------------
# Plain-Python recomputation of each displayed equation from its displayed inputs


def _recompute(run, t, key, k, r):
    """The value of line ``key`` for coordinate ``k`` from the formula, with ``r`` the results of the earlier
    lines (coordinate k); returns (value, scale) where scale bounds the magnitudes involved."""
    h = run.spec.hyper
    opt = run.optimizer
    theta = run.path[t - 1, k]
    g = r.get("grad_l2", r.get("grad"))
    lr = h["lr"]
    if key == "grad":
        return run.grad[t - 1, k], abs(run.grad[t - 1, k])
    if key == "grad_l2":
        return r["grad"] + h["weight_decay"] * theta, abs(r["grad"]) + abs(h["weight_decay"] * theta)
    if key == "decayed_param":
        return theta * (1 - lr * h["weight_decay"]), abs(theta)
    if key == "clr":
        return lr / (1 + (t - 1) * h["lr_decay"]), lr
    if key == "sum":
        prev = h["initial_accumulator_value"] if t == 1 else run.state["sum"][t - 1, k]
        return prev + g**2, prev + g**2
    if key in ("square_avg", "exp_avg_sq"):
        beta = h["alpha"] if opt == "rmsprop" else h["betas"][1]
        prev = run.state[key][t - 1, k]
        return beta * prev + (1 - beta) * g**2, beta * prev + (1 - beta) * g**2
    if key in ("grad_avg", "exp_avg"):
        beta = h["alpha"] if opt == "rmsprop" else h["betas"][0]
        prev = run.state[key][t - 1, k]
        return beta * prev + (1 - beta) * g, abs(beta * prev) + abs((1 - beta) * g)
    if key == "variance":
        return r["square_avg"] - r["grad_avg"] ** 2, r["square_avg"]
    if key == "max_exp_avg_sq":
        return max(run.state[key][t - 1, k], r["exp_avg_sq"]), r["exp_avg_sq"]
    if key == "m_hat":
        return r["exp_avg"] / (1 - h["betas"][0] ** t), abs(r["exp_avg"] / (1 - h["betas"][0] ** t))
    if key in ("v_hat", "v_hat_max"):
        v = r["max_exp_avg_sq"] if key == "v_hat_max" else r["exp_avg_sq"]
        return v / (1 - h["betas"][1] ** t), v / (1 - h["betas"][1] ** t)
    if key == "effective_lr":
        eps, inside = h["eps"], h["eps_inside_sqrt"]
        v = {"adagrad": r.get("sum"), "rmsprop": r.get("variance", r.get("square_avg"))}.get(opt, r.get("v_hat"))
        if opt in ("adam", "adamw"):  # without bias correction, v_t itself
            v = r.get("v_hat_max", r.get("max_exp_avg_sq")) if h["amsgrad"] else r.get("v_hat", r["exp_avg_sq"])
        num = r.get("clr", lr)
        value = num / math.sqrt(v + eps) if inside else num / (math.sqrt(v) + eps)
        return value, value
    if key == "momentum_buffer":
        if opt == "sgd":
            if t == 1:
                return g, abs(g)
            prev = run.state[key][t - 1, k]
            mu, tau = h["momentum"], h["dampening"]
            return mu * prev + (1 - tau) * g, abs(mu * prev) + abs((1 - tau) * g)
        prev = run.state[key][t - 1, k]
        v = r.get("variance", r["square_avg"])
        root = math.sqrt(v + h["eps"]) if h["eps_inside_sqrt"] else math.sqrt(v) + h["eps"]
        return h["momentum"] * prev + g / root, abs(h["momentum"] * prev) + abs(g / root)
    if key == "direction":
        return g + h["momentum"] * r["momentum_buffer"], abs(g) + abs(h["momentum"] * r["momentum_buffer"])
    if key == "param":
        if opt == "sgd":
            d = r.get("direction", r.get("momentum_buffer", g))
            step = lr * d
        elif opt == "rmsprop" and h["momentum"] > 0:
            step = lr * r["momentum_buffer"]
        elif opt in ("adam", "adamw"):
            step = r["effective_lr"] * (r["m_hat"] if h["bias_correction"] else r["exp_avg"])
            theta = r.get("decayed_param", theta)
        else:
            step = r["effective_lr"] * g
        return theta - step, abs(theta) + abs(step)
    raise AssertionError(f"no recomputation for line {key!r}")


def _expected_keys(run):
    h, opt = run.spec.hyper, run.optimizer
    wd = h.get("weight_decay", 0.0) != 0.0
    if opt == "sgd":
        keys = ["grad"] + ["grad_l2"] * wd
        if h["momentum"] != 0:
            keys += ["momentum_buffer"] + ["direction"] * h["nesterov"]
    elif opt == "adagrad":
        keys = ["grad"] + ["grad_l2"] * wd + ["clr"] * (h["lr_decay"] != 0) + ["sum", "effective_lr"]
    elif opt == "rmsprop":
        keys = ["grad"] + ["grad_l2"] * wd + ["square_avg"] + ["grad_avg", "variance"] * h["centered"]
        keys += ["effective_lr"] + ["momentum_buffer"] * (h["momentum"] > 0)
    else:
        keys = ["grad"] + (["decayed_param"] if opt == "adamw" else ["grad_l2"]) * wd
        keys += ["exp_avg", "exp_avg_sq"] + ["max_exp_avg_sq"] * h["amsgrad"]
        keys += ["m_hat", "v_hat_max" if h["amsgrad"] else "v_hat"] * h["bias_correction"] + ["effective_lr"]
    return [*keys, "param"]


def _recorded(run, t, key, k):
    """What the engine recorded for ``key`` (None when it records nothing of the kind)."""
    if key == "grad":
        return run.grad[t - 1, k]
    if key == "param":
        return run.path[t, k]
    if key == "effective_lr":
        return run.effective_lr[t - 1, k]
    if key in run.state:
        return run.state[key][t, k]
    if key in run.bias_corrected:
        return run.bias_corrected[key][t - 1, k]
    return None


_NUMBER = re.compile(r"^(-?[\d.]+)(?: \\times 10\^\{(-?\d+)\})?$|^(-?)10\^\{(-?\d+)\}$")


def _parse(text):
    """A number written by format_number back to a float."""
    if text == r"\text{NaN}":
        return math.nan
    if text in (r"\infty", r"-\infty"):
        return -math.inf if text.startswith("-") else math.inf
    match = _NUMBER.match(text)
    assert match, f"not a formatted number: {text!r}"
    if match.group(1) is not None:
        return float(match.group(1)) * 10.0 ** int(match.group(2) or 0)
    return (-1.0 if match.group(3) else 1.0) * 10.0 ** int(match.group(4))


def _check_latex(text):
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, f"unbalanced braces in {text!r}"
    assert depth == 0, f"unbalanced braces in {text!r}"
    assert text.count(r"\begin{") == text.count(r"\end{"), text
    for artifact in ("np.", "float64", "array(", "None", "True", "False", "nan", "NaN", '"'):
        assert artifact not in text, f"{artifact!r} in {text!r}"
    assert not re.search(r"(?<!\\)inf", text), text
    assert not re.search(r"'[\w ]+'", text), f"Python repr quotes in {text!r}"
    assert not re.search(r"\de[+-]?\d", text), f"Python exponent in {text!r}"


# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", range(len(CASES)), ids=[_case_id(c) for c in CASES])
def test_lines_reproduce_the_engine(simulation, case):
    run = simulation.runs[case]
    assert run.steps_done >= 3, run
    for t in _steps_to_check(run):
        ex = explain(run, t)
        assert isinstance(ex, Explanation) and ex.step == t
        assert [line.key for line in ex.lines] == _expected_keys(run), t
        results = [{}, {}]
        for line in ex.lines:
            assert isinstance(line, Line)
            for k in range(2):
                value = line.result[k]
                assert isinstance(value, float) and math.isfinite(value)
                recorded = _recorded(run, t, line.key, k)
                if recorded is not None:
                    assert value == pytest.approx(recorded, rel=1e-12, abs=1e-300), (line.key, t, k)
                expected, scale = _recompute(run, t, line.key, k, results[k])
                assert abs(value - expected) <= 1e-12 * scale + 1e-300, (line.key, t, k, value, expected)
                results[k][line.key] = value
        assert ex.lines[-1].key == "param"
        assert ex.lines[-1].result == (run.path[t, 0], run.path[t, 1])  # the kernel's arithmetic, exactly


@pytest.mark.parametrize("case", range(len(CASES)), ids=[_case_id(c) for c in CASES])
def test_substituted_strings(simulation, case):
    run = simulation.runs[case]
    for t in _steps_to_check(run):
        ex = explain(run, t)
        for text in (ex.hyper, *(line.formula for line in ex.lines), *(line.latex() for line in ex.lines)):
            _check_latex(text)
        for line in ex.lines:
            for k in range(2):
                text = line.values[k]
                _check_latex(text)
                shown = text.rsplit(" = ", 1)[1]
                assert _parse(shown) == pytest.approx(line.result[k], rel=5e-5, abs=1e-300), (line.key, text)
                if line.key == "grad":
                    assert text.endswith(" = " + format_number(run.grad[t - 1, k])), text
                    assert format_number(run.path[t - 1, 0]) in text and format_number(run.path[t - 1, 1]) in text
                if line.key in run.state and not (line.key == "momentum_buffer" and run.optimizer == "sgd" and t == 1):
                    assert format_number(run.state[line.key][t - 1, k]) in text, (line.key, text)
                if line.key == "param":
                    shown_theta = text.split(" = ", 1)[1].split(" - ", 1)[0]
                    theta = ex.line("decayed_param").result[k] if run.optimizer == "adamw" and run.spec.hyper[
                        "weight_decay"] else run.path[t - 1, k]
                    assert _parse(shown_theta) == pytest.approx(theta, rel=5e-5, abs=1e-300), text


def test_adam_step_one_is_about_lr():
    run = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adam", lr=0.05)], steps=5).runs[0]
    ex = explain(run, 1)
    for k in range(2):
        assert ex.line("m_hat").result[k] == pytest.approx(run.grad[0, k])
        assert ex.line("v_hat").result[k] == pytest.approx(run.grad[0, k] ** 2)
        assert abs(run.path[1, k] - run.path[0, k]) == pytest.approx(0.05, rel=1e-6)
    assert ex.title == "Adam — step 1 of 5"
    assert ex.line("exp_avg").values[0].startswith(r"m_{1} = 0.9 \cdot 0 + 0.1 \cdot (")


def test_sgd_momentum_first_step_is_the_gradient():
    run = optiviz.simulate("beale", [optiviz.RunSpec("sgd", lr=0.01, momentum=0.9, dampening=0.5)], steps=3).runs[0]
    first = explain(run, 1).line("momentum_buffer")
    assert first.result == (run.grad[0, 0], run.grad[0, 1])  # no dampening at t = 1, as in torch
    assert first.values[0] == f"b_{{1}} = g_{{1}} = {format_number(run.grad[0, 0])}"
    assert r"\begin{cases}" in first.formula and r"(1 - \tau)" in first.formula
    later = explain(run, 2).line("momentum_buffer")
    assert r"0.9 \cdot" in later.values[0] and r"0.5 \cdot" in later.values[0]


@pytest.mark.parametrize("name, symbol", [("adam", r"\hat v_t"), ("adamw", r"\hat v_t"),
                                          ("rmsprop", "v_t"), ("adagrad", "G_t")])
def test_eps_inside_sqrt_changes_the_formula(name, symbol):
    runs = [optiviz.RunSpec(name, lr=0.01), optiviz.RunSpec(name, lr=0.01, eps_inside_sqrt=True)]
    sim = optiviz.simulate("booth", runs, steps=3)
    outside = explain(sim.runs[0], 2).line("effective_lr").formula
    inside = explain(sim.runs[1], 2).line("effective_lr").formula
    assert rf"\sqrt{{{symbol}}} + \epsilon" in outside
    assert rf"\sqrt{{{symbol} + \epsilon}}" in inside
    ex = explain(sim.runs[1], 2)
    assert "ε inside √" in ex.title and "eps_inside_sqrt=True" in ex.note


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_without_bias_correction_there_is_no_hat_step(name):
    runs = [optiviz.RunSpec(name, lr=0.01), optiviz.RunSpec(name, lr=0.01, bias_correction=False)]
    sim = optiviz.simulate("booth", runs, steps=3)
    corrected, plain = explain(sim.runs[0], 2), explain(sim.runs[1], 2)
    assert [line.key for line in corrected.lines if line.key in ("m_hat", "v_hat")] == ["m_hat", "v_hat"]
    assert not [line.key for line in plain.lines if line.key in ("m_hat", "v_hat", "v_hat_max")]
    assert plain.line("effective_lr").formula == r"\eta_t = \frac{\eta}{\sqrt{v_t} + \epsilon}"
    assert plain.lines[-1].formula.endswith(r"\eta_t\,m_t") and r"\hat" not in plain.lines[-1].formula
    assert "no bias correction" in plain.title and "bias_correction=False" in plain.note
    assert "bias correction" not in corrected.title and "bias_correction" not in corrected.note


def test_l2_decay_is_its_own_line_and_adamw_decays_the_parameters():
    sim = optiviz.simulate("booth", [optiviz.RunSpec("adam", lr=0.1, weight_decay=0.5),
                                     optiviz.RunSpec("adamw", lr=0.1, weight_decay=0.5)], steps=4)
    adam, adamw = explain(sim.runs[0], 3), explain(sim.runs[1], 3)
    assert adam.line("grad_l2").formula == r"g_t \leftarrow g_t + \lambda\,\theta_{t-1}"
    with pytest.raises(KeyError):
        adamw.line("grad_l2")
    assert adamw.line("decayed_param").formula == r"\theta'_{t-1} = \theta_{t-1}\,(1 - \eta\lambda)"
    assert r"\theta'_{t-1}" in adamw.lines[-1].formula
    # AdamW's moments see the raw gradient.
    assert sim.runs[1].state["exp_avg"][3, 0] == adamw.line("exp_avg").result[0]


def test_noisy_gradient_line():
    sim = optiviz.simulate("noisy_saddle", [optiviz.RunSpec("sgd", lr=0.01)], steps=5, noise=0.5, seed=3)
    ex = explain(sim.runs[0], 2, noisy=True)
    assert ex.lines[0].formula == r"g_t = \nabla f(\theta_{t-1}) + \sigma\xi_t"
    assert ex.lines[0].result == tuple(sim.runs[0].grad[1])
    assert ex.lines[-1].result == tuple(sim.runs[0].path[2])


@pytest.mark.parametrize("value, text", [
    (0.0, "0"),
    (-0.0, "0"),
    (0.9, "0.9"),
    (1.0 - 0.9, "0.1"),
    (-12.345678, "-12.346"),
    (12345.6, "12346"),
    (123456.0, r"1.2346 \times 10^{5}"),
    (1e-8, "10^{-8}"),
    (-1e-8, "-10^{-8}"),
    (2.5e-10, r"2.5 \times 10^{-10}"),
    (0.00012345678, "0.00012346"),
    (float("nan"), r"\text{NaN}"),
    (float("inf"), r"\infty"),
    (float("-inf"), r"-\infty"),
])
def test_format_number(value, text):
    assert format_number(value) == text
    if math.isfinite(value):
        _check_latex(text)
        assert _parse(text) == pytest.approx(value, rel=5e-5)


def test_format_number_digits():
    assert format_number(1.23456789, 8) == "1.2345679"


def test_small_moves_get_enough_digits():
    # With a tiny lr the position changes in the 7th digit: the final line shows it.
    run = optiviz.simulate("booth", [optiviz.RunSpec("sgd", lr=1e-7)], steps=2).runs[0]
    line = explain(run, 2).lines[-1]
    before, after = line.values[0].split(" = ")[1].split(" - ")[0], line.values[0].rsplit(" = ", 1)[1]
    assert before != after


@pytest.mark.parametrize("step", [0, -1, 51, 1.5, True, "1", None, float("nan")])
def test_step_out_of_range(step):
    run = optiviz.simulate("booth", [optiviz.RunSpec("adam", lr=0.1)], steps=50).runs[0]
    with pytest.raises(ValueError, match=r"step must be a whole number from 1 to 50, got "):
        explain(run, step)


def test_numpy_integer_step_is_accepted():
    import numpy as np

    run = optiviz.simulate("booth", [optiviz.RunSpec("adam", lr=0.1)], steps=5).runs[0]
    assert explain(run, np.int64(5)).step == 5


def test_run_without_steps():
    run = optiviz.simulate("rosenbrock", [optiviz.RunSpec("sgd", lr=1e6)], steps=10).runs[0]
    assert run.steps_done == 0 and run.diverged_at == 1
    with pytest.raises(ValueError, match=r"run has no completed steps to explain \(it stopped at step 1"):
        explain(run, 1)


def test_diverged_run_explains_up_to_its_last_step():
    run = optiviz.simulate("rosenbrock", [optiviz.RunSpec("sgd", lr=0.01)], steps=100).runs[0]
    n = run.steps_done
    assert run.diverged_at == n + 1 and n >= 1
    assert explain(run, n).lines[-1].result == tuple(run.path[n])
    with pytest.raises(ValueError, match=rf"from 1 to {n}, got {n + 1}"):
        explain(run, n + 1)


@pytest.mark.parametrize("name", list(optiviz.OPTIMIZERS))
def test_notes(name):
    text = notes(name)
    assert isinstance(text, str) and "\\" not in text and "$" not in text
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
    assert 2 <= len(sentences) <= 6, sentences
    run = optiviz.simulate("booth", [optiviz.RunSpec(name, lr=0.01)], steps=2).runs[0]
    assert explain(run, 1).note.startswith(text)


def test_notes_mention_what_to_look_for():
    assert "≈ 1" in notes("adam") and "ε" in notes("adam")
    assert "only grows" in notes("adagrad")
    assert "bias correction" in notes("rmsprop")
    assert "ravine" in notes("sgd") and "b₁ = g₁" in notes("sgd")
    assert "1 − lr·λ" in notes("adamw")
    for name in ("adam", "rmsprop", "adagrad"):
        assert "Keras" in notes(name) or "tutorials" in notes(name)


_SUPERSCRIPT = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
_NOTE_NUMBER = re.compile(r"[−-]?(?:10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+|\d[\d,]*(?:\.\d+)?(?:·10[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?)")


def _note_number(text: str) -> float:
    """A number as the step notes write it: 0.0952, −1, 24,025, 3.23·10⁵, 10⁻⁸."""
    sign = -1.0 if text[0] in "−-" else 1.0
    text = text.lstrip("−-").replace(",", "")
    if len(text) > 2 and text.startswith("10") and text[2] in "⁻⁰¹²³⁴⁵⁶⁷⁸⁹":
        mantissa, power = "1", text[2:]
    else:
        mantissa, _, power = text.partition("·10")
    return sign * float(mantissa) * 10.0 ** int(power.translate(_SUPERSCRIPT) or 0)


def test_note_numbers_read_back():
    for text, value in (("0.0952", 0.0952), ("−1", -1.0), ("24,025", 24025.0), ("3.23·10⁵", 3.23e5),
                        ("10⁻⁸", 1e-8), ("−2.5·10⁻⁴", -2.5e-4), ("10", 10.0)):
        assert _note_number(text) == pytest.approx(value, rel=1e-12), text
        assert _NOTE_NUMBER.fullmatch(text), text


def _after(note: str, words: str) -> list[float]:
    """The numbers that follow ``words`` in ``note`` ("... moved x by A and y by B": [A, B])."""
    rest = note[note.index(words) + len(words):]
    return [_note_number(m) for m in _NOTE_NUMBER.findall(rest)]


def _quotes(note: str, words: str, *values: float) -> None:
    """``note`` says ``words`` followed by ``values``, each to the 3 significant digits a note shows."""
    got = _after(note, words)[: len(values)]
    assert got == pytest.approx(list(values), rel=5e-3, abs=1e-300), (words, got, values, note)


def _gradient_used(run, t):
    g = run.grad[t - 1]
    if run.optimizer != "adamw" and run.spec.hyper.get("weight_decay"):
        g = g + run.spec.hyper["weight_decay"] * run.path[t - 1]
    return g


@pytest.mark.parametrize("case", range(len(CASES)), ids=[_case_id(c) for c in CASES])
def test_step_note_is_about_the_step_explained_with_its_numbers(simulation, case):
    """The note under the equations speaks of the step shown: at step 1, what makes a first step special (the bias
    corrections, a state starting at 0); at a later step, what is true then, with that step's numbers, taken
    here from the recorded arrays (not from the lines the note was built from)."""
    run = simulation.runs[case]
    h, opt = run.spec.hyper, run.optimizer
    for t in _steps_to_check(run):
        note = explain(run, t).step_note
        assert note.startswith(f"At step {t} "), note
        assert "\\" not in note and "$" not in note and "~" not in note and "e+" not in note, note
        if t > 1:  # nothing about step 1 but the comparison AdaGrad draws with its first step
            assert not re.search(r"\bstep 1\b|\b(?:g|v|v̂|m̂|G|b)₁(?![₀-₉])", note), note
        moved = run.path[t] - run.path[t - 1]
        if "moved x by" in note:
            _quotes(note, "moved x by", moved[0])
            _quotes(note, "and y by", moved[1])
        sup = str(t).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
        if opt in ("adam", "adamw") and not h["bias_correction"]:  # m and v as they are, at every step
            beta1, beta2 = h["betas"]
            m, v = run.state["exp_avg"][t], run.state["max_exp_avg_sq" if h["amsgrad"] else "exp_avg_sq"][t]
            root = np.sqrt(v + h["eps"]) if h["eps_inside_sqrt"] else np.sqrt(v) + h["eps"]
            assert "there is no bias correction" in note, note
            _quotes(note, f"1 − β₁{sup} =", 1 - beta1**t)
            _quotes(note, f"1 − β₂{sup} =", 1 - beta2**t)
            _quotes(note, "so the ratio is", *(m / root))
        elif opt in ("adam", "adamw"):
            beta1, beta2 = h["betas"]
            m_hat, v_hat = run.bias_corrected["m_hat"][t - 1], run.bias_corrected[
                "v_hat_max" if h["amsgrad"] else "v_hat"][t - 1]
            root = np.sqrt(v_hat + h["eps"]) if h["eps_inside_sqrt"] else np.sqrt(v_hat) + h["eps"]
            ratio = m_hat / root
            if t == 1:
                assert "the bias corrections make m̂₁ = g₁ and v̂₁ = g₁² exactly" in note
                g = _gradient_used(run, t)  # m̂₁ = g₁ and v̂₁ = g₁², so the ratio is ±1 but for ε
                bound = np.sqrt(g * g + h["eps"]) if h["eps_inside_sqrt"] else np.abs(g) + h["eps"]
                np.testing.assert_allclose(ratio, g / bound, rtol=1e-9)
                _quotes(note, "here it is", *ratio)
            else:
                _quotes(note, f"1 − β₁{str(t).translate(str.maketrans('0123456789', '⁰¹²³⁴⁵⁶⁷⁸⁹'))} =",
                        1 - beta1**t)
                _quotes(note, f"1 − β₂{str(t).translate(str.maketrans('0123456789', '⁰¹²³⁴⁵⁶⁷⁸⁹'))} =",
                        1 - beta2**t)
                _quotes(note, "with that ratio", *ratio)
        elif opt == "rmsprop":
            _quotes(note, "= (1 − α)·g₁² =" if t == 1 else "=", *run.state["square_avg"][t])
            if t > 1:
                weight = 1 - h["alpha"] ** t
                _quotes(note, "Its weights sum to 1 − α", weight)
                _quotes(note, "what a full average would give:", *run.effective_lr[t - 1])
            elif not h["centered"]:
                _quotes(note, "g₁/√v₁ is ±1/√(1 − α) = ±", 1 / math.sqrt(1 - h["alpha"]))
        elif opt == "adagrad":
            _quotes(note, "+ g₁² =" if t == 1 else "squared gradients,", *run.state["sum"][t])
            _quotes(note, "effective step" if t == 1 else "lr/(√G + ε) is", *run.effective_lr[t - 1])
            if t > 1:
                _quotes(note, "it was", *run.effective_lr[0])
                assert np.all(run.effective_lr[t - 1] <= run.effective_lr[0])  # "it never grows"
        elif h["momentum"] == 0:
            _quotes(note, "with g", *_gradient_used(run, t))
        elif t == 1:
            _quotes(note, "b₁ = g₁ =", *_gradient_used(run, t))
            assert run.state["momentum_buffer"][1].tolist() == pytest.approx(_gradient_used(run, 1).tolist())
        else:
            buf, g = run.state["momentum_buffer"][t], _gradient_used(run, t)
            _quotes(note, "momentum buffer b", *buf)
            _quotes(note, "is", *(buf / g))
            _quotes(note, "(1 − τ)/(1 − μ) =", (1 - h["dampening"]) / (1 - h["momentum"]))


def test_the_panel_note_at_a_later_step_does_not_speak_of_step_1():
    run = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adam", lr=0.05)], steps=40).runs[0]
    first, later = explain(run, 1), explain(run, 25)
    assert first.step_note.startswith("At step 1 the bias corrections make m̂₁ = g₁ and v̂₁ = g₁²")
    assert later.step_note.startswith("At step 25 the bias corrections divide m₂₅ by 1 − β₁²⁵ = 0.928 and v₂₅ by "
                                      "1 − β₂²⁵ = 0.0247")
    for ex in (first, later):
        assert not ex.note.startswith("At step") and "At step 1" not in ex.note  # the note for every step


def test_unknown_optimizer_note():
    with pytest.raises(ValueError, match="Unknown optimizer 'lbfgs'"):
        notes("lbfgs")


_KATEX_SCRIPT = """
import katex from "./katex.mjs";
let data = "";
process.stdin.on("data", (chunk) => (data += chunk));
process.stdin.on("end", () => {
  const out = JSON.parse(data).map((s) => {
    try { katex.renderToString(s, {throwOnError: true, displayMode: true, strict: "error"}); return null; }
    catch (e) { return String(e.message); }
  });
  process.stdout.write(JSON.stringify(out));
});
"""


def _streamlit_katex():
    """The KaTeX bundle Streamlit ships (what st.latex renders with), or None."""
    try:
        import streamlit
    except ImportError:
        return None
    found = glob.glob(os.path.join(os.path.dirname(streamlit.__file__), "static", "static", "js", "katex.*.js"))
    return found[0] if found else None


def test_katex_accepts_every_string(simulation, tmp_path):
    """Optional: render every string with the KaTeX that Streamlit bundles (skipped without node)."""
    bundle, node = _streamlit_katex(), shutil.which("node")
    if bundle is None or node is None:
        pytest.skip("needs node and Streamlit's bundled KaTeX")
    shutil.copy(bundle, tmp_path / "katex.mjs")
    (tmp_path / "check.mjs").write_text(_KATEX_SCRIPT)
    texts = []
    for run in simulation.runs:
        for t in _steps_to_check(run):
            ex = explain(run, t)
            texts.append(ex.hyper)
            for line in ex.lines:
                texts += [line.formula, *line.values, line.latex()]
    texts.append(explain(simulation.runs[0], 1, noisy=True).lines[0].latex())
    texts += [format_number(v) for v in (1e-300, -2.5e12, math.nan, math.inf)]
    done = subprocess.run([node, "check.mjs"], input=json.dumps(texts), capture_output=True, text=True,
                          cwd=tmp_path, timeout=120, check=True)
    errors = [(text, err) for text, err in zip(texts, json.loads(done.stdout), strict=True) if err]
    assert not errors, errors[:5]


@pytest.mark.parametrize("name", list(optiviz.OPTIMIZERS))
def test_every_optimizer_explains_its_recorded_numbers(name):
    """Whatever the optimizer: at steps 1, 2 and a later one, every line whose key names a recorded buffer (a
    vector or a scalar), the effective step or a bias-corrected moment has that value, the last line is the new
    position exactly, and every string is well-formed LaTeX."""
    surface = surfaces.get("rosenbrock")
    spec = optiviz.RunSpec(name, lr=optiviz.optimizers.get(name).recommended_lr(surface))
    run = optiviz.simulate(surface, [spec], steps=40).runs[0]
    assert run.steps_done == 40, run
    for t in (1, 2, 40):
        ex = explain(run, t)
        assert ex.lines[-1].key == "param"
        assert ex.lines[-1].result == (run.path[t, 0], run.path[t, 1]), t
        assert ex.note and ex.step_note
        _check_latex(ex.hyper)
        for line in ex.lines:
            _check_latex(line.formula)
            for text in line.values:
                _check_latex(text)
            for k in range(2):
                if line.key in run.state:
                    series = run.state[line.key]
                    recorded = series[t, k] if series.ndim == 2 else series[t]
                elif line.key == "effective_lr":
                    recorded = run.effective_lr[t - 1, k]
                elif line.key in run.bias_corrected:
                    recorded = run.bias_corrected[line.key][t - 1, k]
                else:
                    continue
                assert line.result[k] == pytest.approx(recorded, rel=1e-12, abs=1e-300), (line.key, t, k)

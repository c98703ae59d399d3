"""Bad input: torch's exact messages for bad hyperparameters (checked against torch itself when
installed), and optiviz's own messages for unknown names, bad step counts and bad starts."""

from __future__ import annotations

import math
import re

import pytest
from _reference import torch_class

import optiviz
import surfaces

OPTIMIZER_NAMES = ("sgd", "adagrad", "rmsprop", "adam", "adamw")


def _run(optimizer: str, **hyper):
    """Build the RunSpec and simulate it: torch raises in the constructor, so should RunSpec,
    or at the latest simulate."""
    spec = optiviz.RunSpec(optimizer, **hyper)
    return optiviz.simulate("quadratic", [spec], start=(1.0, 1.0), steps=3)


# (optimizer, bad hyperparameters, torch's message word for word)
BAD_HYPER = [
    ("sgd", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("sgd", dict(lr=-1e-3), "Invalid learning rate: -0.001"),
    ("sgd", dict(momentum=-0.1), "Invalid momentum value: -0.1"),
    ("sgd", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("sgd", dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
    ("sgd", dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (
        "sgd",
        dict(nesterov=True, momentum=0.9, dampening=0.1),
        "Nesterov momentum requires a momentum and zero dampening",
    ),
    ("adagrad", dict(lr=-0.01), "Invalid learning rate: -0.01"),
    ("adagrad", dict(lr_decay=-0.1), "Invalid lr_decay value: -0.1"),
    ("adagrad", dict(weight_decay=-2.0), "Invalid weight_decay value: -2.0"),
    ("adagrad", dict(initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value: -1.0"),
    ("adagrad", dict(eps=-1e-10), "Invalid epsilon value: -1e-10"),
    ("adagrad", dict(lr=math.nan), "Invalid learning rate: nan"),
    ("rmsprop", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("rmsprop", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("rmsprop", dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    ("rmsprop", dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ("rmsprop", dict(alpha=-0.5), "Invalid alpha value: -0.5"),
    ("rmsprop", dict(alpha=math.nan), "Invalid alpha value: nan"),
    ("adam", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("adam", dict(lr=math.nan), "Invalid learning rate: nan"),
    ("adam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("adam", dict(betas=(-0.1, 0.999)), "Invalid beta parameter at index 0: -0.1"),
    ("adam", dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    ("adam", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    ("adam", dict(betas=(0.9, -1e-3)), "Invalid beta parameter at index 1: -0.001"),
    ("adam", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("adamw", dict(lr=-0.5), "Invalid learning rate: -0.5"),
    ("adamw", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("adamw", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("adamw", dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    ("adamw", dict(weight_decay=-0.01), "Invalid weight_decay value: -0.01"),
]

_IDS = [f"{opt}-{'-'.join(f'{k}={v}' for k, v in hyper.items())}" for opt, hyper, _ in BAD_HYPER]


@pytest.mark.parametrize(("optimizer", "hyper", "message"), BAD_HYPER, ids=_IDS)
def test_bad_hyperparameter_raises_torchs_message(optimizer, hyper, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        _run(optimizer, **hyper)


@pytest.mark.parametrize(("optimizer", "hyper", "message"), BAD_HYPER, ids=_IDS)
def test_runspec_rejects_bad_hyperparameter_at_construction(optimizer, hyper, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        optiviz.RunSpec(optimizer, **hyper)


@pytest.mark.parametrize(("optimizer", "hyper", "message"), BAD_HYPER, ids=_IDS)
def test_torch_raises_the_same_message(optimizer, hyper, message):
    torch = pytest.importorskip("torch")
    cls = torch_class(torch, optimizer)
    params = [torch.zeros(2, dtype=torch.float64, requires_grad=True)]
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        cls(params, **hyper)


# Values torch accepts must be accepted too (the edges of each range).
GOOD_EDGES = [
    ("sgd", dict(lr=0.0, momentum=0.0, weight_decay=0.0)),
    ("sgd", dict(momentum=0.9, nesterov=True)),
    ("sgd", dict(momentum=0.9, dampening=1.0)),
    ("adagrad", dict(lr=0.0, lr_decay=0.0, initial_accumulator_value=0.0, eps=0.0)),
    ("rmsprop", dict(alpha=0.0, eps=0.0, momentum=0.0)),
    ("adam", dict(betas=(0.0, 0.0), eps=0.0, lr=0.0)),
    ("adamw", dict(weight_decay=0.0, betas=(0.0, 0.999))),
]


@pytest.mark.parametrize(("optimizer", "hyper"), GOOD_EDGES)
def test_range_edges_torch_accepts_are_accepted(optimizer, hyper):
    spec = optiviz.RunSpec(optimizer, **hyper)
    for key, value in hyper.items():
        assert spec.hyper[key] == value, key


# --------------------------------------------------------------------------------------------
# optiviz's own messages (wording matched loosely, on key words).


@pytest.mark.parametrize("name", ["foo", "Adamax", "lbfgs", ""])
def test_unknown_optimizer_names_the_valid_ones(name):
    with pytest.raises(ValueError, match=rf"Unknown optimizer {re.escape(repr(name))}") as info:
        optiviz.RunSpec(name)
    for valid in OPTIMIZER_NAMES:
        assert valid in str(info.value)


@pytest.mark.parametrize(
    ("optimizer", "hyper", "bad"),
    [
        ("sgd", dict(betas=(0.9, 0.999)), "betas"),
        ("adam", dict(momentum=0.9), "momentum"),
        ("adamw", dict(nesterov=True), "nesterov"),
        ("rmsprop", dict(lr_decay=0.1), "lr_decay"),
        ("adagrad", dict(alpha=0.9), "alpha"),
        ("adam", dict(learning_rate=0.1), "learning_rate"),
    ],
)
def test_unknown_hyperparameter_is_named(optimizer, hyper, bad):
    with pytest.raises(ValueError, match=re.escape(bad)):
        optiviz.RunSpec(optimizer, **hyper)


@pytest.mark.parametrize("name", ["foo", "Rosenbrock ", "sphere"])
def test_unknown_surface_names_the_valid_ones(name):
    with pytest.raises(ValueError, match=rf"Unknown surface {re.escape(repr(name))}") as info:
        surfaces.get(name)
    for valid in surfaces.names():
        assert valid in str(info.value)
    with pytest.raises(ValueError, match=rf"Unknown surface {re.escape(repr(name))}"):
        optiviz.simulate(name, [optiviz.RunSpec("adam")], steps=3)


def test_surface_names_are_the_documented_ones():
    assert set(surfaces.names()) == {
        "rosenbrock",
        "beale",
        "himmelblau",
        "rastrigin",
        "ackley",
        "booth",
        "matyas",
        "goldstein_price",
        "three_hump_camel",
        "six_hump_camel",
        "styblinski_tang",
        "levi",
        "quadratic",
        "saddle",
        "monkey_saddle",
        "noisy_saddle",
    }


@pytest.mark.parametrize("steps", [0, -1, 100_001, 10**9, 2.5, math.nan, math.inf])
def test_steps_out_of_range(steps):
    with pytest.raises(ValueError, match="steps"):
        optiviz.simulate("quadratic", [optiviz.RunSpec("sgd")], start=(1.0, 1.0), steps=steps)


@pytest.mark.parametrize("steps", [1, 100_000])
def test_steps_range_edges_are_accepted(steps):
    sim = optiviz.simulate("quadratic", [optiviz.RunSpec("sgd", lr=0.1)], start=(1.0, 1.0), steps=steps)
    run = sim.runs[0]
    assert run.diverged_at is None
    assert run.path.shape == (steps + 1, 2)
    assert run.grad.shape == (steps, 2)


@pytest.mark.parametrize(
    "start", [(math.nan, 0.0), (0.0, math.nan), (math.inf, 1.0), (1.0, -math.inf), (math.nan, math.nan)]
)
def test_non_finite_start(start):
    with pytest.raises(ValueError, match="start"):
        optiviz.simulate("quadratic", [optiviz.RunSpec("adam")], start=start, steps=3)

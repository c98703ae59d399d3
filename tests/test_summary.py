"""The summary table: its numbers come from the runs, and its display form survives Markdown."""

import numpy as np
import pytest

import surfaces
from optiviz import RunSpec, simulate
from optiviz.summary import display_rows, summarize


@pytest.fixture(scope="module")
def sim():
    surf = surfaces.get("rosenbrock")
    return simulate(surf, [RunSpec("adam", lr=0.05), RunSpec("sgd", lr=1.0)], start=surf.start, steps=2000)


def test_rows_follow_the_runs(sim):
    rows = summarize(sim, ["a", "b"], tol=0.05)
    adam, sgd = sim.runs
    assert rows[0]["final loss"] == float(adam.loss[-1])
    assert rows[0]["best loss"] == float(adam.loss.min())
    assert rows[0]["best at step"] == int(adam.loss.argmin())
    dist = adam.distance_to(sim.surface.minima)
    first = rows[0]["steps to within 0.05 of a minimum"]
    assert first is not None and dist[first] <= 0.05 and np.all(dist[:first] > 0.05)
    assert rows[0]["stopped early"] == "—"
    assert sgd.diverged_at is not None
    assert rows[1]["stopped early"] == f"step {sgd.diverged_at} ({sgd.stop_reason})"


def test_display_rows_format_and_escape():
    rows = [{"run": "Adam (lr_decay 0.1) #2 [x] $y$ *z*", "final loss": 0.000123456, "best loss": float("nan"),
             "steps": None, "best at step": 7}]
    (out,) = display_rows(rows)
    assert out["final loss"] == "1.2346e\u221204"  # a minus sign: no line break after "e"
    assert display_rows([{"x": -2.5e7}])[0]["x"] == "\u22122.5000e+07"
    assert out["best loss"] == "nan"
    assert out["steps"] == "—"
    assert out["best at step"] == "7"
    assert all(isinstance(v, str) for v in out.values())  # one type a column: Arrow converts it as it is
    assert out["run"] == r"Adam (lr\_decay 0.1) \#2 \[x\] \$y\$ \*z\*"

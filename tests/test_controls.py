"""The app's slider grids."""

import pytest

import optiviz
import surfaces
from optiviz import controls as C


def test_grids_span_the_ranges_and_hold_the_torch_defaults():
    assert C.LR_GRID[0] == 1e-5 and C.LR_GRID[-1] == 10.0
    assert C.EPS_GRID[0] == 1e-12 and C.EPS_GRID[-1] == 1.0
    for spec in optiviz.OPTIMIZERS.values():
        if "eps" in spec.defaults:
            assert spec.defaults["eps"] in C.EPS_GRID
        if "betas" in spec.defaults:
            assert set(spec.defaults["betas"]) <= set(C.BETA_GRID)
    assert {0.9, 0.99, 0.999, 0.9995, 0.9999} <= set(C.BETA_GRID) and max(C.BETA_GRID) < 1
    for grid in (C.LR_GRID, C.EPS_GRID, C.BETA_GRID, C.KAPPA_GRID):
        assert list(grid) == sorted(set(grid))


def test_recommended_learning_rates_are_in_range():
    for name in surfaces.names():
        for lr in surfaces.get(name).lr.values():
            assert C.LR_GRID[0] <= lr <= C.LR_GRID[-1], (name, lr)


@pytest.mark.parametrize(("value", "text"), [(0.0, "0"), (1e-3, "0.001"), (1e-8, "1e-8"), (2.5e-5, "2.5e-5"),
                                             (0.05, "0.05"), (0.9999, "0.9999"), (10.0, "10"), (2e4, "2e4")])
def test_fmt_number(value, text):
    assert C.fmt_number(value) == text

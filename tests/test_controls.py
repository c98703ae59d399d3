"""The app's slider grids and how their values are shown."""

import math

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
                                             (0.05, "0.05"), (0.9999, "0.9999"), (10.0, "10"), (2e4, "2e4"),
                                             (3e-4, "3e-4"), (1e-4, "1e-4"), (5e-4, "5e-4"), (1.2e-4, "1.2e-4"),
                                             (1e-12, "1e-12"), (0.99999, "0.99999"), (1.5, "1.5"), (1e4, "1e4"),
                                             (12345.0, "1.2345e4"), (-2.0, "-2"), (-3e-4, "-3e-4"), (1e300, "1e300")])
def test_fmt_number(value, text):
    assert C.fmt_number(value) == text


# Every decade the sliders and number boxes reach (1e-12 .. 10), each at mantissas 1, 1.2, 2.5, 3 and 8, and every
# value of every grid.
_DECADES = [float(f"{m}e{e}") for e in range(-12, 2) for m in (1, 1.2, 2.5, 3, 8) if float(f"{m}e{e}") <= 10]
_SHOWN = sorted({*_DECADES, *C.LR_GRID, *C.EPS_GRID, *C.BETA_GRID, *C.KAPPA_GRID})


@pytest.mark.parametrize("value", _SHOWN, ids=repr)
def test_fmt_number_reads_back_exactly_and_is_short(value):
    text = C.fmt_number(value)
    assert float(text) == value, (value, text)
    assert "e0" not in text and "e+" not in text and "e-0" not in text, text
    assert len(text) <= 7, text  # 0.99999, 1.2e-12
    assert not text.split("e")[0].endswith((".", ".0")), text


def test_fmt_number_covers_every_decade():
    assert {math.floor(math.log10(v)) for v in _SHOWN if v > 0} >= set(range(-12, 2))  # KAPPA_GRID reaches 1000

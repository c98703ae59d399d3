"""Shared fixtures: compile (or load) Numba's kernels once per test session."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _warm_numba():
    import optiviz

    optiviz.warmup()

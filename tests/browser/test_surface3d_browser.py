"""The 3D view in a real browser: switched on, it draws each run's head where the trajectory chart's step puts
it, follows that step (buttons, a link's step=) without ever moving the trajectory chart itself, keeps the
user's camera, and raises no error."""

from __future__ import annotations

from typing import Any

import numpy as np

import optiviz
from benchmarks._browser import assert_no_exception, screenshot, wait_for_idle
from tests.browser._probes import PLAYER_STATE, SURFACE3D_STATE
from tests.browser.test_app_browser import LOAD_TIMEOUT_MS, MAIN_CHART

TOGGLE = "[data-testid=stCheckbox]:has-text('3D view') label"


def _open(page: Any, url: str) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(repr(error)))
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(".optiviz-player:not([hidden])", timeout=LOAD_TIMEOUT_MS)
    wait_for_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    return errors


def _view3d(page: Any, step: int) -> dict:
    """The 3D view's state once it shows ``step`` and has nothing left to draw."""
    page.wait_for_function(f"() => {{ const s = ({SURFACE3D_STATE})(); return s && s.step === {step} && !s.busy; }}",
                           timeout=LOAD_TIMEOUT_MS, polling=50)
    return page.evaluate(SURFACE3D_STATE)


def _main_step(page: Any) -> int:
    return page.locator(MAIN_CHART).evaluate(PLAYER_STATE)["step"]


def _assert_heads_at(heads: list, sim: optiviz.Simulation, step: int) -> None:
    """Each 3D head at its run's position after ``step`` steps (the codec's 24 bits over the run's range), above
    the surface's floor."""
    for head, run in zip(heads, sim.runs, strict=True):
        expected = run.path[min(step, run.steps_done)]
        quantum = np.ptp(run.path, axis=0) / (2**24 - 2)
        assert np.all(np.abs(np.asarray(head[:2]) - expected) <= quantum + 1e-12), (step, head, expected)
        assert head[2] is not None and np.isfinite(head[2])


def test_the_3d_view_follows_the_trajectory_charts_step(page: Any, app_url: str) -> None:
    errors = _open(page, app_url + "/?steps=200")
    sim = optiviz.simulate("rosenbrock", optiviz.default_runs("rosenbrock"), steps=200)
    page.locator(TOGGLE).click()
    wait_for_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    state = _view3d(page, 0)
    _assert_heads_at(state["heads"], sim, 0)
    before = state["heads"]

    page.locator(".optiviz-forward").first.click(modifiers=["Shift"])  # the trajectory chart: ten steps on
    state = _view3d(page, 10)
    _assert_heads_at(state["heads"], sim, 10)
    assert state["heads"] != before and all(n > 1 for n in state["trails"])  # moved, with a trail behind

    # The user turns the camera; stepping on keeps it, and the 3D view never moves the trajectory chart.
    eye = {"x": -1.2, "y": -1.4, "z": 0.8}
    page.evaluate("eye => Plotly.relayout([...document.querySelectorAll('.js-plotly-plot')]"
                  ".find(g => g._fullLayout.scene), {'scene.camera.eye': eye})", eye)
    page.locator(".optiviz-forward").first.click()
    state = _view3d(page, 11)
    _assert_heads_at(state["heads"], sim, 11)
    assert state["eye"] == eye
    wait_for_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    page.wait_for_timeout(1000)
    assert _main_step(page) == 11 and page.evaluate(SURFACE3D_STATE)["step"] == 11
    screenshot(page, "surface3d_step_11")

    # Switched off and on again: the same angle, the same step.
    page.locator(TOGGLE).click()
    page.wait_for_function("() => ![...document.querySelectorAll('.js-plotly-plot')].some(g => g._fullLayout.scene)",
                           timeout=LOAD_TIMEOUT_MS)
    wait_for_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    page.locator(TOGGLE).click()
    state = _view3d(page, 11)
    assert state["eye"] == eye
    _assert_heads_at(state["heads"], sim, 11)
    assert_no_exception(page)
    assert not errors


def test_a_link_with_a_step_opens_the_3d_view_there(page: Any, app_url: str) -> None:
    errors = _open(page, app_url + "/?surface=himmelblau&steps=100&step=40&show=moments,3d")
    sim = optiviz.simulate("himmelblau", optiviz.default_runs("himmelblau"), steps=100)
    state = _view3d(page, 40)
    _assert_heads_at(state["heads"], sim, 40)
    assert _main_step(page) == 40
    page.locator(".optiviz-play").first.click()  # played to the end: the 3D view arrives there too
    state = _view3d(page, 100)
    _assert_heads_at(state["heads"], sim, 100)
    assert_no_exception(page)
    assert not errors

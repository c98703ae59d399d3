"""Playback owned by the chart, in a real browser: every step can be shown, by button, scrubber and key, at the
speed asked for; the step the user stops on reaches Explain and the address, and comes back from a link."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

import optiviz
from benchmarks._browser import assert_no_exception, screenshot, wait_for_idle
from tests.browser._probes import PLAYER_STATE
from tests.browser.test_app_browser import LOAD_TIMEOUT_MS, MAIN_CHART

SHORT = "?steps=30"  # a short run: every step by key in a few seconds


def _open(page: Any, url: str) -> Any:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(repr(error)))
    page.__errors = errors
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(".optiviz-player:not([hidden])", timeout=LOAD_TIMEOUT_MS)
    wait_for_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    assert_no_exception(page)
    return page.locator(MAIN_CHART)


def _state(chart: Any) -> dict:
    return chart.evaluate(PLAYER_STATE)


def _wait_for_step(page: Any, step: int) -> None:
    page.wait_for_function(f"() => Number(document.querySelector('.js-plotly-plot').dataset.optivizStep) === {step}"
                           " && !document.querySelector('.js-plotly-plot').__optiviz.player.busy",
                           timeout=10_000, polling=20)


def _default_paths(steps: int = 1000) -> list[np.ndarray]:
    return [run.path for run in optiviz.simulate("rosenbrock", optiviz.default_runs("rosenbrock"), steps=steps).runs]


def _assert_heads_at(heads: list, paths: list[np.ndarray], step: int) -> None:
    """Each run's head at its position after ``step`` steps (its last one if it stopped before), to float32's
    resolution over the run's range (how the positions travel)."""
    for head, path in zip(heads, paths, strict=True):
        expected = path[min(step, len(path) - 1)]
        quantum = (path.max(axis=0) - path.min(axis=0)) / (2**24 - 2) / 2
        assert np.all(np.abs(np.asarray(head) - expected) <= quantum * 1.0001), (step, head, expected)


def test_one_step_forward_from_the_start_shows_exactly_each_runs_first_step(page: Any, app_url: str) -> None:
    chart = _open(page, app_url)
    paths = _default_paths()
    start = _state(chart)
    assert start["step"] == 0 and start["readout"] == "step 0 of 1,000"
    _assert_heads_at(start["heads"], paths, 0)
    page.locator(".optiviz-forward").first.click()
    _wait_for_step(page, 1)
    one = _state(chart)
    assert one["readout"] == "step 1 of 1,000"
    _assert_heads_at(one["heads"], paths, 1)
    page.locator(".optiviz-forward").first.click(modifiers=["Shift"])  # ten more
    _wait_for_step(page, 11)
    _assert_heads_at(_state(chart)["heads"], paths, 11)
    page.locator(".optiviz-back").first.click()
    _wait_for_step(page, 10)
    _assert_heads_at(_state(chart)["heads"], paths, 10)
    screenshot(page, "playback_step_10")
    assert not page.__errors


def test_the_last_step_shows_each_runs_last_point(page: Any, app_url: str) -> None:
    """End (or the scrubber's far end) is step n: every run at its last point, a run that stopped early at
    the last step it did (SGD at lr 0.1 overflows on Rosenbrock)."""
    chart = _open(page, app_url + "/?run=adam:lr=0.05&run=sgd:lr=0.1")
    chart.click(position={"x": 5, "y": 5})  # the chart takes the focus
    page.keyboard.press("End")
    _wait_for_step(page, 1000)
    state = _state(chart)
    sim = optiviz.simulate("rosenbrock", [optiviz.RunSpec("adam", lr=0.05), optiviz.RunSpec("sgd", lr=0.1)],
                           steps=1000)
    assert sim.runs[1].diverged_at is not None
    _assert_heads_at(state["heads"], [run.path for run in sim.runs], 1000)
    assert state["readout"] == "step 1,000 of 1,000"
    scrub = page.locator(".optiviz-scrub").first
    assert scrub.get_attribute("max") == "1000" and scrub.input_value() == "1000"
    page.keyboard.press("Home")
    _wait_for_step(page, 0)


def test_every_step_is_reachable_by_keyboard(page: Any, app_url: str) -> None:
    chart = _open(page, app_url + "/" + SHORT)
    paths = _default_paths(30)
    chart.click(position={"x": 5, "y": 5})
    for step in range(1, 31):
        page.keyboard.press("ArrowRight")
        _wait_for_step(page, step)
        _assert_heads_at(_state(chart)["heads"], paths, step)
    page.keyboard.press("ArrowRight")  # past the end: stays
    page.wait_for_timeout(200)
    assert _state(chart)["step"] == 30
    page.keyboard.press("Shift+ArrowLeft")
    _wait_for_step(page, 20)
    for step in range(19, -1, -1):
        page.keyboard.press("ArrowLeft")
        _wait_for_step(page, step)
    page.keyboard.press("Space")  # play
    page.wait_for_function("() => Number(document.querySelector('.js-plotly-plot').dataset.optivizStep) > 0",
                           timeout=10_000)
    page.keyboard.press("Space")  # pause
    page.wait_for_timeout(300)
    held = _state(chart)
    assert not held["playing"] and held["step"] > 0
    assert not page.__errors


def _steps_in(page: Any, chart: Any, speed: str, seconds: float) -> int:
    page.locator(".optiviz-speed").first.select_option(speed)
    page.keyboard.press("Home")
    _wait_for_step(page, 0)
    play = page.locator(".optiviz-play").first
    play.click()
    time.sleep(seconds)
    play.click()
    page.wait_for_timeout(200)
    return _state(chart)["step"]


def test_the_speed_control_sets_the_rate(page: Any, app_url: str) -> None:
    chart = _open(page, app_url)
    chart.click(position={"x": 5, "y": 5})
    slow = _steps_in(page, chart, "10", 1.5)
    fast = _steps_in(page, chart, "100", 1.5)
    assert 5 <= slow <= 25, slow  # ~15 steps at 10 steps/s
    assert fast >= 4 * slow and fast <= 250, (slow, fast)
    # the whole run in 3 s: it stops by itself at the end
    page.locator(".optiviz-speed").first.select_option("3s")
    page.keyboard.press("Home")
    _wait_for_step(page, 0)
    began = time.monotonic()
    page.locator(".optiviz-play").first.click()
    page.wait_for_function("() => !document.querySelector('.optiviz-player').dataset.playing", timeout=10_000,
                           polling=20)
    took = time.monotonic() - began
    assert _state(chart)["step"] == 1000 and 2.5 <= took <= 4.5, took


def test_pausing_sends_the_step_to_explain_and_the_address(page: Any, app_url: str) -> None:
    chart = _open(page, app_url)
    page.locator("[data-testid=stExpander] summary").filter(has_text="Explain").click()
    wait_for_idle(page)
    play = page.locator(".optiviz-play").first
    play.click()
    page.wait_for_function("() => Number(document.querySelector('.js-plotly-plot').dataset.optivizStep) >= 40",
                           timeout=10_000)
    play.click()
    wait_for_idle(page)
    page.wait_for_function("() => /[?&]step=\\d+/.test(location.search)", timeout=10_000)
    step = _state(chart)["step"]
    assert parse_qs(urlparse(page.url).query)["step"] == [str(step)]
    explain = page.locator("[data-testid=stExpander] [data-testid=stSlider] input[type=range]").first
    page.wait_for_function(f"() => document.querySelector('[data-testid=stExpander] [data-testid=stSlider] "
                           f"input[type=range]').getAttribute('aria-valuetext') === '{step}'", timeout=10_000)
    screenshot(page, "playback_explain_follows")
    # and Explain's picker moves the chart
    explain.focus()
    explain.press("ArrowRight")
    _wait_for_step(page, step + 1)
    wait_for_idle(page)
    assert parse_qs(urlparse(page.url).query)["step"] == [str(step + 1)]
    assert_no_exception(page)
    assert not page.__errors


def test_a_link_with_a_step_opens_paused_there(page: Any, app_url: str) -> None:
    chart = _open(page, app_url + "/?step=37")
    _wait_for_step(page, 37)
    state = _state(chart)
    assert state["readout"] == "step 37 of 1,000" and not state["playing"]
    _assert_heads_at(state["heads"], _default_paths(), 37)
    assert re.search(r"[?&]step=37\b", page.url)


def test_a_bad_step_in_a_link_is_named_and_the_chart_starts_at_0(page: Any, app_url: str) -> None:
    chart = _open(page, app_url + "/?step=5000")
    assert _state(chart)["step"] == 0
    warning = page.locator("[data-testid=stAlert]").filter(has_text="step=5000").inner_text()
    assert "past the last step, 1,000" in warning


@pytest.mark.parametrize("width", [390])
def test_the_controls_fit_a_phone(browser: Any, app_url: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    try:
        _open(page, app_url)
        bar = page.locator(".optiviz-player").first.bounding_box()
        assert bar["width"] <= width and bar["x"] >= 0
        for control in (".optiviz-back", ".optiviz-play", ".optiviz-forward", ".optiviz-scrub", ".optiviz-speed"):
            box = page.locator(control).first.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (control, box)
        screenshot(page, "playback_phone")
    finally:
        context.close()
